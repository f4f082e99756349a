// The catalogue axis of the browser benchmark (bench-browser.mjs): synthetic catalogues of 10k,
// 100k and 1M items (runs/synth-N, `scenerec synth` with the default int6 item vectors), and 1M
// with int8 and int4 item vectors (runs/synth-1000000-int8, -int4), each measured on CPU wasm in
// a fresh browser context (an empty model cache):
// - the bytes a visitor downloads, raw and gzipped (what a server sending gzip serves): the
//   files the engine loads; catalog.json (titles, for display) is fetched only by `items()` and
//   reported apart;
// - load time cold (download, hash, store in the cache, start the engine) and from the cache;
// - the worker's wasm memory after the load (it only grows, so this is the load's peak);
// - ranking (k = 10, a 50-event history, the whole catalogue) through the package and as the
//   engine alone inside a worker (bench-engine-worker.mjs), and natively for reference.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const FILES = ["model.weights", "catalog.bin", "item_vectors.bin"];
const CALLS = 30;
/**
 * Calls before timing: V8 compiles wasm in tiers as it runs, and a 10k ranking kept getting
 * faster for ~200 calls (5.5 ms per call in the first 30, 2.2–3 ms after 150).
 */
const WARM_UP = 200;

function download(root, dir) {
  const bytes = FILES.map((f) => readFileSync(join(root, `runs/synth-${dir}`, f)));
  const display = readFileSync(join(root, `runs/synth-${dir}`, "catalog.json"));
  return {
    download_bytes: bytes.reduce((a, b) => a + b.length, 0),
    download_gzip_bytes: bytes.reduce((a, b) => a + gzipSync(b).length, 0),
    catalog_json_gzip_bytes: gzipSync(display).length,
  };
}

/** Browser figures for runs/synth-`dir` with `request`, in a context of its own. */
async function inBrowser(browser, url, dir, request) {
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${url}/www/tests/blank.html`);
  const out = await page.evaluate(
    async ({ dir, request, calls, warmUp }) => {
      const { Recommender } = await import("/pkg/index.js");
      const model = `/runs/synth-${dir}/`;
      const load = async () => {
        const t0 = performance.now();
        const rec = await Recommender.load({ model, device: "cpu" });
        return { rec, ms: performance.now() - t0 };
      };
      const cold = await load();
      await cold.rec.dispose();
      const { rec, ms } = await load();
      const memory = (await rec.stats()).wasmMemoryBytes;
      for (let i = 0; i < warmUp; i++) await rec.recommend(request);
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await rec.recommend(request);
      const rank = (performance.now() - t0) / calls;
      await rec.dispose();
      const worker = new Worker("/www/tests/bench-engine-worker.mjs", { type: "module" });
      const ask = (message) =>
        new Promise((resolve, reject) => {
          worker.onmessage = ({ data }) => (data.ok ? resolve(data.ms) : reject(new Error(data.error)));
          worker.postMessage(message);
        });
      await ask({ load: dir });
      await ask({ n: dir, request, calls: warmUp });
      const engine = await ask({ n: dir, request, calls });
      worker.terminate();
      return { load_cold_ms: cold.ms, load_cached_ms: ms, wasm_memory_bytes: memory, rank_ms: rank, engine_rank_ms: engine };
    },
    { dir, request, calls: CALLS, warmUp: WARM_UP },
  );
  await context.close();
  return out;
}

/**
 * `{ "10k": C, "100k": C, "1m": C, "1m_int8": C, "1m_int4": C }` with C as the results
 * file names it (plus catalog.json's gzipped bytes);
 * `request(n)` is the ranking request, `nativeRankMs(n, calls, dir)` the native figure.
 */
export async function measureCatalogues(browser, url, root, request, nativeRankMs) {
  const out = {};
  const sizes = [["10k", 10_000, "10000"], ["100k", 100_000, "100000"], ["1m", 1_000_000, "1000000"], ["1m_int8", 1_000_000, "1000000-int8"], ["1m_int4", 1_000_000, "1000000-int4"]];
  for (const [name, n, dir] of sizes) {
    const figures = { ...download(root, dir), ...(await inBrowser(browser, url, dir, request(n))), native_rank_ms: nativeRankMs(n, CALLS, dir) };
    console.error(`catalogue ${name}: ${JSON.stringify(figures)}`);
    out[name] = figures;
  }
  return out;
}
