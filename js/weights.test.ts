// @vitest-environment jsdom
// The weight views' maths (js/math/weights.ts), each checked against an independent computation
// (sorting, brute force, the formula written out), and the weights / scatter / health / vector
// cards in a mounted widget.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import type { EncodedArray, Payload } from "./model";
import { makeColorScale, NAN_RGB, parseColor } from "./math/scales";
import { f32Bytes, FakeModel, makePayload, viewAt, rng } from "./testing";
import { gateColor as gateTrackColor } from "./math/gates";
import { chipText, unitList } from "./views/health";
import {
  absQuantile,
  finiteQuantiles,
  matrixDims,
  MAX_BLOCK_H,
  MAX_CELL,
  rasterizeMatrix,
  weightDomain,
  weightsLayout,
  weightXRange,
  X_OUTLIER,
  type Matrix,
} from "./math/weights";
import { binDensity, densityAlpha, densityToRGBA } from "./math/density";
import { chipSelection, sameUnits } from "./selection";
import { formatPow10, symlog, symlogConstant, symlogInverse, symlogTicks } from "./math/symlog";
import { layerTitle } from "./parts/labels";
import widget from "./widget";

/** Exact quantile: the value of rank ceil(q·n) (1-based) of the sorted values. */
function exactQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil(q * s.length))) - 1];
}

const mat = (rows: number, cols: number, f: (r: number, c: number) => number): Matrix => {
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = f(r, c);
  return { data, shape: rows === 1 ? [cols] : [rows, cols] };
};

describe("quantiles", () => {
  it("absQuantile is within max/bins of the sorted quantile of |v|, ignoring NaN/Inf", () => {
    const r = rng(1);
    const a = Float32Array.from({ length: 5000 }, () => (r() - 0.5) * 4 * r());
    const b = Float32Array.from({ length: 300 }, () => -r());
    const noisy = Float32Array.from([...b, NaN, Infinity, -Infinity]);
    const finite = [...a, ...b].map(Math.abs);
    const max = Math.max(...finite);
    for (const q of [0.1, 0.5, 0.9, 0.995, 1]) {
      const got = absQuantile([a, noisy], q, 1024);
      const want = exactQuantile(finite, q);
      expect(got).toBeGreaterThanOrEqual(want - 1e-12);
      expect(got - want).toBeLessThanOrEqual(max / 1024 + 1e-12);
    }
    expect(absQuantile([new Float32Array([NaN, 0, 0])], 0.5)).toBe(0);
  });

  it("finiteQuantiles rounds outwards and stays within one bin of the sorted quantile", () => {
    const r = rng(2);
    const v = Float32Array.from({ length: 20000 }, () => (r() < 0.01 ? 5 + r() : r() * 0.2 - 0.1));
    const all = [...v];
    const span = Math.max(...all) - Math.min(...all);
    const qs = [0.001, 0.25, 0.75, 0.999];
    const got = finiteQuantiles([v, new Float32Array([NaN])], qs, 2048);
    qs.forEach((q, i) => {
      const want = exactQuantile(all, q);
      if (q < 0.5) expect(got[i]).toBeLessThanOrEqual(want + 1e-9);
      else expect(got[i]).toBeGreaterThanOrEqual(want - 1e-9);
      expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(span / 2048 + 1e-9);
    });
    expect(finiteQuantiles([new Float32Array([3, 3])], [0.1, 0.9])).toEqual([3, 3]);
    expect(finiteQuantiles([new Float32Array([NaN])], [0.5])[0]).toBeNaN();
  });
});

