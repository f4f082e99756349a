// The demo page's responsiveness, for bench-browser.mjs: time from navigation to the first
// model-ranked list on screen (assets cached, a 6-event history in IndexedDB, default device
// choice), and from a click to the re-ranked list on screen (CPU). Needs www/dist.
import { join } from "node:path";
import { serve } from "../serve.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measureDemo(browser, root, repeat) {
  const server = await serve(join(root, "www/dist"));
  const context = await browser.newContext();
  const page = await context.newPage();
  const ready = () => page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  await page.goto(`${server.url}/?device=cpu`);
  await ready();
  for (const [scene, n] of [["Comedy", 1], ["Comedy", 2], ["Action", 1], ["Action", 2], ["Sci-Fi", 1], ["Drama", 1]]) {
    await page.click(`.tab[data-scene="${scene}"]`);
    await page.click(`#browse li:nth-child(${n}) button[data-act=like]`);
  }
  await page.waitForSelector("#recs[data-kind=model]");

  const firstMs = [];
  for (let i = 0; i < repeat; i++) {
    await page.goto(`${server.url}/`);
    await ready();
    firstMs.push(await page.evaluate(() => performance.getEntriesByName("scenerec:first-recommendations")[0].startTime));
  }
  await page.goto(`${server.url}/?device=cpu`);
  await ready();
  const clickMs = [];
  for (let i = 0; i < repeat; i++) {
    // From the click event to the mutation that puts the new list on screen.
    clickMs.push(
      await page.evaluate(async (n) => {
        const recs = document.querySelector("#recs");
        const button = document.querySelector(`#browse li:nth-child(${n}) button[data-act]`);
        const done = new Promise((ok) => new MutationObserver((_, o) => (o.disconnect(), ok(performance.now()))).observe(recs, { childList: true }));
        const t0 = performance.now();
        button.click();
        return (await done) - t0;
      }, 3 + i),
    );
  }
  await context.close();
  server.close();
  return { first_recommendations_ms: median(firstMs), click_to_update_ms: median(clickMs), history_events: 6 };
}
