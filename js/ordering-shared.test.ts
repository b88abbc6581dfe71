/// <reference types="vite/client" />
/**
 * The unit orders and the memory flow have one definition, shared with Python.
 *
 * tests/fixtures/ordering.json (tests/fixtures/make_ordering.py: a small capture with a NaN,
 * an infinity and a tie added) holds the orders, scores and memory-flow lines that
 * lstmviz_widget.analysis gives (tests/test_ordering_shared.py checks them against a direct
 * computation); here js/ordering.ts and js/series.ts must give the same numbers.
 */
import { describe, expect, it } from "vitest";

import raw from "../tests/fixtures/ordering.json?raw";
import type { DecodedArray, DecodedLayer, DecodedPayload } from "./codecs";
import { brushScores, unitActivation, unitOrder, unitVariance } from "./math/ordering";
import { flowInputs, flowStats } from "./math/flow";
import type { SortMode } from "./store";

type Value = number | string; // "NaN", "Infinity", "-Infinity" stand for themselves

interface Fixture {
  n_samples: number;
  n_steps: number;
  layers: Array<{ name: string; kind: string; units: number; lengths: number[]; arrays: Record<string, Value[]> }>;
  orders: Array<{
    layer: string;
    quantity: string;
    sample: number;
    mode: SortMode;
    timestep: number;
    brush: [number, number] | null;
    order: number[];
    score: Value[] | null;
  }>;
  flows: Array<{ layer: string; sample: number; carried: Value[]; written: Value[]; bad: number[] }>;
}

const fixture = JSON.parse(raw) as Fixture;
const B = fixture.n_samples;
const T = fixture.n_steps;
const numbers = (xs: Value[]): number[] => xs.map((v) => Number(v));

// The decoded payload the views would get for these arrays (only what ordering.ts reads).
const layers = fixture.layers.map((spec) => {
  const arrays = new Map<string, DecodedArray>();
  for (const [q, flat] of Object.entries(spec.arrays)) {
    arrays.set(q, { data: Float32Array.from(numbers(flat)), shape: [B, T, spec.units] });
  }
  return {
    name: spec.name,
    kind: spec.kind,
    units: spec.units,
    lengths: spec.lengths,
    arrays,
  } as unknown as DecodedLayer;
});
const payload = { nSteps: T, nSamples: B, layers } as unknown as DecodedPayload;
const layerOf = (name: string): DecodedLayer => layers.find((l) => l.name === name) as DecodedLayer;

/** Equal numbers (NaN equals NaN) within a relative tolerance. */
function expectClose(got: ArrayLike<number>, want: number[], rtol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `index ${i}`).toBeNaN();
    else
      expect(Math.abs(got[i] - want[i]), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
        rtol * Math.abs(want[i]) + 1e-15,
      );
  }
}

describe("the shared ordering fixture", () => {
  it("covers every sort mode", () => {
    expect(new Set(fixture.orders.map((c) => c.mode))).toEqual(new Set(["natural", "variance", "activation", "brush"]));
    expect(fixture.orders.length).toBeGreaterThanOrEqual(100);
  });

  it("unitOrder gives Python's order for every case", () => {
    for (const c of fixture.orders) {
      const order = unitOrder(payload, {
        layer: c.layer,
        quantity: c.quantity,
        sample: c.sample,
        sortMode: c.mode,
        brush: c.brush,
        timestep: c.timestep,
      });
      expect(
        Array.from(order),
        `${c.layer} ${c.quantity} sample ${c.sample} ${c.mode} ${c.brush ?? c.timestep}`,
      ).toEqual(c.order);
    }
  });

  it("the scores are Python's numbers", () => {
    let checked = 0;
    for (const c of fixture.orders) {
      if (c.score === null) continue;
      const layer = layerOf(c.layer);
      const data = layer.arrays.get(c.quantity)?.data as Float32Array;
      const U = layer.units;
      const len = layer.lengths[c.sample];
      const got =
        c.mode === "variance"
          ? unitVariance(data, c.sample, T, U, len)
          : c.mode === "activation"
            ? unitActivation(data, c.sample, T, U, c.timestep)
            : brushScores(data, c.sample, T, U, len, c.brush as [number, number]);
      expectClose(got, numbers(c.score), 1e-12);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("the memory-flow lines are Python's step_means", () => {
    for (const f of fixture.flows) {
      const layer = layerOf(f.layer);
      const inputs = flowInputs(layer.arrays);
      expect(inputs?.kind).toBe(layer.kind);
      if (!inputs) continue;
      const stats = flowStats(inputs, T, layer.units, f.sample, layer.lengths[f.sample]);
      // float32 lines in the track: equal to Python's float64 means to float32 rounding
      expectClose(stats.carried, numbers(f.carried), 1e-6);
      expectClose(stats.written, numbers(f.written), 1e-6);
      expect(Array.from(stats.bad.keys()).filter((t) => stats.bad[t])).toEqual(f.bad);
    }
  });
});