describe("weightDomain", () => {
  it("is one symmetric domain for all gates from the 99.5 % quantile of the matrices' |w|", () => {
    const r = rng(3);
    const gates = new Map<string, Map<string, Matrix>>();
    const seen: number[] = [];
    for (const [g, scale] of [
      ["input", 0.1],
      ["forget", 0.5],
    ] as const) {
      const k = mat(5, 40, () => (r() - 0.5) * scale);
      const rk = mat(40, 40, () => (r() - 0.5) * scale);
      seen.push(...k.data, ...rk.data);
      gates.set(
        g,
        new Map([
          ["kernel", k],
          ["recurrent_kernel", rk],
          ["bias", mat(1, 40, () => (g === "forget" ? 1 : 0))],
        ]),
      );
    }
    const d = weightDomain(gates);
    const abs = seen.map(Math.abs);
    const want = exactQuantile(abs, 0.995);
    expect(d.domain[0]).toBe(-d.domain[1]);
    expect(d.domain[1]).toBeGreaterThanOrEqual(want - 1e-9);
    expect(d.domain[1] - want).toBeLessThanOrEqual(Math.max(...abs) / 4096 + 1e-9);
    // the forget bias of 1 is in max (and clipped), not in the domain
    expect(d.max).toBe(1);
    expect(d.clipped).toBe(true);
    // a gate with larger weights widens the domain for every gate: the domain is one per layer
    expect(d.domain[1]).toBeGreaterThan(0.1);
  });

  it("takes max |w| when the quantile is close to it (no clipping for nothing)", () => {
    // 1000 weights spread evenly over [-1, 1], one at 1.2: quantile ≈ 0.99, max 1.2 ≤ 1.25 × 0.99
    const one = (m: Matrix) => new Map([["cell", new Map([["kernel", m]])]]);
    const near = one(mat(1, 1001, (_r, c) => (c === 1000 ? 1.2 : -1 + (2 * c) / 999)));
    const d = weightDomain(near);
    expect(d.domain[1]).toBeCloseTo(1.2, 6);
    expect(d.clipped).toBe(false);
    // …but 2.0 is far: clipped at the quantile
    const far = one(mat(1, 1001, (_r, c) => (c === 1000 ? 2 : -1 + (2 * c) / 999)));
    const abs = Array.from({ length: 1001 }, (_, c) => (c === 1000 ? 2 : Math.abs(Math.fround(-1 + (2 * c) / 999))));
    const df = weightDomain(far);
    expect(df.clipped).toBe(true);
    expect(Math.abs(df.domain[1] - exactQuantile(abs, 0.995))).toBeLessThanOrEqual(2 / 4096 + 1e-9);
  });

  it("never exceeds max |w|, ignores NaN, and falls back to [-1, 1] for all-zero weights", () => {
    const one = new Map([["cell", new Map([["kernel", mat(1, 3, (_r, c) => [0.2, NaN, -0.1][c])]])]]);
    const d = weightDomain(one);
    expect(d.domain[1]).toBeCloseTo(0.2, 6);
    expect(d.max).toBeCloseTo(0.2, 6);
    expect(d.clipped).toBe(false);
    const zero = new Map([["cell", new Map([["kernel", mat(2, 2, () => 0)]])]]);
    expect(weightDomain(zero).domain).toEqual([-1, 1]);
  });

  it("matrixDims reads (D, U), (U,) and (2, U)", () => {
    expect(matrixDims({ data: new Float32Array(12), shape: [3, 4] })).toEqual([3, 4]);
    expect(matrixDims({ data: new Float32Array(4), shape: [4] })).toEqual([1, 4]);
    expect(matrixDims({ data: new Float32Array(8), shape: [2, 4] })).toEqual([2, 4]);
  });
});

describe("weightXRange", () => {
  it("keeps every weight when none is far out, and always holds 0", () => {
    const w = Float32Array.from([0.1, 0.3, 0.25, 0.2, NaN]);
    expect(weightXRange([w])).toEqual({ lo: 0, hi: expect.closeTo(0.3, 6), beyond: 0 });
    expect(weightXRange([new Float32Array([NaN])])).toEqual({ lo: 0, hi: 0, beyond: 0 });
  });

  it("moves an end with far outliers in to the farthest weight that is not one", () => {
    const r = rng(7);
    const kernel = Float32Array.from({ length: 200_000 }, () => (r() - 0.5) * 0.1); // ±0.05
    const bias = new Float32Array(64).fill(1); // 0.03 % at 1: beyond every quantile
    const low = Float32Array.from([-0.12]); // within 3 × 0.05: kept
    const { lo, hi, beyond } = weightXRange([kernel, bias, low]);
    // independent: the spread from sorted quantiles, then the extremes within X_OUTLIER·spread
    const all = [...kernel, ...bias, ...low];
    const spread = Math.max(Math.abs(exactQuantile(all, 0.001)), Math.abs(exactQuantile(all, 0.999)));
    const inside = all.filter((v) => Math.abs(v) <= X_OUTLIER * spread);
    expect(lo).toBeCloseTo(
      inside.reduce((a, b) => Math.min(a, b)),
      6,
    );
    expect(lo).toBeCloseTo(-0.12, 6);
    expect(hi).toBeCloseTo(
      inside.reduce((a, b) => Math.max(a, b)),
      6,
    );
    expect(hi).toBeLessThan(0.051);
    expect(beyond).toBe(64);
  });
});

