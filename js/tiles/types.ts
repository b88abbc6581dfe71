/**
 * Tiles of a long capture (issue 13; contract: docs/widget-contract.md "Tiled payload"):
 * the kernel (lstmviz_widget/widget/tiles.py) keeps a min/max pyramid along time of every array
 * drawn over time and sends tiles of it on request. Level k: bucket i covers steps
 * [i·2^k, min((i+1)·2^k, T)); a tile holds TILE_STEPS buckets × all `width` columns (units,
 * features or 1) of one (key, sample, level), lo = min and hi = max per bucket (level 0: the
 * exact values, hi = lo). Pure decoding here: no DOM.
 */
import { decodeArray } from "../codecs";
import type { EncodedArray, RawBytes } from "../model";

export const TILE_STEPS = 512;

/** One decoded tile: (n, width) bucket-major lo/hi, float32. */
export interface Tile {
  key: string;
  sample: number;
  level: number;
  index: number;
  /** First step covered. */
  start: number;
  /** One past the last step covered. */
  stop: number;
  /** Buckets in this tile (≤ TILE_STEPS). */
  n: number;
  width: number;
  lo: Float32Array;
  /** The same array as `lo` at level 0. */
  hi: Float32Array;
  /** Bytes held (for the cache's budget). */
  bytes: number;
}

/** `_data.tiling`. */
export interface TilingInfo {
  tileSteps: number;
  /** Coarsest level K = ceil(log2 T): one bucket covers every step. */
  maxLevel: number;
  /** The level the first payload holds whole (≤ 2048 buckets). */
  initialLevel: number;
  /** An offline copy (save_html): no kernel, only the embedded tiles. */
  offline: boolean;
  /** The finest level there is (0 live; an offline copy may stop above it). */
  finestLevel: number;
  /** Shown in the page when not empty (e.g. how many steps a column holds offline). */
  note: string;
}

export type TileRequest = readonly [key: string, sample: number, level: number, index: number];

/** The cache key of a tile. */
export function tileId(key: string, sample: number, level: number, index: number): string {
  return `${key}\u0001${sample}\u0001${level}\u0001${index}`;
}

/** A tile's lo/hi as sent: an encoded array (initial tiles) or one whose bytes are `buffer`. */
type RawPart =
  (EncodedArray & { buffer?: number }) | { dtype: string; shape: number[]; scale?: number; buffer: number };

export interface RawTile {
  key: string;
  sample: number;
  level: number;
  index: number;
  start: number;
  stop: number;
  n: number;
  width: number;
  lo: RawPart;
  hi: RawPart | null;
}

function part(raw: RawPart, buffers: readonly RawBytes[] | undefined, name: string): Float32Array {
  let enc = raw as EncodedArray;
  if (typeof (raw as { buffer?: unknown }).buffer === "number") {
    const i = (raw as { buffer: number }).buffer;
    const data = buffers?.[i];
    if (data === undefined) throw new Error(`${name}: buffer ${i} is missing from the message`);
    enc = { dtype: raw.dtype, shape: raw.shape, scale: raw.scale, data };
  }
  return decodeArray(enc, name).data;
}

/** Decode one tile of a reply (buffers given) or of `_data.initial_tiles`. Throws on a bad one. */
export function decodeTile(raw: RawTile, buffers?: readonly RawBytes[]): Tile {
  if (!raw || typeof raw !== "object" || typeof raw.key !== "string") throw new Error("tile: not a tile");
  const name = `tile ${raw.key} sample ${raw.sample} level ${raw.level} #${raw.index}`;
  const n = Number(raw.n);
  const width = Number(raw.width);
  const lo = part(raw.lo, buffers, `${name} lo`);
  const hi = raw.hi ? part(raw.hi, buffers, `${name} hi`) : lo;
  if (lo.length !== n * width || hi.length !== n * width) {
    throw new Error(`${name}: ${lo.length} values for ${n} buckets × ${width}`);
  }
  return {
    key: raw.key,
    sample: Number(raw.sample),
    level: Number(raw.level),
    index: Number(raw.index),
    start: Number(raw.start),
    stop: Number(raw.stop),
    n,
    width,
    lo,
    hi,
    bytes: lo.byteLength + (hi === lo ? 0 : hi.byteLength),
  };
}

/** Decode `_data.tiling`. */
export function decodeTiling(raw: unknown, nSteps: number): TilingInfo {
  const r = (raw ?? {}) as Record<string, unknown>;
  const maxLevel = Math.max(0, Math.ceil(Math.log2(Math.max(1, nSteps))));
  const int = (v: unknown, d: number): number => (Number.isInteger(Number(v)) ? Number(v) : d);
  const tileSteps = int(r.tile_steps, TILE_STEPS);
  if (tileSteps !== TILE_STEPS) throw new Error(`tiling: tile_steps ${tileSteps} (this frontend reads ${TILE_STEPS})`);
  return {
    tileSteps,
    maxLevel: int(r.max_level, maxLevel),
    initialLevel: int(r.initial_level, initialLevelFor(nSteps)),
    offline: r.offline === true,
    finestLevel: Math.max(0, int(r.finest_level, 0)),
    note: typeof r.note === "string" ? r.note : "",
  };
}

/** The level the first payload holds: the finest whose buckets number ≤ 2048. */
export function initialLevelFor(nSteps: number): number {
  let k = 0;
  while (Math.ceil(nSteps / 2 ** k) > 2048) k++;
  return k;
}
