/**
 * Heatmap of the selected quantity for the current layer and sample: rows = units, columns =
 * timesteps, drawn from an offscreen T × U image scaled up without smoothing. d3 axes on an SVG
 * overlay, a colour legend beside it, a cursor line at the store's timestep.
 *
 * Cheap on scrub: a timestep change only moves the cursor element (synchronously); the image is
 * rebuilt only when sample/layer/quantity change, and re-blitted on resize.
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { context2d, html, quantityShort, svg } from "../dom";
import { heatmapPlotHeight, indexToPx, integerTicks, pxToIndex } from "../layout";
import { createFrame, observeResize } from "../raf";
import { rasterize, valueAt } from "../raster";
import { colorScaleFor, formatValue, hasNonFinite, type ColorScale } from "../scales";
import type { StateKey, Store } from "../store";
import { createLegend, LEGEND_WIDTH } from "./legend";

/** Margins of the plot area inside the heatmap element, in CSS px. */
export const HEATMAP_MARGIN = { top: 22, right: 8, bottom: 36, left: 54 } as const;
const M = HEATMAP_MARGIN;
const MASK_FILL = "rgba(128, 128, 128, 0.78)";

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

interface Geometry {
  width: number;
  height: number;
}

/** Toggle `u` in a selection (added at the end, so Python's order is kept). */
export function toggleUnit(selected: readonly number[], u: number): number[] {
  return selected.includes(u) ? selected.filter((v) => v !== u) : [...selected, u];
}

