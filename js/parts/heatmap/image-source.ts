/**
 * Where a heatmap panel's image comes from, for a window: a part of the full-resolution image
 * of its rows folded once (exact columns), columns composed from the per-step and per-pair
 * colours of those rows, a raster of the rows folded around the window (RowFolder), or a raster
 * of the data itself through the unit pyramid. It keeps those caches per (array, sample, order,
 * rows, scale) and returns the image and the steps it shows; the panel draws it (blit).
 */
import type { DecodedArray, DecodedLayer } from "../../codecs";
import type { TimeWindow } from "../../math/layout";
import { minLevelFor, Pyramid, pyramidFor } from "../../math/pyramid";
import {
  imageColumnBounds,
  rasterizeWindow,
  type WindowImageSize,
  windowImageSize,
  type WindowSource,
} from "../../math/raster";
import { colourRows, composeColumns, foldRows, pairColours, RowFolder } from "../../math/rowfold";
import type { ColorScale } from "../../math/scales";
import { context2d, html } from "../../render/dom";
import type { SortMode } from "../../store";

/**
 * A panel folds its units into its pixel rows once (`foldRows`) for all steps when T × rows
 * values fit in this many floats (4 MB per million), else for a chunk around the window that
 * fits, and keeps the full-resolution image of them: a zoom or pan then rasterises `rows` values
 * per step instead of U, and a window of exact columns (every step its own column) is just a
 * part of that image, drawn without rasterising at all.
 */
export const FULL_ROWS_BUDGET = 4_000_000;
/** Folded rows around the window (RowFolder) sit on multiples of this many steps. */
const CHUNK_GRID = 1024;
/** They serve windows of fewer than CHUNK_STEPS steps per column: columns read from the data
 *  (longer ones are whole pyramid buckets, read from the row-folded pyramid, which is cheaper);
 *  such columns hold ≤ CHUNK_STEPS steps, fewer than 2^CHUNK_LEVEL. */
const CHUNK_STEPS = 8;
const CHUNK_LEVEL = 5;
/** Widest full-resolution image kept (browsers refuse wider canvases). */
const MAX_FULL_WIDTH = 16_384;

interface FullRows {
  arr: DecodedArray;
  sample: number;
  order: Int32Array;
  rows: number;
  scale: ColorScale;
  /** The steps [from, to) folded (all of them when they fit in the budget). */
  from: number;
  to: number;
  /** (to − from, rows): see foldRows. */
  folded: Float32Array;
  /** The finest level of `pyramid` (built on first need). */
  minLevel: number;
  pyramid: () => Pyramid;
  /** rows × T pixels (colourRows) as a canvas, and as colours (image layout). */
  image: HTMLCanvasElement | null;
  pixels: Uint32Array | null;
  /** Colours of neighbouring pairs of steps (pairColours), made on first need. */
  pairs: Uint32Array | null;
}

/** What is shown: the layer, its array for the quantity, and the colour scale. */
export interface Shown {
  layer: DecodedLayer;
  arr: DecodedArray;
  scale: ColorScale;
}

/** The part of the store's state the image depends on, and the panel's window geometry. */
export interface ImageRequest {
  sample: number;
  sortMode: SortMode;
  win: TimeWindow;
  size: WindowImageSize;
  /** Unit of each row, top to bottom. */
  order: Int32Array;
}

/** This part (sx, sw, sh) of this image shows the steps `win`. */
export interface Rendered {
  source: { image: CanvasImageSource; sx: number; sw: number; sh: number };
  win: TimeWindow;
}

export interface ImageSource {
  /** The image of `c` for `req`, or null without a 2D context. */
  render(c: Shown, req: ImageRequest): Rendered | null;
}

