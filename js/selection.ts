/**
 * Unit selection and brush: the pure rules every view applies to the store's selectedUnits
 * and brush (toggle, brush range, chips, which selected units get their own lines).
 */
import type { ViewState } from "./store";

/** At most this many selected units get their own lines (a health group may select dozens). */
export const MAX_UNIT_LINES = 8;

/** The selected units that get lines: the first MAX_UNIT_LINES of those the layer has. */
export function shownUnits(selected: readonly number[], units: number): number[] {
  return selected.filter((u) => u < units).slice(0, MAX_UNIT_LINES);
}

/** "thin: units 1, 4, 9" (+ "first 8 of 30"), or "" when none is selected. */
export function unitsNote(selected: readonly number[], units: number): string {
  const all = selected.filter((u) => u < units);
  const shown = all.slice(0, MAX_UNIT_LINES);
  if (!shown.length) return "";
  const more = all.length > shown.length ? ` (first ${shown.length} of ${all.length})` : "";
  return `thin: unit${shown.length > 1 ? "s" : ""} ${shown.join(", ")}${more}`;
}

// --- health chips -------------------------------------------------------------------------

/** Whether two unit lists hold the same units (order and duplicates ignored). */
export function sameUnits(a: readonly number[], b: readonly number[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size !== sb.size) return false;
  for (const u of sa) if (!sb.has(u)) return false;
  return true;
}

/** The selection after clicking a chip of `units`: them, or nothing when they are already
 *  exactly the selection (a second click clears). */
export function chipSelection(current: readonly number[], units: readonly number[]): number[] {
  return units.length > 0 && sameUnits(current, units) ? [] : [...new Set(units)];
}

/** Toggle `u` in a selection (added at the end, so Python's order is kept). */
export function toggleUnit(selected: readonly number[], u: number): number[] {
  return selected.includes(u) ? selected.filter((v) => v !== u) : [...selected, u];
}

/** The brush [a, b) spanned by a drag from step `from` to step `to` (both included). */
export function brushBetween(from: number, to: number): [number, number] {
  return [Math.min(from, to), Math.max(from, to) + 1];
}

/** Store patch that clears the brush (the brush ordering falls back to the natural one). */
export function clearBrushPatch(s: Readonly<ViewState>): Partial<ViewState> {
  return { brush: null, sortMode: s.sortMode === "brush" ? "natural" : s.sortMode };
}
