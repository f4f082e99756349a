// The demo page end to end in headless Chromium, as a user drives it: clicks in two scenes
// change the ranking, fine-tuning shows progress and changes it, a reload restores history and
// personal weights, export holds the data, delete removes it, and no request ever leaves the
// origin (the served CSP is checked to be in force). Screenshots at desktop and phone width go
// to runs/test-output/. Needs www/dist (scripts/build-demo.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const OUT = join(ROOT, "runs/test-output");
let server, browser, context, page;
const requests = [];
const problems = [];

before(async () => {
  mkdirSync(OUT, { recursive: true });
  server = await serve(join(ROOT, "www/dist"));
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  context.on("request", (r) => requests.push(r.url()));
  // CSP violations and errors would mean the page breaks under its own policy.
  await context.addInitScript(() =>
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)),
  );
  page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  page.on("dialog", (d) => d.accept());
  await open();
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function open() {
  await page.goto(`${server.url}/?device=cpu`);
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
}

/** The ranked list as shown: item ids with their scores. */
const ranking = () => page.$$eval("#recs li", (rows) => rows.map((r) => `${r.dataset.item} ${r.querySelector(".score")?.textContent ?? ""}`));
const history = () => page.$$eval("#history li[data-item]", (rows) => rows.map((r) => r.dataset.item));

/** Clicks `act` on the `n`-th most rated movie of `scene` and waits for the list to change. */
async function mark(scene, n, act) {
  await page.click(`.tab[data-scene="${scene}"]`);
  await page.waitForFunction((s) => document.querySelector("#recs-title").textContent.endsWith(s), scene);
  const old = await ranking();
  await page.click(`#browse li:nth-child(${n}) button[data-act="${act}"]`);
  await page.waitForFunction((o) => JSON.stringify([...document.querySelectorAll("#recs li")].map((r) => `${r.dataset.item} ${r.querySelector(".score")?.textContent ?? ""}`)) !== o, JSON.stringify(old));
}

test("the page starts with the catalogue in scene tabs and the backend shown", async () => {
  const tabs = await page.$$eval(".tab", (t) => t.map((b) => b.dataset.scene));
  assert.equal(tabs[0], "", "the first tab is All (no scene)");
  assert.deepEqual(tabs.slice(1).sort(), ["Action", "Comedy", "Drama", "Other", "Sci-Fi", "Thriller"]);
  assert.match(await page.textContent("#status"), /Running on CPU \(WebAssembly\) .* model loaded in \d+ ms/);
  assert.equal(await page.getAttribute("#recs", "data-kind"), "empty", "an empty history asks for clicks");
  assert.match(await page.textContent("#recs"), /Mark a few movies you know/);
  assert.equal(await page.$$eval("#browse li[data-item]", (rows) => rows.length), 30, "the most rated movies of the tab to start from");
});

test("clicks in two scenes change the ranking, with reasons", async () => {
  await mark("Comedy", 1, "like");
  await mark("Comedy", 2, "interact");
  assert.equal(await page.getAttribute("#recs", "data-kind"), "model");
  const comedy = await ranking();
  await mark("Sci-Fi", 1, "like");
  const sciFi = await ranking();
  await mark("Sci-Fi", 3, "like");
  assert.notDeepEqual(await ranking(), sciFi, "a Sci-Fi click re-ranks Sci-Fi");
  await page.click('.tab[data-scene="Comedy"]');
  await page.waitForFunction(() => document.querySelector("#recs-title").textContent.endsWith("Comedy"));
  await page.waitForFunction((o) => document.querySelectorAll("#recs li .score").length && [...document.querySelectorAll("#recs li")].map((r) => r.dataset.item).join() !== o, comedy.map((r) => r.split(" ")[0]).join());
  assert.notDeepEqual(await ranking(), comedy, "what happened in Sci-Fi moves the Comedy ranking too");
  assert.equal((await history()).length, 4);
  const why = await page.textContent("#recs li .why");
  assert.match(why, /^because you (liked|watched) .+ in (Comedy|Sci-Fi)$/);
  assert.match(await page.getAttribute("#recs", "data-update-ms"), /^\d+(\.\d)?$/);
});

test("the All tab ranks the whole catalogue across scenes", async () => {
  await page.click('.tab[data-scene=""]');
  await page.waitForFunction(() => document.querySelector("#recs-title").textContent.endsWith("across all scenes"));
  await page.waitForSelector("#recs[data-kind=model] li .score");
  const scenes = await page.$$eval("#recs li .meta", (rows) => rows.map((r) => r.textContent.split(" · ")[0]));
  assert.ok(new Set(scenes).size >= 2, `the list spans scenes: ${scenes}`);
  assert.match(await page.textContent("#recs-note"), /unseen movies of all scenes/);
  await page.click('.tab[data-scene="Comedy"]');
  await page.waitForFunction(() => document.querySelector("#recs-title").textContent.endsWith("Comedy"));
});

test("fine-tuning shows progress and a loss curve, and changes the ranking", async () => {
  const before = await ranking();
  await page.click("#finetune");
  await page.waitForSelector("#compare:not([hidden])", { timeout: 120_000 });
  assert.equal(await page.$eval("#progress", (p) => p.value), 1);
  assert.match(await page.textContent("#finetune-status"), /^Done in [\d.]+ s on CPU; your personal weights are saved/);
  const points = await page.$eval("#loss-chart polyline", (p) => p.getAttribute("points").split(" ").length);
  assert.ok(points >= 10, `loss curve has ${points} points`);
  assert.equal((await page.$$("#compare li")).length, 20, "top 10 before and after");
  await page.waitForFunction((o) => [...document.querySelectorAll("#recs li")].map((r) => `${r.dataset.item} ${r.querySelector(".score")?.textContent ?? ""}`).join() !== o, before.join());
  assert.match(await page.textContent("#status"), /personal weights \(fine-tuned on 4 events\)/);
  // The user-side layers only (the export leaves the item ID table out): about half a megabyte.
  assert.match(await page.textContent("#stored-weights"), /^0\.\d MB, saved /);
});

