/**
 * Min/max pyramid of one (sample, quantity) of a layer, for drawing long sequences at pixel
 * resolution without losing a spike.
 *
 * Level k (k ≥ `minLevel`) holds, per unit, the min and the max over buckets of 2^k steps:
 * bucket i covers steps [i·2^k, (i+1)·2^k) (the last one is cut at T). Levels below `minLevel`
 * are not stored (that would double the memory of the data); ranges shorter than a bucket are
 * read from the data itself. Memory: about 4·T·U / 2^minLevel floats (25 MB for T = 100,000,
 * U = 256 at minLevel 4; `minLevelFor` picks the finest level within a 32 MB budget). Built
 * once in O(T·U).
 *
 * Non-finite values: a bucket holding a NaN or ±Inf stores lo = −Inf, hi = +Inf ("poisoned"),
 * and so does every range that covers it: min/max propagate it with plain comparisons, and
 * the heatmap paints such a column in the NaN colour, so a single NaN among 100,000 steps is
 * still seen.
 *
 * Layout of a level: bucket-major, units inner ([bucket · U + u]), like the (T, U) data, so a
 * query touches contiguous memory and reads all units of a bucket at once.
 */
import type { TimeWindow } from "./layout";

export const DEFAULT_MIN_LEVEL = 4;
/** Memory the stored levels of one (array, sample) may take; decides the finest level. */
export const PYRAMID_BUDGET_BYTES = 32 * 2 ** 20;

/**
 * Finest level to store for a (T, U) sequence: the finest k ≥ 2 whose levels fit in
 * PYRAMID_BUDGET_BYTES (about 16·T·U / 2^k bytes), and never coarser than DEFAULT_MIN_LEVEL.
 * A long capture (T = 100,000, U = 256) gets 4 (25 MB); a 10,000 × 128 one gets 2.
 */
export function minLevelFor(nSteps: number, units: number): number {
  for (let k = 2; k < DEFAULT_MIN_LEVEL; k++) {
    if ((16 * nSteps * units) / 2 ** k <= PYRAMID_BUDGET_BYTES) return k;
  }
  return DEFAULT_MIN_LEVEL;
}

export class Pyramid {
  readonly nSteps: number;
  readonly units: number;
  /** Finest stored level (buckets of 2^minLevel steps). */
  readonly minLevel: number;
  /** Coarsest level: one bucket covers every step. */
  readonly maxLevel: number;
  /** lo[k − minLevel], hi[k − minLevel]: level k, (ceil(T / 2^k), U), bucket-major. */
  private readonly lo: Float32Array[] = [];
  private readonly hi: Float32Array[] = [];
  /** The sample's (T, U) values: a view into the (B, T, U) array, not a copy; null for a
   *  pyramid built from another's levels (`foldRows`), which has no steps to read. */
  private readonly data: Float32Array | null;

  /**
   * @param data (B, T, U) C-order array
   * @param sample which sequence of the batch
   * @param finest the finest stored level given directly (then `data` is not read: see foldRows)
   */
  constructor(
    data: Float32Array | null,
    sample: number,
    nSteps: number,
    units: number,
    minLevel = DEFAULT_MIN_LEVEL,
    finest?: { lo: Float32Array; hi: Float32Array },
  ) {
    if (!(nSteps >= 1) || !(units >= 1)) throw new Error(`pyramid: bad shape (${nSteps}, ${units})`);
    const start = sample * nSteps * units;
    if (data === null) this.data = null;
    else if (start < 0 || start + nSteps * units > data.length) {
      throw new Error(`pyramid: sample ${sample} is outside the array`);
    } else this.data = data.subarray(start, start + nSteps * units);
    this.nSteps = nSteps;
    this.units = units;
    this.maxLevel = Math.max(0, Math.ceil(Math.log2(nSteps)));
    this.minLevel = Math.max(1, Math.min(Math.floor(minLevel), this.maxLevel));
    this.build(finest);
  }

