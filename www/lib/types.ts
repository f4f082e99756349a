/** Public types of the scenerec package. */

/** One interaction the page recorded. `time` is in seconds since the epoch. */
export interface HistoryEvent {
  itemId: string;
  scene: string;
  action?: "like" | "interact";
  time: number;
}

/** Why an item was recommended: the most similar item of the history and where it was seen. */
export interface Because {
  itemId: string;
  scene: string;
}

/** A ranked item, by id: titles and images are the app's to show (or see `items()`). */
export interface Recommendation {
  itemId: string;
  score: number;
  because?: Because;
}

/** An item as `catalog.json` describes it, for display (see `Recommender.items()`). */
export interface Item {
  id: string;
  title: string;
  /** Indices into `catalog.genres`. */
  genres: number[];
  /** Index into `catalog.scenes`. */
  scene: number;
}

/** What the engine ranks over: scene and genre names, the number of items, and what a scene ranks. */
export interface Catalog {
  scenes: string[];
  genres: string[];
  /** Items in the engine, those added with `addItems` included. */
  size: number;
  /**
   * `"tabs"`: each item lives in one scene, and `recommend({ scene })` ranks that scene's items;
   * `"surfaces"`: scenes are where the user is (browse, search, cart), and a scene ranks every
   * item. Decided by `scenerec prepare` from the data.
   */
  sceneKind: "tabs" | "surfaces";
}

/** The files `scenerec export` writes, as bytes / text. */
export interface ModelFiles {
  /** model.weights: the user-side layers. */
  weights: Uint8Array;
  /** catalog.bin: item ids and scenes, what the engine ranks with. */
  catalog: Uint8Array;
  /** item_vectors.bin: every item's vector, quantised. */
  itemVectors: Uint8Array;
  /** catalog.json's text: titles and genres, only needed for `items()`. */
  catalogJson?: string;
}

/** A product the model has never seen, ranked from its text embedding (see `addItems`). */
export interface NewItem {
  id: string;
  /**
   * The scene (tab) it belongs to; on surfaces (`catalog.sceneKind`), where every scene ranks
   * every item, the surface it is expected to be met on most (an input of its vector).
   */
  scene: string;
  /** Genre names of the catalogue. */
  genres?: string[];
  /** Shown in recommendations (default: the id). */
  title?: string;
  /**
   * The item's text embedding from the language model the catalogue's items were embedded
   * with (all-MiniLM-L6-v2 for the default model: 384 values, unit length), computed on your
   * server or in the browser.
   */
  textEmbedding: Float32Array | number[];
}

export type DeviceChoice = "auto" | "webgpu" | "cpu";
export type Backend = "webgpu" | "cpu";

/** Progress events, keyed on `status`. */
export type ProgressEvent =
  | { status: "download"; file: string; loaded: number; total: number | null }
  /** Where a model file came from; `stored: false` with `error` when it could not be kept on the device. */
  | { status: "cache"; file: string; from: "device" | "network"; stored?: boolean; error?: string }
  | { status: "init"; backend: Backend }
  | { status: "measure"; backend: Backend; ms: number }
  | { status: "ready"; backend: Backend; reason: string };

export interface LoadOptions {
  /**
   * A base URL holding an export (manifest.json, model.weights, catalog.bin, item_vectors.bin
   * and catalog.json, which is fetched only if `items()` is called), or the files themselves.
   */
  model: string | URL | ModelFiles;
  /** Personal weights saved earlier (`exportWeights()`): the tuned layers, put in over model.weights. */
  weights?: Uint8Array;
  device?: DeviceChoice;
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Where a copy of the package's `worker.js`, `cpu/` and `webgpu/` is served, resolved against
   * the page (default: where the bundler put them, or next to `index.js` without a bundler).
   * On another origin they must be served with CORS, and the CSP's `worker-src` must allow
   * `blob:` and that origin.
   */
  assetBase?: string | URL;
  /**
   * Keep the model's files on the device (Cache Storage, keyed by the hashes in the export's
   * manifest.json), so revisits load from it and work offline (default true).
   */
  cache?: boolean;
}

export interface RecommendOptions {
  history: HistoryEvent[];
  /** The tab the user is in: only its items are ranked. Omitted or `null`: the whole catalogue. */
  scene?: string | null;
  k?: number;
  /** Item ids never to return (the history's items are always excluded). */
  exclude?: string[];
  /**
   * When the request is made, in seconds since the epoch like the history's times (default:
   * now). Models trained with `query_time` read the time since the last event (a user back
   * within minutes or after months); `null`: unknown. Other models ignore it.
   */
  now?: number | null;
}

export interface FineTuneOptions {
  history: HistoryEvent[];
  /** Adam steps (default 30). */
  steps?: number;
  /** Samples per step: events of the history, each predicted from the events before it (default 64). */
  batch?: number;
  /** Default 0.01. */
  learningRate?: number;
  seed?: number;
  /**
   * How strongly the tuned weights are held near the shared model's, so a short history cannot
   * be memorised (0: not at all; its pull weakens as the history grows). The default was chosen
   * on the benchmark's validation split; raise it if fine-tuning makes rankings worse.
   */
  anchor?: number;
  onProgress?: (event: { step: number; steps: number; loss: number }) => void;
  signal?: AbortSignal;
}

export interface FineTuneResult {
  losses: number[];
  /** false when cancelled through the signal (the previous weights are kept). */
  completed: boolean;
}
