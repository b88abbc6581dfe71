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
import {
  blit,
  createPanelElements,
  drawMarks,
  drawXAxis,
  drawYAxis,
  layoutElements,
  type ImagePart,
  type Margin,
  type PanelElements,
} from "./chrome";

import { type DecodedArray, type DecodedLayer, type DecodedPayload, findLayer, valueAt } from "../../codecs";
import { heatmapPlotHeight, stepToPx, type TimeWindow } from "../../math/layout";
import { rowsOf, unitOrder } from "../../math/ordering";
import { minLevelFor, pyramidFor } from "../../math/pyramid";
import { imageColumnBounds, type WindowImageSize, windowImageSize } from "../../math/raster";

import { type ColorScale, colorScaleFor, formatValue, hasNonFinite } from "../../math/scales";
import { attachTimeNavigation } from "../timenav";
import { createLegend, type Legend, LEGEND_WIDTH } from "../legend";
import { spend, takeTurn } from "../../render/budget";
import { context2d, html, markMover, quantityShort } from "../../render/dom";
import { createFrame, observeResize, type Frame } from "../../render/raf";
import type { StateKey, Store } from "../../store";

/** Margins of the main heatmap's plot area inside its element, in CSS px. */
export const HEATMAP_MARGIN = { top: 22, right: 8, bottom: 36, left: 54 } as const;
/** Compact panels (gate small multiples): caption on top, the x axis only when asked for. */
export const COMPACT_MARGIN = { top: 16, right: 8, bottom: 24, left: 54 } as const;

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

type Current = { layer: DecodedLayer; q: string; arr: DecodedArray; scale: ColorScale };

/** One panel: its inputs, elements, geometry and what the last draw used. */
interface Panel {
  store: Store;
  payload: DecodedPayload;
  opts: HeatmapPanelOptions;
  T: number;
  compact: boolean;
  showX: boolean;
  M: Margin;
  plotHeight: (units: number) => number;
  e: PanelElements;
  legend: Legend | null;
  ctx: CanvasRenderingContext2D | null;
  /** What `blit` draws: this part of this image shows the steps `imageWin`. */
  source: ImagePart | null;
  /** The window the offscreen image shows (for previews while a raster waits). */
  imageWin: TimeWindow | null;
  images: ReturnType<typeof createImageSource>;
  mark: ReturnType<typeof markMover>;
  frame: Frame;
  plotWidth: number;
  width: number;
  height: number;
  order: Int32Array;
  rowOf: Int32Array;
  size: WindowImageSize;
  // What the last draw used: a part is redrawn only when its inputs changed.
  drawnImage: string;
  drawnX: string;
  drawnY: string;
  drawnLayout: string;
  imageOrder: Int32Array | null;
  imageLayout: string;
  /** Frames the image has waited for the budget. */
  deferred: number;
  yOrder: Int32Array | null;
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
  const e = createPanelElements(container, opts.name, M, compact, showX);
  const { row, plot } = e;
  let legend: Legend | null = null;
  if (opts.legend !== false) legend = createLegend(row);
  else {
    const spacer = html("div", "lstmviz-legend lstmviz-legend-empty");
    spacer.style.width = `${LEGEND_WIDTH}px`;
    row.append(spacer);
  }
  const order = unitOrder(payload, store.state);
  const layer = findLayer(payload, store.state.layer);
  const p: Panel = {
    ...{ store, payload, opts, T, compact, showX, M, e, legend },
    plotHeight: opts.height ?? heatmapPlotHeight,
    ctx: context2d(e.canvas),
    source: null,
    imageWin: null,
    images: createImageSource(T),
    mark: markMover(e.cursor),
    frame: createFrame(
      () => draw(p),
      (err) => store.reportError(err),
    ),
    plotWidth: plot.clientWidth, // then as the ResizeObserver reports it (see observeResize)
    width: 0,
    height: 0,
    order,
    rowOf: rowsOf(order),
    size: windowImageSize(store.state.window, layer.units, 1, 1),
    ...{ drawnImage: "", drawnX: "", drawnY: "", drawnLayout: "", imageOrder: null, imageLayout: "" },
    deferred: 0,
    yOrder: null,
  };
  const { frame } = p;

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
      placeCursor(p);
      if (s.sortMode === "activation") frame.soon(); // the order follows the cursor
    }
    for (const k of changed) {
      if (redrawOn.has(k)) {
        frame.soon(); // in the frame of the change (a zoom: one rendering pass, not two)
        break;
      }
    }
  });

  const stopPointer = attachHeatmapPointer(
    plot,
    e.tooltip,
    store,
    {
      margin: M,
      showX,
      width: () => p.width,
      height: () => p.height,
      order: () => p.order,
      window: () => store.state.window,
    },
    (t, u) => describe(p, t, u),
  );
  const stopNav = attachTimeNavigation(plot, store, T, M.left, () => p.width);
  const stopResize = observeResize(plot, (w) => {
    p.plotWidth = w;
    frame.schedule();
  });

  draw(p); // first paint synchronously (0 width before layout is fine)

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

function current(p: Panel): Current {
  const s = p.store.state;
  const lyr = findLayer(p.payload, s.layer);
  const q = p.opts.quantity ?? s.quantity;
  const arr = lyr.arrays.get(q) ?? lyr.arrays.get("h");
  if (!arr) throw new Error(`layer ${lyr.name} has no quantity ${q}`);
  return { layer: lyr, q: lyr.arrays.has(q) ? q : "h", arr, scale: colorScaleFor(arr, q) };
}

