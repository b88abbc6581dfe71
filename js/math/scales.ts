/**
 * Colour scales of the views (pure: no DOM). The heatmap, its legend and the vector view all
 * use the same scale for a (layer, quantity), so colours mean the same thing everywhere.
 *
 * - "h", "c": diverging, symmetric around 0, domain [-m, m] with m = max |value| (finite
 *   values only, whole array so switching samples keeps colours comparable). h of a
 *   tanh layer lies in [-1, 1]; its domain is capped at 1 (float slop above 1 is ignored).
 *   When a few units dwarf the rest (an LSTM unit counting along a sequence can reach
 *   |c| ≈ 100 while the others stay near 1), m is the 75th percentile of the units' maxima
 *   instead, so the rest stays readable; the big units take the end colours.
 * - "gate:<name>": sigmoid gates live in [0, 1] → sequential (viridis), domain [0, 1].
 *   The tanh "gates" (LSTM's cell candidate g, GRU's candidate h̃) are signed, so they get the
 *   diverging scale with domain [-1, 1] (also any gate that holds negative values).
 * - NaN / ±Inf: a distinct colour (magenta), never clamped into the ramp.
 */
import { interpolateRdBu, interpolateViridis } from "d3-scale-chromatic";

export type ColorKind = "diverging" | "sequential";

export interface ColorSpec {
  kind: ColorKind;
  domain: [number, number];
}

export interface ColorScale extends ColorSpec {
  /** t ∈ [0, 1] → CSS colour. */
  interpolator: (t: number) => string;
  /** 256 × RGB lookup table along the ramp. */
  lut: Uint8ClampedArray;
  /** LUT index of a value, or -1 for NaN/±Inf. */
  index(v: number): number;
  /** CSS colour of a value (NAN_COLOR for NaN/±Inf). */
  css(v: number): string;
}

export const NAN_COLOR = "#ff00ff";
export const NAN_RGB: readonly [number, number, number] = [255, 0, 255];
export const LUT_SIZE = 256;

/** Gates whose activation is tanh (signed) rather than sigmoid. */
const TANH_GATES = new Set(["cell", "candidate"]);

/** Blue (negative) → white (0) → red (positive). */
export const divergingInterpolator = (t: number): string => interpolateRdBu(1 - t);
export const sequentialInterpolator = interpolateViridis;

/** max |v| over the finite values (0 when there are none). */
export function maxAbsFinite(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (a > m && a !== Infinity) m = a; // NaN > m is false
  }
  return m;
}

/** min over the finite values (Infinity when there are none). */
export function minFinite(values: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < m && v !== -Infinity) m = v;
  }
  return m;
}

/** Whether any value is NaN or ±Inf. */
export function hasNonFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return true;
  return false;
}

/** max |v| of each unit (the last axis, `units` wide) over the finite values. */
export function unitMaxAbs(values: ArrayLike<number>, units: number): Float64Array {
  const out = new Float64Array(units);
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    const u = i % units;
    if (a > out[u] && a !== Infinity) out[u] = a;
  }
  return out;
}

/** A unit whose max |v| exceeds this many times the 75th percentile of the units' maxima is an
 *  outlier for the colour domain. */
export const OUTLIER_RATIO = 4;

/**
 * Symmetric domain [-m, m]. m = max |v|, capped at `cap` when given. With `units` (values laid
 * out (…, units)), when a few units dwarf the rest (max > OUTLIER_RATIO × the 75th percentile
 * of the units' maxima), m is that percentile: the rest stay readable and the big units take
 * the end colours. 1 when all zero/NaN.
 */
export function symmetricDomain(values: ArrayLike<number>, cap?: number, units?: number): [number, number] {
  let m = maxAbsFinite(values);
  if (cap !== undefined && m > cap && m <= cap * 1.001) m = cap;
  else if (units !== undefined && units > 1 && (cap === undefined || m > cap)) {
    const maxima = Array.from(unitMaxAbs(values, units)).sort((x, y) => x - y);
    const p75 = maxima[Math.floor(0.75 * (maxima.length - 1))];
    if (p75 > 0 && m > OUTLIER_RATIO * p75) m = Math.max(p75, cap ?? 0);
  }
  if (!(m > 0)) m = 1;
  return [-m, m];
}

/** Which scale a quantity gets, and its domain, from the values of the whole array. */
export function colorSpec(quantity: string, values: ArrayLike<number>, units?: number): ColorSpec {
  if (quantity.startsWith("gate:")) {
    const gate = quantity.slice(5);
    if (TANH_GATES.has(gate) || minFinite(values) < -1e-6) {
      return { kind: "diverging", domain: symmetricDomain(values, 1) };
    }
    return { kind: "sequential", domain: [0, 1] };
  }
  return {
    kind: "diverging",
    domain: symmetricDomain(values, quantity === "h" ? 1 : undefined, units),
  };
}

