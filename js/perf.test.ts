// @vitest-environment jsdom
// The machinery that keeps scrubbing and zooming fast must draw exactly what the plain paths
// draw: folded rows, per-pair colours and row-folded pyramids give the pixels rasterizeWindow
// gives from the units; a series pyramid gives envelope()'s columns; theme colours are read
// once; cursor marks move by transform; text is written only when it changes.
import { afterEach, describe, expect, it, vi } from "vitest";

import { markMover, setText } from "./render/dom";
import { envelope, SeriesLod, StepFlags } from "./math/lod";
import { Pyramid } from "./math/pyramid";
import { createFrame } from "./render/raf";
import { colourRows, composeColumns, foldRows, pairColours } from "./math/rowfold";
import { imageColumnBounds, rasterizeWindow, windowImageSize, type WindowSource } from "./math/raster";
import { makeColorScale } from "./math/scales";
import { columns, flagColumns, type XGeom } from "./math/columns";
import { fillEnvelopeColumns, isDense, type Ctx } from "./render/series";
import { stepToPx } from "./math/layout";
import { onThemeChange, recheckTheme, themeVar } from "./render/theme";
import { rng } from "./testing";

/** Random values without exact ties around 0 (so every extreme is unique), a few NaN/±Inf. */
function values(n: number, seed: number, holes: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < a.length; i++) a[i] = (r() - 0.5) * 4 + 1e-4 * r();
  for (let k = 0; k < holes; k++) a[Math.floor(r() * n)] = [NaN, Infinity, -Infinity][k % 3];
  return a;
}

const scale = makeColorScale({ kind: "diverging", domain: [-2, 2] });

function raster(src: WindowSource, win: [number, number], cols: number, rows: number, order: Int32Array | null) {
  const size = windowImageSize(win, src.units, cols, rows, { nSteps: src.nSteps, minLevel: 2 });
  const out = new Uint8ClampedArray(size.width * size.height * 4);
  rasterizeWindow(out, src, win, size, order, scale);
  return { out, size };
}

describe("folded rows", () => {
  const T = 3000;
  const U = 37;
  const data = values(2 * T * U, 3, 9);
  const order = Int32Array.from({ length: U }, (_, i) => (i * 11) % U);
  const unitSource: WindowSource = {
    data,
    sample: 1,
    nSteps: T,
    units: U,
    pyramid: () => new Pyramid(data, 1, T, U, 2),
  };

  it("rasterise a window to the same pixels as the units themselves (exact and aggregated)", () => {
    for (const rows of [5, 16, 37]) {
      const folded = foldRows(data, 1, T, U, order, rows, 0);
      const foldedSource: WindowSource = {
        data: folded,
        sample: 0,
        nSteps: T,
        units: rows,
        pyramid: () => new Pyramid(folded, 0, T, rows, 2),
      };
      for (const [win, cols] of [
        [[100, 160], 400],
        [[0, T], 1700],
        [[17, 2931], 300],
        [[250, 2250], 97],
      ] as Array<[[number, number], number]>) {
        const a = raster(unitSource, win, cols, rows, order);
        const b = raster(foldedSource, win, cols, rows, null);
        expect(b.size).toEqual(a.size);
        expect(Array.from(b.out)).toEqual(Array.from(a.out));
      }
    }
  });

  it("a part of colourRows' image is the exact window; pairs compose 1–2-step columns", () => {
    const rows = 9;
    const folded = foldRows(data, 1, T, U, order, rows, 0);
    const image = new Uint8ClampedArray(T * rows * 4);
    colourRows(image, folded, T, rows, scale);
    const exact = raster(unitSource, [400, 700], 1000, rows, order);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < 300; x++) {
        const o = (y * 300 + x) * 4;
        const p = (y * T + 400 + x) * 4;
        expect(Array.from(image.subarray(p, p + 4))).toEqual(Array.from(exact.out.subarray(o, o + 4)));
      }
    }
    const single = new Uint32Array(image.buffer);
    const pairs = pairColours(folded, T, rows, scale);
    for (const [win, cols] of [
      [[0, T], 1700],
      [[113, 2000], 1500],
    ] as Array<[[number, number], number]>) {
      const want = raster(unitSource, win, cols, rows, order);
      const got = new Uint8ClampedArray(want.out.length);
      expect(composeColumns(got, imageColumnBounds(want.size), want.size.width, rows, T, single, pairs)).toBe(true);
      expect(Array.from(got)).toEqual(Array.from(want.out));
    }
    // columns of 3+ steps are not composed
    const wide = windowImageSize([0, T], U, 900, rows);
    const out = new Uint8ClampedArray(900 * rows * 4);
    expect(composeColumns(out, imageColumnBounds(wide), 900, rows, T, single, pairs)).toBe(false);
  });

  it("the row-folded pyramid gives the same pixels for whole-bucket columns", () => {
    const T2 = 40_000;
    const U2 = 20;
    const d = values(T2 * U2, 8, 5);
    const pyr = new Pyramid(d, 0, T2, U2, 4);
    const rows = 6;
    const plain: WindowSource = { data: d, sample: 0, nSteps: T2, units: U2, pyramid: () => pyr };
    const viaRows: WindowSource = { ...plain, rowsPyramid: (r) => pyr.foldRows(null, r) };
    for (const [win, cols] of [
      [[0, T2], 500],
      [[1234, 38_000], 333],
      [[5000, 9000], 300],
    ] as Array<[[number, number], number]>) {
      const size = windowImageSize(win, U2, cols, rows, { nSteps: T2, minLevel: 4 });
      const a = new Uint8ClampedArray(size.width * size.height * 4);
      const b = new Uint8ClampedArray(a.length);
      rasterizeWindow(a, plain, win, size, null, scale);
      rasterizeWindow(b, viaRows, win, size, null, scale);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
    expect(pyr.foldRows(null, rows).aligned(16, 48)).toBe(true);
    expect(pyr.foldRows(null, rows).aligned(17, 48)).toBe(false);
  });
});

