/**
 * Decoding of the binary `_data` payload (arrays written by lstmviz_widget/widget/codec.py,
 * the structure by lstmviz_widget/widget/payload.py).
 *
 * Every array arrives as `{dtype, shape, data}` where `data` holds little-endian C-order bytes,
 * normally as a DataView (anywidget's form for Python bytes/memoryview), sometimes as an
 * ArrayBuffer or a Uint8Array. `decodePayload` decodes the whole payload once, at the entry
 * point; views only ever see Float32Arrays.
 */
import type { EncodedArray, HealthPayload, LayerPayload, Payload, RawBytes } from "./model";
import { markDifference } from "./math/scales";

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
  /** Width D of the layer's input (0 when unknown). */
  inputDim: number;
  /** Quantity → ‖∂L/∂q_t‖ per step, (B, T); empty without gradients. */
  gradNorms: Map<string, DecodedArray>;
  /** PCA of h: projection (B, T, k), k = 1…3, and explained-variance ratios. */
  pca: { projection: DecodedArray; k: number; explained: number[] } | null;
  /** Gate → part ("kernel" (D, U), "recurrent_kernel" (U, U), "bias") → array. */
  weights: Map<string, Map<string, DecodedArray>> | null;
  /** Gradients of `weights`, same structure; null without gradients. */
  weightGrads: Map<string, Map<string, DecodedArray>> | null;
  health: HealthPayload | null;
}

export interface DecodedAttention {
  name: string;
  kind: string;
  querySource: string | null;
  keySource: string | null;
  heads: number;
  tq: number;
  tk: number;
  /** (B, heads, Tq, Tk), C order. */
  scores: Float32Array;
}

export interface DecodedPredictions {
  mode: string;
  task: string;
  reason: string;
  sourceLayer: string | null;
  /** (B, T) */
  confidence: Float32Array;
  /** (B, T) class ids, or null */
  predicted: Float32Array | null;
  /** (B, T), 1 where the prediction is wrong; null without labels */
  mispredicted: Float32Array | null;
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
  /** Numeric input track: values (B, T, F) of the first F ≤ 8 of `features` features. */
  input: { label: string; features: number; values: DecodedArray } | null;
  /** Gradient × input per step (signed), (B, T), or null. */
  saliency: Float32Array | null;
  predictions: DecodedPredictions | null;
  attention: DecodedAttention[];
  loss: number | null;
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
    throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
  }
  const bytes = asBytes(arr.data);
  if (bytes.byteLength !== n * itemsize) {
    throw new Error(
      `${name}: ${bytes.byteLength} bytes for dtype ${dtype} and shape [${shape.join(", ")}]; ` +
        `expected ${n} × ${itemsize} = ${n * itemsize}`,
    );
  }
  const data = bytesToFloat32(bytes, dtype, n);
  // A float16 array may travel divided by a scale (gradients far below float16's range).
  const scale = arr.scale === undefined || arr.scale === null ? 1 : Number(arr.scale);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`${name}: invalid scale ${arr.scale}`);
  if (scale !== 1) {
    const out = data.buffer === (bytes.buffer as ArrayBuffer) ? new Float32Array(n) : data;
    for (let i = 0; i < n; i++) out[i] = data[i] * scale;
    return { data: out, shape };
  }
  return { data, shape };
}

