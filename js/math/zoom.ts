/**
 * Zoom and pan maths of the time window shared by every time axis (the window lives in the
 * store; parts/timenav.ts turns wheel events into it).
 */
import { clampWindow, MIN_WINDOW, type TimeWindow } from "./layout";

/** Zoom `win` by `factor` (< 1 zooms in) keeping step `anchor` at the same place. */
export function zoomWindow(win: TimeWindow, factor: number, anchor: number, nSteps: number): [number, number] {
  const span = win[1] - win[0];
  // Clamp the new span first, so a zoom that cannot change it does not move the window.
  const next = Math.min(nSteps, Math.max(Math.min(nSteps, MIN_WINDOW), Math.round(span * factor)));
  if (next === span) return clampWindow([win[0], win[1]], nSteps);
  const frac = span > 0 ? (anchor - win[0]) / span : 0.5;
  const t0 = Math.round(anchor - frac * next);
  return clampWindow([t0, t0 + next], nSteps);
}

/** Zoom factor of one key press or toolbar click (+ halves the window, − doubles it). */
export const ZOOM_STEP = 2;

/**
 * Zoom by `factor` (< 1: in) about the cursor: the cursor's step keeps its place on screen
 * (when the cursor lies outside the window, about the window's centre).
 */
export function zoomAboutCursor(win: TimeWindow, factor: number, timestep: number, nSteps: number): [number, number] {
  const inside = timestep >= win[0] && timestep < win[1];
  const anchor = inside ? timestep + 0.5 : (win[0] + win[1]) / 2;
  return zoomWindow(win, factor, anchor, nSteps);
}

/** Whether `win` shows less than the whole axis. */
export function isZoomed(win: TimeWindow, nSteps: number): boolean {
  return win[0] > 0 || win[1] < nSteps;
}

/**
 * "Nice" integer tick values inside a window [t0, t1): multiples of 1, 2, 5, 10, 20, 50, …
 * about `spacingPx` apart on an axis `lengthPx` long.
 */
export function windowTicks(win: TimeWindow, lengthPx: number, spacingPx = 70): number[] {
  const [t0, t1] = win;
  const n = t1 - t0;
  if (n <= 0) return [];
  const target = Math.max(1, Math.floor(lengthPx / spacingPx));
  const raw = Math.max(1, (n - 1) / target);
  const pow = 10 ** Math.floor(Math.log10(raw));
  let step = 10 * pow;
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) {
      step = m * pow;
      break;
    }
  }
  step = Math.max(1, Math.round(step));
  const out: number[] = [];
  for (let v = Math.ceil(t0 / step) * step; v <= t1 - 1; v += step) out.push(v);
  return out;
}

/** Pan `win` by `steps` (negative: earlier). */
export function panWindow(win: TimeWindow, steps: number, nSteps: number): [number, number] {
  const d = Math.round(steps);
  return clampWindow([win[0] + d, win[1] + d], nSteps);
}
