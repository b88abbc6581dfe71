/**
 * What the tiled views read: a window of one array at screen resolution, the exact values at
 * one step, and an array's colour domain — each from the tiles held, asking the kernel for the
 * missing ones (TileClient) and falling back to what is held meanwhile. No DOM.
 */
import type { TimeWindow } from "../math/layout";
import { TileClient } from "./client";
import { type ColumnImage, composeColumns, foldLevel } from "./compose";
import { levelFor, tileOfStep, tileRange, tilesAt } from "./levels";
import type { TiledArray, TiledPayload } from "./payload";
import type { TokenClient } from "./tokens";
import { TILE_STEPS } from "./types";

export interface WindowImage extends ColumnImage {
  /** The level wanted for this window and width (what is drawn once every tile is in). */
  level: number;
  /** The window actually composed, integer steps. */
  win: [number, number];
  /** Whether every column is at the wanted level or finer. */
  complete: boolean;
}

export class TiledData {
  readonly payload: TiledPayload;
  readonly client: TileClient;
  /** Token labels by window, or null (no tokens, or offline). */
  readonly tokens: TokenClient | null;
  private readonly domains = new Map<string, Float32Array>();

  constructor(payload: TiledPayload, client: TileClient, tokens: TokenClient | null = null) {
    this.payload = payload;
    this.client = client;
    this.tokens = tokens;
    for (const t of payload.initialTiles) client.cache.put(t, true);
  }

  get nSteps(): number {
    return this.payload.nSteps;
  }

  /** The columns of `win` for `cols` pixel columns (cols ≥ 1), asking for what is missing. */
  image(arr: TiledArray, sample: number, win: TimeWindow, cols: number): WindowImage {
    const { tiling } = this.payload;
    const T = this.nSteps;
    const a = Math.max(0, Math.min(T - 1, Math.floor(win[0])));
    const b = Math.max(a + 1, Math.min(T, Math.ceil(win[1])));
    const level = levelFor([a, b], cols, tiling.maxLevel, tiling.finestLevel);
    const [first, last] = tileRange([a, b], level, T);
    const n = tilesAt(T, level);
    // the visible tiles, then one either side (a pan needs them next)
    for (let i = first; i <= last; i++) this.client.want(arr.key, sample, level, i);
    if (first > 0) this.client.want(arr.key, sample, level, first - 1);
    if (last + 1 < n) this.client.want(arr.key, sample, level, last + 1);
    const cache = this.client.cache;
    const img = composeColumns((k, i) => cache.get(arr.key, sample, k, i), [a, b], cols, {
      nSteps: T,
      width: arr.width,
      level,
      maxLevel: tiling.maxLevel,
      finestLevel: tiling.finestLevel,
    });
    let complete = img.missing === 0;
    for (let c = 0; c < img.cols && complete; c++) if (img.levels[c] > level) complete = false;
    return { ...img, level, win: [a, b], complete };
  }

  /** The exact values (width) at step t, or null until its level-0 tile is in. Asks for it
   *  and its neighbours (scrubbing on goes on from the cache). */
  exactAt(arr: TiledArray, sample: number, t: number): Float32Array | null {
    if (this.payload.tiling.finestLevel > 0) return null;
    const i = tileOfStep(t);
    const n = tilesAt(this.nSteps, 0);
    const tile = this.client.want(arr.key, sample, 0, i);
    if (i > 0) this.client.want(arr.key, sample, 0, i - 1);
    if (i + 1 < n) this.client.want(arr.key, sample, 0, i + 1);
    if (!tile) return null;
    const off = (t - i * TILE_STEPS) * arr.width;
    return tile.lo.subarray(off, off + arr.width);
  }

  /** The token label of step t of a sample ("" while it is on its way or when there are none). */
  tokenAt(sample: number, t: number): string {
    return this.tokens?.at(sample, t, this.nSteps) ?? "";
  }

  /** Per-column [min…, max…] over every step of the sample (2 × width), from the first
   *  payload's level; null until those tiles are in (then asked for). */
  domain(arr: TiledArray, sample: number): Float32Array | null {
    const id = `${arr.key}\u0001${sample}`;
    const held = this.domains.get(id);
    if (held) return held;
    const k = Math.max(this.payload.tiling.initialLevel, this.payload.tiling.finestLevel);
    const n = tilesAt(this.nSteps, k);
    for (let i = 0; i < n; i++) this.client.want(arr.key, sample, k, i);
    const cache = this.client.cache;
    const d = foldLevel((lvl, i) => cache.get(arr.key, sample, lvl, i), k, n, arr.width);
    if (d) this.domains.set(id, d);
    return d;
  }
}
