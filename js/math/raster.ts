/**
 * Pure rasterisation of one (sample, quantity) into RGBA pixels: rows = units, columns = t.
 * `rasterize` draws every step; `rasterizeWindow` draws a zoom window at pixel resolution.
 */
import type { TimeWindow } from "./layout";
import { bucketBounds, columnBounds, type Pyramid } from "./pyramid";
import { type ColorScale, lut32Of, LUT_SIZE, NAN_RGB, rgba32 } from "./scales";

/**
 * Fill `out` (RGBA, T × U pixels, row-major: pixel (t, u) at (u·T + t)·4) with the colours of
 * `data[sample, :, :]` where `data` is a (B, T, U) C-order array. NaN/±Inf get NAN_RGB.
 */
export function rasterize(
  out: Uint8ClampedArray,
  data: Float32Array,
  sample: number,
  nSteps: number,
  units: number,
  scale: ColorScale,
): void {
  if (out.length !== nSteps * units * 4) {
    throw new Error(`rasterize: ${out.length} bytes for ${nSteps}×${units} pixels`);
  }
  const lut = scale.lut;
  const [d0, d1] = scale.domain;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const base = sample * nSteps * units;
  const [nr, ng, nb] = NAN_RGB;
  for (let t = 0; t < nSteps; t++) {
    const row = base + t * units;
    for (let u = 0; u < units; u++) {
      const v = data[row + u];
      const p = (u * nSteps + t) * 4;
      if (v - v !== 0) {
        // NaN or ±Inf (v - v is NaN for both)
        out[p] = nr;
        out[p + 1] = ng;
        out[p + 2] = nb;
      } else {
        let i = k === 0 ? (LUT_SIZE - 1) >> 1 : Math.round((v - d0) * k);
        if (i < 0) i = 0;
        else if (i > LUT_SIZE - 1) i = LUT_SIZE - 1;
        out[p] = lut[i * 3];
        out[p + 1] = lut[i * 3 + 1];
        out[p + 2] = lut[i * 3 + 2];
      }
      out[p + 3] = 255;
    }
  }
}

// --- the window rasteriser: what the heatmap panels draw ------------------------------------

/**
 * The image that draws a window. Three cases, by steps per device-pixel column s:
 * - s ≤ 1, "exact": one image column per step of the window;
 * - s ≥ 2^minLevel, "columns": one image column per pixel column, each the min/max of its
 *   steps (`columnBounds`: 1–2 pyramid buckets each);
 * - 2^(minLevel−1) ≤ s < 2^minLevel, "buckets": one image column per pyramid bucket of the
 *   finest stored level (1–2 device px each, so none is dropped when the image is stretched
 *   onto the canvas), the window widened to whole buckets: reading the data itself would cost
 *   up to 2^minLevel steps per column;
 * - 1 < s < 2^(minLevel−1): "columns" too, read from the data.
 * Rows: one per unit while the units fit in the device-pixel rows, else one per pixel row.
 */
export interface WindowImageSize {
  width: number;
  height: number;
  /** Columns hold several steps each (their extreme is drawn). */
  aggregated: boolean;
  /** Steps per device-pixel column of the window (1 when not aggregated). */
  stepsPerColumn: number;
  /** The steps the image spans: the window, or the window widened to whole buckets. */
  win: [number, number];
  /** "buckets" mode: the pyramid level of the image columns; −1 otherwise. */
  bucketLevel: number;
}

export function windowImageSize(
  win: TimeWindow,
  units: number,
  cols: number,
  rows: number,
  pyramid?: { nSteps: number; minLevel: number },
): WindowImageSize {
  const span = Math.max(1, win[1] - win[0]);
  const c = Math.max(1, Math.floor(cols));
  const r = Math.max(1, Math.floor(rows));
  const aggregated = span > c;
  const s = span / c;
  const height = Math.min(units, r);
  if (aggregated && pyramid && pyramid.minLevel >= 1 && s >= 2 ** (pyramid.minLevel - 1) && s < 2 ** pyramid.minLevel) {
    const size = 2 ** pyramid.minLevel;
    const a = Math.floor(win[0] / size) * size;
    const b = Math.min(pyramid.nSteps, Math.ceil(win[1] / size) * size);
    return {
      width: Math.ceil((b - a) / size),
      height,
      aggregated,
      stepsPerColumn: s,
      win: [a, b],
      bucketLevel: pyramid.minLevel,
    };
  }
  return {
    width: aggregated ? c : span,
    height,
    aggregated,
    stepsPerColumn: aggregated ? s : 1,
    win: [win[0], win[1]],
    bucketLevel: -1,
  };
}