describe("symlog", () => {
  it("is sign(x)·log10(1 + |x|/c), odd and monotone, with an exact inverse", () => {
    const c = 1e-3;
    expect(symlog(0, c)).toBe(0);
    expect(symlog(9 * c, c)).toBeCloseTo(1, 12);
    expect(symlog(99 * c, c)).toBeCloseTo(2, 12);
    expect(symlog(-999 * c, c)).toBeCloseTo(-3, 12);
    // linear near 0: slope 1/(c ln 10)
    expect(symlog(1e-9, c) / 1e-9).toBeCloseTo(1 / (c * Math.LN10), 3);
    let prev = -Infinity;
    for (let x = -5; x <= 5; x += 0.01) {
      const y = symlog(x, c);
      expect(y).toBeGreaterThan(prev);
      expect(symlog(-x, c)).toBeCloseTo(-y, 12);
      expect(symlogInverse(y, c)).toBeCloseTo(x, 9);
      prev = y;
    }
    expect(symlog(NaN, c)).toBeNaN();
  });

  it("symlogConstant is the 10th percentile of the non-zero |g|, floored to a power of ten", () => {
    const r = rng(4);
    const g = Float32Array.from({ length: 4000 }, () => (r() < 0.3 ? 0 : (r() < 0.5 ? -1 : 1) * 10 ** (-8 + 7 * r())));
    const nonzero = [...g].filter((v) => v !== 0).map(Math.abs);
    const p10 = exactQuantile(nonzero, 0.1);
    const c = symlogConstant([g, new Float32Array([NaN, Infinity])]);
    expect(c).toBe(10 ** Math.floor(Math.log10(p10)));
    expect(symlogConstant([new Float32Array([0, 0, NaN])])).toBe(1);
    // above maxSamples it strides through the values: the same decade here
    expect(symlogConstant([g], 0.1, 1000)).toBe(c);
  });

  it("symlogTicks: 0 and symmetric powers of ten from 10·c up to max, at most maxTicks a side", () => {
    const t = symlogTicks(0.5, 1e-6, 10);
    expect(t).toEqual(
      [-0.1, -0.01, -1e-3, -1e-4, -1e-5, 0, 1e-5, 1e-4, 1e-3, 0.01, 0.1].map((v) => expect.closeTo(v, 15)),
    );
    const few = symlogTicks(0.5, 1e-6, 2);
    const pos = few.filter((v) => v > 0);
    expect(pos.length).toBeLessThanOrEqual(2);
    expect(pos).toContainEqual(expect.closeTo(0.1, 15)); // the largest decade is always labelled
    expect(
      few
        .filter((v) => v < 0)
        .map((v) => -v)
        .reverse(),
    ).toEqual(pos);
    expect(symlogTicks(0, 1e-3)).toEqual([0]);
  });

  it("formatPow10 writes decades briefly", () => {
    expect([1e-5, 1e-3, 0.01, 0.1, 1, 100, 1e5, -0.01, 0].map(formatPow10)).toEqual([
      "1e-5",
      "1e-3",
      "0.01",
      "0.1",
      "1",
      "100",
      "1e5",
      "−0.01",
      "0",
    ]);
  });
});

