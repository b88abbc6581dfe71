// @vitest-environment jsdom
import { beforeAll, describe, expect, it } from "vitest";

import { decodePayload, type DecodedPayload } from "./codecs";
import { makeNormalizer } from "./explorer";
import { stepToPx } from "./math/layout";
import { envelope } from "./math/lod";
import type { Payload } from "./model";
import { clipChars, displayToken, thinnedSteps, tokenStride } from "./math/tokens";
import { columns, envelopeExtent, flagColumns, logDomain, paddedDomain, paddingPx, type XGeom } from "./math/columns";
import { fillUnder, traceEnvelope, type Ctx } from "./render/series";
import { flowInputs, flowStats, splitState } from "./math/flow";
import { stepStats } from "./math/steps";
import { Store } from "./store";
import { f32Bytes, makePayload } from "./testing";
import { createConfidence } from "./views/confidence";
import { createGateLines } from "./views/gatelines";
import { logTickLabel, pow10Label, shortTick } from "./parts/labels";
import { MAX_UNIT_LINES, shownUnits, unitsNote } from "./selection";
import { shortValue } from "./parts/readout";
import { createGradients, logValue } from "./views/gradients";
import { createInputTrack, finiteMaxAbs, SALIENCY_LABEL } from "./views/input";
import { createMemoryFlow } from "./views/memory";

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

// ---- per-step statistics ------------------------------------------------------------------------

describe("stepStats", () => {
  it("mean and mean ± sd across units match a direct computation, skipping NaN units", () => {
    const B = 2;
    const T = 7;
    const U = 5;
    const r = rng(1);
    const data = new Float32Array(B * T * U).map(() => r() * 2 - 1);
    data[(1 * T + 2) * U + 3] = NaN; // sample 1, step 2: one bad unit
    data[(1 * T + 4) * U + 0] = Infinity;
    for (let u = 0; u < U; u++) data[(1 * T + 5) * U + u] = NaN; // a whole step
    const st = stepStats(data, T, U, 1);
    for (let t = 0; t < T; t++) {
      const vals: number[] = [];
      for (let u = 0; u < U; u++) {
        const v = data[(1 * T + t) * U + u];
        if (Number.isFinite(v)) vals.push(v);
      }
      expect(st.bad[t]).toBe(vals.length < U ? 1 : 0);
      if (vals.length === 0) {
        expect(st.mean[t]).toBeNaN();
        expect(st.lo[t]).toBeNaN();
        continue;
      }
      const m = vals.reduce((a, b) => a + b, 0) / vals.length;
      const sd = Math.sqrt(vals.reduce((a, b) => a + (b - m) ** 2, 0) / vals.length);
      expect(st.mean[t]).toBeCloseTo(m, 5);
      expect(st.lo[t]).toBeCloseTo(Math.max(Math.min(...vals), m - sd), 5);
      expect(st.hi[t]).toBeCloseTo(Math.min(Math.max(...vals), m + sd), 5);
    }
    expect(st.anyBad).toBe(true);
    expect(stepStats(data, T, U, 0).anyBad).toBe(false);
  });

  it("clips the band to the values' range (two units at 0 and 1: the band is [0, 1])", () => {
    const data = new Float32Array([0, 1, 0.5, 0.5]);
    const st = stepStats(data, 2, 2, 0);
    expect([st.lo[0], st.hi[0]]).toEqual([0, 1]);
    expect([st.lo[1], st.mean[1], st.hi[1]]).toEqual([0.5, 0.5, 0.5]);
  });
});

// ---- memory flow --------------------------------------------------------------------------------

