/**
 * Pure helpers of the attention view (js/views/attention.ts): one (sample, head) matrix out of
 * the (B, heads, Tq, Tk) scores, the mean over heads, max-pooling to pixel resolution, RGBA
 * rasterisation, and which query row the store's cursor drives.
 */
import type { DecodedAttention, DecodedLayer } from "../codecs";
import { LUT_SIZE, NAN_RGB, type ColorScale } from "./scales";

/** A head index, or "mean" for the mean over all heads. */
export type HeadChoice = number | "mean";

type Scores = Pick<DecodedAttention, "scores" | "heads" | "tq" | "tk">;

/**
 * The Tq × Tk matrix (row-major: [q·Tk + k]) of `sample` for one head (a view, no copy), or
 * the mean over heads (a new array; NaN in any head gives NaN).
 */
export function headMatrix(att: Scores, sample: number, head: HeadChoice): Float32Array {
  const n = att.tq * att.tk;
  const base = sample * att.heads * n;
  if (head !== "mean") {
    const h = Math.max(0, Math.min(att.heads - 1, head));
    return att.scores.subarray(base + h * n, base + (h + 1) * n);
  }
  const out = new Float32Array(n);
  if (att.heads === 0) return out;
  for (let h = 0; h < att.heads; h++) {
    const off = base + h * n;
    for (let i = 0; i < n; i++) out[i] += att.scores[off + i];
  }
  const inv = 1 / att.heads;
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}

/** Largest finite value (0 when there is none). */
export function finiteMax(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v > m && v !== Infinity) m = v;
  }
  return m;
}

/**
 * 1 / (largest finite value) of each row (1 for a row without a positive value): multiplying a
 * row by it shows each query's own pattern (attention over many keys is spread thin).
 */
export function rowScales(m: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let mx = 0;
    for (let c = 0; c < cols; c++) {
      const v = m[r * cols + c];
      if (v > mx && v !== Infinity) mx = v;
    }
    out[r] = mx > 0 ? 1 / mx : 1;
  }
  return out;
}

/** Bounds of bin `i` of `n` bins over `size` items: [floor(i·size/n), floor((i+1)·size/n)). */
function binStart(i: number, n: number, size: number): number {
  return Math.floor((i * size) / n);
}

/**
 * Max-pool a rows × cols matrix into outRows × outCols bins (each bin the max of the cells it
 * covers, so a one-cell spike survives the reduction). A bin holding a NaN/±Inf is NaN: bad
 * values stay visible. outRows ≤ rows and outCols ≤ cols. With `rowScale`, row r's values are
 * multiplied by rowScale[r] first (see rowScales).
 */
export function poolMax(
  m: ArrayLike<number>,
  rows: number,
  cols: number,
  outRows: number,
  outCols: number,
  rowScale?: ArrayLike<number>,
): Float32Array {
  const R = Math.max(1, Math.min(rows, outRows));
  const C = Math.max(1, Math.min(cols, outCols));
  const out = new Float32Array(R * C);
  if (rows === 0 || cols === 0) return out;
  const c0 = new Int32Array(C + 1);
  for (let j = 0; j <= C; j++) c0[j] = binStart(j, C, cols);
  for (let i = 0; i < R; i++) {
    const r0 = binStart(i, R, rows);
    const r1 = binStart(i + 1, R, rows);
    for (let j = 0; j < C; j++) {
      let best = -Infinity;
      let bad = false;
      for (let r = r0; r < r1 && !bad; r++) {
        const row = r * cols;
        const k = rowScale ? rowScale[r] : 1;
        for (let c = c0[j]; c < c0[j + 1]; c++) {
          const v = m[row + c] * k;
          if (v - v !== 0) {
            bad = true;
            break;
          }
          if (v > best) best = v;
        }
      }
      out[i * C + j] = bad ? NaN : best;
    }
  }
  return out;
}

/** Fill `out` (RGBA, rows × cols pixels, row-major) with the colours of matrix `m`. */
export function rasterizeMatrix(
  out: Uint8ClampedArray,
  m: ArrayLike<number>,
  rows: number,
  cols: number,
  scale: Pick<ColorScale, "lut" | "domain">,
): void {
  if (out.length !== rows * cols * 4) throw new Error(`rasterizeMatrix: ${out.length} bytes for ${rows}×${cols}`);
  const [d0, d1] = scale.domain;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const lut = scale.lut;
  for (let i = 0; i < rows * cols; i++) {
    const v = m[i];
    const p = i * 4;
    if (v - v !== 0) {
      out[p] = NAN_RGB[0];
      out[p + 1] = NAN_RGB[1];
      out[p + 2] = NAN_RGB[2];
    } else {
      let l = k === 0 ? 0 : Math.round((v - d0) * k);
      if (l < 0) l = 0;
      else if (l > LUT_SIZE - 1) l = LUT_SIZE - 1;
      out[p] = lut[l * 3];
      out[p + 1] = lut[l * 3 + 1];
      out[p + 2] = lut[l * 3 + 2];
    }
    out[p + 3] = 255;
  }
}

