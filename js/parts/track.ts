/**
 * A time track: one panel whose x axis is time, aligned with the heatmap (same left margin,
 * same right-hand legend column), sharing the store's cursor, zoom window and scrubbing.
 *
 * A view supplies `draw(ctx, geom)` (canvas, in CSS px: the context is already scaled by the
 * device pixel ratio) and may add SVG marks to `overlay`; the track owns the canvas, the x axis,
 * the cursor, click/drag scrubbing, wheel zoom/pan and redraw scheduling.
 */
import { createLifecycle } from "./lifecycle";
import { axisBottom } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { batchRects } from "../render/batch";
import type { DecodedPayload } from "../codecs";
import { context2d, html, markMover, svg } from "../render/dom";
import { pxToStep, stepToPx, type TimeWindow } from "../math/layout";

import type { StateKey, Store } from "../store";

import { LEGEND_WIDTH } from "./legend";
import { attachTimeNavigation } from "./timenav";
import { windowTicks } from "../math/zoom";

/** Same left/right margins as the heatmap, so every time axis lines up. */
export const TRACK_MARGIN = { top: 18, right: 8, bottom: 22, left: 54 } as const;

export interface TrackGeom {
  /** Plot area size in CSS px. */
  width: number;
  height: number;
  win: TimeWindow;
  /** x of the centre of step t, relative to the plot area. */
  x(t: number): number;
  /** Width of one step in px. */
  step: number;
}

