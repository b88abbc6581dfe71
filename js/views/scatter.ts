/**
 * Weight vs gradient: every weight of the current layer as a point, x = its value, y = ∂L/∂w
 * on a symlog axis (linear within ±c, c ≈ the 10th percentile of the non-zero |∂L/∂w|, so
 * tiny and large gradients are both visible), one colour per gate. Up to DENSITY_THRESHOLD
 * points are drawn one by one; above it (U = D = 512: ≈ 2M weights) they are binned into a
 * per-pixel density grid (colour = the mix of the gates in the pixel, opacity = log count).
 *
 * The hovered unit's and the selected units' weights (the columns of every matrix) are drawn
 * on top, the rest dimmed. Hovering a point (point mode) sets `hoverUnit`; clicking toggles the
 * unit. Absent without weight gradients; hidden for layers without them.
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear, type ScaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { type DecodedLayer, type DecodedPayload, findLayer } from "../codecs";
import { binDensity, DENSITY_THRESHOLD, type DensityGrid, densityToRGBA } from "../math/density";
import { formatValue, parseColor } from "../math/scales";
import { formatPow10, symlog, symlogTicks } from "../math/symlog";
import { collectWeightPoints, nearestWeight, type LayerPoints } from "../math/weight-points";
import { layerTitle } from "../parts/labels";
import { createLifecycle } from "../parts/lifecycle";
import { placeTooltip } from "../parts/tooltip";
import { context2d, html, svg } from "../render/dom";
import { paintPoints, paintUnits } from "../render/scatter-points";
import { themeVar } from "../render/theme";
import { toggleUnit } from "../selection";
import type { StateKey, Store } from "../store";

const M = { top: 8, right: 12, bottom: 34, left: 58 } as const;
const PLOT_H = 230;
const PART_NAME: Record<string, string> = {
  kernel: "input kernel",
  recurrent_kernel: "recurrent kernel",
  bias: "bias",
};

/** One scatter card: elements, scales, caches and dirty flags. */
interface View {
  store: Store;
  payload: DecodedPayload;
  root: HTMLDivElement;
  title: HTMLDivElement;
  note: HTMLDivElement;
  keys: HTMLDivElement;
  plot: HTMLDivElement;
  base: HTMLCanvasElement;
  top: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D | null;
  ctxTop: CanvasRenderingContext2D | null;
  a: Axes;
  tooltip: HTMLDivElement;
  cache: Map<DecodedLayer, LayerPoints | null>;
  pts: LayerPoints | null;
  plotWidth: number;
  width: number;
  x: ScaleLinear<number, number>;
  y: ScaleLinear<number, number>;
  /** Gates switched off in the legend (view-local). */
  hiddenGates: Set<number>;
  grid: DensityGrid | null;
  /** Point mode: pixel position of every point (for hover), in segment order. */
  px: Float32Array | null;
  py: Float32Array | null;
  dirtyLayer: boolean;
  dirtyLayout: boolean;
  dirtyOverlay: boolean;
  /** The unit of the point under the pointer (click toggles it). */
  hoverHit: number | null;
}

interface Axes {
  axes: SVGSVGElement;
  xAxisG: SVGGElement;
  yAxisG: SVGGElement;
  zeroX: SVGLineElement;
  zeroY: SVGLineElement;
  xLabel: SVGTextElement;
  yLabel: SVGTextElement;
}

