/**
 * Unit orders of the heatmap rows (and of the gate small multiples): which unit each row
 * shows. `unitOrder(payload, state)` returns a permutation of the layer's units (row r shows
 * unit order[r]) for the store's `sortMode`, computed on the store's quantity and sample:
 *
 * - "natural": 0, 1, …, U−1.
 * - "variance": variance over the sample's valid (unpadded) steps, largest first.
 * - "activation": |value| at the cursor, largest first (recomputed when the timestep moves;
 *   the other modes ignore the timestep).
 * - "brush": mean over the brushed steps minus mean over the other valid steps, largest first
 *   (LSTMVis-style selection): units that are high ("on") inside the brush and low ("off")
 *   outside come first, those that switch off inside come last. Padded steps count neither
 *   inside nor outside; an empty side has mean 0. Without a brush: natural order.
 *
 * Non-finite values are left out of every statistic; a unit without a score (no finite value)
 * goes last. Ties keep the natural order (the sort is stable).
 *
 * The same definitions in Python: lstmviz_widget.analysis.unit_order (and order_by_variance,
 * order_by_activation, order_by_range); tests/fixtures/ordering.json holds numbers that both
 * sides are tested against (js/ordering-shared.test.ts, tests/test_ordering_shared.py).
 *
 * Memoised per (layer, quantity, sample, mode, brush or timestep): a cursor move in the
 * "natural"/"variance"/"brush" modes returns the same Int32Array, so views can compare
 * orders by identity. Brush scores cost O(min(brush, rest) × U) after a one-off O(T × U) pass.
 */
import { findLayer, type DecodedPayload } from "../codecs";
import type { SortMode, ViewState } from "../store";

export type OrderState = Pick<ViewState, "layer" | "quantity" | "sample" | "sortMode" | "brush" | "timestep">;

/** Short names of the sort modes, for selects and captions. */
export const SORT_LABELS: Record<SortMode, string> = {
  natural: "unit id",
  variance: "variance",
  activation: "|value| at cursor",
  brush: "brushed range",
};

/** Units sorted by `score`, largest first; NaN scores last; ties in unit order. */
export function orderByScore(score: ArrayLike<number>): Int32Array {
  const n = score.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => {
    const sa = score[a];
    const sb = score[b];
    const na = sa !== sa;
    const nb = sb !== sb;
    if (na || nb) return na === nb ? a - b : na ? 1 : -1;
    return sb > sa ? 1 : sb < sa ? -1 : a - b;
  });
  return Int32Array.from(idx);
}

