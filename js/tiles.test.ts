import { describe, expect, it, vi } from "vitest";

import { makeColorScale, NAN_RGB, rgba32 } from "./math/scales";
import { TileCache } from "./tiles/cache";
import { TileClient, type TileTransport } from "./tiles/client";
import { composeColumns, extremeOf, foldLevel } from "./tiles/compose";
import { bucketsAt, levelFor, tileRange, tilesAt } from "./tiles/levels";
import { paintColumns, MISSING_RGB } from "./tiles/paint";
import { TiledData } from "./tiles/source";
import { decodeTile, initialLevelFor, TILE_STEPS, type Tile } from "./tiles/types";
import { decodeTiledPayload } from "./tiles/payload";
import { rng } from "./testing";

function series(T: number, W: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: T * W }, () => (r() - 0.5) * 2);
}

/** Brute-force tile: buckets of 2^level steps of (T, W) data, min and max by loops. */
function tileOf(data: Float32Array, T: number, W: number, key: string, level: number, index: number): Tile {
  const size = 2 ** level;
  const nb = Math.ceil(T / size);
  const b0 = index * TILE_STEPS;
  const n = Math.min(TILE_STEPS, nb - b0);
  const lo = new Float32Array(n * W);
  const hi = new Float32Array(n * W);
  for (let b = 0; b < n; b++) {
    for (let w = 0; w < W; w++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let t = (b0 + b) * size; t < Math.min(T, (b0 + b + 1) * size); t++) {
        const v = data[t * W + w];
        mn = Number.isNaN(v) || Number.isNaN(mn) ? NaN : Math.min(mn, v);
        mx = Number.isNaN(v) || Number.isNaN(mx) ? NaN : Math.max(mx, v);
      }
      lo[b * W + w] = mn;
      hi[b * W + w] = mx;
    }
  }
  const start = b0 * size;
  return {
    key,
    sample: 0,
    level,
    index,
    start,
    stop: Math.min(T, start + n * size),
    n,
    width: W,
    lo,
    hi,
    bytes: 8 * n * W,
  };
}

/** Every tile of every level. */
function allTiles(data: Float32Array, T: number, W: number, key = "k"): Tile[] {
  const out: Tile[] = [];
  const K = Math.ceil(Math.log2(T));
  for (let k = 0; k <= K; k++) for (let i = 0; i < tilesAt(T, k); i++) out.push(tileOf(data, T, W, key, k, i));
  return out;
}

describe("levels", () => {
  it("picks the coarsest level with a bucket per column", () => {
    expect(levelFor([0, 1_000_000], 1000, 20)).toBe(9); // 1000 steps per column → 512
    expect(levelFor([0, 100], 1000, 20)).toBe(0);
    expect(levelFor([0, 2048], 1024, 20)).toBe(1);
    expect(levelFor([0, 1_000_000], 1, 20)).toBe(19);
    expect(levelFor([0, 1_000_000], 1, 5)).toBe(5); // capped
    expect(levelFor([0, 100], 1000, 20, 3)).toBe(3); // an offline copy's finest level
  });
  it("names the tiles covering a window", () => {
    expect(tileRange([0, 512], 0, 10_000)).toEqual([0, 0]);
    expect(tileRange([511, 513], 0, 10_000)).toEqual([0, 1]);
    expect(tileRange([0, 1_000_000], 9, 1_000_000)).toEqual([0, 3]);
    expect(tilesAt(1_000_000, 9)).toBe(4);
    expect(bucketsAt(1_000_000, 9)).toBe(1954);
    expect(initialLevelFor(1_000_000)).toBe(9);
    expect(initialLevelFor(2048)).toBe(0);
    expect(initialLevelFor(2049)).toBe(1);
  });
});