describe("memory flow", () => {
  it("LSTM: carried = f ⊙ c(t−1) and written = i ⊙ g, from c(t), i and g alone", () => {
    const n = 200;
    const r = rng(7);
    const f = Float64Array.from({ length: n }, () => sigmoid(4 * r() - 2));
    const i = Float64Array.from({ length: n }, () => sigmoid(4 * r() - 2));
    const g = Float64Array.from({ length: n }, () => Math.tanh(4 * r() - 2));
    const cPrev = Float64Array.from({ length: n }, () => 6 * r() - 3);
    const c = cPrev.map((cp, k) => f[k] * cp + i[k] * g[k]); // the recurrence, computed directly
    const carried = new Float64Array(n);
    const written = new Float64Array(n);
    splitState("LSTM", c, i, g, carried, written);
    for (let k = 0; k < n; k++) {
      expect(carried[k]).toBeCloseTo(f[k] * cPrev[k], 12);
      expect(written[k]).toBeCloseTo(i[k] * g[k], 12);
    }
  });

  it("GRU: carried = z ⊙ h(t−1) and written = (1 − z) ⊙ h̃ (Keras convention)", () => {
    const n = 200;
    const r = rng(11);
    const z = Float64Array.from({ length: n }, () => sigmoid(4 * r() - 2));
    const hh = Float64Array.from({ length: n }, () => Math.tanh(4 * r() - 2));
    const hPrev = Float64Array.from({ length: n }, () => Math.tanh(4 * r() - 2));
    const h = hPrev.map((hp, k) => z[k] * hp + (1 - z[k]) * hh[k]);
    const carried = new Float64Array(n);
    const written = new Float64Array(n);
    splitState("GRU", h, z, hh, carried, written);
    for (let k = 0; k < n; k++) {
      expect(carried[k]).toBeCloseTo(z[k] * hPrev[k], 12);
      expect(written[k]).toBeCloseTo((1 - z[k]) * hh[k], 12);
    }
  });

  it("flowStats: mean |carried| / |written| over units per step; padded steps write nothing", () => {
    const T = 6;
    const U = 3;
    const r = rng(3);
    // a real LSTM recurrence for one sample, c(−1) = 0
    const f = new Float32Array(T * U).map(() => sigmoid(2 * r() - 1));
    const i = new Float32Array(T * U).map(() => sigmoid(2 * r() - 1));
    const g = new Float32Array(T * U).map(() => Math.tanh(2 * r() - 1));
    const c = new Float32Array(T * U);
    const fc = new Float64Array(T * U);
    for (let t = 0; t < T; t++) {
      for (let u = 0; u < U; u++) {
        const k = t * U + u;
        const prev = t ? c[k - U] : 0;
        fc[k] = f[k] * prev;
        c[k] = fc[k] + i[k] * g[k];
      }
    }
    const len = 4;
    const st = flowStats({ kind: "LSTM", state: c, a: i, g }, T, U, 0, len);
    for (let t = 0; t < T; t++) {
      let sc = 0;
      let sw = 0;
      for (let u = 0; u < U; u++) {
        const k = t * U + u;
        sc += t < len ? Math.abs(fc[k]) : Math.abs(c[k]);
        sw += t < len ? Math.abs(i[k] * g[k]) : 0;
      }
      expect(st.carried[t]).toBeCloseTo(sc / U, 5);
      expect(st.written[t]).toBeCloseTo(sw / U, 5);
    }
    expect(st.carried[0]).toBeCloseTo(0, 6); // nothing to carry before the first step
    expect(st.anyBad).toBe(false);
  });

  it("flowStats flags and skips NaN units", () => {
    const c = new Float32Array([1, NaN, 2, 2]);
    const a = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    const g = new Float32Array([1, 1, 1, 1]);
    const st = flowStats({ kind: "LSTM", state: c, a, g }, 2, 2, 0);
    expect(Array.from(st.bad)).toEqual([1, 0]);
    expect(st.carried[0]).toBeCloseTo(0.5, 6); // unit 0 only: 1 − 0.5
    expect(st.written[1]).toBeCloseTo(0.5, 6);
  });

  it("flowInputs: LSTM needs c, input and cell gates; GRU h, update and candidate; else null", () => {
    const arr = { data: new Float32Array(1) };
    const lstm = new Map([
      ["h", arr],
      ["c", arr],
      ["gate:input", arr],
      ["gate:forget", arr],
      ["gate:cell", arr],
    ]);
    expect(flowInputs(lstm)?.kind).toBe("LSTM");
    const gru = new Map([
      ["h", arr],
      ["gate:update", arr],
      ["gate:reset", arr],
      ["gate:candidate", arr],
    ]);
    expect(flowInputs(gru)?.kind).toBe("GRU");
    expect(flowInputs(new Map([["h", arr]]))).toBeNull();
    expect(
      flowInputs(
        new Map([
          ["h", arr],
          ["gate:update", arr],
        ]),
      ),
    ).toBeNull();
  });
});

