// What a page does with the package: load the model, rank for a one-event history, show it.
// The test reads the result from the page (data-state "ranked" or "failed", and #out).
import { Recommender } from "scenerec";

const out = document.querySelector("#out");
const params = new URLSearchParams(location.search);
try {
  const rec = await Recommender.load({ model: "/model/", device: "cpu", assetBase: params.get("assetBase") ?? undefined });
  const [item] = await rec.items();
  const history = [{ itemId: item.id, scene: rec.catalog.scenes[item.scene], time: 1 }];
  const items = await rec.recommend({ history, k: 5 });
  out.textContent = JSON.stringify({ backend: rec.backend, items: items.map((r) => r.itemId) });
  document.body.dataset.state = "ranked";
} catch (e) {
  out.textContent = String(e?.message ?? e);
  document.body.dataset.state = "failed";
}
