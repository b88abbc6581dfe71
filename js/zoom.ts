/**
 * Zoom and pan in time, shared by every time axis: Ctrl/⌘ + wheel zooms about the pointer,
 * Shift + wheel (or a horizontal wheel) pans. A plain vertical wheel is left to the page, so
 * the notebook still scrolls. The window lives in the store; every time view redraws from it.
 */
import { clampWindow, type TimeWindow } from "./layout";
import type { Store } from "./store";

/** Zoom `win` by `factor` (< 1 zooms in) keeping step `anchor` at the same place. */
export function zoomWindow(win: TimeWindow, factor: number, anchor: number, nSteps: number): [number, number] {
  const span = win[1] - win[0];
  const next = Math.max(1, Math.round(span * factor));
  if (next === span) return clampWindow([win[0], win[1]], nSteps);
  const frac = span > 0 ? (anchor - win[0]) / span : 0.5;
  const t0 = Math.round(anchor - frac * next);
  return clampWindow([t0, t0 + next], nSteps);
}

/** Pan `win` by `steps` (negative: earlier). */
export function panWindow(win: TimeWindow, steps: number, nSteps: number): [number, number] {
  const d = Math.round(steps);
  return clampWindow([win[0] + d, win[1] + d], nSteps);
}

/**
 * Wheel navigation on `el`, whose plot area starts `left` px from its left edge and is
 * `width()` px wide.
 */
export function attachTimeNavigation(
  el: HTMLElement,
  store: Store,
  nSteps: number,
  left: number,
  width: () => number,
): () => void {
  const onWheel = (e: WheelEvent): void => {
    const w = width();
    if (!(w > 0)) return;
    const win = store.state.window;
    const span = win[1] - win[0];
    if (e.ctrlKey || e.metaKey) {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const frac = Math.min(1, Math.max(0, (e.clientX - r.left - left) / w));
      const anchor = win[0] + frac * span;
      store.set({ window: zoomWindow(win, Math.exp(e.deltaY * 0.002), anchor, nSteps) });
    } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      e.preventDefault();
      const delta = e.shiftKey && e.deltaX === 0 ? e.deltaY : e.deltaX;
      store.set({ window: panWindow(win, (delta / w) * span, nSteps) });
    }
  };
  el.addEventListener("wheel", onWheel, { passive: false });
  return () => el.removeEventListener("wheel", onWheel);
}