// ---- tokens -------------------------------------------------------------------------------------

describe("token thinning", () => {
  it("labels shown every k steps never overlap and k is the smallest that fits", () => {
    for (const step of [0.05, 1, 3.3, 7, 12, 40]) {
      for (const label of [5, 18, 55]) {
        const k = tokenStride(step, label, 6);
        expect(k * step).toBeGreaterThanOrEqual(label + 6);
        if (k > 1) expect((k - 1) * step).toBeLessThan(label + 6);
      }
    }
    expect(tokenStride(0, 10)).toBeGreaterThan(1e9);
  });

  it("shows multiples of k inside the window, the same steps after a pan", () => {
    expect(thinnedSteps([3, 20], 4)).toEqual([4, 8, 12, 16]);
    expect(thinnedSteps([0, 5], 1)).toEqual([0, 1, 2, 3, 4]);
    const a = thinnedSteps([100, 200], 7);
    const b = thinnedSteps([103, 203], 7);
    expect(a.filter((t) => t >= 103)).toEqual(b.filter((t) => t < 200));
    expect(thinnedSteps([0, 10], 0)).toEqual([]);
  });

  it("clips long tokens and makes whitespace visible", () => {
    expect(clipChars("abcdefghijkl", 5)).toBe("abcd…");
    expect(clipChars("abc", 5)).toBe("abc");
    expect(clipChars("😀😀😀😀", 3)).toBe("😀😀…"); // by characters, not UTF-16 units
    expect(displayToken(" a\tb\n")).toBe("␣a⇥b↵");
    expect(displayToken("")).toBe("");
  });
});

// ---- scales and columns -------------------------------------------------------------------------

