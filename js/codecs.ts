/**
 * Decoding of the binary `_data` payload (written by lstmviz_widget/widget/_serialization.py).
 *
 * Every array arrives as `{dtype, shape, data}` where `data` holds little-endian C-order bytes,
 * normally as a DataView (anywidget's form for Python bytes/memoryview), sometimes as an
 * ArrayBuffer or a Uint8Array. `decodePayload` decodes the whole payload once, at the entry
 * point; views only ever see Float32Arrays.
 */
import type { EncodedArray, LayerPayload, Payload, RawBytes } from "./model";

/** A decoded array: values as float32, C order. */
export interface DecodedArray {
  data: Float32Array;
  shape: number[];
}

export interface DecodedLayer {
  name: string;
  kind: string;
  units: number;
  direction: "forward" | "backward" | null;
  fidelity: number;
  /** Valid steps per sample for this layer: the sample's length, capped by the layer's own
   *  time axis (an encoder and a decoder fed by inputs of different lengths). */
  lengths: number[];
  /** Quantity name → (B, T, U) array, in the payload's order ("h", "c", "gate:…"). */
  arrays: Map<string, DecodedArray>;
}

export interface DecodedPayload {
  format: number;
  modelName: string;
  nSamples: number;
  nSteps: number;
  lengths: number[];
  tokens: string[][] | null;
  layers: DecodedLayer[];
  /** Epochs of the training snapshots (`_data.epochs`), or null for a single capture. */
  epochs: number[] | null;
}

const ITEMSIZE: Record<string, number> = { float32: 4, float16: 2, int32: 4, uint8: 1 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of `data` as a Uint8Array view (no copy). */
export function asBytes(data: RawBytes): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  // Cross-realm objects (e.g. an ArrayBuffer from an iframe) fail instanceof; duck-type them.
  const d = data as unknown as { buffer?: ArrayBuffer; byteOffset?: number; byteLength?: number };
  if (d && typeof d.byteLength === "number") {
    if (d.buffer !== undefined) {
      return new Uint8Array(d.buffer, d.byteOffset ?? 0, d.byteLength);
    }
    return new Uint8Array(data as ArrayBuffer);
  }
  throw new Error(`array data must be a DataView, ArrayBuffer or Uint8Array, got ${typeName(data)}`);
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a JSON list (arrays must travel as binary buffers)";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/** Decode an IEEE 754 half-precision bit pattern. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Product of a shape (1 for a scalar); validates that dims are non-negative integers. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(", ")}]`);
    n *= d;
  }
  return n;
}