export function createImageSource(T: number): ImageSource {
  const offscreen = html("canvas");
  const offCtx = context2d(offscreen);
  let imageData: ImageData | null = null;
  /** The panel's rows folded once (foldRows) and their full-resolution image, when small enough. */
  let full: FullRows | null = null;
  let st: ImageRequest = {
    sample: 0,
    sortMode: "natural",
    win: [0, T],
    size: windowImageSize([0, T], 1, 1, 1),
    order: new Int32Array(0),
  };
  let size = st.size;
  let order = st.order;

  /**
   * The folded rows of this (array, sample, order, rows, scale) over all steps, built on first
   * use when they fit in FULL_ROWS_BUDGET (not in the "activation" order, which changes on every
   * step; not when they would be the data itself).
   */
  const fullRows = (c: Shown): FullRows | null => {
    const s = st;
    const rows = size.height;
    const U = c.layer.units;
    if (s.sortMode === "activation") return null;
    if (rows === U && order.every((u, r) => u === r)) return null; // the data itself: nothing to gain
    const [a, b] = size.win;
    const f = full;
    if (
      f &&
      f.arr === c.arr &&
      f.sample === s.sample &&
      f.order === order &&
      f.rows === rows &&
      f.scale === c.scale &&
      f.from <= a &&
      b <= f.to
    ) {
      return f;
    }
    if (T * rows > FULL_ROWS_BUDGET) return null;
    full = null; // let the old one go before the new one is allocated
    full = foldFullRows(c, s.sample, order, rows, T);
    return full;
  };

  /**
   * For a sequence too long to fold at once: its rows folded around the window (RowFolder),
   * while a column holds fewer steps than CHUNK_STEPS (longer ones read the row-folded pyramid
   * instead) and three windows fit in FULL_ROWS_BUDGET. A pan then folds only the steps it
   * brings into view, and the window is rasterised from `rows` values per step.
   */
  let folder: { arr: DecodedArray; sample: number; order: Int32Array; scale: ColorScale; rf: RowFolder } | null = null;
  const chunkRows = (c: Shown): RowFolder | null => {
    const s = st;
    const rows = size.height;
    const U = c.layer.units;
    const [a, b] = size.win;
    if (s.sortMode === "activation" || rows >= U || !size.aggregated || size.stepsPerColumn >= CHUNK_STEPS) return null;
    if (3 * (b - a) * rows > FULL_ROWS_BUDGET) return null;
    let f = folder;
    if (
      !f ||
      f.arr !== c.arr ||
      f.sample !== s.sample ||
      f.order !== order ||
      f.scale !== c.scale ||
      f.rf.rows !== rows
    ) {
      folder = null;
      const [d0, d1] = c.scale.domain;
      const capacity = Math.floor(FULL_ROWS_BUDGET / rows);
      const rf = new RowFolder(c.arr.data, s.sample, T, U, order, rows, (d0 + d1) / 2, capacity, CHUNK_GRID);
      f = folder = { arr: c.arr, sample: s.sample, order, scale: c.scale, rf };
    }
    return f.rf.cover(a, b) ? f.rf : null;
  };

  /** The unit pyramid folded into `rows` rows in the current order (Pyramid.foldRows), kept
   *  while (array, sample, order, rows) stay the same. */
  let rowsPyr: { arr: DecodedArray; sample: number; order: Int32Array; rows: number; pyr: Pyramid } | null = null;
  const rowsPyramidFor = (arr: DecodedArray, sample: number, rows: number): Pyramid => {
    const r = rowsPyr;
    if (r && r.arr === arr && r.sample === sample && r.order === order && r.rows === rows) return r.pyr;
    const pyr = pyramidFor(arr, sample).foldRows(order, rows);
    rowsPyr = { arr, sample, order, rows, pyr };
    return pyr;
  };

  const render = (c: Shown): Rendered | null => {
    if (!offCtx) return null;
    const s = st;
    const w = st.win;
    const U = c.layer.units;
    const f = fullRows(c);
    const len = f ? f.to - f.from : 0;
    // (made when a window needs it: exact columns, or columns of 1–2 steps)
    if (f && len <= MAX_FULL_WIDTH && !f.image && size.stepsPerColumn < 2) makeFullImage(f, len, c.scale);
    if (f?.image && !size.aggregated) {
      // exact columns: a part of the full-resolution image
      return { source: { image: f.image, sx: w[0] - f.from, sw: w[1] - w[0], sh: f.rows }, win: [w[0], w[1]] };
    }
    if (offscreen.width !== size.width || offscreen.height !== size.height || !imageData) {
      offscreen.width = size.width;
      offscreen.height = size.height;
      imageData = offCtx.createImageData(size.width, size.height);
    }
    const arr = c.arr;
    const rf = f ? null : chunkRows(c);
    // With folded rows around the window, it is drawn from them in their own steps (shifted by
    // rf.base, a multiple of CHUNK_GRID: the same columns).
    const shift = rf ? rf.base : 0;
    const local: WindowImageSize = rf ? { ...size, win: [size.win[0] - shift, size.win[1] - shift] } : size;
    const bounds = f?.pixels && size.bucketLevel < 0 && size.stepsPerColumn < 2 ? imageColumnBounds(local) : null;
    // columns of 1–2 steps: copied from the per-step and per-pair colours, nothing recomputed
    let composed = false;
    if (f?.pixels && bounds) {
      f.pairs ??= pairColours(f.folded, len, f.rows, c.scale);
      composed = composeColumns(imageData.data, bounds, size.width, f.rows, len, f.pixels, f.pairs);
    }
    if (!composed) {
      const chunk = rf;
      rasterizeWindow(
        imageData.data,
        rasterSource(f, chunk, arr, s.sample, T, U, (rows) => rowsPyramidFor(arr, s.sample, rows)),
        [w[0] - shift, w[1] - shift],
        local,
        f || chunk ? null : order,
        c.scale,
      );
    }
    offCtx.putImageData(imageData, 0, 0);
    return { source: { image: offscreen, sx: 0, sw: offscreen.width, sh: offscreen.height }, win: size.win };
  };

  return {
    render(c, req) {
      st = req;
      size = req.size;
      order = req.order;
      return render(c);
    },
  };
}

