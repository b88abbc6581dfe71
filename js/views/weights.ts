/**
 * Weights of the current layer as small multiples: one panel per gate ("cell" for a
 * SimpleRNN), each the input kernel (rows = input features) over the recurrent kernel (rows =
 * source units) over the bias strip, columns = units (the target) shared by the three, so a
 * unit is one vertical line through a panel. One diverging colour domain per layer (all gates
 * comparable, see weightDomain) with its legend.
 *
 * Each matrix is rasterised once per layer at one pixel per weight into an offscreen canvas
 * and scaled onto the card (smoothed when a pixel holds several weights, pixelated otherwise).
 * Hovering a column sets `hoverUnit` (outlined in every panel), clicking it toggles the unit in
 * `selectedUnits` (marked under each panel). Hidden for layers without weights.
 */
import { placeTooltip } from "../parts/tooltip";
import { axisBottom } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { context2d, html, svg, uniqueId } from "../render/dom";
import { integerTicks } from "../math/layout";

import { divergingInterpolator, formatValue, hasNonFinite, makeColorScale, NAN_COLOR, NAN_RGB } from "../math/scales";
import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";
import { themeVar } from "../render/theme";
import { layerTitle } from "../parts/labels";
import {
  matrixDims,
  MAX_CELL,
  rasterizeMatrix,
  weightDomain,
  weightsLayout,
  type WeightDomain,
  type WeightsLayout,
} from "../math/weights";
import { toggleUnit } from "../selection";

/** Margins of the matrices inside the plot (labels left, gate names above, unit axis below). */
const M = { top: 16, right: 6, bottom: 30, left: 74 } as const;
const PARTS = ["kernel", "recurrent_kernel", "bias"] as const;
type Part = (typeof PARTS)[number];
const PART_LABEL: Record<Part, string> = { kernel: "input → unit", recurrent_kernel: "unit → unit", bias: "bias" };
const PART_NAME: Record<Part, string> = { kernel: "input kernel", recurrent_kernel: "recurrent kernel", bias: "bias" };

interface Block {
  gate: string;
  part: Part;
  rows: number;
  image: HTMLCanvasElement | null;
}

/** Everything computed once per layer. */
interface LayerImages {
  layer: DecodedLayer;
  gates: string[];
  domain: WeightDomain;
  blocks: Map<string, Block>;
  inputs: number;
  biasRows: number;
  nonFinite: boolean;
}

