/**
 * The memory-flow split of a state into what was carried from the previous step and what was
 * written at this one (views/memory.ts).
 */

// ---- memory flow ------------------------------------------------------------------------------

/**
 * Split a recurrent state into what was carried from the previous step and what was written
 * at this step, element by element:
 *
 * - LSTM (`a` = input gate i, `g` = cell candidate g, `state` = c_t):
 *   written = i ⊙ g, carried = c_t − written (= f ⊙ c_{t−1}: no initial state needed).
 * - GRU (`a` = update gate z, `g` = candidate h̃, `state` = h_t, Keras convention
 *   h_t = z ⊙ h_{t−1} + (1 − z) ⊙ h̃): written = (1 − z) ⊙ h̃, carried = h_t − written.
 *
 * Writes into `carried` / `written` (same length as the inputs).
 */
export function splitState(
  kind: "LSTM" | "GRU",
  state: ArrayLike<number>,
  a: ArrayLike<number>,
  g: ArrayLike<number>,
  carried: Float32Array | Float64Array,
  written: Float32Array | Float64Array,
): void {
  for (let i = 0; i < state.length; i++) {
    const w = kind === "LSTM" ? a[i] * g[i] : (1 - a[i]) * g[i];
    written[i] = w;
    carried[i] = state[i] - w;
  }
}

/** The arrays of a layer that the memory flow needs, or null (SimpleRNN, missing gates). */
export interface FlowInputs {
  kind: "LSTM" | "GRU";
  /** c (LSTM) or h (GRU), (B, T, U). */
  state: Float32Array;
  /** input gate (LSTM) or update gate (GRU). */
  a: Float32Array;
  /** cell candidate g (LSTM) or h̃ (GRU). */
  g: Float32Array;
}

export function flowInputs(arrays: ReadonlyMap<string, { data: Float32Array }>): FlowInputs | null {
  const c = arrays.get("c");
  const i = arrays.get("gate:input");
  const g = arrays.get("gate:cell");
  if (c && i && g) return { kind: "LSTM", state: c.data, a: i.data, g: g.data };
  const h = arrays.get("h");
  const z = arrays.get("gate:update");
  const hh = arrays.get("gate:candidate");
  if (h && z && hh) return { kind: "GRU", state: h.data, a: z.data, g: hh.data };
  return null;
}

/** written at one element (see `splitState`). */
export function writtenAt(f: FlowInputs, i: number): number {
  return f.kind === "LSTM" ? f.a[i] * f.g[i] : (1 - f.a[i]) * f.g[i];
}

/** Per-step mean |carried| and mean |written| over the finite units of sample b. */
export interface FlowStats {
  carried: Float32Array;
  written: Float32Array;
  bad: Uint8Array;
  anyBad: boolean;
}

/**
 * Mean over units of |carried| and |written| at each step of sample `b`. At padded steps
 * (t ≥ `length`) the layer holds its state: nothing is written, the whole state is carried.
 * Python: lstmviz_widget.analysis.memory_flow(layer).step_means() (js/ordering-shared.test.ts).
 */
export function flowStats(f: FlowInputs, T: number, U: number, b: number, length = T): FlowStats {
  const carried = new Float32Array(T);
  const written = new Float32Array(T);
  const bad = new Uint8Array(T);
  const S = f.state;
  const A = f.a;
  const G = f.g;
  const lstm = f.kind === "LSTM";
  let anyBad = false;
  for (let t = 0; t < T; t++) {
    const base = (b * T + t) * U;
    const pad = t >= length;
    let n = 0;
    let sc = 0;
    let sw = 0;
    for (let i = base; i < base + U; i++) {
      const w = pad ? 0 : lstm ? A[i] * G[i] : (1 - A[i]) * G[i];
      const c = S[i] - w;
      if (c - c !== 0 || w - w !== 0) continue;
      n++;
      sc += c < 0 ? -c : c;
      sw += w < 0 ? -w : w;
    }
    if (n < U) {
      bad[t] = 1;
      anyBad = true;
    }
    carried[t] = n ? sc / n : NaN;
    written[t] = n ? sw / n : NaN;
  }
  return { carried, written, bad, anyBad };
}

const flowCache = new WeakMap<object, Map<string, FlowStats>>();

export function cachedFlowStats(f: FlowInputs, T: number, U: number, b: number, length: number): FlowStats {
  let byKey = flowCache.get(f.state);
  if (!byKey) {
    byKey = new Map();
    flowCache.set(f.state, byKey);
  }
  const key = `${b}:${length}`;
  let s = byKey.get(key);
  if (!s) {
    s = flowStats(f, T, U, b, length);
    byKey.set(key, s);
  }
  return s;
}
