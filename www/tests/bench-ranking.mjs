// CPU ranking figures for bench-browser.mjs: scenerec on CPU wasm (through its worker, as an app
// calls it) and the TensorFlow.js peer (tfjs-peer.mjs, @tensorflow/tfjs 4.22, on its page's
// main thread) rank the same synthetic catalogues (1k / 10k items) with the same weights and
// requests. Before timing, the peer's top items and scores must match ours, so both do the same work.
//
// Ours is timed twice: through the package (page → worker → wasm → page, what an app waits for)
// and as the engine alone inside a worker (bench-engine-worker.mjs), the cost comparable to native.
//
// This machine's timing noise is large at the millisecond scale (a shared 2-core VM), so ours,
// TF.js wasm and native flex are measured interleaved: rounds of `CALLS` calls each, in turn,
// ours and TF.js each in its own page (sharing a page made each one's garbage the other's
// pauses), native in a fresh `scenerec rank` process (`native(n, calls)` → its ms per call).
// Each figure is the median over rounds. TF.js cpu (an order of magnitude slower) gets a third
// of the rounds.
const TFJS = "/www/node_modules/@tensorflow/tfjs/dist/tf.min.js";
const TFJS_WASM = "/www/node_modules/@tensorflow/tfjs-backend-wasm/dist/";
const CALLS = 10;

/** Installs `globalThis.bench` in a page: `time(n)` → mean ms per call of `recommend` on n items. */
async function setUp(page, kind, requests, backend) {
  await page.evaluate(
    async ({ kind, requests, backend, wasmPaths }) => {
      const runners = {};
      if (kind === "peer") {
        const tf = globalThis.tf;
        tf.wasm.setWasmPaths(wasmPaths);
        if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
        await tf.ready();
        const { loadPeer } = await import("/www/tests/tfjs-peer.mjs");
        for (const n of Object.keys(requests)) runners[n] = await loadPeer(tf, new URL(`/runs/synth-${n}/`, location.href));
      } else {
        const { Recommender } = await import("/pkg/index.js");
        for (const n of Object.keys(requests)) runners[n] = await Recommender.load({ model: `/runs/synth-${n}/`, device: "cpu" });
      }
      // Ours also: the engine timed inside a worker of its own (bench-engine-worker.mjs).
      const worker = kind === "ours" && new Worker("/www/tests/bench-engine-worker.mjs", { type: "module" });
      const ask = (message) =>
        new Promise((resolve, reject) => {
          worker.onmessage = ({ data }) => (data.ok ? resolve(data.ms) : reject(new Error(data.error)));
          worker.postMessage(message);
        });
      for (const n of Object.keys(requests)) if (worker) await ask({ load: n });
      globalThis.bench = {
        recommend: (n) => runners[n].recommend(requests[n]),
        async time(n, calls) {
          if (!this.warm?.[n]) {
            for (let i = 0; i < 10; i++) await this.recommend(n); // warm-up (V8 tiers wasm up as it runs)
            if (worker) await ask({ n, request: requests[n], calls: 10 });
          }
          this.warm = { ...this.warm, [n]: true };
          const t0 = performance.now();
          for (let i = 0; i < calls; i++) await this.recommend(n);
          const ms = (performance.now() - t0) / calls;
          return worker ? { ms, engineMs: await ask({ n, request: requests[n], calls }) } : { ms };
        },
      };
    },
    { kind, requests, backend, wasmPaths: TFJS_WASM },
  );
}

async function newPage(browser, baseUrl, tfjs) {
  const page = await browser.newPage({ bypassCSP: true });
  await page.goto(`${baseUrl}/www/tests/blank.html`);
  if (tfjs) {
    await page.addScriptTag({ url: TFJS });
    await page.addScriptTag({ url: `${TFJS_WASM}tf-backend-wasm.min.js` });
  }
  return page;
}

export async function measureRanking(browser, baseUrl, requests, rounds, native) {
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const label = (n) => `rank_${n === "1000" ? "1k" : "10k"}_ms`;
  const oursPage = await newPage(browser, baseUrl, false);
  await setUp(oursPage, "ours", requests);
  const out = { ours: {}, native: {}, tfjs: {} };
  for (const backend of ["wasm", "cpu"]) {
    const peerPage = await newPage(browser, baseUrl, true);
    await setUp(peerPage, "peer", requests, backend);
    out.tfjs.version = await peerPage.evaluate(() => globalThis.tf.version.tfjs);
    out.tfjs[backend] = {};
    for (const n of Object.keys(requests)) {
      const [theirs, mine] = [await peerPage.evaluate((n) => bench.recommend(n), n), await oursPage.evaluate((n) => bench.recommend(n), n)];
      const same = theirs.length === mine.length && theirs.every((r, i) => r.itemId === mine[i].itemId && Math.abs(r.score - mine[i].score) < 1e-3);
      if (!same) throw new Error(`TF.js ${backend} ranks differently from scenerec on ${n} items: ${JSON.stringify({ theirs, mine })}`);
      const [t, o, e, nat] = [[], [], [], []];
      // Ours and native are timed in the rounds against TF.js wasm; the cpu backend only needs its own figure.
      for (let r = 0; r < (backend === "wasm" ? rounds : Math.ceil(rounds / 3)); r++) {
        t.push((await peerPage.evaluate(({ n, calls }) => bench.time(n, calls), { n, calls: CALLS })).ms);
        if (backend !== "wasm") continue;
        const { ms, engineMs } = await oursPage.evaluate(({ n, calls }) => bench.time(n, calls), { n, calls: CALLS });
        o.push(ms);
        e.push(engineMs);
        nat.push(native(n, CALLS));
      }
      out.tfjs[backend][label(n)] = median(t);
      if (backend === "wasm") {
        out.ours[label(n)] = median(o);
        out.ours[`engine_${label(n)}`] = median(e);
        out.native[label(n)] = median(nat);
      }
    }
    await peerPage.close();
  }
  await oursPage.close();
  return out;
}
