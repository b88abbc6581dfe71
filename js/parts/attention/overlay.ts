/**
 * The attention card's SVG overlay (js/views/attention.ts): key/query axes and labels, the
 * colour legend beside the heatmap, the row chart's axis and the cursor-row highlight.
 */
import { axisBottom, axisLeft, axisRight } from "d3-axis";
import { format } from "d3-format";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { shortLabel, type AxisLink } from "../../math/attention-grid";
import type { DecodedAttention } from "../../codecs";
import { svg, uniqueId } from "../../render/dom";
import { integerTicks } from "../../math/layout";
import { NAN_COLOR, sequentialInterpolator, type ColorScale } from "../../math/scales";

/** Margins of the heatmap inside the plot box (CSS px). */
export const ATTENTION_MARGIN = { top: 16, right: 58, left: 50, bottom: 8 } as const;
const M = ATTENTION_MARGIN;
export const LEGEND_BAR = 10;

/** Colour domain: [0, max of the sample's matrix], each row over its own max, or [0, 1]. */
export type ColorMode = "max" | "row" | "one";

export interface Matrix {
  /** The (head or mean) weights. */
  m: Float32Array;
  /** Row factors applied before colouring (each row over its max), or null. */
  rowScale: Float32Array | null;
  max: number;
  scale: ColorScale;
  nonFinite: boolean;
}

/** Plot geometry in CSS px (relative to the plot box). */
export interface Geom {
  width: number;
  heat: number;
  chartTop: number;
  total: number;
}

export interface Overlay {
  xAxisG: SVGGElement;
  yAxisG: SVGGElement;
  chartAxisG: SVGGElement;
  xLabel: SVGTextElement;
  yLabel: SVGTextElement;
  chartLabel: SVGTextElement;
  rowOuter: SVGRectElement;
  rowInner: SVGRectElement;
  rowTick: SVGPathElement;
  legendTitle: SVGTextElement;
  legendBar: SVGRectElement;
  legendAxisG: SVGGElement;
  legendNote: SVGTextElement;
  legendNaN: SVGGElement;
}

/** Build the overlay's elements into `s` (in paint order). */
export function createOverlay(s: SVGSVGElement): Overlay {
  const o: Overlay = {
    xAxisG: svg("g", { class: "lstmviz-axis lstmviz-axis-x" }),
    yAxisG: svg("g", { class: "lstmviz-axis lstmviz-axis-y" }),
    chartAxisG: svg("g", { class: "lstmviz-axis lstmviz-axis-y" }),
    xLabel: svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }),
    yLabel: svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }),
    chartLabel: svg("text", { class: "lstmviz-axis-label lstmviz-attn-chart-label" }),
    rowOuter: svg("rect", { class: "lstmviz-attn-row-outer", visibility: "hidden" }),
    rowInner: svg("rect", { class: "lstmviz-attn-row", visibility: "hidden" }),
    rowTick: svg("path", { class: "lstmviz-attn-row-tick", visibility: "hidden" }),
    legendTitle: svg("text", { class: "lstmviz-legend-title", "text-anchor": "start" }),
    legendBar: svg("rect", { class: "lstmviz-legend-bar", width: LEGEND_BAR }),
    legendAxisG: svg("g", { class: "lstmviz-axis lstmviz-legend-axis" }),
    legendNote: svg("text", { class: "lstmviz-attn-legend-note" }),
    legendNaN: svg("g", { class: "lstmviz-legend-extras" }),
  };
  const gradId = uniqueId("lstmviz-attn-grad");
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: gradId, x1: 0, y1: 1, x2: 0, y2: 0 });
  for (let i = 0; i < 16; i++) {
    const t = i / 15;
    grad.append(svg("stop", { offset: `${(t * 100).toFixed(1)}%`, "stop-color": sequentialInterpolator(t) }));
  }
  defs.append(grad);
  o.legendTitle.textContent = "weight";
  o.legendBar.setAttribute("fill", `url(#${gradId})`);
  s.append(
    defs,
    o.xAxisG,
    o.yAxisG,
    o.chartAxisG,
    o.xLabel,
    o.yLabel,
    o.chartLabel,
    o.rowOuter,
    o.rowInner,
    o.rowTick,
    o.legendTitle,
    o.legendBar,
    o.legendAxisG,
    o.legendNote,
    o.legendNaN,
  );
  return o;
}

