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
import { axisBottom, axisLeft, axisRight } from "d3-axis";
import { format } from "d3-format";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import {
  axisLink,
  cursorRow,
  finiteMax,
  headMatrix,
  matrixRow,
  poolMax,
  rasterizeMatrix,
  rowScales,
  shortLabel,
  validLength,
  type AxisLink,
  type HeadChoice,
} from "../math/attention-grid";
import { cardSelect, createCard, cssVar, showTooltip, sizeCanvas } from "../parts/card";
import type { DecodedAttention, DecodedPayload } from "../codecs";
import { context2d, html, setText, svg, uniqueId } from "../render/dom";
import { integerTicks, pxToIndex } from "../math/layout";

import {
  formatValue,
  hasNonFinite,
  makeColorScale,
  NAN_COLOR,
  sequentialInterpolator,
  type ColorScale,
} from "../math/scales";
import { createLifecycle } from "../parts/lifecycle";
import type { StateKey, Store } from "../store";

/** Margins of the heatmap inside the plot box (CSS px). */
export const ATTENTION_MARGIN = { top: 16, right: 58, left: 50, bottom: 8 } as const;
const M = ATTENTION_MARGIN;
/** Space under the heatmap for the key axis and its label, then the row chart. */
const X_AXIS_SPACE = 54;
const ROW_CHART_H = 44;
const LEGEND_BAR = 10;
const MASK_FILL = "rgba(128, 128, 128, 0.72)";
const formatShort = format(".2~g");

/** Colour domain: [0, max of the sample's matrix], each row over its own max, or [0, 1]. */
type ColorMode = "max" | "row" | "one";
const COLOR_MODES: ReadonlyArray<readonly [ColorMode, string]> = [
  ["max", "0 … max of sample"],
  ["row", "each row ÷ its max"],
  ["one", "0 … 1"],
];

interface Matrix {
  /** The (head or mean) weights. */
  m: Float32Array;
  /** Row factors applied before colouring (each row over its max), or null. */
  rowScale: Float32Array | null;
  max: number;
  scale: ColorScale;
  nonFinite: boolean;
}

/** Plot geometry in CSS px (relative to the plot box). */
interface Geom {
  width: number;
  heat: number;
  chartTop: number;
  total: number;
}

