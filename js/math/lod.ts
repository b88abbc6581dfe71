/**
 * Level of detail for line tracks: when a window holds more steps than the plot has pixel
 * columns, each column shows the min and max of the steps it covers (an envelope), so spikes
 * are never dropped. With fewer steps than columns every step is kept as is.
 */
import type { TimeWindow } from "./layout";

/** One series reduced to `n` columns over a window: lo/hi per column (NaN where empty). */
export interface Envelope {
  /** Number of columns. */
  n: number;
  /** First step of each column ([n + 1] bounds: column i covers steps [start[i], start[i+1])). */
  start: Int32Array;
  lo: Float32Array;
  hi: Float32Array;
}

/**
 * Reduce `get(t)` for t in `win` to at most `columns` buckets of min/max. Non-finite values
 * are skipped (a column of only NaN stays NaN).
 */
export function envelope(get: (t: number) => number, win: TimeWindow, columns: number): Envelope {
  const steps = Math.max(0, win[1] - win[0]);
  const n = Math.max(0, Math.min(steps, Math.floor(columns)));
  const start = new Int32Array(n + 1);
  const lo = new Float32Array(n).fill(NaN);
  const hi = new Float32Array(n).fill(NaN);
  for (let i = 0; i <= n; i++) start[i] = win[0] + Math.floor((i * steps) / Math.max(1, n));
  for (let i = 0; i < n; i++) {
    let a = Infinity;
    let b = -Infinity;
    for (let t = start[i]; t < start[i + 1]; t++) {
      const v = get(t);
      if (v - v !== 0) continue; // NaN / ±Inf
      if (v < a) a = v;
      if (v > b) b = v;
    }
    if (a <= b) {
      lo[i] = a;
      hi[i] = b;
    }
  }
  return { n, start, lo, hi };
}

// --- long series: a min/max pyramid, so a redraw costs O(columns · log) instead of O(steps) -----

/** Flagged steps (NaN/Inf, mispredictions…) as a running count: whether a column holds one is
 *  two reads, whatever its number of steps. */
export class StepFlags {
  /** count[t] = flagged steps in [0, t). */
  private readonly count: Int32Array;

  /** @param flagged 1/true = flagged, per step */
  constructor(flagged: ArrayLike<number | boolean>) {
    const T = flagged.length;
    const count = new Int32Array(T + 1);
    for (let t = 0; t < T; t++) count[t + 1] = count[t] + (flagged[t] ? 1 : 0);
    this.count = count;
  }

  /** Per column of `env`, 1 when any of its steps is flagged (as a scan of them would say). */
  flags(env: Envelope): Uint8Array {
    const out = new Uint8Array(env.n);
    const c = this.count;
    const last = c.length - 1;
    for (let i = 0; i < env.n; i++) {
      const a = Math.max(0, Math.min(last, env.start[i]));
      const b = Math.max(0, Math.min(last, env.start[i + 1]));
      out[i] = c[b] - c[a] > 0 ? 1 : 0;
    }
    return out;
  }

  /** Whether any step is flagged. */
  get any(): boolean {
    return this.count[this.count.length - 1] > 0;
  }
}

/**
 * One series (a value per step) with what makes its envelopes cheap at any window: a min/max
 * pyramid over the finite values (level k holds buckets of 2^k steps). `envelope` gives exactly
 * what `envelope((t) => values[t], …)` gives, reading ≤ 2 buckets per level per column instead
 * of every step. Built once in O(T) (memory ≈ 2 × the series).
 */
export class SeriesLod {
  readonly values: Float32Array;
  /** lo[k − 1], hi[k − 1]: level k ≥ 1, floor(T / 2^k) whole buckets (+Inf / −Inf: no finite value). */
  private readonly lo: Float32Array[] = [];
  private readonly hi: Float32Array[] = [];
  /** Its flagged steps (NaN/Inf…), when it has any to mark. */
  readonly bad: StepFlags | null;

