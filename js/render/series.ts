/**
 * Helpers of the line tracks (views/input, gatelines, memory, gradients, confidence).
 *
 * Pure maths (no DOM): per-step statistics across units, the memory-flow split of a state into
 * what was carried and what was written, token thinning, log-scale domains, column geometry.
 * Drawing helpers at the end only call methods of the 2D context they are given (no DOM
 * lookups), so a recording fake context tests them.
 *
 * Column convention: a window [t0, t1) is reduced by js/lod.ts `envelope` to at most one column
 * per pixel; column i covers steps [start[i], start[i+1]) and sits at the centre of those steps.
 * With fewer steps than pixels every step is its own column (lo = hi = the value).
 */
import { envelope, seriesLod, type Envelope, type SeriesLod } from "../math/lod";
import type { TimeWindow } from "../math/layout";

// ---- per-step statistics across units ---------------------------------------------------------

/** Per-step summary of a (B, T, U) array for one sample, across units. */
export interface StepStats {
  /** Mean over the finite units (NaN when none is finite). */
  mean: Float32Array;
  /** Band: mean − sd and mean + sd (population sd over the finite units), each clipped to the
   *  step's [min, max] so the band never leaves the values' range. NaN when none is finite. */
  lo: Float32Array;
  hi: Float32Array;
  /** 1 where at least one unit is NaN/±Inf at that step. */
  bad: Uint8Array;
  /** Whether any step has a non-finite unit. */
  anyBad: boolean;
}

/**
 * Mean and mean ± 1 sd across units at every step of sample `b` of a (B, T, U) array, in one
 * pass (O(T·U)). Non-finite units are left out (and flagged in `bad`).
 */
export function stepStats(data: Float32Array, T: number, U: number, b: number): StepStats {
  const mean = new Float32Array(T);
  const lo = new Float32Array(T);
  const hi = new Float32Array(T);
  const bad = new Uint8Array(T);
  let anyBad = false;
  for (let t = 0; t < T; t++) {
    const base = (b * T + t) * U;
    let n = 0;
    let sum = 0;
    let sq = 0;
    let mn = Infinity;
    let mx = -Infinity;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      if (v - v !== 0) continue;
      n++;
      sum += v;
      sq += v * v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (n < U) {
      bad[t] = 1;
      anyBad = true;
    }
    if (n === 0) {
      mean[t] = lo[t] = hi[t] = NaN;
      continue;
    }
    const m = sum / n;
    const sd = Math.sqrt(Math.max(0, sq / n - m * m));
    mean[t] = m;
    lo[t] = Math.max(mn, m - sd);
    hi[t] = Math.min(mx, m + sd);
  }
  return { mean, lo, hi, bad, anyBad };
}

const statsCache = new WeakMap<object, Map<string, StepStats>>();

/** `stepStats`, memoised per (array, sample): computed once, reused on every redraw. */
export function cachedStepStats(data: Float32Array, T: number, U: number, b: number): StepStats {
  let byKey = statsCache.get(data);
  if (!byKey) {
    byKey = new Map();
    statsCache.set(data, byKey);
  }
  const key = `${b}`;
  let s = byKey.get(key);
  if (!s) {
    s = stepStats(data, T, U, b);
    byKey.set(key, s);
  }
  return s;
}

// ---- memory flow ------------------------------------------------------------------------------

/**
 * Split a recurrent state into what was carried from the previous step and what was written
 * at this step, element by element:
 *
 * - LSTM (`a` = input gate i, `g` = cell candidate g, `state` = c_t):
 *   written = i ⊙ g, carried = c_t − written (= f ⊙ c_{t−1}: no initial state needed).
 * - GRU (`a` = update gate z, `g` = candidate h̃, `state` = h_t, Keras convention
 *   h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃): written = (1 − z) ⊙ h̃, carried = h_t − written.
 *
 * Writes into `carried` / `written` (same length as the inputs).
 */