export function createWeights(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.weights)) return null;

  const root = html("div", "lstmviz-view lstmviz-card lstmviz-weights");
  root.dataset.view = "weights";
  // head: the shared card classes (js/parts/card.ts): titles (title, subtitle) + controls
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const title = html("div", "lstmviz-card-title");
  const note = html("div", "lstmviz-card-subtitle");
  titles.append(title, note);
  const controls = html("div", "lstmviz-card-controls");
  const gradId = uniqueId("lstmviz-wgrad");
  const legend = svg("svg", { class: "lstmviz-weights-legend", width: 170, height: 30 });
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: gradId, x1: 0, y1: 0, x2: 1, y2: 0 });
  for (let i = 0; i < 24; i++) {
    const t = i / 23;
    grad.append(svg("stop", { offset: `${(t * 100).toFixed(2)}%`, "stop-color": divergingInterpolator(t) }));
  }
  defs.append(grad);
  const legendBar = svg("rect", {
    class: "lstmviz-legend-bar",
    x: 8,
    y: 4,
    width: 120,
    height: 9,
    fill: `url(#${gradId})`,
  });
  const legendAxis = svg("g", { class: "lstmviz-axis", transform: "translate(0, 13)" });
  const nanSwatch = svg("rect", { class: "lstmviz-legend-nan", x: 140, y: 4, width: 9, height: 9, fill: NAN_COLOR });
  const nanText = Object.assign(svg("text", { class: "lstmviz-axis-label", x: 152, y: 12 }), { textContent: "NaN" });
  legend.append(defs, legendBar, legendAxis, nanSwatch, nanText);
  controls.append(legend);
  head.append(titles, controls);
  const plot = html("div", "lstmviz-weights-plot");
  const canvas = html("canvas", "lstmviz-weights-canvas");
  const overlay = svg("svg", { class: "lstmviz-weights-axes" });
  const labels = svg("g", { class: "lstmviz-weights-labels" });
  const axesG = svg("g");
  const selG = svg("g", { class: "lstmviz-selected-marks" });
  const hoverG = svg("g", { class: "lstmviz-weights-hover" });
  overlay.append(labels, axesG, selG, hoverG);
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(canvas, overlay, tooltip);
  root.append(head, plot);
  container.append(root);

  const ctx = context2d(canvas);
  const cache = new Map<DecodedLayer, LayerImages | null>(); // rasterised once per layer
  let images: LayerImages | null = null;
  let geo: WeightsLayout | null = null;
  let plotWidth = 0;
  let dirtyLayer = true;
  let dirtyLayout = true;
  let dirtyOverlay = true;

  const key = (gate: string, part: Part): string => `${gate}\u0000${part}`;

  const prepare = (layer: DecodedLayer): LayerImages | null => {
    const w = layer.weights;
    if (!w) return null;
    const gates = [...w.keys()];
    const domain = weightDomain(w);
    const scale = makeColorScale({ kind: "diverging", domain: domain.domain });
    const blocks = new Map<string, Block>();
    let inputs = 0;
    let biasRows = 0;
    let nonFinite = false;
    for (const gate of gates) {
      const parts = w.get(gate) as Map<string, { data: Float32Array; shape: number[] }>;
      for (const part of PARTS) {
        const m = parts.get(part);
        if (!m) continue;
        const [rows, cols] = matrixDims(m);
        if (part === "kernel") inputs = Math.max(inputs, rows);
        if (part === "bias") biasRows = Math.max(biasRows, rows);
        if (!nonFinite && hasNonFinite(m.data)) nonFinite = true;
        let image: HTMLCanvasElement | null = null;
        if (ctx && rows > 0 && cols > 0) {
          image = html("canvas");
          image.width = cols;
          image.height = rows;
          const ictx = context2d(image);
          if (ictx) {
            const img = ictx.createImageData(cols, rows);
            rasterizeMatrix(img.data, m.data, scale.lut, domain.domain, NAN_RGB);
            ictx.putImageData(img, 0, 0);
          }
        }
        blocks.set(key(gate, part), { gate, part, rows, image });
      }
    }
    return { layer, gates, domain, blocks, inputs, biasRows, nonFinite };
  };

  /** y of the top of each block, relative to the plot. */
  const blockTop = (g: WeightsLayout, part: Part): number => {
    if (part === "kernel") return M.top;
    if (part === "recurrent_kernel") return M.top + g.kernelH + (g.kernelH > 0 ? g.gapY : 0);
    return M.top + g.kernelH + (g.kernelH > 0 ? g.gapY : 0) + g.recurrentH + g.gapY;
  };
  const blockH = (g: WeightsLayout, part: Part): number =>
    part === "kernel" ? g.kernelH : part === "recurrent_kernel" ? g.recurrentH : g.biasH;
  const panelX = (g: WeightsLayout, k: number): number => M.left + k * (g.panelW + g.gapX);
  const plotBottom = (g: WeightsLayout): number => blockTop(g, "bias") + g.biasH;

  const layoutAll = (im: LayerImages): void => {
    const U = im.layer.units;
    const g = weightsLayout(plotWidth - M.left - M.right, im.gates.length, im.inputs, U, im.biasRows);
    geo = g;
    const height = plotBottom(g) + M.bottom;
    const width = Math.max(0, plotWidth);
    plot.style.height = `${height}px`;
    overlay.setAttribute("width", String(width));
    overlay.setAttribute("height", String(height));
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;

    // labels: gate names above the panels, part names left of the first panel
    labels.replaceChildren();
    im.gates.forEach((gate, k) => {
      const t = svg("text", { class: "lstmviz-caption", x: panelX(g, k), y: M.top - 4 });
      t.textContent = im.gates.length === 1 && gate === "cell" ? "cell" : `${gate} gate`;
      t.setAttribute("fill", "currentColor");
      labels.append(t);
    });
    for (const part of PARTS) {
      const h = blockH(g, part);
      if (h <= 0) continue;
      const y = blockTop(g, part) + h / 2;
      const t = svg("text", { class: "lstmviz-axis-label", x: M.left - 6, y: y + 3.5, "text-anchor": "end" });
      const rows = part === "kernel" ? im.inputs : part === "recurrent_kernel" ? U : 0;
      t.textContent = PART_LABEL[part];
      labels.append(t);
      if (rows > 0 && h >= 22) {
        const sub = svg("text", { class: "lstmviz-weights-sub", x: M.left - 6, y: y + 15, "text-anchor": "end" });
        sub.textContent = `${rows} × ${U}`;
        labels.append(sub);
      }
    }
    // unit axis under each panel
    axesG.replaceChildren();
    const y0 = plotBottom(g);
    im.gates.forEach((_gate, k) => {
      const x = scaleLinear()
        .domain([-0.5, U - 0.5])
        .range([0, g.panelW]);
      const a = svg("g", { class: "lstmviz-axis lstmviz-axis-x", transform: `translate(${panelX(g, k)}, ${y0 + 5})` });
      select(a).call(
        axisBottom(x)
          .tickValues(integerTicks(U, g.panelW, 34))
          .tickFormat((v) => String(v))
          .tickSizeOuter(0)
          .tickSize(3),
      );
      axesG.append(a);
    });
    const unitLabel = svg("text", { class: "lstmviz-axis-label", x: M.left - 6, y: y0 + 17, "text-anchor": "end" });
    unitLabel.textContent = "unit";
    axesG.append(unitLabel);

    // legend
    const m = im.domain.domain[1];
    const lx = scaleLinear().domain([-m, m]).range([8, 128]);
    select(legendAxis).call(
      axisBottom(lx)
        .tickValues([-m, 0, m])
        .tickFormat((v) => formatValue(v as number).replace(/\.?0+$/, "") || "0")
        .tickSize(3),
    );
    nanSwatch.style.display = im.nonFinite ? "" : "none";
    nanText.style.display = im.nonFinite ? "" : "none";
  };

  const paint = (im: LayerImages): void => {
    if (!ctx || !geo) return;
    const g = geo;
    const dpr = window.devicePixelRatio || 1;
    const cssW = Math.max(0, plotWidth);
    const cssH = plotBottom(g) + M.bottom;
    const w = Math.max(1, Math.round(cssW * dpr));
    const h = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const bg = themeVar(root, "--lstmviz-bg", "#fff");
    const border = themeVar(root, "--lstmviz-border", "#ddd");
    im.gates.forEach((gate, k) => {
      const x = panelX(g, k);
      for (const part of PARTS) {
        const b = im.blocks.get(key(gate, part));
        const bh = blockH(g, part);
        if (!b || !b.image || bh <= 0) continue;
        const y = blockTop(g, part);
        const rowH = bh / b.rows;
        // several weights per device pixel: average them; otherwise keep cells crisp
        ctx.imageSmoothingEnabled = g.cellW * dpr < 1 || rowH * dpr < 1;
        ctx.imageSmoothingQuality = "high";
        ctx.drawImage(b.image, x, y, g.panelW, bh);
        // thin gaps between cells when they are big enough to tell apart
        ctx.strokeStyle = bg;
        ctx.lineWidth = 1;
        ctx.beginPath();
        if (g.cellW >= 8) {
          for (let u = 1; u < im.layer.units; u++) {
            const xx = Math.round((x + u * g.cellW) * dpr) / dpr + 0.5 / dpr;
            ctx.moveTo(xx, y);
            ctx.lineTo(xx, y + bh);
          }
        }
        if (rowH >= 8) {
          for (let r = 1; r < b.rows; r++) {
            const yy = Math.round((y + r * rowH) * dpr) / dpr + 0.5 / dpr;
            ctx.moveTo(x, yy);
            ctx.lineTo(x + g.panelW, yy);
          }
        }
        ctx.stroke();
        ctx.strokeStyle = border;
        ctx.strokeRect(x - 0.5, y - 0.5, g.panelW + 1, bh + 1);
      }
    });
  };

  const drawOverlay = (im: LayerImages): void => {
    if (!geo) return;
    const g = geo;
    const U = im.layer.units;
    const { hoverUnit, selectedUnits } = store.state;
    const top = blockTop(g, "kernel");
    const bottom = plotBottom(g);
    hoverG.replaceChildren();
    if (hoverUnit !== null && hoverUnit < U) {
      im.gates.forEach((_gate, k) => {
        const x = panelX(g, k) + hoverUnit * g.cellW;
        const w = Math.max(1, g.cellW);
        const attrs = { x: x - 0.5, y: top - 1.5, width: w + 1, height: bottom - top + 3 };
        hoverG.append(
          svg("rect", { class: "lstmviz-hover-row-outer", ...attrs }),
          svg("rect", { class: "lstmviz-hover-row", ...attrs }),
        );
      });
    }
    selG.replaceChildren();
    for (const u of selectedUnits) {
      if (u >= U) continue;
      im.gates.forEach((_gate, k) => {
        const w = Math.max(2, g.cellW);
        const x = panelX(g, k) + (u + 0.5) * g.cellW - w / 2;
        selG.append(svg("rect", { class: "lstmviz-selected-mark", x, y: bottom + 1, width: w, height: 3 }));
      });
    }
  };

  const draw = (): void => {
    const layer = findLayer(payload, store.state.layer);
    if (!layer.weights) {
      root.hidden = true;
      images = null;
      dirtyLayer = false;
      return;
    }
    root.hidden = false;
    if (dirtyLayer || !images || images.layer !== layer) {
      if (!cache.has(layer)) cache.set(layer, prepare(layer));
      images = cache.get(layer) ?? null;
      dirtyLayer = false;
      dirtyLayout = true;
      title.textContent = `weights · ${layerTitle(layer.name, layer.direction)}`;
      if (images) {
        const d = images.domain;
        note.textContent =
          `columns = units (target) · rows = inputs / source units · one colour scale for all gates` +
          (d.clipped ? ` (clipped at ±${formatValue(d.domain[1])}; max |w| = ${formatValue(d.max)})` : "");
        // as wide as its cells want (MAX_CELL per unit), up to a whole row of the cards
        const want = M.left + M.right + images.gates.length * (layer.units * MAX_CELL + 10) + 12;
        root.style.flexBasis = `${Math.max(300, Math.round(want))}px`;
      }
    }
    if (!images) return;
    if (dirtyLayout) {
      layoutAll(images);
      paint(images);
      dirtyLayout = false;
      dirtyOverlay = true;
    }
    if (dirtyOverlay) {
      drawOverlay(images);
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

  /** The cell under the pointer: gate panel, part, row, unit; or null. */
  const hit = (e: MouseEvent): { gate: string; part: Part; row: number; unit: number } | null => {
    if (!images || !geo) return null;
    const g = geo;
    const r = plot.getBoundingClientRect();
    const x = e.clientX - r.left;
    const y = e.clientY - r.top;
    const U = images.layer.units;
    const k = Math.floor((x - M.left) / (g.panelW + g.gapX));
    if (k < 0 || k >= images.gates.length) return null;
    const xi = x - panelX(g, k);
    if (xi < 0 || xi >= g.panelW || g.cellW <= 0) return null;
    const unit = Math.min(U - 1, Math.floor(xi / g.cellW));
    for (const part of PARTS) {
      const top = blockTop(g, part);
      const h = blockH(g, part);
      const b = images.blocks.get(key(images.gates[k], part));
      if (!b || h <= 0) continue;
      // the gaps between blocks and the unit axis count as the nearest block: the column is what matters
      const slack = part === "bias" ? 16 : g.gapY;
      if (y >= top - (part === "kernel" ? 0 : g.gapY) && y < top + h + slack) {
        const row = Math.max(0, Math.min(b.rows - 1, Math.floor(((y - top) / h) * b.rows)));
        return { gate: images.gates[k], part, row, unit };
      }
    }
    return null;
  };

  const showTooltip = (e: MouseEvent, h: { gate: string; part: Part; row: number; unit: number }): void => {
    if (!images) return;
    const layer = images.layer;
    const U = layer.units;
    const idx = h.row * U + h.unit;
    const w = layer.weights?.get(h.gate)?.get(h.part)?.data[idx];
    const dw = layer.weightGrads?.get(h.gate)?.get(h.part)?.data[idx];
    const gateName = images.gates.length === 1 && h.gate === "cell" ? "cell" : `${h.gate} gate`;
    const from =
      h.part === "kernel"
        ? `input ${h.row} → unit ${h.unit}`
        : h.part === "recurrent_kernel"
          ? `unit ${h.row} → unit ${h.unit}`
          : `unit ${h.unit}` + (images.biasRows > 1 ? (h.row === 0 ? " (input bias)" : " (recurrent bias)") : "");
    const lines = [`${gateName} · ${PART_NAME[h.part]}`, from];
    if (w !== undefined) lines.push(`w = ${formatValue(w)}`);
    if (dw !== undefined) lines.push(`∂L/∂w = ${formatValue(dw)}`);
    placeTooltip(tooltip, plot, e, lines);
  };

  const onMove = (e: PointerEvent): void => {
    const h = hit(e);
    if (!h) {
      tooltip.hidden = true;
      if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
      return;
    }
    store.set({ hoverUnit: h.unit });
    showTooltip(e, h);
  };
  const onLeave = (): void => {
    tooltip.hidden = true;
    store.set({ hoverUnit: null });
  };
  const onClick = (e: MouseEvent): void => {
    const h = hit(e);
    if (h) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, h.unit) });
  };
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerleave", onLeave);
  life.listen(plot, "click", onClick);
  life.onResize(plot, (w) => {
    plotWidth = w;
    dirtyLayout = true;
  });
  life.onTheme(root, () => {
    dirtyLayout = true;
  });
  life.onDispose(() => root.remove());

  plotWidth = plot.clientWidth;
  draw();

  return life.dispose;
}
