/** The "fine-tune on my device" card: progress, loss curve, cancel, before/after, saving the weights. */

import type { Recommendation } from "scenerec";
import { App, showError } from "./app";
import { drawLoss } from "./chart";
import { $, comparison, fill } from "./view";

const COMPARED = 10;

let running: AbortController | null = null;

export function cancelFineTune() {
  running?.abort();
}

export async function fineTune(app: App) {
  if (running) return;
  const status = $("#finetune-status");
  if (app.history.length < 2) {
    status.textContent = "Mark at least two movies first: fine-tuning learns from your history.";
    return;
  }
  const button = $<HTMLButtonElement>("#finetune");
  const cancel = $("#cancel");
  const progress = $<HTMLProgressElement>("#progress");
  const chart = $<SVGSVGElement>("#loss-chart");
  running = new AbortController();
  button.disabled = true;
  cancel.hidden = false;
  progress.hidden = false;
  progress.value = 0;
  $("#loss").hidden = false;
  $("#compare").hidden = true;
  const losses: number[] = [];
  drawLoss(chart, losses, 1);
  try {
    const before: Recommendation[] = await app.ranking(COMPARED);
    const t0 = performance.now();
    status.textContent = `Training on your ${app.history.length} events…`;
    const result = await app.rec.fineTune({
      history: app.history,
      signal: running.signal,
      onProgress: ({ step, steps, loss }) => {
        losses.push(loss);
        progress.value = step / steps;
        status.textContent = `Step ${step} of ${steps} · loss ${loss.toFixed(3)} · ${((performance.now() - t0) / step).toFixed(0)} ms per step`;
        drawLoss(chart, losses, steps);
      },
    });
    if (!result.completed) {
      status.textContent = `Cancelled after ${result.losses.length} steps: the previous weights are kept.`;
      return;
    }
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    const note = `fine-tuned on ${app.history.length} events`;
    try {
      const bytes = await app.rec.exportWeights();
      await app.store?.saveWeights(bytes, note);
      app.personal = note;
      status.textContent = `Done in ${seconds} s on ${app.rec.backend === "webgpu" ? "WebGPU" : "CPU"}; your personal weights are saved in this browser.`;
    } catch (e: any) {
      app.personal = `${note}, not saved`;
      showError(`The personal weights work in this tab but were not saved: ${e.message}`);
    }
    const after = await app.ranking(COMPARED);
    const compare = $("#compare");
    fill(compare, comparison(new Map(app.items.map((i) => [i.id, i])), app.sceneLabel, before, after));
    compare.hidden = false;
    await app.refresh();
  } catch (e: any) {
    status.textContent = "";
    showError(`Fine-tuning failed: ${e.message}`);
  } finally {
    running = null;
    button.disabled = false;
    cancel.hidden = true;
  }
}
