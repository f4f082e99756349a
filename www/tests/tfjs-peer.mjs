// The TensorFlow.js peer of the browser benchmark: the same scenerec model with the same weights
// (read from `scenerec tensors`) and item vectors (item_vectors.bin), ranking the same way — interest vector from the history, `u·v`
// over the catalogue with exclusions, the fusion head over the best 100 — written with TF.js ops,
// with the same shortcuts (last layer for the last position only, the head's first layer split
// per input block), so that TF.js (wasm or cpu backend) can be timed on exactly our work. The benchmark checks its
// top items and scores against scenerec's before timing it.
//
// `tf` is the global of @tensorflow/tfjs 4.22; `base` an exported model directory that also
// holds tensors.json + tensors.f32.

const RERANK = 100;
const GAP_BUCKETS = 16;

async function fetchOk(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res;
}

/** Bucket of the gap between two events, as `gap_bucket` in src/data/batch.rs. */
function gapBucket(previous, time) {
  if (previous === null) return 0;
  const minutes = Math.floor(Math.max(0, time - previous) / 60);
  return Math.min(1 + Math.floor(Math.log2(minutes + 1)), GAP_BUCKETS - 1);
}

/**
 * The item tower's output from an export's item_vectors.bin (src/vectors.rs): after the frame's
 * 16-byte preamble and its JSON header, one f32 scale per item, then each row's codes of `bits`
 * bits (8, 6 or 4), two's complement, packed least significant bit first.
 */
function itemVectors(file) {
  const view = new DataView(file);
  const headerLen = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(file, 16, headerLen)));
  const { items, dim } = header;
  const bits = { "int8-row": 8, "int6-row": 6, "int4-row": 4 }[header.encoding];
  if (!bits) throw new Error(`item vectors encoding ${header.encoding}`);
  const rowBytes = Math.ceil((dim * bits) / 8);
  const start = 16 + headerLen;
  const bytes = new Uint8Array(file, start + 4 * items, items * rowBytes);
  const out = new Float32Array(items * dim);
  for (let i = 0; i < items; i++) {
    const scale = view.getFloat32(start + 4 * i, true);
    let [acc, held, at] = [0, 0, i * rowBytes];
    for (let j = 0; j < dim; j++) {
      while (held < bits) {
        acc |= bytes[at++] << held;
        held += 8;
      }
      const code = ((acc & ((1 << bits) - 1)) << (32 - bits)) >> (32 - bits);
      out[i * dim + j] = code * scale;
      acc >>>= bits;
      held -= bits;
    }
  }
  return out;
}