export interface TrackSpec {
  /** `data-view` name (used by export, tests and screenshots). */
  name: string;
  title: string;
  /** Plot area height in CSS px. */
  height: number;
  /** Draw the x axis under the plot (default true). */
  xAxis?: boolean;
  /** Store keys that need a redraw, besides window, sample, layer and epoch. */
  redrawOn?: readonly StateKey[];
  draw(ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void;
}

export interface Track {
  root: HTMLElement;
  /** SVG overlay (CSS px, origin at the top-left of the panel). */
  svg: SVGSVGElement;
  /** Group translated to the plot area's origin, for the view's own SVG marks. */
  overlay: SVGGElement;
  /** Group for a y axis (translated to the plot's left edge). */
  yAxis: SVGGElement;
  /** The legend column on the right (HTML; text only). */
  side: HTMLElement;
  /** Title text element (set textContent to change). */
  title: SVGTextElement;
  geom(): TrackGeom;
  /** Schedule a redraw. */
  invalidate(): void;
  destroy(): void;
}

export function createTrack(container: HTMLElement, store: Store, payload: DecodedPayload, spec: TrackSpec): Track {
  const M = { ...TRACK_MARGIN, bottom: spec.xAxis === false ? 6 : TRACK_MARGIN.bottom };
  const T = payload.nSteps;
  const root = html("div", "lstmviz-view lstmviz-track");
  root.dataset.view = spec.name;
  const plot = html("div", "lstmviz-track-plot");
  const canvas = html("canvas", "lstmviz-track-canvas");
  const axes = svg("svg", { class: "lstmviz-track-axes" });
  const title = svg("text", { class: "lstmviz-caption", x: M.left, y: 12 });
  title.textContent = spec.title;
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxis = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const overlay = svg("g", { class: "lstmviz-track-overlay", transform: `translate(${M.left}, ${M.top})` });
  axes.append(title, xAxisG, yAxis, overlay);
  const cursor = html("div", "lstmviz-cursor");
  cursor.setAttribute("aria-hidden", "true");
  plot.append(canvas, axes, cursor);
  const side = html("div", "lstmviz-track-side");
  side.style.width = `${LEGEND_WIDTH}px`;
  root.append(plot, side);
  container.append(root);
  const ctx = context2d(canvas);

  let plotWidth = plot.clientWidth;
  const geometry = (): TrackGeom => {
    const win = store.state.window;
    const width = Math.max(0, plotWidth - M.left - M.right);
    const height = spec.height;
    const span = Math.max(1, win[1] - win[0]);
    return { width, height, win, step: width / span, x: (t) => stepToPx(t, win, width) };
  };

  const mark = markMover(cursor);
  /** Cheap: runs synchronously on every timestep change (a transform, no layout). */
  const placeCursor = (): void => {
    const g = geometry();
    const t = store.state.timestep;
    cursor.dataset.timestep = String(t);
    const inside = t >= g.win[0] && t < g.win[1] && g.width > 0;
    mark.place(M.left + g.x(t) - 1, M.top, g.height, inside);
  };

  const draw = (): void => {
    const g = geometry();
    const total = g.height + M.top + M.bottom;
    plot.style.height = `${total}px`;
    axes.setAttribute("width", String(plotWidth));
    axes.setAttribute("height", String(total));
    yAxis.setAttribute("transform", `translate(${M.left - 4}, ${M.top})`);
    if (spec.xAxis !== false) {
      const x = scaleLinear()
        .domain([g.win[0] - 0.5, g.win[1] - 0.5])
        .range([0, g.width]);
      const ticks = windowTicks(g.win, g.width, 70); // the heatmap's ticks: same values
      xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + g.height})`);
      select(xAxisG).call(
        axisBottom(x)
          .tickValues(ticks)
          .tickFormat((v) => String(v))
          .tickSizeOuter(0),
      );
    }
    const dpr = window.devicePixelRatio || 1;
    canvas.style.left = `${M.left}px`;
    canvas.style.top = `${M.top}px`;
    canvas.style.width = `${g.width}px`;
    canvas.style.height = `${g.height}px`;
    const w = Math.max(1, Math.round(g.width * dpr));
    const h = Math.max(1, Math.round(g.height * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    if (ctx) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, g.width, g.height);
    }
    // opaque rectangles (dense lines, marks) go onto the canvas in bulk (js/render/batch.ts)
    const batch = ctx ? batchRects(ctx, dpr) : null;
    try {
      spec.draw(batch ? batch.ctx : ctx, g);
    } finally {
      batch?.finish();
    }
    placeCursor();
  };
  const life = createLifecycle(store, draw);
  const frame = life.frame;

  const redrawKeys = new Set<StateKey>(["window", "sample", "layer", "epoch", ...(spec.redrawOn ?? [])]);
  life.subscribe((_s, changed) => {
    if (changed.has("timestep")) placeCursor();
    for (const k of changed) {
      if (redrawKeys.has(k)) {
        frame.soon(); // in the frame of the change (a zoom: one rendering pass, not two)
        break;
      }
    }
  });

  // Click or drag anywhere on the plot scrubs.
  let dragging = false;
  const stepAt = (e: MouseEvent): number => {
    const r = plot.getBoundingClientRect();
    const g = geometry();
    return pxToStep(e.clientX - r.left - M.left, g.win, g.width);
  };
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    dragging = true;
    try {
      plot.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    store.set({ timestep: stepAt(e) });
  };
  const onMove = (e: PointerEvent): void => {
    if (dragging) store.set({ timestep: stepAt(e) });
  };
  const onUp = (e: PointerEvent): void => {
    dragging = false;
    try {
      plot.releasePointerCapture(e.pointerId);
    } catch {
      /* not captured */
    }
  };
  life.listen(plot, "pointerdown", onDown);
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerup", onUp);
  life.listen(plot, "pointercancel", onUp);
  life.onDispose(attachTimeNavigation(plot, store, T, M.left, () => geometry().width));
  life.onResize(plot, (w) => {
    plotWidth = w;
  });
  life.onTheme(root);
  life.onDispose(() => root.remove());
  draw();

  return {
    root,
    svg: axes,
    overlay,
    yAxis,
    side,
    title,
    geom: geometry,
    invalidate: () => frame.schedule(),
    destroy: life.dispose,
  };
}
