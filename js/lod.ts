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