/** Step boundaries of the image columns of an aggregated image: column x covers
 *  [bounds[x], bounds[x + 1]). */
export function imageColumnBounds(size: WindowImageSize): Int32Array {
  return size.bucketLevel >= 0 ? bucketBounds(size.win, size.bucketLevel) : columnBounds(size.win, size.width).bounds;
}

export interface WindowSource {
  /** (B, T, U) C-order values. */
  data: Float32Array;
  sample: number;
  nSteps: number;
  units: number;
  /** The min/max pyramid of data[sample] (asked for only when a column of an aggregated window
   *  holds more steps than `direct` reads take). */
  pyramid: () => Pyramid;
  /** That pyramid's minLevel when known without building it (then a window whose columns are
   *  all shorter than a bucket never builds it). */
  minLevel?: number;
  /**
   * That pyramid folded into the image's pixel rows in the same order (Pyramid.foldRows), for
   * an image with fewer rows than units: aggregated columns that are whole buckets read it
   * (`rows` values each, not U). Optional.
   */
  rowsPyramid?: (rows: number) => Pyramid | null;
}

/**
 * Rasterise window `win` (`size` = windowImageSize(win, …); the image spans size.win) of one
 * (sample, quantity) into `out` (RGBA, size.width × size.height, row-major: pixel (x, y) at
 * (y·width + x)·4). Row r shows unit order[r] (order = null: unit r).
 *
 * The extreme-preserving rule, wherever one pixel stands for several values: the value
 * farthest from the colour scale's midpoint wins (`extremeOf`), so a spike of one step in a
 * column of 48, or one unit in a row of 3, keeps its colour. Columns: the min and max of the
 * column's steps come from the pyramid (≤ 2 buckets per column, `imageColumnBounds`), and the
 * one of larger |value − midpoint| is drawn. Rows (more units than pixel rows): the same rule
 * across the units of a pixel row. A NaN/±Inf anywhere in a pixel's values paints it in the
 * NaN colour.
 */