export function splitState(
  kind: "LSTM" | "GRU",
  state: ArrayLike<number>,
  a: ArrayLike<number>,
  g: ArrayLike<number>,
  carried: Float32Array | Float64Array,
  written: Float32Array | Float64Array,
): void {
  for (let i = 0; i < state.length; i++) {
    const w = kind === "LSTM" ? a[i] * g[i] : (1 - a[i]) * g[i];
    written[i] = w;
    carried[i] = state[i] - w;
  }
}

/** The arrays of a layer that the memory flow needs, or null (SimpleRNN, missing gates). */
export interface FlowInputs {
  kind: "LSTM" | "GRU";
  /** c (LSTM) or h (GRU), (B, T, U). */
  state: Float32Array;
  /** input gate (LSTM) or update gate (GRU). */
  a: Float32Array;
  /** cell candidate g (LSTM) or h̃ (GRU). */
  g: Float32Array;
}

export function flowInputs(arrays: ReadonlyMap<string, { data: Float32Array }>): FlowInputs | null {
  const c = arrays.get("c");
  const i = arrays.get("gate:input");
  const g = arrays.get("gate:cell");
  if (c && i && g) return { kind: "LSTM", state: c.data, a: i.data, g: g.data };
  const h = arrays.get("h");
  const z = arrays.get("gate:update");
  const hh = arrays.get("gate:candidate");
  if (h && z && hh) return { kind: "GRU", state: h.data, a: z.data, g: hh.data };
  return null;
}

/** written at one element (see `splitState`). */
export function writtenAt(f: FlowInputs, i: number): number {
  return f.kind === "LSTM" ? f.a[i] * f.g[i] : (1 - f.a[i]) * f.g[i];
}

/** Per-step mean |carried| and mean |written| over the finite units of sample b. */
export interface FlowStats {
  carried: Float32Array;
  written: Float32Array;
  bad: Uint8Array;
  anyBad: boolean;
}

/**
 * Mean over units of |carried| and |written| at each step of sample `b`. At padded steps
 * (t ≥ `length`) the layer holds its state: nothing is written, the whole state is carried.
 */
export function flowStats(f: FlowInputs, T: number, U: number, b: number, length = T): FlowStats {
  const carried = new Float32Array(T);
  const written = new Float32Array(T);
  const bad = new Uint8Array(T);
  const S = f.state;
  const A = f.a;
  const G = f.g;
  const lstm = f.kind === "LSTM";
  let anyBad = false;
  for (let t = 0; t < T; t++) {
    const base = (b * T + t) * U;
    const pad = t >= length;
    let n = 0;
    let sc = 0;
    let sw = 0;
    for (let i = base; i < base + U; i++) {
      const w = pad ? 0 : lstm ? A[i] * G[i] : (1 - A[i]) * G[i];
      const c = S[i] - w;
      if (c - c !== 0 || w - w !== 0) continue;
      n++;
      sc += c < 0 ? -c : c;
      sw += w < 0 ? -w : w;
    }
    if (n < U) {
      bad[t] = 1;
      anyBad = true;
    }
    carried[t] = n ? sc / n : NaN;
    written[t] = n ? sw / n : NaN;
  }
  return { carried, written, bad, anyBad };
}

const flowCache = new WeakMap<object, Map<string, FlowStats>>();

export function cachedFlowStats(f: FlowInputs, T: number, U: number, b: number, length: number): FlowStats {
  let byKey = flowCache.get(f.state);
  if (!byKey) {
    byKey = new Map();
    flowCache.set(f.state, byKey);
  }
  const key = `${b}:${length}`;
  let s = byKey.get(key);
  if (!s) {
    s = flowStats(f, T, U, b, length);
    byKey.set(key, s);
  }
  return s;
}

// ---- tokens -----------------------------------------------------------------------------------

