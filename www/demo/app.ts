/**
 * The demo's state and the renders that follow from it. One `App` lives for the page; event
 * handlers change its history or model and call `refresh`.
 */

import { LocalStore, Recommender } from "scenerec";
import type { Catalog, DeviceChoice, HistoryEvent, Item, Recommendation, StoredWeights } from "scenerec";
import { $, browseRow, fill, h, historyRow, recRow, verb } from "./view";

/** Where the exported model is served (same origin). */
export const MODEL_URL = new URL("model/", location.href).href;
const SHOWN = 20;
const BROWSED = 30;

export class App {
  history: HistoryEvent[] = [];
  /** The open tab: a scene, or null for "All", which ranks the whole catalogue. */
  scene: string | null = null;
  /** What the personal weights in use are ("fine-tuned on 12 events"), or null for the shared model. */
  personal: string | null;
  /** How long the model took to load, and the last ranking / click-to-screen update. */
  loadMs: number;
  rankMs: number | null = null;
  updateMs: number | null = null;
  /** Every movie with its title and genres (`catalog.json`, then the new arrivals). */
  readonly items: Item[];
  private byId: Map<string, Item>;
  /** Ratings per movie in the training log; absent for new arrivals, which have none. */
  private popularity: Map<string, number>;
  private rankSeq = 0;

  constructor(
    public rec: Recommender,
    public store: LocalStore | null,
    readonly device: DeviceChoice,
    items: Item[],
    counts: number[],
    history: HistoryEvent[],
    personal: string | null,
    loadMs: number,
  ) {
    this.items = items;
    this.byId = new Map(items.map((item) => [item.id, item]));
    this.popularity = new Map(counts.map((n, i) => [items[i]?.id, n]));
    this.history = history.filter((e) => this.byId.has(e.itemId));
    if (this.history.length < history.length) showError(`${history.length - this.history.length} stored events name movies this model does not know; they are kept but not used.`);
    this.personal = personal;
    this.loadMs = loadMs;
  }

  get catalog(): Catalog {
    return this.rec.catalog;
  }

  /** The open tab in words: "Comedy", or "all scenes". */
  get sceneLabel(): string {
    return this.scene ?? "all scenes";
  }

  item(id: string): Item | undefined {
    return this.byId.get(id);
  }

  inHistory(id: string): boolean {
    return this.history.some((e) => e.itemId === id);
  }

  /** Records a click or a like, in the item's own scene, and re-ranks. */
  async record(itemId: string, action: "interact" | "like") {
    const item = this.byId.get(itemId);
    if (!item) return;
    const event: HistoryEvent = { itemId, scene: this.catalog.scenes[item.scene], action, time: Math.floor(Date.now() / 1000) };
    this.history = [...this.history, event];
    this.store?.addEvent(event).catch((e) => showError(e.message));
    await this.timedRefresh();
  }

  async remove(itemId: string) {
    this.history = this.history.filter((e) => e.itemId !== itemId);
    this.store?.removeItem(itemId).catch((e) => showError(e.message));
    await this.timedRefresh();
  }

  private async timedRefresh() {
    const t0 = performance.now();
    await this.refresh();
    this.updateMs = performance.now() - t0;
    $("#recs").setAttribute("data-update-ms", this.updateMs.toFixed(1));
    this.renderStatus();
  }

  /** Renders everything that depends on the history, the scene or the model. */
  async refresh() {
    this.renderTabs();
    this.renderBrowse();
    this.renderHistory();
    this.renderStatus();
    await this.renderRecs();
  }

  /** The model's top items for the open tab (the whole catalogue on "All"). */
  async ranking(k = SHOWN): Promise<Recommendation[]> {
    const t0 = performance.now();
    const recs = await this.rec.recommend({ history: this.history, scene: this.scene, k });
    this.rankMs = performance.now() - t0;
    return recs;
  }

  private popular(items: Item[], n: number): Item[] {
    return [...items].sort((a, b) => (this.popularity.get(b.id) ?? 0) - (this.popularity.get(a.id) ?? 0)).slice(0, n);
  }

  private because(r: Recommendation): string | null {
    if (!r.because) return null;
    const event = [...this.history].reverse().find((e) => e.itemId === r.because!.itemId);
    const title = this.byId.get(r.because.itemId)?.title ?? r.because.itemId;
    return `because you ${verb(event?.action)} ${title} in ${r.because.scene}`;
  }

  private async renderRecs() {
    const seq = ++this.rankSeq;
    $("#recs-title").textContent = this.scene ? `Recommended for you in ${this.scene}` : "Recommended for you across all scenes";
    if (this.history.length === 0) {
      fill($("#recs"), [h("li", { class: "empty" }, `Nothing to go on yet. Mark a few movies you know as Watched or ♥ Like — in the Browse list or by searching — and your recommendations for ${this.sceneLabel} appear here, computed on this device.`)]);
      $("#recs").setAttribute("data-kind", "empty");
      $("#recs-note").textContent = "";
      return;
    }
    const recs = await this.ranking();
    if (seq !== this.rankSeq) return; // a newer refresh overtook this one
    fill($("#recs"), recs.map((r, i) => recRow(this.catalog, this.byId.get(r.itemId)!, r, i + 1, this.because(r), this.scene === null)));
    $("#recs").setAttribute("data-kind", "model");
    const scenes = new Set(this.history.map((e) => e.scene)).size;
    $("#recs-note").textContent =
      `Ranked all ${this.sceneItems().filter((i) => !this.inHistory(i.id)).length.toLocaleString("en")} unseen movies of ${this.sceneLabel} ` +
      `from your ${this.history.length} events in ${scenes} scene${scenes > 1 ? "s" : ""}, in ${this.rankMs!.toFixed(1)} ms.`;
  }

