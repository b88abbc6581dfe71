// @vitest-environment jsdom
/**
 * The tiled explorer (a long capture) mounted on a fake model in jsdom with real canvases
 * (canvas-testing.ts): it draws from the first payload's tiles at once, asks the kernel for the
 * tiles of what it shows (batched, each once), draws the finer level when they come, and shows
 * exact values at the cursor from the level-0 tile. The "kernel" here answers from brute-force
 * tiles of a known array (built in this file, independently of the code under test).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

import { installCanvas, pixels } from "./canvas-testing";
import { FakeModel } from "./testing";
import widget from "./widget";
import { TILE_STEPS } from "./tiles/types";

const T = 100_000;
const UNITS = 4;
const U = UNITS;
const K = Math.ceil(Math.log2(T));

/** h[t, u]: smooth, plus a one-step spike at 77_777 on unit 2. */
function value(t: number, u: number, sample = 0): number {
  if (t === 77_777 && u === 2) return 0.99;
  return 0.3 * Math.sin(t / 5000 + u) - 0.25 * sample;
}

function enc(values: Float32Array, shape: number[]) {
  return { dtype: "float32", shape, data: new DataView(values.buffer) };
}

function tile(level: number, index: number, key = "lstm|h", sample = 0) {
  const U = key === "lstm|pca" ? 3 : UNITS;
  const size = 2 ** level;
  const nb = Math.ceil(T / size);
  const b0 = index * TILE_STEPS;
  const n = Math.min(TILE_STEPS, nb - b0);
  const lo = new Float32Array(n * U);
  const hi = new Float32Array(n * U);
  for (let b = 0; b < n; b++) {
    for (let u = 0; u < U; u++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let t = (b0 + b) * size; t < Math.min(T, (b0 + b + 1) * size); t++) {
        const v = Math.fround(value(t, u, sample));
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
      }
      lo[b * U + u] = mn;
      hi[b * U + u] = mx;
    }
  }
  const start = b0 * size;
  return { key, sample, level, index, start, stop: Math.min(T, start + n * size), n, width: U, lo, hi };
}

const K0 = 6; // ceil(100_000 / 64) = 1563 ≤ 2048

function payload(offline = false, B = 1, tokens = false) {
  const initial = [];
  for (let i = 0; i < Math.ceil(Math.ceil(T / 2 ** K0) / TILE_STEPS); i++) {
    const t = tile(K0, i);
    initial.push({ ...t, lo: enc(t.lo, [t.n, U]), hi: enc(t.hi, [t.n, U]) });
  }
  return {
    format: 1,
    model_name: "long",
    n_samples: B,
    n_steps: T,
    lengths: Array.from({ length: B }, () => T),
    tokens: null,
    layers: [
      {
        name: "lstm",
        kind: "LSTM",
        units: U,
        direction: null,
        fidelity: 0,
        steps: T,
        arrays: {
          h: { tiled: true, key: "lstm|h", shape: [B, T, U] },
          "gate:forget": { tiled: true, key: "lstm|gate:forget", shape: [B, T, U] },
        },
        grad_norms: null,
        pca: null,
        trajectory: { tiled: true, key: "lstm|pca", shape: [B, T, 3], labels: ["PC1", "PC2", "PC3"] },
        weights: null,
        weight_grads: null,
        health: null,
      },
    ],
    attention: [],
    tiled_out: ["attention"],
    tokens_on_request: tokens,
    tiling: {
      tile_steps: 512,
      max_level: K,
      initial_level: K0,
      offline,
      finest_level: 0,
      note: offline ? "offline copy" : "",
    },
    initial_tiles: initial,
  };
}

class TileModel extends FakeModel {
  sent: Array<{ type: string; id: number; tiles: Array<[string, number, number, number]> }> = [];
  custom = new Set<(c: unknown, b: DataView[]) => void>();
  send = ((content: never) => {
    this.sent.push(content);
  }) as unknown as () => void;
  constructor(state: Record<string, unknown>) {
    super(state);
    const on = this.on;
    const off = this.off;
    this.on = (event: string, cb: () => void): void => {
      if (event === "msg:custom") this.custom.add(cb as never);
      else on(event, cb);
    };
    this.off = (event: string, cb: () => void): void => {
      if (event === "msg:custom") this.custom.delete(cb as never);
      else off(event, cb);
    };
  }
  /** Answer every request so far as the kernel would (lo/hi as buffers). */
  answer(): void {
    const reqs = this.sent.splice(0);
    for (const r of reqs) {
      if (r.type === "lstmviz-tokens") {
        const q = r as unknown as { id: number; sample: number; start: number; stop: number };
        const tokens = Array.from({ length: q.stop - q.start }, (_, i) => `tok${q.start + i}`);
        for (const cb of this.custom)
          cb(
            { type: "lstmviz-tokens", id: q.id, sample: q.sample, start: q.start, stop: q.stop, tokens, error: null },
            [],
          );
        continue;
      }
      if (r.type !== "lstmviz-tiles") continue;
      const buffers: DataView[] = [];
      const tiles = r.tiles.map(([key, sample, level, index]) => {
        const t = tile(level, index, key, sample);
        const U = t.width;
        buffers.push(new DataView(t.lo.buffer));
        const lo = { dtype: "float32", shape: [t.n, U], buffer: buffers.length - 1 };
        let hi = null;
        if (level > 0) {
          buffers.push(new DataView(t.hi.buffer));
          hi = { dtype: "float32", shape: [t.n, U], buffer: buffers.length - 1 };
        }
        return { ...t, key, sample, lo, hi };
      });
      for (const cb of this.custom) cb({ type: "lstmviz-tiles", id: r.id, error: null, tiles }, buffers);
    }
  }
}

