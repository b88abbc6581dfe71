/**
 * Attention card: the scores of one attention layer for the current sample as a heatmap
 * (query steps as rows, key steps as columns, tokens on the keys when they lie on the main
 * axis). Viridis over [0, max of the sample's matrix] by default; a "colour" select offers each
 * row over its own max (attention over many keys is spread thin) and the absolute [0, 1].
 * Layer, head ("mean of heads" or one) and colour selects are local UI state, not in the
 * store. The cursor's query row is highlighted and, under the heatmap, that row's weights over
 * the keys are drawn ("what the model looks at now"). Clicking a cell moves the cursor to its
 * query row; hovering shows a tooltip. Padded queries/keys of the sample are shaded.
 *
 * Cheap on scrub: the (layer, head, sample) matrix is max-pooled to pixel resolution and
 * rasterised once into an offscreen canvas (2000 × 2000 is fine); a timestep change moves the
 * SVG row highlight synchronously and redraws only the small row chart (O(Tk)) in one frame.
 */
import { axisLeft } from "d3-axis";
import { format } from "d3-format";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import {
  attentionTitles,
  axisLink,
  cellLines,
  cursorRow,
  finiteMax,
  headMatrix,
  matrixRow,
  poolMax,
  rasterizeMatrix,
  rowScales,
  validLength,
  type AxisLink,
  type HeadChoice,
} from "../math/attention-grid";
import {
  ATTENTION_MARGIN,
  createOverlay,
  drawAxes,
  drawLegend,
  placeRowHighlight,
  type ColorMode,
  type Geom,
  type Matrix,
  type Overlay,
} from "../parts/attention/overlay";
import { listenCellPointer } from "../parts/attention/pointer";
import { cardSelect, createCard, cssVar, showTooltip, sizeCanvas, type Card } from "../parts/card";
import type { DecodedAttention, DecodedPayload } from "../codecs";
import { context2d, html, setText } from "../render/dom";
import { pxToIndex } from "../math/layout";
import { paintRowBars } from "../render/row-chart";

