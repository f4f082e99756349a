// The browser half of the robustness results, in headless Chromium:
// - "browser": 500 mutated model files (runs/fuzz-browser-bench) and 500 randomly odd calls
//   through the npm package (robustness.mjs), each rejected with an Error or answered sanely;
// - "soak": one Recommender (the default model, CPU wasm) answers 10,000 recommend calls, then
//   runs 30 fine-tunes; the engine's wasm memory, the live JavaScript heaps of the page and the
//   worker (after a garbage collection) and the renderer's resident memory are read at the
//   start, after 1k, 5k and 10k calls and after the fine-tunes, and the time per call is
//   reported per block of 1,000.
// Prints the figures and writes both sections of bench/results/robustness.json.
//
// Run through scripts/bench-robustness.sh, which builds pkg/ and writes the files this loads.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";
import { loadMutatedFiles, oddCalls } from "./robustness.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const MODEL = "runs/browser-model";
const CALLS = 10_000;
const BLOCK = 1_000;
const SAMPLES = [0, 1_000, 5_000, 10_000];
const FINE_TUNES = 30;
const FILES = "runs/fuzz-browser-bench";
const ODD_CALLS = 500;

/** A tally of robustness.mjs in the results file's terms. */
const counts = ({ inputs, rejected, accepted, insane, notErrors }) => ({ inputs, rejected, accepted, insane: insane.length, not_errors: notErrors.length });

/** Resident memory of Chromium's renderer processes (the page and its worker), in MB. */
function rendererRssMb() {
  const ps = execFileSync("ps", ["-eo", "rss=,args="], { encoding: "utf8" });
  const kb = ps.split("\n").filter((l) => l.includes("--type=renderer")).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
  return Math.round(kb / 1024);
}

/** A real history: the first user of the prepared ML-1M (ratings ≥ 3), oldest first. */
function realHistory(n) {
  const catalog = JSON.parse(readFileSync(join(ROOT, MODEL, "catalog.json"), "utf8"));
  const scene = new Map(catalog.items.map((it) => [it.id, catalog.scenes[it.scene]]));
  const rows = readFileSync(join(ROOT, "data/ml-1m/ml-1m.inter"), "utf8").split("\n").slice(1, 2000).map((l) => l.split("\t"));
  const mine = rows.filter((r) => r[0] === "1m_1" && Number(r[2]) >= 3 && scene.has(r[1])).sort((a, b) => a[3] - b[3]);
  return mine.slice(0, n).map((r) => ({ itemId: r[1], scene: scene.get(r[1]), time: Number(r[3]) }));
}

/**
 * A DevTools session with the page's worker (Playwright opens them for pages only): `send`
 * runs a protocol command there, through the browser's session.
 */
async function workerSession(browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send("Target.getTargets");
  const worker = targetInfos.find((t) => t.type === "worker");
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: worker.targetId, flatten: false });
  let next = 1;
  const waiting = new Map();
  cdp.on("Target.receivedMessageFromTarget", ({ message }) => {
    const reply = JSON.parse(message);
    waiting.get(reply.id)?.(reply.result);
    waiting.delete(reply.id);
  });
  return (method, params = {}) =>
    new Promise((resolve) => {
      const id = next++;
      waiting.set(id, resolve);
      cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) });
    });
}

