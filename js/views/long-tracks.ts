/**
 * Line tracks of a long (tiled) capture (data-view "long-tracks"), on the heatmap's time axis:
 * the numeric input's features, the layer's gate means and memory flow (means over units per
 * step, `series`), the gradient norm of the shown quantity, saliency, confidence, the predicted class and the mistakes (1 = wrong) —
 * whichever the capture has; one colour per column (gate, feature), the legend in the caption's
 * tooltip. Each pixel column draws the min–max band of its
 * steps (a bar from min to max, so a one-step spike shows at every zoom); zoomed in to fewer
 * steps than columns the band is one exact value per step, joined by a line. Tiles as the
 * heatmap (js/tiles/source.ts): the coarser level at once while finer tiles come.
 */
import { HEATMAP_MARGIN } from "../parts/heatmap/panel";
import { LEGEND_WIDTH } from "../parts/legend";
import { sizeCanvas } from "../parts/card";
import { SERIES_COLORS } from "../math/scales";
import { html } from "../render/dom";
import type { Store } from "../store";
import { tiledLifecycle } from "../parts/tiled";
import { findTiledLayer, type TiledArray } from "../tiles/payload";
import type { TiledData } from "../tiles/source";

const TRACK_H = 56;
/** Line height of the caption column (its name may take 2 lines, then one per column key). */
const LINE_H = 12;

interface Track {
  name: string;
  label: string;
  arr: () => TiledArray | null;
  el: HTMLElement;
  canvas: HTMLCanvasElement;
  caption: HTMLElement;
}

/** y of value v on a track of height h for [d0, d1]. */
function yOf(v: number, d0: number, d1: number, h: number): number {
  const t = d1 === d0 ? 0.5 : (v - d0) / (d1 - d0);
  return h - 2 - Math.max(0, Math.min(1, t)) * (h - 4);
}

export function createLongTracks(container: HTMLElement, store: Store, data: TiledData): (() => void) | null {
  const p = data.payload;
  const defs: Array<[string, string, () => TiledArray | null]> = [];
  if (p.input) defs.push(["input", p.input.label, () => p.input?.values ?? null]);
  const names = new Set(p.layers.flatMap((l) => [...l.series.keys()]));
  for (const name of names) {
    defs.push([name, name, () => findTiledLayer(p, store.state.layer).series.get(name) ?? null]);
  }
  defs.push([
    "gradients",
    "‖∂L/∂q‖",
    () => findTiledLayer(p, store.state.layer).gradNorms.get(store.state.quantity) ?? null,
  ]);
  if (p.saliency) defs.push(["saliency", "saliency", () => p.saliency]);
  if (p.confidence) defs.push(["confidence", "confidence", () => p.confidence]);
  if (p.predicted) defs.push(["predicted", "predicted class", () => p.predicted]);
  if (p.mispredicted) defs.push(["mispredicted", "wrong (1)", () => p.mispredicted]);
  const root = html("div", "lstmviz-view lstmviz-long-tracks");
  root.dataset.view = "long-tracks";
  const tracks: Track[] = defs.map(([name, label, arr]) => {
    const el = html("div", "lstmviz-long-track");
    el.dataset.track = name;
    el.style.position = "relative";
    el.style.height = `${TRACK_H}px`;
    const caption = html("div", "lstmviz-caption");
    caption.append(html("div", undefined, label));
    caption.style.position = "absolute";
    caption.style.left = "0";
    caption.style.width = `${HEATMAP_MARGIN.left - 4}px`;
    caption.style.fontSize = "10px";
    caption.style.lineHeight = `${LINE_H}px`;
    caption.style.overflow = "hidden";
    const canvas = html("canvas", "lstmviz-long-track-canvas");
    canvas.style.position = "absolute";
    el.append(caption, canvas);
    root.append(el);
    return { name, label, arr, el, canvas, caption };
  });
  container.append(root);
  let rootWidth = 0;

  const drawTrack = (tr: Track): void => {
    const arr = tr.arr();
    tr.el.hidden = arr === null;
    if (!arr) return;
    const s = store.state;
    const w = Math.max(0, rootWidth - HEATMAP_MARGIN.left - HEATMAP_MARGIN.right - LEGEND_WIDTH);
    const labelsN = ((arr as { labels?: string[] }).labels ?? []).length;
    const trackH = Math.max(TRACK_H, LINE_H * (2 + labelsN) + 4);
    const dpr = sizeCanvas(tr.canvas, HEATMAP_MARGIN.left, 0, Math.max(1, w), trackH);
    const ctx = tr.canvas.getContext("2d");
    if (!ctx || w <= 0) return;
    const img = data.image(arr, s.sample, s.window, Math.max(1, Math.round(w * dpr)));
    const dom = data.domain(arr, s.sample);
    let d0 = Infinity;
    let d1 = -Infinity;
    const src = dom ?? new Float32Array([...img.lo, ...img.hi]);
    const half = dom ? dom.length / 2 : img.lo.length;
    for (let i = 0; i < half; i++) if (src[i] < d0) d0 = src[i];
    for (let i = half; i < src.length; i++) if (src[i] > d1) d1 = src[i];
    if (!(d1 >= d0)) [d0, d1] = [0, 1];
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, tr.canvas.width, tr.canvas.height);
    const H = trackH * dpr;
    const cw = tr.canvas.width / img.cols;
    for (let f = 0; f < img.width; f++) {
      ctx.fillStyle = ctx.strokeStyle = SERIES_COLORS[f % SERIES_COLORS.length];
      ctx.beginPath();
      for (let c = 0; c < img.cols; c++) {
        if (img.levels[c] < 0) continue;
        const lo = img.lo[c * img.width + f];
        const hi = img.hi[c * img.width + f];
        if (!Number.isFinite(lo) || !Number.isFinite(hi)) continue;
        const ya = yOf(hi, d0, d1, H);
        const yb = yOf(lo, d0, d1, H);
        if (img.stepsPerColumn <= 1) {
          const x = (c + 0.5) * cw;
          if (c === 0) ctx.moveTo(x, ya);
          else ctx.lineTo(x, ya);
        } else ctx.fillRect(c * cw, ya, Math.max(1, cw), Math.max(1, yb - ya));
      }
      if (img.stepsPerColumn <= 1) ctx.stroke();
    }
    tr.el.dataset.stepsPerColumn = String(img.stepsPerColumn);
    tr.caption.title = `${tr.label}: ${d0.toPrecision(3)} … ${d1.toPrecision(3)}`;
    const labels = (arr as { labels?: string[] }).labels ?? [];
    // tall enough for its caption: the name (up to 2 lines) and one line per column key
    if (tr.el.style.height !== `${trackH}px`) tr.el.style.height = `${trackH}px`;
    if (labels.length && tr.caption.childElementCount === 1) {
      for (const [i, l] of labels.entries()) {
        const key = html("div", "lstmviz-series-key", l);
        key.style.color = SERIES_COLORS[i % SERIES_COLORS.length];
        tr.caption.append(key);
      }
    }
  };
  const draw = (): void => {
    for (const tr of tracks) drawTrack(tr);
  };
  const life = tiledLifecycle(store, data, root, draw, ["window", "sample", "layer", "quantity"], (w) => {
    rootWidth = w;
  });
  return life.dispose;
}
