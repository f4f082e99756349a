// The TensorFlow.js peer's figures for bench-browser.mjs: the same rankings (1k / 10k synthetic
// catalogues, same weights, same requests) with @tensorflow/tfjs 4.22 on its wasm and cpu
// backends, on the page's main thread (no worker round trip, unlike ours). Before timing, its
// top items and scores must match scenerec's (CPU wasm) for the same request, so both do the
// same work.
const TFJS = "/www/node_modules/@tensorflow/tfjs/dist/tf.min.js";
const TFJS_WASM = "/www/node_modules/@tensorflow/tfjs-backend-wasm/dist/";

export async function measureTfjs(browser, baseUrl, requests, repeat) {
  const page = await browser.newPage({ bypassCSP: true });
  await page.goto(`${baseUrl}/www/tests/blank.html`);
  await page.addScriptTag({ url: TFJS });
  await page.addScriptTag({ url: `${TFJS_WASM}tf-backend-wasm.min.js` });
  const figures = await page.evaluate(
    async ({ requests, repeat, wasmPaths }) => {
      const tf = globalThis.tf;
      tf.wasm.setWasmPaths(wasmPaths);
      const { loadPeer } = await import("/www/tests/tfjs-peer.mjs");
      const { Recommender } = await import("/pkg/index.js");
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const out = { version: tf.version.tfjs };
      for (const backend of ["wasm", "cpu"]) {
        if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
        await tf.ready();
        out[backend] = {};
        for (const [n, request] of Object.entries(requests)) {
          const peer = await loadPeer(tf, new URL(`/runs/synth-${n}/`, location.href));
          const ours = await Recommender.load({ model: `/runs/synth-${n}/`, device: "cpu" });
          const [theirs, mine] = [await peer.recommend(request), await ours.recommend(request)];
          await ours.dispose();
          const same = theirs.length === mine.length && theirs.every((r, i) => r.itemId === mine[i].itemId && Math.abs(r.score - mine[i].score) < 1e-3);
          if (!same) throw new Error(`TF.js ${backend} ranks differently from scenerec on ${n} items: ${JSON.stringify({ theirs, mine })}`);
          for (let i = 0; i < 10; i++) await peer.recommend(request); // warm-up, as for ours
          const times = [];
          for (let i = 0; i < repeat; i++) {
            const t0 = performance.now();
            await peer.recommend(request);
            times.push(performance.now() - t0);
          }
          out[backend][`rank_${n === "1000" ? "1k" : "10k"}_ms`] = med(times);
        }
      }
      return out;
    },
    { requests, repeat, wasmPaths: TFJS_WASM },
  );
  await page.close();
  return figures;
}
