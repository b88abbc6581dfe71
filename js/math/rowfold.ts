/**
 * Rows folded once: a heatmap panel with fewer pixel rows than units folds the units of each
 * row once (foldRows, RowFolder around the window) and colours them (colourRows, pairColours,
 * composeColumns) instead of reducing U values per step on every redraw.
 */
import { type ColorScale, lut32Of, LUT_SIZE, NAN_RGB, rgba32 } from "./scales";

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
