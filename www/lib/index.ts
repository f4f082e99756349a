/**
 * scenerec: an on-device multi-scene recommender. The model runs in a Web Worker (WebGPU or
 * CPU wasm); the user's history and weights never leave the device.
 *
 *   const rec = await Recommender.load({ model: "/model/", device: "auto" });
 *   const items = await rec.recommend({ history, scene: "Comedy", k: 20 });
 *   await rec.fineTune({ history, steps: 20, onProgress, signal });
 *   const personal = await rec.exportWeights();
 *   await rec.dispose();
 *
 * `LocalStore` keeps the history and personal weights in IndexedDB (see storage.ts).
 */

import { directory, resolveFiles, type Source } from "./files.js";
import { spawnWorker, workerFailure } from "./spawn.js";
import type { Call, LoadArgs, Reply } from "./protocol.js";
import type {
  Backend,
  Catalog,
  FineTuneOptions,
  FineTuneResult,
  HistoryEvent,
  Item,
  LoadOptions,
  ModelFiles,
  NewItem,
  Recommendation,
  RecommendOptions,
} from "./types.js";

export type * from "./types.js";
export { LocalStore, StorageError } from "./storage.js";
export type { ExportedData, StorageSummary, StoredWeights } from "./storage.js";

type Pending = { method: Call["method"]; resolve: (v: any) => void; reject: (e: Error) => void; onProgress?: (p: any) => void };

/**
 * While calls are in flight the client pings its worker every `PING_MS`; a worker silent for
 * `SILENCE_MS` counts as dead (terminated, crashed or hung: there is no event for a worker that
 * is gone). A live worker answers between the steps of its work — fine-tuning yields after
 * every step, ranking and loading await their reads — so it is never silent for that long once
 * warm. The first call of each kind on a worker may be silent for `WARMUP_SILENCE_MS`: it
 * compiles what the later ones reuse (WebGPU shaders for a step's forward and backward pass),
 * in one synchronous stretch that a software WebGPU adapter on a busy CPU was seen to stretch
 * past 15 s.
 */
const PING_MS = 1000;
const SILENCE_MS = 15_000;
const WARMUP_SILENCE_MS = 120_000;

/** One worker running one engine, with promise-based calls. */
class WorkerClient {
  private worker: Worker;
  private next = 1;
  private pending = new Map<number, Pending>();
  private heardAt = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  /** The kinds of call this worker has completed once (see `WARMUP_SILENCE_MS`). */
  private warm = new Set<Call["method"]>();
  /** Set when the worker died or the wasm instance trapped; the owner then replaces it. */
  broken = false;

  constructor(assetBase: URL | null) {
    const { worker, url } = spawnWorker(assetBase);
    this.worker = worker;
    this.worker.onmessage = (event: MessageEvent<Reply>) => this.receive(event.data);
    this.worker.onerror = (event) => {
      this.broken = true;
      event.preventDefault();
      this.failAll(workerFailure(url, event.message));
    };
  }

  private receive(reply: Reply) {
    this.heardAt = performance.now();
    if ("pong" in reply) return;
    const p = this.pending.get(reply.id);
    if (!p) return;
    if ("progress" in reply) {
      p.onProgress?.(reply.progress);
      return;
    }
    this.pending.delete(reply.id);
    this.warm.add(p.method);
    if (reply.ok) p.resolve(reply.value);
    else {
      if (reply.trapped) this.broken = true;
      p.reject(new Error(reply.error));
    }
  }

