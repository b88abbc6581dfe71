import { describe, expect, it } from "vitest";

import { rasterize } from "./math/raster";
import { valueAt, vectorAt } from "./codecs";
import {
  buildLut,
  colorScaleFor,
  colorSpec,
  formatValue,
  lutIndex,
  makeColorScale,
  maxAbsFinite,
  NAN_COLOR,
  NAN_RGB,
  parseColor,
  symmetricDomain,
  unitMaxAbs,
} from "./math/scales";

describe("colour-scale domains", () => {
  it("h and c are diverging and symmetric around 0, from max |value|", () => {
    expect(colorSpec("c", [0.5, -3, 2])).toEqual({ kind: "diverging", domain: [-3, 3] });
    expect(colorSpec("h", [0.2, -0.7, 0.4])).toEqual({ kind: "diverging", domain: [-0.7, 0.7] });
  });

  it("caps a tanh-bounded h at 1 but does not squash an unbounded activation", () => {
    expect(colorSpec("h", [1.0000001, -0.3]).domain).toEqual([-1, 1]);
    expect(colorSpec("h", [4, -2]).domain).toEqual([-4, 4]); // e.g. relu
  });

  it("sigmoid gates are sequential on [0, 1] whatever the data", () => {
    expect(colorSpec("gate:forget", [0.9, 0.95])).toEqual({ kind: "sequential", domain: [0, 1] });
    expect(colorSpec("gate:input", [0.01, 0.02]).domain).toEqual([0, 1]);
  });

  it("tanh candidate gates are diverging", () => {
    expect(colorSpec("gate:cell", [0.2, 0.4])).toEqual({ kind: "diverging", domain: [-0.4, 0.4] });
    expect(colorSpec("gate:candidate", [-1, 0.5]).kind).toBe("diverging");
    expect(colorSpec("gate:odd", [-0.5, 0.5]).kind).toBe("diverging"); // negative values seen
  });

  it("ignores NaN/Inf when computing the domain and never returns an empty one", () => {
    expect(maxAbsFinite([NaN, -Infinity, 0.25, Infinity])).toBe(0.25);
    expect(symmetricDomain([NaN, Infinity])).toEqual([-1, 1]);
    expect(symmetricDomain([0, 0])).toEqual([-1, 1]);
    expect(colorSpec("c", [NaN, 2, -Infinity]).domain).toEqual([-2, 2]);
  });

  it("a few huge units (counters) do not wash out the rest of c", () => {
    const U = 12;
    const c = Array.from({ length: 80 * U }, (_, i) => 0.8 * Math.sin(i)); // |c| ≤ 0.8
    for (let t = 0; t < 80; t++) c[t * U + 3] = 1.1 * t; // unit 3 counts up to 87
    const [lo, hi] = colorSpec("c", c, U).domain;
    expect(hi).toBeLessThanOrEqual(0.8);
    expect(hi).toBeGreaterThan(0.7);
    expect(lo).toBe(-hi);
    expect(lutIndex(87, [lo, hi])).toBe(255); // the counter takes the end colour
    expect(colorSpec("c", c).domain[1]).toBeCloseTo(86.9, 5); // without units: the true max
    // comparable units: the domain is the true maximum
    expect(colorSpec("c", [0.5, -2, 1.5, 1], 2).domain).toEqual([-2, 2]);
    // tanh-bounded h keeps its cap at 1
    expect(colorSpec("h", [0.001, 0.002, 0.001, 1], 2).domain).toEqual([-1, 1]);
    expect(Array.from(unitMaxAbs([1, -3, NaN, 2], 2))).toEqual([1, 3]);
  });

  it("maps values to LUT indices, clamped, with -1 for NaN/Inf", () => {
    const d: [number, number] = [-2, 2];
    expect(lutIndex(-2, d)).toBe(0);
    expect(lutIndex(0, d)).toBe(128); // round(0.5 · 255)
    expect(lutIndex(2, d)).toBe(255);
    expect(lutIndex(10, d)).toBe(255);
    expect(lutIndex(-10, d)).toBe(0);
    expect(lutIndex(NaN, d)).toBe(-1);
    expect(lutIndex(Infinity, d)).toBe(-1);
    expect(lutIndex(-Infinity, d)).toBe(-1);
  });

  it("diverging runs blue → white → red; NaN gets the distinct colour", () => {
    const s = makeColorScale({ kind: "diverging", domain: [-1, 1] });
    const [r0, , b0] = parseColor(s.css(-1));
    const [r1, , b1] = parseColor(s.css(1));
    const mid = parseColor(s.css(0));
    expect(b0).toBeGreaterThan(r0);
    expect(r1).toBeGreaterThan(b1);
    expect(Math.min(...mid)).toBeGreaterThan(230); // near white
    expect(s.css(NaN)).toBe(NAN_COLOR);
  });

  it("sequential ends are viridis' dark purple and yellow", () => {
    const s = makeColorScale({ kind: "sequential", domain: [0, 1] });
    expect(parseColor(s.css(0))).toEqual([68, 1, 84]);
    expect(parseColor(s.css(1))).toEqual([253, 231, 37]);
  });

  it("memoises the scale per array and quantity", () => {
    const arr = { data: Float32Array.from([0.5, -0.25]) };
    expect(colorScaleFor(arr, "h")).toBe(colorScaleFor(arr, "h"));
    expect(colorScaleFor(arr, "h").domain).toEqual([-0.5, 0.5]);
  });

  it("parses the colour formats d3-scale-chromatic returns", () => {
    expect(parseColor("#ff8000")).toEqual([255, 128, 0]);
    expect(parseColor("#f80")).toEqual([255, 136, 0]);
    expect(parseColor("rgb(1, 2, 3)")).toEqual([1, 2, 3]);
    expect(() => parseColor("hsl(0, 0%, 0%)")).toThrow();
    const lut = buildLut(() => "rgb(9, 8, 7)", 4);
    expect(Array.from(lut)).toEqual([9, 8, 7, 9, 8, 7, 9, 8, 7, 9, 8, 7]);
  });

  it("formats values for readouts", () => {
    expect(formatValue(0.12345)).toBe("0.123");
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(-Infinity)).toBe("−Inf");
    expect(formatValue(3.1e-7)).toBe("3.10e-7");
  });
});

