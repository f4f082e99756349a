/** Messages between the page-side Recommender and its Web Worker. */

import type { Backend } from "./types.js";

export interface Call {
  id: number;
  method: "load" | "recommend" | "score" | "fineTune" | "cancel" | "ping" | "stats" | "exportWeights" | "addItems" | "dispose" | "trapForTests" | "stallForTests";
  args: any;
}

export type Reply =
  | { id: number; ok: true; value: any }
  | { id: number; ok: false; error: string; trapped: boolean }
  | { id: number; progress: { step: number; steps: number; loss: number } }
  | { id: 0; pong: true };

export interface LoadArgs {
  weights: Uint8Array;
  /** Personal weights, put in over `weights`. */
  personal?: Uint8Array;
  /** catalog.bin */
  catalog: Uint8Array;
  itemVectors: Uint8Array;
  backend: Backend;
}
