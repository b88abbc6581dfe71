/**
 * Time navigation on a plot: Ctrl/⌘ + wheel zooms about the pointer, Shift + wheel (or a
 * horizontal wheel) pans. A plain vertical wheel is left to the page, so the notebook still
 * scrolls. The window lives in the store (the maths is math/zoom.ts).
 */
import { panWindow, zoomWindow } from "../math/zoom";
import type { Store } from "../store";

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
