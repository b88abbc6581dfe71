/** Test helpers (imported by *.test.ts only; never bundled): a fake anywidget model, payloads. */
import type { Payload } from "./model";
import type { SyncModel } from "./store";

/** A Backbone-like model: `set` fires change:<key> synchronously when the value changes. */
export class FakeModel implements SyncModel {
  state: Record<string, unknown>;
  handlers = new Map<string, Set<() => void>>();
  saves: Array<Record<string, unknown>> = [];
  setCalls: Array<[string, unknown]> = [];

  constructor(state: Record<string, unknown> = {}) {
    this.state = {
      timestep: 0,
      sample: 0,
      layer: "lstm",
      quantity: "h",
      selected_units: [],
      epoch: 0,
      ...state,
    };
  }
  // `any`: the explorer reads `_data` as a Payload and the synced traits as plain values.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  get = (key: string): any => this.state[key];
  set = (key: string, value: unknown): void => {
    this.setCalls.push([key, value]);
    this.assign(key, value);
  };
  save_changes = (): void => {
    const { _data, ...rest } = this.state;
    void _data;
    this.saves.push(rest);
  };
  on = (event: string, cb: () => void): void => {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)?.add(cb);
  };
  off = (event: string, cb: () => void): void => {
    this.handlers.get(event)?.delete(cb);
  };
  send = (): void => {};
  widget_manager = {};
  /** A change made in Python (arrives through the comm; not a frontend `set`). */
  fromPython(key: string, value: unknown): void {
    this.assign(key, value);
  }
  listenerCount(): number {
    let n = 0;
    for (const s of this.handlers.values()) n += s.size;
    return n;
  }
  private assign(key: string, value: unknown): void {
    const old = this.state[key];
    this.state[key] = value;
    if (old !== value) for (const h of [...(this.handlers.get(`change:${key}`) ?? [])]) h();
  }
}

/** Copy `bytes` into a larger buffer and return a DataView at a non-zero byteOffset. */
export function viewAt(bytes: Uint8Array, offset: number): DataView {
  const buf = new ArrayBuffer(offset + bytes.byteLength + 5);
  new Uint8Array(buf).fill(0xab); // garbage around the data must not leak in
  new Uint8Array(buf, offset, bytes.byteLength).set(bytes);
  return new DataView(buf, offset, bytes.byteLength);
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  const dv = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) dv.setFloat32(i * 4, values[i], true);
  return new Uint8Array(dv.buffer);
}

/** A small LSTM + GRU capture: B samples, T steps, `units` LSTM units (GRU: 4 units). */
export function makePayload(
  opts: { B?: number; T?: number; units?: number; tokens?: string[][] | null } = {},
): Payload {
  const B = opts.B ?? 2;
  const T = opts.T ?? 20;
  const U = opts.units ?? 8;
  const arr = (u: number, f: (b: number, t: number, u: number) => number) => {
    const a = new Float32Array(B * T * u);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) for (let k = 0; k < u; k++) a[(b * T + t) * u + k] = f(b, t, k);
    return { dtype: "float32", shape: [B, T, u], data: viewAt(f32Bytes(a), 4) };
  };
  const tokens =
    opts.tokens !== undefined
      ? opts.tokens
      : Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => `w${b}_${t}`));
  return {
    format: 1,
    model_name: "toy",
    n_samples: B,
    n_steps: T,
    lengths: Array.from({ length: B }, (_, b) => (b === 1 ? T - 5 : T)),
    tokens,
    layers: [
      {
        name: "lstm",
        kind: "LSTM",
        units: U,
        direction: null,
        fidelity: 3.1e-7,
        arrays: {
          h: arr(U, (b, t, u) => Math.tanh(Math.sin(t / 3 + u + b))),
          c: arr(U, (_b, t, u) => 2 * Math.cos(t / 4 - u)),
          "gate:input": arr(U, (_b, t, u) => 1 / (1 + Math.exp(-Math.sin(t + u)))),
          "gate:forget": arr(U, () => 0.9),
          "gate:cell": arr(U, (_b, t) => Math.tanh(t - 3)),
          "gate:output": arr(U, () => 0.4),
        },
      },
      {
        name: "gru",
        kind: "GRU",
        units: 4,
        direction: "backward",
        fidelity: 2e-3,
        arrays: { h: arr(4, (_b, t, u) => Math.sin(t * u)), "gate:update": arr(4, () => 0.3) },
      },
    ],
  };
}

/** Deterministic PRNG (mulberry32): numbers in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