/** Cheap: runs synchronously on every timestep change. */
function placeCursor(p: Panel): void {
  const t = p.store.state.timestep;
  const w = p.store.state.window;
  const { M } = p;
  p.e.cursor.dataset.timestep = String(t);
  const inside = t >= w[0] && t < w[1] && p.width > 0;
  p.mark.place(M.left + stepToPx(t, w, p.width) - 1, M.top - 2, p.height + 2, inside);
}

function layout(p: Panel, c: Current): void {
  const s = p.store.state;
  p.height = Math.round(p.plotHeight(c.layer.units));
  p.width = Math.max(0, p.plotWidth - p.M.left - p.M.right);
  layoutElements(p.e, p.M, p.width, p.height, p.compact);
  const dir = c.layer.direction ? ` (${c.layer.direction})` : "";
  const sampleText = p.payload.nSamples > 1 ? ` · sample ${s.sample}` : "";
  p.e.caption.textContent = p.opts.caption
    ? p.opts.caption(c.layer, c.q, s.sample)
    : `${quantityShort(c.q)} · ${c.layer.name}${dir}${sampleText}`;
}

function updateLegend(p: Panel, c: Current): void {
  if (!p.legend) return;
  const s = p.store.state;
  const { M, T, height, compact } = p;
  p.legend.update({
    scale: c.scale,
    quantity: c.q,
    title: p.opts.legendTitle,
    top: M.top,
    height,
    totalHeight: height + M.top + M.bottom,
    showPadding: !compact && (c.layer.lengths[s.sample] ?? T) < T,
    showNaN: nonFinite(c.arr.data),
    note: aggregationNote(p.size, compact ? Math.min(window.devicePixelRatio || 1, 1) : window.devicePixelRatio || 1),
    noteTitle: AGGREGATION_RULE,
  });
}

function blitImage(p: Panel, c: Current): void {
  if (!p.ctx || !p.imageWin) return;
  const len = c.layer.lengths[p.store.state.sample] ?? p.T;
  blit(p.ctx, p.e.canvas, p.source, p.imageWin, p.store.state.window, p.width, p.height, len);
}

function drawImage(p: Panel, c: Current): void {
  if (!p.ctx) return;
  const s = p.store.state;
  const r = p.images.render(c, { sample: s.sample, sortMode: s.sortMode, win: s.window, size: p.size, order: p.order });
  if (!r) return;
  p.source = r.source;
  p.imageWin = r.win;
  blitImage(p, c);
}

function draw(p: Panel): void {
  const s = p.store.state;
  const c = current(p);
  const dpr = window.devicePixelRatio || 1;
  const layoutKey = `${c.layer.name}\u0000${c.q}\u0000${s.sample}\u0000${p.plotWidth}\u0000${dpr}`;
  if (layoutKey !== p.drawnLayout) {
    layout(p, c);
    p.drawnLayout = layoutKey;
  }
  p.order = unitOrder(p.payload, s);
  if (p.order.length !== c.layer.units) p.order = unitOrder(p.payload, { ...s, sortMode: "natural" });
  if (p.order !== p.imageOrder) p.rowOf = rowsOf(p.order);
  const w = s.window;
  const { width, height, T } = p;
  // Compact panels (small multiples) aggregate to CSS pixels: half the work at 2× DPR, and
  // each image column still covers whole device pixels (nothing dropped when stretched).
  const res = p.compact ? Math.min(dpr, 1) : dpr;
  p.size = windowImageSize(w, c.layer.units, Math.round(width * res), Math.round(height * res), {
    nSteps: T,
    minLevel: minLevelFor(T, c.layer.units),
  });
  const xKey = `${w[0]}:${w[1]}:${width}:${height}`;
  if (xKey !== p.drawnX) {
    drawXAxis(p.e.xAxisG, p.M, w, width, height, p.showX);
    p.drawnX = xKey;
  }
  const yKey = `${height}:${s.sortMode}`;
  if (yKey !== p.drawnY || p.order !== p.yOrder) {
    drawYAxis(p.e, p.M, p.order, s.sortMode, height, p.compact);
    p.drawnY = yKey;
    p.yOrder = p.order;
  }
  const imageKey = `${layoutKey}\u0000${w[0]}:${w[1]}\u0000${height}`;
  if (imageKey !== p.drawnImage || p.order !== p.imageOrder) {
    // Only a new window or order can wait for a later frame (the old image, moved, is a fair
    // preview of it); a new layer, quantity, sample or size is drawn at once.
    if (!takeTurn(p.imageWin !== null && p.drawnLayout === p.imageLayout, p.deferred)) {
      p.deferred++;
      blitImage(p, c);
      p.frame.schedule();
    } else {
      spend(() => drawImage(p, c));
      p.deferred = 0;
      p.imageLayout = p.drawnLayout;
      updateLegend(p, c);
      p.drawnImage = imageKey;
      p.imageOrder = p.order;
    }
  }
  drawMarks(p.e, p.M, s, p.order.length, p.rowOf, w, width, height);
  placeCursor(p);
}

/** The tooltip of (step t, unit u): the value, the token, the steps a pixel covers. */
function describe(p: Panel, t: number, u: number): string[] {
  const s = p.store.state;
  const c = current(p);
  const { T, size } = p;
  const U = c.layer.units;
  const v = valueAt(c.arr.data, T, U, s.sample, t, u);
  const lines = [`unit ${u} · t = ${t}`];
  const tok = p.payload.tokens?.[s.sample]?.[t];
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
}