export async function loadPeer(tf, base) {
  const [index, raw, catalog, vectorsFile] = await Promise.all([
    fetchOk(new URL("tensors.json", base)).then((r) => r.json()),
    fetchOk(new URL("tensors.f32", base)).then((r) => r.arrayBuffer()),
    fetchOk(new URL("catalog.json", base)).then((r) => r.json()),
    fetchOk(new URL("item_vectors.bin", base)).then((r) => r.arrayBuffer()),
  ]);
  const values = new Float32Array(raw);
  const byName = new Map(index.tensors.map((t) => [t.name, t]));
  const w = (name) => {
    const t = byName.get(name);
    if (!t) throw new Error(`tensors.json has no ${name}`);
    const size = t.shape.reduce((a, b) => a * b, 1);
    return tf.keep(tf.tensor(values.subarray(t.offset, t.offset + size), t.shape));
  };
  const cfg = index.model;
  const n = catalog.items.length;
  const table = tf.tensor2d(itemVectors(vectorsFile), [n, cfg.dim]);
  const tableT = tf.keep(table.transpose());
  const layers = Array.from({ length: cfg.layers }, (_, l) => {
    const p = (s) => w(`interest.encoder.layers.${l}.${s}`);
    return {
      // burn's norm-first layer: norm_2 before attention, norm_1 before the feed-forward.
      attnNorm: [p("norm_2.gamma"), p("norm_2.beta")],
      q: [p("mha.query.weight"), p("mha.query.bias")],
      k: [p("mha.key.weight"), p("mha.key.bias")],
      v: [p("mha.value.weight"), p("mha.value.bias")],
      o: [p("mha.output.weight"), p("mha.output.bias")],
      ffNorm: [p("norm_1.gamma"), p("norm_1.beta")],
      inner: [p("pwff.linear_inner.weight"), p("pwff.linear_inner.bias")],
      outer: [p("pwff.linear_outer.weight"), p("pwff.linear_outer.bias")],
    };
  });
  const m = (name) => w(`interest.${name}`);
  const enc = {
    scene: m("events.scene.weight"), action: m("events.action.weight"), gap: m("events.gap.weight"), position: m("position.weight"),
    inputNorm: [m("input_norm.gamma"), m("input_norm.beta")], outputNorm: [m("output_norm.gamma"), m("output_norm.beta")],
    targetScene: m("scene_layers.target_scene.weight"), gate: [m("scene_layers.gate.weight"), m("scene_layers.gate.bias")],
    shift: m("scene_layers.shift.weight"),
  };
  const head = { scene: w("head.scene.weight"), hidden: [w("head.hidden.weight"), w("head.hidden.bias")], out: [w("head.out.weight"), w("head.out.bias")] };
  const ids = new Map(catalog.items.map((it, i) => [it.id, i]));
  const heads = cfg.heads;
  const dk = cfg.dim / heads;

  const dense = (x, [weight, bias]) => x.matMul(weight).add(bias);
  const layerNorm = (x, [gamma, beta]) => {
    const centred = x.sub(x.mean(-1, true));
    return centred.div(centred.square().mean(-1, true).add(1e-5).sqrt()).mul(gamma).add(beta);
  };
  const gelu = (x) => x.mul(tf.erf(x.div(Math.SQRT2)).add(1)).mul(0.5);
  const split = (x, len) => x.reshape([len, heads, dk]).transpose([1, 0, 2]);

  /** The interest vector `[1, dim]` for a history (sorted, cut to `max_len`) and a target scene. */
  function userVector(history, scene) {
    const events = history
      .map((e) => ({ item: ids.get(e.itemId), scene: catalog.scenes.indexOf(e.scene), action: e.action === "like" ? 1 : 0, time: Math.trunc(e.time) }))
      .sort((a, b) => a.time - b.time);
    const start = Math.max(0, events.length - cfg.max_len);
    const kept = events.slice(start);
    const len = kept.length;
    const int = (f) => tf.tensor1d(kept.map(f), "int32");
    const gaps = kept.map((e, j) => gapBucket(start + j > 0 ? events[start + j - 1].time : null, e.time));
    let x = tf
      .gather(table, int((e) => e.item))
      .add(tf.gather(enc.scene, int((e) => e.scene)))
      .add(tf.gather(enc.action, int((e) => e.action)))
      .add(tf.gather(enc.gap, tf.tensor1d(gaps, "int32")))
      .add(tf.gather(enc.position, int((_, j) => len - 1 - j)));
    x = layerNorm(x, enc.inputNorm);
    // Like scenerec's `last_states`: the last layer computes only the last position (queries
    // `rows`), which attends to all `len` events.
    layers.forEach((L, l) => {
      const rows = l === layers.length - 1 ? 1 : len;
      const h = layerNorm(x, L.attnNorm);
      const hq = h.slice([len - rows, 0], [rows, cfg.dim]);
      const [q, k, v] = [split(dense(hq, L.q), rows), split(dense(h, L.k), len), split(dense(h, L.v), len)];
      const causal = tf.linalg.bandPart(tf.ones([len, len]), -1, 0).sub(1).mul(1e30).slice([len - rows, 0], [rows, len]);
      const weights = tf.softmax(q.matMul(k, false, true).div(Math.sqrt(dk)).add(causal));
      const context = weights.matMul(v).transpose([1, 0, 2]).reshape([rows, cfg.dim]);
      x = x.slice([len - rows, 0], [rows, cfg.dim]).add(dense(context, L.o));
      x = x.add(dense(gelu(dense(layerNorm(x, L.ffNorm), L.inner)), L.outer));
    });
    const state = layerNorm(x.slice([x.shape[0] - 1, 0], [1, cfg.dim]), enc.outputNorm);
    const s = tf.tensor1d([scene], "int32");
    const gate = tf.sigmoid(dense(tf.concat([state, tf.gather(enc.targetScene, s)], 1), enc.gate)).mul(2);
    return state.mul(gate).add(tf.gather(enc.shift, s));
  }

  /** Top `k` items of `scene` for `history`: `[{ itemId, score }]`, as `Recommender.recommend`. */
  async function recommend({ history, scene, k = 10, exclude = [] }) {
    const s = catalog.scenes.indexOf(scene);
    if (s < 0) throw new Error(`unknown scene ${scene}`);
    const mask = new Float32Array(n);
    catalog.items.forEach((it, i) => it.scene !== s && (mask[i] = -Infinity));
    for (const id of [...history.map((e) => e.itemId), ...exclude]) mask[ids.get(id)] = -Infinity;
    const rerank = Math.min(Math.max(k, RERANK), n);
    const [top, logits] = tf.tidy(() => {
      const u = userVector(history, s);
      const scores = u.matMul(tableT).reshape([n]).add(tf.tensor1d(mask));
      const { indices } = tf.topk(scores, rerank);
      const items = tf.gather(table, indices);
      // Like scenerec's `forward_grouped`: the head's first layer split by input block
      // [u; v; u⊙v; scene], the user's and scene's blocks once, (u⊙v)·W as v·(diag(u)·W).
      const [wu, wv, wp, ws] = tf.split(head.hidden[0], 4, 0);
      const perUser = u.matMul(wu).add(tf.gather(head.scene, tf.tensor1d([s], "int32")).matMul(ws)).add(head.hidden[1]);
      const hidden = items.matMul(wv.add(u.reshape([cfg.dim, 1]).mul(wp))).add(perUser);
      const mlp = dense(tf.relu(hidden), head.out).reshape([rerank]);
      return [indices, items.matMul(u.reshape([cfg.dim, 1])).reshape([rerank]).add(mlp)];
    });
    const [idx, score] = await Promise.all([top.data(), logits.data()]);
    top.dispose();
    logits.dispose();
    const ranked = [...idx].map((i, j) => ({ i, score: score[j] })).filter(({ i }) => mask[i] === 0);
    ranked.sort((a, b) => b.score - a.score || a.i - b.i);
    return ranked.slice(0, k).map(({ i, score }) => ({ itemId: catalog.items[i].id, score }));
  }

  return { recommend, items: n };
}