export function createScatter(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.weights && l.weightGrads)) return null;

  const root = html("div", "lstmviz-view lstmviz-card lstmviz-scatter");
  root.dataset.view = "scatter";
  // head: the shared card classes (js/parts/card.ts): titles (title, subtitle) + controls
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const title = html("div", "lstmviz-card-title");
  const note = html("div", "lstmviz-card-subtitle");
  titles.append(title, note);
  const keys = html("div", "lstmviz-card-controls lstmviz-gate-keys");
  head.append(titles, keys);
  const plot = html("div", "lstmviz-scatter-plot");
  const base = html("canvas", "lstmviz-scatter-canvas");
  const top = html("canvas", "lstmviz-scatter-canvas lstmviz-scatter-emph");
  const a = createAxes();
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(base, top, a.axes, tooltip);
  root.append(head, plot);
  container.append(root);

  const v: View = {
    ...{ store, payload, root, title, note, keys, plot, base, top, a, tooltip },
    ctx: context2d(base),
    ctxTop: context2d(top),
    cache: new Map(),
    pts: null,
    plotWidth: 0,
    width: 0,
    x: scaleLinear(),
    y: scaleLinear(),
    hiddenGates: new Set<number>(),
    grid: null,
    px: null,
    py: null,
    dirtyLayer: true,
    dirtyLayout: true,
    dirtyOverlay: true,
    hoverHit: null,
  };

  const life = createLifecycle(store, () => draw(v));
  const frame = life.frame;
  life.subscribe((_s, changed: ReadonlySet<StateKey>) => {
    if (changed.has("layer")) v.dirtyLayer = true;
    if (changed.has("hoverUnit") || changed.has("selectedUnits")) v.dirtyOverlay = true;
    if (v.dirtyLayer || v.dirtyOverlay) frame.schedule();
  });

  const onLeave = (): void => {
    tooltip.hidden = true;
    v.hoverHit = null;
    store.set({ hoverUnit: null });
  };
  const onClick = (): void => {
    if (v.hoverHit !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, v.hoverHit) });
  };
  const onKey = (e: MouseEvent): void => {
    const btn = e.target instanceof Element ? e.target.closest("button.lstmviz-gate-key") : null;
    if (!(btn instanceof HTMLElement) || !v.pts) return;
    const k = Number(btn.dataset.gate);
    const hiddenGates = v.hiddenGates;
    if (hiddenGates.has(k)) hiddenGates.delete(k);
    else if (hiddenGates.size < v.pts.gates.length - 1) hiddenGates.add(k); // never hide them all
    btn.setAttribute("aria-pressed", String(!hiddenGates.has(k)));
    btn.classList.toggle("off", hiddenGates.has(k));
    v.dirtyLayout = true;
    frame.schedule();
  };
  life.listen(keys, "click", onKey);
  life.listen(plot, "pointermove", (e: PointerEvent) => onMove(v, e));
  life.listen(plot, "pointerleave", onLeave);
  life.listen(plot, "click", onClick);
  life.onResize(plot, (w) => {
    v.plotWidth = w;
    v.dirtyLayout = true;
  });
  life.onTheme(root, () => {
    v.dirtyOverlay = true;
  });
  life.onDispose(() => root.remove());

  v.plotWidth = plot.clientWidth;
  draw(v);

  return life.dispose;
}

function createAxes(): Axes {
  const axes = svg("svg", { class: "lstmviz-scatter-axes" });
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const zeroX = svg("line", { class: "lstmviz-zero-line" });
  const zeroY = svg("line", { class: "lstmviz-zero-line" });
  const xLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "weight w",
  });
  const yLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "∂L/∂w (symlog)",
  });
  axes.append(zeroX, zeroY, xAxisG, yAxisG, xLabel, yLabel);
  return { axes, xAxisG, yAxisG, zeroX, zeroY, xLabel, yLabel };
}

/** x of a weight, clamped onto the plot's edges. */
function xc(v: View, w: number): number {
  const [X0, X1] = v.x.domain();
  return v.x(w < X0 ? X0 : w > X1 ? X1 : w);
}

function sizeCanvas(c: HTMLCanvasElement, width: number, dpr: number): void {
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(PLOT_H * dpr));
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  c.style.left = `${M.left}px`;
  c.style.top = `${M.top}px`;
  c.style.width = `${width}px`;
  c.style.height = `${PLOT_H}px`;
}

