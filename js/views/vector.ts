/**
 * The vector at the cursor, a card: one bar per unit (unit index along x, value along y) of the
 * selected quantity at (sample, timestep), in the heatmap's colour scale, titled
 * "<quantity> at t = 12". Highlights the hovered unit and the selected units; hovering a bar
 * sets store.hoverUnit, clicking toggles the unit's selection. Redraws at the end of the task
 * that moved the cursor (Frame.soon; bars only; axes on layer/quantity/resize). Up to SVG_BARS_MAX units
 * the bars are SVG rects (`rect.lstmviz-bar` with classes hover / selected / clipped); a wider
 * layer's bars are drawn on a canvas under the SVG axes, with the same colours and outlines
 * (hundreds of rects rewritten on every step made scrubbing slow).
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear, type ScaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedPayload } from "../codecs";
import { cssVar, sizeCanvas } from "../parts/card";
import { context2d, html, quantityShort, setText, svg } from "../render/dom";
import { indexToPx, integerTicks, pxToIndex } from "../math/layout";

import { vectorAt } from "../codecs";
import { colorScaleFor, formatValue, type ColorScale } from "../math/scales";
import { barOf, paintBars, type Bar } from "../render/vector-bars";
import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";

import { toggleUnit } from "../selection";

/** Least height of the bar chart; it grows with the card when a neighbour in the row is taller. */
export const VECTOR_HEIGHT = 150;
const M = { top: 8, right: 10, bottom: 30, left: 44 };
/** Up to this many units the bars are SVG rects (`rect.lstmviz-bar`, styled by CSS: hover,
 *  selected, clipped); more go on a canvas, drawn the same way. */
export const SVG_BARS_MAX = 64;

