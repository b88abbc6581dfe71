/**
 * The input track above the heatmap.
 *
 * - Tokens (`payload.tokens`): a compact strip of token labels on the time axis, drawn as
 *   canvas text (never HTML); every k-th token when they do not all fit (k from the labels'
 *   width and the window's step width, multiples of k so panning does not flicker); the
 *   cursor's token always shown, highlighted (an SVG label above the cursor line).
 * - Else numeric input (`payload.input`): the first ≤ 8 features as lines (y fitted to the
 *   window), legend "x0 … x7" and "(8 of D features)" in the side column.
 * - `payload.saliency` (per step; the capture stores gradient × input summed over features, so
 *   it is signed): each step's background shaded by |saliency| (normalised per
 *   sample over its valid steps; a column of several steps shows their max).
 *
 * Absent when the payload has none of tokens / input / saliency. Padded steps are shaded grey;
 * NaN/Inf input values are gaps with a magenta mark.
 */
import { createLifecycle } from "../parts/lifecycle";
import { axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import type { DecodedPayload } from "../codecs";
import { context2d, html, setText, svg } from "../render/dom";
import type { Envelope } from "../math/lod";
import { clipChars, displayToken } from "../math/tokens";
import { FONT, paintShadeStrip, paintTokens } from "../render/input-strip";
import { columns, envelopeExtent, paddedDomain, sampleLod } from "../math/columns";
import { markColumns, shadePadding, strokeEnvelope } from "../render/series";
import { themeVar as cssVar } from "../render/theme";
import { NAN_COLOR } from "../math/scales";
import type { Store } from "../store";
import { createTrack, type TrackGeom } from "../parts/track";
import { createReadout, shortValue, textWidth, type Readout } from "../parts/readout";

const TOKEN_H = 20;
const LINES_H = 80;
const SALIENCY_H = 14;
/** Longest label of the cursor's token. */
const CURSOR_CHARS = 24;
/** Saliency shade: this colour with alpha ∝ |saliency| / the sample's max |saliency|. */
/** Colours of the (up to 8) input features: the line palette without its orange, which the
 *  saliency shade uses. */
export const INPUT_COLORS = ["#4e79a7", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#9c755f", "#ff9da7", "#8cd17d"];
export const SALIENCY_RGB = "232, 119, 34";
const SALIENCY_ALPHA = 0.6;
/** What the shade means (legend). */
export const SALIENCY_LABEL = "saliency |∂L/∂x·x|";

/** max |v| of the finite values of `data[off, off + n)` (0 when none). */
export function finiteMaxAbs(data: ArrayLike<number>, off: number, n: number): number {
  let m = 0;
  for (let i = off; i < off + n; i++) {
    const v = Math.abs(data[i]);
    if (v > m && v !== Infinity) m = v;
  }
  return m;
}

export function createInputTrack(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const { tokens, input, saliency } = payload;
  if (!tokens && !input && !saliency) return null;
  const T = payload.nSteps;
  const mode: "tokens" | "lines" | "saliency" = tokens ? "tokens" : input ? "lines" : "saliency";
  const F = input ? (input.values.shape[2] ?? 0) : 0;
  const height = mode === "tokens" ? TOKEN_H : mode === "lines" ? LINES_H : SALIENCY_H;
  const axis = svg("g");
  const cursorLabel = svg("g", { class: "lstmviz-input-cursor" });
  const cursorBox = svg("rect", { rx: 2, ry: 2 });
  const cursorText = svg("text", { "text-anchor": "middle" });
  cursorLabel.append(cursorBox, cursorText);

  let readout: Readout | null = null;
  const updateReadout = (): void => {
    if (!readout || mode === "tokens") return;
    const { sample: b, timestep: t } = store.state;
    const parts: Array<{ name: string; color?: string; value: string }> = [];
    if (mode === "lines" && input) {
      for (let f = 0; f < F; f++) {
        const v = input.values.data[(b * T + t) * F + f];
        parts.push({ name: `x${f}`, color: INPUT_COLORS[f], value: shortValue(v) });
      }
    }
    if (saliency) {
      parts.push({ name: "saliency", color: `rgb(${SALIENCY_RGB})`, value: shortValue(saliency[b * T + t]) });
    }
    readout.set(parts);
  };

  const salMax = new Map<number, number>();
  const saliencyMax = (b: number): number => {
    let m = salMax.get(b);
    if (m === undefined) {
      m = saliency ? finiteMaxAbs(saliency, b * T, Math.min(T, payload.lengths[b] ?? T)) : 0;
      salMax.set(b, m);
    }
    return m;
  };

  let cacheKey = "";
  let lineCols: Array<{ env: Envelope; bad: Uint8Array | null }> = [];
  let salCols: Envelope | null = null;

  /** The shade as one row of pixels (one per CSS px), stretched over the track's height: one
   *  draw instead of a rectangle (and a colour) per column. */
  const strip = html("canvas");
  const stripCtx = context2d(strip);
  const rgb = SALIENCY_RGB.split(",").map((v) => Number(v));
  const drawSaliency = (ctx: CanvasRenderingContext2D, geom: TrackGeom, b: number): void => {
    if (!saliency || !salCols || !stripCtx) return;
    const m = saliencyMax(b);
    if (!(m > 0)) return;
    paintShadeStrip(ctx, strip, stripCtx, salCols, geom, m, rgb, SALIENCY_ALPHA);
  };

  const drawTokens = (ctx: CanvasRenderingContext2D, geom: TrackGeom, b: number): void => {
    const row = tokens?.[b];
    if (!row) return;
    paintTokens(ctx, row, geom, cssVar(track?.root ?? document.body, "--lstmviz-fg", "#222"));
  };

  const placeCursorLabel = (): void => {
    const row = tokens?.[store.state.sample];
    const t = store.state.timestep;
    const geom = track?.geom();
    if (!row || !geom || t < geom.win[0] || t >= geom.win[1] || geom.width <= 0) {
      cursorLabel.setAttribute("visibility", "hidden");
      return;
    }
    const text = clipChars(displayToken(row[t] ?? ""), CURSOR_CHARS);
    setText(cursorText, text);
    const boxW = textWidth(text, `600 ${FONT}`) + 8;
    const cx = Math.max(boxW / 2, Math.min(geom.width - boxW / 2, geom.x(t)));
    cursorBox.setAttribute("x", String(cx - boxW / 2));
    cursorBox.setAttribute("y", "1");
    cursorBox.setAttribute("width", String(boxW));
    cursorBox.setAttribute("height", String(geom.height - 2));
    cursorText.setAttribute("x", String(cx));
    cursorText.setAttribute("y", String(geom.height / 2 + 3.5));
    cursorLabel.setAttribute("visibility", text ? "visible" : "hidden");
  };

  const draw = (ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void => {
    const b = store.state.sample;
    const key = `${b}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey) {
      cacheKey = key;
      // min/max pyramids per (sample, series), once: O(columns · log T) per redraw
      salCols = saliency ? columns(sampleLod(saliency, T, b, "abs", Math.abs), geom.win, geom.width, T) : null;
      lineCols = [];
      if (mode === "lines" && input) {
        const v = input.values.data;
        for (let f = 0; f < F; f++) {
          const lod = sampleLod(v, T, b, "", null, (x) => !Number.isFinite(x), F, f);
          const env = columns(lod, geom.win, geom.width, T);
          lineCols.push({ env, bad: lod.bad ? lod.bad.flags(env) : null });
        }
      }
    }
    let y: ReturnType<typeof scaleLinear<number, number>> | null = null;
    if (mode === "lines") {
      y = scaleLinear()
        .domain(paddedDomain(envelopeExtent(lineCols.map((c) => c.env))))
        .range([geom.height, 0]);
      select(axis).call(axisLeft(y).ticks(3).tickSize(3).tickSizeOuter(0));
    }
    placeCursorLabel();
    updateReadout();
    if (!ctx || geom.width <= 0) return;
    drawSaliency(ctx, geom, b);
    if (mode === "tokens") drawTokens(ctx, geom, b);
    if (mode === "lines" && y) {
      const yy = y;
      lineCols.forEach((c, f) => strokeEnvelope(ctx, c.env, geom, (v) => yy(v), INPUT_COLORS[f], 1.25));
      lineCols.forEach((c) => {
        if (c.bad) markColumns(ctx, c.env, c.bad, geom, geom.height - 4, 4, NAN_COLOR);
      });
    }
    shadePadding(ctx, payload.lengths[b] ?? T, geom, 0, geom.height);
  };

  const title = mode === "tokens" ? "input tokens" : mode === "lines" ? (input?.label ?? "input") : "input saliency";
  let track: ReturnType<typeof createTrack> | undefined;
  track = createTrack(container, store, payload, {
    name: "input",
    title: saliency && mode !== "saliency" ? `${title} · shaded by saliency` : title,
    height,
    xAxis: mode === "lines",
    draw,
  });
  const tr = track;
  tr.root.classList.add(`lstmviz-input-${mode}`);
  readout = createReadout(tr);
  tr.yAxis.append(axis);
  tr.overlay.append(cursorLabel);
  buildSide(tr.side, mode === "lines" ? input : undefined, F, saliency !== null);
  placeCursorLabel();
  updateReadout();
  tr.invalidate();
  const life = createLifecycle(store);
  life.onDispose(() => tr.destroy());
  life.subscribe((_s, changed) => {
    if (changed.has("window")) placeCursorLabel();
    if (changed.has("timestep") || changed.has("sample")) {
      placeCursorLabel();
      updateReadout();
    }
  });
  return life.dispose;
}

/** The side column: a key of the input features (line mode) and of the saliency shade. */
function buildSide(side: HTMLElement, input: DecodedPayload["input"] | undefined, F: number, shaded: boolean): void {
  if (input) {
    const grid = html("div", "lstmviz-key-grid");
    for (let f = 0; f < F; f++) {
      const row = html("div", "lstmviz-key");
      const sw = html("span", "lstmviz-key-swatch line");
      sw.style.setProperty("--key-color", INPUT_COLORS[f]);
      row.append(sw, html("span", "lstmviz-key-label", `x${f}`));
      grid.append(row);
    }
    side.append(grid);
    const d = input.features;
    const count = d > F ? `(${F} of ${d} features)` : `${d} feature${d === 1 ? "" : "s"}`;
    side.append(html("div", "lstmviz-key-note", count));
  }
  if (shaded) {
    const ramp = html("div", "lstmviz-key-ramp");
    ramp.style.setProperty("--ramp-rgb", SALIENCY_RGB);
    side.append(ramp, html("div", "lstmviz-key-note", SALIENCY_LABEL));
  }
}