describe("density", () => {
  it("bins like a brute-force search over the cell edges, per group", () => {
    const r = rng(5);
    const n = 3000;
    const sets = [0, 1, 2].map((group) => ({
      x: Float32Array.from({ length: n }, () => r() * 1.2 - 0.1), // some outside [0, 1]
      y: Float32Array.from({ length: n }, () => (r() < 0.01 ? NaN : r())),
      group,
    }));
    const nx = 7;
    const ny = 5;
    const grid = binDensity(sets, 3, nx, ny, [0, 1], [0, 1]);
    const want = new Map<string, number>();
    let skipped = 0;
    const cellOf = (v: number, n: number): number => {
      // the last edge e_k = k/n with e_k <= v (v = 1 goes into the last cell)
      let k = 0;
      while (k + 1 < n && (k + 1) / n <= v) k++;
      return k;
    };
    for (const s of sets) {
      for (let i = 0; i < n; i++) {
        const x = s.x[i];
        const y = s.y[i];
        if (!(x >= 0 && x <= 1 && y >= 0 && y <= 1)) {
          skipped++;
          continue;
        }
        const col = cellOf(x, nx);
        const row = ny - 1 - cellOf(y, ny); // row 0 at the top
        const key = `${s.group},${row},${col}`;
        want.set(key, (want.get(key) ?? 0) + 1);
      }
    }
    expect(grid.skipped).toBe(skipped);
    let max = 0;
    for (let row = 0; row < ny; row++) {
      for (let col = 0; col < nx; col++) {
        let tot = 0;
        for (let g = 0; g < 3; g++) {
          const c = grid.counts[(g * ny + row) * nx + col];
          expect(c).toBe(want.get(`${g},${row},${col}`) ?? 0);
          tot += c;
        }
        expect(grid.total[row * nx + col]).toBe(tot);
        max = Math.max(max, tot);
      }
    }
    expect(grid.max).toBe(max);
    expect([...grid.total].reduce((a, b) => a + b, 0)).toBe(3 * n - skipped);
  });

  it("maps the domains linearly and, with clampX, puts x beyond them into the edge columns", () => {
    // domain x ∈ [-2, 2] in 4 columns, y ∈ [10, 20] in 2 rows
    const set = { x: [-2, -1.01, 0, 1.99, 2, -5, 7, NaN, 0], y: [10, 10, 14.9, 15, 20, 12, 18, 12, 25], group: 0 };
    const g = binDensity([set], 1, 4, 2, [-2, 2], [10, 20], true);
    // column = floor((x + 2) / 1) (4 → 3), row = 1 − floor((y − 10) / 5) (2 → 1, row 0 on top)
    const want = new Uint32Array(8);
    const put = (row: number, col: number): void => {
      want[row * 4 + col]++;
    };
    put(1, 0); // (-2, 10)
    put(1, 0); // (-1.01, 10)
    put(1, 2); // (0, 14.9)
    put(0, 3); // (1.99, 15)
    put(0, 3); // (2, 20)
    put(1, 0); // (-5 → -2, 12)
    put(0, 3); // (7 → 2, 18)
    expect([...g.counts]).toEqual([...want]);
    expect(g.skipped).toBe(2); // NaN x, y above the domain
    const strict = binDensity([set], 1, 4, 2, [-2, 2], [10, 20]);
    expect(strict.skipped).toBe(4);
  });

  it("colours a cell by the count-weighted mix of its groups, opacity by log count", () => {
    const sets = [
      { x: [0.1, 0.1, 0.1, 0.9], y: [0.9, 0.9, 0.9, 0.1], group: 0 },
      { x: [0.1], y: [0.9], group: 1 },
    ];
    const grid = binDensity(sets, 2, 2, 2, [0, 1], [0, 1]);
    const out = new Uint8ClampedArray(2 * 2 * 4);
    const colors: Array<[number, number, number]> = [
      [200, 0, 0],
      [0, 0, 100],
    ];
    densityToRGBA(grid, colors, out);
    // top-left: 3 of group 0, 1 of group 1 → (3·200 + 0)/4, 0, (0 + 100)/4; the densest → opaque
    expect([...out.slice(0, 4)]).toEqual([150, 0, 25, 255]);
    // bottom-right: 1 point of group 0 → its colour, 35 % opacity
    expect([...out.slice(12, 16)]).toEqual([200, 0, 0, Math.round(255 * 0.35)]);
    // empty cells are transparent
    expect(out[7]).toBe(0);
    expect(out[11]).toBe(0);
    expect(densityAlpha(0, 10)).toBe(0);
    expect(densityAlpha(10, 10)).toBeCloseTo(1, 12);
    expect(densityAlpha(3, 10)).toBeCloseTo(0.35 + (0.65 * Math.log(3)) / Math.log(10), 12);
    expect(densityAlpha(1, 1)).toBe(1);
  });
});