function bytesToFloat32(bytes: Uint8Array, dtype: string, n: number): Float32Array {
  if (dtype === "uint8") return Float32Array.from(bytes);
  if (dtype === "float32" && LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    // Aligned (how ipywidgets delivers buffers): a view, no copy — at 100,000 steps × 256
    // units the copy doubled the page's memory.
    return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  }
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

function decodeLayer(p: LayerPayload, i: number, nSamples: number, nSteps: number, lengths: number[]): DecodedLayer {
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
  const gradNorms = new Map<string, DecodedArray>();
  for (const [key, enc] of Object.entries(p.grad_norms ?? {})) {
    gradNorms.set(key, decodeShaped(enc, `layer ${name}, grad_norms ${key}`, [nSamples, nSteps]));
  }
  let pca: DecodedLayer["pca"] = null;
  if (p.pca) {
    const projection = decodeArray(p.pca.projection, `layer ${name}, pca`);
    const [b, t, k] = projection.shape;
    if (projection.shape.length !== 3 || b !== nSamples || t !== nSteps || k < 1 || k > 3) {
      throw new Error(`layer ${name}, pca: shape [${projection.shape.join(", ")}] is not (B, T, 1…3)`);
    }
    pca = { projection, k, explained: (p.pca.explained ?? []).map(Number) };
  }
  return {
    name,
    kind: String(p.kind ?? "RNN"),
    units,
    direction,
    fidelity: p.fidelity === null || p.fidelity === undefined ? NaN : Number(p.fidelity),
    lengths: lengths.map((n) => Math.min(n, steps)),
    arrays,
    inputDim: Number.isInteger(p.input_dim) ? Number(p.input_dim) : 0,
    gradNorms,
    pca,
    weights: decodeWeights(p.weights, `layer ${name}, weights`, units),
    weightGrads: decodeWeights(p.weight_grads, `layer ${name}, weight_grads`, units),
    health: p.health && typeof p.health === "object" ? decodeHealth(p.health, units) : null,
  };
}

/** Decode an array and check its shape (−1 in `expected` matches any size). */
export function decodeShaped(enc: EncodedArray, name: string, expected: readonly number[]): DecodedArray {
  const arr = decodeArray(enc, name);
  const ok = arr.shape.length === expected.length && expected.every((d, i) => d < 0 || arr.shape[i] === d);
  if (!ok) {
    const want = expected.map((d) => (d < 0 ? "*" : String(d))).join(", ");
    throw new Error(`${name}: shape [${arr.shape.join(", ")}] is not [${want}]`);
  }
  return arr;
}

function decodeWeights(
  raw: Record<string, Record<string, EncodedArray>> | null | undefined,
  name: string,
  units: number,
): Map<string, Map<string, DecodedArray>> | null {
  if (!raw || typeof raw !== "object") return null;
  const out = new Map<string, Map<string, DecodedArray>>();
  for (const [gate, parts] of Object.entries(raw)) {
    const m = new Map<string, DecodedArray>();
    for (const [part, enc] of Object.entries(parts ?? {})) {
      const arr = decodeArray(enc, `${name} ${gate}/${part}`);
      if (arr.shape[arr.shape.length - 1] !== units) {
        throw new Error(`${name} ${gate}/${part}: last axis ${arr.shape.at(-1)} is not ${units} units`);
      }
      m.set(part, arr);
    }
    out.set(gate, m);
  }
  return out.size > 0 ? out : null;
}

function decodeHealth(raw: HealthPayload, units: number): HealthPayload {
  const groups = Array.isArray(raw.groups) ? raw.groups : [];
  return {
    findings: Array.isArray(raw.findings) ? raw.findings.map(String) : [],
    groups: groups.map((g) => ({
      label: String(g.label ?? ""),
      kind: String(g.kind ?? ""),
      units: (Array.isArray(g.units) ? g.units : [])
        .map(Number)
        .filter((u) => Number.isInteger(u) && u >= 0 && u < units),
    })),
    collapsed: Boolean(raw.collapsed),
    mean_variance: Number(raw.mean_variance),
  };
}

function decodeExtras(
  raw: Payload,
  nSamples: number,
  nSteps: number,
): Pick<DecodedPayload, "input" | "saliency" | "predictions" | "attention" | "loss"> {
  let input: DecodedPayload["input"] = null;
  if (raw.input && raw.input.values) {
    const values = decodeShaped(raw.input.values, "input", [nSamples, nSteps, -1]);
    input = { label: String(raw.input.label ?? "input"), features: Number(raw.input.features), values };
  }
  const saliency = raw.saliency ? decodeShaped(raw.saliency, "saliency", [nSamples, nSteps]).data : null;
  let predictions: DecodedPredictions | null = null;
  const p = raw.predictions;
  if (p && p.confidence) {
    const bt = [nSamples, nSteps];
    predictions = {
      mode: String(p.mode ?? ""),
      task: String(p.task ?? ""),
      reason: String(p.reason ?? ""),
      sourceLayer: p.source_layer ?? null,
      confidence: decodeShaped(p.confidence, "predictions.confidence", bt).data,
      predicted: p.predicted ? decodeShaped(p.predicted, "predictions.predicted", bt).data : null,
      mispredicted: p.mispredicted ? decodeShaped(p.mispredicted, "predictions.mispredicted", bt).data : null,
    };
  }
  const attention: DecodedAttention[] = [];
  for (const [i, a] of (Array.isArray(raw.attention) ? raw.attention : []).entries()) {
    const label = `attention ${String(a?.name ?? i)}`;
    const scores = decodeShaped(a.scores, label, [nSamples, -1, -1, -1]);
    const [, heads, tq, tk] = scores.shape;
    attention.push({
      name: String(a.name ?? `attention ${i}`),
      kind: String(a.kind ?? ""),
      querySource: a.query_source ?? null,
      keySource: a.key_source ?? null,
      heads,
      tq,
      tk,
      scores: scores.data,
    });
  }
  const loss = raw.loss === null || raw.loss === undefined ? null : Number(raw.loss);
  return { input, saliency, predictions, attention, loss };
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
  // A counterfactual difference (edited − original): diverging, symmetric colours (scales.ts).
  if (raw.counterfactual?.difference) for (const l of layers) for (const a of l.arrays.values()) markDifference(a);
  return {
    format: raw.format,
    modelName: String(raw.model_name ?? ""),
    nSamples,
    nSteps,
    lengths,
    tokens,
    layers,
    epochs: Array.isArray(raw.epochs) && raw.epochs.length > 0 ? raw.epochs.map(Number) : null,
    ...decodeExtras(raw, nSamples, nSteps),
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

/** Value of a (B, T, U) array at (sample, t, u). */
export function valueAt(data: Float32Array, nSteps: number, units: number, b: number, t: number, u: number): number {
  return data[(b * nSteps + t) * units + u];
}

/** The U values of a (B, T, U) array at (sample, t), as a view (no copy). */
export function vectorAt(data: Float32Array, nSteps: number, units: number, b: number, t: number): Float32Array {
  const start = (b * nSteps + t) * units;
  return data.subarray(start, start + units);
}