function layoutAxes(v: View, p: LayerPoints): void {
  const { axes, xAxisG, yAxisG, zeroX, zeroY, xLabel, yLabel } = v.a;
  const width = Math.max(0, v.plotWidth - M.left - M.right);
  v.width = width;
  const pad = 0.04 * (p.hiW - p.loW || 1);
  const Y = symlog((p.maxG || p.c) * 1.15, p.c);
  const x = scaleLinear()
    .domain([p.loW - pad, p.hiW + pad])
    .range([0, width]);
  const y = scaleLinear().domain([-Y, Y]).range([PLOT_H, 0]);
  v.x = x;
  v.y = y;
  const total = PLOT_H + M.top + M.bottom;
  v.plot.style.height = `${total}px`;
  axes.setAttribute("width", String(width + M.left + M.right));
  axes.setAttribute("height", String(total));
  xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + PLOT_H})`);
  select(xAxisG).call(
    axisBottom(x)
      .ticks(Math.max(2, Math.floor(width / 70)))
      .tickSizeOuter(0),
  );
  const ticks = symlogTicks(p.maxG, p.c, PLOT_H >= 200 ? 3 : 2);
  yAxisG.setAttribute("transform", `translate(${M.left}, ${M.top})`);
  select(yAxisG).call(
    axisLeft(y)
      .tickValues(ticks.map((t) => symlog(t, p.c)))
      .tickFormat((_v, i) => formatPow10(ticks[i]))
      .tickSizeOuter(0),
  );
  for (const [line, attrs] of [
    [zeroX, { x1: M.left + x(0), x2: M.left + x(0), y1: M.top, y2: M.top + PLOT_H }],
    [zeroY, { x1: M.left, x2: M.left + width, y1: M.top + y(0), y2: M.top + y(0) }],
  ] as const) {
    for (const [k, val] of Object.entries(attrs)) line.setAttribute(k, String(val));
  }
  xLabel.setAttribute("x", String(M.left + width / 2));
  xLabel.setAttribute("y", String(M.top + PLOT_H + 30));
  yLabel.setAttribute("transform", `translate(12, ${M.top + PLOT_H / 2}) rotate(-90)`);
}

function paintBase(v: View, p: LayerPoints): void {
  const { ctx, base, hiddenGates, x, y } = v;
  v.grid = null;
  v.px = v.py = null;
  if (!ctx || v.width <= 0) return;
  const dpr = window.devicePixelRatio || 1;
  sizeCanvas(base, v.width, dpr);
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, base.width, base.height);
  const [X0, X1] = x.domain();
  const [Y0, Y1] = y.domain();
  const shown = p.segments.filter((s) => !hiddenGates.has(s.gate));
  if (p.n > DENSITY_THRESHOLD) {
    // one cell per device pixel
    const nx = base.width;
    const ny = base.height;
    const grid = binDensity(
      shown.map((s) => ({ x: s.w, y: s.sy, group: s.gate })),
      p.gates.length,
      nx,
      ny,
      [X0, X1],
      [Y0, Y1],
      true, // weights beyond the x range: on its edges
    );
    v.grid = grid;
    const img = ctx.createImageData(nx, ny);
    densityToRGBA(
      grid,
      p.colors.map((c) => parseColor(c)),
      img.data,
    );
    ctx.putImageData(img, 0, 0);
    return;
  }
  const px = new Float32Array(p.n);
  const py = new Float32Array(p.n);
  v.px = px;
  v.py = py;
  let i = 0;
  for (const s of p.segments) {
    const hide = hiddenGates.has(s.gate);
    for (let j = 0; j < s.w.length; j++, i++) {
      px[i] = hide ? NaN : xc(v, s.w[j]);
      py[i] = y(s.sy[j]);
    }
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  paintPoints(ctx, p, px, py);
}

function paintOverlay(v: View, p: LayerPoints): void {
  const { ctxTop, top, base, root } = v;
  const { hoverUnit, selectedUnits } = v.store.state;
  const U = p.layer.units;
  const units = selectedUnits.filter((u) => u < U);
  const hover = hoverUnit !== null && hoverUnit < U ? hoverUnit : null;
  const emph = hover !== null || units.length > 0;
  base.style.opacity = emph ? "0.3" : "";
  if (!ctxTop || v.width <= 0) return;
  const dpr = window.devicePixelRatio || 1;
  sizeCanvas(top, v.width, dpr);
  ctxTop.setTransform(1, 0, 0, 1, 0, 0);
  ctxTop.clearRect(0, 0, top.width, top.height);
  if (!emph) return;
  ctxTop.setTransform(dpr, 0, 0, dpr, 0, 0);
  const fg = themeVar(root, "--lstmviz-fg", "#222");
  const bg = themeVar(root, "--lstmviz-bg", "#fff");
  const at = (w: number, sy: number): [number, number] => [xc(v, w), v.y(sy)];
  // selected: full colour, a rim of the background to tell them apart; hovered: outlined
  if (units.length) paintUnits(ctxTop, p, v.hiddenGates, units, 2.25, bg, at);
  if (hover !== null) paintUnits(ctxTop, p, v.hiddenGates, [hover], 3, fg, at);
}

function showLayer(v: View, layer: DecodedLayer, pts: LayerPoints): void {
  v.title.textContent = `weight vs gradient · ${layerTitle(layer.name, layer.direction)}`;
  v.hiddenGates.clear();
  const colors = pts.colors;
  v.keys.replaceChildren(
    ...pts.gates.map((g, k) => {
      const key = html("button", "lstmviz-gate-key");
      key.type = "button";
      key.dataset.gate = String(k);
      key.title = `show / hide the ${g} gate's weights`;
      key.setAttribute("aria-pressed", "true");
      const dot = html("span", "lstmviz-gate-dot");
      dot.style.background = colors[k];
      key.append(dot, document.createTextNode(g));
      return key;
    }),
  );
  const parts = [
    `${pts.n.toLocaleString("en-US")} weights`,
    pts.n > DENSITY_THRESHOLD ? "binned per pixel (opacity ∝ log count)" : "",
    `y linear within ±${formatPow10(pts.c)}`,
    pts.beyond ? `${pts.beyond.toLocaleString("en-US")} beyond the x range drawn on its edges` : "",
    pts.nonFinite ? `${pts.nonFinite} non-finite left out` : "",
  ];
  v.note.textContent = parts.filter(Boolean).join(" · ");
}