describe("domains", () => {
  it("logDomain spans at least a decade around the positive extent", () => {
    const d = logDomain([2, 3]) as [number, number];
    expect(d[0]).toBeLessThanOrEqual(2);
    expect(d[1]).toBeGreaterThanOrEqual(3);
    expect(d[1] / d[0]).toBeCloseTo(10, 6);
    expect(logDomain([1e-8, 1e2])).toEqual([1e-8, 1e2]);
    expect(logDomain(null)).toBeNull();
    expect(logDomain([0, 1])).toBeNull();
  });

  it("envelopeExtent ignores NaN columns; positiveOnly ignores zeros and negatives", () => {
    const vals = [0, -2, NaN, 3, 0.5];
    const env = envelope((t) => vals[t], [0, 5], 5);
    expect(envelopeExtent([env])).toEqual([-2, 3]);
    expect(envelopeExtent([env], true)).toEqual([0.5, 3]);
    const allNaN = envelope(() => NaN, [0, 3], 3);
    expect(envelopeExtent([allNaN])).toBeNull();
  });

  it("paddedDomain pads a range by 5% and widens a flat series", () => {
    expect(paddedDomain([0, 10])).toEqual([-0.5, 10.5]);
    const flat = paddedDomain([2, 2]);
    expect(flat[0]).toBeCloseTo(1.9, 12);
    expect(flat[1]).toBeCloseTo(2.1, 12);
    expect(paddedDomain(null, [0, 1])).toEqual([0, 1]);
  });

  it("caps the units drawn as lines and says so", () => {
    const many = Array.from({ length: 20 }, (_, i) => i);
    expect(shownUnits(many, 12)).toHaveLength(MAX_UNIT_LINES);
    expect(shownUnits([3, 40, 5], 10)).toEqual([3, 5]);
    expect(unitsNote([3, 40, 5], 10)).toBe("thin: units 3, 5");
    expect(unitsNote([7], 10)).toBe("thin: unit 7");
    expect(unitsNote(many, 12)).toMatch(/\(first 8 of 12\)$/);
    expect(unitsNote([], 12)).toBe("");
  });

  it("saliency is normalised by the sample's max |value| over its valid steps", () => {
    const s = [0.1, -0.5, NaN, 0.3, -Infinity, 9];
    expect(finiteMaxAbs(s, 0, 5)).toBe(0.5); // the 9 is padding (outside n)
    expect(finiteMaxAbs(s, 3, 2)).toBe(0.3);
    expect(finiteMaxAbs([NaN], 0, 1)).toBe(0);
  });

  it("logValue makes zeros, negatives, NaN and Inf gaps", () => {
    expect([0, -1, NaN, Infinity, 0.25].map(logValue)).toEqual([NaN, NaN, NaN, NaN, 0.25]);
  });

  it("tick labels: powers of ten with superscripts, short linear ticks", () => {
    expect([1e-3, 0.1, 1, 10, 100, 2e-3].map(pow10Label)).toEqual(["10⁻³", "10⁻¹", "1", "10", "10²", ""]);
    expect([0, 0.5, 1, -1].map(shortTick)).toEqual(["0", "0.5", "1", "−1"]);
    const narrow: [number, number] = [0.3, 3];
    expect([0.3, 0.5, 1, 2, 3].map((v) => logTickLabel(v, narrow))).toEqual(["", "0.5", "1", "2", ""]);
    expect([2e-6, 5e-6].map((v) => logTickLabel(v, [1e-6, 2e-5]))).toEqual(["2e-6", "5e-6"]);
    expect(logTickLabel(5, [1e-3, 10])).toBe(""); // four decades: powers of ten only
  });
});

function geomOf(win: [number, number], width: number): XGeom {
  return { width, win, step: width / (win[1] - win[0]), x: (t) => stepToPx(t, win, width) };
}

describe("columns", () => {
  it("one column per step when they fit, plus a neighbour each side (clipped by the plot)", () => {
    const e = columns((t) => t, [10, 20], 500, 100);
    expect(e.n).toBe(12);
    expect(e.start[0]).toBe(9);
    expect(Array.from(e.lo)).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(columns((t) => t, [0, 5], 500, 5).start[0]).toBe(0); // no step before 0 or after T
    expect(columns((t) => t, [0, 5], 500, 5).n).toBe(5);
  });

  it("min/max per pixel column when the window has more steps than pixels, spikes kept", () => {
    const vals = new Float32Array(10000).fill(1);
    vals[5003] = 50;
    const e = columns((t) => vals[t], [0, 10000], 100, 10000);
    expect(e.n).toBe(100);
    expect(Math.max(...Array.from(e.hi))).toBe(50);
    const flags = flagColumns(e, (t) => vals[t] > 10);
    expect(Array.from(flags).reduce((a, b) => a + b, 0)).toBe(1);
    expect(flags[50]).toBe(1);
  });

  it("paddingPx covers the padded steps of the window, from the edge of the first one", () => {
    const g = geomOf([0, 10], 100);
    expect(paddingPx(7, g)).toEqual([70, 100]);
    expect(paddingPx(10, g)).toBeNull();
    expect(paddingPx(0, geomOf([5, 10], 50))).toEqual([0, 50]);
  });
});

