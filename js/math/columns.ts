/**
 * Value domains and column geometry of the line tracks. Column convention: a window [t0, t1) is
 * reduced by math/lod.ts `envelope` to at most one column per pixel; column i covers steps
 * [start[i], start[i+1]) and sits at the centre of those steps. With fewer steps than pixels
 * every step is its own column (lo = hi = the value).
 */
import type { TimeWindow } from "./layout";
import { type Envelope, envelope, seriesLod, type SeriesLod } from "./lod";

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
 * The SeriesLod (js/math/lod.ts: min/max pyramid, flagged steps) of sample `b` of a (B, T) array,
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