import { formatValue, hasNonFinite, makeColorScale } from "../math/scales";
import { createLifecycle, type Lifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";

export { ATTENTION_MARGIN };
const M = ATTENTION_MARGIN;
/** Space under the heatmap for the key axis and its label, then the row chart. */
const X_AXIS_SPACE = 54;
const ROW_CHART_H = 44;
const MASK_FILL = "rgba(128, 128, 128, 0.72)";
const formatShort = format(".2~g");

const COLOR_MODES: ReadonlyArray<readonly [ColorMode, string]> = [
  ["max", "0 … max of sample"],
  ["row", "each row ÷ its max"],
  ["one", "0 … 1"],
];

/** Everything one attention card holds: its inputs, local UI state, caches and dirty flags. */
interface View {
  all: DecodedAttention[];
  T: number;
  store: Store;
  payload: DecodedPayload;
  card: Card;
  o: Overlay;
  rowCanvas: HTMLCanvasElement;
  rowCtx: CanvasRenderingContext2D | null;
  /** Local UI state: which attention layer, head and colour mode (not in the store). */
  which: number;
  head: HeadChoice;
  colorMode: ColorMode;
  headSelect: ReturnType<typeof cardSelect> | null;
  headSlot: HTMLSpanElement;
  /** The (layer, head, sample) matrix and what is coloured (cached). */
  base: { key: string; m: Float32Array; max: number; nonFinite: boolean } | null;
  matrixKey: string;
  matrix: Matrix | null;
  offscreen: HTMLCanvasElement;
  offCtx: CanvasRenderingContext2D | null;
  imageKey: string;
  geom: Geom;
  plotWidth: number;
  dirtyLayout: boolean;
  dirtyImage: boolean;
  dirtyRow: boolean;
  /** Schedules one frame (set once the lifecycle exists). */
  schedule: () => void;
}

export function createAttention(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const all = payload.attention;
  if (!all || all.length === 0) return null;

  const card = createCard(container, "attention", "lstmviz-attention");
  const rowCanvas = html("canvas", "lstmviz-card-canvas lstmviz-attn-rowchart");
  card.plot.insertBefore(rowCanvas, card.svg);
  const offscreen = html("canvas");
  const v: View = {
    all,
    T: payload.nSteps,
    store,
    payload,
    card,
    o: createOverlay(card.svg),
    rowCanvas,
    rowCtx: context2d(rowCanvas),
    which: 0,
    head: all[0].heads > 1 ? "mean" : 0,
    colorMode: "max",
    headSelect: null,
    headSlot: html("span", "lstmviz-card-slot"),
    base: null,
    matrixKey: "",
    matrix: null,
    offscreen,
    offCtx: card.ctx ? context2d(offscreen) : null,
    imageKey: "",
    geom: { width: 0, heat: 0, chartTop: 0, total: 0 },
    plotWidth: 0,
    dirtyLayout: true,
    dirtyImage: true,
    dirtyRow: true,
    schedule: () => {},
  };
  const destroySelects = buildSelects(v);

  const life = createLifecycle(store, () => draw(v));
  const frame = life.frame;
  v.schedule = () => frame.schedule();

  const onStore = (_s: unknown, changed: ReadonlySet<StateKey>): void => {
    if (changed.has("sample")) v.dirtyImage = true;
    if (changed.has("timestep")) {
      placeRow(v);
      v.dirtyRow = true;
    }
    if (v.dirtyLayout || v.dirtyImage) frame.schedule();
    else if (v.dirtyRow) frame.soon(); // a step redraws only the row chart: in this frame
  };
  life.subscribe(onStore);
  listenPointer(v, life);
  const { plot, root } = card;
  life.onResize(plot, (w) => {
    v.plotWidth = w;
    v.dirtyLayout = true;
  });
  life.onTheme(root, () => {
    v.dirtyRow = true;
  });
  life.onDispose(() => {
    destroySelects();
    root.remove();
  });
  v.plotWidth = plot.clientWidth;
  draw(v);

  return life.dispose;
}

/** The layer, head and colour selects; returns what destroys them. */
function buildSelects(v: View): () => void {
  const { all, card } = v;
  const layerSelect =
    all.length > 1
      ? cardSelect(
          card.controls,
          "layer",
          all.map((a, i) => [String(i), a.kind ? `${a.name} (${a.kind})` : a.name] as const),
          "0",
          (val) => {
            v.which = Math.max(0, Math.min(all.length - 1, Number(val) || 0));
            v.head = all[v.which].heads > 1 ? "mean" : 0;
            buildHeadSelect(v);
            v.dirtyLayout = true;
            v.schedule();
          },
        )
      : null;
  card.controls.append(v.headSlot); // after the layer select, before the colour select
  buildHeadSelect(v);
  const colorSelect = cardSelect(card.controls, "colour", COLOR_MODES, v.colorMode, (val) => {
    v.colorMode = COLOR_MODES.some(([m]) => m === val) ? (val as ColorMode) : "max";
    v.dirtyImage = true;
    v.schedule();
  });
  return () => {
    layerSelect?.destroy();
    v.headSelect?.destroy();
    colorSelect.destroy();
  };
}

function buildHeadSelect(v: View): void {
  v.headSelect?.destroy();
  v.headSelect = null;
  const a = v.all[v.which];
  if (a.heads <= 1) return;
  const opts: Array<readonly [string, string]> = [["mean", "mean of heads"]];
  for (let h = 0; h < a.heads; h++) opts.push([String(h), `head ${h}`]);
  v.headSelect = cardSelect(v.headSlot, "head", opts, String(v.head), (val) => {
    v.head = val === "mean" ? "mean" : Math.max(0, Math.min(a.heads - 1, Number(val) || 0));
    v.dirtyImage = true;
    v.schedule();
  });
}

function links(v: View, a: DecodedAttention): { q: AxisLink; k: AxisLink } {
  return {
    q: axisLink(a.querySource, a.tq, v.T, v.payload.layers),
    k: axisLink(a.keySource, a.tk, v.T, v.payload.layers),
  };
}

function currentMatrix(v: View): Matrix {
  const a = v.all[v.which];
  const nB = Math.floor(a.scores.length / Math.max(1, a.heads * a.tq * a.tk));
  const sample = Math.max(0, Math.min(v.store.state.sample, nB - 1));
  const bkey = `${v.which}\u0000${v.head}\u0000${sample}`;
  if (!v.base || v.base.key !== bkey) {
    const m = headMatrix(a, sample, v.head);
    v.base = { key: bkey, m, max: finiteMax(m), nonFinite: hasNonFinite(m) };
  }
  const key = `${bkey}\u0000${v.colorMode}`;
  if (!v.matrix || v.matrixKey !== key) {
    const { m, max, nonFinite } = v.base;
    const rowScale = v.colorMode === "row" ? rowScales(m, a.tq, a.tk) : null;
    const top = v.colorMode === "max" && max > 0 ? max : 1;
    v.matrix = { m, rowScale, max, nonFinite, scale: makeColorScale({ kind: "sequential", domain: [0, top] }) };
    v.matrixKey = key;
  }
  return v.matrix;
}

function layout(v: View): void {
  const a = v.all[v.which];
  const { geom, card } = v;
  const width = Math.max(0, v.plotWidth - M.left - M.right);
  const heat = Math.round(Math.max(90, Math.min(300, width * (a.tq / Math.max(1, a.tk)))));
  const chartTop = M.top + heat + X_AXIS_SPACE;
  geom.width = width;
  geom.heat = heat;
  geom.chartTop = chartTop;
  geom.total = chartTop + ROW_CHART_H + M.bottom;
  card.plot.style.height = `${geom.total}px`;
  card.svg.setAttribute("width", String(v.plotWidth));
  card.svg.setAttribute("height", String(geom.total));
}

function keyTokens(v: View, a: DecodedAttention): string[] | null {
  const toks = v.payload.tokens?.[v.store.state.sample];
  return toks && a.tk === v.T ? toks : null;
}
function queryTokens(v: View, a: DecodedAttention): string[] | null {
  const toks = v.payload.tokens?.[v.store.state.sample];
  return toks && a.tq === v.T ? toks : null;
}

function updateTitle(v: View, a: DecodedAttention): void {
  const { store, card } = v;
  const { title, subtitle } = attentionTitles(
    a,
    links(v, a).q,
    v.head,
    store.state.sample,
    v.payload.nSamples,
    store.state.timestep,
  );
  setText(card.title, title);
  setText(card.subtitle, subtitle);
}

/** Cheap: runs synchronously on every timestep change. */
function placeRow(v: View): void {
  const a = v.all[v.which];
  const row = cursorRow(a.tq, v.store.state.timestep);
  v.card.root.dataset.row = row === null ? "" : String(row);
  updateTitle(v, a);
  placeRowHighlight(v.o, v.geom, a.tq, row);
}

function drawImage(v: View, a: DecodedAttention, mat: Matrix): void {
  const { ctx, canvas } = v.card;
  const { offCtx, offscreen, geom } = v;
  if (!ctx || !offCtx) return;
  const dpr = sizeCanvas(canvas, M.left, M.top, geom.width, geom.heat);
  const rows = Math.max(1, Math.min(a.tq, Math.round(geom.heat * dpr)));
  const cols = Math.max(1, Math.min(a.tk, Math.round(geom.width * dpr)));
  const key = `${v.matrixKey}\u0000${rows}\u0000${cols}`;
  if (key !== v.imageKey) {
    const same = rows === a.tq && cols === a.tk && !mat.rowScale;
    const pooled = same ? mat.m : poolMax(mat.m, a.tq, a.tk, rows, cols, mat.rowScale ?? undefined);
    offscreen.width = cols;
    offscreen.height = rows;
    const img = offCtx.createImageData(cols, rows);
    rasterizeMatrix(img.data, pooled, rows, cols, mat.scale);
    offCtx.putImageData(img, 0, 0);
    v.imageKey = key;
  }
  const w = canvas.width;
  const h = canvas.height;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, w, h);
  ctx.drawImage(offscreen, 0, 0, offscreen.width, offscreen.height, 0, 0, w, h);
  // padded queries (rows) and keys (columns) of this sample
  const { q, k } = links(v, a);
  const sample = v.store.state.sample;
  const qLen = validLength(q, a.tq, sample, v.payload.lengths);
  const kLen = validLength(k, a.tk, sample, v.payload.lengths);
  ctx.fillStyle = MASK_FILL;
  if (qLen < a.tq) {
    const y0 = Math.round((qLen / a.tq) * h);
    ctx.fillRect(0, y0, w, h - y0);
  }
  if (kLen < a.tk) {
    const x0 = Math.round((kLen / a.tk) * w);
    ctx.fillRect(x0, 0, w - x0, Math.round((Math.min(qLen, a.tq) / a.tq) * h));
  }
}

