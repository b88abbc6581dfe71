/**
 * Pure maths of the weight views (views/weights.ts, views/scatter.ts): quantiles and the shared
 * colour domain of a layer's weights, the layout of the weight matrices and their
 * rasterisation. The symlog transform is in math/symlog.ts, density binning in math/density.ts.
 */

/** A (rows, units) matrix in C order; a 1-D bias (units,) is one row. */
export interface Matrix {
  data: Float32Array;
  shape: number[];
}

/** Rows and columns of a weight part: (D, U) → D × U; (U,) → 1 × U; (2, U) → 2 × U. */
export function matrixDims(m: Matrix): [number, number] {
  const cols = m.shape[m.shape.length - 1] ?? 0;
  const rows = m.shape.length <= 1 ? 1 : m.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return [rows, cols];
}

/**
 * The q-quantile of |v| over the finite values of `arrays`, from a histogram of `bins` bins on
 * [0, max |v|] (O(n), no sort): exact to within max/bins. 0 when there are no finite values.
 */
export function absQuantile(arrays: ArrayLike<number>[], q: number, bins = 4096): number {
  let max = 0;
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (v !== Infinity && v === v) {
        n++;
        if (v > max) max = v;
      }
    }
  }
  if (n === 0 || max === 0) return 0;
  const counts = new Float64Array(bins);
  const k = bins / max;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (v !== Infinity && v === v) counts[Math.min(bins - 1, Math.floor(v * k))]++;
    }
  }
  // smallest bin edge below which at least ceil(q·n) values lie
  const need = Math.max(1, Math.ceil(q * n));
  let acc = 0;
  for (let b = 0; b < bins; b++) {
    acc += counts[b];
    if (acc >= need) return ((b + 1) * max) / bins;
  }
  return max;
}

/**
 * Approximate quantiles of the finite values of `arrays` from a histogram of `bins` bins on
 * [min, max] (O(n), no sort). Each is rounded outwards to its bin's edge (down below the
 * median, up above it), so it is within (max − min)/bins of the exact quantile and a range
 * [q(0.001), q(0.999)] never comes out narrower than the exact one. [] → NaN.
 */
export function finiteQuantiles(arrays: ArrayLike<number>[], qs: readonly number[], bins = 4096): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  let n = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v - v === 0) {
        n++;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (n === 0) return qs.map(() => NaN);
  if (hi === lo) return qs.map(() => lo);
  const counts = new Float64Array(bins);
  const k = bins / (hi - lo);
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v - v === 0) counts[Math.min(bins - 1, Math.floor((v - lo) * k))]++;
    }
  }
  const cum = new Float64Array(bins);
  let acc = 0;
  for (let b = 0; b < bins; b++) cum[b] = acc += counts[b];
  return qs.map((q) => {
    // the value of rank ceil(q·n) (1-based) lies in the first bin whose cumulative count reaches it
    const need = Math.min(n, Math.max(1, Math.ceil(q * n)));
    let b = 0;
    while (b < bins - 1 && cum[b] < need) b++;
    if (b === 0 && q < 0.5) return lo;
    if (b === bins - 1 && q >= 0.5) return hi;
    return lo + (q < 0.5 ? b : b + 1) / k;
  });
}

/** Quantile that bounds the x range at an end with far outliers (see weightXRange). */
export const X_QUANTILE = 0.001;
/** An end of the weights farther out than this many times the central spread is cut. */
export const X_OUTLIER = 3;

/**
 * The x range of the weight-vs-gradient scatter: [min, max] of the finite weights (always
 * holding 0), unless a few lie far out — a forget bias of 1 among 2M kernel weights of ±0.05
 * would squeeze the cloud into a sliver. The central spread s is max |q| of the X_QUANTILE and
 * 1 − X_QUANTILE quantiles; an end beyond X_OUTLIER·s moves in to the farthest weight within
 * ±X_OUTLIER·s. `beyond` counts the finite weights outside.
 */
export function weightXRange(arrays: ArrayLike<number>[]): { lo: number; hi: number; beyond: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const w = a[i];
      if (w - w === 0) {
        if (w < min) min = w;
        if (w > max) max = w;
      }
    }
  }
  if (min > max) return { lo: 0, hi: 0, beyond: 0 };
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  const [q0, q1] = finiteQuantiles(arrays, [X_QUANTILE, 1 - X_QUANTILE]);
  const cut = X_OUTLIER * Math.max(Math.abs(q0), Math.abs(q1));
  if (cut > 0 && (lo < -cut || hi > cut)) {
    let inLo = 0;
    let inHi = 0;
    for (const a of arrays) {
      for (let i = 0; i < a.length; i++) {
        const w = a[i];
        if (w < inLo && w >= -cut) inLo = w;
        else if (w > inHi && w <= cut) inHi = w;
      }
    }
    if (lo < -cut) lo = inLo;
    if (hi > cut) hi = inHi;
  }
  let beyond = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (a[i] < lo || a[i] > hi) beyond++;
  return { lo, hi, beyond };
}

/** The shared colour domain of a layer's weights. */
export interface WeightDomain {
  /** Symmetric [-m, m]. */
  domain: [number, number];
  /** max |w| over every finite weight (bias included). */
  max: number;
  /** Whether some weights lie beyond the domain (they take the end colours). */
  clipped: boolean;
}

