/**
 * Pointer handling of a cell grid (the attention card): press or drag over a cell picks it,
 * hovering a cell shows it, leaving (when not dragging) hides it.
 */
import type { Lifecycle } from "../lifecycle";

export interface CellPointer<C> {
  /** The cell under the event, or null outside the grid. */
  cellAt: (e: MouseEvent) => C | null;
  /** Press, or drag over, a cell. */
  pick: (c: C) => void;
  /** Hover over a cell. */
  hover: (e: MouseEvent, c: C) => void;
  /** Off the grid, or left it while not dragging. */
  hide: () => void;
}

export function listenCellPointer<C>(plot: HTMLElement, life: Lifecycle, p: CellPointer<C>): void {
  let dragging = false;
  const onDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const c = p.cellAt(e);
    if (!c) return;
    dragging = true;
    try {
      plot.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
    p.pick(c);
  };
  const onMove = (e: PointerEvent): void => {
    const c = p.cellAt(e);
    if (dragging && c) p.pick(c);
    if (!c) {
      p.hide();
      return;
    }
    p.hover(e, c);
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
    if (!dragging) p.hide();
  };
  life.listen(plot, "pointerdown", onDown);
  life.listen(plot, "pointermove", onMove);
  life.listen(plot, "pointerup", onUp);
  life.listen(plot, "pointercancel", onUp);
  life.listen(plot, "pointerleave", onLeave);
}