  /**
   * This pyramid with its units folded into `rows` pixel rows: row p holds units
   * order[⌊p·U/rows⌋ … ⌊(p+1)·U/rows⌋ − 1] (order null: natural), each bucket the min of their
   * lows and the max of their highs (a poisoned unit poisons its row). It is built from the
   * stored levels only (O(T/2^minLevel · U)) and has no steps of its own: ask it only for
   * `aligned` ranges. A panel with fewer pixel rows than units then reads `rows` values per
   * bucket instead of U.
   */
  foldRows(order: Int32Array | null, rows: number): Pyramid {
    const U = this.units;
    const L = this.lo[0];
    const H = this.hi[0];
    const n0 = L.length / U;
    const flo = new Float32Array(n0 * rows);
    const fhi = new Float32Array(n0 * rows);
    const rowStart = new Int32Array(rows + 1);
    for (let p = 0; p <= rows; p++) rowStart[p] = Math.floor((p * U) / rows);
    const unit = new Int32Array(U);
    for (let r = 0; r < U; r++) unit[r] = order ? order[r] : r;
    for (let b = 0; b < n0; b++) {
      const o = b * U;
      for (let p = 0; p < rows; p++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let r = rowStart[p]; r < rowStart[p + 1]; r++) {
          const x = L[o + unit[r]];
          if (x < lo) lo = x;
          const y = H[o + unit[r]];
          if (y > hi) hi = y;
        }
        flo[b * rows + p] = lo;
        fhi[b * rows + p] = hi;
      }
    }
    return new Pyramid(null, 0, this.nSteps, rows, this.minLevel, { lo: flo, hi: fhi });
  }

  /**
   * When [t0, t1) is exactly 1 or 2 whole buckets of one stored level (the last bucket of a
   * level ends at T), that level's lows and highs and where the buckets are: units of bucket
   * `i` at [i·U, (i + 1)·U). Null otherwise. (A column of columnBounds is, but for the window's
   * ends: its extremes are then two reads per unit, no walk over the levels.)
   */
  alignedBuckets(t0: number, t1: number): { lo: Float32Array; hi: Float32Array; i: number; n: number } | null {
    const len = t1 - t0;
    if (!(len > 0) || t0 < 0 || t1 > this.nSteps) return null;
    const top = Math.floor(Math.log2(len));
    for (let k = Math.min(this.maxLevel, top + 1); k >= Math.max(this.minLevel, top - 1); k--) {
      const size = 2 ** k;
      if (t0 % size !== 0) continue;
      const i = t0 / size;
      const end1 = Math.min(this.nSteps, t0 + size);
      const level = k - this.minLevel;
      if (t1 === end1) return { lo: this.lo[level], hi: this.hi[level], i, n: 1 };
      if (end1 < this.nSteps && t1 === Math.min(this.nSteps, t0 + 2 * size)) {
        return { lo: this.lo[level], hi: this.hi[level], i, n: 2 };
      }
    }
    return null;
  }

  /** Whether [t0, t1) is answered from stored buckets alone (no step read): both ends on the
   *  finest stored grid (or the end at T) and at least one bucket long. */
  aligned(t0: number, t1: number): boolean {
    const mask = (1 << this.minLevel) - 1;
    return (t0 & mask) === 0 && ((t1 & mask) === 0 || t1 === this.nSteps) && t1 - t0 > mask;
  }

  private build(finest?: { lo: Float32Array; hi: Float32Array }): void {
    const T = this.nSteps;
    const U = this.units;
    const d = this.data;
    // The finest stored level, from the data.
    const k0 = this.minLevel;
    const size = 1 << k0;
    const n0 = Math.ceil(T / size);
    let lo = finest ? finest.lo : new Float32Array(n0 * U).fill(Infinity);
    let hi = finest ? finest.hi : new Float32Array(n0 * U).fill(-Infinity);
    if (!finest && d)
      for (let t = 0; t < T; t++) {
        const b = (t >> k0) * U;
        const row = t * U;
        for (let u = 0; u < U; u++) {
          const v = d[row + u];
          if (v - v !== 0) {
            // NaN or ±Inf: poison the bucket
            lo[b + u] = -Infinity;
            hi[b + u] = Infinity;
          } else {
            if (v < lo[b + u]) lo[b + u] = v;
            if (v > hi[b + u]) hi[b + u] = v;
          }
        }
      }
    this.lo.push(lo);
    this.hi.push(hi);
    // Coarser levels: pairs of buckets of the level below.
    for (let k = k0 + 1; k <= Math.max(k0, this.maxLevel); k++) {
      const nPrev = lo.length / U;
      const n = Math.ceil(nPrev / 2);
      const nlo = new Float32Array(n * U);
      const nhi = new Float32Array(n * U);
      for (let i = 0; i < n; i++) {
        const a = 2 * i * U;
        const o = i * U;
        if (2 * i + 1 < nPrev) {
          const b = a + U;
          for (let u = 0; u < U; u++) {
            const la = lo[a + u];
            const lb = lo[b + u];
            nlo[o + u] = la < lb ? la : lb;
            const ha = hi[a + u];
            const hb = hi[b + u];
            nhi[o + u] = ha > hb ? ha : hb;
          }
        } else {
          for (let u = 0; u < U; u++) {
            nlo[o + u] = lo[a + u];
            nhi[o + u] = hi[a + u];
          }
        }
      }
      this.lo.push(nlo);
      this.hi.push(nhi);
      lo = nlo;
      hi = nhi;
    }
  }

  /** Bytes held by the stored levels (not counting the data). */
  get bytes(): number {
    let n = 0;
    for (const a of this.lo) n += a.byteLength * 2;
    return n;
  }

  /**
   * Fold the min/max of every unit over steps [t0, t1) into `lo`/`hi` (length U): lo[u] =
   * min(lo[u], …), hi[u] = max(hi[u], …). Start from lo = +Inf, hi = −Inf for a fresh range.
   * Exact; reads at most 2^minLevel − 1 steps of data at each end plus ≤ 2 buckets per level.
   * Returns the number of bucket/step reads (each of U values), for tests and benchmarks.
   */
  accumulate(t0: number, t1: number, lo: Float64Array | Float32Array, hi: Float64Array | Float32Array): number {
    let a = Math.max(0, Math.floor(t0));
    let b = Math.min(this.nSteps, Math.floor(t1));
    if (a >= b) return 0;
    let reads = 0;
    const mask = (1 << this.minLevel) - 1;
    // Unaligned ends from the data, until both ends sit on the finest stored grid. A range
    // shorter than one bucket is read from the data entirely.
    if (b - a <= mask) {
      this.steps(a, b, lo, hi);
      return b - a;
    }
    const a0 = a;
    while (a < b && (a & mask) !== 0) a++;
    this.steps(a0, a, lo, hi);
    reads += a - a0;
    const b0 = b;
    if (b !== this.nSteps) while (b > a && (b & mask) !== 0) b--;
    this.steps(b, b0, lo, hi);
    reads += b0 - b;
    // b = T may end inside the last (short) bucket: that bucket covers exactly [.., T).
    // Walk up the levels: at level k, [a, b) = buckets [ia, ib); take an odd end bucket at
    // this level, halve the rest.
    for (let k = this.minLevel; a < b; k++) {
      let ia = a >> k;
      let ib = Math.ceil(b / (1 << k));
      if (k === this.maxLevel || ib - ia <= 2) {
        for (let i = ia; i < ib; i++) this.bucket(k, i, lo, hi);
        reads += ib - ia;
        break;
      }
      if (ia & 1) {
        this.bucket(k, ia++, lo, hi);
        reads++;
      }
      if (ib & 1) {
        this.bucket(k, --ib, lo, hi);
        reads++;
      }
      a = ia << k;
      b = Math.min(this.nSteps, ib << k);
    }
    return reads;
  }

  /** Fold steps [t0, t1) of the data into lo/hi. */
  private steps(t0: number, t1: number, lo: Float64Array | Float32Array, hi: Float64Array | Float32Array): void {
    const U = this.units;
    const d = this.data;
    if (t1 <= t0) return;
    if (!d) throw new Error("pyramid: a folded pyramid has no steps to read (ask aligned ranges)");
    for (let t = t0; t < t1; t++) {
      const row = t * U;
      for (let u = 0; u < U; u++) {
        const v = d[row + u];
        if (v - v !== 0) {
          lo[u] = -Infinity;
          hi[u] = Infinity;
        } else {
          if (v < lo[u]) lo[u] = v;
          if (v > hi[u]) hi[u] = v;
        }
      }
    }
  }

  /** Fold bucket i of level k into lo/hi. */
  private bucket(k: number, i: number, lo: Float64Array | Float32Array, hi: Float64Array | Float32Array): void {
    const U = this.units;
    const L = this.lo[k - this.minLevel];
    const H = this.hi[k - this.minLevel];
    const o = i * U;
    for (let u = 0; u < U; u++) {
      const x = L[o + u];
      if (x < lo[u]) lo[u] = x;
      const y = H[o + u];
      if (y > hi[u]) hi[u] = y;
    }
  }

  /** min and max of unit `u` over [t0, t1) (NaN/±Inf inside → [−Inf, +Inf]; empty → [+Inf, −Inf]). */
  query(u: number, t0: number, t1: number): [number, number] {
    const lo = new Float64Array(this.units).fill(Infinity);
    const hi = new Float64Array(this.units).fill(-Infinity);
    this.accumulate(t0, t1, lo, hi);
    return [lo[u], hi[u]];
  }
}

