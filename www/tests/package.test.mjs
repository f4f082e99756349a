// The npm package in headless Chromium: ranking matches native scores, fine-tuning lowers the
// loss, bad input rejects with an Error and the next call works, a trapped wasm instance is
// replaced — on the CPU wasm artifact and on WebGPU (SwiftShader here: correctness only).
//
// Needs pkg/ (scripts/build-wasm.sh) and an exported model in runs/browser-model
// (scripts/test.sh makes both).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const MODEL = "runs/browser-model";
const BIN = process.env.SCENEREC_BIN;

/** A real user's history (the first user of the prepared ML-1M, ratings ≥ 3), oldest first. */
function realHistory(n) {
  const catalog = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8"));
  const known = new Map(catalog.items.map((it) => [it.id, catalog.scenes[it.scene]]));
  const lines = readFileSync(join(ROOT, "data/ml-1m/ml-1m.inter"), "utf8").split("\n").slice(1, 2000);
  const rows = lines.map((l) => l.split("\t")).filter((r) => r[0] === "1m_1" && Number(r[2]) >= 3 && known.has(r[1]));
  rows.sort((a, b) => Number(a[3]) - Number(b[3]));
  return rows.slice(0, n).map((r) => ({ itemId: r[1], scene: known.get(r[1]), action: Number(r[2]) >= 4 ? "like" : "interact", time: Number(r[3]) }));
}

let server, browser, page;
const history = realHistory(40);