  private sceneItems(): Item[] {
    if (this.scene === null) return this.items;
    const s = this.catalog.scenes.indexOf(this.scene);
    return this.items.filter((item) => item.scene === s);
  }

  renderBrowse() {
    const query = ($("#search") as HTMLInputElement).value.trim().toLowerCase();
    const items = query ? this.popular(this.items.filter((i) => i.title.toLowerCase().includes(query)), BROWSED) : this.popular(this.sceneItems(), BROWSED);
    $("#browse-title").textContent = query ? `Search: ${items.length === BROWSED ? `top ${BROWSED}` : items.length} result${items.length === 1 ? "" : "s"}` : `Browse ${this.sceneLabel} — most rated`;
    const rows = items.map((item) => browseRow(this.catalog, item, this.popularity.get(item.id) ?? null, this.inHistory(item.id), query !== ""));
    fill($("#browse"), rows.length ? rows : [h("li", { class: "empty" }, "No movie title contains that.")]);
  }

  private renderHistory() {
    $("#history-count").textContent = this.history.length ? `(${this.history.length})` : "";
    const rows = [...this.history].reverse().map((e) => historyRow(this.byId.get(e.itemId)!, e));
    fill($("#history"), rows.length ? rows : [h("li", { class: "empty" }, "Nothing yet: mark movies as watched or liked.")]);
  }

  renderTabs() {
    const counts = new Map<string, number>();
    for (const e of this.history) counts.set(e.scene, (counts.get(e.scene) ?? 0) + 1);
    const tab = (scene: string | null) =>
      h(
        "button",
        { type: "button", role: "tab", class: "tab", "data-scene": scene ?? "", "aria-selected": String(scene === this.scene) },
        scene ?? "All",
        scene && counts.get(scene) ? h("span", { class: "count" }, String(counts.get(scene))) : null,
      );
    // "All" (no scene: the whole catalogue, ranked by the model's any-scene query), then each scene.
    fill($("#tabs"), [tab(null), ...this.catalog.scenes.map(tab)]);
  }

  renderStatus() {
    const backend = this.rec.backend === "webgpu" ? "WebGPU" : "CPU (WebAssembly)";
    const parts = [
      `Running on ${backend} — ${this.rec.reason === "requested" ? `chosen by ?device=${this.device}` : this.rec.reason}`,
      `model loaded in ${Math.round(this.loadMs)} ms`,
      this.rankMs !== null ? `last ranking ${this.rankMs.toFixed(1)} ms` : null,
      this.updateMs !== null ? `last click to new list ${this.updateMs.toFixed(0)} ms` : null,
      this.personal ? `personal weights (${this.personal})` : "shared model weights",
    ];
    $("#status").textContent = parts.filter(Boolean).join(" · ");
    $("#status").setAttribute("data-backend", this.rec.backend);
  }
}

/** Shows a message in the page's alert line (click it to dismiss). */
export function showError(message: string) {
  const el = $("#error");
  el.textContent = message;
  el.hidden = false;
}

/**
 * Loads the model (with the personal weights when they load), adds the new arrivals (built
 * with `scenerec embed-items`: ranked from their text at once), and measures how long it took.
 */
export async function loadModel(device: DeviceChoice, personal: StoredWeights | null, onStatus: (text: string) => void): Promise<{ rec: Recommender; ms: number; personalUsed: boolean }> {
  const loaded = await loadShared(device, personal, onStatus);
  const arrivals = await fetch(new URL("new-items.json", MODEL_URL)).then((r) => (r.ok ? r.json() : []), () => []);
  if (arrivals.length) await loaded.rec.addItems(arrivals).catch((e) => showError(`The new arrivals could not be added: ${e.message}`));
  return loaded;
}

async function loadShared(device: DeviceChoice, personal: StoredWeights | null, onStatus: (text: string) => void): Promise<{ rec: Recommender; ms: number; personalUsed: boolean }> {
  const t0 = performance.now();
  const onProgress = (p: any) => {
    if (p.status === "download") onStatus(`Downloading ${p.file}: ${(p.loaded / 1e6).toFixed(1)}${p.total ? ` of ${(p.total / 1e6).toFixed(1)}` : ""} MB…`);
    else if (p.status === "init") onStatus(`Starting the model on ${p.backend === "webgpu" ? "WebGPU" : "CPU"}…`);
  };
  const load = (weights?: Uint8Array) => Recommender.load({ model: MODEL_URL, device, weights, onProgress });
  if (personal) {
    try {
      return { rec: await load(personal.bytes), ms: performance.now() - t0, personalUsed: true };
    } catch (e: any) {
      showError(`Your saved personal weights do not load with this model (${e.message}); using the shared model. They are kept: export or delete them below.`);
    }
  }
  return { rec: await load(), ms: performance.now() - t0, personalUsed: false };
}
