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
import { scaleLinear, type ScaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { cardSelect, createCard, cssVar, isDarkColor, showTooltip, sizeCanvas, type Card } from "../parts/card";
import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { context2d, html, setText } from "../render/dom";
import { formatValue, sequentialInterpolator } from "../math/scales";

import { createLifecycle, type Lifecycle } from "../parts/lifecycle";
import { createOverlay, drawTimeLegend, type Overlay } from "../parts/trajectory/overlay";
import { strokeGreyPaths, strokeTimePath } from "../render/trajectory-paths";
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

/** One trajectory card: inputs, elements, local UI state, scales, caches and dirty flags. */
interface View {
  store: Store;
  payload: DecodedPayload;
  card: Card;
  o: Overlay;
  greyCanvas: HTMLCanvasElement;
  greyCtx: CanvasRenderingContext2D | null;
  /** Local UI state: which pair of components (k = 3 only). */
  pair: number;
  pairSelect: ReturnType<typeof cardSelect> | null;
  layer: DecodedLayer;
  plotWidth: number;
  width: number;
  height: number;
  path: Path | null;
  greyKey: string;
  dirtyLayout: boolean;
  dirtyPath: boolean;
  sx: ScaleLinear<number, number>;
  sy: ScaleLinear<number, number>;
  /** Schedules one frame (set once the lifecycle exists). */
  schedule: () => void;
}

export function createTrajectory(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.pca)) return null;

  const card = createCard(container, "trajectory", "lstmviz-trajectory");
  const { root, plot, ctx } = card;
  const greyCanvas = html("canvas");
  const v: View = {
    store,
    payload,
    card,
    o: createOverlay(card.svg),
    greyCanvas,
    greyCtx: ctx ? context2d(greyCanvas) : null,
    pair: 0,
    pairSelect: null,
    layer: findLayer(payload, store.state.layer),
    plotWidth: 0,
    width: 0,
    height: 0,
    path: null,
    greyKey: "",
    dirtyLayout: true,
    dirtyPath: true,
    sx: scaleLinear(),
    sy: scaleLinear(),
    schedule: () => {},
  };

  const life = createLifecycle(store, () => draw(v));
  const frame = life.frame;
  v.schedule = () => frame.schedule();

  const onStore = (_s: unknown, changed: ReadonlySet<StateKey>): void => {
    if (changed.has("layer") || changed.has("epoch")) v.dirtyLayout = true;
    if (changed.has("sample")) v.dirtyPath = true;
    if (changed.has("timestep")) placeCursor(v);
    if (v.dirtyLayout || v.dirtyPath) frame.schedule();
  };
  life.subscribe(onStore);
  listenPointer(v, life);
  life.onResize(plot, (w) => {
    v.plotWidth = w;
    v.dirtyLayout = true;
  });
  life.onTheme(root, () => {
    v.dirtyPath = true;
  });
  life.onDispose(() => {
    v.pairSelect?.destroy();
    root.remove();
  });
  v.plotWidth = plot.clientWidth;
  draw(v);

  return life.dispose;
}

function projection(l: DecodedLayer): Projection | null {
  if (!l.pca) return null;
  const [B, T, k] = l.pca.projection.shape;
  return { data: l.pca.projection.data, B, T, k };
}

function axes(v: View, p: Projection): [AxisSource, AxisSource] {
  if (p.k === 1) return ["time", 0];
  const [a, b] = p.k >= 3 ? PAIRS[v.pair] : PAIRS[0];
  return [a, b];
}

function buildPairSelect(v: View): void {
  const p = projection(v.layer);
  const want = p !== null && p.k >= 3;
  if (want && !v.pairSelect) {
    v.pairSelect = cardSelect(
      v.card.controls,
      "axes",
      PAIRS.map(([a, b], i) => [String(i), `PC${a + 1} × PC${b + 1}`] as const),
      String(v.pair),
      (val) => {
        v.pair = Math.max(0, Math.min(PAIRS.length - 1, Number(val) || 0));
        v.dirtyLayout = true;
        v.schedule();
      },
    );
  } else if (!want && v.pairSelect) {
    v.pairSelect.destroy();
    v.pairSelect = null;
    v.pair = 0;
  }
}

function axisName(l: DecodedLayer, src: AxisSource): string {
  if (src === "time") return "timestep";
  const r = formatRatio(l.pca?.explained[src]);
  return `PC${src + 1}${r ? ` (${r} var.)` : ""}`;
}