/**
 * Column boundaries of a window of `span` steps drawn in `n` < span pixel columns: n + 1
 * steps, column i covers [bounds[i], bounds[i+1]). The ends are the window's; the interior
 * boundaries are the ideal ones (t0 + ⌊i·span/n⌋) snapped to the nearest multiple of 2^level,
 * level = ⌊log2(span / n)⌋, so every interior column is exactly 1 or 2 buckets of that level
 * (each boundary moves by less than half a column: invisible). Every step of the window lies
 * in exactly one column, so no spike is lost.
 */
export function columnBounds(win: TimeWindow, n: number): { bounds: Int32Array; level: number } {
  const [t0, t1] = win;
  const span = t1 - t0;
  const cols = Math.max(1, Math.min(Math.floor(n), span));
  const bounds = new Int32Array(cols + 1);
  const level = Math.max(0, Math.floor(Math.log2(span / cols)));
  const size = 2 ** level;
  bounds[0] = t0;
  for (let i = 1; i < cols; i++) {
    const ideal = t0 + Math.floor((i * span) / cols);
    let b = Math.round(ideal / size) * size;
    if (b <= bounds[i - 1]) b = bounds[i - 1] + 1; // only for tiny windows (level 0 is exact)
    bounds[i] = Math.min(b, t1 - (cols - i));
  }
  bounds[cols] = t1;
  return { bounds, level };
}

