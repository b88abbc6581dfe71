/** The symlog transform (linear near 0, logarithmic beyond c) of gradient axes, and its ticks. */

// --- symlog ------------------------------------------------------------------------------

/** sign(x) · log10(1 + |x| / c): linear within ±c, logarithmic beyond (NaN stays NaN). */
export function symlog(x: number, c: number): number {
  return Math.sign(x) * Math.log10(1 + Math.abs(x) / c);
}

/** The inverse of `symlog`. */
export function symlogInverse(y: number, c: number): number {
  return Math.sign(y) * c * (10 ** Math.abs(y) - 1);
}

/**
 * The linear threshold c of the gradient axis: the 10th percentile of the non-zero finite
 * |g| (so the smallest gradients are spread out, not squashed onto 0), rounded down to a power
 * of ten for readable ticks; from every k-th value when there are more than `maxSamples`.
 * 1 when there is no non-zero gradient.
 */
export function symlogConstant(arrays: ArrayLike<number>[], q = 0.1, maxSamples = 250_000): number {
  // a log-spaced histogram: gradients span many decades
  const LO = -45;
  const HI = 39;
  const perDecade = 10;
  const counts = new Float64Array((HI - LO) * perDecade);
  let n = 0;
  // a rounded-down decade needs no more than a few hundred thousand values: stride through more
  let total = 0;
  for (const a of arrays) total += a.length;
  const stride = Math.max(1, Math.ceil(total / maxSamples));
  for (const a of arrays) {
    for (let i = 0; i < a.length; i += stride) {
      const v = Math.abs(a[i]);
      if (v > 0 && v !== Infinity) {
        const b = Math.floor((Math.log10(v) - LO) * perDecade);
        counts[Math.max(0, Math.min(counts.length - 1, b))]++;
        n++;
      }
    }
  }
  if (n === 0) return 1;
  const need = Math.max(1, Math.ceil(q * n));
  let acc = 0;
  for (let b = 0; b < counts.length; b++) {
    acc += counts[b];
    if (acc >= need) return 10 ** Math.floor(LO + b / perDecade);
  }
  return 1;
}

/**
 * Tick values of a symmetric symlog axis reaching `max` with threshold c: 0 and ±10^k for
 * 10·c ≤ 10^k ≤ max (every `step`-th decade so that at most `maxTicks` ticks per side remain).
 */
export function symlogTicks(max: number, c: number, maxTicks = 4): number[] {
  const pos: number[] = [];
  if (max > 0 && c > 0 && Number.isFinite(max)) {
    // from 10·c: a tick at ±c would crowd the one at 0 (symlog(c) is only log10 2)
    const k0 = Math.ceil(Math.log10(c) - 1e-9) + 1;
    const k1 = Math.floor(Math.log10(max) + 1e-9);
    const decades = k1 - k0 + 1;
    const step = Math.max(1, Math.ceil(decades / maxTicks));
    for (let k = k1; k >= k0; k -= step) pos.push(10 ** k);
  }
  pos.sort((a, b) => a - b);
  return [...pos.map((v) => -v).reverse(), 0, ...pos];
}

/** "1e-4", "0.01", "1", "100": a power of ten as a short label. */
export function formatPow10(v: number): string {
  if (v === 0) return "0";
  const sign = v < 0 ? "−" : "";
  const k = Math.round(Math.log10(Math.abs(v)));
  if (k >= -2 && k <= 3) return sign + String(10 ** k).replace(/^0\./, "0.");
  return `${sign}1e${k}`;
}