export function rasterizeWindow(
  out: Uint8ClampedArray,
  src: WindowSource,
  win: TimeWindow,
  size: WindowImageSize,
  order: Int32Array | null,
  scale: ColorScale,
): void {
  const { width, height } = size;
  if (out.length !== width * height * 4) {
    throw new Error(`rasterizeWindow: ${out.length} bytes for ${width}×${height} pixels`);
  }
  const U = src.units;
  const T = src.nSteps;
  const [d0, d1] = scale.domain;
  const mid = (d0 + d1) / 2;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const lut32 = lut32Of(scale.lut);
  const nan32 = rgba32(NAN_RGB[0], NAN_RGB[1], NAN_RGB[2]);
  const px = new Uint32Array(out.buffer, out.byteOffset, width * height);
  // Columns are computed in blocks (BLOCK columns × U units, column-major: the value, or the
  // colour when no units are folded together), then written row by row: each pixel row of a
  // block is one contiguous run (cache-friendly).
  const BLOCK = 16;
  const vals = new Float32Array(BLOCK * U);
  const cols = new Uint32Array(BLOCK * U);
  const lo = new Float32Array(U);
  const hi = new Float32Array(U);
  const base = src.sample * T * U;
  const data = src.data;
  // Columns of fewer steps than a pyramid bucket are read from the data: the pyramid is asked
  // for (and built, the first time) only when a column is longer.
  const { bounds, pyr, direct } = columnPlan(src, size);
  // Pixel row p covers sorted rows [rowStart[p], rowStart[p + 1]).
  const rowStart = new Int32Array(height + 1);
  for (let p = 0; p <= height; p++) rowStart[p] = Math.floor((p * U) / height);
  const rowUnit = new Int32Array(U);
  for (let r = 0; r < U; r++) rowUnit[r] = order ? order[r] : r;
  const folded = height < U;
  const top = LUT_SIZE - 1;
  const half = top >> 1;
  const colour = (v: number): number => {
    if (v - v !== 0) return nan32; // NaN or ±Inf
    if (k === 0) return lut32[half];
    const i = ((v - d0) * k + 0.5) | 0; // (v − d0)·k ≥ −0.5 rounds like Math.round
    return lut32[i < 0 ? 0 : i > top ? top : i];
  };

  // A column shorter than a bucket of the finest stored level (`direct`) is folded straight from
  // the data (one pass, no lo/hi arrays: what the pyramid would read too); longer ones ask the
  // pyramid (≤ 2 buckets per level plus the unaligned ends).
  // With fewer rows than units, whole-bucket columns read the row-folded pyramid: the extreme
  // of (min over the row's units and steps, max over them) is the extreme over both, which is
  // what folding the units' extremes gives (a NaN/±Inf anywhere still poisons the pixel).
  const rowsPyr = folded && pyr !== null && bounds !== null && src.rowsPyramid ? src.rowsPyramid(height) : null;
  const rlo = rowsPyr ? new Float32Array(height) : lo;
  const rhi = rowsPyr ? new Float32Array(height) : hi;
  const rowVals = rowsPyr ? new Float32Array(BLOCK * height) : vals;
  const viaRows = new Uint8Array(BLOCK);
  let ab: ReturnType<Pyramid["alignedBuckets"]>;

  for (let x0 = 0; x0 < width; x0 += BLOCK) {
    const n = Math.min(BLOCK, width - x0);
    for (let j = 0; j < n; j++) {
      const x = x0 + j;
      const o = j * U;
      viaRows[j] = 0;
      if (bounds !== null && bounds[x + 1] - bounds[x] <= direct) {
        // The extreme of a few steps, read from the data: their min and max (Math.min/max carry
        // a NaN along; ±Inf shows as an infinite end), then extremeOf's rule: the one farther
        // from the midpoint, the max on a tie; NaN when a NaN/±Inf is among them.
        const t0 = bounds[x];
        const t1 = Math.max(t0 + 1, bounds[x + 1]);
        let row = base + t0 * U;
        for (let u = 0; u < U; u++) {
          const v = data[row + u];
          lo[u] = v;
          hi[u] = v;
        }
        for (let t = t0 + 1; t < t1; t++) {
          row += U;
          for (let u = 0; u < U; u++) {
            const v = data[row + u];
            lo[u] = Math.min(lo[u], v);
            hi[u] = Math.max(hi[u], v);
          }
        }
        for (let u = 0; u < U; u++) {
          const a = lo[u];
          const b = hi[u];
          const poisoned = a - a !== 0 || b - b !== 0; // NaN, or an infinite end
          if (folded) vals[o + u] = poisoned ? NaN : b - mid >= mid - a ? b : a;
          else if (poisoned) cols[o + u] = nan32;
          else if (k === 0) cols[o + u] = lut32[half];
          else {
            const i = ((b - mid >= mid - a ? b : a) - d0) * k + 0.5; // colour(), inlined
            cols[o + u] = lut32[i < 0 ? 0 : i > top ? top : i | 0];
          }
        }
      } else if (rowsPyr !== null && bounds !== null && rowsPyr.aligned(bounds[x], bounds[x + 1])) {
        rlo.fill(Infinity);
        rhi.fill(-Infinity);
        rowsPyr.accumulate(bounds[x], bounds[x + 1], rlo, rhi);
        const ro = j * height;
        for (let p = 0; p < height; p++) {
          const a = rlo[p];
          const b = rhi[p];
          rowVals[ro + p] = a === -Infinity || b === Infinity ? NaN : b - mid >= mid - a ? b : a;
        }
        viaRows[j] = 1;
        continue;
      } else if (!folded && bounds !== null && pyr !== null && (ab = pyr.alignedBuckets(bounds[x], bounds[x + 1]))) {
        // 1 or 2 whole buckets of one level: their lows and highs straight from that level
        const L = ab.lo;
        const H = ab.hi;
        const a0 = ab.i * U;
        const two = ab.n === 2;
        for (let u = 0; u < U; u++) {
          let a = L[a0 + u];
          let b = H[a0 + u];
          if (two) {
            const a2 = L[a0 + U + u];
            const b2 = H[a0 + U + u];
            if (a2 < a) a = a2;
            if (b2 > b) b = b2;
          }
          if (a === -Infinity || b === Infinity) cols[o + u] = nan32;
          else if (k === 0) cols[o + u] = lut32[half];
          else {
            const i = ((b - mid >= mid - a ? b : a) - d0) * k + 0.5; // colour(), inlined
            cols[o + u] = lut32[i < 0 ? 0 : i > top ? top : i | 0];
          }
        }
      } else if (bounds !== null && pyr !== null) {
        lo.fill(Infinity);
        hi.fill(-Infinity);
        pyr.accumulate(bounds[x], bounds[x + 1], lo, hi);
        // extremeOf, inlined: a poisoned range (−Inf, +Inf) is NaN
        if (folded) {
          for (let u = 0; u < U; u++) {
            const a = lo[u];
            const b = hi[u];
            vals[o + u] = a === -Infinity || b === Infinity ? NaN : b - mid >= mid - a ? b : a;
          }
        } else {
          for (let u = 0; u < U; u++) {
            const a = lo[u];
            const b = hi[u];
            if (a === -Infinity || b === Infinity) cols[o + u] = nan32;
            else {
              const i = ((b - mid >= mid - a ? b : a) - d0) * k + 0.5; // colour(), inlined
              cols[o + u] = k === 0 ? lut32[half] : lut32[i < 0 ? 0 : i > top ? top : i | 0];
            }
          }
        }
      } else {
        const row = base + (win[0] + x) * U;
        if (folded) for (let u = 0; u < U; u++) vals[o + u] = data[row + u];
        else for (let u = 0; u < U; u++) cols[o + u] = colour(data[row + u]);
      }
    }
    if (!folded) writeBlock(px, cols, rowUnit, width, height, x0, n, U);
    else writeFoldedBlock(px, vals, rowVals, viaRows, rowStart, rowUnit, width, height, x0, n, U, mid, colour);
  }
}