/** Column boundaries that are whole buckets of 2^level steps: [a, a + 2^level, …, b]. */
export function bucketBounds(win: TimeWindow, level: number): Int32Array {
  const size = 2 ** level;
  const n = Math.max(1, Math.ceil((win[1] - win[0]) / size));
  const out = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) out[i] = win[0] + i * size;
  out[n] = win[1];
  return out;
}

/** Of a range's min and max, the one farther from `mid` (hi on a tie); NaN for a poisoned or
 *  empty range. The heatmap's rule for one pixel: the extreme of its steps wins. */
export function extremeOf(lo: number, hi: number, mid: number): number {
  if (lo === -Infinity || hi === Infinity || !(lo <= hi)) return NaN;
  return hi - mid >= mid - lo ? hi : lo;
}

// --- cache: one pyramid per (array, sample), built on first use ------------------------------

const cache = new WeakMap<object, Map<string, Pyramid>>();

/**
 * The pyramid of `array[sample]` ((B, T, U) array), built on first use and kept as long as the
 * array lives (a new capture drops them all). At most 32 MB (or 25% of the sample's values)
 * each, and only for the (array, sample)s that were drawn zoomed out.
 */
export function pyramidFor(
  array: { data: Float32Array; shape: number[] },
  sample: number,
  minLevel = minLevelFor(array.shape[1], array.shape[2]),
): Pyramid {
  let bySample = cache.get(array);
  if (!bySample) {
    bySample = new Map();
    cache.set(array, bySample);
  }
  const key = `${sample}:${minLevel}`;
  let pyramid = bySample.get(key);
  if (!pyramid) {
    const [, T, U] = array.shape;
    pyramid = new Pyramid(array.data, sample, T, U, minLevel);
    bySample.set(key, pyramid);
  }
  return pyramid;
}