/** A 2D context that records path commands. */
function recorder(): Ctx & { ops: Array<[string, number, number]> } {
  const ops: Array<[string, number, number]> = [];
  return {
    ops,
    beginPath: () => ops.push(["begin", 0, 0]),
    moveTo: (x: number, y: number) => ops.push(["move", x, y]),
    lineTo: (x: number, y: number) => ops.push(["line", x, y]),
    closePath: () => ops.push(["close", 0, 0]),
    stroke: () => ops.push(["stroke", 0, 0]),
    fill: () => ops.push(["fill", 0, 0]),
    fillRect: (x: number, y: number) => ops.push(["rect", x, y]),
    save: () => {},
    restore: () => {},
    setLineDash: () => {},
    strokeStyle: "",
    fillStyle: "",
    lineWidth: 1,
    globalAlpha: 1,
    lineJoin: "round",
  } as unknown as Ctx & { ops: Array<[string, number, number]> };
}

describe("drawing", () => {
  it("traceEnvelope: a gap at every NaN step, vertices at the steps' centres", () => {
    const vals = [1, 2, NaN, 4, NaN, NaN, 7, 8];
    const g = geomOf([0, 8], 80);
    const env = columns((t) => vals[t], g.win, g.width, 8);
    const ctx = recorder();
    const runs = traceEnvelope(ctx, env, g, (v) => -v, 2);
    expect(runs).toBe(3);
    expect(ctx.ops.filter((o) => o[0] === "move")).toHaveLength(3);
    const vertices = ctx.ops.filter((o) => o[0] === "line" && o[1] % 10 === 5); // step centres
    expect(vertices.map((o) => [o[1], o[2]])).toEqual([
      [5, -1],
      [15, -2],
      [35, -4],
      [65, -7],
      [75, -8],
    ]);
  });

  it("traceEnvelope draws a column's min → max as a vertical stroke", () => {
    const vals = [0, 5, 1, 3];
    const g = geomOf([0, 4], 2); // 2 px: two columns of two steps
    const env = columns((t) => vals[t], g.win, g.width, 4);
    const ctx = recorder();
    traceEnvelope(ctx, env, g, (v) => v, 0);
    const ys = ctx.ops.filter((o) => o[0] !== "begin").map((o) => o[2]);
    expect(ys).toEqual([0, 0, 5, 1, 3, 3]);
  });

  it("fillUnder closes one polygon per run of finite columns", () => {
    const vals = [1, 2, NaN, 4];
    const g = geomOf([0, 4], 40);
    const ctx = recorder();
    const runs = fillUnder(
      ctx,
      columns((t) => vals[t], g.win, g.width, 4),
      g,
      (v) => 100 - v,
    );
    expect(runs).toBe(2);
    expect(ctx.ops.filter((o) => o[0] === "fill")).toHaveLength(2);
  });
});

// ---- the views (jsdom: no canvas, so only the DOM they build) -----------------------------------

beforeAll(() => {
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
});

function f32(shape: number[], f: (i: number) => number) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "float32", shape, data: new DataView(f32Bytes(Array.from({ length: n }, (_, i) => f(i))).buffer) };
}

function setup(raw: Payload, state: Partial<{ layer: string; timestep: number; quantity: string }> = {}) {
  const payload: DecodedPayload = decodePayload(raw);
  const store = new Store(
    {
      timestep: state.timestep ?? 0,
      sample: 0,
      layer: state.layer ?? payload.layers[0].name,
      quantity: state.quantity ?? "h",
      selectedUnits: [],
      epoch: 0,
      hoverUnit: null,
      window: [0, payload.nSteps],
      brush: null,
      sortMode: "natural",
      playing: false,
      playSpeed: 5,
    },
    makeNormalizer(payload),
  );
  const el = document.createElement("div");
  document.body.append(el);
  return { payload, store, el };
}

