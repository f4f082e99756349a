// Hostile files and careless calls through the npm package in headless Chromium: mutated model
// files (written by `scenerec fuzz --target weights --write`) and randomly odd arguments must
// each reject with an Error or give a sane answer (finite scores, at most k items), never a
// trap that leaves the page stuck; afterwards a model still loads and ranks.
//
// Needs pkg/ (scripts/build-wasm.sh) and the CLI (SCENEREC_BIN); scripts/test.sh provides both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const FILES = "runs/fuzz-browser";
const MUTATED = 200;

let server, browser, page;

before(async () => {
  execFileSync(process.env.SCENEREC_BIN, ["fuzz", "--target", "weights", "--inputs", String(MUTATED), "--seed", "5",
    "--data", join(ROOT, "data/ml-1m"), "--write", join(ROOT, FILES)], { stdio: "ignore" });
  server = await serve(ROOT);
  browser = await launch();
  page = await browser.newPage({ bypassCSP: true });
  await page.goto(`${server.url}/www/tests/blank.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("mutated model files reject with an Error or rank sanely", async () => {
  const names = readdirSync(join(ROOT, FILES)).filter((f) => f.startsWith("mutated-"));
  assert.equal(names.length, MUTATED);
  const tally = await page.evaluate(async ({ names, base }) => {
    const { Recommender } = await import("/pkg/index.js");
    const get = async (f) => new Uint8Array(await (await fetch(base + f)).arrayBuffer());
    const catalog = await (await fetch(base + "catalog.json")).text();
    const itemText = await get("item_text.f32");
    const history = [{ itemId: "item1", scene: "B", time: 1 }, { itemId: "item4", scene: "B", time: 2 }];
    const tally = { inputs: 0, rejected: 0, accepted: 0, insane: [], notErrors: [] };
    for (const name of names) {
      tally.inputs++;
      let rec;
      try {
        rec = await Recommender.load({ model: { weights: await get(name), catalog, itemText }, device: "cpu" });
      } catch (e) {
        if (e instanceof Error) tally.rejected++;
        else tally.notErrors.push(name);
        continue;
      }
      try {
        const items = await rec.recommend({ history, k: 5 });
        if (items.length <= 5 && items.every((r) => Number.isFinite(r.score))) tally.accepted++;
        else tally.insane.push(name);
      } catch (e) {
        if (e instanceof Error) tally.rejected++;
        else tally.notErrors.push(name);
      } finally {
        await rec.dispose();
      }
    }
    const good = await Recommender.load({ model: { weights: await get("seed.weights"), catalog, itemText }, device: "cpu" });
    tally.afterwards = (await good.recommend({ history, k: 5 })).length;
    await good.dispose();
    return tally;
  }, { names, base: `/${FILES}/` });
  console.log(`browser loads: ${tally.inputs} files, ${tally.rejected} rejected, ${tally.accepted} accepted`);
  assert.deepEqual(tally.notErrors, [], "every rejection is an Error");
  assert.deepEqual(tally.insane, [], "every accepted file ranks sanely");
  assert.equal(tally.rejected + tally.accepted, MUTATED);
  assert.ok(tally.rejected > MUTATED / 10 && tally.accepted > 0, JSON.stringify(tally));
  assert.equal(tally.afterwards, 5, "a good model loads and ranks afterwards");
});

test("odd arguments reject with an Error naming them, and the instance keeps ranking", async () => {
  const tally = await page.evaluate(async ({ base }) => {
    const { Recommender } = await import("/pkg/index.js");
    const get = async (f) => new Uint8Array(await (await fetch(base + f)).arrayBuffer());
    const catalog = await (await fetch(base + "catalog.json")).text();
    const rec = await Recommender.load({ model: { weights: await get("seed.weights"), catalog, itemText: await get("item_text.f32") }, device: "cpu" });
    // mulberry32: a seeded generator, so a failure replays.
    let state = 12345;
    const random = (n) => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    const pick = (xs) => xs[random(xs.length)];
    const odd = [undefined, null, NaN, Infinity, -1, 0, 1.5, 2 ** 32 + 5, 1e9, "5", "", true, [], [3], {}, () => 1, Symbol.iterator];
    const event = () => pick([
      { itemId: "item1", scene: "B", time: 1 },
      { itemId: pick(["item2", "nope", 7, null]), scene: "C", time: 2 },
      { itemId: "item3", scene: pick(["A", "Z", 0, null]), time: 3 },
      { itemId: "item5", scene: "C", time: pick(odd) },
      { itemId: "item6", scene: "A", time: 4, action: pick(["like", "hate", 1, null]) },
      pick(odd),
    ]);
    const valid = () => [{ itemId: "item1", scene: "B", time: 1 }, { itemId: "item8", scene: "C", time: 5, action: "like" }];
    // A third of the histories valid, so the odd arguments beside them are what gets tested.
    const history = () => [() => pick(odd), valid, valid, () => Array.from({ length: random(5) }, event)][random(4)]();
    // Each argument good half of the time, else odd.
    const or = (good) => (random(2) ? good : pick(odd));
    const calls = [
      () => rec.recommend({ history: history(), scene: or(pick([undefined, null, "A", "Z"])), k: or(5) }),
      () => rec.recommend({ history: history(), k: 3, exclude: or(pick([[], ["item1"], ["nope"]])) }),
      () => rec.score(history(), or(pick([null, "B", "Z"])), or(pick([["item1"], ["nope"], []]))),
      () => rec.fineTune({ history: history(), steps: or(2), batch: or(8), learningRate: or(0.01) }),
      () => rec.recommend(pick(odd)),
    ];
    const tally = { inputs: 0, rejected: 0, accepted: 0, insane: [], notErrors: [] };
    for (let i = 0; i < 300; i++) {
      tally.inputs++;
      const which = random(calls.length);
      try {
        const out = await calls[which]();
        const sane = Array.isArray(out) ? out.every((r) => Number.isFinite(r.score)) : out instanceof Float32Array ? out.every(Number.isFinite) : out && Array.isArray(out.losses) ? out.losses.every(Number.isFinite) : false;
        if (sane) tally.accepted++;
        else tally.insane.push(`call ${which}: ${String(out)}`);
      } catch (e) {
        if (e instanceof Error && e.message.length > 0) tally.rejected++;
        else tally.notErrors.push(`call ${which}: ${String(e)}`);
      }
    }
    tally.afterwards = (await rec.recommend({ history: [{ itemId: "item1", scene: "B", time: 1 }], k: 5 })).length;
    await rec.dispose();
    return tally;
  }, { base: `/${FILES}/` });
  console.log(`browser calls: ${tally.inputs} calls, ${tally.rejected} rejected, ${tally.accepted} accepted`);
  assert.deepEqual(tally.notErrors, [], "every rejection is an Error with a message");
  assert.deepEqual(tally.insane, []);
  assert.ok(tally.rejected > 100 && tally.accepted > 10, JSON.stringify(tally));
  assert.equal(tally.afterwards, 5);
});