/** The columns' step bounds of an aggregated window, the pyramid when a column is longer than
 *  `direct` steps (those up to it are read from the data), and `direct`. */
function columnPlan(
  src: WindowSource,
  size: WindowImageSize,
): { bounds: Int32Array | null; pyr: Pyramid | null; direct: number } {
  if (!size.aggregated) return { bounds: null, pyr: null, direct: 0 };
  const bounds = imageColumnBounds(size);
  let direct = (1 << (src.minLevel ?? 0)) - 1;
  let pyr: Pyramid | null = null;
  let longest = 0;
  for (let x = 0; x < size.width; x++) longest = Math.max(longest, bounds[x + 1] - bounds[x]);
  if (src.minLevel === undefined || longest > direct) {
    pyr = src.pyramid();
    direct = (1 << pyr.minLevel) - 1;
  }
  return { bounds, pyr, direct };
}

/** A block of `n` columns' colours (column-major, U per column) into pixel rows, unit
 *  rowUnit[p] on row p. */
function writeBlock(
  px: Uint32Array,
  cols: Uint32Array,
  rowUnit: Int32Array,
  width: number,
  height: number,
  x0: number,
  n: number,
  U: number,
): void {
  for (let p = 0; p < height; p++) {
    const u = rowUnit[p];
    let q = p * width + x0;
    for (let o = u; o < n * U; o += U) px[q++] = cols[o];
  }
}

/** A block of `n` columns' values into fewer pixel rows than units: per pixel the value of its
 *  rows farthest from `mid` (NaN/±Inf wins), or the row-folded value where viaRows[j]. */
function writeFoldedBlock(
  px: Uint32Array,
  vals: Float32Array,
  rowVals: Float32Array,
  viaRows: Uint8Array,
  rowStart: Int32Array,
  rowUnit: Int32Array,
  width: number,
  height: number,
  x0: number,
  n: number,
  U: number,
  mid: number,
  colour: (v: number) => number,
): void {
  for (let p = 0; p < height; p++) {
    const r0 = rowStart[p];
    const r1 = rowStart[p + 1];
    let q = p * width + x0;
    for (let j = 0; j < n; j++, q++) {
      if (viaRows[j] === 1) {
        px[q] = colour(rowVals[j * height + p]);
        continue;
      }
      const o = j * U;
      let v = vals[o + rowUnit[r0]];
      let dv = v - mid;
      if (dv < 0) dv = -dv;
      for (let r = r0 + 1; r < r1 && v - v === 0; r++) {
        const w = vals[o + rowUnit[r]];
        let dw = w - mid;
        if (dw < 0) dw = -dw;
        if (w - w !== 0 || dw > dv) {
          v = w;
          dv = dw;
        }
      }
      px[q] = colour(v);
    }
  }
}