describe("TileCache", () => {
  const t = (i: number, bytes: number, key = "a"): Tile => ({
    key,
    sample: 0,
    level: 0,
    index: i,
    start: 0,
    stop: 1,
    n: 1,
    width: 1,
    lo: new Float32Array(1),
    hi: new Float32Array(1),
    bytes,
  });
  it("stays within its byte budget, least recently used out first", () => {
    const c = new TileCache(100);
    c.put(t(0, 40));
    c.put(t(1, 40));
    expect(c.get("a", 0, 0, 0)).toBeDefined(); // 0 is now the most recent
    c.put(t(2, 40)); // over budget: 1 goes
    expect(c.has("a", 0, 0, 1)).toBe(false);
    expect(c.has("a", 0, 0, 0)).toBe(true);
    expect(c.has("a", 0, 0, 2)).toBe(true);
    expect(c.bytes).toBe(80);
  });
  it("never evicts pinned tiles", () => {
    const c = new TileCache(100);
    c.put(t(0, 60), true);
    for (let i = 1; i < 10; i++) c.put(t(i, 30));
    expect(c.has("a", 0, 0, 0)).toBe(true);
    expect(c.bytes).toBeLessThanOrEqual(100);
    expect(c.has("a", 0, 0, 9)).toBe(true);
  });
  it("replacing a tile does not count it twice", () => {
    const c = new TileCache(1000);
    c.put(t(0, 40));
    c.put(t(0, 40));
    expect(c.bytes).toBe(40);
    expect(c.size).toBe(1);
  });
});

describe("composeColumns", () => {
  const T = 5000;
  const W = 3;
  const data = series(T, W, 1);
  const tiles = allTiles(data, T, W);
  const lookup = (held: Tile[]) => {
    const m = new Map(held.map((x) => [`${x.level}/${x.index}`, x]));
    return (k: number, i: number) => m.get(`${k}/${i}`);
  };
  const opts = (level: number) => ({ nSteps: T, width: W, level, maxLevel: Math.ceil(Math.log2(T)), finestLevel: 0 });

  it("equals brute-force min/max of each column's steps at level 0", () => {
    const win: [number, number] = [123, 4321];
    const cols = 700;
    const img = composeColumns(lookup(tiles), win, cols, opts(0));
    const span = win[1] - win[0];
    for (let c = 0; c < cols; c++) {
      const s0 = win[0] + Math.floor((c * span) / cols);
      const s1 = win[0] + Math.floor(((c + 1) * span) / cols);
      for (let w = 0; w < W; w++) {
        let mn = Infinity;
        let mx = -Infinity;
        for (let t = s0; t < s1; t++) {
          mn = Math.min(mn, data[t * W + w]);
          mx = Math.max(mx, data[t * W + w]);
        }
        expect(img.lo[c * W + w]).toBe(mn);
        expect(img.hi[c * W + w]).toBe(mx);
      }
    }
    expect(img.missing).toBe(0);
  });

  it("shows one exact step per column when zoomed in", () => {
    const img = composeColumns(lookup(tiles), [1000, 1100], 900, opts(0));
    expect(img.cols).toBe(100);
    for (let c = 0; c < 100; c++) expect(img.lo[c * W]).toBe(data[(1000 + c) * W]);
  });

  it("covers every step at a coarser level (a column may widen, never narrow)", () => {
    const level = 4;
    const img = composeColumns(lookup(tiles), [0, T], 300, opts(level));
    for (let c = 0; c < img.cols; c++) {
      const s0 = Math.floor((c * T) / img.cols);
      const s1 = Math.floor(((c + 1) * T) / img.cols);
      for (let t = s0; t < s1; t++) {
        expect(img.lo[c * W]).toBeLessThanOrEqual(data[t * W]);
        expect(img.hi[c * W]).toBeGreaterThanOrEqual(data[t * W]);
      }
      expect(img.levels[c]).toBe(level);
    }
  });

  it("draws from a coarser level while the finer tiles are missing, never blank", () => {
    const K = Math.ceil(Math.log2(T));
    const coarse = tiles.filter((x) => x.level >= 6);
    const img = composeColumns(lookup(coarse), [0, 3000], 600, opts(2));
    expect(img.missing).toBe(0);
    for (let c = 0; c < img.cols; c++) expect(img.levels[c]).toBeGreaterThanOrEqual(6);
    for (let c = 0; c < img.cols; c++) expect(img.levels[c]).toBeLessThanOrEqual(K);
    // with nothing held at all the columns are marked missing (drawn grey, not left blank)
    const none = composeColumns(() => undefined, [0, 3000], 600, opts(2));
    expect(none.missing).toBe(none.cols);
    const px = paintColumns(none, makeColorScale({ kind: "diverging", domain: [-1, 1] }));
    expect(px.every((p) => p === rgba32(...MISSING_RGB))).toBe(true);
  });

  it("a single-step spike and a NaN are visible at every level", () => {
    const spiky = series(T, 1, 2).map((v) => v * 0.1);
    spiky[3777] = 25;
    const all = allTiles(spiky, T, 1);
    const holed = spiky.slice();
    holed[1234] = NaN;
    const allHoled = allTiles(holed, T, 1);
    const scale = makeColorScale({ kind: "diverging", domain: [-1, 1] });
    const red = scale.lut.length / 3 - 1;
    for (let k = 0; k <= Math.ceil(Math.log2(T)); k++) {
      for (const win of [
        [0, T],
        [3000, 4000],
        [3770, 3790],
      ] as Array<[number, number]>) {
        const img = composeColumns(lookup(all), win, 400, { ...opts(k), width: 1 });
        const px = paintColumns(img, scale);
        const col = Math.floor(((3777 - win[0]) / (win[1] - win[0])) * img.cols);
        const hit = [col - 1, col, col + 1].some(
          (c) => px[c] === rgba32(scale.lut[red * 3], scale.lut[red * 3 + 1], scale.lut[red * 3 + 2]),
        );
        expect(hit, `spike at level ${k} window ${win}`).toBe(true);
        if (win[0] === 0) {
          const nimg = composeColumns(lookup(allHoled), win, 400, { ...opts(k), width: 1 });
          const npx = paintColumns(nimg, scale);
          const nc = Math.floor((1234 / T) * nimg.cols);
          expect(
            [nc - 1, nc, nc + 1].some((c) => npx[c] === rgba32(...NAN_RGB)),
            `NaN at level ${k}`,
          ).toBe(true);
        }
      }
    }
  });

  it("extremeOf keeps the value farther from the middle", () => {
    expect(extremeOf(-0.2, 0.9, 0)).toBe(0.9);
    expect(extremeOf(-0.95, 0.9, 0)).toBe(-0.95);
    expect(extremeOf(0.1, 0.4, 0.5)).toBe(0.1);
    expect(Number.isNaN(extremeOf(NaN, 1, 0))).toBe(true);
  });

  it("foldLevel gives each column's min and max over all steps", () => {
    const d = foldLevel(lookup(tiles), 3, tilesAt(T, 3), W) as Float32Array;
    for (let w = 0; w < W; w++) {
      let mn = Infinity;
      let mx = -Infinity;
      for (let t = 0; t < T; t++) {
        mn = Math.min(mn, data[t * W + w]);
        mx = Math.max(mx, data[t * W + w]);
      }
      expect(d[w]).toBe(mn);
      expect(d[W + w]).toBe(mx);
    }
    expect(foldLevel(lookup(tiles.filter((x) => x.index !== 1)), 3, tilesAt(T, 3), W)).toBeNull();
  });
});