/** Quantile of |w| that sets the colour domain: a few large weights (a forget bias of 1 among
 *  kernels of ±0.05) must not wash every other cell out to white. */
export const DOMAIN_QUANTILE = 0.995;

/** The domain is the maximum when that is at most this many times the quantile. */
export const NEAR_MAX = 1.25;

/**
 * One symmetric colour domain for all gates and parts of a layer, so gates are comparable:
 * m = the DOMAIN_QUANTILE-quantile of |w| over the kernels and recurrent kernels (the bias is
 * left out of the quantile: a constant forget bias would dominate it), or max |w| (bias
 * included) when that is at most NEAR_MAX × the quantile; 1 when every weight is 0 or
 * non-finite.
 */
export function weightDomain(gates: Map<string, Map<string, Matrix>>): WeightDomain {
  const matrices: Float32Array[] = [];
  const all: Float32Array[] = [];
  for (const parts of gates.values()) {
    for (const [part, m] of parts) {
      all.push(m.data);
      if (part !== "bias") matrices.push(m.data);
    }
  }
  let max = 0;
  for (const a of all) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (v > max && v !== Infinity) max = v;
    }
  }
  let m = absQuantile(matrices.length ? matrices : all, DOMAIN_QUANTILE);
  if (!(m > 0)) m = max;
  if (!(m > 0)) m = 1;
  // a quantile barely below the maximum would clip for nothing: then take the maximum
  if (max > 0 && max <= NEAR_MAX * m) m = max;
  return { domain: [-m, m], max, clipped: max > m * (1 + 1e-6) };
}

// --- matrix layout ------------------------------------------------------------------------

/** Layout of the weight small multiples: one column panel per gate, kernel over recurrent
 *  kernel over bias strip, columns = units shared by the three. */
export interface WeightsLayout {
  /** Width of one gate panel (px). */
  panelW: number;
  /** Width of one unit column (px). */
  cellW: number;
  /** Heights of one row of the kernel / recurrent kernel / bias (px). */
  rowK: number;
  rowR: number;
  rowB: number;
  /** Heights of the three blocks. */
  kernelH: number;
  recurrentH: number;
  biasH: number;
  /** Horizontal gap between panels, vertical gap between blocks. */
  gapX: number;
  gapY: number;
}

/** Largest unit column (wider looks like a bar chart, not a matrix). */
export const MAX_CELL = 22;
/** Tallest kernel / recurrent block. */
export const MAX_BLOCK_H = 240;

/**
 * Sizes of the matrices for `gates` panels in `width` px: panels share the width (at most
 * MAX_CELL per unit); rows are square up to MAX_CELL and squeezed so that no block is taller
 * than MAX_BLOCK_H.
 */
export function weightsLayout(
  width: number,
  gates: number,
  inputs: number,
  units: number,
  biasRows: number,
): WeightsLayout {
  const gapX = gates > 1 ? 10 : 0;
  const gapY = 4;
  const avail = Math.max(0, width - gapX * (gates - 1)) / Math.max(1, gates);
  const cellW = Math.max(0, Math.min(MAX_CELL, avail / Math.max(1, units)));
  const panelW = cellW * units;
  const row = (n: number): number => (n > 0 ? Math.min(Math.max(cellW, 1), MAX_CELL, MAX_BLOCK_H / n) : 0);
  const rowK = row(inputs);
  const rowR = row(units);
  const rowB = biasRows > 0 ? Math.min(10, Math.max(6, cellW)) : 0;
  return {
    panelW,
    cellW,
    rowK,
    rowR,
    rowB,
    kernelH: rowK * inputs,
    recurrentH: rowR * units,
    biasH: rowB * biasRows,
    gapX,
    gapY,
  };
}

// --- rasterisation ------------------------------------------------------------------------

/**
 * Fill `out` (RGBA, cols × rows pixels) with the colours of a C-order (rows, cols) matrix:
 * pixel (r, c) is value r·cols + c, coloured through `lut` (LUT_SIZE × RGB) over the
 * `domain` (clamped to its ends); NaN/±Inf get `nanRGB`.
 */
export function rasterizeMatrix(
  out: Uint8ClampedArray,
  data: Float32Array,
  lut: Uint8ClampedArray,
  domain: readonly [number, number],
  nanRGB: readonly [number, number, number],
): void {
  if (out.length !== data.length * 4) throw new Error(`rasterizeMatrix: ${out.length} bytes for ${data.length} values`);
  const size = lut.length / 3;
  const [d0, d1] = domain;
  const k = d1 === d0 ? 0 : (size - 1) / (d1 - d0);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const p = i * 4;
    if (v - v !== 0) {
      out[p] = nanRGB[0];
      out[p + 1] = nanRGB[1];
      out[p + 2] = nanRGB[2];
    } else {
      let j = k === 0 ? (size - 1) >> 1 : Math.round((v - d0) * k);
      if (j < 0) j = 0;
      else if (j > size - 1) j = size - 1;
      out[p] = lut[j * 3];
      out[p + 1] = lut[j * 3 + 1];
      out[p + 2] = lut[j * 3 + 2];
    }
    out[p + 3] = 255;
  }
}