export function createVector(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const T = payload.nSteps;
  const { root, caption, readout, canvas, node, xAxisG, yAxisG, xLabel, zeroLine, bars, marks, box } =
    createElements(container);
  const ctx = context2d(canvas);

  let width = 0;
  let rootWidth = 0; // as the ResizeObserver reports it (see observeResize in raf.ts)
  let totalH = VECTOR_HEIGHT;
  let rects: SVGRectElement[] = [];
  let useCanvas = false;
  let dirtyLayout = true;
  let marksKey = "";
  let dpr = 1;
  /** What each SVG bar shows now (only changed attributes are written). */
  let barState: string[] = [];

  let plotH = totalH - M.top - M.bottom;

  /** Bars of many units go on the canvas: 512 SVG rects rewritten on every step are slow. */
  const layoutBars = (U: number, y: ScaleLinear<number, number>, scale: ColorScale): void => {
    width = Math.max(0, rootWidth - M.left - M.right);
    useCanvas = U > SVG_BARS_MAX && ctx !== null;
    node.setAttribute("height", String(totalH));
    node.setAttribute("width", String(width + M.left + M.right));
    const x = scaleLinear()
      .domain([-0.5, U - 0.5])
      .range([0, width]);
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + plotH})`);
    select(xAxisG).call(
      axisBottom(x)
        .tickValues(integerTicks(U, width, 40))
        .tickFormat((v) => String(v))
        .tickSizeOuter(0),
    );
    yAxisG.setAttribute("transform", `translate(${M.left - 4}, 0)`);
    select(yAxisG).call(axisLeft(y).ticks(4).tickSizeOuter(0));
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(totalH - 2));
    const want = useCanvas ? 0 : U;
    if (rects.length !== want) {
      rects = Array.from({ length: want }, (_, u) => svg("rect", { "data-unit": u }));
      bars.replaceChildren(...rects);
      barState = rects.map(() => "");
    }
    canvas.hidden = !useCanvas;
    if (useCanvas) dpr = sizeCanvas(canvas, 0, 0, width + M.left + M.right, totalH);
    const bw = width / U;
    const gap = bw > 4 ? Math.min(2, bw * 0.15) : 0;
    rects.forEach((r, u) => {
      r.setAttribute("x", String(M.left + u * bw + gap / 2));
      r.setAttribute("width", String(Math.max(0.5, bw - gap)));
    });
    barState = rects.map(() => "");
    const y0 = y(Math.max(scale.domain[0], Math.min(scale.domain[1], 0)));
    zeroLine.setAttribute("x1", String(M.left));
    zeroLine.setAttribute("x2", String(M.left + width));
    zeroLine.setAttribute("y1", String(y0));
    zeroLine.setAttribute("y2", String(y0));
    marksKey = "";
  };

  /** The bar of unit u: top, height, colour, and whether it is cut at the colour domain. */
  const bar = (v: number, y: (v: number) => number, base: number, scale: ColorScale): Bar =>
    barOf(v, y, base, scale, M.top, plotH);

  const drawSvgBars = (values: Float32Array, y: (v: number) => number, base: number, scale: ColorScale): void => {
    const st = store.state;
    updateSvgBars(rects, barState, (u) => bar(values[u], y, base, scale), st.hoverUnit, st.selectedUnits);
  };

  /** The same bars on the canvas. */
  const drawCanvasBars = (values: Float32Array, y: (v: number) => number, base: number, scale: ColorScale): void => {
    if (!ctx) return;
    const s = store.state;
    paintBars(ctx, canvas, dpr, values.length, (u) => bar(values[u], y, base, scale), M.left, width, {
      selected: s.selectedUnits,
      hover: s.hoverUnit,
      fg: cssVar(root, "--lstmviz-fg", "#222"),
      accent: cssVar(root, "--lstmviz-accent", "#1976d2"),
    });
  };

  const draw = (): void => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const arr = layer.arrays.get(s.quantity) ?? layer.arrays.get("h");
    if (!arr) return;
    const U = layer.units;
    const scale = colorScaleFor(arr, s.quantity);
    plotH = totalH - M.top - M.bottom;
    const values = vectorAt(arr.data, T, U, s.sample, s.timestep);
    const y = scaleLinear()
      .domain(scale.domain)
      .range([M.top + plotH, M.top]);
    const yv = (v: number): number => y(v);

    if (dirtyLayout || (useCanvas ? U <= SVG_BARS_MAX : rects.length !== U)) {
      layoutBars(U, y, scale);
      dirtyLayout = false;
    }

    const base = y(Math.max(scale.domain[0], Math.min(scale.domain[1], 0)));
    if (useCanvas) drawCanvasBars(values, yv, base, scale);
    else drawSvgBars(values, yv, base, scale);

    const mk = `${U}|${width}|${plotH}|${s.selectedUnits.join(",")}`;
    if (mk !== marksKey) {
      marksKey = mk;
      drawMarks(marks, s.selectedUnits, U, width, plotH);
    }

    const hover = s.hoverUnit;
    const len = layer.lengths[s.sample] ?? T;
    setText(caption, `${quantityShort(s.quantity)} at t = ${s.timestep}` + (s.timestep >= len ? " (padding)" : ""));
    setText(readout, hover !== null && hover < U ? `unit ${hover} = ${formatValue(values[hover])}` : "");
  };

  const life = createLifecycle(store, draw);
  const frame = life.frame;
  const relevant: StateKey[] = ["timestep", "sample", "layer", "quantity", "selectedUnits", "hoverUnit"];
  life.subscribe((_s, changed) => {
    if (changed.has("layer") || changed.has("quantity")) dirtyLayout = true;
    if (!relevant.some((k) => changed.has(k))) return;
    // a step or a hover only redraws the bars: in this frame (see Frame.soon)
    if (dirtyLayout) frame.schedule();
    else frame.soon();
  });

  const unitAt = (e: MouseEvent): number | null => {
    const r = node.getBoundingClientRect();
    const x = e.clientX - r.left - M.left;
    const yy = e.clientY - r.top;
    if (x < 0 || x >= width || yy < M.top || yy > M.top + plotH + 6) return null;
    return pxToIndex(x, findLayer(payload, store.state.layer).units, width);
  };
  const onMove = (e: PointerEvent): void => {
    store.set({ hoverUnit: unitAt(e) });
  };
  const onLeave = (): void => {
    store.set({ hoverUnit: null });
  };
  const onClick = (e: MouseEvent): void => {
    const u = unitAt(e);
    if (u !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, u) });
  };
  life.listen(node, "pointermove", onMove);
  life.listen(node, "pointerleave", onLeave);
  life.listen(node, "click", onClick);
  life.onTheme(root);
  const stopResize = observeSize(box, (w, h) => {
    rootWidth = w;
    totalH = Math.max(VECTOR_HEIGHT, Math.floor(h));
    dirtyLayout = true;
    frame.schedule();
  });

  rootWidth = box.clientWidth;
  draw();

  life.onDispose(() => {
    stopResize();
    root.remove();
  });
  return life.dispose;
}

/** Observe an element's content box (width and height, as the observer reports them); a no-op
 *  where ResizeObserver is missing (jsdom). */
function observeSize(el: Element, onResize: (width: number, height: number) => void): () => void {
  if (typeof ResizeObserver === "undefined") return () => {};
  let lastW = -1;
  let lastH = -1;
  const ro = new ResizeObserver((entries) => {
    const r = entries[entries.length - 1]?.contentRect;
    if (!r || (r.width === lastW && r.height === lastH)) return;
    lastW = r.width;
    lastH = r.height;
    onResize(r.width, r.height);
  });
  ro.observe(el);
  return () => ro.disconnect();
}

/** The card: head (caption, hovered unit's value) and the chart box (canvas under the SVG). */
function createElements(container: HTMLElement) {
  const root = html("div", "lstmviz-view lstmviz-card lstmviz-vector");
  root.dataset.view = "vector";
  // head: the shared card classes (js/parts/card.ts): title + subtitle (the hovered unit's value)
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const caption = html("div", "lstmviz-card-title");
  const readout = html("div", "lstmviz-card-subtitle lstmviz-vector-hover");
  titles.append(caption, readout);
  head.append(titles);
  const canvas = html("canvas", "lstmviz-vector-canvas");
  canvas.hidden = true;
  const node = svg("svg", { class: "lstmviz-vector-svg", height: VECTOR_HEIGHT });
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "unit",
  });
  const zeroLine = svg("line", { class: "lstmviz-zero-line" });
  const bars = svg("g", { class: "lstmviz-bars" });
  const marks = svg("g", { class: "lstmviz-selected-marks" });
  node.append(yAxisG, xAxisG, xLabel, bars, zeroLine, marks);
  // the chart fills the box, which fills what the card's row leaves below the head
  const box = html("div", "lstmviz-vector-box");
  box.append(canvas, node);
  root.append(head, box);
  container.append(root);

  return { root, caption, readout, canvas, node, xAxisG, yAxisG, xLabel, zeroLine, bars, marks, box };
}

/** A dot under each selected unit's bar. */
function drawMarks(marks: SVGGElement, selected: readonly number[], U: number, width: number, plotH: number): void {
  marks.replaceChildren();
  for (const u of selected) {
    if (u >= U) continue;
    marks.append(
      svg("circle", {
        class: "lstmviz-selected-mark",
        cx: M.left + indexToPx(u, U, width),
        cy: M.top + plotH + 3,
        r: 2.5,
      }),
    );
  }
}

/** The SVG bars: only the attributes of bars whose look changed are written. */
function updateSvgBars(
  rects: SVGRectElement[],
  barState: string[],
  bar: (u: number) => Bar,
  hover: number | null,
  selectedUnits: readonly number[],
): void {
  const selected = new Set(selectedUnits);
  for (let u = 0; u < rects.length; u++) {
    const r = rects[u];
    const b = bar(u);
    const cls =
      `lstmviz-bar${u === hover ? " hover" : ""}${selected.has(u) ? " selected" : ""}` +
      `${b.clipped ? " clipped" : ""}`;
    const state = `${b.top}|${b.h}|${b.fill}|${cls}`;
    if (state === barState[u]) continue;
    barState[u] = state;
    r.setAttribute("fill", b.fill);
    r.setAttribute("y", String(b.top));
    r.setAttribute("height", String(b.h));
    r.setAttribute("class", cls);
  }
}
