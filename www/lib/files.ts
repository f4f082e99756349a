/**
 * Where a model's files come from: the network, or the device.
 *
 * `scenerec export` writes `manifest.json` beside the model files, naming each one's SHA-256.
 * With it, the files are kept in Cache Storage under those hashes:
 * - a revisit loads them from the device, and so does a visit while offline (the last
 *   manifest is kept too);
 * - a new model version downloads only the files whose hash changed, and replaces the old one
 *   atomically: the new manifest is stored only once every file the engine needs is, and only
 *   then are the old version's files deleted, so a visit cut short leaves the old version whole;
 * - a download, or a cache entry, that does not match its hash is never used;
 * - a full disk (or any other failure to store) is reported through `onProgress` and the load
 *   goes on from the network.
 * Without a manifest (an older export), without Cache Storage (a page that is not a secure
 * context) or with `cache: false`, the files are fetched as they are.
 *
 * The engine needs three files; `catalog.json` (titles and genres, for display) is fetched only
 * when the page asks for it (`rec.items()`), through the same cache.
 */

import type { LoadOptions, ModelFiles, ProgressEvent } from "./types.js";

const CACHE = "scenerec-models-v1";
const ENGINE_FILES = ["model.weights", "catalog.bin", "item_vectors.bin"] as const;
const DISPLAY_FILE = "catalog.json";
const FILES = [...ENGINE_FILES, DISPLAY_FILE] as const;
/** The export layout this version reads (`scenerec export` writes it into manifest.json). */
const FORMAT = 3;
type Name = (typeof FILES)[number];

interface Manifest {
  files: Record<Name, { sha256: string; bytes: number }>;
}

/** A model's files, and its display catalogue when the page wants it. */
export interface Source {
  files: ModelFiles;
  /** `catalog.json`'s text, fetched (or read from the cache) on the first call. */
  catalogJson: () => Promise<string>;
}

/** `url` as a directory (with a trailing slash), so files resolve inside it. */
export const directory = (url: string | URL) => (url.toString().endsWith("/") ? url.toString() : `${url}/`);

/** The model's own files, fetched or given (personal `options.weights` are the caller's to apply). */
export async function resolveFiles(options: LoadOptions): Promise<Source> {
  const m = options.model;
  if (typeof m === "string" || m instanceof URL) {
    const dir = await ModelDirectory.open(new URL(directory(m), globalThis.location?.href), options);
    const [weights, catalog, itemVectors] = await Promise.all(ENGINE_FILES.map((name) => dir.get(name)));
    await dir.complete();
    let json: Promise<string> | null = null;
    const catalogJson = () => (json ??= dir.get(DISPLAY_FILE).then((bytes) => new TextDecoder().decode(bytes)));
    return { files: { weights, catalog, itemVectors }, catalogJson };
  }
  if (m && typeof (m as any).catalog === "string") {
    throw new Error("model.catalog must be the export's catalog.bin bytes (a Uint8Array); catalog.json's text is optional, as model.catalogJson");
  }
  if (m && m.weights instanceof Uint8Array && m.catalog instanceof Uint8Array && m.itemVectors instanceof Uint8Array) {
    const catalogJson = async () => {
      if (typeof m.catalogJson !== "string") throw new Error("no catalog.json was given: pass its text as model.catalogJson to use items()");
      return m.catalogJson;
    };
    return { files: m, catalogJson };
  }
  throw new Error("model must be a URL of an exported model directory or {weights, catalog, itemVectors} as Uint8Arrays");
}

/** `response` if it is a success, else an error naming `url`. */
function ok(response: Response, url: URL): Response {
  if (!response.ok) throw new Error(`cannot fetch ${url.href}: HTTP ${response.status}`);
  return response;
}