const tick = () => new Promise((r) => setTimeout(r, 30));
let restore: () => void;
beforeAll(() => {
  restore = installCanvas();
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => 1000 });
});
afterAll(() => restore());

function mount(offline = false, B = 1, tokens = false) {
  const model = new TileModel({ _data: payload(offline, B, tokens), layer: "lstm", timestep: 77_777 });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model: model as never, el }) as () => void;
  const $ = (sel: string) => el.querySelector(sel) as HTMLElement;
  return { model, el, cleanup, $ };
}

describe("tiled explorer", () => {
  it("draws the overview at once, then asks for and draws finer tiles", async () => {
    const { model, $, cleanup } = mount();
    await tick();
    const view = $("[data-view=heatmap]");
    expect(view.dataset.tiled).toBe("true");
    expect(view.dataset.level).toBe(String(K0)); // drawn from the first payload
    const canvas = $(".lstmviz-heatmap-canvas") as HTMLCanvasElement;
    expect(pixels(canvas).some((v, i) => i % 4 === 3 && v > 0)).toBe(true);
    // it asked for the wanted level's tiles and the cursor's level-0 tile (+ neighbours), once each
    const asked = model.sent.flatMap((m) => (m.tiles ?? []).map((t) => t.join("/")));
    expect(new Set(asked).size).toBe(asked.length);
    expect(asked).toContain(`lstm|h/0/0/${Math.floor(77_777 / TILE_STEPS)}`);
    expect(model.sent.every((m) => (m.tiles ?? []).length <= 64)).toBe(true);
    expect($("[data-view=vector]").dataset.exact).toBe("false");
    model.answer();
    await tick();
    const vec = $("[data-view=vector]");
    expect(vec.dataset.exact).toBe("true");
    expect(vec.dataset.step).toBe("77777");
    const vals = (vec.dataset.values ?? "").split(",").map(Number);
    for (let u = 0; u < U; u++) expect(vals[u]).toBeCloseTo(Math.fround(value(77_777, u)), 6);
    cleanup();
  });

  it("zooms from cached levels at once and exact when zoomed to fewer steps than columns", async () => {
    const { model, $, el, cleanup } = mount();
    await tick();
    model.answer();
    const root = el.querySelector(".lstmviz") as HTMLElement;
    for (let i = 0; i < 10; i++) root.dispatchEvent(new KeyboardEvent("keydown", { key: "+", bubbles: true }));
    await tick();
    const view = $("[data-view=heatmap]");
    const [a, b] = (view.dataset.window ?? "").split(",").map(Number);
    expect(b - a).toBeLessThan(200);
    // the cursor's own level-0 tile came with the first answer: exact at once
    expect(view.dataset.complete).toBe("true");
    expect(view.dataset.level).toBe("0");
    // Python moves the cursor far away: the window follows into steps not fetched yet
    model.fromPython("timestep", 20_000);
    await tick();
    const [a2] = (view.dataset.window ?? "").split(",").map(Number);
    expect(Math.abs(a2 - 20_000)).toBeLessThan(200);
    // before the reply: still drawn (from a coarser level), marked incomplete
    expect(Number(view.dataset.level)).toBeGreaterThan(0);
    expect(view.dataset.complete).toBe("false");
    expect(Number(view.dataset.pending)).toBeGreaterThan(0);
    model.answer();
    await tick();
    expect(view.dataset.level).toBe("0");
    expect(view.dataset.complete).toBe("true");
    expect(Number(view.dataset.stepsPerColumn)).toBe(1);
    expect(Number(view.dataset.tileMs)).toBeGreaterThanOrEqual(0);
    cleanup();
  });

  it("draws the PCA trajectory as a level-of-detail path, exact when zoomed in", async () => {
    const { model, $, el, cleanup } = mount();
    await tick();
    const card = $("[data-view=trajectory]");
    expect(card.textContent).toContain("computing in the kernel");
    model.answer();
    await tick();
    expect(card.dataset.buckets).toBe("400");
    expect(Number(card.dataset.stepsPerBucket)).toBe(T / 400);
    expect(card.textContent).toContain("400 buckets of 250 steps");
    const painted = pixels(card.querySelector("canvas") as HTMLCanvasElement).some((v, i) => i % 4 === 3 && v > 0);
    expect(painted).toBe(true);
    const root = el.querySelector(".lstmviz") as HTMLElement;
    for (let i = 0; i < 10; i++) root.dispatchEvent(new KeyboardEvent("keydown", { key: "+", bubbles: true }));
    await tick();
    model.answer();
    await tick();
    expect(card.textContent).toContain("every step");
    cleanup();
  });

  it("switching the sample asks for its tiles and shows its own values", async () => {
    const { model, $, cleanup } = mount(false, 2);
    await tick();
    model.answer();
    await tick();
    model.fromPython("sample", 1);
    await tick();
    const asked = model.sent.flatMap((m) => (m.tiles ?? []).filter((t) => t[1] === 1));
    expect(asked.length).toBeGreaterThan(0);
    const vec = $("[data-view=vector]");
    expect(vec.dataset.exact).toBe("false"); // sample 1's tile is not in yet: nothing wrong shown
    model.answer();
    await tick();
    expect(vec.dataset.exact).toBe("true");
    const vals = (vec.dataset.values ?? "").split(",").map(Number);
    for (let u = 0; u < U; u++) if (u !== 2) expect(vals[u]).toBeCloseTo(Math.fround(value(77_777, u, 1)), 6);
    expect($("[data-view=heatmap]").dataset.complete).toBe("true");
    cleanup();
  });

  it("asks for the health findings until the kernel has them, then shows them", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { model, el, cleanup } = mount();
      const health = () => model.sent.filter((m) => m.type === "lstmviz-health");
      expect(health()).toHaveLength(1);
      const reply = (ready: boolean) => {
        const layers = ready
          ? {
              lstm: {
                findings: ["forget gate saturated in 3 of 4 units"],
                groups: [],
                collapsed: false,
                mean_variance: 0.1,
              },
            }
          : null;
        for (const cb of model.custom) cb({ type: "lstmviz-health", id: 1, ready, layers, error: null }, []);
      };
      reply(false);
      expect(el.querySelector("[data-view=health]")).toBeNull();
      vi.advanceTimersByTime(1000);
      expect(health()).toHaveLength(2); // asked again
      reply(true);
      expect(el.querySelector("[data-view=health]")?.textContent).toContain("forget gate saturated");
      vi.advanceTimersByTime(5000);
      expect(health()).toHaveLength(2); // and then no more
      cleanup();
    } finally {
      vi.useRealTimers();
    }
  });

  it("draws a gate small multiple from that gate's own tiles", async () => {
    const { model, $, cleanup } = mount();
    await tick();
    const gates = $("[data-view=gates]");
    expect(gates.querySelector("[data-panel='gate:forget']")).toBeNull(); // folded: nothing asked
    expect(model.sent.some((m) => (m.tiles ?? []).some((t) => t[0] === "lstm|gate:forget"))).toBe(false);
    (gates.querySelector("button") as HTMLButtonElement).click();
    await tick();
    const panel = gates.querySelector("[data-panel='gate:forget']") as HTMLElement;
    expect(panel).not.toBeNull();
    expect(model.sent.some((m) => (m.tiles ?? []).some((t) => t[0] === "lstm|gate:forget"))).toBe(true);
    model.answer();
    await tick();
    const canvas = panel.querySelector("canvas.lstmviz-heatmap-canvas") as HTMLCanvasElement;
    expect(pixels(canvas).some((v, i) => i % 4 === 3 && v > 0)).toBe(true);
    cleanup();
  });

  it("asks for token labels by window and shows them zoomed in", async () => {
    const { model, $, el, cleanup } = mount(false, 1, true);
    await tick();
    const strip = $("[data-view=tokens]");
    expect(strip.dataset.shown).toBe("0"); // 100,000 steps: "zoom in"
    model.answer();
    await tick();
    expect($("[data-view=vector]").dataset.token).toBe("tok77777");
    const root = el.querySelector(".lstmviz") as HTMLElement;
    for (let i = 0; i < 12; i++) root.dispatchEvent(new KeyboardEvent("keydown", { key: "+", bubbles: true }));
    await tick();
    model.answer();
    await tick();
    const [a, b] = ($("[data-view=heatmap]").dataset.window ?? "").split(",").map(Number);
    expect(Number(strip.dataset.shown)).toBe(b - a);
    expect(strip.dataset.first).toBe(`tok${a}`);
    // asked block by block, each once
    const asked = model.sent.filter((m) => m.type === "lstmviz-tokens");
    expect(asked).toHaveLength(0); // everything answered so far
    cleanup();
  });

  it("offline: never sends, draws what is embedded and shows the note", async () => {
    const { model, $, cleanup } = mount(true);
    await tick();
    expect(model.sent).toHaveLength(0);
    expect($("[data-view=heatmap]").dataset.level).toBe(String(K0));
    expect($("[data-view=heatmap]").textContent).toContain("offline copy");
    expect($("[data-view=vector]").dataset.exact).toBe("false");
    cleanup();
  });

  it("a bad tiled payload is an error panel, not a blank", async () => {
    const p = payload();
    (p.layers[0].arrays as Record<string, unknown>).h = { tiled: true, key: "lstm|h", shape: [1, 5, U] };
    const model = new TileModel({ _data: p });
    const el = document.createElement("div");
    const cleanup = widget.render({ model: model as never, el }) as () => void;
    expect(el.querySelector(".lstmviz-error")?.textContent).toContain("shape");
    cleanup();
  });
});