  private failAll(error: Error) {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** One watchdog tick: see `SILENCE_MS`. */
  private check() {
    if (this.pending.size === 0) return this.stopWatchdog();
    const cold = [...this.pending.values()].some((p) => !this.warm.has(p.method));
    const limit = cold ? WARMUP_SILENCE_MS : SILENCE_MS;
    if (performance.now() - this.heardAt > limit) {
      this.broken = true;
      this.stopWatchdog();
      this.failAll(new Error(`the scenerec worker did not answer for ${limit / 1000} s (it was terminated, crashed or hung); a fresh one takes over for the next call`));
      return;
    }
    this.worker.postMessage({ id: 0, method: "ping", args: null } satisfies Call);
  }

  private stopWatchdog() {
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = null;
  }

  call<T>(method: Call["method"], args: any, onProgress?: (p: any) => void, transfer: Transferable[] = []): { id: number; done: Promise<T> } {
    const id = this.next++;
    if (this.pending.size === 0) this.heardAt = performance.now();
    this.watchdog ??= setInterval(() => this.check(), PING_MS);
    const done = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject, onProgress });
      try {
        this.worker.postMessage({ id, method, args } satisfies Call, transfer);
      } catch (e) {
        // Arguments that cannot be cloned (a function, a DOM node) never reach the worker.
        this.pending.delete(id);
        reject(e);
      }
    });
    return { id, done };
  }

  cancel(target: number) {
    this.worker.postMessage({ id: 0, method: "cancel", args: { target } } satisfies Call);
  }

  terminate(why = "this recommender was disposed") {
    this.stopWatchdog();
    this.worker.terminate();
    this.failAll(new Error(why));
  }
}

/** Whether a real (not software-fallback) WebGPU adapter exists. */
async function realGpu(): Promise<{ ok: boolean; why: string }> {
  const gpu = (globalThis.navigator as any)?.gpu;
  if (!gpu) return { ok: false, why: "WebGPU is not available in this browser" };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { ok: false, why: "no WebGPU adapter" };
  const fallback = adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return fallback ? { ok: false, why: "the only WebGPU adapter is a software fallback" } : { ok: true, why: "" };
}

/** What a worker reports once its engine is loaded. */
interface Loaded {
  client: WorkerClient;
  catalog: Catalog;
  /** A few item ids, for a representative ranking request. */
  probe: string[];
}

export class Recommender {
  private client: WorkerClient;
  /** The model's files (the shared weights, catalogue and item vectors), and where `catalog.json` comes from. */
  private source: Source;
  /** `catalog.json`'s items, once `items()` has read them. */
  private described: Promise<Item[]> | null = null;
  /** The items added with `addItems`, as `items()` lists them. */
  private addedItems: Item[] = [];
  /** The user's personal weights (the tuned layers, put in over the shared ones), if any. */
  private personal: Uint8Array | undefined;
  private recovering: Promise<string | null> | null = null;
  private assetBase: URL | null;
  private disposed = false;
  /** Every `addItems` call's items, for a replacement worker. */
  private added: NewItem[][] = [];
  readonly backend: Backend;
  readonly catalog: Catalog;
  /** Why `backend` was chosen. */
  readonly reason: string;

  private constructor(client: WorkerClient, source: Source, personal: Uint8Array | undefined, assetBase: URL | null, backend: Backend, catalog: Catalog, reason: string) {
    this.client = client;
    this.source = source;
    this.personal = personal;
    this.assetBase = assetBase;
    this.backend = backend;
    this.catalog = catalog;
    this.reason = reason;
  }

  private static async start(files: ModelFiles, personal: Uint8Array | undefined, assetBase: URL | null, backend: Backend): Promise<Loaded> {
    const client = new WorkerClient(assetBase);
    const args: LoadArgs = { weights: files.weights, catalog: files.catalog, itemVectors: files.itemVectors, personal, backend };
    try {
      const { catalog, probe } = await client.call<Omit<Loaded, "client">>("load", args).done;
      return { client, catalog, probe };
    } catch (e) {
      client.terminate();
      throw e;
    }
  }

