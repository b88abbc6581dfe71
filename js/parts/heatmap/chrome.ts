/**
 * The heatmap panel's chrome (js/parts/heatmap/panel.ts): its elements, their layout, the time
 * and unit axes, the hover/selection/brush marks over the plot, and putting the image on the
 * canvas.
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { clamp, integerTicks, type TimeWindow } from "../../math/layout";
import { SORT_LABELS } from "../../math/ordering";
import { windowTicks } from "../../math/zoom";
import { html, svg } from "../../render/dom";
import type { ViewState } from "../../store";

export interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

const MASK_FILL = "rgba(128, 128, 128, 0.78)";

export interface PanelElements {
  row: HTMLDivElement;
  plot: HTMLDivElement;
  canvas: HTMLCanvasElement;
  axes: SVGSVGElement;
  caption: SVGTextElement;
  xAxisG: SVGGElement;
  yAxisG: SVGGElement;
  xLabel: SVGTextElement;
  yLabel: SVGTextElement;
  shadeG: SVGGElement;
  selG: SVGGElement;
  hoverOuter: SVGRectElement;
  hoverInner: SVGRectElement;
  band: HTMLDivElement;
  cursor: HTMLDivElement;
  tooltip: HTMLDivElement;
}

/** The panel's row (plot box with canvas, axes, brush band, cursor and tooltip), into `container`. */
export function createPanelElements(
  container: HTMLElement,
  name: string,
  M: Margin,
  compact: boolean,
  showX: boolean,
): PanelElements {
  const row = html("div", `lstmviz-heatmap-row${compact ? " lstmviz-heatmap-compact" : ""}`);
  row.dataset.panel = name;
  const plot = html("div", "lstmviz-heatmap");
  const canvas = html("canvas", "lstmviz-heatmap-canvas");
  const axes = svg("svg", { class: "lstmviz-heatmap-axes" });
  const caption = svg("text", { class: "lstmviz-caption", x: M.left, y: compact ? 11 : 11 });
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "timestep",
  });
  const yLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "unit",
  });
  const shadeG = svg("g", { class: "lstmviz-brush-marks" });
  const selG = svg("g", { class: "lstmviz-selected-marks" });
  const hoverOuter = svg("rect", { class: "lstmviz-hover-row-outer", visibility: "hidden" });
  const hoverInner = svg("rect", { class: "lstmviz-hover-row", visibility: "hidden" });
  axes.append(caption, xAxisG, yAxisG, shadeG, selG, hoverOuter, hoverInner);
  if (!compact) axes.append(xLabel, yLabel);
  const band = html("div", "lstmviz-brush-band");
  band.title = "Drag to select a time range (rows are then ranked by it); double-click to clear";
  band.hidden = !showX;
  const cursor = html("div", "lstmviz-cursor");
  cursor.setAttribute("aria-hidden", "true");
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(canvas, axes, band, cursor, tooltip);
  row.append(plot);
  container.append(row);
  const els = { row, plot, canvas, axes, caption, xAxisG, yAxisG, xLabel, yLabel, shadeG, selG };
  return { ...els, hoverOuter, hoverInner, band, cursor, tooltip };
}

/** Size the plot box, canvas, axes and brush band for a `width` × `height` plot. */
export function layoutElements(e: PanelElements, M: Margin, width: number, height: number, compact: boolean): void {
  const total = height + M.top + M.bottom;
  e.plot.style.height = `${total}px`;
  e.axes.setAttribute("width", String(width + M.left + M.right));
  e.axes.setAttribute("height", String(total));
  e.canvas.style.left = `${M.left}px`;
  e.canvas.style.top = `${M.top}px`;
  e.canvas.style.width = `${width}px`;
  e.canvas.style.height = `${height}px`;
  e.band.style.left = `${M.left}px`;
  e.band.style.top = `${M.top + height}px`;
  e.band.style.width = `${width}px`;
  e.band.style.height = `${Math.max(0, M.bottom - (compact ? 2 : 14))}px`;
  e.xLabel.setAttribute("x", String(M.left + width / 2));
  e.xLabel.setAttribute("y", String(M.top + height + 32));
  e.yLabel.setAttribute("transform", `translate(12, ${M.top + height / 2}) rotate(-90)`);
}

/** Tick rows of a y axis of `units` rows `height` px tall in `order`, labelled by unit id. */
function rowTicks(order: Int32Array, natural: boolean, height: number, compact: boolean): number[] {
  const U = order.length;
  const rowH = height / Math.max(1, U);
  if (natural) return integerTicks(U, height, compact ? 26 : 22);
  if (rowH >= (compact ? 9 : 11)) return Array.from({ length: U }, (_, r) => r);
  if (compact) return [];
  const every = Math.ceil(12 / rowH);
  const out: number[] = [];
  for (let r = 0; r < U; r += every) out.push(r);
  return out;
}

