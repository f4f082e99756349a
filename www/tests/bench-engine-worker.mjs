// A worker for bench-ranking.mjs that times the CPU wasm engine inside the worker, without the
// page ↔ worker round trip the package adds: the ranking cost comparable to native flex.
// Messages: {load: n} → loads runs/synth-n; {n, request, calls} → mean ms per recommend call
// (the history resolved to catalogue indices once, as the package's page side does per call).
let mod;
const engines = {};

function columns(engine, request) {
  const catalog = engine.catalog();
  const items = new Map(catalog.items.map((it, i) => [it.id, i]));
  const h = request.history;
  return {
    items: Uint32Array.from(h, (e) => items.get(e.itemId)),
    scenes: Uint32Array.from(h, (e) => catalog.scenes.indexOf(e.scene)),
    actions: Uint8Array.from(h, (e) => (e.action === "like" ? 1 : 0)),
    times: Float64Array.from(h, (e) => e.time),
    scene: catalog.scenes.indexOf(request.scene),
  };
}

self.onmessage = async ({ data }) => {
  try {
    mod ??= await import("/pkg/cpu/scenerec_cpu.js").then(async (m) => (await m.default(), m));
    if (data.load) {
      const get = async (f) => new Uint8Array(await (await fetch(`/runs/synth-${data.load}/${f}`)).arrayBuffer());
      const catalog = new TextDecoder().decode(await get("catalog.json"));
      engines[data.load] = await mod.Engine.create(await get("model.weights"), catalog, await get("item_text.f32"), "cpu");
      self.postMessage({ ok: true });
      return;
    }
    const { n, request, calls } = data;
    const c = columns(engines[n], request);
    const exclude = new Uint32Array();
    const call = () => engines[n].recommend(new mod.History(c.items, c.scenes, c.actions, c.times), c.scene, request.k, exclude);
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await call();
    self.postMessage({ ok: true, ms: (performance.now() - t0) / calls });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.message ?? e) });
  }
};