describe("rasterize", () => {
  it("puts unit u of step t at pixel (u·T + t), NaN in magenta, opaque", () => {
    // B=2, T=3, U=2; sample 1 holds [[-1, 1], [0, NaN], [5, -5]]
    const data = Float32Array.from([9, 9, 9, 9, 9, 9, -1, 1, 0, NaN, 5, -5]);
    const scale = makeColorScale({ kind: "diverging", domain: [-1, 1] });
    const out = new Uint8ClampedArray(3 * 2 * 4);
    rasterize(out, data, 1, 3, 2, scale);
    const px = (t: number, u: number) => Array.from(out.slice((u * 3 + t) * 4, (u * 3 + t) * 4 + 4));
    const lutRgb = (i: number) => Array.from(scale.lut.slice(i * 3, i * 3 + 3));
    expect(px(0, 0)).toEqual([...lutRgb(0), 255]); // -1 → bottom of the ramp
    expect(px(0, 1)).toEqual([...lutRgb(255), 255]); // 1 → top
    expect(px(1, 1)).toEqual([...NAN_RGB, 255]);
    expect(px(2, 0)).toEqual([...lutRgb(255), 255]); // 5 clamped
    expect(px(2, 1)).toEqual([...lutRgb(0), 255]); // -5 clamped
    expect(valueAt(data, 3, 2, 1, 2, 1)).toBe(-5);
    expect(Array.from(vectorAt(data, 3, 2, 1, 0))).toEqual([-1, 1]);
  });

  it("refuses a buffer of the wrong size", () => {
    const scale = makeColorScale({ kind: "sequential", domain: [0, 1] });
    expect(() => rasterize(new Uint8ClampedArray(4), new Float32Array(4), 0, 2, 2, scale)).toThrow(/4 bytes/);
  });
});
