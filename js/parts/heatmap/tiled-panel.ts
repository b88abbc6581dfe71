/**
 * A heatmap panel of a long (tiled) capture — the main one (views/long-heatmap.ts, data-view
 * "heatmap", data-tiled="true") and the gate small multiples (views/long-gates.ts): the store's
 * quantity for the layer and sample, rows = units, columns = the zoom window at device-pixel
 * resolution, drawn from tiles (js/tiles/: the coarser level at once while a finer tile is on
 * its way, never a blank panel). A column that holds several steps shows the extreme of their
 * min and max (a one-step spike is seen at every zoom) and the panel says "min/max of N steps
 * per pixel column"; zoomed in to fewer steps than columns every cell is one exact step.
 *
 * dataset (read by bench/long_sequences.py and the browser tests): level, stepsPerColumn,
 * pending, drawMs, tileMs (a tile batch's request → the draw that showed it), window.
 * Pointer: click/drag scrubs; hover shows step · unit · value (exact from the level-0 tile,
 * else the min–max of the column); Ctrl/⌘ + wheel zooms, Shift + wheel pans.
 */
import { blit, createPanelElements, drawXAxis, drawYAxis, layoutElements, type PanelElements } from "./chrome";
import { HEATMAP_MARGIN } from "./panel";
import { createLegend, LEGEND_WIDTH } from "../legend";
import { placeTooltip } from "../tooltip";
import { clamp, heatmapPlotHeight, pxToStep, stepToPx } from "../../math/layout";
import { colorSpec, type ColorScale, formatValue, makeColorScale } from "../../math/scales";
import { panWindow, zoomWindow } from "../../math/zoom";
import { context2d, html, markMover, quantityShort } from "../../render/dom";
import type { Store } from "../../store";
import { tiledLifecycle } from "../tiled";
import { findTiledLayer, type TiledArray } from "../../tiles/payload";
import { paintColumns } from "../../tiles/paint";
import type { TiledData, WindowImage } from "../../tiles/source";

const M = HEATMAP_MARGIN;

/** The colour scale of an array from its per-unit [min…, max…] (scales.ts colorSpec rules). */
function scaleOf(q: string, dom: Float32Array | null, img: WindowImage): ColorScale {
  if (dom) return makeColorScale(colorSpec(q, dom, dom.length / 2));
  // not in yet: the window's own columns (provisional, not memoised)
  const vals = new Float32Array(img.lo.length * 2);
  vals.set(img.lo);
  vals.set(img.hi, img.lo.length);
  return makeColorScale(colorSpec(q, vals, img.width));
}

export function aggregationText(stepsPerColumn: number): string {
  if (stepsPerColumn <= 1.0001) return "";
  const n = stepsPerColumn >= 10 ? Math.round(stepsPerColumn).toLocaleString("en-US") : stepsPerColumn.toFixed(1);
  return `min/max of ${n} steps per pixel column`;
}

export interface LongHeatmapOptions {
  /** A fixed quantity (a gate panel of views/long-gates.ts); default: the store's. Hidden for
   *  a layer without it. */
  quantity?: string;
  /** Plot height in CSS px; default heatmapPlotHeight(units). */
  height?: number;
  /** The root's data-view; null: none (a panel inside another view). Default "heatmap". */
  view?: string | null;
}