export function createAttention(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const all = payload.attention;
  if (!all || all.length === 0) return null;
  const T = payload.nSteps;

  const card = createCard(container, "attention", "lstmviz-attention");
  const { root, plot, canvas, ctx } = card;
  const rowCanvas = html("canvas", "lstmviz-card-canvas lstmviz-attn-rowchart");
  plot.insertBefore(rowCanvas, card.svg);
  const rowCtx = context2d(rowCanvas);

  // --- SVG overlay: axes, labels, legend, cursor-row highlight
  const s = card.svg;
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const chartAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" });
  const yLabel = svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" });
  const chartLabel = svg("text", { class: "lstmviz-axis-label lstmviz-attn-chart-label" });
  const rowOuter = svg("rect", { class: "lstmviz-attn-row-outer", visibility: "hidden" });
  const rowInner = svg("rect", { class: "lstmviz-attn-row", visibility: "hidden" });
  const rowTick = svg("path", { class: "lstmviz-attn-row-tick", visibility: "hidden" });
  const gradId = uniqueId("lstmviz-attn-grad");
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: gradId, x1: 0, y1: 1, x2: 0, y2: 0 });
  for (let i = 0; i < 16; i++) {
    const t = i / 15;
    grad.append(svg("stop", { offset: `${(t * 100).toFixed(1)}%`, "stop-color": sequentialInterpolator(t) }));
  }
  defs.append(grad);
  const legendTitle = svg("text", { class: "lstmviz-legend-title", "text-anchor": "start" });
  legendTitle.textContent = "weight";
  const legendBar = svg("rect", { class: "lstmviz-legend-bar", width: LEGEND_BAR, fill: `url(#${gradId})` });
  const legendAxisG = svg("g", { class: "lstmviz-axis lstmviz-legend-axis" });
  const legendNote = svg("text", { class: "lstmviz-attn-legend-note" });
  const legendNaN = svg("g", { class: "lstmviz-legend-extras" });
  s.append(
    defs,
    xAxisG,
    yAxisG,
    chartAxisG,
    xLabel,
    yLabel,
    chartLabel,
    rowOuter,
    rowInner,
    rowTick,
    legendTitle,
    legendBar,
    legendAxisG,
    legendNote,
    legendNaN,
  );

  // --- local UI state: which attention layer and head (not in the store)
  let which = 0;
  let head: HeadChoice = all[0].heads > 1 ? "mean" : 0;
  let colorMode: ColorMode = "max";
  let headSelect: ReturnType<typeof cardSelect> | null = null;
  const headSlot = html("span", "lstmviz-card-slot");
  const layerSelect =
    all.length > 1
      ? cardSelect(
          card.controls,
          "layer",
          all.map((a, i) => [String(i), a.kind ? `${a.name} (${a.kind})` : a.name] as const),
          "0",
          (v) => {
            which = Math.max(0, Math.min(all.length - 1, Number(v) || 0));
            head = all[which].heads > 1 ? "mean" : 0;
            buildHeadSelect();
            dirtyLayout = true;
            frame.schedule();
          },
        )
      : null;
  card.controls.append(headSlot); // after the layer select, before the colour select
  const buildHeadSelect = (): void => {
    headSelect?.destroy();
    headSelect = null;
    const a = all[which];
    if (a.heads <= 1) return;
    const opts: Array<readonly [string, string]> = [["mean", "mean of heads"]];
    for (let h = 0; h < a.heads; h++) opts.push([String(h), `head ${h}`]);
    headSelect = cardSelect(headSlot, "head", opts, String(head), (v) => {
      head = v === "mean" ? "mean" : Math.max(0, Math.min(a.heads - 1, Number(v) || 0));
      dirtyImage = true;
      frame.schedule();
    });
  };
  buildHeadSelect();
  const colorSelect = cardSelect(card.controls, "colour", COLOR_MODES, colorMode, (v) => {
    colorMode = COLOR_MODES.some(([m]) => m === v) ? (v as ColorMode) : "max";
    dirtyImage = true;
    frame.schedule();
  });

  const links = (a: DecodedAttention): { q: AxisLink; k: AxisLink } => ({
    q: axisLink(a.querySource, a.tq, T, payload.layers),
    k: axisLink(a.keySource, a.tk, T, payload.layers),
  });

  // --- the (layer, head, sample) matrix and what is coloured (cached)
  let base: { key: string; m: Float32Array; max: number; nonFinite: boolean } | null = null;
  let matrixKey = "";
  let matrix: Matrix | null = null;
  const currentMatrix = (): Matrix => {
    const a = all[which];
    const nB = Math.floor(a.scores.length / Math.max(1, a.heads * a.tq * a.tk));
    const sample = Math.max(0, Math.min(store.state.sample, nB - 1));
    const bkey = `${which}\u0000${head}\u0000${sample}`;
    if (!base || base.key !== bkey) {
      const m = headMatrix(a, sample, head);
      base = { key: bkey, m, max: finiteMax(m), nonFinite: hasNonFinite(m) };
    }
    const key = `${bkey}\u0000${colorMode}`;
    if (!matrix || matrixKey !== key) {
      const { m, max, nonFinite } = base;
      const rowScale = colorMode === "row" ? rowScales(m, a.tq, a.tk) : null;
      const top = colorMode === "max" && max > 0 ? max : 1;
      matrix = { m, rowScale, max, nonFinite, scale: makeColorScale({ kind: "sequential", domain: [0, top] }) };
      matrixKey = key;
    }
    return matrix;
  };
  const offscreen = html("canvas");
  const offCtx = ctx ? context2d(offscreen) : null;
  let imageKey = "";

  const geom: Geom = { width: 0, heat: 0, chartTop: 0, total: 0 };
  let plotWidth = 0;
  let dirtyLayout = true;
  let dirtyImage = true;
  let dirtyRow = true;

  const layout = (): void => {
    const a = all[which];
    const width = Math.max(0, plotWidth - M.left - M.right);
    const heat = Math.round(Math.max(90, Math.min(300, width * (a.tq / Math.max(1, a.tk)))));
    const chartTop = M.top + heat + X_AXIS_SPACE;
    geom.width = width;
    geom.heat = heat;
    geom.chartTop = chartTop;
    geom.total = chartTop + ROW_CHART_H + M.bottom;
    plot.style.height = `${geom.total}px`;
    s.setAttribute("width", String(plotWidth));
    s.setAttribute("height", String(geom.total));
  };

  const keyTokens = (a: DecodedAttention): string[] | null => {
    const toks = payload.tokens?.[store.state.sample];
    return toks && a.tk === T ? toks : null;
  };
  const queryTokens = (a: DecodedAttention): string[] | null => {
    const toks = payload.tokens?.[store.state.sample];
    return toks && a.tq === T ? toks : null;
  };

  const drawAxes = (a: DecodedAttention, mat: Matrix): void => {
    const { width, heat } = geom;
    const { q, k } = links(a);
    const x = scaleLinear()
      .domain([-0.5, a.tk - 0.5])
      .range([0, width]);
    const y = scaleLinear()
      .domain([-0.5, a.tq - 0.5])
      .range([0, heat]);
    const toks = keyTokens(a);
    let xTicks: number[];
    let fmt: (v: number) => string;
    if (toks) {
      let longest = 1;
      for (const t of toks) longest = Math.max(longest, Math.min(8, t.length));
      xTicks = integerTicks(a.tk, width, longest * 6.5 + 8);
      fmt = (v) => shortLabel(toks[v] ?? "", 8);
    } else {
      xTicks = integerTicks(a.tk, width, 44);
      fmt = (v) => String(v);
    }
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + heat})`);
    select(xAxisG).call(
      axisBottom(x)
        .tickValues(xTicks)
        .tickFormat((v) => fmt(Number(v)))
        .tickSizeOuter(0),
    );
    xAxisG.classList.toggle("lstmviz-attn-tokens", toks !== null);
    yAxisG.setAttribute("transform", `translate(${M.left - 3}, ${M.top})`);
    select(yAxisG).call(
      axisLeft(y)
        .tickValues(integerTicks(a.tq, heat, 20))
        .tickFormat((v) => String(v))
        .tickSizeOuter(0),
    );
    const keyName = k.layer ? k.layer.name : (a.keySource ?? "");
    const qName = q.layer ? q.layer.name : (a.querySource ?? "");
    xLabel.textContent = `key step${toks ? " (token)" : ""}${keyName ? ` · ${keyName}` : ""}`;
    xLabel.setAttribute("x", String(M.left + width / 2));
    xLabel.setAttribute("y", String(M.top + heat + 32));
    yLabel.textContent = `query step${qName ? ` · ${qName}` : ""}`;
    yLabel.setAttribute("transform", `translate(9, ${M.top + heat / 2}) rotate(-90)`);

    // legend: a vertical bar beside the heatmap, 0 … max of this (sample, head)
    const lx = M.left + width + 12;
    legendTitle.textContent = colorMode === "row" ? "relative" : "weight";
    legendTitle.setAttribute("x", String(lx - 2));
    legendTitle.setAttribute("y", String(M.top - 5));
    legendBar.setAttribute("x", String(lx));
    legendBar.setAttribute("y", String(M.top));
    legendBar.setAttribute("height", String(heat));
    const ly = scaleLinear()
      .domain(mat.scale.domain)
      .range([M.top + heat, M.top]);
    legendAxisG.setAttribute("transform", `translate(${lx + LEGEND_BAR}, 0)`);
    const span = mat.scale.domain[1];
    const lf = format(span >= 2 ? ".1f" : span >= 0.02 ? ".2~f" : ".1~e");
    select(legendAxisG).call(
      axisRight(ly)
        .ticks(Math.max(2, Math.min(5, Math.floor(heat / 40))))
        .tickSize(3)
        .tickFormat((v) => lf(Number(v))),
    );
    // the domain's top is this (sample, head)'s largest weight, not 1
    const note = { max: ["0 … max", "of sample"], row: ["÷ max of", "each row"], one: ["absolute", "0 … 1"] }[
      colorMode
    ];
    legendNote.replaceChildren(
      ...note.map((text, i) => Object.assign(svg("tspan", { x: lx - 2, dy: i * 10 }), { textContent: text })),
    );
    legendNote.setAttribute("y", String(M.top + heat + 12));
    legendNaN.replaceChildren();
    if (mat.nonFinite) {
      const yy = M.top + heat + 38;
      legendNaN.append(
        svg("rect", { class: "lstmviz-legend-nan", x: lx, y: yy - 8, width: 10, height: 10, fill: NAN_COLOR }),
        Object.assign(svg("text", { x: lx + 13, y: yy }), { textContent: "NaN" }),
      );
    }
  };

  const updateTitle = (a: DecodedAttention): void => {
    const { q } = links(a);
    const sample = payload.nSamples > 1 ? ` · sample ${store.state.sample}` : "";
    const heads = a.heads > 1 ? ` · ${head === "mean" ? `mean of ${a.heads} heads` : `head ${head}`}` : "";
    const kind = a.kind && !a.name.toLowerCase().includes(a.kind.toLowerCase()) ? ` (${a.kind})` : "";
    setText(card.title, `attention · ${a.name}${kind}${heads}${sample}`);
    const t = store.state.timestep;
    const row = cursorRow(a.tq, t);
    const dims = `${a.tq} queries × ${a.tk} keys`;
    let cursor: string;
    if (q.main) cursor = row === null ? `cursor t = ${t} is past the last query` : `cursor t = ${t} → query row ${t}`;
    else {
      const own = `query axis has its own ${a.tq} steps${a.querySource ? ` (${a.querySource})` : ""}`;
      cursor = row === null ? `${own}; cursor t = ${t} is past it` : `${own}; cursor t drives row ${t}`;
    }
    setText(card.subtitle, `${dims} · ${cursor}`);
  };

  /** Cheap: runs synchronously on every timestep change. */
  const placeRow = (): void => {
    const a = all[which];
    const row = cursorRow(a.tq, store.state.timestep);
    root.dataset.row = row === null ? "" : String(row);
    updateTitle(a);
    const vis = row === null || geom.width <= 0 ? "hidden" : "visible";
    for (const r of [rowOuter, rowInner, rowTick]) r.setAttribute("visibility", vis);
    if (row === null) return;
    const rh = geom.heat / a.tq;
    const h = Math.max(2, rh);
    const y = M.top + (row + 0.5) * rh - h / 2;
    for (const r of [rowOuter, rowInner]) {
      r.setAttribute("x", String(M.left - 1));
      r.setAttribute("y", String(y));
      r.setAttribute("width", String(geom.width + 2));
      r.setAttribute("height", String(h));
    }
    const yc = M.top + (row + 0.5) * rh;
    rowTick.setAttribute("d", `M${M.left + geom.width + 1},${yc} l6,-4 v8 z`);
  };

  const drawImage = (a: DecodedAttention, mat: Matrix): void => {
    if (!ctx || !offCtx) return;
    const dpr = sizeCanvas(canvas, M.left, M.top, geom.width, geom.heat);
    const rows = Math.max(1, Math.min(a.tq, Math.round(geom.heat * dpr)));
    const cols = Math.max(1, Math.min(a.tk, Math.round(geom.width * dpr)));
    const key = `${matrixKey}\u0000${rows}\u0000${cols}`;
    if (key !== imageKey) {
      const same = rows === a.tq && cols === a.tk && !mat.rowScale;
      const pooled = same ? mat.m : poolMax(mat.m, a.tq, a.tk, rows, cols, mat.rowScale ?? undefined);
      offscreen.width = cols;
      offscreen.height = rows;
      const img = offCtx.createImageData(cols, rows);
      rasterizeMatrix(img.data, pooled, rows, cols, mat.scale);
      offCtx.putImageData(img, 0, 0);
      imageKey = key;
    }
    const w = canvas.width;
    const h = canvas.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.clearRect(0, 0, w, h);
    ctx.drawImage(offscreen, 0, 0, offscreen.width, offscreen.height, 0, 0, w, h);
    // padded queries (rows) and keys (columns) of this sample
    const { q, k } = links(a);
    const sample = store.state.sample;
    const qLen = validLength(q, a.tq, sample, payload.lengths);
    const kLen = validLength(k, a.tk, sample, payload.lengths);
    ctx.fillStyle = MASK_FILL;
    if (qLen < a.tq) {
      const y0 = Math.round((qLen / a.tq) * h);
      ctx.fillRect(0, y0, w, h - y0);
    }
    if (kLen < a.tk) {
      const x0 = Math.round((kLen / a.tk) * w);
      ctx.fillRect(x0, 0, w - x0, Math.round((Math.min(qLen, a.tq) / a.tq) * h));
    }
  };

  /** The cursor row's weights over the keys, max-pooled to pixel columns, 0 … the row's max. */
  const drawRow = (a: DecodedAttention, mat: Matrix): void => {
    const row = cursorRow(a.tq, store.state.timestep);
    const t = store.state.timestep;
    setText(
      chartLabel,
      row === null ? "no query row at the cursor" : `weights of query ${t} over the keys (what it looks at now)`,
    );
    chartLabel.setAttribute("x", String(M.left));
    chartLabel.setAttribute("y", String(geom.chartTop - 4));
    const vals = row === null ? null : matrixRow(mat.m, a.tk, row);
    const top = vals ? finiteMax(vals) : 0;
    const cy = scaleLinear()
      .domain([0, top > 0 ? top : 1])
      .range([geom.chartTop + ROW_CHART_H, geom.chartTop]);
    chartAxisG.setAttribute("transform", `translate(${M.left - 3}, 0)`);
    chartAxisG.setAttribute("visibility", vals ? "visible" : "hidden");
    select(chartAxisG).call(
      axisLeft(cy)
        .tickValues([0, top > 0 ? top : 1])
        .tickFormat((v) => (Number(v) === 0 ? "0" : formatShort(Number(v))))
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
    const scaleTop = top > 0 ? top : 1;
    const accent = cssVar(root, "--lstmviz-accent", "#1976d2");
    const bw = geom.width / cols;
    const gap = bw >= 5 ? 1 : 0;
    const yOf = (v: number): number =>
      ROW_CHART_H - 1 - (Math.max(0, Math.min(scaleTop, v)) / scaleTop) * (ROW_CHART_H - 2);
    if (bw < 3) {
      // a bar per pixel or two: whole-pixel rectangles (bars edge to edge, the step line as 1-px
      // tops and risers) instead of hundreds of anti-aliased edges, redrawn on every step
      const H = ROW_CHART_H;
      const xs = (j: number): number => Math.round(j * bw);
      rowCtx.fillStyle = accent;
      rowCtx.globalAlpha = 0.45;
      for (let j = 0; j < cols; j++) {
        const v = pooled[j];
        if (v - v !== 0) continue;
        const y = Math.round(yOf(v));
        if (xs(j + 1) > xs(j) && y < H - 1) rowCtx.fillRect(xs(j), y, xs(j + 1) - xs(j), H - 1 - y);
      }
      rowCtx.globalAlpha = 1;
      rowCtx.fillStyle = NAN_COLOR;
      for (let j = 0; j < cols; j++) {
        if (pooled[j] - pooled[j] !== 0) rowCtx.fillRect(xs(j), 0, Math.max(1, xs(j + 1) - xs(j)), H);
      }
      rowCtx.fillStyle = accent;
      let prev = -1;
      for (let j = 0; j < cols; j++) {
        const v = pooled[j];
        const ly = Math.min(H - 1, Math.round((v - v !== 0 ? H - 1 : yOf(v)) - 0.5));
        const x0 = xs(j);
        rowCtx.fillRect(x0, ly, Math.max(1, xs(j + 1) - x0), 1);
        if (prev >= 0 && prev !== ly) rowCtx.fillRect(x0, Math.min(prev, ly), 1, Math.abs(prev - ly) + 1);
        prev = ly;
      }
      return;
    }
    rowCtx.fillStyle = accent;
    rowCtx.globalAlpha = 0.45;
    for (let j = 0; j < cols; j++) {
      const v = pooled[j];
      if (v - v !== 0) continue;
      const y = yOf(v);
      rowCtx.fillRect(j * bw, y, Math.max(1, bw - gap), ROW_CHART_H - 1 - y);
    }
    rowCtx.globalAlpha = 1;
    rowCtx.fillStyle = NAN_COLOR;
    for (let j = 0; j < cols; j++) {
      if (pooled[j] - pooled[j] !== 0) rowCtx.fillRect(j * bw, 0, Math.max(1, bw - gap), ROW_CHART_H);
    }
    // the top edge of the bars as a step line: readable where bars are thin
    rowCtx.strokeStyle = accent;
    rowCtx.lineWidth = 1.2;
    rowCtx.beginPath();
    for (let j = 0; j < cols; j++) {
      const v = pooled[j];
      const y = v - v !== 0 ? ROW_CHART_H - 1 : yOf(v);
      if (j === 0) rowCtx.moveTo(0, y);
      else rowCtx.lineTo(j * bw, y);
      rowCtx.lineTo((j + 1) * bw - (bw >= 5 ? gap : 0), y);
    }
    rowCtx.stroke();
  };

  const draw = (): void => {
    const a = all[which];
    const mat = currentMatrix();
    if (dirtyLayout) {
      layout();
      dirtyLayout = false;
      dirtyImage = true;
    }
    if (dirtyImage) {
      drawAxes(a, mat);
      drawImage(a, mat);
      placeRow();
      dirtyImage = false;
      dirtyRow = true;
    }
    if (dirtyRow) {
      drawRow(a, mat);
      dirtyRow = false;
    }
  };
  const life = createLifecycle(store, draw);
  const frame = life.frame;

  const onStore = (_s: unknown, changed: ReadonlySet<StateKey>): void => {
    if (changed.has("sample")) dirtyImage = true;
    if (changed.has("timestep")) {
      placeRow();
      dirtyRow = true;
    }
    if (dirtyLayout || dirtyImage) frame.schedule();
    else if (dirtyRow) frame.soon(); // a step redraws only the row chart: in this frame
  };
  life.subscribe(onStore);

  // --- pointer: click/drag sets the timestep to the query row; hover shows a tooltip
  const cellAt = (e: MouseEvent): { q: number; k: number } | null => {
    const a = all[which];
    const r = plot.getBoundingClientRect();
    const x = e.clientX - r.left - M.left;
    const y = e.clientY - r.top - M.top;
    if (x < 0 || x >= geom.width || y < 0 || y >= geom.heat) return null;
    return { q: pxToIndex(y, a.tq, geom.heat), k: pxToIndex(x, a.tk, geom.width) };
  };
  let dragging = false;
  const tooltipFor = (e: MouseEvent, c: { q: number; k: number }): void => {
    const a = all[which];
    const mat = currentMatrix();
    const v = mat.m[c.q * a.tk + c.k];
    const lines = [`query ${c.q} → key ${c.k}`];
    const qt = queryTokens(a)?.[c.q];
    const kt = keyTokens(a)?.[c.k];
    if (qt) lines.push(`query token: ${qt}`);
    if (kt) lines.push(`key token: ${kt}`);
    lines.push(`weight = ${formatValue(v)}`);
    const { q, k } = links(a);
    const sample = store.state.sample;
    if (c.q >= validLength(q, a.tq, sample, payload.lengths) || c.k >= validLength(k, a.tk, sample, payload.lengths)) {
      lines.push("(padding)");
    }
    lines.push("click: move the cursor to this query");
    showTooltip(card, e, lines);
  };
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const c = cellAt(e);
    if (!c) return;
    dragging = true;
    try {
      plot.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    store.set({ timestep: c.q });
  };
  const onMove = (e: PointerEvent): void => {
    const c = cellAt(e);
    if (dragging && c) store.set({ timestep: c.q });
    if (!c) {
      card.tooltip.hidden = true;
      return;
    }
    tooltipFor(e, c);
  };
  const onUp = (e: PointerEvent): void => {
    dragging = false;
    try {
      plot.releasePointerCapture(e.pointerId);
    } catch {
      /* not captured */
    }
  };
  const onLeave = (): void => {
    if (!dragging) card.tooltip.hidden = true;
  };
  life.listen(plot, "pointerdown", onDown);
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerup", onUp);
  life.listen(plot, "pointercancel", onUp);
  life.listen(plot, "pointerleave", onLeave);
  life.onResize(plot, (w) => {
    plotWidth = w;
    dirtyLayout = true;
  });
  life.onTheme(root, () => {
    dirtyRow = true;
  });
  life.onDispose(() => {
    layerSelect?.destroy();
    headSelect?.destroy();
    colorSelect.destroy();
    root.remove();
  });
  plotWidth = plot.clientWidth;
  draw();

  return life.dispose;
}