/** Decode one `{dtype, shape, data}` into a Float32Array (float16/int32/uint8 are converted). */
export function decodeArray(arr: EncodedArray, name = "array"): DecodedArray {
  if (!arr || typeof arr !== "object") throw new Error(`${name}: expected {dtype, shape, data}`);
  const { dtype } = arr;
  const itemsize = ITEMSIZE[dtype];
  if (itemsize === undefined) {
    throw new Error(`${name}: unsupported dtype ${JSON.stringify(dtype)} (float32, float16, int32, uint8)`);
  }
  if (!Array.isArray(arr.shape)) throw new Error(`${name}: shape must be a list of ints`);
  const shape = arr.shape.map(Number);
  let n: number;
  try {
    n = shapeSize(shape);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
  const bytes = asBytes(arr.data);
  if (bytes.byteLength !== n * itemsize) {
    throw new Error(
      `${name}: ${bytes.byteLength} bytes for dtype ${dtype} and shape [${shape.join(", ")}]; ` +
        `expected ${n} × ${itemsize} = ${n * itemsize}`,
    );
  }
  return { data: bytesToFloat32(bytes, dtype, n), shape };
}

function bytesToFloat32(bytes: Uint8Array, dtype: string, n: number): Float32Array {
  if (dtype === "uint8") return Float32Array.from(bytes);
  if (dtype === "float32" && LITTLE_ENDIAN) {
    // Copy into a fresh, aligned buffer (the source may sit at any byteOffset).
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === "float32") {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  } else if (dtype === "float16") {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
  } else {
    for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
  }
  return out;
}

function decodeLayer(
  p: LayerPayload,
  i: number,
  nSamples: number,
  nSteps: number,
  lengths: number[],
): DecodedLayer {
  if (!p || typeof p !== "object") throw new Error(`layers[${i}] is not an object`);
  const name = String(p.name ?? `layer ${i}`);
  if (!p.arrays || typeof p.arrays !== "object") throw new Error(`layer ${name}: no arrays`);
  if (!("h" in p.arrays)) throw new Error(`layer ${name}: missing the hidden state "h"`);
  const arrays = new Map<string, DecodedArray>();
  let units = -1;
  for (const [key, enc] of Object.entries(p.arrays)) {
    const arr = decodeArray(enc, `layer ${name}, ${key}`);
    const [b, t, u] = arr.shape;
    if (arr.shape.length !== 3 || b !== nSamples || t !== nSteps) {
      throw new Error(
        `layer ${name}, ${key}: shape [${arr.shape.join(", ")}] is not ` +
          `(n_samples=${nSamples}, n_steps=${nSteps}, units)`,
      );
    }
    if (units >= 0 && u !== units) {
      throw new Error(`layer ${name}, ${key}: ${u} units, but other arrays have ${units}`);
    }
    units = u;
    arrays.set(key, arr);
  }
  if (units <= 0) throw new Error(`layer ${name}: no units`);
  const rawSteps = p.steps === undefined || p.steps === null ? nSteps : Number(p.steps);
  if (!Number.isInteger(rawSteps) || rawSteps < 1 || rawSteps > nSteps) {
    throw new Error(`layer ${name}: steps must be in [1, ${nSteps}], got ${p.steps}`);
  }
  const steps = rawSteps;
  const direction = p.direction === "forward" || p.direction === "backward" ? p.direction : null;
  return {
    name,
    kind: String(p.kind ?? "RNN"),
    units,
    direction,
    fidelity: p.fidelity === null || p.fidelity === undefined ? NaN : Number(p.fidelity),
    lengths: lengths.map((n) => Math.min(n, steps)),
    arrays,
  };
}

/** Decode and validate the whole `_data` payload. Throws an Error with a readable message. */
export function decodePayload(raw: Payload | null | undefined): DecodedPayload {
  if (!raw || typeof raw !== "object" || Object.keys(raw).length === 0) {
    throw new Error("the widget received no data (_data is empty)");
  }
  if (raw.format !== 1) {
    throw new Error(`unsupported payload format ${JSON.stringify(raw.format)} (this frontend reads format 1)`);
  }
  const nSamples = Number(raw.n_samples);
  const nSteps = Number(raw.n_steps);
  if (!Number.isInteger(nSamples) || nSamples < 1) throw new Error(`n_samples must be ≥ 1, got ${raw.n_samples}`);
  if (!Number.isInteger(nSteps) || nSteps < 1) throw new Error(`n_steps must be ≥ 1, got ${raw.n_steps}`);
  if (!Array.isArray(raw.layers) || raw.layers.length === 0) throw new Error("the payload has no layers");
  const lengths: number[] = [];
  for (let b = 0; b < nSamples; b++) {
    const v = Array.isArray(raw.lengths) ? Number(raw.lengths[b]) : nSteps;
    lengths.push(Number.isFinite(v) ? Math.max(0, Math.min(nSteps, Math.round(v))) : nSteps);
  }
  let tokens: string[][] | null = null;
  if (Array.isArray(raw.tokens)) {
    tokens = [];
    for (let b = 0; b < nSamples; b++) {
      const row = raw.tokens[b];
      const out: string[] = [];
      for (let t = 0; t < nSteps; t++) {
        const tok = Array.isArray(row) ? row[t] : undefined;
        out.push(tok === undefined || tok === null ? "" : String(tok));
      }
      tokens.push(out);
    }
  }
  const layers = raw.layers.map((l, i) => decodeLayer(l, i, nSamples, nSteps, lengths));
  return {
    format: raw.format,
    modelName: String(raw.model_name ?? ""),
    nSamples,
    nSteps,
    lengths,
    tokens,
    layers,
    epochs: Array.isArray(raw.epochs) && raw.epochs.length > 0 ? raw.epochs.map(Number) : null,
  };
}

/** The layer named `name`, or the first one. */
export function findLayer(payload: DecodedPayload, name: string): DecodedLayer {
  return payload.layers.find((l) => l.name === name) ?? payload.layers[0];
}

/** The quantities a layer offers, in payload order ("h" first). */
export function quantitiesOf(layer: DecodedLayer): string[] {
  const keys = [...layer.arrays.keys()];
  return ["h", ...keys.filter((k) => k !== "h")];
}