describe("series pyramid", () => {
  it("gives envelope()'s columns and flagColumns' flags for any window", () => {
    const T = 5001;
    const v = values(T, 11, 12);
    const bad = Array.from(v, (x) => !Number.isFinite(x));
    const lod = new SeriesLod(v, bad);
    const r = rng(4);
    for (let k = 0; k < 60; k++) {
      const a = Math.floor(r() * T);
      const b = Math.min(T, a + 1 + Math.floor(r() * T));
      const cols = 1 + Math.floor(r() * 700);
      const want = envelope((t) => v[t], [a, b], cols);
      const got = lod.envelope([a, b], cols);
      expect(Array.from(got.start)).toEqual(Array.from(want.start));
      expect(Array.from(got.lo)).toEqual(Array.from(want.lo));
      expect(Array.from(got.hi)).toEqual(Array.from(want.hi));
      expect(Array.from(lod.bad?.flags(got) ?? [])).toEqual(Array.from(flagColumns(want, (t) => bad[t])));
    }
    // columns() takes either
    const g = columns(lod, [100, 4000], 640, T);
    expect(Array.from(g.hi)).toEqual(Array.from(columns((t) => v[t], [100, 4000], 640, T).hi));
    expect(new StepFlags([0, 0, 1, 0]).any).toBe(true);
    expect(new SeriesLod(new Float32Array([1, 2, 3])).bad).toBeNull();
  });
});

