/**
 * The scenerec demo: the ML-1M catalogue in scene tabs, a history kept in IndexedDB, live
 * ranking in a Web Worker, and fine-tuning on the device. Served with a strict CSP: the page
 * only ever talks to its own origin.
 */

import { LocalStore } from "scenerec";
import type { DeviceChoice, HistoryEvent, StoredWeights } from "scenerec";
import { App, MODEL_URL, loadModel, showError } from "./app";
import { cancelFineTune, fineTune } from "./finetune";
import { deleteData, exportData, renderPrivacy } from "./privacy";
import { $ } from "./view";

window.addEventListener("unhandledrejection", (e) => showError(String(e.reason?.message ?? e.reason)));
$("#error").addEventListener("click", () => ($("#error").hidden = true));

async function boot() {
  const device = (new URLSearchParams(location.search).get("device") ?? "auto") as DeviceChoice;
  const store = await LocalStore.open().catch((e) => {
    showError(`${e.message}. The demo works, but forgets everything when the tab closes.`);
    return null;
  });
  const [history, personal]: [HistoryEvent[], StoredWeights | null] = store ? await Promise.all([store.history(), store.weights()]) : [[], null];
  const popularity = fetch(new URL("popularity.json", MODEL_URL)).then((r) => (r.ok ? r.json() : { counts: [] }));
  const status = (text: string) => ($("#status").textContent = text);
  const { rec, ms, personalUsed } = await loadModel(device, personal, status);
  // Titles and genres to show (the engine ranks without them): catalog.json and the new arrivals.
  const items = await rec.items();
  const app = new App(rec, store, device, items, (await popularity).counts, history, personalUsed ? personal!.note : null, ms);
  app.scene = sceneInUrl(app.catalog.scenes);
  await app.refresh();
  performance.mark("scenerec:first-recommendations");
  document.body.setAttribute("data-ready", "true");
  store?.persist().then(() => renderPrivacy(app));
  await renderPrivacy(app);
  wire(app);
}

/** The open tab is kept in the URL's fragment (`#Comedy`), so a reload or a shared link opens it. */
function sceneInUrl(scenes: string[]): string | null {
  const scene = decodeURIComponent(location.hash.slice(1));
  return scenes.includes(scene) ? scene : null;
}

function wire(app: App) {
  document.addEventListener("click", async (e) => {
    const target = e.target as HTMLElement;
    const tab = target.closest<HTMLElement>("[data-scene]");
    if (tab) {
      app.scene = tab.dataset.scene || null;
      history.replaceState(null, "", app.scene ? `#${encodeURIComponent(app.scene)}` : location.pathname + location.search);
      ($("#search") as HTMLInputElement).value = "";
      return app.refresh();
    }
    const button = target.closest<HTMLElement>("button[data-act]");
    if (!button) return;
    const { act, item } = button.dataset;
    if (act === "remove") await app.remove(item!);
    else await app.record(item!, act as "interact" | "like");
    await renderPrivacy(app);
  });
  $("#search").addEventListener("input", () => app.renderBrowse());
  $("#finetune").addEventListener("click", () => fineTune(app).then(() => renderPrivacy(app)));
  $("#cancel").addEventListener("click", cancelFineTune);
  $("#export").addEventListener("click", () => exportData(app).catch((e) => showError(e.message)));
  $("#delete").addEventListener("click", () => deleteData(app));
}

boot().catch((e) => showError(`The demo could not start: ${e.message}`));