async function fetchBytes(url: URL, onProgress?: (e: ProgressEvent) => void): Promise<Uint8Array> {
  const response = ok(await fetch(url), url);
  const total = Number(response.headers.get("content-length")) || null;
  const file = url.pathname.split("/").pop() ?? url.href;
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new Uint8Array(await new Blob(chunks as BlobPart[]).arrayBuffer());
    chunks.push(value);
    loaded += value.length;
    onProgress?.({ status: "download", file, loaded, total });
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The site's model cache, or `null` where there is none (or caching is off). */
async function openCache(options: LoadOptions): Promise<Cache | null> {
  if (options.cache === false || !globalThis.caches || !globalThis.crypto?.subtle) return null;
  return caches.open(CACHE).catch(() => null);
}

function parseManifest(value: any, url: URL): Manifest {
  if (value?.format !== FORMAT) {
    throw new Error(`${url.href} is model format ${value?.format ?? "unknown"}; this scenerec reads format ${FORMAT}: export the model again with this version's \`scenerec export\``);
  }
  const bad = FILES.find((name) => !/^[0-9a-f]{64}$/.test(value?.files?.[name]?.sha256));
  if (bad) throw new Error(`${url.href} names no SHA-256 for ${bad}`);
  return value;
}

/** The manifest from the network; offline, the last one stored; `null` if the export has none. */
async function manifestOf(url: URL, cache: Cache | null): Promise<Manifest | null> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-cache" });
  } catch (offline) {
    const stored = await cache?.match(url.href);
    if (!stored) throw offline;
    return parseManifest(await stored.json(), url);
  }
  return response.status === 404 ? null : parseManifest(await ok(response, url).json(), url);
}

/** Stores `bytes` under `key`; returns why it could not, or `null`. */
async function store(cache: Cache, key: string, bytes: Uint8Array): Promise<string | null> {
  try {
    await cache.put(key, new Response(bytes as BodyInit));
    return null;
  } catch (e: any) {
    return e?.name === "QuotaExceededError" ? "the storage quota for this site is used up: the model is downloaded again next time" : `${e?.message ?? e}`;
  }
}

/** One exported model directory: its manifest, and its files from the cache or the network. */
class ModelDirectory {
  /** Whether every file fetched so far is on the device. */
  private allStored: boolean;

  private constructor(
    private readonly base: URL,
    private readonly manifest: Manifest | null,
    private readonly cache: Cache | null,
    private readonly progress: (e: ProgressEvent) => void,
  ) {
    this.allStored = cache !== null;
  }

  static async open(base: URL, options: LoadOptions): Promise<ModelDirectory> {
    const cache = await openCache(options);
    const manifest = await manifestOf(new URL("manifest.json", base), cache);
    return new ModelDirectory(base, manifest, cache, options.onProgress ?? (() => {}));
  }

  /** The cache key of each file of this version. */
  private key(name: Name): string {
    return new URL(`${name}?sha256=${this.manifest!.files[name].sha256}`, this.base).href;
  }

  async get(name: Name): Promise<Uint8Array> {
    const url = new URL(name, this.base);
    if (!this.manifest) return fetchBytes(url, this.progress);
    const want = this.manifest.files[name].sha256;
    const hit = await this.cache?.match(this.key(name));
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await sha256(bytes)) === want) {
        this.progress({ status: "cache", file: name, from: "device" });
        return bytes;
      }
      await this.cache?.delete(this.key(name)); // damaged on the device: fetch it again
    }
    const bytes = await fetchBytes(url, this.progress);
    if (globalThis.crypto?.subtle && (await sha256(bytes)) !== want) {
      throw new Error(`${url.href} does not match manifest.json (SHA-256 ${want})`);
    }
    if (!this.cache) return bytes;
    const failed = await store(this.cache, this.key(name), bytes);
    if (failed) this.allStored = false;
    this.progress({ status: "cache", file: name, from: "network", stored: !failed, ...(failed ? { error: failed } : {}) });
    return bytes;
  }

  /**
   * Once the engine's files are fetched: if all of them are on the device, stores the manifest
   * and deletes any other version's files here.
   */
  async complete(): Promise<void> {
    const { cache, manifest, base } = this;
    if (!cache || !manifest || !this.allStored) return;
    const manifestUrl = new URL("manifest.json", base);
    if ((await store(cache, manifestUrl.href, new TextEncoder().encode(JSON.stringify(manifest)))) !== null) return;
    const keys = FILES.map((name) => this.key(name));
    for (const request of await cache.keys()) {
      const url = new URL(request.url);
      if (url.href.startsWith(base.href) && url.searchParams.has("sha256") && !keys.includes(url.href)) await cache.delete(request);
    }
  }
}
