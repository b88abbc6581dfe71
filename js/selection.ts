/**
 * Unit selection and brush: the pure rules every view applies to the store's selectedUnits
 * and brush (toggle, brush range, chips, which selected units get their own lines).
 */

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
