import { describe, expect, it } from "vitest";

import { bucketBounds, columnBounds, extremeOf, minLevelFor, Pyramid, pyramidFor } from "./math/pyramid";
import { foldRows, RowFolder } from "./math/rowfold";
import { imageColumnBounds, rasterize, rasterizeWindow, windowImageSize, type WindowSource } from "./math/raster";
import { LUT_SIZE, makeColorScale, NAN_RGB, type ColorScale } from "./math/scales";
import { rng } from "./testing";

/** (B, T, U) random values, with a few NaN / ±Inf when `holes`. */
function randomArray(B: number, T: number, U: number, seed: number, holes = 0): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(B * T * U);
  for (let i = 0; i < a.length; i++) a[i] = (r() - 0.5) * 4;
  for (let k = 0; k < holes; k++) {
    const i = Math.floor(r() * a.length);
    a[i] = [NaN, Infinity, -Infinity][k % 3];
  }
  return a;
}

/** Brute force: min/max of unit u of data[b] over [t0, t1); any NaN/±Inf → [−Inf, +Inf]. */
function bruteMinMax(
  data: Float32Array,
  b: number,
  T: number,
  U: number,
  u: number,
  t0: number,
  t1: number,
): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let bad = false;
  for (let t = t0; t < t1; t++) {
    const v = data[(b * T + t) * U + u];
    if (!Number.isFinite(v)) bad = true;
    else {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  return bad ? [-Infinity, Infinity] : [lo, hi];
}

describe("min/max pyramid", () => {
  const cases: Array<[number, number, number]> = [
    // T, U, minLevel
    [1, 2, 4],
    [2, 1, 1],
    [7, 3, 2],
    [16, 2, 4],
    [100, 3, 1],
    [1000, 2, 4],
    [1037, 3, 3],
    [4096, 1, 6],
  ];
  for (const [T, U, minLevel] of cases) {
    it(`answers random windows exactly (T=${T}, U=${U}, minLevel=${minLevel})`, () => {
      const B = 2;
      const data = randomArray(B, T, U, T * 31 + U, T > 50 ? 3 : 0);
      const r = rng(T + 7);
      for (const b of [0, 1]) {
        const pyr = new Pyramid(data, b, T, U, minLevel);
        for (let trial = 0; trial < 150; trial++) {
          const a = Math.floor(r() * T);
          const e = a + 1 + Math.floor(r() * (T - a));
          const u = Math.floor(r() * U);
          expect(pyr.query(u, a, e)).toEqual(bruteMinMax(data, b, T, U, u, a, e));
        }
        // the whole axis and single steps
        for (let u = 0; u < U; u++) {
          expect(pyr.query(u, 0, T)).toEqual(bruteMinMax(data, b, T, U, u, 0, T));
          expect(pyr.query(u, T - 1, T)).toEqual(bruteMinMax(data, b, T, U, u, T - 1, T));
        }
      }
    });
  }

  it("reads at most 2·(2^minLevel − 1) steps and 2 buckets per level per query", () => {
    const T = 100_003;
    const U = 2;
    const data = randomArray(1, T, U, 5);
    const pyr = new Pyramid(data, 0, T, U, 4);
    const r = rng(9);
    const lo = new Float64Array(U);
    const hi = new Float64Array(U);
    const levels = pyr.maxLevel - pyr.minLevel + 1;
    for (let trial = 0; trial < 300; trial++) {
      const a = Math.floor(r() * T);
      const e = a + 1 + Math.floor(r() * (T - a));
      lo.fill(Infinity);
      hi.fill(-Infinity);
      const reads = pyr.accumulate(a, e, lo, hi);
      expect(reads).toBeLessThanOrEqual(2 * 15 + 2 * levels);
    }
    // memory: about 4·T·U / 2^minLevel floats
    expect(pyr.bytes).toBeLessThan(((4 * T * U) / 16) * 4 * 1.05);
  });

  it("keeps a single NaN among 100,000 steps visible at every scale", () => {
    const T = 100_000;
    const data = new Float32Array(T).fill(0.5);
    data[71_234] = NaN;
    const pyr = new Pyramid(data, 0, T, 1);
    expect(pyr.query(0, 0, T)).toEqual([-Infinity, Infinity]);
    expect(pyr.query(0, 71_000, 72_000)).toEqual([-Infinity, Infinity]);
    expect(pyr.query(0, 0, 71_234)).toEqual([0.5, 0.5]);
    expect(pyr.query(0, 71_235, T)).toEqual([0.5, 0.5]);
  });

  it("is built once per (array, sample) and shared", () => {
    const arr = { data: randomArray(2, 50, 3, 1), shape: [2, 50, 3] };
    expect(pyramidFor(arr, 1)).toBe(pyramidFor(arr, 1));
    expect(pyramidFor(arr, 0)).not.toBe(pyramidFor(arr, 1));
    expect(pyramidFor(arr, 1).query(2, 3, 40)).toEqual(bruteMinMax(arr.data, 1, 50, 3, 2, 3, 40));
  });
});

describe("column boundaries of an aggregated window", () => {
  it("partition the window into columns of 1 or 2 aligned buckets, within half a column", () => {
    const r = rng(3);
    const problems: string[] = [];
    let checked = 0;
    for (let trial = 0; trial < 200; trial++) {
      const T = 1000 + Math.floor(r() * 200_000);
      const n = 50 + Math.floor(r() * 1500);
      const t0 = Math.floor(r() * (T / 3));
      const t1 = Math.min(T, t0 + n + 1 + Math.floor(r() * (T - t0)));
      if (t1 - t0 <= n) continue;
      checked++;
      const { bounds, level } = columnBounds([t0, t1], n);
      const size = 2 ** level;
      const span = t1 - t0;
      const bad = (what: string): void => {
        problems.push(`[${t0}, ${t1}) in ${n}: ${what}`);
      };
      if (bounds.length !== n + 1 || bounds[0] !== t0 || bounds[n] !== t1) bad("ends");
      if (!(size <= span / n && 2 * size > span / n)) bad(`level ${level}`);
      for (let i = 1; i < n; i++) {
        if (bounds[i] % size !== 0) bad(`boundary ${i} not aligned`);
        const ideal = t0 + Math.floor((i * span) / n);
        if (Math.abs(bounds[i] - ideal) > span / n / 2) bad(`boundary ${i} moved too far`);
      }
      for (let i = 0; i < n; i++) {
        const len = bounds[i + 1] - bounds[i];
        if (!(len > 0)) bad(`column ${i} empty`);
        if (i > 0 && i < n - 1 && len !== size && len !== 2 * size) bad(`column ${i} has ${len} steps`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(problems.slice(0, 5)).toEqual([]);
  });
});

describe("the extreme-preserving column rule", () => {
  it("draws whichever of min and max lies farther from the scale's midpoint", () => {
    // diverging scale, midpoint 0
    expect(extremeOf(-0.2, 0.9, 0)).toBe(0.9);
    expect(extremeOf(-0.95, 0.3, 0)).toBe(-0.95);
    expect(extremeOf(0.1, 0.4, 0)).toBe(0.4); // all positive: the max
    expect(extremeOf(-0.7, -0.1, 0)).toBe(-0.7); // all negative: the min
    expect(extremeOf(-0.5, 0.5, 0)).toBe(0.5); // a tie: the max
    // sequential gate scale [0, 1], midpoint 0.5: a gate that closes briefly (0.02) among
    // values near 0.6 shows as closed
    expect(extremeOf(0.02, 0.62, 0.5)).toBe(0.02);
    expect(extremeOf(0.45, 0.99, 0.5)).toBe(0.99);
    expect(extremeOf(3, 3, 0)).toBe(3);
  });

  it("paints poisoned (NaN/Inf) and empty ranges as NaN", () => {
    expect(extremeOf(-Infinity, Infinity, 0)).toBeNaN();
    expect(extremeOf(Infinity, -Infinity, 0)).toBeNaN();
  });
});

function pixel(out: Uint8ClampedArray, width: number, x: number, y: number): number[] {
  const o = (y * width + x) * 4;
  return [out[o], out[o + 1], out[o + 2], out[o + 3]];
}

/** RGBA a scale gives a value (NaN colour for non-finite), computed from the LUT directly. */
function rgba(scale: ColorScale, v: number): number[] {
  if (!Number.isFinite(v)) return [...NAN_RGB, 255];
  const [d0, d1] = scale.domain;
  const i = Math.min(LUT_SIZE - 1, Math.max(0, Math.round(((v - d0) / (d1 - d0)) * (LUT_SIZE - 1))));
  return [scale.lut[i * 3], scale.lut[i * 3 + 1], scale.lut[i * 3 + 2], 255];
}

describe("window rasteriser", () => {
  const diverging = makeColorScale({ kind: "diverging", domain: [-2, 2] });
  const source = (data: Float32Array, sample: number, T: number, U: number): WindowSource => ({
    data,
    sample,
    nSteps: T,
    units: U,
    pyramid: () => new Pyramid(data, sample, T, U, 2),
  });

  it("sizes the image: every step while they fit, else one column per device pixel", () => {
    expect(windowImageSize([0, 100], 8, 640, 300)).toEqual({
      width: 100,
      height: 8,
      aggregated: false,
      stepsPerColumn: 1,
      win: [0, 100],
      bucketLevel: -1,
    });
    const pyr = { nSteps: 100_000, minLevel: 4 };
    expect(windowImageSize([0, 100_000], 256, 1600, 840, pyr)).toEqual({
      width: 1600,
      height: 256,
      aggregated: true,
      stepsPerColumn: 62.5,
      win: [0, 100_000],
      bucketLevel: -1,
    });
    expect(windowImageSize([10, 20], 256, 640, 100).height).toBe(100);
    // 8 ≤ steps/column < 16 = 2^minLevel: one column per level-4 bucket, the window widened
    expect(windowImageSize([1003, 13_997], 8, 1000, 100, pyr)).toMatchObject({
      width: 813,
      win: [992, 14_000],
      bucketLevel: 4,
      stepsPerColumn: 12.994,
    });
    // fewer than 8 steps per column: columns read from the data
    expect(windowImageSize([1003, 8_997], 8, 1000, 100, pyr)).toMatchObject({ width: 1000, bucketLevel: -1 });
  });

  it("picks the finest pyramid level that fits in the memory budget", () => {
    expect(minLevelFor(100_000, 256)).toBe(4);
    expect(minLevelFor(10_000, 128)).toBe(2);
    expect(minLevelFor(40_000, 256)).toBe(3);
    expect(minLevelFor(5_000_000, 512)).toBe(4); // never coarser than 4
    expect(Array.from(bucketBounds([32, 100], 4))).toEqual([32, 48, 64, 80, 96, 100]);
    const size = windowImageSize([5, 95], 2, 10, 10, { nSteps: 100, minLevel: 4 });
    expect(Array.from(imageColumnBounds(size))).toEqual([0, 16, 32, 48, 64, 80, 96]);
    const end = windowImageSize([5, 99], 2, 10, 10, { nSteps: 100, minLevel: 4 });
    expect(Array.from(imageColumnBounds(end))).toEqual([0, 16, 32, 48, 64, 80, 96, 100]); // the short last bucket
  });

  it("draws exact cells of the window, identical to the full raster's columns", () => {
    const B = 2;
    const T = 40;
    const U = 5;
    const data = randomArray(B, T, U, 11, 4);
    const full = new Uint8ClampedArray(T * U * 4);
    rasterize(full, data, 1, T, U, diverging);
    const win: [number, number] = [13, 29];
    const size = windowImageSize(win, U, 500, 200);
    const out = new Uint8ClampedArray(size.width * size.height * 4);
    rasterizeWindow(out, source(data, 1, T, U), win, size, null, diverging);
    for (let x = 0; x < size.width; x++) {
      for (let u = 0; u < U; u++) expect(pixel(out, size.width, x, u)).toEqual(pixel(full, T, win[0] + x, u));
    }
  });

  it("aggregates columns to the extreme of their steps, computed by brute force", () => {
    const T = 3000;
    const U = 4;
    const data = randomArray(1, T, U, 21, 5);
    const win: [number, number] = [117, 2950];
    const cols = 97;
    const size = windowImageSize(win, U, cols, 100);
    expect(size.aggregated).toBe(true);
    const out = new Uint8ClampedArray(size.width * size.height * 4);
    rasterizeWindow(out, source(data, 0, T, U), win, size, null, diverging);
    const { bounds } = columnBounds(win, cols);
    for (let x = 0; x < cols; x++) {
      for (let u = 0; u < U; u++) {
        let best = 0;
        let bad = false;
        for (let t = bounds[x]; t < bounds[x + 1]; t++) {
          const v = data[t * U + u];
          if (!Number.isFinite(v)) bad = true;
          else if (t === bounds[x] || Math.abs(v) > Math.abs(best) || (Math.abs(v) === Math.abs(best) && v > best))
            best = v;
        }
        expect(pixel(out, cols, x, u)).toEqual(rgba(diverging, bad ? NaN : best));
      }
    }
  });

  it("draws whole buckets when 8–16 steps share a column, each the extreme of its steps", () => {
    const T = 5000;
    const U = 3;
    const data = randomArray(1, T, U, 77, 4);
    const win: [number, number] = [1234, 4321]; // 3087 steps in 300 columns: 10.3 per column
    const size = windowImageSize(win, U, 300, 100, { nSteps: T, minLevel: 4 });
    expect(size.bucketLevel).toBe(4);
    expect(size.win).toEqual([1232, 4336]);
    const out = new Uint8ClampedArray(size.width * size.height * 4);
    const src = { data, sample: 0, nSteps: T, units: U, pyramid: () => new Pyramid(data, 0, T, U, 4) };
    rasterizeWindow(out, src, win, size, null, diverging);
    for (let x = 0; x < size.width; x++) {
      for (let u = 0; u < U; u++) {
        const [lo, hi] = bruteMinMax(data, 0, T, U, u, 1232 + 16 * x, Math.min(T, 1232 + 16 * (x + 1)));
        expect(pixel(out, size.width, x, u)).toEqual(rgba(diverging, extremeOf(lo, hi, 0)));
      }
    }
  });

  it("never loses a one-step spike in 100,000 steps", () => {
    const T = 100_000;
    const U = 3;
    const data = new Float32Array(T * U); // all 0 (white)
    data[54_321 * U + 1] = 1.9; // one step of unit 1
    data[99_999 * U + 2] = -1.5; // the very last step of unit 2
    const win: [number, number] = [0, T];
    const size = windowImageSize(win, U, 800, 100);
    const out = new Uint8ClampedArray(size.width * size.height * 4);
    rasterizeWindow(out, source(data, 0, T, U), win, size, null, diverging);
    const { bounds } = columnBounds(win, 800);
    const col = (t: number): number => bounds.findIndex((b, i) => t >= b && t < bounds[i + 1]);
    const white = rgba(diverging, 0);
    for (let x = 0; x < 800; x++) {
      expect(pixel(out, 800, x, 0)).toEqual(white);
      expect(pixel(out, 800, x, 1)).toEqual(x === col(54_321) ? rgba(diverging, 1.9) : white);
      expect(pixel(out, 800, x, 2)).toEqual(x === 799 ? rgba(diverging, -1.5) : white);
    }
  });

  it("puts unit order[r] on row r, and folds units into pixel rows by the same rule", () => {
    const T = 6;
    const U = 6;
    const data = new Float32Array(T * U);
    for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) data[t * U + u] = (u - 2.5) / 2; // -1.25 … 1.25
    data[4 * U + 3] = NaN;
    const order = Int32Array.from([5, 0, 3, 1, 4, 2]);
    const size = windowImageSize([0, T], U, 100, 100);
    const out = new Uint8ClampedArray(size.width * size.height * 4);
    rasterizeWindow(out, source(data, 0, T, U), [0, T], size, order, diverging);
    for (let r = 0; r < U; r++) {
      expect(pixel(out, T, 0, r)).toEqual(rgba(diverging, data[order[r]]));
      expect(pixel(out, T, 4, r)).toEqual(rgba(diverging, data[4 * U + order[r]]));
    }
    // 3 pixel rows for 6 units: rows (5, 0), (3, 1), (4, 2) → the value farther from 0 wins
    const small = windowImageSize([0, T], U, 100, 3);
    expect(small.height).toBe(3);
    const out3 = new Uint8ClampedArray(small.width * small.height * 4);
    rasterizeWindow(out3, source(data, 0, T, U), [0, T], small, order, diverging);
    const unitValue = (u: number) => (u - 2.5) / 2;
    expect(pixel(out3, T, 0, 0)).toEqual(rgba(diverging, unitValue(5))); // 1.25 vs -1.25: tie → first
    expect(pixel(out3, T, 0, 1)).toEqual(rgba(diverging, unitValue(1))); // -0.75 vs 0.25
    expect(pixel(out3, T, 0, 2)).toEqual(rgba(diverging, unitValue(4))); // 0.75 vs -0.25
    expect(pixel(out3, T, 4, 1)).toEqual([...NAN_RGB, 255]); // unit 3 is NaN at t = 4
  });
});

describe("RowFolder", () => {
  it("keeps exactly foldRows' rows of every window it covers, while windows pan and zoom", () => {
    const T = 20_000;
    const U = 7;
    const rows = 3;
    const data = randomArray(1, T, U, 5, 3);
    data[12_345 * U + 2] = NaN;
    const order = Int32Array.from([3, 0, 6, 1, 5, 2, 4]);
    const full = foldRows(data, 0, T, U, order, rows, 0);
    const folder = new RowFolder(data, 0, T, U, order, rows, 0, 3 * 1500, 256);
    let rng = 17;
    const rand = (): number => {
      rng = (Math.imul(rng, 1664525) + 1013904223) >>> 0;
      return rng / 2 ** 32;
    };
    let a = 9000;
    let span = 1000;
    for (let i = 0; i < 300; i++) {
      const r = rand();
      if (r < 0.6)
        a += Math.round((rand() - 0.5) * span * 0.6); // pan
      else if (r < 0.8)
        span = Math.max(10, Math.round(span * 0.8)); // zoom in
      else if (r < 0.97)
        span = Math.min(1500, Math.round(span * 1.25)); // zoom out
      else a = Math.floor(rand() * T); // jump
      a = Math.max(0, Math.min(T - span, a));
      const b = a + span;
      expect(folder.cover(a, b)).toBe(true);
      expect(folder.from).toBeLessThanOrEqual(a);
      expect(folder.to).toBeGreaterThanOrEqual(b);
      expect(folder.base % 256).toBe(0);
      const got = folder.data.subarray((a - folder.base) * rows, (b - folder.base) * rows);
      const want = full.subarray(a * rows, b * rows);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
    expect(folder.cover(0, 4400)).toBe(false); // more than fits
  });
});
