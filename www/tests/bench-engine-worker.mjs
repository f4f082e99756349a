// A worker for bench-ranking.mjs that times the CPU wasm engine inside the worker, without the
// page ↔ worker round trip the package adds: the ranking cost comparable to native flex.
// Messages: {load: n} → loads runs/synth-n; {n, request, calls} → mean ms per recommend call
// (the history resolved to catalogue indices once, as the package's worker does per call).

let mod;
const engines = {};

self.onmessage = async ({ data }) => {
  try {
    mod ??= await import("/pkg/cpu/scenerec_cpu.js").then(async (m) => (await m.default(), m));
    if (data.load) {
      const get = async (f) => new Uint8Array(await (await fetch(`/runs/synth-${data.load}/${f}`)).arrayBuffer());
      engines[data.load] = await mod.Engine.create(await get("model.weights"), undefined, await get("catalog.bin"), await get("item_vectors.bin"), "cpu");
      self.postMessage({ ok: true });
      return;
    }
    const { n, request, calls } = data;
    const catalog = engines[n].catalog();
    const indices = (ids) => Uint32Array.from(engines[n].itemIndices(ids));
    const scene = catalog.scenes.indexOf(request.scene);
    const events = request.history;
    const h = {
      items: indices(events.map((e) => e.itemId)),
      scenes: Uint32Array.from(events, (e) => catalog.scenes.indexOf(e.scene)),
      actions: Uint8Array.from(events, (e) => (e.action === "like" ? 1 : 0)),
      times: Float64Array.from(events, (e) => e.time),
    };
    const exclude = indices(request.exclude);
    const call = () => engines[n].recommend(new mod.History(h.items, h.scenes, h.actions, h.times), scene, request.k, exclude);
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await call();
    self.postMessage({ ok: true, ms: (performance.now() - t0) / calls });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.message ?? e) });
  }
};
