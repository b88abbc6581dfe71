/**
 * The frame budget the heatmap panels share: one animation frame's raster time.
 */

/**
 * Raster time (ms) all panels together may spend in one animation frame. A panel that finds
 * the budget spent shows its last image moved and scaled to the new window (one drawImage)
 * and rasters in a following frame (after MAX_DEFER frames it goes first, one such panel per
 * frame), so a pan or zoom of a
 * 100,000-step sequence with the gate small multiples open keeps frames short: the main
 * heatmap (first to draw) is exact in every frame, the small multiples catch up.
 */
export const FRAME_BUDGET_MS = 12;

/** After waiting this many frames a panel goes first (one such panel per frame). */
export const MAX_DEFER = 4;
/** This frame's raster time so far, and whether a panel that waited MAX_DEFER frames already
 *  took its turn (one per frame, so waiting panels never all land in the same frame). */
const budget = { open: false, spent: 0, forced: false };
const nextFrame: (cb: () => void) => void =
  typeof requestAnimationFrame === "function" ? (cb) => requestAnimationFrame(cb) : (cb) => setTimeout(cb, 16);
function openBudget(): void {
  if (budget.open) return;
  budget.open = true;
  budget.spent = 0;
  budget.forced = false;
  nextFrame(() => {
    budget.open = false;
  });
}
const clock = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/**
 * Whether a panel may raster its image in this frame. `canWait`: it has an older image that,
 * moved and scaled, is a fair preview (only a new window or order can wait); `deferred`: how
 * many frames it has waited. False: show the preview and try again next frame.
 */
export function takeTurn(canWait: boolean, deferred: number): boolean {
  openBudget();
  if (canWait && deferred >= MAX_DEFER && !budget.forced) {
    budget.forced = true; // waited long enough: this panel's turn
    return true;
  }
  return !(canWait && budget.spent >= FRAME_BUDGET_MS);
}

/** Run `draw` and charge its time to this frame's budget. */
export function spend(draw: () => void): void {
  const t0 = clock();
  draw();
  budget.spent += clock() - t0;
}
