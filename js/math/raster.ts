/**
 * Pure rasterisation of one (sample, quantity) into RGBA pixels: rows = units, columns = t.
 * `rasterize` draws every step; `rasterizeWindow` draws a zoom window at pixel resolution.
 */
import type { TimeWindow } from "./layout";
import { bucketBounds, columnBounds, type Pyramid } from "./pyramid";
import { LUT_SIZE, NAN_RGB, type ColorScale } from "./scales";

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

/** Value of a (B, T, U) array at (sample, t, u). */
export function valueAt(data: Float32Array, nSteps: number, units: number, b: number, t: number, u: number): number {
  return data[(b * nSteps + t) * units + u];
}

/** The U values of a (B, T, U) array at (sample, t), as a view (no copy). */
export function vectorAt(data: Float32Array, nSteps: number, units: number, b: number, t: number): Float32Array {
  const start = (b * nSteps + t) * units;
  return data.subarray(start, start + units);
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
  let bounds: Int32Array | null = null;
  let pyr: Pyramid | null = null;
  // Columns of fewer steps than a pyramid bucket are read from the data: the pyramid is asked
  // for (and built, the first time) only when a column is longer.
  let direct = 0;
  if (size.aggregated) {
    bounds = imageColumnBounds(size);
    direct = (1 << (src.minLevel ?? 0)) - 1;
    let longest = 0;
    for (let x = 0; x < width; x++) longest = Math.max(longest, bounds[x + 1] - bounds[x]);
    if (src.minLevel === undefined || longest > direct) {
      pyr = src.pyramid();
      direct = (1 << pyr.minLevel) - 1;
    }
  }
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
  let ab: ReturnType<Pyramid["alignedBuckets"]> = null;

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
    if (!folded) {
      for (let p = 0; p < height; p++) {
        const u = rowUnit[p];
        let q = p * width + x0;
        for (let o = u; o < n * U; o += U) px[q++] = cols[o];
      }
      continue;
    }
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
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An opaque RGBA pixel as one Uint32 in the platform's byte order. */
function rgba32(r: number, g: number, b: number): number {
  return LITTLE_ENDIAN
    ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

const lut32Cache = new WeakMap<Uint8ClampedArray, Uint32Array>();
function lut32Of(lut: Uint8ClampedArray): Uint32Array {
  let t = lut32Cache.get(lut);
  if (!t) {
    t = new Uint32Array(lut.length / 3);
    for (let i = 0; i < t.length; i++) t[i] = rgba32(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]);
    lut32Cache.set(lut, t);
  }
  return t;
}

// --- rows folded once: a panel with fewer pixel rows than units -----------------------------

/**
 * The pixel rows of a panel at full time resolution: (T, rows) C-order, value (t, p) = the
 * extreme over the units of pixel row p (rows [⌊p·U/rows⌋, ⌊(p+1)·U/rows⌋) of `order`) at step t,
 * by rasterizeWindow's row rule: farthest from `mid`, the first on a tie, a NaN/±Inf wins (and is
 * kept, so it paints the NaN colour). With rows = U it is the sample's data in `order`.
 *
 * A window of the panel is then rasterised from this array as a source of `rows` "units" in
 * their natural order (the extreme over steps of the extremes over units is the extreme over
 * both), reading `rows` values per step instead of U. `from`/`to`: only steps [from, to) (row
 * t − from of the result).
 */
export function foldRows(
  data: Float32Array,
  sample: number,
  nSteps: number,
  units: number,
  order: Int32Array | null,
  rows: number,
  mid: number,
  from = 0,
  to = nSteps,
): Float32Array {
  const U = units;
  const out = new Float32Array((to - from) * rows);
  const rowStart = new Int32Array(rows + 1);
  for (let p = 0; p <= rows; p++) rowStart[p] = Math.floor((p * U) / rows);
  const unit = new Int32Array(U);
  for (let r = 0; r < U; r++) unit[r] = order ? order[r] : r;
  for (let t = from; t < to; t++) {
    const row = (sample * nSteps + t) * U;
    const o = (t - from) * rows;
    for (let p = 0; p < rows; p++) {
      const r0 = rowStart[p];
      const r1 = rowStart[p + 1];
      let v = data[row + unit[r0]];
      let dv = v - mid;
      if (dv < 0) dv = -dv;
      for (let r = r0 + 1; r < r1 && v - v === 0; r++) {
        const w = data[row + unit[r]];
        let dw = w - mid;
        if (dw < 0) dw = -dw;
        if (w - w !== 0 || dw > dv) {
          v = w;
          dv = dw;
        }
      }
      out[o + p] = v;
    }
  }
  return out;
}

/** The (rows × T) RGBA image of a folded (T, rows) array: pixel (t, p) at (p·T + t)·4, NaN/±Inf
 *  in the NaN colour. A window of exact columns is then a part of it. */
export function colourRows(
  out: Uint8ClampedArray,
  folded: Float32Array,
  nSteps: number,
  rows: number,
  scale: ColorScale,
): void {
  if (out.length !== nSteps * rows * 4) throw new Error(`colourRows: ${out.length} bytes for ${nSteps}×${rows} pixels`);
  const px = new Uint32Array(out.buffer, out.byteOffset, nSteps * rows);
  const lut32 = lut32Of(scale.lut);
  const nan32 = rgba32(NAN_RGB[0], NAN_RGB[1], NAN_RGB[2]);
  const [d0, d1] = scale.domain;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const top = LUT_SIZE - 1;
  const half = top >> 1;
  for (let t = 0; t < nSteps; t++) {
    for (let p = 0; p < rows; p++) {
      const v = folded[t * rows + p];
      let c: number;
      if (v - v !== 0) c = nan32;
      else if (k === 0) c = lut32[half];
      else {
        const i = (v - d0) * k + 0.5;
        c = lut32[i < 0 ? 0 : i > top ? top : i | 0];
      }
      px[p * nSteps + t] = c;
    }
  }
}

/**
 * The colours of every pair of neighbouring steps of a folded (T, rows) array, in image layout:
 * entry (p·T + t) = the colour of the extreme of steps t and t + 1 of row p (rasterizeWindow's
 * rule: farther from the midpoint, the larger on a tie, NaN/±Inf poisons); t = T − 1 repeats the
 * last step. With `single` (colourRows' pixels) a window of 1- and 2-step columns is composed by
 * copying, without reading or comparing values again (`composeColumns`).
 */
export function pairColours(folded: Float32Array, nSteps: number, rows: number, scale: ColorScale): Uint32Array {
  const out = new Uint32Array(nSteps * rows);
  const lut32 = lut32Of(scale.lut);
  const nan32 = rgba32(NAN_RGB[0], NAN_RGB[1], NAN_RGB[2]);
  const [d0, d1] = scale.domain;
  const mid = (d0 + d1) / 2;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const top = LUT_SIZE - 1;
  const half = top >> 1;
  for (let t = 0; t < nSteps; t++) {
    const t1 = t + 1 < nSteps ? t + 1 : t;
    for (let p = 0; p < rows; p++) {
      const a = folded[t * rows + p];
      const b = folded[t1 * rows + p];
      let v: number;
      if (a - a !== 0 || b - b !== 0) v = NaN;
      else {
        const da = a > mid ? a - mid : mid - a;
        const db = b > mid ? b - mid : mid - b;
        v = db > da || (db === da && b > a) ? b : a;
      }
      let c: number;
      if (v - v !== 0) c = nan32;
      else if (k === 0) c = lut32[half];
      else {
        const i = (v - d0) * k + 0.5;
        c = lut32[i < 0 ? 0 : i > top ? top : i | 0];
      }
      out[p * nSteps + t] = c;
    }
  }
  return out;
}

/**
 * Compose an aggregated window whose columns hold 1 or 2 steps each (`bounds`, as
 * imageColumnBounds) from the per-step colours `single` and the per-pair colours `pairs` (both
 * rows × T, image layout): the same pixels rasterizeWindow draws from the folded array.
 * Returns false (and writes nothing) when a column holds more than 2 steps.
 */
export function composeColumns(
  out: Uint8ClampedArray,
  bounds: Int32Array,
  width: number,
  rows: number,
  nSteps: number,
  single: Uint32Array,
  pairs: Uint32Array,
): boolean {
  for (let x = 0; x < width; x++) {
    const n = bounds[x + 1] - bounds[x];
    if (n < 1 || n > 2) return false;
  }
  const px = new Uint32Array(out.buffer, out.byteOffset, width * rows);
  for (let p = 0; p < rows; p++) {
    const o = p * nSteps;
    let q = p * width;
    for (let x = 0; x < width; x++, q++) {
      const t = bounds[x];
      px[q] = bounds[x + 1] - t === 1 ? single[o + t] : pairs[o + t];
    }
  }
  return true;
}

/**
 * Rows folded (as foldRows) over a sliding range of steps, for a sequence too long to fold at
 * once: `cover(a, b)` folds the steps of [a, b) not folded yet — a pan folds only the steps it
 * brings into view, so following a moving window costs what reading its new columns would.
 * Step t lives at row (t − base) of `data` (capacity steps); [from, to) is what is folded.
 * `base` is a multiple of `grid` (column boundaries snapped to powers of two stay put).
 */
export class RowFolder {
  readonly data: Float32Array;
  readonly capacity: number;
  base = 0;
  from = 0;
  to = 0;

  constructor(
    private readonly src: Float32Array,
    private readonly sample: number,
    private readonly nSteps: number,
    private readonly units: number,
    private readonly order: Int32Array | null,
    readonly rows: number,
    private readonly mid: number,
    capacity: number,
    private readonly grid = 1024,
  ) {
    this.capacity = Math.max(grid, Math.ceil(capacity / grid) * grid);
    this.data = new Float32Array(this.capacity * rows);
  }

  /** Fold [a, b) (what is missing of it); false when it does not fit in the capacity. */
  cover(a: number, b: number): boolean {
    const C = this.capacity;
    a = Math.max(0, a);
    b = Math.min(this.nSteps, b);
    if (b - a + 2 * this.grid > C) return false;
    if (this.to <= this.from || b < this.from || a > this.to) {
      // nothing kept that touches it: start again, the window in the middle
      this.from = this.to = a;
      this.base = this.snap(Math.floor((a + b - C) / 2));
    }
    const from = Math.min(this.from, a);
    const to = Math.max(this.to, b);
    const room = C - this.grid; // the folded steps plus up to a grid cell of alignment
    if (to - from > room) {
      // keep only what lies on the side of the window: drop the rest
      if (a < this.from) this.to = Math.min(this.to, a + room - (b - a));
      else this.from = Math.max(this.from, b - room + (b - a));
      return this.cover(a, b);
    }
    if (from < this.base || to > this.base + C) {
      // slide the folded steps so that [from, to) fits
      const base = Math.min(this.snap(Math.floor((from + to - C) / 2)), this.snap(from));
      const nb = Math.max(base, this.snap(to - C + this.grid - 1));
      const R = this.rows;
      this.data.copyWithin((this.from - nb) * R, (this.from - this.base) * R, (this.to - this.base) * R);
      this.base = nb;
    }
    if (a < this.from) this.fold(a, this.from);
    if (b > this.to) this.fold(this.to, b);
    this.from = from;
    this.to = to;
    return true;
  }

  private snap(t: number): number {
    return Math.max(0, Math.floor(t / this.grid) * this.grid);
  }

  private fold(t0: number, t1: number): void {
    const part = foldRows(this.src, this.sample, this.nSteps, this.units, this.order, this.rows, this.mid, t0, t1);
    this.data.set(part, (t0 - this.base) * this.rows);
  }
}