/** Show every k-th token so labels `labelPx` wide (plus `gapPx`) fit on steps `stepPx` apart. */
export function tokenStride(stepPx: number, labelPx: number, gapPx = 6): number {
  if (!(stepPx > 0)) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.ceil((labelPx + gapPx) / stepPx));
}

/** Steps of the window whose token is shown: multiples of k (stable while panning). */
export function thinnedSteps(win: TimeWindow, k: number): number[] {
  const out: number[] = [];
  if (!(k >= 1) || !Number.isFinite(k)) return out;
  for (let t = Math.ceil(win[0] / k) * k; t < win[1]; t += k) out.push(t);
  return out;
}

/** `text` cut to at most `maxChars` characters, with "…" when cut. */
export function clipChars(text: string, maxChars: number): string {
  const chars = [...text];
  if (chars.length <= maxChars) return text;
  return maxChars <= 1 ? "…" : `${chars.slice(0, maxChars - 1).join("")}…`;
}

/** A token as shown on the axis: whitespace made visible ("␣", "↵", "⇥"). */
export function displayToken(tok: string): string {
  return tok.replace(/ /g, "␣").replace(/\r?\n/g, "↵").replace(/\t/g, "⇥");
}

// ---- scales and columns -----------------------------------------------------------------------

/** [min, max] of the finite values of envelopes (null when there are none). */
export function envelopeExtent(envs: readonly Envelope[], positiveOnly = false): [number, number] | null {
  let a = Infinity;
  let b = -Infinity;
  for (const e of envs) {
    for (let i = 0; i < e.n; i++) {
      const lo = e.lo[i];
      const hi = e.hi[i];
      if (lo - lo !== 0) continue;
      if (positiveOnly && !(hi > 0)) continue;
      const l = positiveOnly && !(lo > 0) ? hi : lo;
      if (l < a) a = l;
      if (hi > b) b = hi;
    }
  }
  return a <= b ? [a, b] : null;
}

/** A log-scale domain from [min, max] of positive values: widened to at least one decade. */
export function logDomain(extent: [number, number] | null): [number, number] | null {
  if (!extent) return null;
  let [a, b] = extent;
  if (!(a > 0) || !(b > 0) || !Number.isFinite(a) || !Number.isFinite(b)) return null;
  if (b / a < 10) {
    const mid = Math.sqrt(a * b);
    a = Math.min(a, mid / Math.sqrt(10));
    b = Math.max(b, mid * Math.sqrt(10));
  }
  return [a, b];
}

/** A linear domain padded by 5% (a flat series gets ±0.5 or ±5% of its value). */
export function paddedDomain(extent: [number, number] | null, fallback: [number, number] = [0, 1]): [number, number] {
  if (!extent) return fallback;
  const [a, b] = extent;
  if (b > a) {
    const pad = (b - a) * 0.05;
    return [a - pad, b + pad];
  }
  const d = a === 0 ? 0.5 : Math.abs(a) * 0.05;
  return [a - d, a + d];
}

/**
 * Envelope of `get` over the window at pixel resolution (every step when they fit). With
 * `nSteps` and every step its own column, one step on each side of the window is included
 * (drawn outside the plot and clipped by it), so a zoomed line runs to the plot's edges.
 */
export function columns(
  get: ((t: number) => number) | SeriesLod,
  win: TimeWindow,
  widthPx: number,
  nSteps?: number,
): Envelope {
  const env = (w: TimeWindow, n: number): Envelope =>
    typeof get === "function" ? envelope(get, w, n) : get.envelope(w, n);
  const cols = Math.max(1, Math.floor(widthPx));
  if (nSteps !== undefined && win[1] - win[0] <= cols) {
    const w: [number, number] = [Math.max(0, win[0] - 1), Math.min(nSteps, win[1] + 1)];
    return env(w, w[1] - w[0]);
  }
  return env(win, cols);
}

