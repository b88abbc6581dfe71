/**
 * Trajectory card: the current layer's hidden states projected on their principal components
 * (`layer.pca`), PC1 against PC2 (a select offers PC1×PC3 and PC2×PC3 when k = 3; PC1 over
 * time when k = 1). The current sample's path is a line coloured by time (legend
 * "t = 0 … T−1"), the other samples faded grey behind it; padded steps are not drawn. The
 * cursor's point is a big SVG dot that moves on scrub without redrawing the canvas. Clicking
 * near a point of the current sample (≤ 8 px) moves the cursor there; hovering shows t, the
 * token and the coordinates. Hidden for layers without PCA.
 *
 * Long sequences: paths are decimated to pixel resolution (js/trajectory.ts) once per
 * (layer, sample, axes, size); the grey samples are drawn once per (layer, axes, size) into an
 * offscreen canvas, so switching samples redraws only the current path.
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { cardSelect, createCard, cssVar, isDarkColor, showTooltip, sizeCanvas } from "../parts/card";
import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { context2d, html, setText, svg, uniqueId } from "../render/dom";
import { formatValue, sequentialInterpolator } from "../math/scales";

import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";

import {
  affineOf,
  axisValue,
  decimatePath,
  extentOf,
  formatRatio,
  nearestPoint,
  pathPixels,
  type AxisSource,
  type Projection,
} from "../math/trajectory";

/** Margins of the plot area (CSS px); `left` grows with the y tick labels. */
const M = { top: 10, right: 14, bottom: 34, left: 50 };
const LEGEND_H = 24;
const PICK_PX = 8;
/** Colour buckets along time for the current path (one stroke each). */
const TIME_BUCKETS = 64;
/** Grey samples are thinned (every n-th sample) above this many points in all. */
const MAX_GREY_POINTS = 2_000_000;
/** Show a dot at every point up to this many valid steps. */
const DOTS_UP_TO = 240;

const PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [1, 2],
];

interface Path {
  key: string;
  len: number;
  xs: Float32Array;
  ys: Float32Array;
  kept: Int32Array;
}

