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
import { collectWeightPoints, type LayerPoints, type Segment } from "../math/weight-points";
import { layerTitle } from "../parts/labels";
import { createLifecycle } from "../parts/lifecycle";
import { placeTooltip } from "../parts/tooltip";
import { context2d, html, svg } from "../render/dom";
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
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(base, top, axes, tooltip);
  root.append(head, plot);
  container.append(root);

  const ctx = context2d(base);
  const ctxTop = context2d(top);
  const cache = new Map<DecodedLayer, LayerPoints | null>();
  let pts: LayerPoints | null = null;
  let plotWidth = 0;
  let width = 0;
  let x: ScaleLinear<number, number> = scaleLinear();
  /** x of a weight, clamped onto the plot's edges. */
  const xc = (v: number): number => {
    const [X0, X1] = x.domain();
    return x(v < X0 ? X0 : v > X1 ? X1 : v);
  };
  /** Gates switched off in the legend (view-local). */
  const hiddenGates = new Set<number>();
  let y: ScaleLinear<number, number> = scaleLinear();
  let grid: DensityGrid | null = null;
  /** Point mode: pixel position of every point (for hover), in segment order. */
  let px: Float32Array | null = null;
  let py: Float32Array | null = null;
  let dirtyLayer = true;
  let dirtyLayout = true;
  let dirtyOverlay = true;

  const sizeCanvas = (c: HTMLCanvasElement, dpr: number): void => {
    const w = Math.max(1, Math.round(width * dpr));
    const h = Math.max(1, Math.round(PLOT_H * dpr));
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    c.style.left = `${M.left}px`;
    c.style.top = `${M.top}px`;
    c.style.width = `${width}px`;
    c.style.height = `${PLOT_H}px`;
  };

  const layoutAxes = (p: LayerPoints): void => {
    width = Math.max(0, plotWidth - M.left - M.right);
    const pad = 0.04 * (p.hiW - p.loW || 1);
    const Y = symlog((p.maxG || p.c) * 1.15, p.c);
    x = scaleLinear()
      .domain([p.loW - pad, p.hiW + pad])
      .range([0, width]);
    y = scaleLinear().domain([-Y, Y]).range([PLOT_H, 0]);
    const total = PLOT_H + M.top + M.bottom;
    plot.style.height = `${total}px`;
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
      for (const [k, v] of Object.entries(attrs)) line.setAttribute(k, String(v));
    }
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(M.top + PLOT_H + 30));
    yLabel.setAttribute("transform", `translate(12, ${M.top + PLOT_H / 2}) rotate(-90)`);
  };

  const paintBase = (p: LayerPoints): void => {
    grid = null;
    px = py = null;
    if (!ctx || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    sizeCanvas(base, dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, base.width, base.height);
    const [X0, X1] = x.domain();
    const [Y0, Y1] = y.domain();
    const shown = p.segments.filter((s) => !hiddenGates.has(s.gate));
    if (p.n > DENSITY_THRESHOLD) {
      // one cell per device pixel
      const nx = base.width;
      const ny = base.height;
      grid = binDensity(
        shown.map((s) => ({ x: s.w, y: s.sy, group: s.gate })),
        p.gates.length,
        nx,
        ny,
        [X0, X1],
        [Y0, Y1],
        true, // weights beyond the x range: on its edges
      );
      const img = ctx.createImageData(nx, ny);
      densityToRGBA(
        grid,
        p.colors.map((c) => parseColor(c)),
        img.data,
      );
      ctx.putImageData(img, 0, 0);
      return;
    }
    px = new Float32Array(p.n);
    py = new Float32Array(p.n);
    let i = 0;
    for (const s of p.segments) {
      const hide = hiddenGates.has(s.gate);
      for (let j = 0; j < s.w.length; j++, i++) {
        px[i] = hide ? NaN : xc(s.w[j]);
        py[i] = y(s.sy[j]);
      }
    }
    // fainter as points pile up; drawn in interleaved rounds so the last gate does not cover the others
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.globalAlpha = Math.max(0.25, Math.min(0.8, 4000 / p.n));
    const ROUNDS = 16;
    for (let round = 0; round < ROUNDS; round++) {
      let off = 0;
      for (const s of p.segments) {
        const n = s.w.length;
        ctx.fillStyle = p.colors[s.gate];
        const j1 = Math.ceil(((round + 1) * n) / ROUNDS);
        for (let j = Math.ceil((round * n) / ROUNDS); j < j1; j++) {
          const xx = px[off + j];
          const yy = py[off + j];
          if (Number.isFinite(xx) && Number.isFinite(yy)) ctx.fillRect(xx - 1.1, yy - 1.1, 2.2, 2.2);
        }
        off += n;
      }
    }
    ctx.globalAlpha = 1;
  };

  const paintOverlay = (p: LayerPoints): void => {
    const { hoverUnit, selectedUnits } = store.state;
    const U = p.layer.units;
    const units = selectedUnits.filter((u) => u < U);
    const hover = hoverUnit !== null && hoverUnit < U ? hoverUnit : null;
    const emph = hover !== null || units.length > 0;
    base.style.opacity = emph ? "0.3" : "";
    if (!ctxTop || width <= 0) return;
    const dpr = window.devicePixelRatio || 1;
    sizeCanvas(top, dpr);
    ctxTop.setTransform(1, 0, 0, 1, 0, 0);
    ctxTop.clearRect(0, 0, top.width, top.height);
    if (!emph) return;
    ctxTop.setTransform(dpr, 0, 0, dpr, 0, 0);
    const fg = themeVar(root, "--lstmviz-fg", "#222");
    const bg = themeVar(root, "--lstmviz-bg", "#fff");
    const drawUnits = (list: number[], r: number, stroke: string): void => {
      ctxTop.strokeStyle = stroke;
      ctxTop.lineWidth = 1;
      for (const s of p.segments) {
        if (hiddenGates.has(s.gate)) continue;
        ctxTop.fillStyle = p.colors[s.gate];
        for (const u of list) {
          for (let row = 0; row < s.rows; row++) {
            const idx = row * s.units + u;
            const xx = xc(s.w[idx]);
            const yy = y(s.sy[idx]);
            if (!Number.isFinite(xx) || !Number.isFinite(yy)) continue;
            ctxTop.fillRect(xx - r, yy - r, 2 * r, 2 * r);
            ctxTop.strokeRect(xx - r, yy - r, 2 * r, 2 * r);
          }
        }
      }
    };
    // selected: full colour, a rim of the background to tell them apart; hovered: outlined
    if (units.length) drawUnits(units, 2.25, bg);
    if (hover !== null) drawUnits([hover], 3, fg);
  };

  const draw = (): void => {
    const layer = findLayer(payload, store.state.layer);
    if (dirtyLayer || !pts || pts.layer !== layer) {
      if (!cache.has(layer)) cache.set(layer, collectWeightPoints(layer));
      pts = cache.get(layer) ?? null;
      dirtyLayer = false;
      dirtyLayout = true;
      root.hidden = pts === null;
      if (pts) {
        title.textContent = `weight vs gradient · ${layerTitle(layer.name, layer.direction)}`;
        hiddenGates.clear();
        const colors = pts.colors;
        keys.replaceChildren(
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
        note.textContent = parts.filter(Boolean).join(" · ");
      }
    }
    if (!pts) return;
    if (dirtyLayout) {
      layoutAxes(pts);
      paintBase(pts);
      dirtyLayout = false;
      dirtyOverlay = true;
    }
    if (dirtyOverlay) {
      paintOverlay(pts);
      dirtyOverlay = false;
    }
  };

  const life = createLifecycle(store, draw);
  const frame = life.frame;
  life.subscribe((_s, changed: ReadonlySet<StateKey>) => {
    if (changed.has("layer")) dirtyLayer = true;
    if (changed.has("hoverUnit") || changed.has("selectedUnits")) dirtyOverlay = true;
    if (dirtyLayer || dirtyOverlay) frame.schedule();
  });

  /** The point nearest to the pointer within 6 px (point mode), as (segment, index). */
  const nearest = (mx: number, my: number): { s: Segment; idx: number } | null => {
    if (!pts || !px || !py) return null;
    let best = 36;
    let bi = -1;
    for (let i = 0; i < px.length; i++) {
      const dx = px[i] - mx;
      const dy = py[i] - my;
      const d = dx * dx + dy * dy;
      if (d < best) {
        best = d;
        bi = i;
      }
    }
    if (bi < 0) return null;
    let off = 0;
    for (const s of pts.segments) {
      if (bi < off + s.w.length) return { s, idx: bi - off };
      off += s.w.length;
    }
    return null;
  };

  const place = (e: MouseEvent, lines: string[]): void => {
    placeTooltip(tooltip, plot, e, lines);
  };

  let hoverHit: number | null = null;
  const onMove = (e: PointerEvent): void => {
    if (!pts) return;
    const r = plot.getBoundingClientRect();
    const mx = e.clientX - r.left - M.left;
    const my = e.clientY - r.top - M.top;
    hoverHit = null;
    if (mx < 0 || mx > width || my < 0 || my > PLOT_H) {
      tooltip.hidden = true;
      if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
      return;
    }
    if (grid) {
      // density mode: how many weights in the pixel, per gate
      const dpr = window.devicePixelRatio || 1;
      const col = Math.min(grid.nx - 1, Math.floor(mx * dpr));
      const row = Math.min(grid.ny - 1, Math.floor(my * dpr));
      const cell = row * grid.nx + col;
      const n = grid.total[cell];
      if (!n) {
        tooltip.hidden = true;
        return;
      }
      const lines = [`${n} weight${n === 1 ? "" : "s"} here`];
      pts.gates.forEach((g, k) => {
        const c = grid?.counts[k * grid.nx * grid.ny + cell] ?? 0;
        if (c) lines.push(`${g}: ${c}`);
      });
      lines.push(`w ≈ ${formatValue(x.invert(mx))}`);
      place(e, lines);
      return;
    }
    const hitPt = nearest(mx, my);
    if (!hitPt) {
      tooltip.hidden = true;
      if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
      return;
    }
    const { s, idx } = hitPt;
    const unit = idx % s.units;
    const row = Math.floor(idx / s.units);
    hoverHit = unit;
    const from =
      s.part === "kernel"
        ? `input ${row} → unit ${unit}`
        : s.part === "recurrent_kernel"
          ? `unit ${row} → unit ${unit}`
          : `unit ${unit}`;
    store.set({ hoverUnit: unit });
    place(e, [
      `${s.gateName} · ${PART_NAME[s.part] ?? s.part}`,
      from,
      `w = ${formatValue(s.w[idx])}`,
      `∂L/∂w = ${formatValue(s.g[idx])}`,
    ]);
  };
  const onLeave = (): void => {
    tooltip.hidden = true;
    hoverHit = null;
    store.set({ hoverUnit: null });
  };
  const onClick = (): void => {
    if (hoverHit !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, hoverHit) });
  };
  const onKey = (e: MouseEvent): void => {
    const btn = e.target instanceof Element ? e.target.closest("button.lstmviz-gate-key") : null;
    if (!(btn instanceof HTMLElement) || !pts) return;
    const k = Number(btn.dataset.gate);
    if (hiddenGates.has(k)) hiddenGates.delete(k);
    else if (hiddenGates.size < pts.gates.length - 1) hiddenGates.add(k); // never hide them all
    btn.setAttribute("aria-pressed", String(!hiddenGates.has(k)));
    btn.classList.toggle("off", hiddenGates.has(k));
    dirtyLayout = true;
    frame.schedule();
  };
  life.listen(keys, "click", onKey);
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerleave", onLeave);
  life.listen(plot, "click", onClick);
  life.onResize(plot, (w) => {
    plotWidth = w;
    dirtyLayout = true;
  });
  life.onTheme(root, () => {
    dirtyOverlay = true;
  });
  life.onDispose(() => root.remove());

  plotWidth = plot.clientWidth;
  draw();

  return life.dispose;
}