/** The cursor row's weights over the keys, max-pooled to pixel columns, 0 … the row's max. */
function drawRow(v: View, a: DecodedAttention, mat: Matrix): void {
  const { geom, o, rowCtx, rowCanvas } = v;
  const root = v.card.root;
  const row = cursorRow(a.tq, v.store.state.timestep);
  const t = v.store.state.timestep;
  setText(
    o.chartLabel,
    row === null ? "no query row at the cursor" : `weights of query ${t} over the keys (what it looks at now)`,
  );
  o.chartLabel.setAttribute("x", String(M.left));
  o.chartLabel.setAttribute("y", String(geom.chartTop - 4));
  const vals = row === null ? null : matrixRow(mat.m, a.tk, row);
  const top = vals ? finiteMax(vals) : 0;
  const cy = scaleLinear()
    .domain([0, top > 0 ? top : 1])
    .range([geom.chartTop + ROW_CHART_H, geom.chartTop]);
  o.chartAxisG.setAttribute("transform", `translate(${M.left - 3}, 0)`);
  o.chartAxisG.setAttribute("visibility", vals ? "visible" : "hidden");
  select(o.chartAxisG).call(
    axisLeft(cy)
      .tickValues([0, top > 0 ? top : 1])
      .tickFormat((x) => (Number(x) === 0 ? "0" : formatShort(Number(x))))
      .tickSizeOuter(0),
  );
  if (!rowCtx) return;
  const dpr = sizeCanvas(rowCanvas, M.left, geom.chartTop, geom.width, ROW_CHART_H);
  rowCtx.setTransform(dpr, 0, 0, dpr, 0, 0);
  rowCtx.clearRect(0, 0, geom.width, ROW_CHART_H);
  const fg = cssVar(root, "--lstmviz-fg", "#222");
  rowCtx.globalAlpha = 0.35;
  rowCtx.fillStyle = fg;
  rowCtx.fillRect(0, ROW_CHART_H - 1, geom.width, 1);
  rowCtx.globalAlpha = 1;
  if (!vals || geom.width <= 0) return;
  const cols = Math.max(1, Math.min(a.tk, Math.floor(geom.width)));
  const pooled = cols === a.tk ? vals : poolMax(vals, 1, a.tk, 1, cols);
  const accent = cssVar(root, "--lstmviz-accent", "#1976d2");
  paintRowBars(rowCtx, pooled, cols, geom.width, ROW_CHART_H, top > 0 ? top : 1, accent);
}