/** makePayload plus a SimpleRNN layer, gradients on the LSTM, predictions and saliency. */
function fullPayload(): Payload {
  const raw = makePayload({ B: 2, T: 20, units: 4 });
  const B = 2;
  const T = 20;
  raw.layers.push({
    name: "rnn",
    kind: "SimpleRNN",
    units: 3,
    direction: null,
    fidelity: 0,
    arrays: { h: f32([B, T, 3], (i) => Math.sin(i)) },
  });
  raw.layers[0].grad_norms = {
    h: f32([B, T], (i) => 1 + i),
    c: f32([B, T], (i) => (i === 3 ? NaN : 0.5)),
    "gate:forget": f32([B, T], () => 0),
  };
  raw.saliency = f32([B, T], (i) => i % 5);
  raw.predictions = {
    mode: "prefix",
    task: "classification",
    reason: "head re-applied",
    source_layer: "lstm",
    confidence: f32([B, T], () => 0.7),
    predicted: { dtype: "int32", shape: [B, T], data: new DataView(new Int32Array(B * T).map((_, i) => i % 3).buffer) },
    mispredicted: {
      dtype: "uint8",
      shape: [B, T],
      data: new DataView(new Uint8Array(B * T).map((_, i) => (i === 4 ? 1 : 0)).buffer),
    },
  };
  return raw;
}