const server = await serve(ROOT);
// `gc()` in the worker too, which the page's collection below does not reach.
const browser = await launch(["--js-flags=--expose-gc"]);
try {
  const page = await browser.newPage({ bypassCSP: true });
  await page.goto(`${server.url}/www/tests/blank.html`);
  const names = readdirSync(join(ROOT, FILES)).filter((f) => f.startsWith("mutated-"));
  const loads = await loadMutatedFiles(page, `/${FILES}/`, names);
  const calls = await oddCalls(page, `/${FILES}/`, ODD_CALLS);
  const browserResults = {
    loads: { ...counts(loads), trap_unrecovered: loads.afterwards === 5 ? 0 : 1 },
    calls: { ...counts(calls), trap_unrecovered: calls.afterwards === 5 ? 0 : 1 },
    command: "scripts/bench-robustness.sh",
  };
  console.log(JSON.stringify(browserResults, null, 2));
  await page.evaluate(async (model) => {
    const { Recommender } = await import("/pkg/index.js");
    globalThis.rec = await Recommender.load({ model, device: "cpu" });
  }, `/${MODEL}/`);
  const history = realHistory(40);
  const scenes = [...new Set(history.map((e) => e.scene)), null];
  const wasm = [];
  const rss = [];
  const heap = { page: [], worker: [] };
  const msPerCall = [];
  // Garbage not collected yet is not a leak: collect the page's and the worker's (which holds
  // the engine and builds each call's arrays and results) before each reading. The live heaps
  // then say whether anything is kept; resident memory also holds what V8 and the allocator
  // keep reserved after a collection.
  const cdp = await page.context().newCDPSession(page);
  const inWorker = await workerSession(browser);
  const sample = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    await inWorker("HeapProfiler.collectGarbage");
    wasm.push(await page.evaluate(() => globalThis.rec.stats().then((s) => s.wasmMemoryBytes)));
    heap.page.push((await cdp.send("Runtime.getHeapUsage")).usedSize);
    heap.worker.push((await inWorker("Runtime.getHeapUsage")).usedSize);
    rss.push(rendererRssMb());
  };
  await sample();
  for (let done = 0; done < CALLS; done += BLOCK) {
    // Each call a slightly different request: the history's last 20–40 events, a scene or none.
    const ms = await page.evaluate(async ({ history, scenes, done, block }) => {
      const t0 = performance.now();
      for (let i = done; i < done + block; i++) {
        const h = history.slice(0, 20 + (i % 21));
        await globalThis.rec.recommend({ history: h, scene: scenes[i % scenes.length], k: 20 });
      }
      return (performance.now() - t0) / block;
    }, { history, scenes, done, block: BLOCK });
    msPerCall.push(Number(ms.toFixed(3)));
    if (SAMPLES.includes(done + BLOCK)) await sample();
    console.log(`${done + BLOCK} calls: ${ms.toFixed(2)} ms per call`);
  }
  const t0 = Date.now();
  await page.evaluate(async ({ history, n }) => {
    for (let i = 0; i < n; i++) await globalThis.rec.fineTune({ history: history.slice(0, 10 + i) });
  }, { history, n: FINE_TUNES });
  const fineTuneSeconds = (Date.now() - t0) / 1000;
  await sample();
  const growth = (xs) => Number(((xs[SAMPLES.length - 1] / xs[1] - 1) * 100).toFixed(2));
  const soak = {
    calls: CALLS,
    samples_at_calls: SAMPLES,
    wasm_memory_bytes: wasm.slice(0, SAMPLES.length),
    js_heap_bytes: { page: heap.page.slice(0, SAMPLES.length), worker: heap.worker.slice(0, SAMPLES.length) },
    renderer_rss_mb: rss.slice(0, SAMPLES.length),
    ms_per_call_by_1k: msPerCall,
    growth_1k_to_10k_percent: {
      wasm_memory: growth(wasm),
      js_heap_page: growth(heap.page),
      js_heap_worker: growth(heap.worker),
      renderer_rss: growth(rss),
    },
    fine_tunes: { runs: FINE_TUNES, seconds: fineTuneSeconds, wasm_memory_bytes_after: wasm.at(-1), renderer_rss_mb_after: rss.at(-1) },
    command: "scripts/bench-robustness.sh",
  };
  console.log(JSON.stringify(soak, null, 2));
  const path = join(ROOT, "bench/results/robustness.json");
  const results = JSON.parse(readFileSync(path, "utf8"));
  results.browser = browserResults;
  results.soak = soak;
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await browser.close();
  server.close();
}
