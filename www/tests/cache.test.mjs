// The model cache in headless Chromium: the exported model's files are kept in Cache Storage
// under the hashes of its manifest.json, so a revisit loads from the device (offline too), a new
// version replaces the old one, a download that does not match its hash is refused, and a full
// disk is reported while the load goes on from the network.
//
// Needs pkg/ and the exported default model in runs/browser-model (scripts/test.sh makes both).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const MODEL = "runs/cache-model";
const DIR = join(ROOT, MODEL);

let server, browser, page;
/** Requests for the model's files, by file name. */
let fetched = {};

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  cpSync(join(ROOT, "runs/browser-model"), DIR, { recursive: true });
  server = await serve(ROOT);
  browser = await launch();
  page = await browser.newPage({ bypassCSP: true });
  page.on("request", (r) => {
    const name = new URL(r.url()).pathname.split(`/${MODEL}/`)[1];
    if (name) fetched[name] = (fetched[name] ?? 0) + 1;
  });
  await page.goto(`${server.url}/www/tests/blank.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

/**
 * Loads the model in the page: its first ranking, the `cache` progress events and the cache's
 * keys; with `describe`, the display catalogue (`items()`) too.
 */
async function load(extra = "", describe = true) {
  fetched = {};
  return page.evaluate(async ({ model, extra, describe }) => {
    const { Recommender } = await import("/pkg/index.js");
    if (extra === "full disk") Cache.prototype.put = () => Promise.reject(new DOMException("the disk is full", "QuotaExceededError"));
    const events = [];
    try {
      const rec = await Recommender.load({ model, device: "cpu", onProgress: (e) => e.status === "cache" && events.push(e) });
      if (describe) await rec.items();
      const top = await rec.recommend({ history: [{ itemId: "Toy Story (1995)", scene: "Comedy", time: 1 }], k: 5 });
      await rec.dispose();
      const keys = (await (await caches.open("scenerec-models-v1")).keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
      return { top: top.map((r) => [r.itemId, r.score]), events, keys };
    } catch (e) {
      return { error: e.message, events };
    }
  }, { model: `/${MODEL}/`, extra, describe });
}

const from = (r, where) => r.events.filter((e) => e.from === where).map((e) => e.file).sort();
const ALL = ["catalog.bin", "catalog.json", "item_vectors.bin", "model.weights"];

test("the first visit downloads and keeps the files; a revisit, online or off, loads them from the device", async () => {
  const first = await load();
  assert.ok(!first.error, first.error);
  assert.deepEqual(from(first, "network"), ALL);
  assert.ok(first.events.every((e) => e.stored === true), JSON.stringify(first.events));
  assert.equal(fetched["model.weights"], 1);

  const again = await load();
  assert.deepEqual(from(again, "device"), ALL);
  assert.equal(fetched["model.weights"] ?? 0, 0, "nothing but the manifest is fetched again");
  assert.deepEqual(again.top, first.top);

  // The engine ranks without catalog.json: a page that never asks for items() never reads it.
  const lean = await load("", false);
  assert.deepEqual(from(lean, "device"), ["catalog.bin", "item_vectors.bin", "model.weights"]);
  assert.deepEqual(lean.top, first.top);

  await page.route(`**/${MODEL}/**`, (route) => route.abort("internetdisconnected"));
  try {
    const offline = await load();
    assert.ok(!offline.error, offline.error);
    assert.deepEqual(from(offline, "device"), ALL);
    assert.deepEqual(offline.top, first.top);
  } finally {
    await page.unroute(`**/${MODEL}/**`);
  }
});

test("a new model version downloads only what changed and replaces the old one", async () => {
  const before = await load();
  // A new version of the model: the same weights exported again with int4 item vectors, so
  // item_vectors.bin (and the ranking) change while the weights and the catalogue stay.
  const next = join(ROOT, "runs/cache-model-int4");
  execFileSync(process.env.SCENEREC_BIN, ["export", "--data", join(ROOT, "data/ml-1m"), "--config", join(ROOT, "configs/default.json"),
    "--weights", join(ROOT, "models/default.weights"), "--encoding", "int4", "--out", next], { stdio: "ignore" });
  const manifest = JSON.parse(readFileSync(join(next, "manifest.json"), "utf8"));
  const old = JSON.parse(readFileSync(join(DIR, "manifest.json"), "utf8")).files["item_vectors.bin"].sha256;
  for (const f of ["item_vectors.bin", "manifest.json"]) cpSync(join(next, f), join(DIR, f));

  const after = await load();
  assert.ok(!after.error, after.error);
  assert.deepEqual(from(after, "network"), ["item_vectors.bin"]);
  assert.deepEqual(from(after, "device"), ["catalog.bin", "catalog.json", "model.weights"]);
  assert.notDeepEqual(after.top, before.top, "the new item vectors rank");
  const versions = after.keys.filter((k) => k.includes("item_vectors.bin"));
  const sha = manifest.files["item_vectors.bin"].sha256;
  assert.deepEqual(versions, [`/${MODEL}/item_vectors.bin?sha256=${sha}`], `the old version (${old}) is gone`);
});

test("a download that does not match the manifest is refused", async () => {
  await page.evaluate(() => caches.delete("scenerec-models-v1"));
  const good = readFileSync(join(DIR, "model.weights"));
  const altered = Buffer.from(good);
  altered[altered.length - 40] ^= 0xff;
  writeFileSync(join(DIR, "model.weights"), altered);
  try {
    const r = await load();
    assert.match(r.error ?? "", /model\.weights does not match manifest\.json/);
  } finally {
    writeFileSync(join(DIR, "model.weights"), good);
  }
});

test("a full disk is reported, and the model loads from the network", async () => {
  await page.evaluate(() => caches.delete("scenerec-models-v1"));
  const r = await load("full disk");
  assert.ok(!r.error, r.error);
  assert.equal(r.top.length, 5);
  assert.deepEqual(from(r, "network"), ALL);
  for (const e of r.events) {
    assert.equal(e.stored, false);
    assert.match(e.error, /storage quota for this site is used up/);
  }
  assert.deepEqual(r.keys, [], "nothing half-stored");
});

test("a model exported by an earlier version is refused, naming its format", async () => {
  const path = join(DIR, "manifest.json");
  const good = readFileSync(path, "utf8");
  // The previous version's export: manifest format 2, whose engine read catalog.json (no catalog.bin).
  const manifest = JSON.parse(good);
  manifest.format = 2;
  delete manifest.files["catalog.bin"];
  writeFileSync(path, JSON.stringify(manifest));
  try {
    const r = await load();
    assert.match(r.error ?? "", /is model format 2; this scenerec reads format 3: export the model again/);
  } finally {
    writeFileSync(path, good);
  }
});
