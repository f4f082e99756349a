// The package's IndexedDB store (pkg/storage.js) in headless Chromium: history and weights
// survive a reopen, an interrupted weights save never loses the last good weights, a quota
// failure is reported as such with the old weights intact, export holds everything, destroy
// removes it. Needs pkg/ (scripts/build-wasm.sh).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
let server, browser, page;

before(async () => {
  server = await serve(ROOT);
  browser = await launch();
  page = await browser.newPage();
  await page.goto(`${server.url}/www/tests/blank.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

const event = (itemId, time) => ({ itemId, scene: "Comedy", action: "like", time });

test("history and weights survive a reopen; export holds them; destroy removes them", async () => {
  const out = await page.evaluate(async (events) => {
    const { LocalStore } = await import("/pkg/index.js");
    let store = await LocalStore.open("t-roundtrip");
    for (const e of events) await store.addEvent(e);
    await store.saveWeights(new Uint8Array([1, 2, 3]), "first");
    await store.saveWeights(new Uint8Array([4, 5, 6, 7]), "second");
    await store.removeItem(events[1].itemId);
    store = await LocalStore.open("t-roundtrip");
    const history = await store.history();
    const weights = await store.weights();
    const summary = await store.summary();
    const exported = JSON.parse(await (await store.exportAll()).text());
    await store.destroy();
    const fresh = await LocalStore.open("t-roundtrip");
    const after = { history: await fresh.history(), weights: await fresh.weights() };
    await fresh.destroy();
    return { history, weights: weights && { bytes: [...weights.bytes], note: weights.note }, summary, exported, after };
  }, [event("a", 1), event("b", 2), event("c", 3)]);
  assert.deepEqual(out.history.map((e) => e.itemId), ["a", "c"], "events kept in order, the removed item gone");
  assert.deepEqual(out.weights, { bytes: [4, 5, 6, 7], note: "second" });
  assert.equal(out.summary.events, 2);
  assert.equal(out.summary.weightsBytes, 4);
  assert.equal(out.exported.format, "scenerec-local-data");
  assert.deepEqual(out.exported.history.map((e) => e.itemId), ["a", "c"]);
  assert.equal(out.exported.weights.base64, Buffer.from([4, 5, 6, 7]).toString("base64"));
  assert.deepEqual(out.after, { history: [], weights: null });
});

test("a save cut off before the swap leaves the last good weights, and its record is removed", async () => {
  const out = await page.evaluate(async () => {
    const { LocalStore } = await import("/pkg/index.js");
    const store = await LocalStore.open("t-interrupted");
    await store.saveWeights(new Uint8Array([9, 9]), "good");
    // What a tab closed between the two transactions of a save leaves: a new record, no swap.
    const raw = await new Promise((ok) => (indexedDB.open("t-interrupted").onsuccess = (e) => ok(e.target.result)));
    store["db"].close();
    await new Promise((ok) => {
      const tx = raw.transaction("weights", "readwrite");
      tx.objectStore("weights").put({ bytes: new Uint8Array([1]), savedAt: 0, note: "half" }, "w-orphan");
      tx.oncomplete = ok;
    });
    raw.close();
    const reopened = await LocalStore.open("t-interrupted");
    const weights = await reopened.weights();
    const raw2 = await new Promise((ok) => (indexedDB.open("t-interrupted").onsuccess = (e) => ok(e.target.result)));
    const keys = await new Promise((ok) => (raw2.transaction("weights").objectStore("weights").getAllKeys().onsuccess = (e) => ok(e.target.result)));
    raw2.close();
    await reopened.destroy();
    return { bytes: [...weights.bytes], note: weights.note, keys: keys.length };
  });
  assert.deepEqual(out, { bytes: [9, 9], note: "good", keys: 1 });
});

test("a quota failure rejects with a StorageError that says so, and the old weights stay", async () => {
  const out = await page.evaluate(async () => {
    const { LocalStore, StorageError } = await import("/pkg/index.js");
    const store = await LocalStore.open("t-quota");
    await store.saveWeights(new Uint8Array([7]), "old");
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException("the quota has been exceeded", "QuotaExceededError");
    };
    let error;
    try {
      await store.saveWeights(new Uint8Array(1000), "new");
    } catch (e) {
      error = { isStorageError: e instanceof StorageError, quota: e.quota, message: e.message };
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    const weights = await store.weights();
    await store.destroy();
    return { error, bytes: [...weights.bytes] };
  });
  assert.equal(out.error?.isStorageError, true);
  assert.equal(out.error.quota, true);
  assert.match(out.error.message, /could not save the personal weights: .*quota/);
  assert.deepEqual(out.bytes, [7]);
});
