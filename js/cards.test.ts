// @vitest-environment jsdom
/**
 * The attention and trajectory cards: their pure helpers (js/attention-grid.ts,
 * js/trajectory.ts) against independent computations, and the views in jsdom (no canvas).
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";

import {
  axisLink,
  cursorRow,
  finiteMax,
  headMatrix,
  poolMax,
  rasterizeMatrix,
  rowScales,
  shortLabel,
  sourceLayer,
  validLength,
} from "./math/attention-grid";
import { isDarkColor } from "./parts/card";
import { decodePayload, type DecodedLayer, type DecodedPayload } from "./codecs";
import { makeNormalizer } from "./explorer";
import type { Payload } from "./model";
import { makeColorScale, NAN_RGB, parseColor } from "./math/scales";
import { Store } from "./store";
import { f32Bytes, makePayload, viewAt, rng } from "./testing";
import {
  affineOf,
  decimatePath,
  extentOf,
  formatRatio,
  nearestPoint,
  pathPixels,
  type Projection,
} from "./math/trajectory";
import { ATTENTION_MARGIN, createAttention } from "./views/attention";
import { createTrajectory } from "./views/trajectory";

function layerStub(name: string, lengths: number[]): DecodedLayer {
  return { name, lengths } as unknown as DecodedLayer;
}

// ------------------------------------------------------------------------------------------
describe("attention helpers", () => {
  const B = 2;
  const H = 3;
  const Tq = 4;
  const Tk = 5;
  const r = rng(1);
  const scores = Float32Array.from({ length: B * H * Tq * Tk }, () => r());
  const att = { scores, heads: H, tq: Tq, tk: Tk };
  const at = (b: number, h: number, q: number, k: number): number => scores[((b * H + h) * Tq + q) * Tk + k];

  it("picks one head of one sample, as a view of the scores", () => {
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const m = headMatrix(att, b, h);
        expect(m.length).toBe(Tq * Tk);
        expect(m.buffer).toBe(scores.buffer);
        for (let q = 0; q < Tq; q++) for (let k = 0; k < Tk; k++) expect(m[q * Tk + k]).toBe(at(b, h, q, k));
      }
    }
  });

  it("the mean of heads equals a direct loop over heads", () => {
    for (let b = 0; b < B; b++) {
      const m = headMatrix(att, b, "mean");
      for (let q = 0; q < Tq; q++) {
        for (let k = 0; k < Tk; k++) {
          let sum = 0;
          for (let h = 0; h < H; h++) sum += at(b, h, q, k);
          expect(m[q * Tk + k]).toBeCloseTo(sum / H, 6);
        }
      }
    }
  });

  it("the mean of heads of rows that sum to 1 sums to 1", () => {
    const s = new Float32Array(H * Tq * Tk);
    for (let h = 0; h < H; h++) {
      for (let q = 0; q < Tq; q++) {
        let tot = 0;
        for (let k = 0; k < Tk; k++) tot += s[(h * Tq + q) * Tk + k] = r() + 0.01;
        for (let k = 0; k < Tk; k++) s[(h * Tq + q) * Tk + k] /= tot;
      }
    }
    const m = headMatrix({ scores: s, heads: H, tq: Tq, tk: Tk }, 0, "mean");
    for (let q = 0; q < Tq; q++) {
      let tot = 0;
      for (let k = 0; k < Tk; k++) tot += m[q * Tk + k];
      expect(tot).toBeCloseTo(1, 5);
    }
  });

  it("max-pooling equals the max over each bin's cells (bins found by scanning)", () => {
    const rows = 37;
    const cols = 53;
    const m = Float32Array.from({ length: rows * cols }, () => r());
    for (const [R, C] of [
      [37, 53],
      [10, 7],
      [1, 1],
      [5, 53],
      [36, 2],
    ]) {
      const out = poolMax(m, rows, cols, R, C);
      expect(out.length).toBe(R * C);
      // bin of cell i along an axis of n cells in N bins: the last bin whose start ≤ i
      const binOf = (i: number, n: number, N: number): number => {
        let bin = 0;
        for (let j = 0; j < N; j++) if (Math.floor((j * n) / N) <= i) bin = j;
        return bin;
      };
      const want = new Float32Array(R * C).fill(-Infinity);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const p = binOf(i, rows, R) * C + binOf(j, cols, C);
          want[p] = Math.max(want[p], m[i * cols + j]);
        }
      }
      expect(Array.from(out)).toEqual(Array.from(want));
    }
  });

  it("a one-cell spike survives pooling; a NaN makes its bin NaN", () => {
    const rows = 2000;
    const cols = 2000;
    const m = new Float32Array(rows * cols);
    m[1234 * cols + 777] = 0.9;
    m[10 * cols + 1999] = NaN;
    const out = poolMax(m, rows, cols, 200, 300);
    expect(finiteMax(out)).toBeCloseTo(0.9, 6);
    const i = Math.floor((1234 * 200) / rows);
    const j = Math.floor((777 * 300) / cols);
    expect(out[i * 300 + j]).toBeCloseTo(0.9, 6);
    expect(Number.isNaN(out[1 * 300 + 299])).toBe(true);
    let nans = 0;
    for (const v of out) if (Number.isNaN(v)) nans++;
    expect(nans).toBe(1);
  });

  it("rasterises every cell in the scale's colour, NaN in magenta", () => {
    const scale = makeColorScale({ kind: "sequential", domain: [0, 0.5] });
    const m = Float32Array.from([0, 0.1, 0.25, 0.5, 0.7, NaN]);
    const out = new Uint8ClampedArray(6 * 4);
    rasterizeMatrix(out, m, 2, 3, scale);
    for (let i = 0; i < 5; i++) {
      expect([out[i * 4], out[i * 4 + 1], out[i * 4 + 2], out[i * 4 + 3]]).toEqual([
        ...parseColor(scale.css(m[i])),
        255,
      ]);
    }
    expect([out[20], out[21], out[22]]).toEqual([...NAN_RGB]);
    expect(() => rasterizeMatrix(new Uint8ClampedArray(4), m, 2, 3, scale)).toThrow();
  });

  it("row scales: pooling with them equals pooling rows divided by their own max", () => {
    const m = Float32Array.from([0.1, 0.4, 0.2, 0, 0, 0, 0.5, NaN, 0.25]);
    expect(Array.from(rowScales(m, 3, 3))).toEqual([2.5, 1, 2].map((v) => Math.fround(v)));
    const r2 = rng(5);
    const rows = 30;
    const cols = 41;
    const big = Float32Array.from({ length: rows * cols }, () => r2() * 0.1);
    big[3 * cols + 5] = NaN;
    // independent: divide each row by Math.max of its finite values, then pool
    const divided = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const finite = Array.from(big.slice(i * cols, (i + 1) * cols)).filter(Number.isFinite);
      const mx = Math.max(...finite);
      for (let j = 0; j < cols; j++) divided[i * cols + j] = big[i * cols + j] / mx;
    }
    const scales = rowScales(big, rows, cols);
    for (const [R, C] of [
      [rows, cols],
      [7, 9],
    ]) {
      const got = poolMax(big, rows, cols, R, C, scales);
      const want = poolMax(divided, rows, cols, R, C);
      for (let i = 0; i < got.length; i++) {
        if (Number.isNaN(want[i])) expect(Number.isNaN(got[i])).toBe(true);
        else expect(got[i]).toBeCloseTo(want[i], 5);
      }
    }
  });

  it("largest finite value", () => {
    expect(finiteMax([0.1, NaN, Infinity, 0.4, -3])).toBe(0.4);
    expect(finiteMax([NaN])).toBe(0);
  });

  it("the cursor's row is the timestep when it is a query row", () => {
    expect(cursorRow(9, 0)).toBe(0);
    expect(cursorRow(9, 8)).toBe(8);
    expect(cursorRow(9, 9)).toBeNull();
    expect(cursorRow(9, 11)).toBeNull();
    expect(cursorRow(9, -1)).toBeNull();
  });

  it("links an attention axis to the main time axis", () => {
    const enc = layerStub("encoder", [12, 10]);
    const dec = layerStub("decoder", [9, 9]);
    const bi = layerStub("bi/forward", [12, 10]);
    const layers = [enc, dec, bi];
    expect(sourceLayer("decoder", layers)).toBe(dec);
    expect(sourceLayer("bi", layers)).toBe(bi);
    expect(sourceLayer("dense", layers)).toBeNull();
    expect(sourceLayer(null, layers)).toBeNull();
    // a decoder shorter than the encoder: its steps are the main axis's first steps
    expect(axisLink("decoder", 9, 12, layers)).toEqual({ main: true, layer: dec });
    // same length as the main axis: main, whatever the source
    expect(axisLink("embedding", 12, 12, layers)).toEqual({ main: true, layer: null });
    // an axis of its own (not a recurrent layer's output, another length)
    expect(axisLink("embedding", 7, 12, layers)).toEqual({ main: false, layer: null });
    expect(axisLink(null, 20, 12, layers).main).toBe(false);
  });

  it("valid lengths of attention axes", () => {
    const dec = layerStub("decoder", [9, 4]);
    expect(validLength({ main: true, layer: dec }, 9, 1, [12, 6])).toBe(4);
    expect(validLength({ main: true, layer: null }, 12, 1, [12, 6])).toBe(6);
    expect(validLength({ main: false, layer: null }, 7, 1, [12, 6])).toBe(7);
  });

  it("shortens labels with an ellipsis", () => {
    expect(shortLabel("hello", 8)).toBe("hello");
    expect(shortLabel("encyclopedia", 8)).toBe("encyclo…");
    expect(shortLabel("encyclopedia", 8).length).toBe(8);
    expect(shortLabel("x", 0)).toBe("");
  });
});

// ------------------------------------------------------------------------------------------
describe("trajectory helpers", () => {
  /** Rounded pixels of a path with consecutive repeats removed, gaps as "gap". */
  const pixelRuns = (xs: ArrayLike<number>, ys: ArrayLike<number>, idx: ArrayLike<number>): string[] => {
    const out: string[] = [];
    for (let j = 0; j < idx.length; j++) {
      const i = idx[j];
      const fin = Number.isFinite(xs[i]) && Number.isFinite(ys[i]);
      const key = fin ? `${Math.round(xs[i])},${Math.round(ys[i])}` : "gap";
      if (out[out.length - 1] !== key) out.push(key);
    }
    while (out[0] === "gap") out.shift();
    while (out[out.length - 1] === "gap") out.pop();
    return out;
  };

  it("decimation keeps the first and last points and every pixel change, in order", () => {
    const r = rng(7);
    const n = 20000;
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    let x = 100;
    let y = 100;
    for (let i = 0; i < n; i++) {
      x += (r() - 0.5) * 0.6;
      y += (r() - 0.5) * 0.6;
      xs[i] = x;
      ys[i] = y;
    }
    const kept = decimatePath(xs, ys);
    expect(kept[0]).toBe(0);
    expect(kept[kept.length - 1]).toBe(n - 1);
    for (let j = 1; j < kept.length; j++) expect(kept[j]).toBeGreaterThan(kept[j - 1]);
    expect(kept.length).toBeLessThan(n / 2); // small steps: many points share a pixel
    const all = Int32Array.from({ length: n }, (_, i) => i);
    expect(pixelRuns(xs, ys, kept)).toEqual(pixelRuns(xs, ys, all));
    // and nothing is kept that repeats the previous kept pixel
    for (let j = 1; j < kept.length - 1; j++) {
      const a = kept[j - 1];
      const b = kept[j];
      expect(Math.round(xs[a]) === Math.round(xs[b]) && Math.round(ys[a]) === Math.round(ys[b])).toBe(false);
    }
  });

  it("decimation keeps every point of a path that moves a pixel per step", () => {
    const xs = Float32Array.from({ length: 50 }, (_, i) => i * 1.5);
    const ys = Float32Array.from({ length: 50 }, (_, i) => (i % 2) * 3);
    expect(Array.from(decimatePath(xs, ys))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("decimation breaks the path at non-finite points", () => {
    const xs = Float32Array.from([0, 0.1, 0.2, 5, NaN, NaN, 9, 9.1, 12, 12.2, NaN]);
    const ys = new Float32Array(xs.length);
    const kept = Array.from(decimatePath(xs, ys));
    // first point, the pixel change to 5, a gap marker at 4, the next run 6 and 8, its end 9
    expect(kept).toEqual([0, 3, 4, 6, 8, 9, 10]);
    // no two consecutive kept finite points have a NaN between them in the full path
    for (let j = 1; j < kept.length; j++) {
      const a = kept[j - 1];
      const b = kept[j];
      if (!Number.isFinite(xs[a]) || !Number.isFinite(xs[b])) continue;
      for (let i = a + 1; i < b; i++) expect(Number.isFinite(xs[i])).toBe(true);
    }
    expect(pixelRuns(xs, ys, kept)).toEqual(
      pixelRuns(
        xs,
        ys,
        xs.map((_, i) => i),
      ),
    );
    expect(Array.from(decimatePath(new Float32Array(0), new Float32Array(0)))).toEqual([]);
    expect(Array.from(decimatePath([NaN, NaN], [0, 0]))).toEqual([]);
    expect(Array.from(decimatePath([3], [4]))).toEqual([0]);
  });

  it("the nearest point matches a brute-force search, within the pick radius only", () => {
    const r = rng(3);
    const n = 500;
    const xs = Float32Array.from({ length: n }, () => r() * 300);
    const ys = Float32Array.from({ length: n }, () => r() * 200);
    xs[17] = NaN;
    for (let trial = 0; trial < 200; trial++) {
      const px = r() * 300;
      const py = r() * 200;
      let best = -1;
      let bestD = Infinity;
      for (let i = 0; i < n; i++) {
        const d = Math.hypot(xs[i] - px, ys[i] - py);
        if (d < bestD) {
          bestD = d;
          best = i;
        }
      }
      const got = nearestPoint(xs, ys, px, py, 8);
      expect(got).toBe(bestD <= 8 ? best : -1);
    }
    // ties go to the earlier step (a path that comes back to the same place)
    expect(nearestPoint([5, 9, 5], [5, 9, 5], 5, 5, 8)).toBe(0);
    expect(nearestPoint([100], [100], 0, 0, 8)).toBe(-1);
  });

  const proj = (): Projection => {
    const B = 3;
    const T = 10;
    const k = 2;
    const data = new Float32Array(B * T * k);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        data[(b * T + t) * k] = b * 10 + t;
        data[(b * T + t) * k + 1] = -t * (b + 1);
      }
    }
    return { data, B, T, k };
  };

  it("extents cover the valid steps of every sample only", () => {
    const p = proj();
    const lengths = [10, 4, 2];
    // axis 0: b·10 + t over t < len: sample 0 → 0…9, sample 1 → 10…13, sample 2 → 20…21
    expect(extentOf(p, 0, lengths)).toEqual([0, 21]);
    // axis 1: −t(b+1): sample 0 → −9, sample 1 → −6, sample 2 → −3
    expect(extentOf(p, 1, lengths).map((v) => v + 0)).toEqual([-9, 0]); // + 0: −0 → 0
    expect(extentOf(p, "time", lengths)).toEqual([0, 9]);
    p.data[0] = NaN;
    expect(extentOf(p, 0, [1, 0, 0])).toEqual([0, 1]); // only a NaN: the default
    expect(extentOf(p, 0, [2, 0, 0])).toEqual([0.5, 1.5]); // one value: widened
  });

  it("path pixels are the affine map of the sample's valid steps", () => {
    const p = proj();
    const sx = { a: 2, b: 5 };
    const sy = { a: -3, b: 100 };
    const { xs, ys } = pathPixels(p, 1, 4, 0, 1, sx, sy);
    expect(xs.length).toBe(4);
    for (let t = 0; t < 4; t++) {
      expect(xs[t]).toBeCloseTo(2 * (10 + t) + 5, 5);
      expect(ys[t]).toBeCloseTo(-3 * (-2 * t) + 100, 5);
    }
    const time = pathPixels(p, 0, 10, "time", 0, sx, sy);
    expect(Array.from(time.xs)).toEqual(Array.from({ length: 10 }, (_, t) => 2 * t + 5));
    p.data[(2 * 10 + 1) * 2] = Infinity;
    const bad = pathPixels(p, 2, 3, 0, 1, sx, sy);
    expect(Number.isNaN(bad.xs[1])).toBe(true);
    expect(Number.isFinite(bad.xs[0])).toBe(true);
    expect(affineOf((v) => 3 * v - 7)).toEqual({ a: 3, b: -7 });
  });

  it("formats explained-variance ratios", () => {
    expect(formatRatio(0.4312)).toBe("43%");
    expect(formatRatio(0.05)).toBe("5.0%");
    expect(formatRatio(0.004)).toBe("0.4%");
    expect(formatRatio(0)).toBe("0%");
    expect(formatRatio(undefined)).toBe("");
    expect(formatRatio(NaN)).toBe("");
  });

  it("tells dark theme colours from light ones", () => {
    expect(isDarkColor("#111111")).toBe(true);
    expect(isDarkColor("white")).toBe(false); // unknown syntax: light
    expect(isDarkColor("#fff")).toBe(false);
    expect(isDarkColor("rgb(33, 33, 33)")).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------
const XSS = "<img src=x onerror=alert(1)>";

function enc(shape: number[], f: (i: number) => number) {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = Float32Array.from({ length: n }, (_, i) => f(i));
  return { dtype: "float32", shape, data: viewAt(f32Bytes(a), 4) };
}

/** makePayload + two attention layers (self-attention on the main axis with 2 heads, a
 *  decoder-style one with its own 6 query steps) and a 2-component PCA of the LSTM. */
function cardPayload(): DecodedPayload {
  const raw: Payload = makePayload({ B: 2, T: 20 });
  raw.tokens![0][3] = XSS;
  const T = 20;
  raw.attention = [
    {
      name: "self",
      kind: "MultiHeadAttention",
      query_source: "lstm",
      key_source: "lstm",
      scores: enc([2, 2, T, T], (i) => ((i % 7) + 1) / 80),
    },
    {
      name: "cross",
      kind: "Attention",
      query_source: "dec_embed",
      key_source: "lstm",
      scores: enc([2, 1, 6, T], () => 1 / T),
    },
  ];
  raw.layers[0].pca = {
    projection: enc([2, T, 2], (i) => Math.sin(i / 5) * 3),
    explained: [0.43, 0.12],
  };
  return decodePayload(raw);
}

function makeStore(p: DecodedPayload, timestep = 0): Store {
  return new Store(
    {
      timestep,
      sample: 0,
      layer: "lstm",
      quantity: "h",
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

describe("attention and trajectory views (jsdom)", () => {
  const WIDTH = 400;
  beforeAll(() => {
    HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
    // jsdom does no layout: give card plots a width and an origin at (0, 0)
    Object.defineProperty(HTMLElement.prototype, "clientWidth", {
      configurable: true,
      get() {
        return (this as HTMLElement).classList.contains("lstmviz-card-plot") ? WIDTH : 0;
      },
    });
  });
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    while (cleanups.length) cleanups.pop()?.();
    document.body.replaceChildren();
  });
  const mount = (factory: typeof createAttention, p: DecodedPayload, store: Store) => {
    const el = document.createElement("div");
    document.body.append(el);
    const stop = factory(el, store, p);
    if (stop) cleanups.push(stop);
    return { el, stop };
  };
  const pointer = (type: string, x: number, y: number): Event => {
    const e = new MouseEvent(type, { clientX: x, clientY: y, bubbles: true, button: 0 });
    Object.defineProperty(e, "pointerId", { value: 1 });
    return e;
  };

  it("are absent without attention / without any PCA", () => {
    const p = decodePayload(makePayload());
    const store = makeStore(p);
    expect(mount(createAttention, p, store).stop).toBeNull();
    expect(mount(createTrajectory, p, store).stop).toBeNull();
    expect(document.querySelector("[data-view]")).toBeNull();
  });

  it("attention: a card with layer and head selects; the highlighted row follows the cursor", () => {
    const p = cardPayload();
    const store = makeStore(p, 5);
    const { el } = mount(createAttention, p, store);
    const root = el.querySelector<HTMLElement>("div.lstmviz-view.lstmviz-card[data-view=attention]");
    expect(root).not.toBeNull();
    const selects = root!.querySelectorAll("select");
    expect(selects.length).toBe(3); // layer, head, colour
    expect([...selects[0].options].map((o) => o.text)).toEqual(["self (MultiHeadAttention)", "cross (Attention)"]);
    expect([...selects[1].options].map((o) => o.text)).toEqual(["mean of heads", "head 0", "head 1"]);
    expect(root!.dataset.row).toBe("5");
    const rect = root!.querySelector(".lstmviz-attn-row")!;
    const y5 = Number(rect.getAttribute("y"));
    store.set({ timestep: 9 });
    expect(root!.dataset.row).toBe("9"); // synchronously, no frame needed
    expect(Number(rect.getAttribute("y"))).toBeGreaterThan(y5);
    expect(root!.querySelector(".lstmviz-card-subtitle")!.textContent).toContain("query row 9");
    // tokens label the key columns (thinned, as text: the XSS token stays text)
    const xTicks = [...root!.querySelectorAll(".lstmviz-axis-x .tick text")].map((t) => t.textContent);
    expect(xTicks[0]).toBe("w0_0");
    expect(xTicks.length).toBeGreaterThan(1);
    expect(xTicks.length).toBeLessThan(20);
    expect(root!.querySelector("img")).toBeNull();
    // the second layer has one head (no head select) and its own query axis (6 steps)
    selects[0].value = "1";
    selects[0].dispatchEvent(new Event("change"));
    // cheap parts update at once; the rest on the next frame
    store.set({ timestep: 3 });
    expect([...root!.querySelectorAll(".lstmviz-control-label")].map((l) => l.textContent)).toEqual([
      "layer",
      "colour",
    ]);
    expect(root!.dataset.row).toBe("3");
    expect(root!.querySelector(".lstmviz-card-subtitle")!.textContent).toContain("own 6 steps");
    store.set({ timestep: 15 }); // beyond the 6 query rows: no highlight
    expect(root!.dataset.row).toBe("");
    expect(rect.getAttribute("visibility")).toBe("hidden");
  });

  it("attention: clicking a cell moves the cursor to its query row; hover shows a text tooltip", () => {
    const p = cardPayload();
    const store = makeStore(p, 0);
    const { el } = mount(createAttention, p, store);
    const plot = el.querySelector<HTMLElement>(".lstmviz-card-plot")!;
    // the heatmap: width 400 − left − right margins, square (20 × 20 steps)
    const M = ATTENTION_MARGIN;
    const side = WIDTH - M.left - M.right;
    const cellY = (q: number) => M.top + ((q + 0.5) * side) / 20;
    const cellX = (k: number) => M.left + ((k + 0.5) * side) / 20;
    plot.dispatchEvent(pointer("pointerdown", cellX(2), cellY(12)));
    expect(store.state.timestep).toBe(12);
    plot.dispatchEvent(pointer("pointerup", cellX(2), cellY(12)));
    plot.dispatchEvent(pointer("pointermove", cellX(3), cellY(7)));
    const tip = el.querySelector<HTMLElement>(".lstmviz-tooltip")!;
    expect(tip.hidden).toBe(false);
    expect(tip.textContent).toContain("query 7 → key 3");
    expect(tip.textContent).toContain(`key token: ${XSS}`);
    expect(tip.querySelector("img")).toBeNull();
    // mean of the 2 heads at (q = 7, k = 3), checked against the raw scores
    const a = p.attention[0];
    const want = (a.scores[(0 * 20 + 7) * 20 + 3] + a.scores[(1 * 20 + 7) * 20 + 3]) / 2;
    expect(tip.textContent).toContain(`weight = ${want.toFixed(3)}`);
    plot.dispatchEvent(pointer("pointermove", 2, 2)); // outside the cells
    expect(tip.hidden).toBe(true);
    expect(store.state.timestep).toBe(12);
  });

  it("trajectory: hidden for layers without PCA; the cursor dot moves on scrub", () => {
    const p = cardPayload();
    const store = makeStore(p, 2);
    const { el } = mount(createTrajectory, p, store);
    const root = el.querySelector<HTMLElement>("div.lstmviz-view.lstmviz-card[data-view=trajectory]")!;
    expect(root.hidden).toBe(false);
    const labels = [...root.querySelectorAll(".lstmviz-axis-label")].map((t) => t.textContent);
    expect(labels).toContain("PC1 (43% var.)");
    expect(labels).toContain("PC2 (12% var.)");
    const dot = root.querySelector(".lstmviz-traj-cursor")!;
    expect(dot.getAttribute("visibility")).toBe("visible");
    const before = [dot.getAttribute("cx"), dot.getAttribute("cy")];
    store.set({ timestep: 7 });
    expect(dot.getAttribute("data-timestep")).toBe("7");
    expect([dot.getAttribute("cx"), dot.getAttribute("cy")]).not.toEqual(before);
    // sample 1 has 15 valid steps: a padded cursor step has no dot
    store.set({ sample: 1, timestep: 17 });
    expect(dot.getAttribute("visibility")).toBe("hidden");
    // the GRU has no PCA: the card hides (on the next frame)
    store.set({ layer: "gru" });
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(root.hidden).toBe(true);
        resolve();
      }, 40),
    );
  });

  it("trajectory: one component is drawn over time", () => {
    const raw = makePayload({ B: 1, T: 12 });
    raw.layers[0].pca = { projection: enc([1, 12, 1], (i) => i * 0.5 - 2), explained: [0.9] };
    const p = decodePayload(raw);
    const store = makeStore(p, 4);
    const { el } = mount(createTrajectory, p, store);
    const root = el.querySelector<HTMLElement>("[data-view=trajectory]")!;
    const labels = [...root.querySelectorAll(".lstmviz-axis-label")].map((t) => t.textContent);
    expect(labels).toContain("timestep");
    expect(labels).toContain("PC1 (90% var.)");
    expect(root.querySelectorAll("select").length).toBe(0); // no pair of components to pick
    // x of the cursor dot grows with t (time on x), y falls as PC1 grows (up is larger)
    const dot = root.querySelector(".lstmviz-traj-cursor")!;
    const at = (t: number): [number, number] => {
      store.set({ timestep: t });
      return [Number(dot.getAttribute("cx")), Number(dot.getAttribute("cy"))];
    };
    const [x4, y4] = at(4);
    const [x8, y8] = at(8);
    expect(x8).toBeGreaterThan(x4);
    expect(y8).toBeLessThan(y4);
  });

  it("trajectory: clicking near a point of the current sample moves the cursor to it", () => {
    const p = cardPayload();
    const store = makeStore(p, 0);
    const { el } = mount(createTrajectory, p, store);
    const root = el.querySelector<HTMLElement>("[data-view=trajectory]")!;
    const plot = root.querySelector<HTMLElement>(".lstmviz-card-plot")!;
    const dot = root.querySelector(".lstmviz-traj-cursor")!;
    // where step 11 is drawn: move the cursor there, read the dot, move away, click near it
    store.set({ timestep: 11 });
    const x = Number(dot.getAttribute("cx"));
    const y = Number(dot.getAttribute("cy"));
    store.set({ timestep: 0 });
    plot.dispatchEvent(pointer("pointerdown", x + 3, y - 2));
    expect(store.state.timestep).toBe(11);
    plot.dispatchEvent(pointer("pointermove", x + 1, y));
    const tip = root.querySelector<HTMLElement>(".lstmviz-tooltip")!;
    expect(tip.hidden).toBe(false);
    expect(tip.textContent).toContain("t = 11");
    expect(tip.textContent).toContain("token: w0_11");
    // far from every point: nothing happens
    plot.dispatchEvent(pointer("pointerdown", -500, -500));
    expect(store.state.timestep).toBe(11);
  });
});
