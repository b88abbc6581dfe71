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

import { divergingInterpolator, formatValue, NAN_COLOR } from "../math/scales";
import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";
import { layerTitle } from "../parts/labels";
import { MAX_CELL, weightsLayout, type WeightsLayout } from "../math/weights";
import {
  blockH,
  blockTop,
  hitBlock,
  paintBlocks,
  panelX,
  PARTS,
  plotBottom,
  prepareImages,
  WEIGHTS_MARGIN as M,
  type Hit,
  type LayerImages,
  type Part,
} from "../parts/weights/blocks";
import { toggleUnit } from "../selection";

const PART_LABEL: Record<Part, string> = { kernel: "input → unit", recurrent_kernel: "unit → unit", bias: "bias" };
const PART_NAME: Record<Part, string> = { kernel: "input kernel", recurrent_kernel: "recurrent kernel", bias: "bias" };

interface Elements {
  root: HTMLDivElement;
  title: HTMLDivElement;
  note: HTMLDivElement;
  legendAxis: SVGGElement;
  nanSwatch: SVGRectElement;
  nanText: SVGTextElement;
  plot: HTMLDivElement;
  canvas: HTMLCanvasElement;
  overlay: SVGSVGElement;
  labels: SVGGElement;
  axesG: SVGGElement;
  selG: SVGGElement;
  hoverG: SVGGElement;
  tooltip: HTMLDivElement;
}

export function createWeights(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => l.weights)) return null;

  const els = createElements(container);
  const { root, plot, canvas, tooltip } = els;
  const ctx = context2d(canvas);
  const cache = new Map<DecodedLayer, LayerImages | null>(); // rasterised once per layer
  let images: LayerImages | null = null;
  let geo: WeightsLayout | null = null;
  let plotWidth = 0;
  let dirtyLayer = true;
  let dirtyLayout = true;
  let dirtyOverlay = true;

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
      if (!cache.has(layer)) cache.set(layer, prepareImages(layer, ctx !== null));
      images = cache.get(layer) ?? null;
      dirtyLayer = false;
      dirtyLayout = true;
      describeLayer(els, layer, images);
    }
    if (!images) return;
    if (dirtyLayout) {
      geo = layoutAll(els, images, plotWidth);
      if (ctx) paintBlocks(ctx, canvas, root, images, geo, Math.max(0, plotWidth));
      dirtyLayout = false;
      dirtyOverlay = true;
    }
    if (dirtyOverlay) {
      if (geo) drawOverlay(els, images, geo, store.state.hoverUnit, store.state.selectedUnits);
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
  const hit = (e: MouseEvent): Hit | null => {
    if (!images || !geo) return null;
    const r = plot.getBoundingClientRect();
    return hitBlock(images, geo, e.clientX - r.left, e.clientY - r.top);
  };
  const onMove = (e: PointerEvent): void => {
    const h = hit(e);
    if (!h) {
      tooltip.hidden = true;
      if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
      return;
    }
    store.set({ hoverUnit: h.unit });
    if (images) placeTooltip(tooltip, plot, e, tooltipLines(images, h));
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

/** The card: head (titles, legend) and the plot (canvas, SVG overlay, tooltip), into `container`. */
function createElements(container: HTMLElement): Elements {
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
  const shown = { root, title, note, legendAxis, nanSwatch, nanText, plot, canvas };
  return { ...shown, overlay, labels, axesG, selG, hoverG, tooltip };
}

/** Title, note and the card's width for a newly shown layer. */
function describeLayer(els: Elements, layer: DecodedLayer, images: LayerImages | null): void {
  els.title.textContent = `weights · ${layerTitle(layer.name, layer.direction)}`;
  if (!images) return;
  const d = images.domain;
  els.note.textContent =
    `columns = units (target) · rows = inputs / source units · one colour scale for all gates` +
    (d.clipped ? ` (clipped at ±${formatValue(d.domain[1])}; max |w| = ${formatValue(d.max)})` : "");
  // as wide as its cells want (MAX_CELL per unit), up to a whole row of the cards
  const want = M.left + M.right + images.gates.length * (layer.units * MAX_CELL + 10) + 12;
  els.root.style.flexBasis = `${Math.max(300, Math.round(want))}px`;
}

/** Size the plot for `plotWidth`; gate and part labels, the unit axes and the legend. */
function layoutAll(els: Elements, im: LayerImages, plotWidth: number): WeightsLayout {
  const { plot, overlay, canvas, labels, axesG } = els;
  const U = im.layer.units;
  const g = weightsLayout(plotWidth - M.left - M.right, im.gates.length, im.inputs, U, im.biasRows);
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
  drawUnitAxes(axesG, im, g);
  drawLegend(els, im);
  return g;
}

/** The unit axis under each panel. */
function drawUnitAxes(axesG: SVGGElement, im: LayerImages, g: WeightsLayout): void {
  const U = im.layer.units;
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
}

function drawLegend(els: Elements, im: LayerImages): void {
  const m = im.domain.domain[1];
  const lx = scaleLinear().domain([-m, m]).range([8, 128]);
  select(els.legendAxis).call(
    axisBottom(lx)
      .tickValues([-m, 0, m])
      .tickFormat((v) => formatValue(v as number).replace(/\.?0+$/, "") || "0")
      .tickSize(3),
  );
  els.nanSwatch.style.display = im.nonFinite ? "" : "none";
  els.nanText.style.display = im.nonFinite ? "" : "none";
}

/** The hovered unit outlined in every panel, the selected ones marked under each. */
function drawOverlay(
  els: Elements,
  im: LayerImages,
  g: WeightsLayout,
  hoverUnit: number | null,
  selectedUnits: readonly number[],
): void {
  const { hoverG, selG } = els;
  const U = im.layer.units;
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
}

function tooltipLines(im: LayerImages, h: Hit): string[] {
  const layer = im.layer;
  const U = layer.units;
  const idx = h.row * U + h.unit;
  const w = layer.weights?.get(h.gate)?.get(h.part)?.data[idx];
  const dw = layer.weightGrads?.get(h.gate)?.get(h.part)?.data[idx];
  const gateName = im.gates.length === 1 && h.gate === "cell" ? "cell" : `${h.gate} gate`;
  const from =
    h.part === "kernel"
      ? `input ${h.row} → unit ${h.unit}`
      : h.part === "recurrent_kernel"
        ? `unit ${h.row} → unit ${h.unit}`
        : `unit ${h.unit}` + (im.biasRows > 1 ? (h.row === 0 ? " (input bias)" : " (recurrent bias)") : "");
  const lines = [`${gateName} · ${PART_NAME[h.part]}`, from];
  if (w !== undefined) lines.push(`w = ${formatValue(w)}`);
  if (dw !== undefined) lines.push(`∂L/∂w = ${formatValue(dw)}`);
  return lines;
}