/** The rows of (array, sample, order) folded into `rows` rows over all T steps. */
function foldFullRows(c: Shown, sample: number, order: Int32Array, rows: number, T: number): FullRows {
  const U = c.layer.units;
  const from = 0;
  const to = T;
  const [d0, d1] = c.scale.domain;
  const folded = foldRows(c.arr.data, sample, T, U, order, rows, (d0 + d1) / 2, from, to);
  const len = to - from;
  // columns of up to 15 steps read the folded rows themselves; longer ones a pyramid of them
  const minLevel = Math.max(minLevelFor(len, rows), 4);
  let pyr: Pyramid | null = null;
  return {
    arr: c.arr,
    sample,
    order,
    rows,
    scale: c.scale,
    from,
    to,
    folded,
    minLevel,
    pyramid: () => (pyr ??= new Pyramid(folded, 0, len, rows, minLevel)),
    image: null,
    pixels: null,
    pairs: null,
  };
}

/** The full-resolution image (and its pixels) of `f`, once per (rows, order, scale, chunk);
 *  made when a window needs it: exact columns, or columns of 1–2 steps. */
function makeFullImage(f: FullRows, len: number, scale: ColorScale): void {
  const img = html("canvas");
  img.width = len;
  img.height = f.rows;
  const ic = context2d(img);
  if (ic) {
    const data = ic.createImageData(len, f.rows);
    colourRows(data.data, f.folded, len, f.rows, scale);
    ic.putImageData(data, 0, 0);
    f.pixels = new Uint32Array(data.data.buffer, data.data.byteOffset, len * f.rows);
  }
  f.image = img;
}

/** What rasterizeWindow reads: the folded rows, a chunk of them, or the data itself. */
function rasterSource(
  f: FullRows | null,
  chunk: RowFolder | null,
  arr: DecodedArray,
  sample: number,
  T: number,
  U: number,
  rowsPyramid: (rows: number) => Pyramid,
): WindowSource {
  if (f)
    return {
      data: f.folded,
      sample: 0,
      nSteps: f.to - f.from,
      units: f.rows,
      pyramid: f.pyramid,
      minLevel: f.minLevel,
    };
  if (chunk) {
    return {
      data: chunk.data,
      sample: 0,
      nSteps: chunk.capacity,
      units: chunk.rows,
      // every column is shorter than CHUNK_STEPS: read from the folded rows, never a pyramid
      minLevel: CHUNK_LEVEL,
      pyramid: () => {
        throw new Error("heatmap: a chunk of folded rows has no pyramid");
      },
    };
  }
  return { data: arr.data, sample, nSteps: T, units: U, pyramid: () => pyramidFor(arr, sample), rowsPyramid };
}
