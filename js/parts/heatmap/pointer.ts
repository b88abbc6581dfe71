/**
 * The pointer on a heatmap panel: drag on the plot scrubs the cursor; drag on the time axis
 * band (or Alt-drag on the plot) brushes a time range and ranks rows by it, a click there
 * moves the cursor, a double-click clears the brush; Shift/Ctrl/⌘-click toggles a unit's
 * selection; hover sets the store's hoverUnit and shows the tooltip.
 */
import { pxToIndex, pxToStep, type TimeWindow } from "../../math/layout";
import { brushBetween, clearBrushPatch, toggleUnit } from "../../selection";
import type { Store } from "../../store";
import { placeTooltip } from "../tooltip";

/** Pointer travel (px) before a press in the axis band becomes a brush instead of a click. */
const BRUSH_SLOP = 3;

/** What the pointer needs of the panel, read at event time. */
export interface PanelGeometry {
  readonly margin: { readonly top: number; readonly left: number; readonly bottom: number };
  readonly showX: boolean;
  width(): number;
  height(): number;
  /** Unit of each row, top to bottom. */
  order(): Int32Array;
  window(): TimeWindow;
}

/** Wire the pointer of `plot`; `describe(t, u)` gives the tooltip lines. Returns the teardown. */
export function attachHeatmapPointer(
  plot: HTMLElement,
  tooltip: HTMLElement,
  store: Store,
  g: PanelGeometry,
  describe: (t: number, u: number) => string[],
): () => void {
  const abort = new AbortController();
  type Drag = { kind: "scrub" } | { kind: "brush"; from: number; x0: number; moved: boolean };
  let drag: Drag | null = null;

  const local = (e: MouseEvent): { x: number; y: number } => {
    const r = plot.getBoundingClientRect();
    return { x: e.clientX - r.left - g.margin.left, y: e.clientY - r.top - g.margin.top };
  };
  const stepAtX = (x: number): number => pxToStep(x, g.window(), g.width());
  const inBand = (x: number, y: number): boolean =>
    g.showX && x >= 0 && x < g.width() && y >= g.height() && y < g.height() + g.margin.bottom;
  const hit = (e: MouseEvent): { t: number; u: number | null; x: number; y: number } => {
    const { x, y } = local(e);
    const inside = x >= 0 && x < g.width() && y >= 0 && y < g.height();
    return { t: stepAtX(x), u: inside ? g.order()[pxToIndex(y, g.order().length, g.height())] : null, x, y };
  };

  const showTooltip = (e: MouseEvent, t: number, u: number): void => {
    placeTooltip(tooltip, plot, e, describe(t, u));
  };

  const hideHover = (): void => {
    tooltip.hidden = true;
    if (store.state.hoverUnit !== null) store.set({ hoverUnit: null });
  };

  const capture = (e: PointerEvent): void => {
    try {
      plot.setPointerCapture(e.pointerId);
    } catch {
      /* synthetic events have no active pointer */
    }
  };

  const onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    const { t, u, x, y } = hit(e);
    if (inBand(x, y) || (e.altKey && u !== null)) {
      drag = { kind: "brush", from: t, x0: x, moved: e.altKey };
      if (e.altKey) store.set({ brush: brushBetween(t, t), sortMode: "brush" });
      capture(e);
      e.preventDefault();
      return;
    }
    if (e.shiftKey || e.ctrlKey || e.metaKey) {
      if (u !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, u) });
      return;
    }
    if (y < 0 || y >= g.height() || x < 0 || x >= g.width()) return;
    drag = { kind: "scrub" };
    capture(e);
    store.set({ timestep: t });
  };
  const onPointerMove = (e: PointerEvent): void => {
    const { t, u, x } = hit(e);
    if (drag?.kind === "scrub") store.set({ timestep: t });
    else if (drag?.kind === "brush") {
      if (!drag.moved && Math.abs(x - drag.x0) >= BRUSH_SLOP) drag.moved = true;
      if (drag.moved) store.set({ brush: brushBetween(drag.from, t), sortMode: "brush" });
      return;
    }
    if (u === null) {
      if (!tooltip.hidden || store.state.hoverUnit !== null) hideHover();
      return;
    }
    store.set({ hoverUnit: u });
    showTooltip(e, t, u);
  };
  const onPointerUp = (e: PointerEvent): void => {
    if (drag?.kind === "brush" && !drag.moved && e.type === "pointerup") {
      store.set({ timestep: drag.from }); // a click on the axis moves the cursor
    }
    drag = null;
    try {
      plot.releasePointerCapture(e.pointerId);
    } catch {
      /* not captured */
    }
  };
  const onPointerLeave = (): void => {
    if (!drag) hideHover();
  };
  const onDoubleClick = (e: MouseEvent): void => {
    const { x, y } = local(e);
    if (inBand(x, y) && store.state.brush) store.set(clearBrushPatch(store.state));
  };
  const opts = { signal: abort.signal };
  plot.addEventListener("pointerdown", onPointerDown, opts);
  plot.addEventListener("pointermove", onPointerMove, opts);
  plot.addEventListener("pointerup", onPointerUp, opts);
  plot.addEventListener("pointercancel", onPointerUp, opts);
  plot.addEventListener("pointerleave", onPointerLeave, opts);
  plot.addEventListener("dblclick", onDoubleClick, opts);
  return () => abort.abort();
}