/** 0, 1, …, n − 1. */
export function naturalOrder(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/**
 * Population variance of each unit of data[sample] over steps [0, len) ((B, T, U) array),
 * finite values only; NaN for a unit with none.
 */
export function unitVariance(data: Float32Array, sample: number, T: number, U: number, len: number): Float64Array {
  const sum = new Float64Array(U);
  const cnt = new Float64Array(U);
  const base = sample * T * U;
  const n = Math.max(0, Math.min(len, T));
  for (let t = 0; t < n; t++) {
    const row = base + t * U;
    for (let u = 0; u < U; u++) {
      const v = data[row + u];
      if (v - v === 0) {
        sum[u] += v;
        cnt[u] += 1;
      }
    }
  }
  const mean = new Float64Array(U);
  for (let u = 0; u < U; u++) mean[u] = cnt[u] > 0 ? sum[u] / cnt[u] : NaN;
  const ss = new Float64Array(U);
  for (let t = 0; t < n; t++) {
    const row = base + t * U;
    for (let u = 0; u < U; u++) {
      const v = data[row + u];
      if (v - v === 0) {
        const d = v - mean[u];
        ss[u] += d * d;
      }
    }
  }
  const out = new Float64Array(U);
  for (let u = 0; u < U; u++) out[u] = cnt[u] > 0 ? ss[u] / cnt[u] : NaN;
  return out;
}

/** |data[sample, t, u]| for every unit (NaN stays NaN; ±Inf counts as no score). */
export function unitActivation(data: Float32Array, sample: number, T: number, U: number, t: number): Float64Array {
  const out = new Float64Array(U);
  const row = (sample * T + Math.max(0, Math.min(T - 1, t))) * U;
  for (let u = 0; u < U; u++) {
    const v = data[row + u];
    out[u] = v - v === 0 ? Math.abs(v) : NaN;
  }
  return out;
}

interface Sums {
  sum: Float64Array;
  cnt: Float64Array;
}

function sumsOver(data: Float32Array, sample: number, T: number, U: number, t0: number, t1: number): Sums {
  const sum = new Float64Array(U);
  const cnt = new Float64Array(U);
  const base = sample * T * U;
  for (let t = Math.max(0, t0); t < Math.min(T, t1); t++) {
    const row = base + t * U;
    for (let u = 0; u < U; u++) {
      const v = data[row + u];
      if (v - v === 0) {
        sum[u] += v;
        cnt[u] += 1;
      }
    }
  }
  return { sum, cnt };
}

const totalsCache = new WeakMap<Float32Array, Map<string, Sums>>();

/** Per-unit sums and counts of finite values of data[sample] over [0, len), memoised. */
function validTotals(data: Float32Array, sample: number, T: number, U: number, len: number): Sums {
  let m = totalsCache.get(data);
  if (!m) {
    m = new Map();
    totalsCache.set(data, m);
  }
  const key = `${sample}:${len}`;
  let s = m.get(key);
  if (!s) {
    s = sumsOver(data, sample, T, U, 0, len);
    m.set(key, s);
  }
  return s;
}

/**
 * Brush score of each unit: mean over the brushed valid steps [a, b) ∩ [0, len) minus mean
 * over the other valid steps (finite values; an empty side has mean 0).
 */
export function brushScores(
  data: Float32Array,
  sample: number,
  T: number,
  U: number,
  len: number,
  brush: readonly [number, number],
): Float64Array {
  const n = Math.max(0, Math.min(len, T));
  const a = Math.max(0, Math.min(brush[0], n));
  const b = Math.max(a, Math.min(brush[1], n));
  const total = validTotals(data, sample, T, U, n);
  // Sum over whichever side is shorter; the other is the total minus it.
  let inside: Sums;
  if (2 * (b - a) <= n) inside = sumsOver(data, sample, T, U, a, b);
  else {
    const left = sumsOver(data, sample, T, U, 0, a);
    const right = sumsOver(data, sample, T, U, b, n);
    inside = { sum: new Float64Array(U), cnt: new Float64Array(U) };
    for (let u = 0; u < U; u++) {
      inside.sum[u] = total.sum[u] - left.sum[u] - right.sum[u];
      inside.cnt[u] = total.cnt[u] - left.cnt[u] - right.cnt[u];
    }
  }
  const out = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    const ci = inside.cnt[u];
    const co = total.cnt[u] - ci;
    const mi = ci > 0 ? inside.sum[u] / ci : 0;
    const mo = co > 0 ? (total.sum[u] - inside.sum[u]) / co : 0;
    out[u] = ci + co > 0 ? mi - mo : NaN;
  }
  return out;
}

// --- memoised entry point -----------------------------------------------------------------

const MAX_MEMO = 64;
const memo = new WeakMap<DecodedPayload, Map<string, Int32Array>>();

/** The row order for `state` (see the module comment). Memoised; never mutate the result. */
export function unitOrder(payload: DecodedPayload, state: OrderState): Int32Array {
  const layer = findLayer(payload, state.layer);
  const arr = layer.arrays.get(state.quantity) ?? layer.arrays.get("h");
  const U = layer.units;
  const T = payload.nSteps;
  let mode: SortMode = state.sortMode;
  if (mode === "brush" && !state.brush) mode = "natural";
  if (!arr) mode = "natural";
  const quantity = layer.arrays.has(state.quantity) ? state.quantity : "h";
  const extra =
    mode === "brush" ? `${state.brush?.[0]}-${state.brush?.[1]}` : mode === "activation" ? String(state.timestep) : "";
  const key =
    mode === "natural"
      ? `natural:${U}`
      : `${layer.name}\u0000${quantity}\u0000${state.sample}\u0000${mode}\u0000${extra}`;
  let m = memo.get(payload);
  if (!m) {
    m = new Map();
    memo.set(payload, m);
  }
  const hit = m.get(key);
  if (hit) {
    m.delete(key); // most recently used goes last
    m.set(key, hit);
    return hit;
  }
  let order: Int32Array;
  const len = layer.lengths[state.sample] ?? T;
  if (mode === "natural" || !arr) order = naturalOrder(U);
  else if (mode === "variance") order = orderByScore(unitVariance(arr.data, state.sample, T, U, len));
  else if (mode === "activation") order = orderByScore(unitActivation(arr.data, state.sample, T, U, state.timestep));
  else order = orderByScore(brushScores(arr.data, state.sample, T, U, len, state.brush as [number, number]));
  m.set(key, order);
  while (m.size > MAX_MEMO) m.delete(m.keys().next().value as string);
  return order;
}

/** Inverse permutation: rowOf[u] = the row showing unit u. */
export function rowsOf(order: Int32Array): Int32Array {
  const out = new Int32Array(order.length);
  for (let r = 0; r < order.length; r++) out[order[r]] = r;
  return out;
}
