/**
 * One heatmap panel: rows = units (in the store's sort order), columns = the steps of the
 * store's zoom window, for the current layer and sample. The main heatmap (views/heatmap.ts,
 * quantity from the store) and the gate small multiples (views/gates.ts, one fixed gate each)
 * are both panels.
 *
 * Level of detail: while the window's steps fit in the canvas's device-pixel columns each step
 * is a cell; beyond that each pixel column shows the extreme (min or max, whichever lies
 * farther from the colour scale's midpoint) of its steps, read from a min/max pyramid
 * (js/math/pyramid.ts, js/math/raster.ts `rasterizeWindow`), and the legend says "min/max per px".
 *
 * Cheap on scrub: a timestep change only moves the cursor element (synchronously, by
 * transform); the image is redrawn at the end of the task that changed the window, order,
 * sample, layer or quantity (Frame.soon: in that frame; on a cursor move only in the
 * "activation" sort mode, whose order depends on it). With fewer pixel rows than units the
 * units are folded into the rows once (FULL_ROWS_BUDGET): a zoom or pan then reads `rows`
 * values per step, exact windows are a part of the rows' full image, and whole-bucket columns
 * read the row-folded pyramid — the same pixels as rasterising the units.
 *
 * Pointer: click/drag scrubs; hover shows a tooltip and sets hoverUnit; Shift/Ctrl/⌘-click
 * toggles the unit in selectedUnits; Alt-drag on the plot or a drag in the time-axis band
 * under it brushes a time range (sortMode "brush"); a double-click on the band clears it.
 * Ctrl/⌘ + wheel zooms, Shift + wheel pans (js/math/zoom.ts).
 */
import { createImageSource } from "./image-source";
import { attachHeatmapPointer } from "./pointer";
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { type DecodedArray, type DecodedLayer, type DecodedPayload, findLayer, valueAt } from "../../codecs";
import { clamp, heatmapPlotHeight, integerTicks, stepToPx, type TimeWindow } from "../../math/layout";
import { rowsOf, SORT_LABELS, unitOrder } from "../../math/ordering";
import { minLevelFor, pyramidFor } from "../../math/pyramid";
import { imageColumnBounds, type WindowImageSize, windowImageSize } from "../../math/raster";

import { type ColorScale, colorScaleFor, formatValue, hasNonFinite } from "../../math/scales";
import { attachTimeNavigation } from "../timenav";
import { windowTicks } from "../../math/zoom";
import { createLegend, type Legend, LEGEND_WIDTH } from "../legend";
import { spend, takeTurn } from "../../render/budget";
import { context2d, html, markMover, quantityShort, svg } from "../../render/dom";
import { createFrame, observeResize } from "../../render/raf";
import type { StateKey, Store, ViewState } from "../../store";

/** Margins of the main heatmap's plot area inside its element, in CSS px. */
export const HEATMAP_MARGIN = { top: 22, right: 8, bottom: 36, left: 54 } as const;
/** Compact panels (gate small multiples): caption on top, the x axis only when asked for. */
export const COMPACT_MARGIN = { top: 16, right: 8, bottom: 24, left: 54 } as const;
const MASK_FILL = "rgba(128, 128, 128, 0.78)";

export interface HeatmapPanelOptions {
  /** Identifies the panel (`data-panel`), e.g. "heatmap" or "gate:forget". */
  name: string;
  /** Fixed quantity (a gate panel); default: the store's quantity. */
  quantity?: string;
  /** Plot height in CSS px for a layer of `units` units; default heatmapPlotHeight. */
  height?: (units: number) => number;
  /** Small margins, short caption, no axis titles. */
  compact?: boolean;
  /** Draw the time axis under the plot (default true). */
  xAxis?: boolean;
  /** Own colour legend in the right column (default true); false keeps the column empty. */
  legend?: boolean;
  /** Legend title (default: the quantity). */
  legendTitle?: string;
  /** Caption override (default: quantity · layer · sample). */
  caption?: (layer: DecodedLayer, quantity: string, sample: number) => string;
}

export interface HeatmapPanel {
  root: HTMLElement;
  /** Redraw now (tests and benchmarks; normally one animation frame after a change). */
  flush(): void;
  destroy(): void;
}

/** The legend's note for an aggregated window ("min/max per px", "48 steps/px"). */
export function aggregationNote(size: WindowImageSize, dpr: number): string[] {
  if (!size.aggregated) return [];
  const perCss = size.stepsPerColumn * dpr;
  const n = perCss >= 10 ? Math.round(perCss).toLocaleString("en-US") : perCss.toFixed(1);
  return ["min/max per px:", `${n} steps/px`];
}