/** Position of v along [d0, d1], clamped to [0, 1]; NaN for NaN/±Inf. */
export function normalize(v: number, domain: readonly [number, number]): number {
  if (!Number.isFinite(v)) return NaN;
  const [d0, d1] = domain;
  const t = d1 === d0 ? 0.5 : (v - d0) / (d1 - d0);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

/** LUT index of v, or -1 for NaN/±Inf. */
export function lutIndex(v: number, domain: readonly [number, number], size = LUT_SIZE): number {
  const t = normalize(v, domain);
  if (Number.isNaN(t)) return -1;
  return Math.round(t * (size - 1));
}

/** Parse "#rrggbb", "#rgb" or "rgb(r, g, b)" (what d3-scale-chromatic returns). */
export function parseColor(css: string): [number, number, number] {
  const s = css.trim();
  let m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) {
    const n = parseInt(m[1], 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  m = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(s);
  if (m) return [parseInt(m[1] + m[1], 16), parseInt(m[2] + m[2], 16), parseInt(m[3] + m[3], 16)];
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(s);
  if (m) return [Math.round(+m[1]), Math.round(+m[2]), Math.round(+m[3])];
  throw new Error(`cannot parse colour ${JSON.stringify(css)}`);
}

/** Sample an interpolator into a size × RGB table. */
export function buildLut(interpolator: (t: number) => string, size = LUT_SIZE): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(size * 3);
  for (let i = 0; i < size; i++) {
    const [r, g, b] = parseColor(interpolator(size === 1 ? 0.5 : i / (size - 1)));
    lut[i * 3] = r;
    lut[i * 3 + 1] = g;
    lut[i * 3 + 2] = b;
  }
  return lut;
}

const lutCache = new Map<ColorKind, Uint8ClampedArray>();

/** A full colour scale from a spec. */
export function makeColorScale(spec: ColorSpec): ColorScale {
  const interpolator = spec.kind === "diverging" ? divergingInterpolator : sequentialInterpolator;
  let lut = lutCache.get(spec.kind);
  if (!lut) {
    lut = buildLut(interpolator);
    lutCache.set(spec.kind, lut);
  }
  const table = lut;
  const domain: [number, number] = [spec.domain[0], spec.domain[1]];
  return {
    kind: spec.kind,
    domain,
    interpolator,
    lut: table,
    index: (v: number) => lutIndex(v, domain),
    css(v: number) {
      const i = lutIndex(v, domain);
      if (i < 0) return NAN_COLOR;
      return `rgb(${table[i * 3]}, ${table[i * 3 + 1]}, ${table[i * 3 + 2]})`;
    },
  };
}

const scaleCache = new WeakMap<object, Map<string, ColorScale>>();

/** Arrays that hold differences (edited − original): always diverging, symmetric around 0. */
const differences = new WeakSet<object>();

/** Mark an array as a difference (js/codecs.ts, for a `counterfactual.difference` payload). */
export function markDifference(array: object): void {
  differences.add(array);
}

/**
 * The colour scale of one (array, quantity), memoised on the array object so the heatmap,
 * legend and vector view share it and the domain is computed once per array.
 */
export function colorScaleFor(array: { data: Float32Array; shape?: number[] }, quantity: string): ColorScale {
  let byQ = scaleCache.get(array);
  if (!byQ) {
    byQ = new Map();
    scaleCache.set(array, byQ);
  }
  let scale = byQ.get(quantity);
  if (!scale) {
    const units = array.shape ? array.shape[array.shape.length - 1] : undefined;
    scale = differences.has(array)
      ? makeColorScale({ kind: "diverging", domain: symmetricDomain(array.data) })
      : makeColorScale(colorSpec(quantity, array.data, units));
    byQ.set(quantity, scale);
  }
  return scale;
}

/** A short, stable number format for tooltips and readouts. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "−Inf";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return v.toExponential(2);
  return v.toFixed(3);
}

/** Series colours readable on light and dark backgrounds (Tableau 10). */
export const SERIES_COLORS = [
  "#4e79a7",
  "#f28e2b",
  "#59a14f",
  "#e15759",
  "#b07aa1",
  "#76b7b2",
  "#edc948",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
] as const;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An opaque RGBA pixel as one Uint32 in the platform's byte order. */
export function rgba32(r: number, g: number, b: number): number {
  return LITTLE_ENDIAN
    ? ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0
    : ((r << 24) | (g << 16) | (b << 8) | 255) >>> 0;
}

/** A colour LUT (RGB triples) packed as one Uint32 pixel per entry (cached per LUT). */
const lut32Cache = new WeakMap<Uint8ClampedArray, Uint32Array>();
export function lut32Of(lut: Uint8ClampedArray): Uint32Array {
  let t = lut32Cache.get(lut);
  if (!t) {
    t = new Uint32Array(lut.length / 3);
    for (let i = 0; i < t.length; i++) t[i] = rgba32(lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]);
    lut32Cache.set(lut, t);
  }
  return t;
}
