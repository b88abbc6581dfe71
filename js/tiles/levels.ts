/**
 * Which tiles a window needs (pure). Level k buckets hold 2^k steps; a tile holds TILE_STEPS
 * buckets, so tile i of level k covers steps [i·512·2^k, (i+1)·512·2^k).
 */
import type { TimeWindow } from "../math/layout";
import { TILE_STEPS } from "./types";

export function bucketsAt(nSteps: number, level: number): number {
  return Math.ceil(nSteps / 2 ** level);
}

export function tilesAt(nSteps: number, level: number): number {
  return Math.ceil(bucketsAt(nSteps, level) / TILE_STEPS);
}

/** Steps a tile of `level` covers. */
export function tileSpan(level: number): number {
  return TILE_STEPS * 2 ** level;
}

/**
 * The level to draw `win` at on `columns` pixel columns: the coarsest whose buckets still fit
 * one per column, max(finest, floor(log2(steps / columns))), capped at maxLevel.
 */
export function levelFor(win: TimeWindow, columns: number, maxLevel: number, finest = 0): number {
  const span = Math.max(1, win[1] - win[0]);
  const per = span / Math.max(1, columns);
  const k = per <= 1 ? 0 : Math.floor(Math.log2(per));
  return Math.min(maxLevel, Math.max(finest, k));
}

/** Indices [first, last] of the tiles of `level` that cover the steps [t0, t1). */
export function tileRange(win: TimeWindow, level: number, nSteps: number): [number, number] {
  const span = tileSpan(level);
  const t0 = Math.max(0, Math.min(nSteps - 1, Math.floor(win[0])));
  const t1 = Math.max(t0 + 1, Math.min(nSteps, Math.ceil(win[1])));
  return [Math.floor(t0 / span), Math.floor((t1 - 1) / span)];
}

/** The level-0 tile that holds step t. */
export function tileOfStep(t: number): number {
  return Math.floor(t / TILE_STEPS);
}