describe("health chips", () => {
  it("a click selects the group, a second click (same units, any order) clears", () => {
    expect(chipSelection([], [3, 5, 9])).toEqual([3, 5, 9]);
    expect(chipSelection([1, 2], [3, 5])).toEqual([3, 5]);
    expect(chipSelection([9, 3, 5], [3, 5, 9])).toEqual([]);
    expect(chipSelection([3, 5], [3, 5, 9])).toEqual([3, 5, 9]); // a subset is not "equal"
    expect(chipSelection([3], [3, 3])).toEqual([]);
    expect(chipSelection([], [])).toEqual([]);
    expect(sameUnits([1, 2, 2], [2, 1])).toBe(true);
    expect(sameUnits([1, 2], [1, 3])).toBe(false);
  });

  it("titles a layer with its direction unless the name already says it", () => {
    expect(layerTitle("bi/backward", "backward")).toBe("bi/backward");
    expect(layerTitle("rev_lstm", "backward")).toBe("rev_lstm (backward)");
    expect(layerTitle("lstm", null)).toBe("lstm");
  });

  it("labels chips and their tooltips", () => {
    expect(chipText("forget gate saturated", 12)).toBe("forget gate saturated · 12 units");
    expect(chipText("dead units", 1)).toBe("dead units · 1 unit");
    expect(unitList([4])).toBe("unit 4");
    expect(unitList([1, 2, 3, 4], 2)).toBe("units 1, 2, … (4)");
  });
});

describe("matrices", () => {
  it("rasterizeMatrix colours each weight like the colour scale, NaN/Inf magenta", () => {
    const scale = makeColorScale({ kind: "diverging", domain: [-0.5, 0.5] });
    const values = [-0.5, -0.2, 0, 0.1, 0.5, 3, NaN, -Infinity];
    const out = new Uint8ClampedArray(values.length * 4);
    rasterizeMatrix(out, Float32Array.from(values), scale.lut, scale.domain, NAN_RGB);
    values.forEach((v, i) => {
      const want = Number.isFinite(v) ? parseColor(scale.css(Math.fround(v))) : [...NAN_RGB]; // the float32 value
      expect([...out.slice(i * 4, i * 4 + 4)]).toEqual([...want, 255]);
    });
    expect(() =>
      rasterizeMatrix(new Uint8ClampedArray(4), new Float32Array(2), scale.lut, scale.domain, NAN_RGB),
    ).toThrow();
  });

  it("weightsLayout fits the panels in the width, caps cells and block heights", () => {
    for (const [w, G, D, U] of [
      [600, 4, 3, 6],
      [900, 4, 16, 64],
      [1100, 4, 512, 512],
      [400, 1, 2, 8],
      [500, 3, 300, 12],
    ]) {
      const g = weightsLayout(w, G, D, U, 1);
      expect(G * g.panelW + (G - 1) * g.gapX).toBeLessThanOrEqual(w + 1e-9);
      expect(g.cellW).toBeLessThanOrEqual(MAX_CELL);
      expect(g.panelW).toBeCloseTo(g.cellW * U, 9);
      expect(g.kernelH).toBeLessThanOrEqual(MAX_BLOCK_H + 1e-9);
      expect(g.recurrentH).toBeLessThanOrEqual(MAX_BLOCK_H + 1e-9);
      expect(g.kernelH).toBeCloseTo(g.rowK * D, 9);
      expect(g.rowK).toBeLessThanOrEqual(Math.max(1, g.cellW) + 1e-9);
    }
    // small layers get square cells of MAX_CELL, not stretched ones
    const small = weightsLayout(1000, 4, 3, 6, 1);
    expect(small.cellW).toBe(MAX_CELL);
    expect(small.rowR).toBe(MAX_CELL);
  });
});

// --- the cards in a mounted widget -------------------------------------------------------------

const enc = (shape: number[], f: (i: number) => number): EncodedArray => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "float32", shape, data: viewAt(f32Bytes(Array.from({ length: n }, (_, i) => f(i))), 4) };
};

