/**
 * The page side of the engine boundary: histories, scenes and item ids become catalogue indices
 * (with the catalogue the engine reported at load), so they reach the worker and the wasm engine
 * as typed arrays — transferred, not cloned and deserialised object by object — and results come
 * back as indices that are turned into ids here. Unknown names fail here, in the engine's
 * wording; the engine still checks every index, count and time.
 */

import type { Catalog, HistoryEvent, Recommendation } from "./types.js";

/** A history as columns, one entry per event (the engine's `History`). */
export interface HistoryColumns {
  items: Uint32Array;
  scenes: Uint32Array;
  /** 0: interact, 1: like. */
  actions: Uint8Array;
  times: Float64Array;
}

/** What the engine's `recommend` resolves to: catalogue indices, best first (-1: no reason). */
export interface RankedIndices {
  items: Uint32Array;
  scores: Float32Array;
  becauseItems: Int32Array;
  becauseScenes: Int32Array;
}

const ACTIONS = new Map([["interact", 0], ["click", 0], ["like", 1]]);

export class CatalogIndex {
  private readonly items: Map<string, number>;
  private readonly scenes: Map<string, number>;

  constructor(private readonly catalog: Catalog) {
    this.items = new Map(catalog.items.map((item, i) => [item.id, i]));
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

  itemIds(ids: string[], what: string): Uint32Array {
    if (!Array.isArray(ids)) throw new Error(`${what} must be an array of item ids`);
    return Uint32Array.from(ids, (id) => this.item(id, what));
  }

  history(history: HistoryEvent[]): HistoryColumns {
    if (!Array.isArray(history)) throw new Error("history must be an array of events ({itemId, scene, action?, time})");
    const n = history.length;
    const out = { items: new Uint32Array(n), scenes: new Uint32Array(n), actions: new Uint8Array(n), times: new Float64Array(n) };
    history.forEach((event, i) => {
      if (typeof event !== "object" || event === null) throw new Error(`history[${i}] is not an event object`);
      const action = ACTIONS.get(event.action ?? "interact");
      if (action === undefined) throw new Error(`history[${i}].action \`${event.action}\` is not \`like\` or \`interact\``);
      out.items[i] = this.item(event.itemId, `history[${i}]`);
      out.scenes[i] = this.scene(event.scene);
      out.actions[i] = action;
      out.times[i] = typeof event.time === "number" ? event.time : NaN; // the engine names a bad time
    });
    return out;
  }

  recommendations(r: RankedIndices): Recommendation[] {
    const { items, scenes } = this.catalog;
    return Array.from(r.items, (i, j) => {
      const rec: Recommendation = { itemId: items[i].id, title: items[i].title, score: r.scores[j] };
      if (r.becauseItems[j] >= 0) rec.because = { itemId: items[r.becauseItems[j]].id, scene: scenes[r.becauseScenes[j]] };
      return rec;
    });
  }

  private item(id: string, what: string): number {
    const i = this.items.get(id);
    if (i === undefined) throw new Error(`unknown item \`${id}\` in ${what}`);
    return i;
  }
}

/** The buffers of a history's columns, to transfer with it. */
export const historyBuffers = (h: HistoryColumns): Transferable[] => [h.items.buffer, h.scenes.buffer, h.actions.buffer, h.times.buffer];
