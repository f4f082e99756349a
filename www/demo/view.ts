/** DOM building blocks of the demo page: no state, only elements from data. */

import type { Catalog, HistoryEvent, Item, Recommendation } from "scenerec";

type Child = Node | string | null | undefined | false;

/** The page's element for `selector` (the page's markup is fixed: index.html). */
export const $ = <T extends Element = HTMLElement>(selector: string) => document.querySelector(selector) as T;

/** `h("li", { class: "x", "data-item": id }, child, …)`: an element with attributes and children. */
export function h(tag: string, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === true) el.setAttribute(k, "");
    else if (typeof v === "string") el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Puts `children` into `el` in place of what it held. */
export function fill(el: Element, children: Child[]) {
  el.replaceChildren(...(children.filter((c) => c !== null && c !== undefined && c !== false) as (Node | string)[]));
}

export const verb = (action: HistoryEvent["action"]) => (action === "like" ? "liked" : "watched");

/** Genre names of an item, e.g. "Comedy · Romance". */
export function genreLine(catalog: Catalog, item: Item): string {
  return item.genres.map((g) => catalog.genres[g]).join(" · ");
}

/** The two buttons that record an event for an item, or one that removes it from the history. */
export function actions(itemId: string, inHistory: boolean): HTMLElement {
  if (inHistory) return h("div", { class: "actions" }, h("button", { type: "button", "data-act": "remove", "data-item": itemId, title: "Remove from your history" }, "✓ In history — undo"));
  return h(
    "div",
    { class: "actions" },
    h("button", { type: "button", "data-act": "interact", "data-item": itemId }, "Watched"),
    h("button", { type: "button", "data-act": "like", "data-item": itemId, class: "like" }, "♥ Like"),
  );
}

/** One row of a ranked list: rank, title, genres, score and why. */
/** A recommended item; `showScene` adds its scene (on the All tab). */
export function recRow(catalog: Catalog, item: Item, rec: Recommendation, rank: number, because: string | null, showScene: boolean): HTMLElement {
  return h(
    "li",
    { "data-item": item.id },
    h("span", { class: "rank" }, String(rank)),
    h(
      "div",
      { class: "body" },
      h("div", { class: "title" }, item.title),
      h("div", { class: "meta" }, `${showScene ? `${catalog.scenes[item.scene]} · ` : ""}${genreLine(catalog, item)}`),
      because ? h("div", { class: "why" }, because) : null,
    ),
    h("span", { class: "score", title: "model score (higher ranks first)" }, rec.score.toFixed(2)),
    actions(item.id, false),
  );
}

/** One row of the browse list or of search results. */
/** `popularity`: ratings in the training log; `null` for a new arrival, which the model ranks from its text. */
export function browseRow(catalog: Catalog, item: Item, popularity: number | null, inHistory: boolean, showScene: boolean): HTMLElement {
  const scene = showScene ? `${catalog.scenes[item.scene]} · ` : "";
  return h(
    "li",
    { "data-item": item.id },
    h(
      "div",
      { class: "body" },
      h("div", { class: "title" }, item.title),
      h("div", { class: "meta" }, `${scene}${genreLine(catalog, item)} · ${popularity === null ? "new arrival, ranked from its title and genres" : `${popularity.toLocaleString("en")} ratings`}`),
    ),
    actions(item.id, inHistory),
  );
}

/** One history row: what was done, where, and a button to undo it. */
export function historyRow(item: Item, event: HistoryEvent): HTMLElement {
  return h(
    "li",
    { "data-item": item.id },
    h("div", { class: "body" }, h("div", { class: "title" }, item.title), h("div", { class: "meta" }, `${verb(event.action)} in ${event.scene}`)),
    h("button", { type: "button", "data-act": "remove", "data-item": item.id, title: "Remove from your history", "aria-label": `Remove ${item.title}` }, "×"),
  );
}

/** Before/after columns of a re-ranking, with each item's move. */
export function comparison(byId: Map<string, Item>, scene: string, before: Recommendation[], after: Recommendation[]): HTMLElement[] {
  const was = new Map(before.map((r, i) => [r.itemId, i]));
  const column = (title: string, list: Recommendation[], moves: boolean) =>
    h(
      "div",
      {},
      h("h3", {}, title),
      h(
        "ol",
        { class: "items compact" },
        ...list.map((r, i) => {
          const old = was.get(r.itemId);
          const move = !moves ? "" : old === undefined ? "new" : old > i ? `↑${old - i}` : old < i ? `↓${i - old}` : "=";
          const item = byId.get(r.itemId);
          return h("li", { "data-item": r.itemId }, h("span", { class: "rank" }, String(i + 1)), h("div", { class: "body" }, h("div", { class: "title" }, item?.title ?? r.itemId)), moves ? h("span", { class: "move" }, move) : null);
        }),
      ),
    );
  return [h("p", { class: "note" }, `Top ${after.length} in ${scene}, with the shared model and after fine-tuning:`), column("Before", before, false), column("After", after, true)];
}
