// @vitest-environment jsdom
/**
 * What the views PAINT, read back from a real 2D canvas (js/canvas-testing.ts: @napi-rs/canvas
 * behind jsdom's <canvas>). The expected colours and positions are computed here from the
 * captured values with d3's colour ramps and the views' documented geometry — not with the
 * views' own LUTs or rasterisers — so a shifted colour scale, swapped gate arrays, a lost NaN
 * or a legend toggle that hides nothing each fail a test.
 */
import { interpolateRdBu, interpolateViridis } from "d3-scale-chromatic";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { countColour, installCanvas, pixel, pixels } from "./canvas-testing";
import { decodePayload, type DecodedPayload } from "./codecs";
import type { Payload } from "./model";
import { HEATMAP_MARGIN } from "./parts/heatmap/panel";
import { heatmapPlotHeight } from "./math/layout";
import { parseColor } from "./math/scales";
import { makeNormalizer } from "./explorer";
import { Store } from "./store";
import { f32Bytes, makePayload } from "./testing";
import { TRACK_MARGIN } from "./parts/track";
import { ATTENTION_MARGIN, createAttention } from "./views/attention";
import { GATE_COLORS } from "./math/gates";
import { createGateLines } from "./views/gatelines";
import { createHeatmap } from "./views/heatmap";
import { createScatter } from "./views/scatter";
import { createVector, SVG_BARS_MAX, VECTOR_HEIGHT } from "./views/vector";

const WIDTH = 1000;

let uninstall: () => void;
beforeAll(() => {
  uninstall = installCanvas();
  // jsdom does no layout: every element reports this width
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => WIDTH });
});
afterAll(() => uninstall());

const cleanups: Array<() => void> = [];
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
  document.body.replaceChildren();
  vi.useRealTimers();
});

function enc(shape: number[], f: (i: number) => number) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "float32", shape, data: new DataView(f32Bytes(Array.from({ length: n }, (_, i) => f(i))).buffer) };
}

function storeFor(
  p: DecodedPayload,
  state: Partial<{ layer: string; timestep: number; quantity: string; sample: number }> = {},
) {
  return new Store(
    {
      timestep: state.timestep ?? 0,
      sample: state.sample ?? 0,
      layer: state.layer ?? p.layers[0].name,
      quantity: state.quantity ?? "h",
      selectedUnits: [],
      epoch: 0,
      hoverUnit: null,
      window: [0, p.nSteps],
      brush: null,
      sortMode: "natural",
      playing: false,
      playSpeed: 5,
    },
    makeNormalizer(p),
  );
}

function mount(
  factory: (el: HTMLElement, s: Store, p: DecodedPayload) => (() => void) | null,
  p: DecodedPayload,
  store: Store,
) {
  const el = document.createElement("div");
  document.body.append(el);
  const stop = factory(el, store, p);
  if (!stop) throw new Error("view absent");
  cleanups.push(stop);
  vi.advanceTimersByTime(50); // the animation frame that paints
  return el;
}

const near = (got: readonly number[], want: readonly number[], tol: number): boolean =>
  want.every((w, i) => Math.abs(got[i] - w) <= tol);

/** Max channel distance between two colours. */
const dist = (a: readonly number[], b: readonly number[]): number =>
  Math.max(...[0, 1, 2].map((i) => Math.abs(a[i] - b[i])));

// ---- heatmap ----------------------------------------------------------------------------------