export function createTiledPanel(
  container: HTMLElement,
  store: Store,
  data: TiledData,
  opts: LongHeatmapOptions = {},
): () => void {
  const payload = data.payload;
  const T = payload.nSteps;
  const view = opts.view === undefined ? "heatmap" : opts.view;
  const root = html("div", view ? "lstmviz-view lstmviz-heatmap-view" : "lstmviz-heatmap-view lstmviz-gate-panel");
  if (view) root.dataset.view = view;
  root.dataset.tiled = "true";
  container.append(root);
  const e = createPanelElements(root, opts.quantity ?? "heatmap", M, false, true);
  const legend = createLegend(e.row);
  const note = html("div", "lstmviz-tiles-note");
  root.append(note);
  const ctx = context2d(e.canvas);
  const off = document.createElement("canvas");
  const offCtx = context2d(off);
  const mark = markMover(e.cursor);
  const scales = new Map<string, ColorScale>();
  let rootWidth = 0;
  let width = 0;
  let height = 0;
  let last: WindowImage | null = null;
  let byTiles = false;

  const current = (): { q: string; arr: TiledArray; units: number } | null => {
    const s = store.state;
    const layer = findTiledLayer(payload, s.layer);
    const want = opts.quantity ?? s.quantity;
    if (opts.quantity !== undefined && !layer.arrays.has(want)) return null;
    const arr = layer.arrays.get(want) ?? (layer.arrays.get("h") as TiledArray);
    return { q: layer.arrays.has(want) ? want : "h", arr, units: layer.units };
  };

  const placeCursor = (): void => {
    const t = store.state.timestep;
    const w = store.state.window;
    mark.place(M.left + stepToPx(t, w, width) - 1, M.top - 2, height + 2, t >= w[0] && t < w[1] && width > 0);
  };

  const draw = (): void => {
    const t0 = performance.now();
    const s = store.state;
    const cur = current();
    root.hidden = cur === null;
    if (cur === null) return;
    const { q, arr, units } = cur;
    width = Math.max(0, rootWidth - M.left - M.right - LEGEND_WIDTH);
    height = opts.height ?? heatmapPlotHeight(units);
    layoutElements(e, M, width, height, false);
    if (width <= 0 || !ctx || !offCtx) return;
    const dpr = window.devicePixelRatio || 1;
    const img = data.image(arr, s.sample, s.window, Math.max(1, Math.round(width * dpr)));
    last = img;
    const id = `${arr.key}\u0001${s.sample}`;
    let scale = scales.get(id);
    if (!scale) {
      const dom = data.domain(arr, s.sample);
      scale = scaleOf(q, dom, img);
      if (dom) scales.set(id, scale);
    }
    const px = paintColumns(img, scale);
    if (off.width !== img.cols) off.width = img.cols;
    if (off.height !== units) off.height = units;
    const imageData = offCtx.createImageData(img.cols, units);
    new Uint32Array(imageData.data.buffer).set(px);
    offCtx.putImageData(imageData, 0, 0);
    const len = findTiledLayer(payload, s.layer).lengths[s.sample] ?? T;
    blit(ctx, e.canvas, { image: off, sx: 0, sw: img.cols, sh: units }, img.win, img.win, width, height, len);
    drawXAxis(e.xAxisG, M, img.win, width, height, true);
    drawYAxis(
      e,
      M,
      Int32Array.from({ length: units }, (_, u) => u),
      "natural",
      height,
      false,
    );
    const sample = payload.nSamples > 1 ? ` · sample ${s.sample}` : "";
    e.caption.textContent = `${quantityShort(q)} · ${s.layer}${sample}`;
    const agg = aggregationText(img.stepsPerColumn);
    legend.update({
      scale,
      quantity: q,
      top: M.top,
      height,
      totalHeight: height + M.top + M.bottom,
      showPadding: len < T,
      showNaN: false,
      note: agg ? ["min/max of", `${agg.split(" ")[2]} steps/px`] : [],
      noteTitle: agg,
    });
    const waiting = img.complete ? "" : " — finer tiles on their way";
    const notes = [agg ? agg + waiting : "", payload.tiling.note, data.client.lastError ?? ""].filter(Boolean);
    note.textContent = notes.join(" · ");
    placeCursor();
    root.dataset.level = String(Math.max(...img.levels));
    root.dataset.wantedLevel = String(img.level);
    root.dataset.stepsPerColumn = String(img.stepsPerColumn);
    root.dataset.window = `${img.win[0]},${img.win[1]}`;
    root.dataset.complete = String(img.complete);
    root.dataset.pending = String(data.client.pending);
    root.dataset.drawMs = (performance.now() - t0).toFixed(2);
    if (byTiles && data.client.lastReplySentAt !== null) {
      root.dataset.tileMs = (performance.now() - data.client.lastReplySentAt).toFixed(1);
    }
    byTiles = false;
  };
  const life = tiledLifecycle(store, data, root, draw, ["window", "sample", "layer", "quantity"], (w) => {
    rootWidth = w;
  });
  life.subscribe((_s, changed) => {
    if (changed.has("timestep")) placeCursor();
  });
  life.onDispose(
    data.client.onTiles(() => {
      byTiles = true;
      root.dataset.pending = String(data.client.pending);
    }),
  );
  life.onDispose(attachPointer(e, store, data, current, () => last));
  life.onDispose(() => legend.destroy());
  return life.dispose;
}

