/**
 * Local storage of what scenerec knows about a user: their history and their personal
 * (fine-tuned) weights, in IndexedDB, on this device only.
 *
 *   const store = await LocalStore.open();
 *   await store.addEvent(event);
 *   await store.saveWeights(await rec.exportWeights());
 *   const file = await store.exportAll();   // a Blob the user can download
 *   await store.destroy();                  // everything gone
 *
 * Weights are saved in two steps: the new bytes go to a new record, then one transaction points
 * `current` at it and deletes the old record. A tab closed at any moment therefore leaves either
 * the old or the new weights readable, never a half-written mix; an orphan record left by an
 * interrupted save is removed the next time the store opens.
 */

import type { HistoryEvent } from "./types.js";

const DB_VERSION = 1;
const EVENTS = "events";
const WEIGHTS = "weights";
const META = "meta";
const CURRENT = "currentWeights";

/** Personal weights as stored. */
export interface StoredWeights {
  bytes: Uint8Array;
  /** Milliseconds since the epoch. */
  savedAt: number;
  /** What produced them, e.g. "fine-tuned on 12 events". */
  note: string;
}

/** What is stored, for a privacy panel. */
export interface StorageSummary {
  events: number;
  weightsBytes: number | null;
  weightsSavedAt: number | null;
  /** Whether the browser promised not to evict this origin's data (`navigator.storage.persist`). */
  persisted: boolean;
  /** The origin's usage and quota in bytes, where the browser reports them. */
  usage: number | null;
  quota: number | null;
}

/** The file `exportAll` produces (JSON). */
export interface ExportedData {
  format: "scenerec-local-data";
  version: 1;
  exportedAt: string;
  history: HistoryEvent[];
  weights: { savedAt: number; note: string; base64: string } | null;
}

/** A storage failure, with `quota` set when the browser refused for lack of space. */
export class StorageError extends Error {
  readonly quota: boolean;
  constructor(message: string, quota: boolean) {
    super(message);
    this.name = "StorageError";
    this.quota = quota;
  }
}