  /** Loads the model in a worker on the chosen device ("auto": WebGPU only on a real GPU where it is faster). */
  static async load(options: LoadOptions): Promise<Recommender> {
    const device = options.device ?? "auto";
    if (!["auto", "webgpu", "cpu"].includes(device)) throw new Error(`device must be "auto", "webgpu" or "cpu", not ${JSON.stringify(device)}`);
    // Resolved against the page, never against this module (which a bundler may have moved).
    const assetBase = options.assetBase == null ? null : new URL(directory(options.assetBase), globalThis.location?.href);
    const source = await resolveFiles(options);
    const files = source.files;
    const personal = options.weights;
    const progress = options.onProgress ?? (() => {});
    if (device !== "auto") {
      progress({ status: "init", backend: device });
      const { client, catalog } = await Recommender.start(files, personal, assetBase, device);
      progress({ status: "ready", backend: device, reason: "requested" });
      return new Recommender(client, source, personal, assetBase, device, catalog, "requested");
    }
    progress({ status: "init", backend: "cpu" });
    const cpu = await Recommender.start(files, personal, assetBase, "cpu");
    const gpu = await realGpu();
    if (!gpu.ok) {
      progress({ status: "ready", backend: "cpu", reason: gpu.why });
      return new Recommender(cpu.client, source, personal, assetBase, "cpu", cpu.catalog, gpu.why);
    }
    progress({ status: "init", backend: "webgpu" });
    const webgpu = await Recommender.start(files, personal, assetBase, "webgpu").catch(() => null);
    if (!webgpu) {
      const why = "WebGPU failed to start";
      progress({ status: "ready", backend: "cpu", reason: why });
      return new Recommender(cpu.client, source, personal, assetBase, "cpu", cpu.catalog, why);
    }
    const probe = Recommender.probe(cpu);
    const call = (client: WorkerClient) => client.call("recommend", probe).done;
    const time = async (client: WorkerClient, backend: Backend) => {
      await call(client); // warm-up
      const t0 = performance.now();
      await call(client);
      const ms = performance.now() - t0;
      progress({ status: "measure", backend, ms });
      return ms;
    };
    const [cpuMs, gpuMs] = [await time(cpu.client, "cpu"), await time(webgpu.client, "webgpu")];
    const [keep, drop, backend] = gpuMs < cpuMs ? [webgpu, cpu, "webgpu" as const] : [cpu, webgpu, "cpu" as const];
    drop.client.terminate();
    const reason = `measured ${backend} faster (${gpuMs.toFixed(1)} ms WebGPU vs ${cpuMs.toFixed(1)} ms CPU)`;
    progress({ status: "ready", backend, reason });
    return new Recommender(keep.client, source, personal, assetBase, backend, keep.catalog, reason);
  }

  /** A representative ranking request for the speed measurement. */
  private static probe({ catalog, probe }: Loaded) {
    const history = probe.map((itemId, i) => ({ itemId, scene: catalog.scenes[0], time: i }));
    return { history, scene: catalog.scenes[0], k: 20 };
  }

  /** Runs a call; if the wasm instance trapped or the worker died, starts a fresh one for the next call. */
  private async run<T>(
    method: Call["method"],
    args: any,
    { onProgress, onStart, transfer }: { onProgress?: (p: any) => void; onStart?: (id: number) => void; transfer?: Transferable[] } = {},
  ): Promise<T> {
    if (this.disposed) throw new Error("this recommender was disposed");
    const { id, done } = this.client.call<T>(method, args, onProgress, transfer);
    onStart?.(id);
    const outcome = await done.then((value) => ({ value }), (error: Error) => ({ error }));
    const note = this.client.broken && !this.disposed ? await this.recover() : null;
    if ("error" in outcome) throw note ? new Error(`${outcome.error.message}; ${note}`) : outcome.error;
    return outcome.value;
  }

  /** Replaces a broken worker, once however many calls saw it break. */
  private recover(): Promise<string | null> {
    this.recovering ??= this.restart().finally(() => (this.recovering = null));
    return this.recovering;
  }

  /**
   * A fresh worker with the current weights; if those are personal weights and they are what
   * fails, the shared model's instead (a bad personal file must not lock the user out). Returns
   * a note saying so in that case.
   */
  private async restart(): Promise<string | null> {
    this.client.terminate("the scenerec worker failed and was replaced; call again");
    let note: string | null = null;
    try {
      this.client = (await Recommender.start(this.source.files, this.personal, this.assetBase, this.backend)).client;
    } catch (e) {
      if (!this.personal) throw e;
      this.personal = undefined;
      this.client = (await Recommender.start(this.source.files, undefined, this.assetBase, this.backend)).client;
      note = `the personal weights could not be loaded again (${(e as Error).message}), so this recommender now uses the shared model`;
    }
    for (const args of this.added) await this.client.call("addItems", args).done;
    return note;
  }