/**
 * The SeriesLod (js/lod.ts: min/max pyramid, flagged steps) of sample `b` of a (B, T) array,
 * or of a per-step series derived from it (`map`, named by `key`), built on first use: long
 * sequences then redraw in O(columns · log T) instead of O(T) per series. `flag` marks steps
 * (by their raw value) for markColumns; default: none.
 */
export function sampleLod(
  data: Float32Array,
  T: number,
  b: number,
  key = "",
  map: ((v: number) => number) | null = null,
  flag: ((v: number) => boolean) | null = null,
  stride = 1,
  offset = 0,
): SeriesLod {
  return seriesLod(data, `${b}\u0000${stride}:${offset}\u0000${key}`, () => {
    const values = new Float32Array(T);
    const flagged = flag ? new Uint8Array(T) : null;
    const base = b * T * stride + offset;
    for (let t = 0; t < T; t++) {
      const v = data[base + t * stride];
      values[t] = map ? map(v) : v;
      if (flagged && flag?.(v)) flagged[t] = 1;
    }
    return { values, flagged };
  });
}

/** Per column of `env`, 1 when `isBad(t)` for any of its steps. */
export function flagColumns(env: Envelope, isBad: (t: number) => boolean): Uint8Array {
  const out = new Uint8Array(env.n);
  for (let i = 0; i < env.n; i++) {
    for (let t = env.start[i]; t < env.start[i + 1]; t++) {
      if (isBad(t)) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** Minimal geometry of a time track (TrackGeom satisfies it). */
export interface XGeom {
  width: number;
  step: number;
  win: TimeWindow;
  x(t: number): number;
}

/** x of the centre of column i (the middle of the steps it covers). */
export function columnX(env: Envelope, i: number, g: XGeom): number {
  return (g.x(env.start[i]) + g.x(env.start[i + 1] - 1)) / 2;
}

/** Left/right px of steps [t0, t1) (edges of their cells), clipped to the plot. */
export function spanPx(t0: number, t1: number, g: XGeom): [number, number] {
  const a = Math.max(t0, g.win[0]);
  const b = Math.min(t1, g.win[1]);
  if (b <= a) return [0, 0];
  const x0 = g.x(a) - g.step / 2;
  const x1 = g.x(b - 1) + g.step / 2;
  return [Math.max(0, x0), Math.min(g.width, x1)];
}

/** Pixels of the padded steps t ≥ length inside the window, or null when none is visible. */
export function paddingPx(length: number, g: XGeom): [number, number] | null {
  if (length >= g.win[1]) return null;
  const [x0, x1] = spanPx(Math.max(length, g.win[0]), g.win[1], g);
  return x1 > x0 ? [x0, x1] : null;
}

// ---- drawing (2D context only) ----------------------------------------------------------------

/** The part of CanvasRenderingContext2D these helpers use. */
export type Ctx = Pick<
  CanvasRenderingContext2D,
  "beginPath" | "moveTo" | "lineTo" | "closePath" | "stroke" | "fill" | "fillRect" | "save" | "restore" | "setLineDash"
> & {
  strokeStyle: CanvasRenderingContext2D["strokeStyle"];
  fillStyle: CanvasRenderingContext2D["fillStyle"];
  lineWidth: number;
  globalAlpha: number;
  lineJoin: CanvasLineJoin;
};

/**
 * Trace an envelope as one path: a polyline through the columns, vertical strokes lo → hi where
 * a column spans several values, a gap at every NaN column. Each run of finite columns is
 * extended by `stub` px at both ends, so a single finite step between gaps stays visible.
 * Returns the number of runs (segments).
 */
export function traceEnvelope(ctx: Ctx, env: Envelope, g: XGeom, y: (v: number) => number, stub = 2): number {
  let runs = 0;
  let open = false;
  let lastX = 0;
  let lastY = 0;
  const d = Math.min(stub, g.step / 2);
  for (let i = 0; i < env.n; i++) {
    const lo = env.lo[i];
    const hi = env.hi[i];
    const y0 = y(lo);
    const y1 = y(hi);
    if (y0 - y0 !== 0 || y1 - y1 !== 0) {
      if (open) ctx.lineTo(lastX + d, lastY);
      open = false;
      continue;
    }
    const x = columnX(env, i, g);
    if (!open) {
      ctx.moveTo(x - d, y0);
      ctx.lineTo(x, y0);
      runs++;
    } else ctx.lineTo(x, y0);
    if (y1 !== y0) ctx.lineTo(x, y1);
    open = true;
    lastX = x;
    lastY = y1;
  }
  if (open) ctx.lineTo(lastX + d, lastY);
  return runs;
}

// ---- dense envelopes: one rectangle per pixel column ----------------------------------------

/**
 * Columns at most this many px apart are drawn as one rectangle each instead of one path
 * through them all: at ~1 px per column the picture is the same, and a software rasteriser
 * fills a thousand small rectangles in a fraction of the time it takes to stroke (or fill) an
 * anti-aliased zigzag of two thousand vertices whose edges cross every scanline.
 */
export const DENSE_PX = 1.5;

/** Whether `env` is drawn column by column (see DENSE_PX). */
export function isDense(env: Envelope, g: XGeom): boolean {
  return env.n > 1 && g.width / env.n <= DENSE_PX;
}

/** Left and right px of column i's steps, rounded to whole px: adjacent columns share their
 *  edge (a partition of the plot: translucent fills never overlap or leave seams). */
function columnEdges(env: Envelope, i: number, g: XGeom): [number, number] {
  const a = Math.round(g.x(env.start[i]) - g.step / 2);
  const b = Math.round(g.x(env.start[i + 1] - 1) + g.step / 2);
  return [a, b];
}

/**
 * Whole-pixel rectangles filled as horizontal runs: a rectangle with the same top and bottom as
 * the previous one, touching or overlapping it, extends it instead of being drawn on its own
 * (the same pixels: flat stretches of a line cost one fill, not one per column).
 */
function rectRuns(ctx: Ctx): { add(x0: number, x1: number, y0: number, y1: number): void; flush(): void } {
  let rx0 = 0;
  let rx1 = 0;
  let ry0 = 0;
  let ry1 = 0;
  let open = false;
  const flush = (): void => {
    if (open) ctx.fillRect(rx0, ry0, rx1 - rx0, ry1 - ry0);
    open = false;
  };
  return {
    add(x0, x1, y0, y1) {
      if (open && y0 === ry0 && y1 === ry1 && x0 <= rx1 && x1 >= rx0) {
        if (x1 > rx1) rx1 = x1;
        if (x0 < rx0) rx0 = x0;
        return;
      }
      flush();
      rx0 = x0;
      rx1 = x1;
      ry0 = y0;
      ry1 = y1;
      open = true;
    },
    flush,
  };
}

/** Whether x lies on a dash of the pattern `dash` (on/off lengths in px, along x). */
function onDash(x: number, dash: readonly number[], period: number): boolean {
  let p = ((x % period) + period) % period;
  for (let k = 0; k < dash.length; k++) {
    if (p < dash[k]) return k % 2 === 0;
    p -= dash[k];
  }
  return false;
}

/**
 * The dense form of `strokeEnvelope` (solid lines): per column a `width`-wide rectangle over the
 * column's min → max and the step from the previous column's end (the polyline's vertical and
 * diagonal strokes), gaps at NaN columns; a dash pattern skips columns along x (fillStyle as
 * set). Returns the rectangles drawn.
 */
export function fillEnvelopeColumns(
  ctx: Ctx,
  env: Envelope,
  g: XGeom,
  y: (v: number) => number,
  width: number,
  dash: readonly number[] = [],
): number {
  const half = width / 2;
  const period = dash.reduce((a, b) => a + b, 0);
  let prev = NaN;
  let prevRight = 0; // right edge of the previous column's rectangle (when connected)
  let n = 0;
  const runs = rectRuns(ctx);
  for (let i = 0; i < env.n; i++) {
    const y0 = y(env.lo[i]);
    const y1 = y(env.hi[i]);
    if (y0 - y0 !== 0 || y1 - y1 !== 0) {
      prev = NaN;
      continue;
    }
    const x = columnX(env, i, g);
    let top = y0 < y1 ? y0 : y1;
    let bottom = y0 < y1 ? y1 : y0;
    const connected = prev - prev === 0;
    if (connected) {
      if (prev < top) top = prev;
      if (prev > bottom) bottom = prev;
    }
    prev = y1;
    // whole pixels: aligned rectangles need no anti-aliasing, and equal neighbours merge; a
    // column reaches back to its connected neighbour (no gap where columns are > 1 px apart)
    let x0 = Math.round(x - half);
    const x1 = Math.max(x0 + 1, Math.round(x + half));
    if (connected && prevRight < x0) x0 = prevRight;
    prevRight = x1;
    if (period > 0 && !onDash(x, dash, period)) continue;
    const y0r = Math.round(top - half);
    runs.add(x0, x1, y0r, Math.max(y0r + 1, Math.round(bottom + half)));
    n++;
  }
  runs.flush();
  return n;
}

/** Stroke one envelope in `color` (column by column when dense, see DENSE_PX). */
export function strokeEnvelope(
  ctx: Ctx,
  env: Envelope,
  g: XGeom,
  y: (v: number) => number,
  color: string,
  width = 1.5,
  dash: number[] = [],
): void {
  const dense = isDense(env, g);
  if (dense && dash.length === 0) {
    ctx.fillStyle = color;
    fillEnvelopeColumns(ctx, env, g, y, width);
    return;
  }
  ctx.beginPath();
  traceEnvelope(ctx, env, g, y);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  // a dashed line stays a path (dashes follow its length); at pixel density bevel joins look
  // the same as round ones and cost far less to rasterise
  ctx.lineJoin = dense ? "bevel" : "round";
  ctx.setLineDash(dash);
  ctx.stroke();
  ctx.setLineDash([]);
}

/**
 * Fill the band between `lower` (its lo) and `upper` (its hi), column by column, with gaps where
 * either is NaN. Both envelopes must share their columns (same window and width).
 */
export function fillBand(
  ctx: Ctx,
  lower: Envelope,
  upper: Envelope,
  g: XGeom,
  y: (v: number) => number,
  color: string,
  alpha: number,
): void {
  ctx.save();
  ctx.fillStyle = color;
  ctx.globalAlpha = alpha;
  const n = Math.min(lower.n, upper.n);
  if (isDense(upper, g)) {
    // one whole-pixel rectangle per column, edge to edge (see DENSE_PX), equal neighbours merged
    const runs = rectRuns(ctx);
    for (let k = 0; k < n; k++) {
      const a = y(lower.lo[k]);
      const b = y(upper.hi[k]);
      if (a - a !== 0 || b - b !== 0) continue;
      const [x0, x1] = columnEdges(upper, k, g);
      const y0 = Math.round(Math.min(a, b));
      const y1 = Math.round(Math.max(a, b));
      if (x1 > x0 && y1 > y0) runs.add(x0, x1, y0, y1);
    }
    runs.flush();
    ctx.restore();
    return;
  }
  const d = Math.min(2, g.step / 2);
  let i = 0;
  const ok = (k: number): boolean => {
    const a = y(lower.lo[k]);
    const b = y(upper.hi[k]);
    return a - a === 0 && b - b === 0;
  };
  while (i < n) {
    if (!ok(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && ok(j + 1)) j++;
    ctx.beginPath();
    for (let k = i; k <= j; k++) {
      const x = columnX(upper, k, g) + (k === i ? -d : 0);
      ctx.lineTo(x, y(upper.hi[k]));
    }
    ctx.lineTo(columnX(upper, j, g) + d, y(upper.hi[j]));
    ctx.lineTo(columnX(lower, j, g) + d, y(lower.lo[j]));
    for (let k = j; k >= i; k--) {
      const x = columnX(lower, k, g) + (k === i ? -d : 0);
      ctx.lineTo(x, y(lower.lo[k]));
    }
    ctx.closePath();
    ctx.fill();
    i = j + 1;
  }
  ctx.restore();
}

/** Fill between an envelope's top (hi) and y(0), with gaps at NaN columns (fillStyle as set). */
export function fillUnder(ctx: Ctx, env: Envelope, g: XGeom, y: (v: number) => number): number {
  const y0 = y(0);
  if (isDense(env, g)) {
    // one whole-pixel rectangle per column, edge to edge (see DENSE_PX), equal neighbours
    // merged; returns the runs of finite columns, as below
    let runs = 0;
    let open = false;
    const rects = rectRuns(ctx);
    const base = Math.round(y0);
    for (let i = 0; i < env.n; i++) {
      const yv = y(env.hi[i]);
      if (yv - yv !== 0) {
        open = false;
        continue;
      }
      if (!open) runs++;
      open = true;
      const [x0, x1] = columnEdges(env, i, g);
      const yr = Math.round(yv);
      if (x1 > x0 && yr !== base) rects.add(x0, x1, Math.min(yr, base), Math.max(yr, base));
    }
    rects.flush();
    return runs;
  }
  const d = Math.min(2, g.step / 2);
  let open = false;
  let lastX = 0;
  let lastY = 0;
  let runs = 0;
  const close = (): void => {
    ctx.lineTo(lastX + d, lastY);
    ctx.lineTo(lastX + d, y0);
    ctx.closePath();
    ctx.fill();
    open = false;
  };
  for (let i = 0; i < env.n; i++) {
    const yv = y(env.hi[i]);
    if (yv - yv !== 0) {
      if (open) close();
      continue;
    }
    const x = columnX(env, i, g);
    if (!open) {
      ctx.beginPath();
      ctx.moveTo(x - d, y0);
      ctx.lineTo(x - d, yv);
      open = true;
      runs++;
    }
    ctx.lineTo(x, yv);
    lastX = x;
    lastY = yv;
  }
  if (open) close();
  return runs;
}

/** Small ticks of `color` (h px tall from `top`) under every flagged column. */
export function markColumns(
  ctx: Ctx,
  env: Envelope,
  flags: Uint8Array,
  g: XGeom,
  top: number,
  h: number,
  color: string,
): number {
  ctx.fillStyle = color;
  const w = Math.max(2, Math.min(6, g.step * 0.6));
  let n = 0;
  for (let i = 0; i < env.n; i++) {
    if (!flags[i]) continue;
    ctx.fillRect(columnX(env, i, g) - w / 2, top, w, h);
    n++;
  }
  return n;
}

/** Grey shade over the padded steps t ≥ length (as the heatmap's padding). */
export function shadePadding(ctx: Ctx, length: number, g: XGeom, top: number, h: number): void {
  const px = paddingPx(length, g);
  if (!px) return;
  ctx.save();
  ctx.fillStyle = "rgba(128, 128, 128, 0.5)";
  ctx.fillRect(px[0], top, px[1] - px[0], h);
  ctx.restore();
}

/** The colour magenta marks of NaN/Inf steps use (as scales.ts NAN_COLOR). */
export { NAN_COLOR } from "../math/scales";

/** Series colours readable on light and dark backgrounds (Tableau 10). */
export const SERIES_COLORS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
] as const;

/** A theme colour: CSS custom property `name` of `el`'s explorer (cached, js/theme.ts), or
 *  `fallback`. */
export { themeVar as cssVar } from "./theme";
