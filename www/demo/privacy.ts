/** The privacy card: what this browser stores, export as a file, delete everything. */

import { LocalStore } from "scenerec";
import { App, loadModel, showError } from "./app";
import { $, fill, h } from "./view";

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export async function renderPrivacy(app: App) {
  if (!app.store) {
    fill($("#stored"), [h("dt", {}, "Storage"), h("dd", {}, "IndexedDB is not available: nothing is kept after this tab closes.")]);
    return;
  }
  const s = await app.store.summary();
  const row = (term: string, text: string, id: string) => [h("dt", {}, term), h("dd", { id }, text)];
  fill($("#stored"), [
    ...row("History", `${s.events} event${s.events === 1 ? "" : "s"} (movie, scene, watched or liked, time)`, "stored-events"),
    ...row("Personal weights", s.weightsBytes ? `${mb(s.weightsBytes)}, saved ${new Date(s.weightsSavedAt!).toLocaleString()}` : "none (the shared model is used)", "stored-weights"),
    ...row("Kept until", s.persisted ? "you delete it (the browser granted persistent storage)" : "you delete it, or the browser clears site data under storage pressure", "stored-persisted"),
    ...row("Space used", s.usage !== null && s.quota !== null ? `${mb(s.usage)} of the ${mb(s.quota)} this site may use` : "not reported by this browser", "stored-usage"),
  ]);
}

export async function exportData(app: App) {
  if (!app.store) return showError("Nothing is stored in this browser.");
  const blob = await app.store.exportAll();
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: `scenerec-my-data-${new Date().toISOString().slice(0, 10)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Deletes the stored history and weights, and goes back to the shared model. */
export async function deleteData(app: App) {
  if (!confirm("Delete your history and personal weights from this browser? This cannot be undone.")) return;
  try {
    await app.store?.destroy();
    app.store = await LocalStore.open().catch(() => null);
    app.history = [];
    if (app.personal) {
      await app.rec.dispose();
      const { rec } = await loadModel(app.device, null, () => {});
      app.rec = rec;
      app.personal = null;
    }
    $("#compare").hidden = true;
    $("#loss").hidden = true;
    $("#progress").hidden = true;
    $("#finetune-status").textContent = "Your history and personal weights were deleted from this browser.";
    await app.refresh();
    await renderPrivacy(app);
  } catch (e: any) {
    showError(`Could not delete local data: ${e.message}`);
  }
}