export function createTrajectory(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.pca)) return null;

  const card = createCard(container, "trajectory", "lstmviz-trajectory");
  const { root, plot, canvas, ctx } = card;
  const s = card.svg;
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" });
  const yLabel = svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" });
  const startMark = svg("circle", { class: "lstmviz-traj-start", r: 4, visibility: "hidden" });
  const hoverMark = svg("circle", { class: "lstmviz-traj-hover", r: 5, visibility: "hidden" });
  const cursorDot = svg("circle", { class: "lstmviz-traj-cursor", r: 6, visibility: "hidden" });
  const gradId = uniqueId("lstmviz-traj-grad");
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: gradId, x1: 0, y1: 0, x2: 1, y2: 0 });
  defs.append(grad);
  const legendG = svg("g", { class: "lstmviz-traj-legend" });
  const legendStart = svg("text", { class: "lstmviz-axis-label", "text-anchor": "end" });
  const legendBar = svg("rect", { class: "lstmviz-legend-bar", width: 90, height: 8, fill: `url(#${gradId})` });
  const legendEnd = svg("text", { class: "lstmviz-axis-label" });
  const legendGrey = svg("text", { class: "lstmviz-axis-label" });
  legendG.append(legendStart, legendBar, legendEnd, legendGrey);
  s.append(defs, xAxisG, yAxisG, xLabel, yLabel, legendG, startMark, hoverMark, cursorDot);
  const greyCanvas = html("canvas");
  const greyCtx = ctx ? context2d(greyCanvas) : null;

  // --- local UI state: which pair of components (k = 3 only)
  let pair = 0;
  let pairSelect: ReturnType<typeof cardSelect> | null = null;

  let layer: DecodedLayer = findLayer(payload, store.state.layer);
  let plotWidth = 0;
  let width = 0;
  let height = 0;
  let path: Path | null = null;
  let greyKey = "";
  let dirtyLayout = true;
  let dirtyPath = true;
  let sx = scaleLinear();
  let sy = scaleLinear();

  const projection = (l: DecodedLayer): Projection | null => {
    if (!l.pca) return null;
    const [B, T, k] = l.pca.projection.shape;
    return { data: l.pca.projection.data, B, T, k };
  };
  const axes = (p: Projection): [AxisSource, AxisSource] => {
    if (p.k === 1) return ["time", 0];
    const [a, b] = p.k >= 3 ? PAIRS[pair] : PAIRS[0];
    return [a, b];
  };

  const buildPairSelect = (): void => {
    const p = projection(layer);
    const want = p !== null && p.k >= 3;
    if (want && !pairSelect) {
      pairSelect = cardSelect(
        card.controls,
        "axes",
        PAIRS.map(([a, b], i) => [String(i), `PC${a + 1} × PC${b + 1}`] as const),
        String(pair),
        (v) => {
          pair = Math.max(0, Math.min(PAIRS.length - 1, Number(v) || 0));
          dirtyLayout = true;
          frame.schedule();
        },
      );
    } else if (!want && pairSelect) {
      pairSelect.destroy();
      pairSelect = null;
      pair = 0;
    }
  };

  const axisName = (l: DecodedLayer, src: AxisSource): string => {
    if (src === "time") return "timestep";
    const r = formatRatio(l.pca?.explained[src]);
    return `PC${src + 1}${r ? ` (${r} var.)` : ""}`;
  };

  /** Light theme: viridis up to its pale-yellow end is hard to see on white; dark: its dark
   *  purple start vanishes on black. Each theme gets the readable part of the ramp. */
  const timeRamp = (): ((f: number) => string) => {
    const dark = isDarkColor(cssVar(root, "--lstmviz-bg", "#fff"));
    const [a, b] = dark ? [0.22, 1] : [0, 0.88];
    return (f) => sequentialInterpolator(a + (b - a) * Math.max(0, Math.min(1, f)));
  };

  const layout = (p: Projection): void => {
    height = Math.round(Math.max(170, Math.min(320, (plotWidth - 64) * 0.72)));
    const total = M.top + height + M.bottom + LEGEND_H;
    plot.style.height = `${total}px`;
    s.setAttribute("width", String(plotWidth));
    s.setAttribute("height", String(total));
    const [xs, ys] = axes(p);
    const pad = (e: [number, number]): [number, number] => {
      const d = (e[1] - e[0]) * 0.04;
      return [e[0] - d, e[1] + d];
    };
    sy = scaleLinear()
      .domain(pad(extentOf(p, ys, layer.lengths)))
      .range([height, 0])
      .nice();
    const yTicks = Math.max(2, Math.floor(height / 40));
    const yFormat = sy.tickFormat(yTicks);
    const longest = Math.max(...sy.ticks(yTicks).map((v) => yFormat(v).length), 1);
    M.left = Math.round(Math.max(40, Math.min(90, 26 + longest * 6)));
    width = Math.max(0, plotWidth - M.left - M.right);
    const xe = extentOf(p, xs, layer.lengths);
    sx = scaleLinear()
      .domain(xs === "time" ? [-0.5, Math.max(0.5, xe[1] + 0.5)] : pad(xe))
      .range([0, width]);
    if (xs !== "time") sx.nice();
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + height})`);
    select(xAxisG).call(
      axisBottom(sx)
        .ticks(Math.max(2, Math.floor(width / 70)))
        .tickSizeOuter(0),
    );
    yAxisG.setAttribute("transform", `translate(${M.left - 3}, ${M.top})`);
    select(yAxisG).call(axisLeft(sy).ticks(yTicks).tickSizeOuter(0));
    xLabel.textContent = axisName(layer, xs);
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(M.top + height + 30));
    yLabel.textContent = axisName(layer, ys);
    yLabel.setAttribute("transform", `translate(10, ${M.top + height / 2}) rotate(-90)`);
    sizeCanvas(canvas, M.left, M.top, width, height);
  };

  const pathKey = (sample: number): string => `${layer.name}\u0000${pair}\u0000${sample}\u0000${width}x${height}`;

  const currentPath = (p: Projection): Path => {
    const sample = store.state.sample;
    const key = pathKey(sample);
    if (path && path.key === key) return path;
    const len = Math.min(p.T, layer.lengths[sample] ?? p.T);
    const [xsrc, ysrc] = axes(p);
    const { xs, ys } = pathPixels(p, sample, len, xsrc, ysrc, affineOf(sx), affineOf(sy));
    path = { key, len, xs, ys, kept: decimatePath(xs, ys) };
    return path;
  };

  /** Stroke the kept points of a path (lifting the pen at gaps). */
  const tracePath = (c: CanvasRenderingContext2D, xs: Float32Array, ys: Float32Array, kept: Int32Array): void => {
    let pen = false;
    for (let j = 0; j < kept.length; j++) {
      const i = kept[j];
      const x = xs[i];
      const y = ys[i];
      if (x - x !== 0 || y - y !== 0) {
        pen = false;
        continue;
      }
      if (pen) c.lineTo(x, y);
      else c.moveTo(x, y);
      pen = true;
    }
  };

  /** Other samples, grey, into the offscreen canvas (once per layer, axes and size). */
  const drawGrey = (p: Projection, dpr: number): void => {
    if (!greyCtx) return;
    const fg = cssVar(root, "--lstmviz-fg", "#222");
    const key = `${layer.name}\u0000${pair}\u0000${width}x${height}\u0000${dpr}\u0000${fg}`;
    if (key === greyKey) return;
    greyKey = key;
    greyCanvas.width = canvas.width;
    greyCanvas.height = canvas.height;
    greyCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
    greyCtx.clearRect(0, 0, width, height);
    if (p.B <= 1) return;
    const [xsrc, ysrc] = axes(p);
    let total = 0;
    for (let b = 0; b < p.B; b++) total += Math.min(p.T, layer.lengths[b] ?? p.T);
    const stride = Math.max(1, Math.ceil(total / MAX_GREY_POINTS));
    greyCtx.strokeStyle = fg;
    greyCtx.globalAlpha = 0.2;
    greyCtx.lineWidth = 1;
    greyCtx.lineJoin = "round";
    for (let b = 0; b < p.B; b += stride) {
      const len = Math.min(p.T, layer.lengths[b] ?? p.T);
      const { xs, ys } = pathPixels(p, b, len, xsrc, ysrc, affineOf(sx), affineOf(sy));
      greyCtx.beginPath();
      tracePath(greyCtx, xs, ys, decimatePath(xs, ys));
      greyCtx.stroke();
    }
    greyCtx.globalAlpha = 1;
  };

  const drawCurrent = (c: CanvasRenderingContext2D, pth: Path): void => {
    const { xs, ys, kept, len } = pth;
    const ramp = timeRamp();
    const denom = Math.max(1, len - 1);
    c.lineWidth = 1.8;
    c.lineJoin = "round";
    c.lineCap = "round";
    let bucket = -1;
    let pen = false;
    let px = 0;
    let py = 0;
    for (let j = 0; j < kept.length; j++) {
      const i = kept[j];
      const x = xs[i];
      const y = ys[i];
      if (x - x !== 0 || y - y !== 0) {
        pen = false;
        continue;
      }
      if (pen) {
        const bk = Math.min(TIME_BUCKETS - 1, Math.floor((i / denom) * TIME_BUCKETS));
        if (bk !== bucket) {
          if (bucket >= 0) c.stroke();
          bucket = bk;
          c.strokeStyle = ramp((bk + 0.5) / TIME_BUCKETS);
          c.beginPath();
          c.moveTo(px, py);
        }
        c.lineTo(x, y);
      }
      px = x;
      py = y;
      pen = true;
    }
    if (bucket >= 0) c.stroke();
    if (len <= DOTS_UP_TO) {
      for (let t = 0; t < len; t++) {
        if (xs[t] - xs[t] !== 0 || ys[t] - ys[t] !== 0) continue;
        c.fillStyle = ramp(t / denom);
        c.beginPath();
        c.arc(xs[t], ys[t], 2.2, 0, 2 * Math.PI);
        c.fill();
      }
    }
  };

  const drawLegend = (len: number): void => {
    const ramp = timeRamp();
    grad.replaceChildren();
    for (let i = 0; i < 12; i++) {
      const f = i / 11;
      grad.append(svg("stop", { offset: `${(f * 100).toFixed(1)}%`, "stop-color": ramp(f) }));
    }
    const y = M.top + height + M.bottom + 14;
    const x0 = M.left + 36;
    legendStart.textContent = "t = 0";
    legendStart.setAttribute("x", String(x0 - 4));
    legendStart.setAttribute("y", String(y));
    legendBar.setAttribute("x", String(x0));
    legendBar.setAttribute("y", String(y - 8));
    legendEnd.textContent = `${Math.max(0, len - 1)}`;
    legendEnd.setAttribute("x", String(x0 + 94));
    legendEnd.setAttribute("y", String(y));
    legendGrey.textContent = payload.nSamples > 1 ? "grey: other samples" : "";
    legendGrey.setAttribute("x", String(x0 + 94 + 8 + 7 * String(len - 1).length + 10));
    legendGrey.setAttribute("y", String(y));
  };

  /** Cheap: runs synchronously on every timestep change (moves one SVG circle). */
  const placeCursor = (): void => {
    const t = store.state.timestep;
    cursorDot.dataset.timestep = String(t);
    // a path of another sample/layer (its redraw is one frame away) places nothing
    const pth =
      path !== null && path.key === pathKey(store.state.sample) && layer.name === store.state.layer ? path : null;
    const ok = pth !== null && !root.hidden && t < pth.len && Number.isFinite(pth.xs[t]) && Number.isFinite(pth.ys[t]);
    cursorDot.setAttribute("visibility", ok ? "visible" : "hidden");
    if (ok && pth) {
      cursorDot.setAttribute("cx", String(M.left + pth.xs[t]));
      cursorDot.setAttribute("cy", String(M.top + pth.ys[t]));
    }
    updateTitle();
  };

  const updateTitle = (): void => {
    const sample = payload.nSamples > 1 ? ` · sample ${store.state.sample}` : "";
    const dir = layer.direction && !layer.name.endsWith(layer.direction) ? ` (${layer.direction})` : "";
    setText(card.title, `trajectory · PCA of h · ${layer.name}${dir}${sample}`);
    const t = store.state.timestep;
    const len = path?.len ?? 0;
    const k = layer.pca?.k ?? 0;
    const where = t < len ? `cursor t = ${t}` : `cursor t = ${t} is padding (not drawn)`;
    setText(card.subtitle, `${k === 1 ? "1 component (PC1 over time)" : `${k} components`} · ${where}`);
  };

  const draw = (): void => {
    const l = findLayer(payload, store.state.layer);
    if (l !== layer) {
      layer = l;
      dirtyLayout = true;
    }
    const p = projection(layer);
    root.hidden = p === null;
    buildPairSelect();
    if (!p) {
      path = null;
      placeCursor();
      return;
    }
    if (dirtyLayout) {
      layout(p);
      dirtyLayout = false;
      dirtyPath = true;
      path = null;
    }
    if (dirtyPath) {
      const pth = currentPath(p);
      if (ctx) {
        const dpr = sizeCanvas(canvas, M.left, M.top, width, height);
        drawGrey(p, dpr);
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        if (greyCtx && p.B > 1) ctx.drawImage(greyCanvas, 0, 0);
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        drawCurrent(ctx, pth);
      }
      const x0 = pth.xs[0];
      const y0 = pth.ys[0];
      const startOk = pth.len > 0 && Number.isFinite(x0) && Number.isFinite(y0);
      startMark.setAttribute("visibility", startOk ? "visible" : "hidden");
      if (startOk) {
        startMark.setAttribute("cx", String(M.left + x0));
        startMark.setAttribute("cy", String(M.top + y0));
      }
      drawLegend(pth.len);
      dirtyPath = false;
    }
    placeCursor();
  };
  const life = createLifecycle(store, draw);
  const frame = life.frame;

  const onStore = (_s: unknown, changed: ReadonlySet<StateKey>): void => {
    if (changed.has("layer") || changed.has("epoch")) dirtyLayout = true;
    if (changed.has("sample")) dirtyPath = true;
    if (changed.has("timestep")) placeCursor();
    if (dirtyLayout || dirtyPath) frame.schedule();
  };
  life.subscribe(onStore);

  // --- pointer: nearest point of the current sample (≤ 8 px): hover tooltip, click scrubs
  const pick = (e: MouseEvent): number => {
    if (!path) return -1;
    const r = plot.getBoundingClientRect();
    return nearestPoint(path.xs, path.ys, e.clientX - r.left - M.left, e.clientY - r.top - M.top, PICK_PX);
  };
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const t = pick(e);
    if (t >= 0) store.set({ timestep: t });
  };
  const onMove = (e: PointerEvent): void => {
    const t = pick(e);
    const p = projection(layer);
    if (t < 0 || !path || !p) {
      card.tooltip.hidden = true;
      hoverMark.setAttribute("visibility", "hidden");
      plot.style.cursor = "";
      return;
    }
    plot.style.cursor = "pointer";
    hoverMark.setAttribute("visibility", "visible");
    hoverMark.setAttribute("cx", String(M.left + path.xs[t]));
    hoverMark.setAttribute("cy", String(M.top + path.ys[t]));
    const lines = [`t = ${t}`];
    const tok = payload.tokens?.[store.state.sample]?.[t];
    if (tok) lines.push(`token: ${tok}`);
    const [xsrc, ysrc] = axes(p);
    const coord = (src: AxisSource): string | null =>
      src === "time" ? null : `PC${src + 1} = ${formatValue(axisValue(p, src, store.state.sample, t))}`;
    for (const c of [coord(xsrc), coord(ysrc)]) if (c) lines.push(c);
    lines.push("click: move the cursor here");
    showTooltip(card, e, lines);
  };
  const onLeave = (): void => {
    card.tooltip.hidden = true;
    hoverMark.setAttribute("visibility", "hidden");
  };
  life.listen(plot, "pointerdown", onDown);
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerleave", onLeave);
  life.onResize(plot, (w) => {
    plotWidth = w;
    dirtyLayout = true;
  });
  life.onTheme(root, () => {
    dirtyPath = true;
  });
  life.onDispose(() => {
    pairSelect?.destroy();
    root.remove();
  });
  plotWidth = plot.clientWidth;
  draw();

  return life.dispose;
}
