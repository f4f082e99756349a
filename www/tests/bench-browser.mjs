// The browser benchmark: in one headless Chromium run, load time, ranking 1k / 10k candidates
// and one fine-tuning step (batch 64), on CPU wasm and on WebGPU; the same rankings natively on
// flex for reference; the same rankings by the TensorFlow.js peer (bench-ranking.mjs); wasm sizes;
// the demo page's first-recommendations and click latencies. Prints the figures and writes bench/results/browser.json.
//
// Run through scripts/bench-browser.sh, which builds pkg/ and the models this reads:
// runs/browser-model (the default model, exported), runs/synth-{1000,10000,100000,1000000}
// (random models over synthetic one-scene catalogues: for speed and size only; the catalogue
// axis is bench-catalogue.mjs) and runs/quantisation/*.json (the default model evaluated with
// f32, int6, int8 and int4 item vectors: what the export's quantisation costs).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;
const REPEAT = 9;
/** Rounds of the interleaved CPU ranking comparison (bench-ranking.mjs). */
const ROUNDS = 15;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function synthRequest(n) {
  // 50 events over the first items: the same request in the browser and natively.
  const history = Array.from({ length: 50 }, (_, i) => ({ itemId: `item-${(i * 7) % n}`, scene: "all", time: i * 60 }));
  return { history, scene: "all", k: 10, exclude: [] };
}

/** ML-1M test NDCG@10 on the agnostic and in-scene tracks, per item-vector encoding. */
function quantisation() {
  const read = (name) => JSON.parse(readFileSync(join(ROOT, `runs/quantisation/${name}.json`), "utf8"));
  const ndcg = (report) => ({
    agnostic: { "ndcg@10": report.agnostic.overall["ndcg@10"] },
    in_scene: { "ndcg@10": report.in_scene.overall["ndcg@10"] },
  });
  return {
    "ml-1m": {
      f32: ndcg(read("f32")),
      exported: ndcg(read("int6")),
      format: "int6-row: 6-bit codes with one f32 scale per item row (the default export, 52 bytes per item at width 64)",
      int8: ndcg(read("int8")),
      int8_format: "int8-row: `scenerec export --encoding int8`, 68 bytes per item",
      int4: ndcg(read("int4")),
      int4_format: "int4-row: `scenerec export --encoding int4`, 36 bytes per item",
      command: "scenerec eval --data data/ml-1m --weights models/default.weights [--quantised int6|int8|int4] (test split)",
    },
  };
}

/**
 * Native flex: ms per ranking, median of `repeat` calls in a fresh `scenerec rank` process, on
 * the n-item model in runs/synth-`dir`.
 */
function nativeRankMs(n, repeat, dir = n) {
  const path = join(ROOT, `runs/synth-${dir}-request.json`);
  writeFileSync(path, JSON.stringify(synthRequest(n)));
  const args = ["rank", "--model", join(ROOT, `runs/synth-${dir}`), "--request", path, "--repeat", String(repeat)];
  const run = spawnSync(process.env.SCENEREC_BIN, args, { encoding: "utf8" });
  const ms = /rank_ms ([\d.]+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || !ms) throw new Error(`native ranking failed: ${run.stderr}`);
  return Number(ms);
}

