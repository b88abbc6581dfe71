import { describe, expect, it } from "vitest";

import { decodePayload, type DecodedPayload } from "./codecs";
import {
  brushScores,
  orderByScore,
  rowsOf,
  unitActivation,
  unitOrder,
  unitVariance,
  type OrderState,
} from "./math/ordering";
import { makePayload } from "./testing";

/** The values of one unit of data[b] over [t0, t1), finite only. */
function series(data: Float32Array, b: number, T: number, U: number, u: number, t0: number, t1: number): number[] {
  const out: number[] = [];
  for (let t = t0; t < t1; t++) {
    const v = data[(b * T + t) * U + u];
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}
const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
/** Variance as E[x²] − E[x]² (a different formula from the module's two-pass one). */
const variance = (xs: number[]): number => (xs.length ? mean(xs.map((x) => x * x)) - mean(xs) ** 2 : NaN);

/** Units sorted by `score` descending, by repeated selection of the maximum (NaN last, ties by id). */
function selectionOrder(score: number[]): number[] {
  const left = score.map((_, i) => i);
  const out: number[] = [];
  while (left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i++) {
      const a = score[left[i]];
      const b = score[left[best]];
      if (Number.isNaN(b) && !Number.isNaN(a)) best = i;
      else if (!Number.isNaN(a) && a > b) best = i;
    }
    out.push(left.splice(best, 1)[0]);
  }
  return out;
}

function payloadWith(T: number, U: number, f: (b: number, t: number, u: number) => number): DecodedPayload {
  const raw = makePayload({ B: 2, T, units: U });
  const a = new Float32Array(2 * T * U);
  for (let b = 0; b < 2; b++)
    for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) a[(b * T + t) * U + u] = f(b, t, u);
  raw.layers[0].arrays.h = { dtype: "float32", shape: [2, T, U], data: new DataView(a.buffer) };
  for (const k of Object.keys(raw.layers[0].arrays)) {
    if (k !== "h") delete raw.layers[0].arrays[k];
  }
  return decodePayload(raw);
}

const state = (patch: Partial<OrderState> = {}): OrderState => ({
  layer: "lstm",
  quantity: "h",
  sample: 1,
  sortMode: "natural",
  brush: null,
  timestep: 0,
  ...patch,
});

// Sample 1 is padded after step T − 5 (makePayload); one NaN; units with distinct behaviours.
const T = 60;
const U = 9;
const f = (b: number, t: number, u: number): number => {
  if (b === 1 && t === 7 && u === 4) return NaN;
  const on = t >= 20 && t < 30;
  return Math.sin(t * (u + 1) * 0.37 + b) * (u / U) + (on ? (u % 3) - 1 : 0) + 0.01 * u;
};
const payload = payloadWith(T, U, f);
const data = payload.layers[0].arrays.get("h")?.data as Float32Array;
const len = payload.layers[0].lengths[1];