/** The time axis of window `w` under the plot (emptied when `showX` is false). */
export function drawXAxis(
  xAxisG: SVGGElement,
  M: Margin,
  w: TimeWindow,
  width: number,
  height: number,
  showX: boolean,
): void {
  xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + height})`);
  if (!showX) {
    xAxisG.replaceChildren();
    return;
  }
  const x = scaleLinear()
    .domain([w[0] - 0.5, w[1] - 0.5])
    .range([0, width]);
  select(xAxisG).call(
    axisBottom(x)
      .tickValues(windowTicks(w, width, 70))
      .tickFormat((v) => String(v))
      .tickSizeOuter(0),
  );
}

/** The unit axis in `order` and its title (which says the sort mode). */
export function drawYAxis(
  e: PanelElements,
  M: Margin,
  order: Int32Array,
  sortMode: ViewState["sortMode"],
  height: number,
  compact: boolean,
): void {
  const U = order.length;
  const natural = sortMode === "natural" || order.every((u, r) => u === r);
  const y = scaleLinear()
    .domain([-0.5, U - 0.5])
    .range([0, height]);
  e.yAxisG.setAttribute("transform", `translate(${M.left - 7}, ${M.top})`);
  select(e.yAxisG).call(
    axisLeft(y)
      .tickValues(rowTicks(order, natural, height, compact))
      .tickFormat((r) => String(order[r as number]))
      .tickSizeOuter(0),
  );
  e.yLabel.textContent = natural ? "unit" : `unit (by ${SORT_LABELS[sortMode]})`;
}

/** Hover row, selected-unit marks and the brushed range over a `width` × `height` plot. */
export function drawMarks(
  e: PanelElements,
  M: Margin,
  s: Readonly<ViewState>,
  U: number,
  rowOf: Int32Array,
  w: TimeWindow,
  width: number,
  height: number,
): void {
  const rowH = height / Math.max(1, U);
  const { hoverUnit, selectedUnits } = s;
  for (const r of [e.hoverOuter, e.hoverInner]) {
    if (hoverUnit === null || hoverUnit >= U || width <= 0) {
      r.setAttribute("visibility", "hidden");
      continue;
    }
    r.setAttribute("visibility", "visible");
    r.setAttribute("x", String(M.left + 0.5));
    r.setAttribute("y", String(M.top + rowOf[hoverUnit] * rowH));
    r.setAttribute("width", String(Math.max(0, width - 1)));
    r.setAttribute("height", String(Math.max(1, rowH)));
  }
  e.selG.replaceChildren();
  for (const u of selectedUnits) {
    if (u >= U) continue;
    e.selG.append(
      svg("rect", {
        class: "lstmviz-selected-mark",
        x: M.left - 5,
        y: M.top + rowOf[u] * rowH,
        width: 4,
        height: Math.max(2, rowH),
      }),
    );
  }
  drawBrush(e.shadeG, M, s.brush, w, width, height);
}

/** The brushed range: the rest of the window is dimmed, the range is framed, and a bar in the
 *  axis band marks it. */
function drawBrush(
  shadeG: SVGGElement,
  M: Margin,
  b: ViewState["brush"],
  w: TimeWindow,
  width: number,
  height: number,
): void {
  shadeG.replaceChildren();
  if (!b || width <= 0) return;
  const span = w[1] - w[0];
  const xa = clamp(((b[0] - w[0]) / span) * width, 0, width);
  const xb = clamp(((b[1] - w[0]) / span) * width, 0, width);
  const x0 = M.left;
  const y0 = M.top;
  const dim = (from: number, to: number): void => {
    if (to - from > 0.5) {
      shadeG.append(svg("rect", { class: "lstmviz-brush-dim", x: x0 + from, y: y0, width: to - from, height }));
    }
  };
  dim(0, xa);
  dim(xb, width);
  if (xb > xa || (b[1] > w[0] && b[0] < w[1])) {
    const wBand = Math.max(1, xb - xa);
    shadeG.append(
      svg("rect", { class: "lstmviz-brush", x: x0 + xa, y: y0, width: wBand, height }),
      svg("rect", {
        class: "lstmviz-brush-bar",
        x: x0 + xa,
        y: y0 + height + 1,
        width: wBand,
        height: 3,
      }),
    );
  }
}

/** What `blit` draws: this part of this image shows the steps `imageWin`. */
export interface ImagePart {
  image: CanvasImageSource;
  sx: number;
  sw: number;
  sh: number;
}

/**
 * Put the offscreen image on the canvas, scaled so that its window `imageWin` lands where it
 * belongs in the current one `w` (exact when they are the same), then shade the padding from
 * step `len` on.
 */
export function blit(
  ctx: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  source: ImagePart | null,
  imageWin: TimeWindow,
  w: TimeWindow,
  width: number,
  height: number,
  len: number,
): void {
  const dpr = window.devicePixelRatio || 1;
  const cw = Math.max(1, Math.round(width * dpr));
  const ch = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== cw) canvas.width = cw;
  if (canvas.height !== ch) canvas.height = ch;
  const span = w[1] - w[0];
  const dx = ((imageWin[0] - w[0]) / span) * cw;
  const dw = ((imageWin[1] - imageWin[0]) / span) * cw;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, cw, ch);
  if (source) ctx.drawImage(source.image, source.sx, 0, source.sw, source.sh, dx, 0, dw, ch);
  if (len < w[1]) {
    const x0 = Math.max(0, Math.round(((len - w[0]) / span) * cw));
    ctx.fillStyle = MASK_FILL;
    ctx.fillRect(x0, 0, cw - x0, ch);
  }
}