/** Key axis (tokens when `toks`), query axis and their labels. */
export function drawAxes(
  o: Overlay,
  geom: Geom,
  a: DecodedAttention,
  links: { q: AxisLink; k: AxisLink },
  toks: string[] | null,
): void {
  const { width, heat } = geom;
  const { q, k } = links;
  const x = scaleLinear()
    .domain([-0.5, a.tk - 0.5])
    .range([0, width]);
  const y = scaleLinear()
    .domain([-0.5, a.tq - 0.5])
    .range([0, heat]);
  let xTicks: number[];
  let fmt: (v: number) => string;
  if (toks) {
    let longest = 1;
    for (const t of toks) longest = Math.max(longest, Math.min(8, t.length));
    xTicks = integerTicks(a.tk, width, longest * 6.5 + 8);
    fmt = (v) => shortLabel(toks[v] ?? "", 8);
  } else {
    xTicks = integerTicks(a.tk, width, 44);
    fmt = (v) => String(v);
  }
  o.xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + heat})`);
  select(o.xAxisG).call(
    axisBottom(x)
      .tickValues(xTicks)
      .tickFormat((v) => fmt(Number(v)))
      .tickSizeOuter(0),
  );
  o.xAxisG.classList.toggle("lstmviz-attn-tokens", toks !== null);
  o.yAxisG.setAttribute("transform", `translate(${M.left - 3}, ${M.top})`);
  select(o.yAxisG).call(
    axisLeft(y)
      .tickValues(integerTicks(a.tq, heat, 20))
      .tickFormat((v) => String(v))
      .tickSizeOuter(0),
  );
  const keyName = k.layer ? k.layer.name : (a.keySource ?? "");
  const qName = q.layer ? q.layer.name : (a.querySource ?? "");
  o.xLabel.textContent = `key step${toks ? " (token)" : ""}${keyName ? ` · ${keyName}` : ""}`;
  o.xLabel.setAttribute("x", String(M.left + width / 2));
  o.xLabel.setAttribute("y", String(M.top + heat + 32));
  o.yLabel.textContent = `query step${qName ? ` · ${qName}` : ""}`;
  o.yLabel.setAttribute("transform", `translate(9, ${M.top + heat / 2}) rotate(-90)`);
}

/** The legend: a vertical bar beside the heatmap over the colour domain of `mat`. */
export function drawLegend(o: Overlay, geom: Geom, mat: Matrix, colorMode: ColorMode): void {
  const { width, heat } = geom;
  const lx = M.left + width + 12;
  o.legendTitle.textContent = colorMode === "row" ? "relative" : "weight";
  o.legendTitle.setAttribute("x", String(lx - 2));
  o.legendTitle.setAttribute("y", String(M.top - 5));
  o.legendBar.setAttribute("x", String(lx));
  o.legendBar.setAttribute("y", String(M.top));
  o.legendBar.setAttribute("height", String(heat));
  const ly = scaleLinear()
    .domain(mat.scale.domain)
    .range([M.top + heat, M.top]);
  o.legendAxisG.setAttribute("transform", `translate(${lx + LEGEND_BAR}, 0)`);
  const span = mat.scale.domain[1];
  const lf = format(span >= 2 ? ".1f" : span >= 0.02 ? ".2~f" : ".1~e");
  select(o.legendAxisG).call(
    axisRight(ly)
      .ticks(Math.max(2, Math.min(5, Math.floor(heat / 40))))
      .tickSize(3)
      .tickFormat((v) => lf(Number(v))),
  );
  // the domain's top is this (sample, head)'s largest weight, not 1
  const note = { max: ["0 … max", "of sample"], row: ["÷ max of", "each row"], one: ["absolute", "0 … 1"] }[colorMode];
  o.legendNote.replaceChildren(
    ...note.map((text, i) => Object.assign(svg("tspan", { x: lx - 2, dy: i * 10 }), { textContent: text })),
  );
  o.legendNote.setAttribute("y", String(M.top + heat + 12));
  o.legendNaN.replaceChildren();
  if (mat.nonFinite) {
    const yy = M.top + heat + 38;
    o.legendNaN.append(
      svg("rect", { class: "lstmviz-legend-nan", x: lx, y: yy - 8, width: 10, height: 10, fill: NAN_COLOR }),
      Object.assign(svg("text", { x: lx + 13, y: yy }), { textContent: "NaN" }),
    );
  }
}

/** Move the cursor-row highlight to `row` of `tq` rows (hidden when null or no width). */
export function placeRowHighlight(o: Overlay, geom: Geom, tq: number, row: number | null): void {
  const vis = row === null || geom.width <= 0 ? "hidden" : "visible";
  for (const r of [o.rowOuter, o.rowInner, o.rowTick]) r.setAttribute("visibility", vis);
  if (row === null) return;
  const rh = geom.heat / tq;
  const h = Math.max(2, rh);
  const y = M.top + (row + 0.5) * rh - h / 2;
  for (const r of [o.rowOuter, o.rowInner]) {
    r.setAttribute("x", String(M.left - 1));
    r.setAttribute("y", String(y));
    r.setAttribute("width", String(geom.width + 2));
    r.setAttribute("height", String(h));
  }
  const yc = M.top + (row + 0.5) * rh;
  o.rowTick.setAttribute("d", `M${M.left + geom.width + 1},${yc} l6,-4 v8 z`);
}