function storageError(what: string, cause: DOMException | Error | null): StorageError {
  const quota = cause?.name === "QuotaExceededError";
  const why = quota
    ? "the browser's storage quota for this site is used up (free disk space, or export and delete local data)"
    : (cause?.message ?? "unknown IndexedDB error");
  return new StorageError(`could not ${what}: ${why}`, quota);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Runs `body` in one transaction; resolves with its value once the transaction committed. */
function transact<T>(db: IDBDatabase, stores: string[], mode: IDBTransactionMode, what: string, body: (tx: IDBTransaction) => Promise<T> | T): Promise<T> {
  return new Promise((resolve, reject) => {
    let tx: IDBTransaction;
    try {
      tx = db.transaction(stores, mode);
    } catch (e: any) {
      return reject(storageError(what, e));
    }
    let value: T;
    tx.oncomplete = () => resolve(value);
    tx.onerror = () => reject(storageError(what, tx.error));
    tx.onabort = () => reject(storageError(what, tx.error));
    Promise.resolve()
      .then(() => body(tx))
      .then((v) => (value = v))
      .catch((e) => {
        try {
          tx.abort();
        } catch {
          // already finished: its own handlers report
        }
        reject(e instanceof StorageError ? e : storageError(what, e));
      });
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export class LocalStore {
  private constructor(
    private db: IDBDatabase,
    readonly name: string,
  ) {}

  /** Opens (creating if needed) the store named `name` and removes records an interrupted save left. */
  static async open(name = "scenerec"): Promise<LocalStore> {
    if (!globalThis.indexedDB) throw new StorageError("could not open local storage: this browser has no IndexedDB", false);
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(EVENTS)) db.createObjectStore(EVENTS, { autoIncrement: true });
      if (!db.objectStoreNames.contains(WEIGHTS)) db.createObjectStore(WEIGHTS);
      if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
    };
    const db = await request(req).catch((e) => {
      throw storageError("open local storage", e);
    });
    // Another tab deleting or upgrading the database must not be blocked by this one.
    db.onversionchange = () => db.close();
    const store = new LocalStore(db, name);
    await store.removeOrphans();
    return store;
  }

  private async removeOrphans() {
    await transact(this.db, [WEIGHTS, META], "readwrite", "tidy local storage", async (tx) => {
      const current = await request(tx.objectStore(META).get(CURRENT));
      const keys = await request(tx.objectStore(WEIGHTS).getAllKeys());
      for (const key of keys) if (key !== current) tx.objectStore(WEIGHTS).delete(key);
    });
  }

  /** The history, oldest first. */
  history(): Promise<HistoryEvent[]> {
    return transact(this.db, [EVENTS], "readonly", "read the history", (tx) => request(tx.objectStore(EVENTS).getAll()));
  }

  async addEvent(event: HistoryEvent): Promise<void> {
    await transact(this.db, [EVENTS], "readwrite", "save the history", (tx) => {
      tx.objectStore(EVENTS).add(event);
    });
  }

  /** Removes the events of one item (the user un-did a click). */
  async removeItem(itemId: string): Promise<void> {
    await transact(this.db, [EVENTS], "readwrite", "save the history", async (tx) => {
      const events = tx.objectStore(EVENTS);
      const keys = await request(events.getAllKeys());
      const values = await request(events.getAll());
      values.forEach((e: HistoryEvent, i) => e.itemId === itemId && events.delete(keys[i]));
    });
  }

  /** The personal weights, or null when none were saved. */
  weights(): Promise<StoredWeights | null> {
    return transact(this.db, [WEIGHTS, META], "readonly", "read the personal weights", async (tx) => {
      const current = await request(tx.objectStore(META).get(CURRENT));
      if (current === undefined) return null;
      return ((await request(tx.objectStore(WEIGHTS).get(current))) as StoredWeights | undefined) ?? null;
    });
  }

  /** Saves new personal weights; the previous ones stay readable until the new ones are complete. */
  async saveWeights(bytes: Uint8Array, note: string): Promise<void> {
    const key = `w-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const record: StoredWeights = { bytes: bytes.slice(), savedAt: Date.now(), note };
    await transact(this.db, [WEIGHTS], "readwrite", "save the personal weights", (tx) => {
      tx.objectStore(WEIGHTS).put(record, key);
    });
    await transact(this.db, [WEIGHTS, META], "readwrite", "switch to the new personal weights", async (tx) => {
      const old = await request(tx.objectStore(META).get(CURRENT));
      tx.objectStore(META).put(key, CURRENT);
      if (old !== undefined) tx.objectStore(WEIGHTS).delete(old);
    });
  }

  /** Forgets the personal weights (the shared model is used again). */
  async discardWeights(): Promise<void> {
    await transact(this.db, [WEIGHTS, META], "readwrite", "delete the personal weights", (tx) => {
      tx.objectStore(META).delete(CURRENT);
      tx.objectStore(WEIGHTS).clear();
    });
  }

  /** Asks the browser not to evict this data under storage pressure; true when granted. */
  async persist(): Promise<boolean> {
    const storage = globalThis.navigator?.storage;
    if (!storage?.persist) return false;
    return (await storage.persisted()) || (await storage.persist().catch(() => false));
  }

  async summary(): Promise<StorageSummary> {
    const [history, weights] = await Promise.all([this.history(), this.weights()]);
    const storage = globalThis.navigator?.storage;
    const estimate = storage?.estimate ? await storage.estimate().catch(() => null) : null;
    return {
      events: history.length,
      weightsBytes: weights?.bytes.length ?? null,
      weightsSavedAt: weights?.savedAt ?? null,
      persisted: storage?.persisted ? await storage.persisted().catch(() => false) : false,
      usage: estimate?.usage ?? null,
      quota: estimate?.quota ?? null,
    };
  }

  /** Everything stored, as a JSON file the user can keep. */
  async exportAll(): Promise<Blob> {
    const [history, weights] = await Promise.all([this.history(), this.weights()]);
    const data: ExportedData = {
      format: "scenerec-local-data",
      version: 1,
      exportedAt: new Date().toISOString(),
      history,
      weights: weights && { savedAt: weights.savedAt, note: weights.note, base64: toBase64(weights.bytes) },
    };
    return new Blob([JSON.stringify(data)], { type: "application/json" });
  }

  /** Deletes the whole database; this store cannot be used afterwards. */
  async destroy(): Promise<void> {
    this.db.close();
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(this.name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(storageError("delete local data", req.error));
      // Other tabs close their connection on `versionchange` (see `open`), then this succeeds.
    });
  }
}