test("a reload restores the open tab, the history and the personal weights", async () => {
  const tab = () => page.textContent(".tab[aria-selected=true]");
  const before = { history: await history(), ranking: await ranking(), tab: await tab() };
  assert.notEqual(before.tab.trim(), "All", "the test reloads on a scene's tab");
  await page.reload();
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  await page.waitForSelector("#recs[data-kind=model]");
  assert.equal(await tab(), before.tab, "the same tab is open");
  assert.deepEqual(await history(), before.history);
  assert.match(await page.textContent("#status"), /personal weights/);
  assert.deepEqual(await ranking(), before.ranking, "the same scores: the personal weights were restored");
});

test("export downloads every stored thing as one file", async () => {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
  const data = JSON.parse(readFileSync(await download.path(), "utf8"));
  assert.equal(data.format, "scenerec-local-data");
  assert.deepEqual(data.history.map((e) => e.itemId).reverse(), await history());
  const weights = Buffer.from(data.weights.base64, "base64");
  assert.equal(weights.subarray(0, 8).toString(), "SCENEREC", "the personal weights are in the file");
  assert.ok(weights.length > 5e4, `the personal weights are whole (${weights.length} bytes)`);
});

test("screenshots at desktop and phone width", async () => {
  await page.screenshot({ path: join(OUT, "demo-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow}px too wide)`);
  await page.screenshot({ path: join(OUT, "demo-phone.png") });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("delete removes the history and the personal weights, also after a reload", async () => {
  await page.click("#delete");
  await page.waitForFunction(() => document.querySelector("#finetune-status").textContent.includes("deleted"));
  assert.deepEqual(await history(), []);
  assert.equal(await page.getAttribute("#recs", "data-kind"), "empty");
  // The shared model that replaced the personal one knows the new arrivals too.
  await page.fill("#search", "(2026)");
  await page.click('#browse li[data-item="Toy Story 5 (2026)"] button[data-act=like]');
  await page.waitForSelector("#recs[data-kind=model] li .score");
  await page.fill("#search", "");
  await page.click("#delete");
  await page.waitForFunction(() => document.querySelector("#recs").dataset.kind === "empty");
  assert.deepEqual(await history(), []);
  await open();
  assert.deepEqual(await history(), []);
  assert.match(await page.textContent("#status"), /shared model weights/);
  assert.match(await page.textContent("#stored-events"), /^0 events/);
  assert.match(await page.textContent("#stored-weights"), /^none/);
});

test("a full disk is reported and the demo keeps working", async () => {
  const full = await context.newPage();
  const errors = [];
  full.on("pageerror", (e) => errors.push(e.message));
  await full.addInitScript(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (value, key) {
      if (value?.bytes) throw new DOMException("quota exceeded", "QuotaExceededError");
      return put.call(this, value, key);
    };
  });
  await full.goto(`${server.url}/?device=cpu`);
  await full.waitForSelector("body[data-ready]");
  await full.click("#browse li:nth-child(1) button[data-act=like]");
  await full.click("#browse li:nth-child(2) button[data-act=like]");
  await full.click("#finetune");
  await full.waitForSelector("#error:not([hidden])", { timeout: 120_000 });
  assert.match(await full.textContent("#error"), /not saved: could not save the personal weights: .*quota/);
  await full.waitForSelector("#compare:not([hidden])");
  assert.match(await full.textContent("#status"), /not saved/);
  await full.close();
  assert.deepEqual(errors, []);
});

test("new arrivals are added from their text embeddings: found by search, liked, ranked with", async () => {
  await page.fill("#search", "(2026)");
  await page.waitForFunction(() => document.querySelectorAll("#browse li[data-item]").length === 3);
  const metas = await page.$$eval("#browse li[data-item] .meta", (rows) => rows.map((r) => r.textContent));
  for (const m of metas) assert.match(m, /new arrival, ranked from its title and genres/);
  await page.click('#browse li[data-item="Toy Story 5 (2026)"] button[data-act=like]');
  await page.waitForSelector("#recs[data-kind=model] li .score");
  assert.ok((await history()).includes("Toy Story 5 (2026)"), "the new arrival is in the history");
  await page.fill("#search", "");
});

test("nothing leaves the origin, and the CSP forbids it", async () => {
  const blocked = await page.evaluate(async () => {
    const seen = new Promise((ok) => document.addEventListener("securitypolicyviolation", (e) => ok(e.violatedDirective), { once: true }));
    const fetched = await fetch("https://example.com/").then(() => "sent", () => "refused");
    return { fetched, directive: await seen };
  });
  assert.deepEqual(blocked, { fetched: "refused", directive: "connect-src" });
  const foreign = requests.filter((u) => new URL(u).origin !== server.url);
  assert.ok(requests.length > 10, `${requests.length} requests recorded`);
  assert.deepEqual(foreign, [], "every request stays on the origin");
  const unexpected = problems.filter((p) => !p.includes("example.com")); // the probe above
  assert.deepEqual(unexpected, [], "no page errors and no CSP violations");
});