/** makePayload with weights, weight gradients and health on the LSTM layer (U = 8, D = 3). */
function payloadWithWeights(opts: { grads?: boolean; findings?: string[] } = {}): Payload {
  const p = makePayload();
  const U = 8;
  const D = 3;
  const gates = ["input", "forget", "cell", "output"];
  const parts = (k: number, scale: number) => ({
    kernel: enc([D, U], (i) => scale * Math.sin(i + k)),
    recurrent_kernel: enc([U, U], (i) => scale * Math.cos(i * 0.7 + k)),
    bias: enc([U], () => (k === 1 ? 1 : 0)),
  });
  p.layers[0].weights = Object.fromEntries(gates.map((g, k) => [g, parts(k, 0.3)]));
  p.layers[0].weight_grads = opts.grads === false ? null : Object.fromEntries(gates.map((g, k) => [g, parts(k, 1e-3)]));
  p.layers[0].health = {
    findings: opts.findings ?? ["forget gate: 3/8 units saturated <b>x</b>"],
    groups: [
      { label: "forget gate saturated", units: [1, 4, 6], kind: "saturated" },
      { label: "dead units", units: [7], kind: "dead" },
    ],
    collapsed: false,
    mean_variance: 0.02,
  };
  return p;
}

describe("cards", () => {
  let cleanups: Array<() => void> = [];
  beforeAll(() => {
    HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
  });
  beforeEach(() => {
    vi.useFakeTimers();
    cleanups = [];
  });
  afterEach(() => {
    cleanups.forEach((c) => c());
    document.body.replaceChildren();
    vi.useRealTimers();
  });
  const open = (payload: Payload, state: Record<string, unknown> = {}) => {
    const model = new FakeModel({ _data: payload, ...state });
    const el = document.createElement("div");
    document.body.append(el);
    cleanups.push(widget.render({ model: model as never, el }) as () => void);
    const card = (name: string) =>
      el.querySelector<HTMLElement>(`.lstmviz-cards > div.lstmviz-view.lstmviz-card[data-view="${name}"]`);
    return { model, el, card };
  };

  it("mounts vector, weights, scatter and health as cards in the cards row", () => {
    const { card, el } = open(payloadWithWeights());
    for (const name of ["vector", "weights", "scatter", "health"]) {
      expect(card(name), name).not.toBeNull();
      expect(card(name)?.hidden, name).toBe(false);
    }
    expect(el.querySelectorAll(".lstmviz-vector rect.lstmviz-bar")).toHaveLength(8);
    expect(card("vector")?.querySelector(".lstmviz-card-title")?.textContent).toBe("h at t = 0");
    expect(card("weights")?.querySelector(".lstmviz-card-title")?.textContent).toBe("weights · lstm");
    // the gate legend of the scatter
    const keys = [...(card("scatter")?.querySelectorAll<HTMLElement>(".lstmviz-gate-key") ?? [])];
    expect(keys.map((k) => k.textContent)).toEqual(["input", "forget", "cell", "output"]);
    // each gate in the colour the gate tracks give it
    keys.forEach((k, i) => {
      const dot = k.querySelector<HTMLElement>(".lstmviz-gate-dot") as HTMLElement;
      expect(parseColor(dot.style.background)).toEqual(
        parseColor(gateTrackColor(["input", "forget", "cell", "output"][i], i)),
      );
    });
  });

  it("the vector card's title follows the cursor and the quantity", () => {
    const { card, el } = open(payloadWithWeights(), { timestep: 12, quantity: "c" });
    expect(card("vector")?.querySelector(".lstmviz-card-title")?.textContent).toBe("c at t = 12");
    el.querySelector<HTMLElement>("div.lstmviz")?.dispatchEvent(
      new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }),
    );
    vi.advanceTimersByTime(20); // one animation frame
    expect(card("vector")?.querySelector(".lstmviz-card-title")?.textContent).toBe("c at t = 13");
  });

  it("hides weights, scatter and health for a layer without them; absent without any", () => {
    const { card, model } = open(payloadWithWeights());
    model.fromPython("layer", "gru");
    vi.advanceTimersByTime(20);
    expect(card("weights")?.hidden).toBe(true);
    expect(card("scatter")?.hidden).toBe(true);
    expect(card("health")?.hidden).toBe(true);
    model.fromPython("layer", "lstm");
    vi.advanceTimersByTime(20);
    expect(card("weights")?.hidden).toBe(false);
    expect(card("health")?.hidden).toBe(false);

    document.body.replaceChildren();
    const plain = open(makePayload());
    for (const name of ["weights", "scatter", "health"]) expect(plain.card(name)).toBeNull();
    const noGrads = open(payloadWithWeights({ grads: false }));
    expect(noGrads.card("scatter")).toBeNull();
    expect(noGrads.card("weights")).not.toBeNull();
  });

  it("health: findings as text, chips select their units and a second click clears", () => {
    const { card, model } = open(payloadWithWeights());
    const h = card("health") as HTMLElement;
    const items = [...h.querySelectorAll(".lstmviz-health-findings li")].map((li) => li.textContent);
    expect(items).toEqual(["forget gate: 3/8 units saturated <b>x</b>"]);
    expect(h.querySelector("b")).toBeNull();
    expect((h.querySelector(".lstmviz-health-ok") as HTMLElement).hidden).toBe(true);
    const chips = [...h.querySelectorAll<HTMLButtonElement>("button.lstmviz-chip")];
    expect(chips.map((c) => c.textContent)).toEqual(["forget gate saturated · 3 units", "dead units · 1 unit"]);
    chips[0].click();
    vi.advanceTimersByTime(60);
    expect(model.state.selected_units).toEqual([1, 4, 6]);
    expect(chips[0].classList.contains("active")).toBe(true);
    expect(chips[1].classList.contains("active")).toBe(false);
    chips[0].click();
    vi.advanceTimersByTime(60);
    expect(model.state.selected_units).toEqual([]);
    expect(chips[0].classList.contains("active")).toBe(false);
    // a selection made elsewhere that equals a group lights its chip
    model.fromPython("selected_units", [7]);
    expect(chips[1].classList.contains("active")).toBe(true);
    // fidelity badge of the layer, with its explanation
    const badge = h.querySelector(".lstmviz-health-fidelity") as HTMLElement;
    expect(badge.textContent).toBe("replay error 3.1e-7");
    expect(badge.classList.contains("ok")).toBe(true);
    expect(badge.title).toMatch(/max \|h_replayed − h_keras\|/);
  });

  it("health: a green 'no problems found' line when there are no findings", () => {
    const { card } = open(payloadWithWeights({ findings: [] }));
    const ok = card("health")?.querySelector(".lstmviz-health-ok") as HTMLElement;
    expect(ok.hidden).toBe(false);
    expect(ok.textContent).toMatch(/no problems found/);
    expect((card("health")?.querySelector(".lstmviz-health-findings") as HTMLElement).hidden).toBe(true);
  });

  it("weights: hovering a column sets hoverUnit, clicking toggles the unit", () => {
    const width = 800;
    const spy = vi.spyOn(HTMLElement.prototype, "clientWidth", "get").mockReturnValue(width);
    try {
      const { card, el, model } = open(payloadWithWeights());
      const plot = card("weights")?.querySelector(".lstmviz-weights-plot") as HTMLElement;
      // geometry: left margin 74, right 6 (views/weights.ts)
      const g = weightsLayout(width - 74 - 6, 4, 3, 8, 1);
      const x = 74 + (g.panelW + g.gapX) * 2 + 5.5 * g.cellW; // cell gate, unit 5
      const y = 16 + g.kernelH + g.gapY + 2; // the recurrent kernel's first row
      plot.dispatchEvent(new MouseEvent("pointermove", { clientX: x, clientY: y, bubbles: true }));
      vi.advanceTimersByTime(20);
      const tip = plot.querySelector(".lstmviz-tooltip") as HTMLElement;
      expect(tip.hidden).toBe(false);
      expect(tip.textContent).toContain("cell gate · recurrent kernel");
      expect(tip.textContent).toContain("unit 0 → unit 5");
      // the vector's bar of unit 5 is highlighted: hoverUnit went through the store
      expect(el.querySelector('.lstmviz-vector rect[data-unit="5"]')?.getAttribute("class")).toContain("hover");
      expect(plot.querySelectorAll(".lstmviz-hover-row")).toHaveLength(4); // one per gate panel
      plot.dispatchEvent(new MouseEvent("click", { clientX: x, clientY: y, bubbles: true }));
      vi.advanceTimersByTime(60);
      expect(model.state.selected_units).toEqual([5]);
      vi.advanceTimersByTime(20);
      expect(plot.querySelectorAll(".lstmviz-selected-mark")).toHaveLength(4);
      plot.dispatchEvent(new MouseEvent("pointerleave"));
      vi.advanceTimersByTime(20);
      expect(plot.querySelectorAll(".lstmviz-hover-row")).toHaveLength(0);
    } finally {
      spy.mockRestore();
    }
  });
});
