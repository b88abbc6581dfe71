/**
 * The PCA trajectory of a long (tiled) capture (data-view "trajectory"): h on its first two
 * principal components (computed in the kernel on first request, analysis.pca) over the zoom
 * window, as a level-of-detail path. The window is cut into at most PATH_BUCKETS pixel-free
 * buckets read from tiles (js/tiles/source.ts); while a bucket holds several steps it is drawn
 * as its min–max box in PC1 × PC2 (every step of it lies inside) with the path through the box
 * centres, coloured from early (light) to late (dark); zoomed in to ≤ PATH_BUCKETS steps the
 * path is every exact step. The cursor's exact point is a dot (its level-0 tile).
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { createCard, sizeCanvas } from "../parts/card";
import { sequentialInterpolator } from "../math/scales";
import { svg } from "../render/dom";
import type { Store } from "../store";
import { tiledLifecycle } from "../parts/tiled";
import { findTiledLayer } from "../tiles/payload";
import type { TiledData } from "../tiles/source";

export const PATH_BUCKETS = 400;
const H = 260;
const M = { top: 8, right: 12, bottom: 30, left: 44 };

export function createLongTrajectory(container: HTMLElement, store: Store, data: TiledData): (() => void) | null {
  if (!data.payload.layers.some((l) => l.trajectory && l.trajectory.width >= 2)) return null;
  const card = createCard(container, "trajectory", "lstmviz-trajectory");
  const xAxisG = svg("g", { class: "lstmviz-axis" });
  const yAxisG = svg("g", { class: "lstmviz-axis" });
  card.svg.append(xAxisG, yAxisG);
  let rootWidth = 0;

  const draw = (): void => {
    const s = store.state;
    const layer = findTiledLayer(data.payload, s.layer);
    const traj = layer.trajectory;
    card.root.hidden = !traj || traj.width < 2;
    if (!traj || traj.width < 2) return;
    card.title.textContent = `trajectory of h · ${layer.name}`;
    const w = Math.max(0, Math.min(rootWidth, 520) - M.left - M.right);
    const plotH = H - M.top - M.bottom;
    card.plot.style.height = `${H}px`;
    card.svg.setAttribute("width", String(w + M.left + M.right));
    card.svg.setAttribute("height", String(H));
    const dpr = sizeCanvas(card.canvas, M.left, M.top, Math.max(1, w), plotH);
    const ctx = card.ctx;
    const dom = data.domain(traj, s.sample);
    const img = data.image(traj, s.sample, s.window, PATH_BUCKETS);
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, plotH);
    if (!dom || img.missing === img.cols) {
      card.subtitle.textContent = "PC1 × PC2 · computing in the kernel…";
      card.root.dataset.buckets = "0";
      return;
    }
    const W = traj.width;
    const pad = (a: number, b: number): [number, number] =>
      b > a ? [a - 0.05 * (b - a), b + 0.05 * (b - a)] : [a - 1, a + 1];
    const x = scaleLinear().domain(pad(dom[0], dom[W])).range([0, w]);
    const y = scaleLinear()
      .domain(pad(dom[1], dom[W + 1]))
      .range([plotH, 0]);
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + plotH})`);
    yAxisG.setAttribute("transform", `translate(${M.left}, ${M.top})`);
    select(xAxisG).call(axisBottom(x).ticks(5));
    select(yAxisG).call(axisLeft(y).ticks(4));
    const boxes = img.stepsPerColumn > 1;
    const colourOf = (c: number): string => sequentialInterpolator(0.1 + (0.75 * c) / Math.max(1, img.cols - 1));
    const box = (c: number): number[] | null => {
      if (img.levels[c] < 0) return null;
      const v = [img.lo[c * W], img.hi[c * W], img.lo[c * W + 1], img.hi[c * W + 1]];
      return v.every(Number.isFinite) ? v : null;
    };
    if (boxes) {
      // first every bucket's box, faint, then the path over them
      ctx.globalAlpha = 0.05;
      for (let c = 0; c < img.cols; c++) {
        const b = box(c);
        if (!b) continue;
        ctx.fillStyle = colourOf(c);
        ctx.fillRect(x(b[0]), y(b[3]), Math.max(1, x(b[1]) - x(b[0])), Math.max(1, y(b[2]) - y(b[3])));
      }
      ctx.globalAlpha = 1;
    }
    let prev: [number, number] | null = null;
    ctx.lineWidth = 1.2;
    for (let c = 0; c < img.cols; c++) {
      const b = box(c);
      if (!b) continue;
      const p: [number, number] = [x((b[0] + b[1]) / 2), y((b[2] + b[3]) / 2)];
      if (prev) {
        ctx.strokeStyle = colourOf(c);
        ctx.beginPath();
        ctx.moveTo(prev[0], prev[1]);
        ctx.lineTo(p[0], p[1]);
        ctx.stroke();
      }
      prev = p;
    }
    const at = data.exactAt(traj, s.sample, s.timestep);
    if (at) {
      ctx.fillStyle = "#d62728";
      ctx.beginPath();
      ctx.arc(x(at[0]), y(at[1]), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
    const per = img.stepsPerColumn;
    card.subtitle.textContent = boxes
      ? `PC1 × PC2 · ${img.cols} buckets of ${per >= 10 ? Math.round(per) : per.toFixed(1)} steps (boxes: their min–max)`
      : "PC1 × PC2 · every step";
    card.root.dataset.buckets = String(img.cols);
    card.root.dataset.stepsPerBucket = String(per);
  };
  const life = tiledLifecycle(store, data, card.root, draw, ["timestep", "window", "sample", "layer"], (w) => {
    rootWidth = w;
  });
  return life.dispose;
}