describe("dense envelopes", () => {
  function coverage(ctxOps: Array<[number, number, number, number]>, W: number, H: number): Uint8Array {
    const px = new Uint8Array(W * H);
    for (const [x, y, w, h] of ctxOps) {
      for (let j = Math.max(0, y); j < Math.min(H, y + h); j++) {
        for (let i = Math.max(0, x); i < Math.min(W, x + w); i++) px[j * W + i] = 1;
      }
    }
    return px;
  }
  it("one whole-pixel rectangle per column covers its min…max and the step from its neighbour, gaps at NaN", () => {
    const T = 3000;
    const v = values(T, 5, 0);
    v.fill(NaN, 1500, 1530);
    const win: [number, number] = [0, T];
    const g: XGeom = { width: 600, win, step: 600 / T, x: (t) => stepToPx(t, win, 600) };
    const env = columns((t) => v[t], win, g.width, T);
    expect(isDense(env, g)).toBe(true);
    const ops: Array<[number, number, number, number]> = [];
    const ctx = { fillRect: (x: number, y: number, w: number, h: number) => ops.push([x, y, w, h]) } as unknown as Ctx;
    const y = (x: number): number => 50 - x * 10;
    fillEnvelopeColumns(ctx, env, g, y, 1);
    for (const [x, yy, w, h] of ops) expect([x, yy, w, h].every(Number.isInteger)).toBe(true);
    const px = coverage(ops, 600, 100);
    // every finite column's min and max are covered, at its x
    for (let i = 0; i < env.n; i++) {
      if (!Number.isFinite(env.lo[i])) continue;
      const x = Math.min(599, Math.floor((g.x(env.start[i]) + g.x(env.start[i + 1] - 1)) / 2));
      for (const val of [env.lo[i], env.hi[i]]) {
        const row = Math.min(99, Math.max(0, Math.floor(y(val))));
        const near = [-1, 0, 1].some((dx) => [-1, 0, 1].some((dy) => px[(row + dy) * 600 + x + dx] === 1));
        expect(near).toBe(true);
      }
    }
    // no rectangle for the NaN column: a gap in x
    const nanCol = env.lo.findIndex((l) => Number.isNaN(l));
    expect(nanCol).toBeGreaterThan(0);
  });
});

describe("theme colours", () => {
  afterEach(() => document.body.replaceChildren());

  it("are read once per explorer, not while detached, and re-read when the theme changes", () => {
    const root = document.createElement("div");
    root.className = "lstmviz";
    root.style.setProperty("--lstmviz-fg", "#999999");
    const child = document.createElement("span");
    root.append(child);
    const spy = vi.spyOn(window, "getComputedStyle");
    themeVar(child, "--lstmviz-fg", "#222"); // detached: whatever it resolves to is not kept
    root.style.setProperty("--lstmviz-fg", "#111111");
    document.body.append(root);
    expect(themeVar(child, "--lstmviz-fg", "#222")).toBe("#111111");
    const calls = spy.mock.calls.length;
    for (let i = 0; i < 10; i++) expect(themeVar(root, "--lstmviz-fg", "#222")).toBe("#111111");
    expect(spy.mock.calls.length).toBe(calls); // cached: no style read per draw
    const changed = vi.fn();
    const stop = onThemeChange(child, changed);
    recheckTheme();
    expect(changed).not.toHaveBeenCalled(); // nothing changed
    root.style.setProperty("--lstmviz-fg", "#eeeeee");
    recheckTheme();
    expect(changed).toHaveBeenCalledTimes(1);
    expect(themeVar(child, "--lstmviz-fg", "#222")).toBe("#eeeeee");
    stop();
    spy.mockRestore();
  });
});

describe("cursor marks and readouts", () => {
  it("a mark moves by transform only and writes a style only when it changes", () => {
    const el = document.createElement("div");
    const mark = markMover(el);
    mark.place(10.123, 4, 50, true);
    expect(el.style.transform).toBe("translate(10.12px, 4px)");
    expect(el.style.height).toBe("50px");
    expect(el.style.visibility).toBe("visible");
    expect(el.style.left).toBe("");
    mark.place(0, 0, 0, false);
    expect(el.style.visibility).toBe("hidden");
    expect(el.style.transform).toBe("translate(10.12px, 4px)"); // a hidden mark is not moved
  });

  it("setText edits the text node in place, and only when the text changes", () => {
    const el = document.createElement("span");
    setText(el, "t = 1");
    const node = el.firstChild;
    setText(el, "t = 2");
    expect(el.firstChild).toBe(node);
    expect(el.textContent).toBe("t = 2");
    const observer = new MutationObserver(() => {});
    observer.observe(el, { characterData: true, childList: true, subtree: true });
    setText(el, "t = 2");
    expect(observer.takeRecords()).toHaveLength(0);
    observer.disconnect();
  });
});