function draw(v: View): void {
  const layer = findLayer(v.payload, v.store.state.layer);
  if (v.dirtyLayer || !v.pts || v.pts.layer !== layer) {
    if (!v.cache.has(layer)) v.cache.set(layer, collectWeightPoints(layer));
    v.pts = v.cache.get(layer) ?? null;
    v.dirtyLayer = false;
    v.dirtyLayout = true;
    v.root.hidden = v.pts === null;
    if (v.pts) showLayer(v, layer, v.pts);
  }
  const pts = v.pts;
  if (!pts) return;
  if (v.dirtyLayout) {
    layoutAxes(v, pts);
    paintBase(v, pts);
    v.dirtyLayout = false;
    v.dirtyOverlay = true;
  }
  if (v.dirtyOverlay) {
    paintOverlay(v, pts);
    v.dirtyOverlay = false;
  }
}

function onMove(v: View, e: PointerEvent): void {
  const { pts, plot, tooltip, store, grid } = v;
  if (!pts) return;
  const r = plot.getBoundingClientRect();
  const mx = e.clientX - r.left - M.left;
  const my = e.clientY - r.top - M.top;
  v.hoverHit = null;
  if (mx < 0 || mx > v.width || my < 0 || my > PLOT_H) {
    tooltip.hidden = true;
    if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
    return;
  }
  if (grid) {
    // density mode: how many weights in the pixel, per gate
    const lines = densityLines(grid, pts, mx, my, v.x.invert(mx));
    if (!lines) {
      tooltip.hidden = true;
      return;
    }
    placeTooltip(tooltip, plot, e, lines);
    return;
  }
  const hitPt = v.px && v.py ? nearestWeight(pts.segments, v.px, v.py, mx, my) : null;
  if (!hitPt) {
    tooltip.hidden = true;
    if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
    return;
  }
  const { s, idx } = hitPt;
  const unit = idx % s.units;
  const row = Math.floor(idx / s.units);
  v.hoverHit = unit;
  const from =
    s.part === "kernel"
      ? `input ${row} → unit ${unit}`
      : s.part === "recurrent_kernel"
        ? `unit ${row} → unit ${unit}`
        : `unit ${unit}`;
  store.set({ hoverUnit: unit });
  placeTooltip(tooltip, plot, e, [
    `${s.gateName} · ${PART_NAME[s.part] ?? s.part}`,
    from,
    `w = ${formatValue(s.w[idx])}`,
    `∂L/∂w = ${formatValue(s.g[idx])}`,
  ]);
}

/** Density mode: the weights in the pixel under (mx, my), per gate; null when none. */
function densityLines(grid: DensityGrid, pts: LayerPoints, mx: number, my: number, w: number): string[] | null {
  const dpr = window.devicePixelRatio || 1;
  const col = Math.min(grid.nx - 1, Math.floor(mx * dpr));
  const row = Math.min(grid.ny - 1, Math.floor(my * dpr));
  const cell = row * grid.nx + col;
  const n = grid.total[cell];
  if (!n) return null;
  const lines = [`${n} weight${n === 1 ? "" : "s"} here`];
  pts.gates.forEach((g, k) => {
    const c = grid.counts[k * grid.nx * grid.ny + cell] ?? 0;
    if (c) lines.push(`${g}: ${c}`);
  });
  lines.push(`w ≈ ${formatValue(w)}`);
  return lines;
}
