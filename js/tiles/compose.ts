/**
 * Min/max per pixel column of a time window, from whatever tiles are held (pure).
 *
 * Column c of `cols` covers steps [a + ⌊c·span/cols⌋, a + ⌊(c+1)·span/cols⌋) (span ≥ cols) or
 * exactly step a + c (span = cols, the caller never asks for more columns than steps). For each
 * column the wanted level is tried first, then up to FINER_TRIES finer levels (more exact, more
 * work), then every coarser one: a column is drawn from the best level whose tiles are held,
 * so the panel shows the coarse image at once while a finer tile is on its way. At a level
 * whose buckets straddle the column's edges the straddling buckets count whole: a column may
 * widen by < 1 bucket on each side, never miss a step. NaN wins (Math.min/Math.max); ±Inf
 * survives. A column no tile covers stays lo = +Inf, hi = −Inf and `missing[c]` = 1.
 */
import type { TimeWindow } from "../math/layout";
import { TILE_STEPS, type Tile } from "./types";

/** How many finer levels than the wanted one a column may be read from. */
export const FINER_TRIES = 3;

export type TileLookup = (level: number, index: number) => Tile | undefined;

export interface ColumnImage {
  cols: number;
  width: number;
  /** (cols, width) column-major by column: [c · width + w]. */
  lo: Float32Array;
  hi: Float32Array;
  /** Level each column was read from (−1: none held). */
  levels: Int8Array;
  /** Columns with no data at all. */
  missing: number;
  /** Steps per column (span / cols). */
  stepsPerColumn: number;
}

export interface ComposeOptions {
  nSteps: number;
  width: number;
  level: number;
  maxLevel: number;
  finestLevel: number;
}

/** The candidate levels of a column, best first. */
export function levelOrder(level: number, finest: number, maxLevel: number): number[] {
  const out = [level];
  for (let k = level - 1; k >= Math.max(finest, level - FINER_TRIES); k--) out.push(k);
  for (let k = level + 1; k <= maxLevel; k++) out.push(k);
  return out;
}

/** Fold buckets [i0, i1) of `level` into column c; false when a tile is not held. */
function foldColumn(get: TileLookup, level: number, i0: number, i1: number, out: ColumnImage, c: number): boolean {
  const W = out.width;
  const first = Math.floor(i0 / TILE_STEPS);
  const last = Math.floor((i1 - 1) / TILE_STEPS);
  const tiles: Tile[] = [];
  for (let ti = first; ti <= last; ti++) {
    const t = get(level, ti);
    if (t === undefined) return false;
    tiles.push(t);
  }
  const lo = out.lo;
  const hi = out.hi;
  const base = c * W;
  for (let w = 0; w < W; w++) {
    lo[base + w] = Infinity;
    hi[base + w] = -Infinity;
  }
  // plain comparisons (Math.min/max cost 2–3× more here); a NaN is noted and wins at the end
  let nan = false;
  for (const t of tiles) {
    const b0 = Math.max(i0 - t.index * TILE_STEPS, 0);
    const b1 = Math.min(i1 - t.index * TILE_STEPS, t.n);
    const tlo = t.lo;
    const thi = t.hi;
    for (let b = b0; b < b1; b++) {
      const off = b * W;
      for (let w = 0; w < W; w++) {
        const l = tlo[off + w];
        const h = thi[off + w];
        if (l < lo[base + w]) lo[base + w] = l;
        else if (l !== l) nan = true;
        if (h > hi[base + w]) hi[base + w] = h;
        else if (h !== h) nan = true;
      }
    }
  }
  if (nan) markNaN(tiles, i0, i1, W, lo, hi, base);
  return true;
}

/** The columns w of [base, base + W) whose buckets [i0, i1) hold a NaN become NaN. */
function markNaN(
  tiles: Tile[],
  i0: number,
  i1: number,
  W: number,
  lo: Float32Array,
  hi: Float32Array,
  base: number,
): void {
  for (const t of tiles) {
    const b0 = Math.max(i0 - t.index * TILE_STEPS, 0);
    const b1 = Math.min(i1 - t.index * TILE_STEPS, t.n);
    for (let b = b0; b < b1; b++) {
      for (let w = 0; w < W; w++) {
        const l = t.lo[b * W + w];
        const h = t.hi[b * W + w];
        if (l !== l || h !== h) lo[base + w] = hi[base + w] = NaN;
      }
    }
  }
}

/** Compose `cols` columns of the window from the tiles `get` holds. */
export function composeColumns(get: TileLookup, win: TimeWindow, cols: number, o: ComposeOptions): ColumnImage {
  const a = Math.max(0, Math.floor(win[0]));
  const b = Math.max(a + 1, Math.min(o.nSteps, Math.ceil(win[1])));
  const span = b - a;
  const n = Math.max(1, Math.min(Math.floor(cols), span));
  const out: ColumnImage = {
    cols: n,
    width: o.width,
    lo: new Float32Array(n * o.width).fill(Infinity),
    hi: new Float32Array(n * o.width).fill(-Infinity),
    levels: new Int8Array(n).fill(-1),
    missing: 0,
    stepsPerColumn: span / n,
  };
  const order = levelOrder(o.level, o.finestLevel, o.maxLevel);
  for (let c = 0; c < n; c++) {
    const s0 = a + Math.floor((c * span) / n);
    const s1 = Math.max(s0 + 1, a + Math.floor(((c + 1) * span) / n));
    let done = false;
    for (const k of order) {
      const size = 2 ** k;
      if (foldColumn(get, k, Math.floor(s0 / size), Math.ceil(s1 / size), out, c)) {
        out.levels[c] = k;
        done = true;
        break;
      }
    }
    if (!done) out.missing++;
  }
  return out;
}

/**
 * The value a heatmap cell shows for a column's [lo, hi]: whichever lies farther from the
 * colour scale's middle `mid` (a spike is never averaged away); NaN when either is NaN.
 */
export function extremeOf(lo: number, hi: number, mid: number): number {
  if (lo !== lo || hi !== hi) return NaN;
  return Math.abs(hi - mid) >= Math.abs(lo - mid) ? hi : lo;
}

/** Per-unit min and max over the held tiles of one level covering [0, T) (for colour domains);
 *  null unless every tile is held. */
export function foldLevel(get: TileLookup, level: number, nTiles: number, width: number): Float32Array | null {
  const out = new Float32Array(2 * width);
  out.fill(Infinity, 0, width);
  out.fill(-Infinity, width);
  for (let ti = 0; ti < nTiles; ti++) {
    const t = get(level, ti);
    if (t === undefined) return null;
    for (let b = 0; b < t.n; b++) {
      for (let w = 0; w < width; w++) {
        const l = t.lo[b * width + w];
        const h = t.hi[b * width + w];
        // NaN buckets are left out of the domain (as scales.ts leaves non-finite values out)
        if (l === l && l < out[w]) out[w] = l;
        if (h === h && h > out[width + w]) out[width + w] = h;
      }
    }
  }
  return out;
}