const AGGREGATION_RULE =
  "More steps than pixels: each pixel column covers several steps and shows whichever of " +
  "their min and max lies farther from the middle of the colour scale, so a spike is never " +
  "lost; a NaN/Inf among them paints the column in the NaN colour. Zoom in (Ctrl/⌘ + wheel, " +
  "+ / −) to see every step.";

const nonFiniteCache = new WeakMap<Float32Array, boolean>();
/** Whether an array holds NaN/Inf (memoised: the scan runs once per array). */
function nonFinite(data: Float32Array): boolean {
  let v = nonFiniteCache.get(data);
  if (v === undefined) {
    v = hasNonFinite(data);
    nonFiniteCache.set(data, v);
  }
  return v;
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

export function createHeatmapPanel(
  container: HTMLElement,
  store: Store,
  payload: DecodedPayload,
  opts: HeatmapPanelOptions,
): HeatmapPanel {
  const T = payload.nSteps;
  const compact = opts.compact === true;
  const showX = opts.xAxis !== false;
  const M = compact ? { ...COMPACT_MARGIN, bottom: showX ? COMPACT_MARGIN.bottom : 4 } : HEATMAP_MARGIN;
  const plotHeight = opts.height ?? heatmapPlotHeight;

  const row = html("div", `lstmviz-heatmap-row${compact ? " lstmviz-heatmap-compact" : ""}`);
  row.dataset.panel = opts.name;
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
  let legend: Legend | null = null;
  if (opts.legend !== false) legend = createLegend(row);
  else {
    const spacer = html("div", "lstmviz-legend lstmviz-legend-empty");
    spacer.style.width = `${LEGEND_WIDTH}px`;
    row.append(spacer);
  }

  const ctx = context2d(canvas);
  /** What `blit` draws: this part of this image shows the steps `imageWin`. */
  let source: { image: CanvasImageSource; sx: number; sw: number; sh: number } | null = null;

  let plotWidth = plot.clientWidth; // then as the ResizeObserver reports it (see observeResize)
  let width = 0;
  let height = 0;
  let layer: DecodedLayer = findLayer(payload, store.state.layer);
  let order: Int32Array = unitOrder(payload, store.state);
  let rowOf: Int32Array = rowsOf(order);
  let size: WindowImageSize = windowImageSize(store.state.window, layer.units, 1, 1);
  // What the last draw used: a part is redrawn only when its inputs changed.
  let drawnImage = "";
  let drawnX = "";
  let drawnY = "";
  let drawnLayout = "";
  let imageOrder: Int32Array | null = null;
  let imageLayout = "";
  let deferred = 0; // frames the image has waited for the budget
  let yOrder: Int32Array | null = null;

  const quantityOf = (s: Readonly<ViewState>): string => opts.quantity ?? s.quantity;
  const current = (): { layer: DecodedLayer; q: string; arr: DecodedArray; scale: ColorScale } => {
    const s = store.state;
    const lyr = findLayer(payload, s.layer);
    const q = quantityOf(s);
    const arr = lyr.arrays.get(q) ?? lyr.arrays.get("h");
    if (!arr) throw new Error(`layer ${lyr.name} has no quantity ${q}`);
    return { layer: lyr, q: lyr.arrays.has(q) ? q : "h", arr, scale: colorScaleFor(arr, q) };
  };

  const win = (): TimeWindow => store.state.window;

  /** Cheap: runs synchronously on every timestep change. */
  const mark = markMover(cursor);
  const placeCursor = (): void => {
    const t = store.state.timestep;
    const w = win();
    cursor.dataset.timestep = String(t);
    const inside = t >= w[0] && t < w[1] && width > 0;
    mark.place(M.left + stepToPx(t, w, width) - 1, M.top - 2, height + 2, inside);
  };

  const layout = (c: ReturnType<typeof current>): void => {
    const s = store.state;
    height = Math.round(plotHeight(c.layer.units));
    width = Math.max(0, plotWidth - M.left - M.right);
    const total = height + M.top + M.bottom;
    plot.style.height = `${total}px`;
    axes.setAttribute("width", String(width + M.left + M.right));
    axes.setAttribute("height", String(total));
    canvas.style.left = `${M.left}px`;
    canvas.style.top = `${M.top}px`;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    band.style.left = `${M.left}px`;
    band.style.top = `${M.top + height}px`;
    band.style.width = `${width}px`;
    band.style.height = `${Math.max(0, M.bottom - (compact ? 2 : 14))}px`;
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(M.top + height + 32));
    yLabel.setAttribute("transform", `translate(12, ${M.top + height / 2}) rotate(-90)`);
    const dir = c.layer.direction ? ` (${c.layer.direction})` : "";
    const sampleText = payload.nSamples > 1 ? ` · sample ${s.sample}` : "";
    caption.textContent = opts.caption
      ? opts.caption(c.layer, c.q, s.sample)
      : `${quantityShort(c.q)} · ${c.layer.name}${dir}${sampleText}`;
  };

  const updateLegend = (c: ReturnType<typeof current>): void => {
    if (!legend) return;
    const s = store.state;
    legend.update({
      scale: c.scale,
      quantity: c.q,
      title: opts.legendTitle,
      top: M.top,
      height,
      totalHeight: height + M.top + M.bottom,
      showPadding: !compact && (c.layer.lengths[s.sample] ?? T) < T,
      showNaN: nonFinite(c.arr.data),
      note: aggregationNote(size, compact ? Math.min(window.devicePixelRatio || 1, 1) : window.devicePixelRatio || 1),
      noteTitle: AGGREGATION_RULE,
    });
  };

  const drawXAxis = (): void => {
    const w = win();
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
  };

  const drawYAxis = (): void => {
    const U = order.length;
    const natural = store.state.sortMode === "natural" || order.every((u, r) => u === r);
    const y = scaleLinear()
      .domain([-0.5, U - 0.5])
      .range([0, height]);
    yAxisG.setAttribute("transform", `translate(${M.left - 7}, ${M.top})`);
    select(yAxisG).call(
      axisLeft(y)
        .tickValues(rowTicks(order, natural, height, compact))
        .tickFormat((r) => String(order[r as number]))
        .tickSizeOuter(0),
    );
    yLabel.textContent = natural ? "unit" : `unit (by ${SORT_LABELS[store.state.sortMode]})`;
  };

  /** The window the offscreen image shows (for previews while a raster waits). */
  let imageWin: TimeWindow | null = null;

  /** Put the offscreen image on the canvas, scaled so that its window lands where it belongs in
   *  the current one (exact when they are the same), then shade the padding. */
  const blit = (c: ReturnType<typeof current>): void => {
    if (!ctx || !imageWin) return;
    const s = store.state;
    const w = win();
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
    const len = c.layer.lengths[s.sample] ?? T;
    if (len < w[1]) {
      const x0 = Math.max(0, Math.round(((len - w[0]) / span) * cw));
      ctx.fillStyle = MASK_FILL;
      ctx.fillRect(x0, 0, cw - x0, ch);
    }
  };

  const images = createImageSource(T);
  const drawImage = (c: ReturnType<typeof current>): void => {
    if (!ctx) return;
    const s = store.state;
    const r = images.render(c, { sample: s.sample, sortMode: s.sortMode, win: win(), size, order });
    if (!r) return;
    source = r.source;
    imageWin = r.win;
    blit(c);
  };

  const drawOverlay = (): void => {
    const U = order.length;
    const rowH = height / Math.max(1, U);
    const s = store.state;
    const { hoverUnit, selectedUnits } = s;
    for (const r of [hoverOuter, hoverInner]) {
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
    selG.replaceChildren();
    for (const u of selectedUnits) {
      if (u >= U) continue;
      selG.append(
        svg("rect", {
          class: "lstmviz-selected-mark",
          x: M.left - 5,
          y: M.top + rowOf[u] * rowH,
          width: 4,
          height: Math.max(2, rowH),
        }),
      );
    }
    // The brushed range: the rest of the window is dimmed, the range is framed, and a bar in
    // the axis band marks it.
    shadeG.replaceChildren();
    const b = s.brush;
    const w = win();
    if (b && width > 0) {
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
  };

  const draw = (): void => {
    const s = store.state;
    const c = current();
    layer = c.layer;
    const dpr = window.devicePixelRatio || 1;
    const layoutKey = `${c.layer.name}\u0000${c.q}\u0000${s.sample}\u0000${plotWidth}\u0000${dpr}`;
    if (layoutKey !== drawnLayout) {
      layout(c);
      drawnLayout = layoutKey;
    }
    order = unitOrder(payload, s);
    if (order.length !== c.layer.units) order = unitOrder(payload, { ...s, sortMode: "natural" });
    if (order !== imageOrder) rowOf = rowsOf(order);
    const w = win();
    // Compact panels (small multiples) aggregate to CSS pixels: half the work at 2× DPR, and
    // each image column still covers whole device pixels (nothing dropped when stretched).
    const res = compact ? Math.min(dpr, 1) : dpr;
    size = windowImageSize(w, c.layer.units, Math.round(width * res), Math.round(height * res), {
      nSteps: T,
      minLevel: minLevelFor(T, c.layer.units),
    });
    const xKey = `${w[0]}:${w[1]}:${width}:${height}`;
    if (xKey !== drawnX) {
      drawXAxis();
      drawnX = xKey;
    }
    const yKey = `${height}:${s.sortMode}`;
    if (yKey !== drawnY || order !== yOrder) {
      drawYAxis();
      drawnY = yKey;
      yOrder = order;
    }
    const imageKey = `${layoutKey}\u0000${w[0]}:${w[1]}\u0000${height}`;
    if (imageKey !== drawnImage || order !== imageOrder) {
      // Only a new window or order can wait for a later frame (the old image, moved, is a fair
      // preview of it); a new layer, quantity, sample or size is drawn at once.
      if (!takeTurn(imageWin !== null && drawnLayout === imageLayout, deferred)) {
        deferred++;
        blit(c);
        frame.schedule();
      } else {
        spend(() => drawImage(c));
        deferred = 0;
        imageLayout = drawnLayout;
        updateLegend(c);
        drawnImage = imageKey;
        imageOrder = order;
      }
    }
    drawOverlay();
    placeCursor();
  };

  const frame = createFrame(draw, (e) => store.reportError(e));

  const redrawOn = new Set<StateKey>([
    "layer",
    "sample",
    "epoch",
    "window",
    "sortMode",
    "brush",
    "hoverUnit",
    "selectedUnits",
    ...(opts.quantity ? [] : (["quantity"] as StateKey[])),
  ]);
  const unsubscribe = store.subscribe((s, changed) => {
    if (changed.has("timestep")) {
      placeCursor();
      if (s.sortMode === "activation") frame.soon(); // the order follows the cursor
    }
    for (const k of changed) {
      if (redrawOn.has(k)) {
        frame.soon(); // in the frame of the change (a zoom: one rendering pass, not two)
        break;
      }
    }
  });

  /** The tooltip of (step t, unit u): the value, the token, the steps a pixel covers. */
  const describe = (t: number, u: number): string[] => {
    const s = store.state;
    const c = current();
    const U = c.layer.units;
    const v = valueAt(c.arr.data, T, U, s.sample, t, u);
    const lines = [`unit ${u} · t = ${t}`];
    const tok = payload.tokens?.[s.sample]?.[t];
    if (tok) lines.push(`token: ${tok}`);
    lines.push(`${quantityShort(c.q)} = ${formatValue(v)}`);
    if (size.aggregated) {
      // The pixel under the pointer stands for several steps: say which and their range.
      const bounds = imageColumnBounds(size);
      let col = 0;
      while (col < size.width - 1 && bounds[col + 1] <= t) col++;
      const [lo, hi] = pyramidFor(c.arr, s.sample).query(u, bounds[col], bounds[col + 1]);
      const range =
        lo === -Infinity || hi === Infinity ? "NaN/Inf among them" : `${formatValue(lo)} … ${formatValue(hi)}`;
      lines.push(`pixel: t ${bounds[col]}–${bounds[col + 1] - 1}: ${range}`);
    }
    if (t >= (c.layer.lengths[s.sample] ?? T)) lines.push("(padding)");
    return lines;
  };

  const stopPointer = attachHeatmapPointer(
    plot,
    tooltip,
    store,
    {
      margin: M,
      showX,
      width: () => width,
      height: () => height,
      order: () => order,
      window: win,
    },
    describe,
  );
  const stopNav = attachTimeNavigation(plot, store, T, M.left, () => width);
  const stopResize = observeResize(plot, (w) => {
    plotWidth = w;
    frame.schedule();
  });

  draw(); // first paint synchronously (0 width before layout is fine)

  return {
    root: row,
    flush: () => {
      frame.schedule();
      frame.flush();
    },
    destroy() {
      frame.cancel();
      stopResize();
      stopNav();
      stopPointer();
      unsubscribe();
      legend?.destroy();
      row.remove();
    },
  };
}