function draw(v: View): void {
  const a = v.all[v.which];
  const mat = currentMatrix(v);
  if (v.dirtyLayout) {
    layout(v);
    v.dirtyLayout = false;
    v.dirtyImage = true;
  }
  if (v.dirtyImage) {
    drawAxes(v.o, v.geom, a, links(v, a), keyTokens(v, a));
    drawLegend(v.o, v.geom, mat, v.colorMode);
    drawImage(v, a, mat);
    placeRow(v);
    v.dirtyImage = false;
    v.dirtyRow = true;
  }
  if (v.dirtyRow) {
    drawRow(v, a, mat);
    v.dirtyRow = false;
  }
}

/** Click/drag sets the timestep to the query row; hover shows a tooltip. */
function listenPointer(v: View, life: Lifecycle): void {
  const { plot } = v.card;
  listenCellPointer(plot, life, {
    cellAt: (e) => {
      const a = v.all[v.which];
      const r = plot.getBoundingClientRect();
      const x = e.clientX - r.left - M.left;
      const y = e.clientY - r.top - M.top;
      if (x < 0 || x >= v.geom.width || y < 0 || y >= v.geom.heat) return null;
      return { q: pxToIndex(y, a.tq, v.geom.heat), k: pxToIndex(x, a.tk, v.geom.width) };
    },
    pick: (c) => v.store.set({ timestep: c.q }),
    hover: (e, c) => tooltipFor(v, e, c),
    hide: () => {
      v.card.tooltip.hidden = true;
    },
  });
}

function tooltipFor(v: View, e: MouseEvent, c: { q: number; k: number }): void {
  const a = v.all[v.which];
  const mat = currentMatrix(v);
  const { q, k } = links(v, a);
  const sample = v.store.state.sample;
  const { lengths } = v.payload;
  const padding = c.q >= validLength(q, a.tq, sample, lengths) || c.k >= validLength(k, a.tk, sample, lengths);
  const value = formatValue(mat.m[c.q * a.tk + c.k]);
  const lines = cellLines(c.q, c.k, value, queryTokens(v, a)?.[c.q], keyTokens(v, a)?.[c.k], padding);
  showTooltip(v.card, e, lines);
}
