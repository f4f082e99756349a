// Hostile input through the npm package in a page (used by robustness.test.mjs, which asserts
// on the tallies, and bench-robustness.mjs, which records them): mutated model files written by
// `scenerec fuzz --target weights --write <dir>`, served under `base`, and randomly odd calls.
// Each input must reject with an Error or give a sane answer; afterwards a model still ranks.

/** Loads each of `names` (mutated weights files) with the seed catalogue: `{ inputs, rejected, accepted, insane, notErrors, afterwards }`. */
export function loadMutatedFiles(page, base, names) {
  return page.evaluate(async ({ names, base }) => {
    const { Recommender } = await import("/pkg/index.js");
    const get = async (f) => new Uint8Array(await (await fetch(base + f)).arrayBuffer());
    const catalog = await get("catalog.bin");
    const itemVectors = await get("item_vectors.bin");
    const history = [{ itemId: "item1", scene: "B", time: 1 }, { itemId: "item4", scene: "B", time: 2 }];
    const tally = { inputs: 0, rejected: 0, accepted: 0, insane: [], notErrors: [] };
    for (const name of names) {
      tally.inputs++;
      let rec;
      try {
        rec = await Recommender.load({ model: { weights: await get(name), catalog, itemVectors }, device: "cpu" });
      } catch (e) {
        if (e instanceof Error) tally.rejected++;
        else tally.notErrors.push(name);
        continue;
      }
      try {
        const items = await rec.recommend({ history, k: 5 });
        if (items.length <= 5 && items.every((r) => Number.isFinite(r.score))) tally.accepted++;
        else tally.insane.push(name);
      } catch (e) {
        if (e instanceof Error) tally.rejected++;
        else tally.notErrors.push(name);
      } finally {
        await rec.dispose();
      }
    }
    const good = await Recommender.load({ model: { weights: await get("seed.weights"), catalog, itemVectors }, device: "cpu" });
    tally.afterwards = (await good.recommend({ history, k: 5 })).length;
    await good.dispose();
    return tally;
  }, { names, base });
}

/** `count` calls with randomly odd arguments on one instance of the seed model: the same tally. */
export function oddCalls(page, base, count) {
  return page.evaluate(async ({ base, count }) => {
    const { Recommender } = await import("/pkg/index.js");
    const get = async (f) => new Uint8Array(await (await fetch(base + f)).arrayBuffer());
    const catalog = await get("catalog.bin");
    const rec = await Recommender.load({ model: { weights: await get("seed.weights"), catalog, itemVectors: await get("item_vectors.bin") }, device: "cpu" });
    // mulberry32: a seeded generator, so a failure replays.
    let state = 12345;
    const random = (n) => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    const pick = (xs) => xs[random(xs.length)];
    const odd = [undefined, null, NaN, Infinity, -1, 0, 1.5, 2 ** 32 + 5, 1e9, "5", "", true, [], [3], {}, () => 1, Symbol.iterator];
    const event = () => pick([
      { itemId: "item1", scene: "B", time: 1 },
      { itemId: pick(["item2", "nope", 7, null]), scene: "C", time: 2 },
      { itemId: "item3", scene: pick(["A", "Z", 0, null]), time: 3 },
      { itemId: "item5", scene: "C", time: pick(odd) },
      { itemId: "item6", scene: "A", time: 4, action: pick(["like", "hate", 1, null]) },
      pick(odd),
    ]);
    const valid = () => [{ itemId: "item1", scene: "B", time: 1 }, { itemId: "item8", scene: "C", time: 5, action: "like" }];
    // A third of the histories valid, so the odd arguments beside them are what gets tested.
    const history = () => [() => pick(odd), valid, valid, () => Array.from({ length: random(5) }, event)][random(4)]();
    // Each argument good half of the time, else odd.
    const or = (good) => (random(2) ? good : pick(odd));
    const calls = [
      () => rec.recommend({ history: history(), scene: or(pick([undefined, null, "A", "Z"])), k: or(5) }),
      () => rec.recommend({ history: history(), k: 3, exclude: or(pick([[], ["item1"], ["nope"]])) }),
      () => rec.score(history(), or(pick([null, "B", "Z"])), or(pick([["item1"], ["nope"], []]))),
      () => rec.fineTune({ history: history(), steps: or(2), batch: or(8), learningRate: or(0.01) }),
      () => rec.recommend(pick(odd)),
    ];
    const tally = { inputs: 0, rejected: 0, accepted: 0, insane: [], notErrors: [] };
    for (let i = 0; i < count; i++) {
      tally.inputs++;
      const which = random(calls.length);
      try {
        const out = await calls[which]();
        const sane = Array.isArray(out) ? out.every((r) => Number.isFinite(r.score)) : out instanceof Float32Array ? out.every(Number.isFinite) : out && Array.isArray(out.losses) ? out.losses.every(Number.isFinite) : false;
        if (sane) tally.accepted++;
        else tally.insane.push(`call ${which}: ${String(out)}`);
      } catch (e) {
        if (e instanceof Error && e.message.length > 0) tally.rejected++;
        else tally.notErrors.push(`call ${which}: ${String(e)}`);
      }
    }
    tally.afterwards = (await rec.recommend({ history: [{ itemId: "item1", scene: "B", time: 1 }], k: 5 })).length;
    await rec.dispose();
    return tally;
  }, { base, count });
}