type Current = () => { q: string; arr: TiledArray; units: number } | null;

/** Click/drag scrubs, hover tooltips (exact at level 0), Ctrl/⌘ + wheel zoom, Shift + wheel pan. */
function attachPointer(
  e: PanelElements,
  store: Store,
  data: TiledData,
  current: Current,
  lastImage: () => WindowImage | null,
): () => void {
  const T = data.nSteps;
  const stepAt = (ev: MouseEvent): number => {
    const r = e.canvas.getBoundingClientRect();
    return clamp(Math.floor(pxToStep(ev.clientX - r.left, store.state.window, r.width)), 0, T - 1);
  };
  let dragging = false;
  const onDown = (ev: PointerEvent): void => {
    dragging = true;
    e.plot.setPointerCapture?.(ev.pointerId);
    store.set({ timestep: stepAt(ev) });
  };
  const onUp = (): void => {
    dragging = false;
  };
  const onMove = (ev: PointerEvent): void => {
    if (dragging) store.set({ timestep: stepAt(ev) });
    const r = e.canvas.getBoundingClientRect();
    const cur = current();
    if (cur === null) return;
    const { arr, units, q } = cur;
    const u = clamp(Math.floor(((ev.clientY - r.top) / Math.max(1, r.height)) * units), 0, units - 1);
    if (ev.clientY < r.top || ev.clientY > r.bottom || ev.clientX < r.left || ev.clientX > r.right) {
      e.tooltip.hidden = true;
      return;
    }
    const t = stepAt(ev);
    const exact = data.exactAt(arr, store.state.sample, t);
    let lines: string[];
    const token = data.tokenAt(store.state.sample, t);
    const head = token ? `step ${t} “${token}” · unit ${u}` : `step ${t} · unit ${u}`;
    if (exact) lines = [head, `${quantityShort(q)} = ${formatValue(exact[u])}`];
    else if (lastImage()) {
      const last = lastImage() as WindowImage;
      const c = clamp(Math.floor(((ev.clientX - r.left) / r.width) * last.cols), 0, last.cols - 1);
      const lo = last.lo[c * last.width + u];
      const hi = last.hi[c * last.width + u];
      lines = [`steps ≈ ${t} · unit ${u}`, `min ${formatValue(lo)} · max ${formatValue(hi)}`, "exact value loading…"];
    } else lines = [`step ${t} · unit ${u}`];
    placeTooltip(e.tooltip, e.plot, ev, lines);
    store.set({ hoverUnit: u });
  };
  const onLeave = (): void => {
    e.tooltip.hidden = true;
    store.set({ hoverUnit: null });
  };
  const onWheel = (ev: WheelEvent): void => {
    if (!(ev.ctrlKey || ev.metaKey || ev.shiftKey)) return;
    ev.preventDefault();
    const w = store.state.window;
    if (ev.shiftKey) {
      const d = ev.deltaY || ev.deltaX;
      store.set({ window: panWindow(w, Math.sign(d) * Math.max(1, (w[1] - w[0]) / 10), T) });
    } else store.set({ window: zoomWindow(w, ev.deltaY > 0 ? 1.25 : 0.8, stepAt(ev), T) });
  };
  e.plot.addEventListener("pointerdown", onDown);
  e.plot.addEventListener("pointerup", onUp);
  e.plot.addEventListener("pointermove", onMove);
  e.plot.addEventListener("pointerleave", onLeave);
  e.plot.addEventListener("wheel", onWheel, { passive: false });
  return () => {
    e.plot.removeEventListener("pointerdown", onDown);
    e.plot.removeEventListener("pointerup", onUp);
    e.plot.removeEventListener("pointermove", onMove);
    e.plot.removeEventListener("pointerleave", onLeave);
    e.plot.removeEventListener("wheel", onWheel);
  };
}
