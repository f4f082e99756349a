/// <reference lib="webworker" />
/**
 * The Web Worker that owns the wasm engine, so ranking and fine-tuning never block the page.
 * Fine-tuning runs step by step and yields to the event loop between steps, so progress
 * reaches the page and a cancel message is seen before the next step.
 */

import type { Call, LoadArgs, Reply } from "./protocol.js";
import type { Catalog, HistoryEvent, Item, NewItem, Recommendation } from "./types.js";
// The wasm-bindgen glue of the two artifacts, generated into the package next to this worker
// (not next to its source, hence the ts-ignores). Static imports, so every bundler bundles them
// into the worker (a worker with dynamic imports needs code-splitting, which Vite's default
// worker format lacks); each glue points at its .wasm with `new URL(…, import.meta.url)`,
// which bundlers emit, and only the artifact that is loaded fetches its .wasm.
// @ts-ignore
import * as cpuGlue from "./cpu/scenerec_cpu.js";
// @ts-ignore
import * as webgpuGlue from "./webgpu/scenerec_webgpu.js";

declare const self: DedicatedWorkerGlobalScope;

/*
 * The engine boundary: histories, scenes and item ids become catalogue indices, so they reach
 * the wasm engine as typed arrays — a long history crosses as four copies, not one
 * deserialised object per event — and results come back as indices that are turned into ids
 * here. The engine holds the ids (a million-item catalogue's are not copied into JS) and
 * resolves them in one call per request; unknown names fail here, in the engine's wording, and
 * the engine still checks every index, count and time. It lives in the worker (the package's
 * files stay worker.js, cpu/ and webgpu/) and keeps the page's bundle small.
 */
/** A history as columns, one entry per event (the engine's `History`). */
interface HistoryColumns {
  items: Uint32Array;
  scenes: Uint32Array;
  /** 0: interact, 1: like. */
  actions: Uint8Array;
  times: Float64Array;
}

/** What the engine's `recommend` resolves to: catalogue indices, best first (-1: no reason). */
interface RankedIndices {
  items: Uint32Array;
  scores: Float32Array;
  becauseItems: Int32Array;
  becauseScenes: Int32Array;
}

const ACTIONS = new Map([["interact", 0], ["click", 0], ["like", 1]]);

class CatalogIndex {
  private readonly scenes: Map<string, number>;

  constructor(private readonly catalog: Catalog) {
    this.scenes = new Map(catalog.scenes.map((name, i) => [name, i]));
  }

  scene(name: string): number {
    const s = this.scenes.get(name);
    if (s === undefined) throw new Error(`unknown scene \`${name}\` (scenes: ${this.catalog.scenes.join(", ")})`);
    return s;
  }

  /** A tab's scene index, or `undefined` for none (`undefined` or `null`: the whole catalogue). */
  optionalScene(name: string | null | undefined): number | undefined {
    if (name === undefined || name === null) return undefined;
    if (typeof name !== "string") throw new Error(`scene must be a scene name or null, not ${typeof name}`);
    return this.scene(name);
  }

  /** Catalogue indices of `ids`; an unknown id is an error naming `what` (and its position when `each`). */
  itemIds(ids: unknown[], what: string, each = false): Uint32Array {
    if (!Array.isArray(ids)) throw new Error(`${what} must be an array of item ids`);
    const unknown = (i: number) => new Error(`unknown item \`${ids[i]}\` in ${each ? `${what}[${i}]` : what}`);
    const bad = ids.findIndex((id) => typeof id !== "string");
    if (bad >= 0) throw unknown(bad);
    const found: Int32Array = engine.itemIndices(ids);
    const missing = found.indexOf(-1);
    if (missing >= 0) throw unknown(missing);
    return new Uint32Array(found.buffer, found.byteOffset, found.length);
  }

  history(history: HistoryEvent[]): HistoryColumns {
    if (!Array.isArray(history)) throw new Error("history must be an array of events ({itemId, scene, action?, time})");
    const n = history.length;
    const out = { items: new Uint32Array(n), scenes: new Uint32Array(n), actions: new Uint8Array(n), times: new Float64Array(n) };
    history.forEach((event, i) => {
      if (typeof event !== "object" || event === null) throw new Error(`history[${i}] is not an event object`);
      const action = ACTIONS.get(event.action ?? "interact");
      if (action === undefined) throw new Error(`history[${i}].action \`${event.action}\` is not \`like\` or \`interact\``);
      out.scenes[i] = this.scene(event.scene);
      out.actions[i] = action;
      out.times[i] = typeof event.time === "number" ? event.time : NaN; // the engine names a bad time
    });
    out.items.set(this.itemIds(history.map((event) => event.itemId), "history", true));
    return out;
  }

  recommendations(r: RankedIndices): Recommendation[] {
    const because = Array.from(r.becauseItems, (i) => Math.max(i, 0));
    const ids: string[] = engine.itemIds(Uint32Array.from([...r.items, ...because]));
    const n = r.items.length;
    return Array.from(r.items, (_, j) => {
      const rec: Recommendation = { itemId: ids[j], score: r.scores[j] };
      if (r.becauseItems[j] >= 0) rec.because = { itemId: ids[n + j], scene: this.catalog.scenes[r.becauseScenes[j]] };
      return rec;
    });
  }
}

let engine: any = null;
/** Ids and names to the engine's indices, for the catalogue the engine holds. */
let index: CatalogIndex;
let catalog: Catalog;
/** The loaded artifact's bindings (for its `History` class). */
let bindings: any = null;
/** The loaded artifact's linear memory (what `stats` reports). */
let memory: WebAssembly.Memory | null = null;
const cancelled = new Set<number>();