function sizes(artifact) {
  const wasm = readFileSync(join(ROOT, `pkg/${artifact}/scenerec_${artifact}_bg.wasm`));
  return { raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
}

/**
 * Load time and one fine-tuning step on `device`, plus ranking times where `rank` (the CPU
 * rankings are timed in bench-ranking.mjs, interleaved with TF.js). `repeat` runs per median;
 * SwiftShader WebGPU gets fewer: it is slow.
 */
async function measure(page, device, repeat, rank) {
  return page.evaluate(
    async ({ device, repeat, requests }) => {
      const { Recommender } = await import("/pkg/index.js");
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const out = {};
      // Load: the first load compiles the wasm; report the median of the loads after it, each
      // fetching the files (not from the model cache, which would make the later loads cheaper).
      const loads = [];
      let rec;
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const r = await Recommender.load({ model: "/runs/browser-model/", device, cache: false });
        loads.push(performance.now() - t0);
        if (rec) await rec.dispose();
        rec = r;
      }
      out.load_ms = med(loads.slice(1));
      for (const [n, request] of Object.entries(requests)) {
        const synth = await Recommender.load({ model: `/runs/synth-${n}/`, device });
        for (let i = 0; i < 3; i++) await synth.recommend(request); // warm-up
        const times = [];
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          await synth.recommend(request);
          times.push(performance.now() - t0);
        }
        out[`rank_${n === "1000" ? "1k" : "10k"}_ms`] = med(times);
        await synth.dispose();
      }
      const scenes = rec.catalog.scenes;
      const history = (await rec.items()).slice(0, 60).map((it, i) => ({ itemId: it.id, scene: scenes[it.scene], time: i * 60 }));
      const stamps = [];
      await rec.fineTune({ history, steps: 2 + repeat, batch: 64, onProgress: () => stamps.push(performance.now()) });
      const steps = stamps.slice(1).map((t, i) => t - stamps[i]).slice(1); // after warm-up
      out.finetune_step_ms = med(steps);
      await rec.dispose();
      if (device === "webgpu") {
        const adapter = await navigator.gpu.requestAdapter();
        const info = adapter.info ?? {};
        out.adapter = `${info.vendor ?? "?"} ${info.architecture ?? ""} ${info.description ?? ""}`.trim() + (info.isFallbackAdapter ? " (fallback adapter)" : "");
      }
      return out;
    },
    { device, repeat, requests: rank ? requests : {} },
  );
}

const resultsPath = join(ROOT, "bench/results/browser.json");
if (process.argv.includes("--quantisation-only")) {
  // New default weights change what quantisation costs, not the browser's speed or sizes: the
  // last run's other figures stay, this section is measured again.
  const results = JSON.parse(readFileSync(resultsPath, "utf8"));
  results.quantisation = quantisation();
  writeFileSync(resultsPath, JSON.stringify(results, null, 2) + "\n");
  console.log(JSON.stringify(results.quantisation, null, 2));
  process.exit(0);
}

// Loaded only for a full run: the quantisation-only run needs no browser (nor playwright-core).
const { serve } = await import("../serve.mjs");
const { launch } = await import("./browser.mjs");
const { measureDemo } = await import("./bench-demo.mjs");
const { measureRanking } = await import("./bench-ranking.mjs");
const { measureCatalogues } = await import("./bench-catalogue.mjs");

const requests = { 1000: synthRequest(1000), 10000: synthRequest(10000) };
const server = await serve(ROOT);
const browser = await launch();
const page = await browser.newPage({ bypassCSP: true });
await page.goto(`${server.url}/www/tests/blank.html`);
const ranking = await measureRanking(browser, server.url, requests, ROUNDS, nativeRankMs);
const results = {
  chromium: browser.version(),
  command: "scripts/bench-browser.sh",
  note: "ranking = recommend(k = 10) over every candidate from a 50-event history, page → worker → wasm and back (TF.js: on the page, no worker). CPU ranking: scenerec, TF.js wasm and native flex (a `scenerec rank` process per round) take turns in 15 rounds of 10 calls, after 10 warm-up calls in the browser; each figure is the median over rounds of the time per call (mean per round in the browser, median per process natively; TF.js cpu: 5 rounds). Load and fine-tune step (one Adam step on 64 samples of the history): medians of 9 (WebGPU: 3). WebGPU here is Chromium's SwiftShader software adapter: correctness only, not speed.",
  cpu: { ...(await measure(page, "cpu", REPEAT, false)), ...ranking.ours },
  webgpu: await measure(page, "webgpu", 3, true),
  native_flex: ranking.native,
  tfjs: ranking.tfjs,
  wasm_bytes: { cpu: sizes("cpu"), webgpu: sizes("webgpu") },
  demo: await measureDemo(browser, ROOT, REPEAT),
  catalogue: await measureCatalogues(browser, server.url, ROOT, synthRequest, nativeRankMs),
  quantisation: quantisation(),
};
await browser.close();
server.close();
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(resultsPath, JSON.stringify(results, null, 2) + "\n");
console.log(JSON.stringify(results, null, 2));
