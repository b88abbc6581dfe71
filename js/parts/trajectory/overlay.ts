/**
 * The trajectory card's SVG overlay (js/views/trajectory.ts): axes and their labels, the
 * start/hover/cursor marks and the time legend under the plot.
 */
import { svg, uniqueId } from "../../render/dom";

export interface Overlay {
  xAxisG: SVGGElement;
  yAxisG: SVGGElement;
  xLabel: SVGTextElement;
  yLabel: SVGTextElement;
  startMark: SVGCircleElement;
  hoverMark: SVGCircleElement;
  cursorDot: SVGCircleElement;
  grad: SVGLinearGradientElement;
  legendStart: SVGTextElement;
  legendBar: SVGRectElement;
  legendEnd: SVGTextElement;
  legendGrey: SVGTextElement;
}

/** Build the overlay's elements into `s` (in paint order). */
export function createOverlay(s: SVGSVGElement): Overlay {
  const gradId = uniqueId("lstmviz-traj-grad");
  const o: Overlay = {
    xAxisG: svg("g", { class: "lstmviz-axis lstmviz-axis-x" }),
    yAxisG: svg("g", { class: "lstmviz-axis lstmviz-axis-y" }),
    xLabel: svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }),
    yLabel: svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }),
    startMark: svg("circle", { class: "lstmviz-traj-start", r: 4, visibility: "hidden" }),
    hoverMark: svg("circle", { class: "lstmviz-traj-hover", r: 5, visibility: "hidden" }),
    cursorDot: svg("circle", { class: "lstmviz-traj-cursor", r: 6, visibility: "hidden" }),
    grad: svg("linearGradient", { id: gradId, x1: 0, y1: 0, x2: 1, y2: 0 }),
    legendStart: svg("text", { class: "lstmviz-axis-label", "text-anchor": "end" }),
    legendBar: svg("rect", { class: "lstmviz-legend-bar", width: 90, height: 8, fill: `url(#${gradId})` }),
    legendEnd: svg("text", { class: "lstmviz-axis-label" }),
    legendGrey: svg("text", { class: "lstmviz-axis-label" }),
  };
  const defs = svg("defs");
  defs.append(o.grad);
  const legendG = svg("g", { class: "lstmviz-traj-legend" });
  legendG.append(o.legendStart, o.legendBar, o.legendEnd, o.legendGrey);
  s.append(defs, o.xAxisG, o.yAxisG, o.xLabel, o.yLabel, legendG, o.startMark, o.hoverMark, o.cursorDot);
  return o;
}

/** The legend "t = 0 ▭ len−1 (grey: other samples)" at (x0, y), its bar in `ramp`. */
export function drawTimeLegend(
  o: Overlay,
  x0: number,
  y: number,
  len: number,
  ramp: (f: number) => string,
  others: boolean,
): void {
  o.grad.replaceChildren();
  for (let i = 0; i < 12; i++) {
    const f = i / 11;
    o.grad.append(svg("stop", { offset: `${(f * 100).toFixed(1)}%`, "stop-color": ramp(f) }));
  }
  o.legendStart.textContent = "t = 0";
  o.legendStart.setAttribute("x", String(x0 - 4));
  o.legendStart.setAttribute("y", String(y));
  o.legendBar.setAttribute("x", String(x0));
  o.legendBar.setAttribute("y", String(y - 8));
  o.legendEnd.textContent = `${Math.max(0, len - 1)}`;
  o.legendEnd.setAttribute("x", String(x0 + 94));
  o.legendEnd.setAttribute("y", String(y));
  o.legendGrey.textContent = others ? "grey: other samples" : "";
  o.legendGrey.setAttribute("x", String(x0 + 94 + 8 + 7 * String(len - 1).length + 10));
  o.legendGrey.setAttribute("y", String(y));
}