function reply(message: Reply, transfer: Transferable[] = []) {
  self.postMessage(message, transfer);
}

/** Items of a ranking request for measuring a backend's speed: the catalogue's first 20. */
const PROBE_ITEMS = 20;

async function load(args: LoadArgs) {
  const mod: any = args.backend === "webgpu" ? webgpuGlue : cpuGlue;
  memory = (await mod.default()).memory;
  engine?.free?.();
  bindings = mod;
  engine = await mod.Engine.create(args.weights, args.personal, args.catalog, args.itemVectors, args.backend);
  catalog = engine.catalog();
  index = new CatalogIndex(catalog);
  const probe: string[] = engine.itemIds(Uint32Array.from({ length: Math.min(PROBE_ITEMS, catalog.size) }, (_, i) => i));
  return { backend: engine.backend, catalog, probe };
}

/** The engine's `History` (consumed by the call it is passed to) from the page's events. */
const history = (events: HistoryEvent[]) => {
  const h: HistoryColumns = index.history(events);
  return new bindings.History(h.items, h.scenes, h.actions, h.times);
};

/** A request's time for the engine: a number as given (the engine names a non-finite one), `null` or
 * `undefined` as unknown, anything else NaN, so that the engine refuses it instead of the binding
 * coercing it. */
const requestTime = (now: unknown) => (now == null ? undefined : typeof now === "number" ? now : NaN);

async function recommend({ history: events, scene, k = 20, exclude = [], now }: any) {
  // Checked here: the wasm binding would coerce anything (`"5"`, `1.5`, `2 ** 32 + 5`) to a u32.
  if (!Number.isSafeInteger(k) || k < 1) throw new Error(`k must be a positive integer, not ${JSON.stringify(k)}`);
  const h = history(events);
  const ranked: RankedIndices = await engine.recommend(h, index.optionalScene(scene), Math.min(k, catalog.size), index.itemIds(exclude, "exclude"), requestTime(now));
  return index.recommendations(ranked);
}

/** Checks the page's new items, adds them to the engine, and returns them as catalogue items. */
async function addItems(items: NewItem[]): Promise<Item[]> {
  if (!Array.isArray(items)) throw new Error("items must be an array of {id, scene, genres?, title?, textEmbedding}");
  const width = items[0]?.textEmbedding?.length;
  const text = new Float32Array(items.length * width);
  items.forEach((item, i) => {
    const row = item?.textEmbedding;
    if (!(row instanceof Float32Array || Array.isArray(row)) || row.length !== width) {
      throw new Error(`items[${i}].textEmbedding must be a Float32Array or number array as long as the first item's (${width})`);
    }
    text.set(row, i * width);
  });
  await engine.addItems(JSON.stringify(items.map(({ id, scene, genres, title }) => ({ id, scene, genres, title }))), text);
  catalog = engine.catalog();
  return items.map(({ id, scene, genres = [], title }) => ({
    id,
    title: title ?? id,
    genres: genres.map((name) => catalog.genres.indexOf(name)),
    scene: catalog.scenes.indexOf(scene),
  }));
}

const yieldToEvents = () => new Promise((resolve) => setTimeout(resolve, 0));

async function fineTune(id: number, args: any) {
  engine.fineTuneBegin(history(args.history), args.options);
  const losses: number[] = [];
  try {
    for (;;) {
      const { step, steps, loss, done } = await engine.fineTuneStep();
      losses.push(loss);
      reply({ id, progress: { step, steps, loss } });
      await yieldToEvents();
      if (cancelled.has(id)) {
        engine.fineTuneCancel();
        return { losses, completed: false };
      }
      if (done) break;
    }
  } catch (e) {
    // After a trap the engine may refuse even this; the trap is what the page must hear of.
    try {
      engine.fineTuneCancel();
    } catch {}
    throw e;
  }
  engine.fineTuneCommit();
  return { losses, completed: true };
}

self.onmessage = async (event: MessageEvent<Call>) => {
  const { id, method, args } = event.data;
  try {
    if (method === "cancel") {
      cancelled.add(args.target);
      return;
    }
    if (method === "ping") return reply({ id: 0, pong: true });
    if (method !== "load" && !engine) throw new Error("this recommender was disposed");
    let value: any;
    const transfer: Transferable[] = [];
    switch (method) {
      case "load":
        value = await load(args);
        break;
      case "recommend":
        value = await recommend(args);
        break;
      case "score":
        // Bounded before the ids are copied into the engine (which states the same bound).
        if (args.items?.length > catalog.size) throw new Error(`items lists ${args.items.length} ids; at most ${catalog.size} (the catalogue's size) can be scored at once`);
        value = await engine.score(history(args.history), index.optionalScene(args.scene), index.itemIds(args.items, "items"), requestTime(args.now));
        transfer.push(value.buffer);
        break;
      case "fineTune":
        value = await fineTune(id, args);
        cancelled.delete(id);
        break;
      case "stats":
        value = { wasmMemoryBytes: memory?.buffer.byteLength ?? 0 };
        break;
      case "addItems":
        value = await addItems(args);
        break;
      case "exportWeights":
        value = await engine.exportWeights();
        transfer.push(value.buffer);
        break;
      case "trapForTests":
        engine.trapForTests();
        break;
      case "stallForTests":
        for (const end = performance.now() + args.ms; performance.now() < end; );
        break;
      case "dispose":
        engine.dispose();
        engine.free();
        engine = null;
        break;
    }
    reply({ id, ok: true, value }, transfer);
  } catch (e: any) {
    // A WebAssembly.RuntimeError means the instance trapped: the page recreates the worker.
    reply({ id, ok: false, error: String(e?.message ?? e), trapped: e instanceof WebAssembly.RuntimeError });
  }
};