describe("TileClient", () => {
  function fakeTransport() {
    const sent: Array<{ id: number; tiles: Array<[string, number, number, number]> }> = [];
    let cb: ((c: unknown, b: readonly DataView[]) => void) | null = null;
    const transport: TileTransport = {
      send: (c) => sent.push(c as never),
      listen: (f) => {
        cb = f as never;
        return () => (cb = null);
      },
    };
    return { sent, transport, reply: (c: unknown, b: DataView[]) => cb?.(c, b) };
  }

  it("batches, never asks twice, files replies and reports errors", async () => {
    const f = fakeTransport();
    const client = new TileClient(new TileCache(), f.transport);
    for (let i = 0; i < 70; i++) client.want("k", 0, 3, i);
    client.want("k", 0, 3, 5); // again: not asked twice
    expect(f.sent).toHaveLength(0); // goes out at the end of the task
    await Promise.resolve();
    expect(f.sent.map((m) => m.tiles.length)).toEqual([64, 6]);
    expect(client.pending).toBe(70);
    client.want("k", 0, 3, 5); // in flight: not asked again
    await Promise.resolve();
    expect(f.sent).toHaveLength(2);
    // a reply: tile 0 with float32 lo and a scaled hi, as buffers
    const lo = new Float32Array([0.5, -1]);
    const hi = new Float32Array([0.25, 0.5]);
    let got: Tile[] = [];
    client.onTiles((t) => (got = t));
    f.reply(
      {
        type: "lstmviz-tiles",
        id: f.sent[0].id,
        error: "unknown key 'x'",
        tiles: [
          {
            key: "k",
            sample: 0,
            level: 3,
            index: 0,
            start: 0,
            stop: 16,
            n: 2,
            width: 1,
            lo: { dtype: "float32", shape: [2, 1], buffer: 0 },
            hi: { dtype: "float32", shape: [2, 1], scale: 4, buffer: 1 },
          },
        ],
      },
      [new DataView(lo.buffer), new DataView(hi.buffer)],
    );
    expect(got).toHaveLength(1);
    expect(Array.from(client.cache.get("k", 0, 3, 0)?.hi ?? [])).toEqual([1, 2]);
    expect(client.lastError).toContain("unknown key");
    expect(client.pending).toBe(6); // the first batch is answered, refused entries included
    expect(client.lastLatencyMs).toBeGreaterThanOrEqual(0);
    // someone else's message is ignored
    f.reply({ type: "lstmviz-export", id: "x" }, []);
    expect(client.pending).toBe(6);
  });

  it("asks again for tiles the kernel is still computing", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      const f = fakeTransport();
      const client = new TileClient(new TileCache(), f.transport);
      client.want("lyr|series:gate means", 0, 9, 0);
      client.flush();
      expect(f.sent).toHaveLength(1);
      f.reply(
        {
          type: "lstmviz-tiles",
          id: f.sent[0].id,
          error: null,
          tiles: [],
          pending: [["lyr|series:gate means", 0, 9, 0]],
        },
        [],
      );
      expect(client.pending).toBe(1); // still waited for
      client.want("lyr|series:gate means", 0, 9, 0);
      client.flush();
      expect(f.sent).toHaveLength(1); // not asked twice meanwhile
      vi.advanceTimersByTime(300);
      await Promise.resolve();
      client.flush();
      expect(f.sent).toHaveLength(2);
      expect(f.sent[1].tiles).toEqual([["lyr|series:gate means", 0, 9, 0]]);
      client.destroy();
    } finally {
      vi.useRealTimers();
    }
  });

  it("offline: never sends, serves what is held", async () => {
    const client = new TileClient(new TileCache(), null);
    expect(client.want("k", 0, 0, 0)).toBeUndefined();
    await Promise.resolve();
    expect(client.pending).toBe(0);
  });

  it("a tile whose sizes disagree is refused with its name", () => {
    expect(() =>
      decodeTile({
        key: "k",
        sample: 0,
        level: 1,
        index: 2,
        start: 0,
        stop: 4,
        n: 3,
        width: 2,
        lo: { dtype: "float32", shape: [2], data: new DataView(new Float32Array(2).buffer) },
        hi: null,
      }),
    ).toThrow(/tile k sample 0 level 1 #2/);
  });
});

