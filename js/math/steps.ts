/** Per-step statistics of a (B, T, U) array across units (mean, sd, min, max), cached per array. */

// ---- per-step statistics across units ---------------------------------------------------------

/** Per-step summary of a (B, T, U) array for one sample, across units. */
export interface StepStats {
  /** Mean over the finite units (NaN when none is finite). */
  mean: Float32Array;
  /** Band: mean − sd and mean + sd (population sd over the finite units), each clipped to the
   *  step's [min, max] so the band never leaves the values' range. NaN when none is finite. */
  lo: Float32Array;
  hi: Float32Array;
  /** 1 where at least one unit is NaN/±Inf at that step. */
  bad: Uint8Array;
  /** Whether any step has a non-finite unit. */
  anyBad: boolean;
}

/**
 * Mean and mean ± 1 sd across units at every step of sample `b` of a (B, T, U) array, in one
 * pass (O(T·U)). Non-finite units are left out (and flagged in `bad`).
 */
export function stepStats(data: Float32Array, T: number, U: number, b: number): StepStats {
  const mean = new Float32Array(T);
  const lo = new Float32Array(T);
  const hi = new Float32Array(T);
  const bad = new Uint8Array(T);
  let anyBad = false;
  for (let t = 0; t < T; t++) {
    const base = (b * T + t) * U;
    let n = 0;
    let sum = 0;
    let sq = 0;
    let mn = Infinity;
    let mx = -Infinity;
    for (let u = 0; u < U; u++) {
      const v = data[base + u];
      if (v - v !== 0) continue;
      n++;
      sum += v;
      sq += v * v;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    if (n < U) {
      bad[t] = 1;
      anyBad = true;
    }
    if (n === 0) {
      mean[t] = lo[t] = hi[t] = NaN;
      continue;
    }
    const m = sum / n;
    const sd = Math.sqrt(Math.max(0, sq / n - m * m));
    mean[t] = m;
    lo[t] = Math.max(mn, m - sd);
    hi[t] = Math.min(mx, m + sd);
  }
  return { mean, lo, hi, bad, anyBad };
}

const statsCache = new WeakMap<object, Map<string, StepStats>>();

/** `stepStats`, memoised per (array, sample): computed once, reused on every redraw. */
export function cachedStepStats(data: Float32Array, T: number, U: number, b: number): StepStats {
  let byKey = statsCache.get(data);
  if (!byKey) {
    byKey = new Map();
    statsCache.set(data, byKey);
  }
  const key = `${b}`;
  let s = byKey.get(key);
  if (!s) {
    s = stepStats(data, T, U, b);
    byKey.set(key, s);
  }
  return s;
}
