/** The loss curve of a fine-tuning run, drawn as an SVG polyline (no chart library, no inline styles). */

const NS = "http://www.w3.org/2000/svg";
const W = 300;
const H = 100;
const PAD = 14;

function svg(tag: string, attrs: Record<string, string>): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

/** Redraws `chart` for `losses` over `steps` planned steps. */
export function drawLoss(chart: SVGSVGElement, losses: number[], steps: number) {
  chart.replaceChildren();
  if (losses.length === 0) return;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  const x = (i: number) => PAD + (i / Math.max(steps - 1, 1)) * (W - 2 * PAD);
  const y = (v: number) => PAD + (1 - (v - lo) / span) * (H - 2 * PAD);
  chart.append(svg("line", { x1: String(PAD), y1: String(H - PAD), x2: String(W - PAD), y2: String(H - PAD), class: "axis" }));
  chart.append(svg("polyline", { points: losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), class: "curve" }));
  const label = (text: string, yy: number) => {
    const t = svg("text", { x: String(W - PAD), y: String(yy), "text-anchor": "end", class: "label" });
    t.textContent = text;
    chart.append(t);
  };
  label(`loss ${losses[0].toFixed(2)} → ${losses[losses.length - 1].toFixed(2)}`, 11);
  label(`step ${losses.length} of ${steps}`, H - 2);
}