/** Light theme: viridis up to its pale-yellow end is hard to see on white; dark: its dark
 *  purple start vanishes on black. Each theme gets the readable part of the ramp. */
function timeRamp(root: HTMLElement): (f: number) => string {
  const dark = isDarkColor(cssVar(root, "--lstmviz-bg", "#fff"));
  const [a, b] = dark ? [0.22, 1] : [0, 0.88];
  return (f) => sequentialInterpolator(a + (b - a) * Math.max(0, Math.min(1, f)));
}

function layout(v: View, p: Projection): void {
  const { card, o, layer, plotWidth } = v;
  const s = card.svg;
  const height = Math.round(Math.max(170, Math.min(320, (plotWidth - 64) * 0.72)));
  v.height = height;
  const total = M.top + height + M.bottom + LEGEND_H;
  card.plot.style.height = `${total}px`;
  s.setAttribute("width", String(plotWidth));
  s.setAttribute("height", String(total));
  const [xs, ys] = axes(v, p);
  const pad = (e: [number, number]): [number, number] => {
    const d = (e[1] - e[0]) * 0.04;
    return [e[0] - d, e[1] + d];
  };
  const sy = scaleLinear()
    .domain(pad(extentOf(p, ys, layer.lengths)))
    .range([height, 0])
    .nice();
  v.sy = sy;
  const yTicks = Math.max(2, Math.floor(height / 40));
  const yFormat = sy.tickFormat(yTicks);
  const longest = Math.max(...sy.ticks(yTicks).map((t) => yFormat(t).length), 1);
  M.left = Math.round(Math.max(40, Math.min(90, 26 + longest * 6)));
  const width = Math.max(0, plotWidth - M.left - M.right);
  v.width = width;
  const xe = extentOf(p, xs, layer.lengths);
  const sx = scaleLinear()
    .domain(xs === "time" ? [-0.5, Math.max(0.5, xe[1] + 0.5)] : pad(xe))
    .range([0, width]);
  if (xs !== "time") sx.nice();
  v.sx = sx;
  o.xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + height})`);
  select(o.xAxisG).call(
    axisBottom(sx)
      .ticks(Math.max(2, Math.floor(width / 70)))
      .tickSizeOuter(0),
  );
  o.yAxisG.setAttribute("transform", `translate(${M.left - 3}, ${M.top})`);
  select(o.yAxisG).call(axisLeft(sy).ticks(yTicks).tickSizeOuter(0));
  o.xLabel.textContent = axisName(layer, xs);
  o.xLabel.setAttribute("x", String(M.left + width / 2));
  o.xLabel.setAttribute("y", String(M.top + height + 30));
  o.yLabel.textContent = axisName(layer, ys);
  o.yLabel.setAttribute("transform", `translate(10, ${M.top + height / 2}) rotate(-90)`);
  sizeCanvas(card.canvas, M.left, M.top, width, height);
}

function pathKey(v: View, sample: number): string {
  return `${v.layer.name}\u0000${v.pair}\u0000${sample}\u0000${v.width}x${v.height}`;
}

function currentPath(v: View, p: Projection): Path {
  const sample = v.store.state.sample;
  const key = pathKey(v, sample);
  if (v.path && v.path.key === key) return v.path;
  const len = Math.min(p.T, v.layer.lengths[sample] ?? p.T);
  const [xsrc, ysrc] = axes(v, p);
  const { xs, ys } = pathPixels(p, sample, len, xsrc, ysrc, affineOf(v.sx), affineOf(v.sy));
  v.path = { key, len, xs, ys, kept: decimatePath(xs, ys) };
  return v.path;
}

/** Other samples, grey, into the offscreen canvas (once per layer, axes and size). */
function drawGrey(v: View, p: Projection, dpr: number): void {
  const { greyCtx, greyCanvas, width, height } = v;
  if (!greyCtx) return;
  const fg = cssVar(v.card.root, "--lstmviz-fg", "#222");
  const key = `${v.layer.name}\u0000${v.pair}\u0000${width}x${height}\u0000${dpr}\u0000${fg}`;
  if (key === v.greyKey) return;
  v.greyKey = key;
  greyCanvas.width = v.card.canvas.width;
  greyCanvas.height = v.card.canvas.height;
  greyCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
  greyCtx.clearRect(0, 0, width, height);
  if (p.B <= 1) return;
  strokeGreyPaths(greyCtx, p, v.layer.lengths, axes(v, p), affineOf(v.sx), affineOf(v.sy), fg);
}

function drawLegend(v: View, len: number): void {
  const y = M.top + v.height + M.bottom + 14;
  drawTimeLegend(v.o, M.left + 36, y, len, timeRamp(v.card.root), v.payload.nSamples > 1);
}

/** Cheap: runs synchronously on every timestep change (moves one SVG circle). */
function placeCursor(v: View): void {
  const { store, path, layer } = v;
  const { cursorDot } = v.o;
  const t = store.state.timestep;
  cursorDot.dataset.timestep = String(t);
  // a path of another sample/layer (its redraw is one frame away) places nothing
  const pth =
    path !== null && path.key === pathKey(v, store.state.sample) && layer.name === store.state.layer ? path : null;
  const ok =
    pth !== null && !v.card.root.hidden && t < pth.len && Number.isFinite(pth.xs[t]) && Number.isFinite(pth.ys[t]);
  cursorDot.setAttribute("visibility", ok ? "visible" : "hidden");
  if (ok && pth) {
    cursorDot.setAttribute("cx", String(M.left + pth.xs[t]));
    cursorDot.setAttribute("cy", String(M.top + pth.ys[t]));
  }
  updateTitle(v);
}

function updateTitle(v: View): void {
  const { store, layer, card } = v;
  const sample = v.payload.nSamples > 1 ? ` · sample ${store.state.sample}` : "";
  const dir = layer.direction && !layer.name.endsWith(layer.direction) ? ` (${layer.direction})` : "";
  setText(card.title, `trajectory · PCA of h · ${layer.name}${dir}${sample}`);
  const t = store.state.timestep;
  const len = v.path?.len ?? 0;
  const k = layer.pca?.k ?? 0;
  const where = t < len ? `cursor t = ${t}` : `cursor t = ${t} is padding (not drawn)`;
  setText(card.subtitle, `${k === 1 ? "1 component (PC1 over time)" : `${k} components`} · ${where}`);
}

function draw(v: View): void {
  const l = findLayer(v.payload, v.store.state.layer);
  if (l !== v.layer) {
    v.layer = l;
    v.dirtyLayout = true;
  }
  const p = projection(v.layer);
  v.card.root.hidden = p === null;
  buildPairSelect(v);
  if (!p) {
    v.path = null;
    placeCursor(v);
    return;
  }
  if (v.dirtyLayout) {
    layout(v, p);
    v.dirtyLayout = false;
    v.dirtyPath = true;
    v.path = null;
  }
  if (v.dirtyPath) {
    drawPath(v, p);
    v.dirtyPath = false;
  }
  placeCursor(v);
}

function drawPath(v: View, p: Projection): void {
  const { ctx, canvas } = v.card;
  const { startMark } = v.o;
  const pth = currentPath(v, p);
  if (ctx) {
    const dpr = sizeCanvas(canvas, M.left, M.top, v.width, v.height);
    drawGrey(v, p, dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (v.greyCtx && p.B > 1) ctx.drawImage(v.greyCanvas, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    strokeTimePath(ctx, pth, timeRamp(v.card.root));
  }
  const x0 = pth.xs[0];
  const y0 = pth.ys[0];
  const startOk = pth.len > 0 && Number.isFinite(x0) && Number.isFinite(y0);
  startMark.setAttribute("visibility", startOk ? "visible" : "hidden");
  if (startOk) {
    startMark.setAttribute("cx", String(M.left + x0));
    startMark.setAttribute("cy", String(M.top + y0));
  }
  drawLegend(v, pth.len);
}

/** Nearest point of the current sample (≤ 8 px): hover tooltip, click scrubs. */
function listenPointer(v: View, life: Lifecycle): void {
  const { card, store } = v;
  const { plot } = card;
  const { hoverMark } = v.o;
  const pick = (e: MouseEvent): number => {
    if (!v.path) return -1;
    const r = plot.getBoundingClientRect();
    return nearestPoint(v.path.xs, v.path.ys, e.clientX - r.left - M.left, e.clientY - r.top - M.top, PICK_PX);
  };
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const t = pick(e);
    if (t >= 0) store.set({ timestep: t });
  };
  const onMove = (e: PointerEvent): void => {
    const t = pick(e);
    const p = projection(v.layer);
    const path = v.path;
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
    const tok = v.payload.tokens?.[store.state.sample]?.[t];
    if (tok) lines.push(`token: ${tok}`);
    const [xsrc, ysrc] = axes(v, p);
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
}