  /**
   * The top `k` items of `scene` for this history, each with a score and an explanation. Without
   * a scene (omitted or `null`) the whole catalogue is ranked, for a page that is not one tab.
   */
  async recommend({ history, scene, k, exclude, now = Date.now() / 1000 }: RecommendOptions): Promise<Recommendation[]> {
    return this.run("recommend", { history, scene, k, exclude, now });
  }

  /**
   * Fusion scores of the given items for this history in `scene` (`null`: any scene), asked at
   * `now` (as in {@link recommend}).
   */
  async score(history: HistoryEvent[], scene: string | null, items: string[], now: number | null = Date.now() / 1000): Promise<Float32Array> {
    return this.run("score", { history, scene, items, now });
  }

  /** Fine-tunes on the device; cancel with `signal` (the previous weights are then kept). */
  async fineTune({ history, steps, batch, learningRate, seed, anchor, onProgress, signal }: FineTuneOptions): Promise<FineTuneResult> {
    if (signal?.aborted) throw new Error("fine-tuning was cancelled before it started");
    let running = 0;
    const abort = () => running && this.client.cancel(running);
    signal?.addEventListener("abort", abort);
    try {
      // Unset options are left out, so the engine's defaults apply (one place: FineTuneOptions,
      // which also bounds them); what is set must be a number, or it could not reach the worker.
      const options = Object.fromEntries(Object.entries({ steps, batch, learningRate, seed, anchor }).filter(([, v]) => v !== undefined));
      for (const [name, value] of Object.entries(options)) {
        if (typeof value !== "number") throw new Error(`${name} must be a number, not ${typeof value === "string" ? JSON.stringify(value) : typeof value}`);
      }
      const result = await this.run<FineTuneResult>("fineTune", { history, options }, {
        onProgress,
        onStart: (id) => (running = id),
      });
      if (result.completed) this.personal = await this.exportWeights();
      return result;
    } finally {
      signal?.removeEventListener("abort", abort);
    }
  }

  /**
   * Adds products the model has never seen: each is ranked from its text embedding, genres and
   * scene, as a new item is (the model learned to rank items from their text), so it can be
   * recommended at once. The items last as long as this Recommender; add them again after
   * loading the model anew (or export the model again with them in its catalogue).
   */
  async addItems(items: NewItem[]): Promise<void> {
    const added = await this.run<Item[]>("addItems", items);
    this.catalog.size += added.length;
    this.addedItems.push(...added);
    this.added.push(items);
  }

  /**
   * Every item with its title and genres, for display: the export's `catalog.json` (fetched on
   * the first call, and kept on the device with the model's other files), then the items added
   * with `addItems`. The engine ranks without it, so an app that shows its own product data
   * never needs it (a million items' catalog.json is about 66 MB, 6.5 MB compressed).
   */
  async items(): Promise<Item[]> {
    this.described ??= this.source.catalogJson().then((text) => {
      const items = JSON.parse(text)?.items;
      if (!Array.isArray(items)) throw new Error("catalog.json holds no items list");
      return items;
    });
    const items = await this.described.catch((e) => {
      this.described = null; // a later call tries again
      throw e;
    });
    return [...items, ...this.addedItems];
  }

  /**
   * The engine's linear memory in bytes (wasm memory only grows: a figure that keeps rising over
   * many calls is a leak). For monitoring; the soak benchmark reads it.
   */
  stats(): Promise<{ wasmMemoryBytes: number }> {
    return this.run("stats", {});
  }

  /** The current weights (personal after fine-tuning), loadable with `load({weights})`. */
  exportWeights(): Promise<Uint8Array> {
    return this.run("exportWeights", {});
  }

  /** @internal Test hook (kept out of the published types): traps the wasm instance. */
  trapForTests(): Promise<void> {
    return this.run("trapForTests", {});
  }

  /** @internal Test hook (kept out of the published types): blocks the worker for `ms`, as a long compile does. */
  stallForTests(ms: number): Promise<void> {
    return this.run("stallForTests", { ms });
  }

  /** Frees the model and stops the worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.run("dispose", {}).catch(() => {});
    this.disposed = true;
    this.client.terminate();
  }
}