describe("frames", () => {
  it("soon() draws once at the end of the task, and the animation frame then does nothing", async () => {
    const draw = vi.fn();
    const frame = createFrame(draw, (e) => {
      throw e;
    });
    frame.soon();
    frame.soon();
    frame.schedule();
    expect(draw).not.toHaveBeenCalled();
    await Promise.resolve();
    expect(draw).toHaveBeenCalledTimes(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(draw).toHaveBeenCalledTimes(1);
    frame.cancel();
  });
});

describe("vector view with many units", () => {
  it("draws the bars of a wide layer on a canvas (same colours, outlines for hover and selection)", async () => {
    const calls: Array<[string, unknown[]]> = [];
    const fake = new Proxy(
      { canvas: null as unknown },
      {
        get(target, prop) {
          if (prop in target) return (target as Record<string | symbol, unknown>)[prop];
          return (...args: unknown[]) => {
            calls.push([String(prop), args]);
          };
        },
        set(_t, prop, value) {
          calls.push([`set:${String(prop)}`, [value]]);
          return true;
        },
      },
    );
    const orig = HTMLCanvasElement.prototype.getContext;
    HTMLCanvasElement.prototype.getContext = (() => fake) as unknown as typeof HTMLCanvasElement.prototype.getContext;
    try {
      const { decodePayload } = await import("./codecs");
      const { makePayload } = await import("./testing");
      const { makeNormalizer } = await import("./explorer");
      const { Store } = await import("./store");
      const { createVector, SVG_BARS_MAX } = await import("./views/vector");
      const p = decodePayload(makePayload({ B: 1, T: 6, units: SVG_BARS_MAX + 36 }));
      const store = new Store(
        {
          timestep: 2,
          sample: 0,
          layer: "lstm",
          quantity: "h",
          selectedUnits: [3],
          epoch: 0,
          hoverUnit: 7,
          window: [0, 6],
          brush: null,
          sortMode: "natural",
          playing: false,
          playSpeed: 5,
        },
        makeNormalizer(p),
      );
      const el = document.createElement("div");
      document.body.append(el);
      const stop = createVector(el, store, p);
      expect(el.querySelectorAll("rect.lstmviz-bar")).toHaveLength(0);
      const canvas = el.querySelector<HTMLCanvasElement>("canvas.lstmviz-vector-canvas");
      expect(canvas?.hidden).toBe(false);
      const rects = calls.filter(([m]) => m === "fillRect");
      expect(rects).toHaveLength(SVG_BARS_MAX + 36);
      expect(calls.filter(([m]) => m === "strokeRect")).toHaveLength(2); // selected + hovered
      // a step redraws the bars (in the same task's microtask)
      calls.length = 0;
      store.set({ timestep: 3 });
      await Promise.resolve();
      expect(calls.filter(([m]) => m === "fillRect")).toHaveLength(SVG_BARS_MAX + 36);
      expect(el.querySelector(".lstmviz-card-title")?.textContent).toBe("h at t = 3");
      stop();
    } finally {
      HTMLCanvasElement.prototype.getContext = orig;
      document.body.replaceChildren();
    }
  });
});

describe("aligned buckets", () => {
  it("name the 1–2 whole buckets of a range, whose lows and highs are the range's", () => {
    const T = 1000;
    const U = 3;
    const d = values(T * U, 21, 2);
    const pyr = new Pyramid(d, 0, T, U, 2);
    const check = (t0: number, t1: number): void => {
      const ab = pyr.alignedBuckets(t0, t1);
      expect(ab).not.toBeNull();
      if (!ab) return;
      const lo = new Float64Array(U).fill(Infinity);
      const hi = new Float64Array(U).fill(-Infinity);
      pyr.accumulate(t0, t1, lo, hi);
      for (let u = 0; u < U; u++) {
        let a = ab.lo[ab.i * U + u];
        let b = ab.hi[ab.i * U + u];
        if (ab.n === 2) {
          a = Math.min(a, ab.lo[(ab.i + 1) * U + u]);
          b = Math.max(b, ab.hi[(ab.i + 1) * U + u]);
        }
        expect([a, b]).toEqual([lo[u], hi[u]]);
      }
    };
    check(0, 4);
    check(64, 128);
    check(64, 192); // two of 64
    check(992, 1000); // the short last bucket
    check(512, 1000);
    expect(pyr.alignedBuckets(1, 5)).toBeNull();
    expect(pyr.alignedBuckets(0, 3)).toBeNull(); // shorter than a stored bucket
    expect(pyr.alignedBuckets(64, 160)).toBeNull(); // 1.5 buckets
  });
});