/**
 * The recurrent layer a query/key tensor came from: the layer of that name, or the halves of a
 * Bidirectional ("bi" → "bi/forward"). Null when the source is no recurrent layer.
 */
export function sourceLayer(source: string | null, layers: readonly DecodedLayer[]): DecodedLayer | null {
  if (!source) return null;
  return layers.find((l) => l.name === source) ?? layers.find((l) => l.name.startsWith(`${source}/`)) ?? null;
}

/** How an axis of the attention (query or key) relates to the explorer's time axis. */
export interface AxisLink {
  /** True when step i of this axis is step i of the main time axis (the cursor's axis). */
  main: boolean;
  /** The recurrent layer it comes from, if any. */
  layer: DecodedLayer | null;
}

/**
 * Whether an attention axis of `size` steps from `source` lies on the main time axis: it does
 * when it has the main axis's length, or when it is the output of a recurrent layer (every
 * layer's steps are drawn on the main axis, a shorter decoder padded at the end).
 */
export function axisLink(
  source: string | null,
  size: number,
  nSteps: number,
  layers: readonly DecodedLayer[],
): AxisLink {
  const layer = sourceLayer(source, layers);
  const main = size === nSteps || (layer !== null && size <= nSteps && layer.lengths.every((n) => n <= size));
  return { main, layer };
}

/** The query row the cursor highlights: `timestep` when it is a row, else null. */
export function cursorRow(tq: number, timestep: number): number | null {
  return Number.isInteger(timestep) && timestep >= 0 && timestep < tq ? timestep : null;
}

/**
 * Valid (unpadded) length of an attention axis for `sample`: the source layer's length, or
 * the sample's length when the axis is the main axis; else the whole axis.
 */
export function validLength(link: AxisLink, size: number, sample: number, sampleLengths: readonly number[]): number {
  if (link.layer) return Math.min(size, link.layer.lengths[sample] ?? size);
  if (link.main) return Math.min(size, sampleLengths[sample] ?? size);
  return size;
}

/** Row `q` of a row-major rows × cols matrix (a view). */
export function matrixRow(m: Float32Array, cols: number, q: number): Float32Array {
  return m.subarray(q * cols, (q + 1) * cols);
}

/** Shorten a label to `max` characters (an ellipsis marks the cut). */
export function shortLabel(s: string, max: number): string {
  if (max < 1) return "";
  return s.length <= max ? s : `${s.slice(0, Math.max(1, max - 1))}…`;
}

/**
 * The card's title and subtitle: layer (kind), head choice and sample; the matrix size and
 * what the cursor `t` drives on the query axis.
 */
export function attentionTitles(
  a: DecodedAttention,
  q: AxisLink,
  head: HeadChoice,
  sample: number,
  nSamples: number,
  t: number,
): { title: string; subtitle: string } {
  const s = nSamples > 1 ? ` · sample ${sample}` : "";
  const heads = a.heads > 1 ? ` · ${head === "mean" ? `mean of ${a.heads} heads` : `head ${head}`}` : "";
  const kind = a.kind && !a.name.toLowerCase().includes(a.kind.toLowerCase()) ? ` (${a.kind})` : "";
  const row = cursorRow(a.tq, t);
  const dims = `${a.tq} queries × ${a.tk} keys`;
  let cursor: string;
  if (q.main) cursor = row === null ? `cursor t = ${t} is past the last query` : `cursor t = ${t} → query row ${t}`;
  else {
    const own = `query axis has its own ${a.tq} steps${a.querySource ? ` (${a.querySource})` : ""}`;
    cursor = row === null ? `${own}; cursor t = ${t} is past it` : `${own}; cursor t drives row ${t}`;
  }
  return { title: `attention · ${a.name}${kind}${heads}${s}`, subtitle: `${dims} · ${cursor}` };
}

/** Tooltip lines of cell (query `cq`, key `ck`) holding `value`; `padding` when either is padded. */
export function cellLines(
  cq: number,
  ck: number,
  value: string,
  queryToken: string | undefined,
  keyToken: string | undefined,
  padding: boolean,
): string[] {
  const lines = [`query ${cq} → key ${ck}`];
  if (queryToken) lines.push(`query token: ${queryToken}`);
  if (keyToken) lines.push(`key token: ${keyToken}`);
  lines.push(`weight = ${value}`);
  if (padding) lines.push("(padding)");
  lines.push("click: move the cursor to this query");
  return lines;
}