describe("TiledData", () => {
  it("serves exact values from level 0 and a domain from the first payload's level", () => {
    const T = 3000;
    const data = series(T, 2, 9);
    const tiles = allTiles(data, T, 2, "lyr|h");
    const p = decodeTiledPayload({
      n_samples: 1,
      n_steps: T,
      lengths: [T],
      model_name: "m",
      layers: [{ name: "lyr", kind: "LSTM", units: 2, arrays: { h: { tiled: true, key: "lyr|h", shape: [1, T, 2] } } }],
      tiling: { tile_steps: 512, max_level: 12, initial_level: 1, offline: false, finest_level: 0, note: "" },
      initial_tiles: [],
    });
    const client = new TileClient(new TileCache(), null);
    for (const t of tiles) client.cache.put(t);
    const d = new TiledData(p, client);
    const arr = p.layers[0].arrays.get("h")!;
    expect(Array.from(d.exactAt(arr, 0, 2999)!)).toEqual([data[2999 * 2], data[2999 * 2 + 1]]);
    const dom = d.domain(arr, 0)!;
    expect(dom[0]).toBe(Math.min(...Array.from({ length: T }, (_, t) => data[t * 2])));
    expect(dom[3]).toBe(Math.max(...Array.from({ length: T }, (_, t) => data[t * 2 + 1])));
    const img = d.image(arr, 0, [0, T], 300);
    expect(img.complete).toBe(true);
    expect(img.level).toBe(3);
  });
});