  /** @param flagged steps to mark (NaN/Inf…): 1/true = flagged */
  constructor(values: Float32Array, flagged?: ArrayLike<number | boolean> | null) {
    this.values = values;
    const T = values.length;
    let lo = new Float32Array(T >> 1);
    let hi = new Float32Array(T >> 1);
    for (let i = 0; i < lo.length; i++) {
      const a = values[2 * i];
      const b = values[2 * i + 1];
      const fa = a - a === 0;
      const fb = b - b === 0;
      lo[i] = fa ? (fb && b < a ? b : a) : fb ? b : Infinity;
      hi[i] = fa ? (fb && b > a ? b : a) : fb ? b : -Infinity;
    }
    while (lo.length > 0) {
      this.lo.push(lo);
      this.hi.push(hi);
      const n = lo.length >> 1;
      if (n === 0) break;
      const nlo = new Float32Array(n);
      const nhi = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = lo[2 * i];
        const b = lo[2 * i + 1];
        nlo[i] = a < b ? a : b;
        const c = hi[2 * i];
        const d = hi[2 * i + 1];
        nhi[i] = c > d ? c : d;
      }
      lo = nlo;
      hi = nhi;
    }
    const bad = flagged ? new StepFlags(flagged) : null;
    this.bad = bad && bad.any ? bad : null;
  }

  /** min and max of the finite values in [a, b) into out[0], out[1] (+Inf, −Inf: none). */
  range(a: number, b: number, out: Float64Array): void {
    let lo = Infinity;
    let hi = -Infinity;
    const v = this.values;
    if (a & 1 && a < b) {
      const x = v[a++];
      if (x - x === 0) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    if (b & 1 && a < b) {
      const x = v[--b];
      if (x - x === 0) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    a >>= 1;
    b >>= 1;
    for (let k = 0; a < b; k++) {
      const L = this.lo[k];
      const H = this.hi[k];
      if (a & 1) {
        if (L[a] < lo) lo = L[a];
        if (H[a] > hi) hi = H[a];
        a++;
      }
      if (b & 1) {
        b--;
        if (L[b] < lo) lo = L[b];
        if (H[b] > hi) hi = H[b];
      }
      a >>= 1;
      b >>= 1;
    }
    out[0] = lo;
    out[1] = hi;
  }

  /** `envelope((t) => values[t], win, columns)`, from the pyramid. */
  envelope(win: TimeWindow, columns: number): Envelope {
    const steps = Math.max(0, win[1] - win[0]);
    const n = Math.max(0, Math.min(steps, Math.floor(columns)));
    const start = new Int32Array(n + 1);
    const lo = new Float32Array(n).fill(NaN);
    const hi = new Float32Array(n).fill(NaN);
    for (let i = 0; i <= n; i++) start[i] = win[0] + Math.floor((i * steps) / Math.max(1, n));
    const r = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      this.range(start[i], start[i + 1], r);
      if (r[0] <= r[1]) {
        lo[i] = r[0];
        hi[i] = r[1];
      }
    }
    return { n, start, lo, hi };
  }
}

const lodCache = new WeakMap<object, Map<string, SeriesLod | StepFlags>>();

/**
 * The SeriesLod of a series derived from `owner` (an array that lives as long as the capture)
 * and named `key` (sample, feature, transform…), built by `build` on first use.
 */
export function seriesLod(
  owner: object,
  key: string,
  build: () => { values: Float32Array; flagged?: ArrayLike<number | boolean> | null },
): SeriesLod {
  let m = lodCache.get(owner);
  if (!m) {
    m = new Map();
    lodCache.set(owner, m);
  }
  let s = m.get(key);
  if (!(s instanceof SeriesLod)) {
    const b = build();
    s = new SeriesLod(b.values, b.flagged);
    m.set(key, s);
  }
  return s;
}

/** The StepFlags of flags derived from `owner` and named `key`, built on first use. */
export function stepFlags(owner: object, key: string, build: () => ArrayLike<number | boolean>): StepFlags {
  let m = lodCache.get(owner);
  if (!m) {
    m = new Map();
    lodCache.set(owner, m);
  }
  let s = m.get(key);
  if (!(s instanceof StepFlags)) {
    s = new StepFlags(build());
    m.set(key, s);
  }
  return s;
}