export function createHeatmap(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const T = payload.nSteps;
  const row = html("div", "lstmviz-heatmap-row");
  const plot = html("div", "lstmviz-heatmap");
  const canvas = html("canvas", "lstmviz-heatmap-canvas");
  const axes = svg("svg", { class: "lstmviz-heatmap-axes" });
  const caption = svg("text", { class: "lstmviz-caption", x: M.left, y: 11 });
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "timestep",
  });
  const yLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "unit",
  });
  const selG = svg("g", { class: "lstmviz-selected-marks" });
  const hoverOuter = svg("rect", { class: "lstmviz-hover-row-outer", visibility: "hidden" });
  const hoverInner = svg("rect", { class: "lstmviz-hover-row", visibility: "hidden" });
  axes.append(caption, xAxisG, yAxisG, xLabel, yLabel, selG, hoverOuter, hoverInner);
  const cursor = html("div", "lstmviz-cursor");
  cursor.setAttribute("aria-hidden", "true");
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(canvas, axes, cursor, tooltip);
  row.append(plot);
  container.append(row);
  const legend = createLegend(row);

  const ctx = context2d(canvas);
  const offscreen = html("canvas");
  const offCtx = ctx ? context2d(offscreen) : null;

  const geom: Geometry = { width: 0, height: 0 };
  let plotWidth = 0; // as the ResizeObserver reports it (see observeResize)
  let imageKey = "";
  let layer: DecodedLayer = findLayer(payload, store.state.layer);
  let dirtyLayout = true;
  let dirtyImage = true;
  let dirtyOverlay = true;
  let dragging = false;

  const current = (): { layer: DecodedLayer; scale: ColorScale; data: Float32Array } => {
    const s = store.state;
    const lyr = findLayer(payload, s.layer);
    const arr = lyr.arrays.get(s.quantity) ?? lyr.arrays.get("h");
    if (!arr) throw new Error(`layer ${lyr.name} has no quantity ${s.quantity}`);
    return { layer: lyr, scale: colorScaleFor(arr, s.quantity), data: arr.data };
  };

  const setPlotHeight = (): void => {
    geom.height = heatmapPlotHeight(layer.units);
    plot.style.height = `${geom.height + M.top + M.bottom}px`;
  };

  /** Cheap: runs synchronously on every timestep change. */
  const placeCursor = (): void => {
    const t = store.state.timestep;
    cursor.dataset.timestep = String(t);
    const x = M.left + indexToPx(t, T, geom.width);
    cursor.style.left = `${x - 1}px`;
    cursor.style.top = `${M.top - 2}px`;
    cursor.style.height = `${geom.height + 2}px`;
    cursor.style.visibility = geom.width > 0 ? "visible" : "hidden";
  };

  const layoutAxes = (lyr: DecodedLayer, q: string, scale: ColorScale, sample: number): void => {
    const { width, height } = geom;
    const U = lyr.units;
    const total = height + M.top + M.bottom;
    axes.setAttribute("width", String(width + M.left + M.right));
    axes.setAttribute("height", String(total));
    const x = scaleLinear().domain([-0.5, T - 0.5]).range([0, width]);
    const y = scaleLinear().domain([-0.5, U - 0.5]).range([0, height]);
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + height})`);
    select(xAxisG).call(
      axisBottom(x).tickValues(integerTicks(T, width, 70)).tickFormat((v) => String(v)).tickSizeOuter(0),
    );
    yAxisG.setAttribute("transform", `translate(${M.left - 7}, ${M.top})`);
    select(yAxisG).call(
      axisLeft(y).tickValues(integerTicks(U, height, 22)).tickFormat((v) => String(v)).tickSizeOuter(0),
    );
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(M.top + height + 32));
    yLabel.setAttribute("transform", `translate(12, ${M.top + height / 2}) rotate(-90)`);
    const dir = lyr.direction ? ` (${lyr.direction})` : "";
    const sampleText = payload.nSamples > 1 ? ` · sample ${sample}` : "";
    caption.textContent = `${quantityShort(q)} · ${lyr.name}${dir}${sampleText}`;
    legend.update({
      scale,
      quantity: q,
      top: M.top,
      height,
      totalHeight: total,
      showPadding: (lyr.lengths[sample] ?? T) < T,
      showNaN: nonFinite(current().data),
    });
  };

  const drawImage = (lyr: DecodedLayer, data: Float32Array, scale: ColorScale, sample: number): void => {
    if (!ctx || !offCtx) return;
    const key = `${lyr.name}\u0000${store.state.quantity}\u0000${sample}`;
    if (key !== imageKey) {
      offscreen.width = T;
      offscreen.height = lyr.units;
      const img = offCtx.createImageData(T, lyr.units);
      rasterize(img.data, data, sample, T, lyr.units, scale);
      offCtx.putImageData(img, 0, 0);
      imageKey = key;
    }
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(geom.width * dpr));
    const h = Math.max(1, Math.round(geom.height * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(offscreen, 0, 0, T, lyr.units, 0, 0, w, h);
    const len = lyr.lengths[sample] ?? T;
    if (len < T) {
      const x0 = Math.round((len / T) * w);
      ctx.fillStyle = MASK_FILL;
      ctx.fillRect(x0, 0, w - x0, h);
    }
  };

  const drawOverlay = (lyr: DecodedLayer): void => {
    const { width, height } = geom;
    const U = lyr.units;
    const rowH = height / U;
    const { hoverUnit, selectedUnits } = store.state;
    for (const r of [hoverOuter, hoverInner]) {
      if (hoverUnit === null || hoverUnit >= U || width <= 0) {
        r.setAttribute("visibility", "hidden");
        continue;
      }
      r.setAttribute("visibility", "visible");
      r.setAttribute("x", String(M.left + 0.5));
      r.setAttribute("y", String(M.top + hoverUnit * rowH));
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
          y: M.top + u * rowH,
          width: 4,
          height: Math.max(2, rowH),
        }),
      );
    }
  };

  const draw = (): void => {
    const s = store.state;
    const cur = current();
    if (cur.layer !== layer) {
      layer = cur.layer;
      dirtyLayout = true;
    }
    if (dirtyLayout) {
      setPlotHeight();
      geom.width = Math.max(0, plotWidth - M.left - M.right);
      canvas.style.left = `${M.left}px`;
      canvas.style.top = `${M.top}px`;
      canvas.style.width = `${geom.width}px`;
      canvas.style.height = `${geom.height}px`;
      layoutAxes(cur.layer, s.quantity, cur.scale, s.sample);
      placeCursor();
      dirtyLayout = false;
      dirtyImage = true;
      dirtyOverlay = true;
    }
    if (dirtyImage) {
      drawImage(cur.layer, cur.data, cur.scale, s.sample);
      dirtyImage = false;
    }
    if (dirtyOverlay) {
      drawOverlay(cur.layer);
      dirtyOverlay = false;
    }
  };

  const frame = createFrame(draw, (e) => store.reportError(e));

  const onStore = (_s: unknown, changed: ReadonlySet<StateKey>): void => {
    if (changed.has("timestep")) placeCursor();
    if (changed.has("layer") || changed.has("quantity") || changed.has("sample")) {
      dirtyLayout = true; // axes, caption, legend and image
    }
    if (changed.has("hoverUnit") || changed.has("selectedUnits")) dirtyOverlay = true;
    if (dirtyLayout || dirtyImage || dirtyOverlay) frame.schedule();
  };
  const unsubscribe = store.subscribe(onStore);

  // --- pointer: click/drag scrubs, hover shows a tooltip, Shift/Ctrl/⌘-click selects a unit
  const hit = (e: MouseEvent): { t: number; u: number | null } => {
    const r = plot.getBoundingClientRect();
    const x = e.clientX - r.left - M.left;
    const y = e.clientY - r.top - M.top;
    const t = pxToIndex(x, T, geom.width);
    const inside = x >= 0 && x < geom.width && y >= 0 && y < geom.height;
    return { t, u: inside ? pxToIndex(y, layer.units, geom.height) : null };
  };

  const showTooltip = (e: MouseEvent, t: number, u: number): void => {
    const s = store.state;
    const { data } = current();
    const v = valueAt(data, T, layer.units, s.sample, t, u);
    const lines = [`unit ${u} · t = ${t}`];
    const tok = payload.tokens?.[s.sample]?.[t];
    if (tok) lines.push(`token: ${tok}`);
    lines.push(`${quantityShort(s.quantity)} = ${formatValue(v)}`);
    if (t >= (layer.lengths[s.sample] ?? T)) lines.push("(padding)");
    tooltip.replaceChildren(...lines.map((l) => html("div", undefined, l)));
    tooltip.hidden = false;
    const r = plot.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    const tw = tooltip.offsetWidth || 140;
    const left = px + 14 + tw > r.width ? px - 14 - tw : px + 14;
    tooltip.style.left = `${Math.max(0, left)}px`;
    tooltip.style.top = `${Math.max(0, py + 12)}px`;
  };

  const hideHover = (): void => {
    tooltip.hidden = true;
    store.set({ hoverUnit: null });
  };

  const onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const { t, u } = hit(e);
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      if (u !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, u) });
      return;
    }
    dragging = true;
    try {
      plot.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    store.set({ timestep: t });
  };
  const onPointerMove = (e: PointerEvent): void => {
    const { t, u } = hit(e);
    if (dragging) store.set({ timestep: t });
    if (u === null) {
      if (!tooltip.hidden || store.state.hoverUnit !== null) hideHover();
      return;
    }
    store.set({ hoverUnit: u });
    showTooltip(e, t, u);
  };
  const onPointerUp = (e: PointerEvent): void => {
    dragging = false;
    try {
      plot.releasePointerCapture(e.pointerId);
    } catch {
      /* not captured */
    }
  };
  const onPointerLeave = (): void => {
    if (!dragging) hideHover();
  };
  plot.addEventListener("pointerdown", onPointerDown);
  plot.addEventListener("pointermove", onPointerMove);
  plot.addEventListener("pointerup", onPointerUp);
  plot.addEventListener("pointercancel", onPointerUp);
  plot.addEventListener("pointerleave", onPointerLeave);

  const stopResize = observeResize(plot, (w) => {
    plotWidth = w;
    dirtyLayout = true;
    frame.schedule();
  });

  setPlotHeight();
  placeCursor();
  plotWidth = plot.clientWidth;
  draw(); // first paint synchronously (measures the container; 0 width is fine)

  return () => {
    frame.cancel();
    stopResize();
    unsubscribe();
    plot.removeEventListener("pointerdown", onPointerDown);
    plot.removeEventListener("pointermove", onPointerMove);
    plot.removeEventListener("pointerup", onPointerUp);
    plot.removeEventListener("pointercancel", onPointerUp);
    plot.removeEventListener("pointerleave", onPointerLeave);
    legend.destroy();
    row.remove();
  };
}

export { LEGEND_WIDTH };
