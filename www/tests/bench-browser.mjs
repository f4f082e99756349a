// The browser benchmark: in one headless Chromium run, load time, ranking 1k / 10k candidates
// and one fine-tuning step (batch 64), on CPU wasm and on WebGPU; the same rankings natively on
// flex for reference; the same rankings by the TensorFlow.js peer (tfjs-peer.mjs); wasm sizes;
// the demo page's first-recommendations and click latencies. Prints the figures and writes bench/results/browser.json.
//
// Run through scripts/bench-browser.sh, which builds pkg/ and the models this reads:
// runs/browser-model (the default model, exported) and runs/synth-{1000,10000} (random models
// over synthetic one-scene catalogues: for speed only).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";
import { measureDemo } from "./bench-demo.mjs";
import { measureTfjs } from "./bench-tfjs.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const REPEAT = 9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function synthRequest(n) {
  // 50 events over the first items: the same request in the browser and natively.
  const history = Array.from({ length: 50 }, (_, i) => ({ itemId: `item-${(i * 7) % n}`, scene: "all", time: i * 60 }));
  return { history, scene: "all", k: 10, exclude: [] };
}

function nativeRankMs(n) {
  const path = join(ROOT, `runs/synth-${n}-request.json`);
  writeFileSync(path, JSON.stringify(synthRequest(n)));
  const args = ["rank", "--model", join(ROOT, `runs/synth-${n}`), "--request", path, "--repeat", String(REPEAT)];
  const run = spawnSync(process.env.SCENEREC_BIN, args, { encoding: "utf8" });
  const ms = /rank_ms ([\d.]+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || !ms) throw new Error(`native ranking failed: ${run.stderr}`);
  return Number(ms);
}

function sizes(artifact) {
  const wasm = readFileSync(join(ROOT, `pkg/${artifact}/scenerec_${artifact}_bg.wasm`));
  return { raw: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
}

/** Figures for one device; `repeat` runs per median (SwiftShader WebGPU gets fewer: it is slow). */
async function measure(page, device, repeat) {
  return page.evaluate(
    async ({ device, repeat, requests }) => {
      const { Recommender } = await import("/pkg/index.js");
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const out = {};
      // Load: the first load compiles the wasm; report the median of the loads after it.
      const loads = [];
      let rec;
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const r = await Recommender.load({ model: "/runs/browser-model/", device });
        loads.push(performance.now() - t0);
        if (rec) await rec.dispose();
        rec = r;
      }
      out.load_ms = med(loads.slice(1));
      for (const [n, request] of Object.entries(requests)) {
        const synth = await Recommender.load({ model: `/runs/synth-${n}/`, device });
        for (let i = 0; i < 10; i++) await synth.recommend(request); // warm-up (V8 tiers wasm up as it runs)
        const times = [];
        for (let i = 0; i < repeat; i++) {
          const t0 = performance.now();
          await synth.recommend(request);
          times.push(performance.now() - t0);
        }
        out[`rank_${n === "1000" ? "1k" : "10k"}_ms`] = med(times);
        await synth.dispose();
      }
      const cat = rec.catalog;
      const history = cat.items.slice(0, 60).map((it, i) => ({ itemId: it.id, scene: cat.scenes[it.scene], time: i * 60 }));
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
    { device, repeat, requests },
  );
}

const requests = { 1000: synthRequest(1000), 10000: synthRequest(10000) };
const server = await serve(ROOT);
const browser = await launch();
const page = await browser.newPage({ bypassCSP: true });
await page.goto(`${server.url}/www/tests/blank.html`);
const results = {
  chromium: browser.version(),
  command: "scripts/bench-browser.sh",
  note: "medians of 9 runs after 10 warm-up runs (3 and 2 on WebGPU); ranking = recommend(k = 10) over every candidate from a 50-event history, page → worker → wasm and back (TF.js: on the page, no worker); fine-tune step = one Adam step on 64 samples of the history. WebGPU here is Chromium's SwiftShader software adapter: correctness only, not speed.",
  cpu: await measure(page, "cpu", REPEAT),
  webgpu: await measure(page, "webgpu", 3),
  native_flex: { rank_1k_ms: nativeRankMs(1000), rank_10k_ms: nativeRankMs(10000) },
  tfjs: await measureTfjs(browser, server.url, requests, REPEAT),
  wasm_bytes: { cpu: sizes("cpu"), webgpu: sizes("webgpu") },
  demo: await measureDemo(browser, ROOT, REPEAT),
};
await browser.close();
server.close();
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/browser.json"), JSON.stringify(results, null, 2) + "\n");
console.log(JSON.stringify(results, null, 2));
