/**
 * Pure geometry of the views: pixel ↔ timestep/unit mapping, sizes, integer ticks, keys.
 * Column t of the heatmap spans [t·w/T, (t+1)·w/T); the cursor sits at its centre.
 */

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** x (relative to the plot's left edge) of the centre of column `t` of `n` in `width` px. */
export function indexToPx(t: number, n: number, width: number): number {
  return ((t + 0.5) * width) / n;
}

/** Column/row under pixel `px` (relative to the plot's edge), clamped to [0, n-1]. */
export function pxToIndex(px: number, n: number, width: number): number {
  if (!(width > 0) || n <= 0) return 0;
  return clamp(Math.floor((px / width) * n), 0, n - 1);
}

/** Height of the heatmap's plot area: grows a bit with the number of units, capped. */
export function heatmapPlotHeight(units: number): number {
  return clamp(Math.round(170 + 4 * units), 240, 420);
}

/**
 * Integer tick values within [0, n-1] for an axis of `lengthPx` pixels, about one per
 * `spacingPx` (d3-style "nice" steps 1, 2, 5, 10, …).
 */
export function integerTicks(n: number, lengthPx: number, spacingPx = 60): number[] {
  if (n <= 0) return [];
  const target = Math.max(1, Math.floor(lengthPx / spacingPx));
  const raw = Math.max(1, (n - 1) / target);
  const pow = 10 ** Math.floor(Math.log10(raw));
  let step = pow;
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) {
      step = m * pow;
      break;
    }
  }
  step = Math.max(1, Math.round(step));
  const out: number[] = [];
  for (let v = 0; v <= n - 1; v += step) out.push(v);
  return out;
}

/**
 * New timestep for a key press on the explorer, or null when the key is not ours.
 * ←/→: ±1 (Shift: ±10); Home/End: 0 / T−1.
 */
export function keyToTimestep(key: string, shift: boolean, t: number, nSteps: number): number | null {
  const last = nSteps - 1;
  switch (key) {
    case "ArrowLeft":
      return clamp(t - (shift ? 10 : 1), 0, last);
    case "ArrowRight":
      return clamp(t + (shift ? 10 : 1), 0, last);
    case "Home":
      return 0;
    case "End":
      return last;
    default:
      return null;
  }
}

/** A visible time range [t0, t1) (zoom and pan). */
export type TimeWindow = readonly [number, number];

/** x (relative to the plot's left edge) of the centre of step `t` in window `win`. */
export function stepToPx(t: number, win: TimeWindow, width: number): number {
  return ((t - win[0] + 0.5) * width) / (win[1] - win[0]);
}

/** Step under pixel `px` (relative to the plot's left edge) in window `win`, clamped into it. */
export function pxToStep(px: number, win: TimeWindow, width: number): number {
  return win[0] + pxToIndex(px, win[1] - win[0], width);
}

/** Smallest number of steps a zoomed window shows. */
export const MIN_WINDOW = 4;

/** A valid window of a T-step axis: integer bounds, 0 ≤ t0 < t1 ≤ T, at least MIN_WINDOW wide. */
export function clampWindow(win: readonly [number, number] | null | undefined, nSteps: number): [number, number] {
  if (!win || !Number.isFinite(win[0]) || !Number.isFinite(win[1])) return [0, nSteps];
  const span = clamp(Math.round(win[1] - win[0]), Math.min(nSteps, MIN_WINDOW), nSteps);
  const t0 = clamp(Math.round(win[0]), 0, nSteps - span);
  return [t0, t0 + span];
}

/** The window moved the least so that it contains step `t`. */
export function windowFollowing(win: TimeWindow, t: number, nSteps: number): [number, number] {
  if (t >= win[0] && t < win[1]) return [win[0], win[1]];
  const span = win[1] - win[0];
  const t0 = t < win[0] ? t : t - span + 1;
  return clampWindow([t0, t0 + span], nSteps);
}