describe("unit orders", () => {
  it("sorts by score, largest first, NaN last, ties by unit id", () => {
    expect(Array.from(orderByScore([0.1, 3, NaN, 3, -1]))).toEqual([1, 3, 0, 4, 2]);
    expect(Array.from(orderByScore([]))).toEqual([]);
    expect(Array.from(rowsOf(Int32Array.from([2, 0, 1])))).toEqual([1, 2, 0]);
  });

  it("natural: the units in order", () => {
    expect(Array.from(unitOrder(payload, state()))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("variance: over the sample's valid steps, against E[x²] − E[x]²", () => {
    expect(len).toBe(T - 5);
    const want = Array.from({ length: U }, (_, u) => variance(series(data, 1, T, U, u, 0, len)));
    const got = unitVariance(data, 1, T, U, len);
    for (let u = 0; u < U; u++) expect(got[u]).toBeCloseTo(want[u], 6);
    expect(Array.from(unitOrder(payload, state({ sortMode: "variance" })))).toEqual(selectionOrder(want));
    // padding is left out: changing a padded step changes nothing
    const withPad = payloadWith(T, U, (b, t, u) => (b === 1 && t >= len ? 1000 * u : f(b, t, u)));
    expect(Array.from(unitOrder(withPad, state({ sortMode: "variance" })))).toEqual(selectionOrder(want));
  });

  it("activation: |value| at the cursor, recomputed when the cursor moves", () => {
    for (const t of [0, 7, 25, T - 1]) {
      const want = Array.from({ length: U }, (_, u) => Math.abs(data[(1 * T + t) * U + u]));
      const got = unitActivation(data, 1, T, U, t);
      for (let u = 0; u < U; u++) {
        if (Number.isNaN(want[u])) expect(got[u]).toBeNaN();
        else expect(got[u]).toBeCloseTo(want[u], 7);
      }
      expect(Array.from(unitOrder(payload, state({ sortMode: "activation", timestep: t })))).toEqual(
        selectionOrder(want),
      );
    }
    // unit 4 is NaN at t = 7: last
    expect(unitOrder(payload, state({ sortMode: "activation", timestep: 7 }))[U - 1]).toBe(4);
  });

  it("brush: mean inside minus mean outside over valid steps, by direct computation", () => {
    for (const brush of [
      [20, 30],
      [0, 5],
      [50, 60], // reaches into the padding (valid steps end at 55)
      [3, 4],
      [2, 50], // most of the valid steps: summed as total − outside
      [0, 60], // every valid step: the outside is empty (mean 0)
    ] as Array<[number, number]>) {
      const inEnd = Math.min(brush[1], len);
      const want = Array.from({ length: U }, (_, u) => {
        const inside = series(data, 1, T, U, u, brush[0], inEnd);
        const outside = [...series(data, 1, T, U, u, 0, brush[0]), ...series(data, 1, T, U, u, inEnd, len)];
        return mean(inside) - mean(outside);
      });
      const got = brushScores(data, 1, T, U, len, brush);
      for (let u = 0; u < U; u++) expect(got[u]).toBeCloseTo(want[u], 6);
      expect(Array.from(unitOrder(payload, state({ sortMode: "brush", brush })))).toEqual(selectionOrder(want));
    }
  });

  it("brush: units on inside and off outside come first", () => {
    // units u % 3 == 2 are +1 inside [20, 30), u % 3 == 0 are −1 there
    const order = Array.from(unitOrder(payload, state({ sortMode: "brush", brush: [20, 30] })));
    expect(order.slice(0, 3).sort()).toEqual([2, 5, 8]);
    expect(order.slice(-3).sort()).toEqual([0, 3, 6]);
  });

  it("falls back to the natural order in brush mode without a brush", () => {
    expect(Array.from(unitOrder(payload, state({ sortMode: "brush", brush: null })))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it("is memoised per (layer, quantity, sample, mode, brush / timestep)", () => {
    const v1 = unitOrder(payload, state({ sortMode: "variance", timestep: 3 }));
    expect(unitOrder(payload, state({ sortMode: "variance", timestep: 40 }))).toBe(v1); // cursor ignored
    expect(unitOrder(payload, state({ sortMode: "variance", sample: 0 }))).not.toBe(v1);
    const a1 = unitOrder(payload, state({ sortMode: "activation", timestep: 3 }));
    expect(unitOrder(payload, state({ sortMode: "activation", timestep: 3 }))).toBe(a1);
    expect(unitOrder(payload, state({ sortMode: "activation", timestep: 4 }))).not.toBe(a1);
    const b1 = unitOrder(payload, state({ sortMode: "brush", brush: [20, 30], timestep: 1 }));
    expect(unitOrder(payload, state({ sortMode: "brush", brush: [20, 30], timestep: 9 }))).toBe(b1);
    expect(unitOrder(payload, state({ sortMode: "brush", brush: [20, 31] }))).not.toBe(b1);
  });

  it("orders the units of the layer asked for (a GRU of 4 units)", () => {
    const order = unitOrder(payload, state({ layer: "gru", sortMode: "variance" }));
    expect(Array.from(order).sort()).toEqual([0, 1, 2, 3]);
  });
});
