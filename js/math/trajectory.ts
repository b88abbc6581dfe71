/**
 * Pure helpers of the PCA trajectory view (js/views/trajectory.ts): the projection's extent, a
 * sample's path in pixels, decimation to pixel resolution, and the nearest point to the mouse.
 */

/** A (B, T, k) projection, C order. */
export interface Projection {
  data: Float32Array;
  /** Samples, steps, components. */
  B: number;
  T: number;
  k: number;
}

/** What the two plot axes show: component indices, or "time" for the step index. */
export type AxisSource = number | "time";

/** Value of axis `src` at (sample b, step t). */
export function axisValue(p: Projection, src: AxisSource, b: number, t: number): number {
  return src === "time" ? t : p.data[(b * p.T + t) * p.k + src];
}

/**
 * [min, max] of axis `src` over the valid steps (t < lengths[b]) of every sample, finite values
 * only; [0, 1] when there are none, widened around a single value.
 */
export function extentOf(p: Projection, src: AxisSource, lengths: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let b = 0; b < p.B; b++) {
    const len = Math.min(p.T, lengths[b] ?? p.T);
    if (src === "time") {
      if (len > 0) {
        lo = Math.min(lo, 0);
        hi = Math.max(hi, len - 1);
      }
      continue;
    }
    for (let t = 0; t < len; t++) {
      const v = p.data[(b * p.T + t) * p.k + src];
      if (v - v !== 0) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!(lo <= hi)) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** An affine map v ↦ a·v + b (a d3 linear scale without clamping). */
export interface Affine {
  a: number;
  b: number;
}

/** The affine map of a linear scale, from two of its values. */
export function affineOf(scale: (v: number) => number): Affine {
  const b = scale(0);
  return { a: scale(1) - b, b };
}

/**
 * Pixel coordinates of sample `b`'s steps [0, len): xs[t] = sx(axis x), ys[t] = sy(axis y).
 * Non-finite values stay NaN (gaps).
 */
export function pathPixels(
  p: Projection,
  b: number,
  len: number,
  xSrc: AxisSource,
  ySrc: AxisSource,
  sx: Affine,
  sy: Affine,
): { xs: Float32Array; ys: Float32Array } {
  const n = Math.max(0, Math.min(p.T, len));
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  const { data, k } = p;
  const base = b * p.T * k;
  for (let t = 0; t < n; t++) {
    const x = xSrc === "time" ? t : data[base + t * k + xSrc];
    const y = ySrc === "time" ? t : data[base + t * k + ySrc];
    // NaN/±Inf stay NaN: x − x is NaN for them, 0 otherwise
    xs[t] = sx.a * x + sx.b + (x - x);
    ys[t] = sy.a * y + sy.b + (y - y);
  }
  return { xs, ys };
}

/**
 * Indices of a path to draw at pixel resolution: the first and last finite points, every point
 * that lands on another pixel (rounded) than the last kept one, and, at a gap (a non-finite
 * point), the first non-finite point (the drawer lifts the pen there) and the first finite
 * point after it. Drawing lines between the kept points reaches every pixel the full path
 * visits, in order.
 */
export function decimatePath(xs: ArrayLike<number>, ys: ArrayLike<number>): Int32Array {
  const n = Math.min(xs.length, ys.length);
  const keep = new Int32Array(n);
  let m = 0;
  let lastPx = NaN;
  let lastPy = NaN;
  let inGap = true; // before the first finite point
  let lastFinite = -1;
  for (let i = 0; i < n; i++) {
    const x = xs[i];
    const y = ys[i];
    if (x - x !== 0 || y - y !== 0) {
      if (!inGap) {
        // close the run with its last finite point (if not kept yet), then the gap marker
        if (lastFinite >= 0 && keep[m - 1] !== lastFinite) keep[m++] = lastFinite;
        keep[m++] = i;
        inGap = true;
      }
      continue;
    }
    const px = Math.round(x);
    const py = Math.round(y);
    if (inGap || px !== lastPx || py !== lastPy) {
      keep[m++] = i;
      lastPx = px;
      lastPy = py;
    }
    inGap = false;
    lastFinite = i;
  }
  if (lastFinite >= 0 && !inGap && keep[m - 1] !== lastFinite) keep[m++] = lastFinite;
  return keep.slice(0, m);
}

/**
 * Index of the point nearest to (px, py) within `maxDist` px, or -1. Non-finite points are
 * never picked; ties go to the earlier step.
 */
export function nearestPoint(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  px: number,
  py: number,
  maxDist: number,
): number {
  let best = -1;
  let bestD = maxDist * maxDist;
  const n = Math.min(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - px;
    const dy = ys[i] - py;
    const d = dx * dx + dy * dy;
    if (d < bestD || (d === bestD && best < 0)) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** A percentage of variance for axis labels: 0.4312 → "43%", 0.004 → "0.4%". */
export function formatRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return "";
  const pct = r * 100;
  if (pct >= 9.95 || pct === 0) return `${Math.round(pct)}%`;
  if (pct >= 0.095) return `${pct.toFixed(1)}%`;
  return `${pct.toExponential(0)}%`;
}