describe("views", () => {
  it("are absent when the payload has no data for them", () => {
    const raw = makePayload({ tokens: null });
    raw.layers = [raw.layers[1]]; // GRU with only an update gate: no memory flow
    raw.layers[0].arrays = { h: raw.layers[0].arrays.h };
    const { payload, store, el } = setup(raw);
    for (const make of [createInputTrack, createGateLines, createMemoryFlow, createGradients, createConfidence]) {
      expect(make(el, store, payload)).toBeNull();
    }
    expect(el.childElementCount).toBe(0);
  });

  it("gate lines and memory flow hide for a layer without gates and come back", () => {
    const { payload, store, el } = setup(fullPayload());
    const stops = [createGateLines(el, store, payload), createMemoryFlow(el, store, payload)];
    const gl = el.querySelector<HTMLElement>('[data-view="gatelines"]');
    const mem = el.querySelector<HTMLElement>('[data-view="memory"]');
    expect(gl?.classList.contains("lstmviz-view")).toBe(true);
    expect([gl?.hidden, mem?.hidden]).toEqual([false, false]);
    store.set({ layer: "rnn" });
    expect([gl?.hidden, mem?.hidden]).toEqual([true, true]);
    store.set({ layer: "gru" }); // an update gate but no candidate: gates yes, memory no
    expect([gl?.hidden, mem?.hidden]).toEqual([false, true]);
    store.set({ layer: "lstm" });
    expect([gl?.hidden, mem?.hidden]).toEqual([false, false]);
    stops.forEach((s) => s?.());
    expect(el.childElementCount).toBe(0);
  });

  it("memory flow: the readout at the cursor is mean |c − i⊙g| and mean |i⊙g| over units", () => {
    const { payload, store, el } = setup(makePayload({ B: 2, T: 20, units: 6 }));
    const stop = createMemoryFlow(el, store, payload);
    const readout = el.querySelector(".lstmviz-track-readout");
    for (const t of [0, 5, 13]) {
      store.set({ timestep: t });
      // the arrays of makePayload, recomputed here
      let sc = 0;
      let sw = 0;
      for (let u = 0; u < 6; u++) {
        const c = 2 * Math.cos(t / 4 - u);
        const w = (1 / (1 + Math.exp(-Math.sin(t + u)))) * Math.tanh(t - 3);
        sc += Math.abs(c - w);
        sw += Math.abs(w);
      }
      expect(readout?.textContent).toBe(`carried${shortValue(sc / 6)}written${shortValue(sw / 6)}`);
    }
    stop?.();
  });

  it("gradients: a legend entry per norm that toggles its line; hidden for layers without", () => {
    const { payload, store, el } = setup(fullPayload());
    const stop = createGradients(el, store, payload);
    const root = el.querySelector<HTMLElement>('[data-view="gradients"]');
    expect(root?.hidden).toBe(false);
    const buttons = [...el.querySelectorAll<HTMLButtonElement>("button.lstmviz-key-toggle")];
    expect(buttons.map((b) => b.textContent)).toEqual(["∂L/∂h", "∂L/∂c", "forget"]);
    expect(buttons[2].getAttribute("aria-pressed")).toBe("true");
    buttons[2].click();
    expect(buttons[2].getAttribute("aria-pressed")).toBe("false");
    buttons[2].click();
    expect(buttons[2].getAttribute("aria-pressed")).toBe("true");
    store.set({ layer: "gru" });
    expect(root?.hidden).toBe(true);
    stop?.();
  });

  it("confidence: mode in the title, the predicted class at the cursor as text", () => {
    const { payload, store, el } = setup(fullPayload());
    const stop = createConfidence(el, store, payload);
    const root = el.querySelector<HTMLElement>('[data-view="confidence"]');
    expect(root?.querySelector(".lstmviz-caption")?.textContent).toMatch(/prefix readout · classification/);
    const cls = root?.querySelector(".lstmviz-key-class");
    expect(cls?.textContent).toBe("class 0");
    store.set({ timestep: 4 });
    expect(cls?.textContent).toBe("class 1 ✗"); // mispredicted at step 4
    expect(cls?.classList.contains("wrong")).toBe(true);
    store.set({ timestep: 5 });
    expect(cls?.textContent).toBe("class 2");
    store.set({ sample: 1, timestep: 17 }); // sample 1 has 15 valid steps
    expect(cls?.textContent).toBe("class 1 (pad)"); // (1·20 + 17) mod 3
    stop?.();
  });

  it("input: tokens as text only, the cursor's token highlighted and following the cursor", () => {
    const evil = "<img src=x onerror=alert(1)>";
    const raw = fullPayload();
    raw.tokens = [Array.from({ length: 20 }, (_, t) => (t === 3 ? evil : `w${t}`)), Array(20).fill("x")];
    // jsdom lays nothing out: give every element a width so the track has a plot area
    const desc = Object.getOwnPropertyDescriptor(HTMLElement.prototype, "clientWidth");
    Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 800 });
    try {
      const { payload, store, el } = setup(raw);
      const stop = createInputTrack(el, store, payload);
      const root = el.querySelector<HTMLElement>('[data-view="input"]');
      expect(root).not.toBeNull();
      expect(root?.querySelector(".lstmviz-caption")?.textContent).toBe("input tokens · shaded by saliency");
      expect(root?.querySelector(".lstmviz-key-note")?.textContent).toBe(SALIENCY_LABEL);
      const label = root?.querySelector(".lstmviz-input-cursor");
      const text = label?.querySelector("text");
      expect(text?.textContent).toBe("w0");
      expect(label?.getAttribute("visibility")).toBe("visible");
      store.set({ timestep: 3 });
      expect(text?.textContent).toBe("<img␣src=x␣onerror=aler…"); // as text, clipped to 24 characters
      expect(el.querySelector("img")).toBeNull();
      const x3 = Number(label?.querySelector("rect")?.getAttribute("x"));
      store.set({ timestep: 12 });
      expect(text?.textContent).toBe("w12");
      expect(Number(label?.querySelector("rect")?.getAttribute("x"))).toBeGreaterThan(x3);
      store.set({ window: [15, 20] }); // the cursor's step left the window
      expect(label?.getAttribute("visibility")).toBe("hidden");
      stop?.();
    } finally {
      if (desc) Object.defineProperty(HTMLElement.prototype, "clientWidth", desc);
    }
  });

  it("input: numeric features get a legend x0 … and the count of features", () => {
    const raw = makePayload({ tokens: null });
    raw.input = { label: "input to lstm", features: 12, values: f32([2, 20, 8], (i) => i % 7) };
    const { payload, store, el } = setup(raw);
    const stop = createInputTrack(el, store, payload);
    const labels = [...el.querySelectorAll(".lstmviz-key-grid .lstmviz-key-label")].map((n) => n.textContent);
    expect(labels).toEqual(["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"]);
    expect(el.querySelector(".lstmviz-key-note")?.textContent).toBe("(8 of 12 features)");
    stop?.();
    expect(el.childElementCount).toBe(0);
  });
});