before(async () => {
  server = await serve(ROOT);
  browser = await launch();
  // The harness evaluates test functions with `new Function`, which the served CSP forbids.
  page = await browser.newPage({ bypassCSP: true });
  page.on("console", (m) => m.type() === "error" && console.error("[page]", m.text()));
  await page.goto(`${server.url}/www/tests/blank.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

function native(request) {
  mkdirSync(join(ROOT, "runs"), { recursive: true });
  const path = join(ROOT, "runs/browser-request.json");
  writeFileSync(path, JSON.stringify(request));
  return JSON.parse(execFileSync(BIN, ["rank", "--model", join(ROOT, MODEL), "--request", path], { encoding: "utf8" }));
}

/** Runs `fn(Recommender, rec, args)` in the page with a model loaded on `device`. */
async function inPage(device, fn, args) {
  return page.evaluate(
    async ({ device, model, fn, args }) => {
      const { Recommender } = await import("/pkg/index.js");
      const rec = await Recommender.load({ model, device });
      try {
        return await new Function("Recommender", "rec", "args", `return (${fn})(Recommender, rec, args);`)(Recommender, rec, args);
      } finally {
        await rec.dispose();
      }
    },
    { device, model: `/${MODEL}/`, fn: fn.toString(), args },
  );
}

for (const device of ["cpu", "webgpu"]) {
  test(`${device}: ranking matches the native scores`, async () => {
    // The same request time on both sides (the package's default is the page's clock).
    const request = { history, scene: "Comedy", k: 10, exclude: [], now: history.at(-1).time + 3600 };
    const expected = native(request);
    const got = await inPage(device, async (_R, rec, req) => ({ backend: rec.backend, sceneKind: rec.catalog.sceneKind, items: await rec.recommend(req) }), request);
    assert.equal(got.backend, device);
    assert.equal(got.sceneKind, "tabs", "ML-1M's genre channels are tabs");
    assert.equal(got.items.length, 10);
    const tolerance = device === "cpu" ? 1e-3 : 1e-2;
    for (const [g, e] of got.items.map((g, i) => [g, expected[i]])) {
      assert.ok(Math.abs(g.score - e.score) < tolerance, `${g.itemId} ${g.score} vs native ${e.itemId} ${e.score}`);
    }
    const ids = (xs) => xs.map((x) => x.itemId);
    assert.deepEqual(ids(got.items).slice(0, 5), ids(expected).slice(0, 5));
    assert.ok(got.items.every((r) => r.because && typeof r.because.itemId === "string"));
  });

  test(`${device}: without a scene the whole catalogue is ranked, as natively`, async () => {
    const expected = native({ history, k: 20, exclude: [] });
    const got = await inPage(device, async (_R, rec, { history }) => {
      const omitted = await rec.recommend({ history, k: 20 });
      const nulled = await rec.recommend({ history, scene: null, k: 20 });
      const scores = await rec.score(history, null, omitted.slice(0, 3).map((r) => r.itemId));
      return { omitted, nulled, scores: Array.from(scores) };
    }, { history });
    const ids = (xs) => xs.map((x) => x.itemId);
    assert.deepEqual(ids(got.omitted), ids(got.nulled), "null and an omitted scene mean the same");
    assert.deepEqual(ids(got.omitted).slice(0, 5), ids(expected).slice(0, 5));
    const tolerance = device === "cpu" ? 1e-3 : 1e-2;
    got.scores.forEach((s, i) => assert.ok(Math.abs(s - got.omitted[i].score) < tolerance, `score() ${s} vs recommend() ${got.omitted[i].score}`));
    const catalog = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8"));
    const sceneOf = new Map(catalog.items.map((it) => [it.id, it.scene]));
    assert.ok(new Set(got.omitted.map((r) => sceneOf.get(r.itemId))).size >= 2, "the list spans scenes");
  });

  test(`${device}: fine-tuning lowers the loss, reports progress and exports weights`, async () => {
    const steps = device === "cpu" ? 30 : 4;
    const out = await inPage(device, async (R, rec, { history, steps }) => {
      const progress = [];
      const result = await rec.fineTune({ history, steps, onProgress: (p) => progress.push(p) });
      const weights = await rec.exportWeights();
      const after = await rec.recommend({ history, scene: "Comedy", k: 5 });
      return { result, progress: progress.length, bytes: weights.length, after };
    }, { history, steps });
    assert.equal(out.result.completed, true);
    assert.equal(out.result.losses.length, steps);
    assert.equal(out.progress, steps);
    assert.ok(out.bytes > 1000);
    assert.equal(out.after.length, 5);
    if (device === "cpu") {
      const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const l = out.result.losses;
      assert.ok(mean(l.slice(-5)) < mean(l.slice(0, 5)), `loss ${l.slice(0, 5)} -> ${l.slice(-5)}`);
    }
  });
}

test("cpu: every bad input rejects with an Error and the next call works", async () => {
  const results = await inPage("cpu", async (R, rec, { history }) => {
    const attempt = async (f) => {
      try {
        await f();
        return "resolved";
      } catch (e) {
        return e instanceof Error ? e.message : `not an Error: ${e}`;
      }
    };
    const ok = () => rec.recommend({ history, scene: "Comedy", k: 3 }).then((r) => r.length);
    const out = {};
    out.unknownItem = await attempt(() => rec.recommend({ history: [{ ...history[0], itemId: "No Such Film (2099)" }], scene: "Comedy" }));
    out.okAfterItem = await ok();
    out.unknownScene = await attempt(() => rec.recommend({ history, scene: "Westerns" }));
    out.emptyHistory = await attempt(() => rec.recommend({ history: [], scene: "Comedy" }));
    out.nanTime = await attempt(() => rec.recommend({ history: [{ ...history[0], time: NaN }], scene: "Comedy" }));
    out.hugeHistory = await attempt(() => rec.recommend({ history: Array(10001).fill(history[0]), scene: "Comedy" }));
    out.notAnArray = await attempt(() => rec.recommend({ history: "oops", scene: "Comedy" }));
    out.notAnEvent = await attempt(() => rec.recommend({ history: [history[0], null], scene: "Comedy" }));
    out.badAction = await attempt(() => rec.recommend({ history: [{ ...history[0], action: "hate" }], scene: "Comedy" }));
    out.unknownExclude = await attempt(() => rec.recommend({ history, scene: "Comedy", exclude: ["nope"] }));
    out.badNow = [];
    for (const now of [NaN, Infinity, "soon"]) out.badNow.push(await attempt(() => rec.recommend({ history, now })));
    out.badNow.push(await attempt(() => rec.score(history, null, [history[0].itemId], NaN)));
    out.badFineTune = await attempt(() => rec.fineTune({ history, learningRate: -1 }));
    out.hugeBatch = await attempt(() => rec.fineTune({ history, batch: 1e9 }));
    out.stringSteps = await attempt(() => rec.fineTune({ history, steps: "5" }));
    out.badAnchor = await attempt(() => rec.fineTune({ history, anchor: -1 }));
    out.badK = [];
    for (const k of [-1, 0, "5", 1.5, true, [3], NaN]) out.badK.push(await attempt(() => rec.recommend({ history, k })));
    out.hugeK = await rec.recommend({ history, scene: "Comedy", k: 2 ** 32 + 5 }).then((r) => r.length);
    out.tooManyScores = await attempt(() => rec.score(history, null, Array(rec.catalog.size + 1).fill(history[0].itemId)));
    out.okAfterAll = await ok();
    out.memory = (await rec.stats()).wasmMemoryBytes;
    const weights = await rec.exportWeights();
    const bytes = async (f) => new Uint8Array(await (await fetch(`/runs/browser-model/${f}`)).arrayBuffer());
    const [catalog, itemVectors] = [await bytes("catalog.bin"), await bytes("item_vectors.bin")];
    out.truncated = await attempt(() => R.load({ model: { weights: weights.slice(0, 100), catalog, itemVectors }, device: "cpu" }));
    out.catalogText = await attempt(() => R.load({ model: { weights, catalog: "{}", itemVectors }, device: "cpu" }));
    out.swapped = await attempt(() => R.load({ model: { weights: weights, catalog: itemVectors, itemVectors }, device: "cpu" }));
    const given = await R.load({ model: { weights: await bytes("model.weights"), catalog, itemVectors }, device: "cpu" });
    out.noCatalogJson = await attempt(() => given.items());
    await given.dispose();
    out.trap = await attempt(() => rec.trapForTests());
    out.okAfterTrap = await ok();
    // A trap in the middle of a fine-tune: the fine-tune rejects saying what happened.
    out.trapMidTune = await attempt(() =>
      rec.fineTune({ history, steps: 200, onProgress: (p) => p.step === 2 && rec.trapForTests().catch(() => {}) }));
    out.okAfterTrapMidTune = await ok();
    // A worker terminated from outside (as a browser may): the watchdog notices, the call
    // rejects, and the next call runs on a fresh worker.
    out.killed = await attempt(() => {
      rec.client.worker.terminate();
      return rec.recommend({ history, scene: "Comedy", k: 3 });
    });
    out.okAfterKill = await ok();
    // Personal weights that no longer load (corrupted in place here) give way to the shared
    // model when the worker has to be replaced, and the error says so.
    const personal = await R.load({ model: "/runs/browser-model/", device: "cpu", weights: weights.slice() });
    personal.personal[40] ^= 0xff;
    out.personalTrap = await attempt(() => personal.trapForTests());
    out.okAfterFallback = await personal.recommend({ history, scene: "Comedy", k: 3 }).then((r) => r.length);
    await personal.dispose();
    await rec.dispose();
    out.afterDispose = await attempt(() => rec.recommend({ history, scene: "Comedy" }));
    await rec.dispose();
    return out;
  }, { history });
  assert.match(results.unknownItem, /unknown item `No Such Film \(2099\)`/);
  assert.match(results.unknownScene, /unknown scene `Westerns`/);
  assert.match(results.emptyHistory, /history is empty/);
  assert.match(results.nanTime, /time/);
  assert.match(results.hugeHistory, /at most 10000/);
  assert.match(results.notAnArray, /history/);
  assert.match(results.notAnEvent, /history\[1\] is not an event/);
  assert.match(results.badAction, /`hate` is not `like` or `interact`/);
  assert.match(results.unknownExclude, /unknown item `nope` in exclude/);
  for (const e of results.badNow) assert.match(e, /now is (NaN|inf), not a number of seconds/);
  assert.match(results.badFineTune, /learningRate is -1/);
  assert.ok(results.memory > 1e6 && results.memory % 65536 === 0, `stats() reports the wasm memory in whole pages: ${results.memory}`);
  assert.match(results.hugeBatch, /batch is 1000000000; it must be from 1 to/);
  assert.match(results.stringSteps, /steps|invalid type/);
  assert.match(results.badAnchor, /anchor is -1; it must be from 0 to 1000/);
  for (const e of results.badK) assert.match(e, /k must be a positive integer/);
  const comedy = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8")).scenes.indexOf("Comedy");
  const comedies = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8")).items.filter((it) => it.scene === comedy).length;
  const seenComedies = new Set(history.filter((e) => e.scene === "Comedy").map((e) => e.itemId)).size;
  assert.equal(results.hugeK, comedies - seenComedies, "a huge k returns every unseen item of the scene, not k mod 2^32");
  assert.match(results.tooManyScores, /at most \d+ \(the catalogue's size\)/);
  assert.match(results.truncated, /weights file: truncated/);
  assert.match(results.catalogText, /model\.catalog must be the export's catalog\.bin bytes/);
  assert.match(results.swapped, /not a scenerec catalogue file/);
  assert.match(results.noCatalogJson, /no catalog\.json was given: pass its text as model\.catalogJson/);
  assert.match(results.trap, /unreachable|RuntimeError/);
  assert.match(results.trapMidTune, /failed and was replaced|unreachable|RuntimeError/);
  assert.doesNotMatch(results.trapMidTune, /disposed/);
  assert.equal(results.okAfterTrapMidTune, 3);
  assert.match(results.killed, /did not answer for 15 s/);
  assert.equal(results.okAfterKill, 3);
  assert.match(results.personalTrap, /now uses the shared model/);
  assert.equal(results.okAfterFallback, 3);
  assert.match(results.afterDispose, /disposed/);
  for (const k of ["okAfterItem", "okAfterAll", "okAfterTrap"]) assert.equal(results[k], 3, k);
});

test("cpu: a worker's first call of a kind may compile for long; a warm one silent for 15 s is replaced", async () => {
  const out = await inPage("cpu", async (R, rec) => {
    const attempt = (f) => f().then(() => "resolved", (e) => e.message);
    // Loading ran only `load`: the first stall is a first call, as a first fine-tune step that
    // compiles its shaders is. The second, on the now warm kind, is what a hung worker does.
    const first = await attempt(() => rec.stallForTests(17_000));
    const second = await attempt(() => rec.stallForTests(17_000));
    const after = await rec.stats().then((s) => s.wasmMemoryBytes > 0);
    return { first, second, after };
  });
  assert.equal(out.first, "resolved");
  assert.match(out.second, /did not answer for 15 s/);
  assert.equal(out.after, true, "the next call runs on a fresh worker");
});

test("cpu: added items rank at once from their text embedding, also on a replaced worker", async () => {
  // Two films the model has never seen, embedded by the CLI as a shop's server would.
  const file = join(ROOT, "runs/new-items.json");
  writeFileSync(file, JSON.stringify([
    { id: "Toy Story 5 (2026)", title: "Toy Story 5", scene: "Comedy", genres: ["Animation", "Children's", "Comedy"] },
    { id: "Midnight Slasher (2026)", title: "Midnight Slasher", scene: "Thriller", genres: ["Horror", "Thriller"] },
  ]));
  const items = JSON.parse(execFileSync(BIN, ["embed-items", "--items", file, "--lm-dir", join(ROOT, "data/minilm")], { encoding: "utf8" }));
  assert.equal(items[0].textEmbedding.length, 384);
  const out = await inPage("cpu", async (_R, rec, { history, items }) => {
    const attempt = (f) => f().then(() => "resolved", (e) => String(e.message));
    const size = rec.catalog.size;
    const out = {};
    out.wrongWidth = await attempt(() => rec.addItems([{ ...items[0], textEmbedding: items[0].textEmbedding.slice(1) }]));
    out.unknownScene = await attempt(() => rec.addItems([{ ...items[0], scene: "Westerns" }]));
    out.ragged = await attempt(() => rec.addItems([items[0], { ...items[1], textEmbedding: [1, 2] }]));
    await rec.addItems(items.map((it) => ({ ...it, textEmbedding: Float32Array.from(it.textEmbedding) })));
    out.added = rec.catalog.size - size;
    const described = await rec.items();
    out.described = [described.length, described.at(-2)];
    out.twice = await attempt(() => rec.addItems([items[0]]));
    const positions = async () => {
      const all = (await rec.recommend({ history, k: rec.catalog.size })).map((r) => r.itemId);
      return items.map((it) => all.indexOf(it.id));
    };
    out.before = await positions();
    out.comedy = (await rec.recommend({ history, scene: "Comedy", k: 5000 })).map((r) => r.itemId);
    out.scored = Array.from(await rec.score(history, "Comedy", [items[0].id]));
    out.trap = await attempt(() => rec.trapForTests());
    out.after = await positions();
    return out;
  }, { history, items });
  assert.match(out.wrongWidth, /text embedding values for 1 items; each item needs 384/);
  assert.match(out.unknownScene, /unknown scene `Westerns`/);
  assert.match(out.ragged, /items\[1\]\.textEmbedding must be/);
  assert.equal(out.added, 2);
  const movies = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8")).items.length;
  assert.deepEqual(out.described, [movies + 2, { id: "Toy Story 5 (2026)", title: "Toy Story 5", genres: [0, 1, 2], scene: 0 }], "items() lists catalog.json's movies, then the added ones");
  assert.match(out.twice, /appears twice/);
  assert.ok(out.comedy.includes("Toy Story 5 (2026)") && !out.comedy.includes("Midnight Slasher (2026)"), "a scene ranks its new items only");
  assert.ok(out.scored[0] > -1e6 && Number.isFinite(out.scored[0]));
  const [toy, slasher] = out.before;
  console.log(`# the whole catalogue for a viewer of children's films: Toy Story 5 at ${toy + 1}, Midnight Slasher at ${slasher + 1}`);
  assert.ok(toy >= 0 && slasher >= 0 && toy < slasher, "the children's sequel ranks above the slasher for this viewer");
  assert.deepEqual(out.after, out.before, "a replaced worker has the added items again");
});

test("cpu: fine-tuning is cancellable and keeps the previous weights", async () => {
  const out = await inPage("cpu", async (R, rec, { history }) => {
    const before = await rec.recommend({ history, scene: "Comedy", k: 5 });
    const controller = new AbortController();
    const result = await rec.fineTune({ history, steps: 200, onProgress: (p) => p.step === 2 && controller.abort(), signal: controller.signal });
    const after = await rec.recommend({ history, scene: "Comedy", k: 5 });
    return { result, same: JSON.stringify(before) === JSON.stringify(after) };
  }, { history });
  assert.equal(out.result.completed, false);
  assert.ok(out.result.losses.length < 10, `stopped after ${out.result.losses.length} steps`);
  assert.ok(out.same, "a cancelled fine-tune leaves the ranking unchanged");
});