describe("heatmap pixels", () => {
  const T = 20;
  const U = 8;
  const NAN_T = 6;
  const payload = (): { raw: Payload; h: number[] } => {
    const raw = makePayload({ B: 2, T, units: U });
    const h: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < T; t++)
        for (let u = 0; u < U; u++) h.push(b === 0 && t === NAN_T ? NaN : 0.9 * Math.sin(0.7 * t + 1.3 * u + b));
    raw.layers[0].arrays.h = enc([2, T, U], (i) => h[i]);
    return { raw, h };
  };

  it("each cell is painted in the diverging colour of its captured value; a NaN column in the NaN colour", () => {
    const { raw, h } = payload();
    const p = decodePayload(raw);
    const el = mount(createHeatmap, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("canvas.lstmviz-heatmap-canvas")!;
    const width = WIDTH - HEATMAP_MARGIN.left - HEATMAP_MARGIN.right;
    const height = heatmapPlotHeight(U);
    expect([canvas.width, canvas.height]).toEqual([width, height]); // devicePixelRatio 1
    // the h scale: symmetric around 0, to the largest |h| (all |h| < 1, so no cap applies)
    let m = 0;
    for (const v of h) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
    let worst = 0;
    for (let t = 0; t < T; t++) {
      for (let u = 0; u < U; u++) {
        const x = ((t + 0.5) * width) / T;
        const y = ((u + 0.5) * height) / U;
        const got = pixel(canvas, x, y);
        expect(got[3]).toBe(255);
        const v = h[t * U + u];
        if (t === NAN_T) {
          expect(got.slice(0, 3)).toEqual([255, 0, 255]); // legend: "NaN" swatch
          continue;
        }
        // blue (−m) → white (0) → red (+m); the view's 256-entry table is within 2 of the ramp
        const want = parseColor(interpolateRdBu(1 - (v + m) / (2 * m)));
        worst = Math.max(worst, dist(got, want));
        if (!near(got, want, 3)) throw new Error(`cell (t ${t}, unit ${u}) = ${v}: painted ${got}, want ${want}`);
      }
    }
    expect(worst).toBeLessThanOrEqual(3);
    // the legend offers the NaN swatch because the array holds one
    expect(el.querySelector(".lstmviz-legend")?.textContent).toContain("NaN");
  });

  it("more steps than pixels: a one-step spike and a one-step NaN keep their colour in their column", () => {
    const LONG = 6000; // > 938 px columns: each column shows the extreme of ~6 steps
    const UL = 4;
    const SPIKE = [2500, 1] as const;
    const HOLE = [4000, 2] as const;
    const raw = makePayload({ B: 1, T: LONG, units: UL, tokens: null });
    raw.layers = [raw.layers[0]];
    const h = (t: number, u: number) =>
      t === SPIKE[0] && u === SPIKE[1] ? 0.95 : t === HOLE[0] && u === HOLE[1] ? NaN : 0.1 * Math.sin(t / 50 + u);
    raw.layers[0].arrays = { h: enc([1, LONG, UL], (i) => h(Math.floor(i / UL), i % UL)) };
    const p = decodePayload(raw);
    const el = mount(createHeatmap, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("canvas.lstmviz-heatmap-canvas")!;
    expect(el.querySelector(".lstmviz-legend")?.textContent).toContain("min/max per px");
    const spike = parseColor(interpolateRdBu(1 - (0.95 + 0.95) / 1.9)); // the domain's top end
    const rowY = (u: number) => ((u + 0.5) * canvas.height) / UL;
    const columnsIn = (u: number, rgb: readonly number[]) => {
      const out: number[] = [];
      for (let x = 0; x < canvas.width; x++) if (near(pixel(canvas, x, rowY(u)), rgb, 3)) out.push(x);
      return out;
    };
    const at = (t: number) => (t / LONG) * canvas.width;
    const spikeCols = columnsIn(SPIKE[1], spike);
    expect(spikeCols.length).toBeGreaterThan(0);
    for (const x of spikeCols) expect(Math.abs(x - at(SPIKE[0]))).toBeLessThanOrEqual(2);
    const holeCols = columnsIn(HOLE[1], [255, 0, 255]);
    expect(holeCols.length).toBeGreaterThan(0);
    for (const x of holeCols) expect(Math.abs(x - at(HOLE[0]))).toBeLessThanOrEqual(2);
    // nowhere else: the other rows at those columns, and every other column of those rows
    for (const u of [0, 3]) {
      expect(columnsIn(u, spike)).toEqual([]);
      expect(columnsIn(u, [255, 0, 255])).toEqual([]);
    }
  });

  it("sample 1's padded steps (length T − 5) are shaded grey over their colours", () => {
    const { raw, h } = payload();
    const p = decodePayload(raw);
    const el = mount(createHeatmap, p, storeFor(p, { sample: 1 }));
    const canvas = el.querySelector<HTMLCanvasElement>("canvas.lstmviz-heatmap-canvas")!;
    const width = canvas.width;
    const height = canvas.height;
    let m = 0;
    for (const v of h) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
    const len = p.lengths[1];
    expect(len).toBe(T - 5);
    for (const t of [len - 1, len, T - 1]) {
      const u = 3;
      const v = h[(T + t) * U + u];
      const ramp = parseColor(interpolateRdBu(1 - (v + m) / (2 * m)));
      const got = pixel(canvas, ((t + 0.5) * width) / T, ((u + 0.5) * height) / U);
      // "rgba(128, 128, 128, 0.78)" over the cell's colour
      const want = t < len ? ramp : ramp.map((c) => Math.round(0.78 * 128 + 0.22 * c));
      expect(near(got, want, 4), `t ${t}: painted ${got}, want ${want}`).toBe(true);
    }
  });
});

// ---- gate lines -------------------------------------------------------------------------------

describe("gate line pixels", () => {
  const T = 20;
  const U = 6;
  const NAN_T = 9;
  /** Well-separated sigmoid gates (low, middle, high) and one tanh gate, per cell kind. */
  const KINDS: Record<string, Record<string, (t: number, u: number) => number>> = {
    LSTM: {
      input: (t, u) => 0.12 + 0.005 * t + 0.01 * u,
      forget: (t, u) => 0.93 - 0.006 * t - 0.01 * u,
      cell: (t, u) => 0.5 * Math.sin(t / 3) + 0.02 * u,
      output: (t, u) => 0.45 + 0.004 * t + 0.01 * u,
    },
    GRU: {
      update: (t, u) => 0.85 - 0.005 * t - 0.01 * u,
      reset: (t, u) => 0.2 + 0.006 * t + 0.01 * u,
      candidate: (t, u) => -0.6 * Math.cos(t / 4) + 0.02 * u,
    },
  };
  const SIGNED = new Set(["cell", "candidate"]);
  const build = (kind: string, nanIn?: string): { p: DecodedPayload; data: Record<string, number[]> } => {
    const raw = makePayload({ B: 1, T, units: U });
    raw.layers = [raw.layers[0]];
    raw.layers[0].kind = kind;
    raw.layers[0].arrays = { h: raw.layers[0].arrays.h };
    const data: Record<string, number[]> = {};
    for (const [g, f] of Object.entries(KINDS[kind])) {
      data[g] = [];
      for (let t = 0; t < T; t++) for (let u = 0; u < U; u++) data[g].push(g === nanIn && t === NAN_T ? NaN : f(t, u));
      raw.layers[0].arrays[`gate:${g}`] = enc([1, T, U], (i) => data[g][i]);
    }
    return { p: decodePayload(raw), data };
  };
  const SIG_H = 92; // the sigmoid panel's height (tanh panel below it, 14 px gap, 46 px)
  const rgb = (g: string) => parseColor(GATE_COLORS[g]);

  /** Rows of canvas column x painted (nearly) in `colour`, fully opaque. */
  const rowsOf = (canvas: HTMLCanvasElement, x: number, colour: readonly number[]): number[] => {
    const d = pixels(canvas);
    const out: number[] = [];
    const col = Math.floor(x);
    for (let y = 0; y < canvas.height; y++) {
      const i = (y * canvas.width + col) * 4;
      if (d[i + 3] > 200 && dist([d[i], d[i + 1], d[i + 2]], colour) <= 12) out.push(y);
    }
    return out;
  };

  it.each(Object.keys(KINDS))("%s: each gate's line is drawn in its colour at the mean of its units", (kind) => {
    const { p, data } = build(kind);
    const el = mount(createGateLines, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("[data-view=gatelines] canvas")!;
    const width = WIDTH - TRACK_MARGIN.left - TRACK_MARGIN.right;
    expect(canvas.width).toBe(width);
    for (const g of Object.keys(KINDS[kind])) {
      for (const t of [0, 5, 13, T - 1]) {
        let mean = 0;
        for (let u = 0; u < U; u++) mean += data[g][t * U + u] / U;
        // sigmoid panel: [0, 1] over 92 px; tanh panel: [−1, 1] over 46 px from y = 106
        const want = SIGNED.has(g) ? SIG_H + 14 + ((1 - mean) / 2) * 46 : (1 - mean) * SIG_H;
        const rows = rowsOf(canvas, ((t + 0.5) * width) / T, rgb(g));
        expect(rows.length, `${g} at t ${t}: no pixel of its colour`).toBeGreaterThan(0);
        const mid = (rows[0] + rows[rows.length - 1]) / 2;
        expect(Math.abs(mid - want), `${g} at t ${t}: line at y ${mid}, mean ${mean} → y ${want}`).toBeLessThanOrEqual(
          1.5,
        );
      }
    }
  });

  it("a step whose units are all NaN is a gap in that gate's line, marked in the NaN colour", () => {
    const { p } = build("LSTM", "output");
    const el = mount(createGateLines, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("[data-view=gatelines] canvas")!;
    const width = canvas.width;
    const xNaN = ((NAN_T + 0.5) * width) / T;
    expect(rowsOf(canvas, xNaN, rgb("output"))).toEqual([]); // the gap
    expect(rowsOf(canvas, ((NAN_T + 2.5) * width) / T, rgb("output")).length).toBeGreaterThan(0);
    // the others go on through it
    expect(rowsOf(canvas, xNaN, rgb("input")).length).toBeGreaterThan(0);
    // NaN mark: a 4 px tick at the bottom of the sigmoid panel
    expect(pixel(canvas, xNaN, SIG_H - 2).slice(0, 3)).toEqual([255, 0, 255]);
    expect(pixel(canvas, ((NAN_T + 2.5) * width) / T, SIG_H - 2).slice(0, 3)).not.toEqual([255, 0, 255]);
  });
});

// ---- attention --------------------------------------------------------------------------------

describe("attention pixels", () => {
  const T = 20;
  const H = 2;
  const NAN_QK = [6, 10] as const; // one NaN score in head 1
  const scores = (i: number) => (i === (1 * T + NAN_QK[0]) * T + NAN_QK[1] ? NaN : ((i * 37) % 101) / 101 / 10 + 0.001);
  it("each (query, key) cell is the viridis colour of the mean over heads, 0 … the matrix max; NaN in the NaN colour", () => {
    const raw = makePayload({ B: 1, T });
    raw.attention = [
      {
        name: "self",
        kind: "MultiHeadAttention",
        query_source: "lstm",
        key_source: "lstm",
        scores: enc([1, H, T, T], scores),
      },
    ];
    const p = decodePayload(raw);
    const el = mount(createAttention, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("[data-view=attention] canvas.lstmviz-card-canvas")!;
    const side = WIDTH - ATTENTION_MARGIN.left - ATTENTION_MARGIN.right; // square: 20 × 20 steps
    expect(canvas.width).toBe(side);
    const mean = (q: number, k: number) => {
      let s = 0;
      for (let h = 0; h < H; h++) s += scores((h * T + q) * T + k);
      return s / H;
    };
    let max = 0;
    for (let q = 0; q < T; q++)
      for (let k = 0; k < T; k++) if (Number.isFinite(mean(q, k))) max = Math.max(max, mean(q, k));
    const cell = (q: number, k: number) =>
      pixel(canvas, ((k + 0.5) * canvas.width) / T, ((q + 0.5) * canvas.height) / T);
    expect(cell(NAN_QK[0], NAN_QK[1]).slice(0, 3)).toEqual([255, 0, 255]); // the NaN colour
    expect(el.querySelector(".lstmviz-legend-extras")?.textContent).toContain("NaN");
    let checked = 0;
    for (let q = 0; q < T; q += 3) {
      for (let k = 0; k < T; k += 2) {
        if (q === NAN_QK[0] && k === NAN_QK[1]) continue;
        const got = cell(q, k);
        const want = parseColor(interpolateViridis(mean(q, k) / max));
        if (!near(got, want, 3)) throw new Error(`q ${q} k ${k} = ${mean(q, k)}: painted ${got}, want ${want}`);
        checked++;
      }
    }
    expect(checked).toBe(69);
  });
});

// ---- the state vector at the cursor (canvas bars) ---------------------------------------------

describe("vector pixels", () => {
  it("with more units than SVG bars, each bar has the colour of its value and ends at it", () => {
    const T = 10;
    const U = 80;
    expect(U).toBeGreaterThan(SVG_BARS_MAX);
    const raw = makePayload({ B: 1, T, units: U, tokens: null });
    raw.layers = [raw.layers[0]];
    const h = (t: number, u: number) => 0.8 * Math.sin(0.3 * u + t);
    raw.layers[0].arrays = { h: enc([1, T, U], (i) => h(Math.floor(i / U), i % U)) };
    const p = decodePayload(raw);
    const t = 4;
    const el = mount(createVector, p, storeFor(p, { timestep: t }));
    const canvas = el.querySelector<HTMLCanvasElement>("[data-view=vector] canvas")!;
    expect(canvas.hidden).toBe(false);
    let m = 0;
    for (let tt = 0; tt < T; tt++) for (let u = 0; u < U; u++) m = Math.max(m, Math.abs(h(tt, u)));
    // the view's layout: margins 8 / 10 / 30 / 44 px, bars edge to edge across the plot
    const plotH = VECTOR_HEIGHT - 8 - 30;
    const yOf = (v: number) => 8 + plotH * (1 - (v + m) / (2 * m));
    const bw = (WIDTH - 44 - 10) / U;
    let checked = 0;
    for (let u = 0; u < U; u += 3) {
      const v = h(t, u);
      if (Math.abs(yOf(v) - yOf(0)) < 6) continue; // too short to probe inside and beyond
      const x = 44 + (u + 0.5) * bw;
      const got = pixel(canvas, x, (yOf(v) + yOf(0)) / 2);
      const want = parseColor(interpolateRdBu(1 - (v + m) / (2 * m)));
      if (!near(got, want, 3)) throw new Error(`unit ${u} = ${v}: painted ${got}, want ${want}`);
      const beyond = yOf(v) + (v > 0 ? -2 : 2);
      expect(pixel(canvas, x, beyond)[3], `unit ${u}: bar longer than its value`).toBe(0);
      const inside = yOf(v) + (v > 0 ? 2 : -2);
      expect(pixel(canvas, x, inside)[3], `unit ${u}: bar shorter than its value`).toBe(255);
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });
});

// ---- weight vs gradient: the gate legend ------------------------------------------------------

describe("scatter legend pixels", () => {
  it("switching a gate off in the legend removes every point of its colour, and only those", () => {
    const raw = makePayload();
    const U = 8;
    const D = 3;
    const gates = ["input", "forget", "cell", "output"];
    const parts = (k: number, scale: number) => ({
      kernel: enc([D, U], (i) => scale * Math.sin(i + k)),
      recurrent_kernel: enc([U, U], (i) => scale * Math.cos(i * 0.7 + k)),
      bias: enc([U], () => (k === 1 ? 1 : 0)),
    });
    raw.layers[0].weights = Object.fromEntries(gates.map((g, k) => [g, parts(k, 0.3)]));
    raw.layers[0].weight_grads = Object.fromEntries(gates.map((g, k) => [g, parts(k, 1e-3 * (k + 1))]));
    const p = decodePayload(raw);
    const el = mount(createScatter, p, storeFor(p));
    const canvas = el.querySelector<HTMLCanvasElement>("[data-view=scatter] canvas")!;
    const colourOf = (k: number) =>
      parseColor(el.querySelectorAll<HTMLElement>(".lstmviz-gate-key .lstmviz-gate-dot")[k].style.background);
    const counts = () => gates.map((_, k) => countColour(canvas, colourOf(k), 2));
    const before = counts();
    for (const n of before) expect(n).toBeGreaterThan(20);
    const key = el.querySelectorAll<HTMLElement>(".lstmviz-gate-key")[2]; // the cell gate
    key.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    vi.advanceTimersByTime(50);
    const after = counts();
    expect(after[2]).toBe(0);
    for (const k of [0, 1, 3]) expect(after[k]).toBeGreaterThan(20);
    key.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    vi.advanceTimersByTime(50);
    expect(counts()[2]).toBeGreaterThan(20);
  });
});
