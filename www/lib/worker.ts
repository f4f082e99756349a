/// <reference lib="webworker" />
/**
 * The Web Worker that owns the wasm engine, so ranking and fine-tuning never block the page.
 * Fine-tuning runs step by step and yields to the event loop between steps, so progress
 * reaches the page and a cancel message is seen before the next step.
 */

import type { HistoryColumns } from "./encode.js";
import type { Call, LoadArgs, Reply } from "./protocol.js";
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

let engine: any = null;
/** The loaded artifact's bindings (for its `History` class). */
let bindings: any = null;
/** The loaded artifact's linear memory (what `stats` reports). */
let memory: WebAssembly.Memory | null = null;
const cancelled = new Set<number>();

function reply(message: Reply, transfer: Transferable[] = []) {
  self.postMessage(message, transfer);
}

async function load(args: LoadArgs) {
  const mod: any = args.backend === "webgpu" ? webgpuGlue : cpuGlue;
  memory = (await mod.default()).memory;
  engine?.free?.();
  bindings = mod;
  engine = await mod.Engine.create(args.weights, args.catalog, args.itemText, args.backend);
  return { backend: engine.backend, catalog: engine.catalog() };
}

/** The engine's `History` (consumed by the call it is passed to) from the page's columns. */
const history = (h: HistoryColumns) => new bindings.History(h.items, h.scenes, h.actions, h.times);

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
        value = await engine.recommend(history(args.history), args.scene, args.k, args.exclude);
        transfer.push(value.items.buffer, value.scores.buffer, value.becauseItems.buffer, value.becauseScenes.buffer);
        break;
      case "score":
        value = await engine.score(history(args.history), args.scene, args.items);
        transfer.push(value.buffer);
        break;
      case "fineTune":
        value = await fineTune(id, args);
        cancelled.delete(id);
        break;
      case "stats":
        value = { wasmMemoryBytes: memory?.buffer.byteLength ?? 0 };
        break;
      case "exportWeights":
        value = await engine.exportWeights();
        transfer.push(value.buffer);
        break;
      case "trapForTests":
        engine.trapForTests();
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
