/** Token labels on a time axis: how many to skip so they do not overlap, and how to show them. */
import type { TimeWindow } from "./layout";

// ---- tokens -----------------------------------------------------------------------------------

/** Show every k-th token so labels `labelPx` wide (plus `gapPx`) fit on steps `stepPx` apart. */
export function tokenStride(stepPx: number, labelPx: number, gapPx = 6): number {
  if (!(stepPx > 0)) return Number.MAX_SAFE_INTEGER;
  return Math.max(1, Math.ceil((labelPx + gapPx) / stepPx));
}

/** Steps of the window whose token is shown: multiples of k (stable while panning). */
export function thinnedSteps(win: TimeWindow, k: number): number[] {
  const out: number[] = [];
  if (!(k >= 1) || !Number.isFinite(k)) return out;
  for (let t = Math.ceil(win[0] / k) * k; t < win[1]; t += k) out.push(t);
  return out;
}

/** `text` cut to at most `maxChars` characters, with "…" when cut. */
export function clipChars(text: string, maxChars: number): string {
  const chars = [...text];
  if (chars.length <= maxChars) return text;
  return maxChars <= 1 ? "…" : `${chars.slice(0, maxChars - 1).join("")}…`;
}

/** A token as shown on the axis: whitespace made visible ("␣", "↵", "⇥"). */
export function displayToken(tok: string): string {
  return tok.replace(/ /g, "␣").replace(/\r?\n/g, "↵").replace(/\t/g, "⇥");
}
