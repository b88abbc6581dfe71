/**
 * The points of the weight-vs-gradient scatter (views/scatter.ts): every (gate, part) matrix of
 * a layer with its gradients, the symlog y of each point, the x range and the gate colours.
 */
import type { DecodedArray, DecodedLayer } from "../codecs";
import { gateColor as namedGateColor } from "./gates";
import { symlog, symlogConstant } from "./symlog";
import { matrixDims, weightXRange } from "./weights";

/** One (gate, part): its weights and their gradients, (rows, U) in C order. */
export interface Segment {
  gate: number;
  gateName: string;
  part: string;
  w: Float32Array;
  g: Float32Array;
  /** symlog(g, c): the y of each point before scaling (computed once per layer). */
  sy: Float32Array;
  rows: number;
  units: number;
}

export interface LayerPoints {
  layer: DecodedLayer;
  gates: string[];
  segments: Segment[];
  n: number;
  /** Symlog threshold and the x / y extents. */
  c: number;
  /** Range of the finite weights; max |∂L/∂w|. */
  loW: number;
  hiW: number;
  maxG: number;
  nonFinite: number;
  /** Finite weights outside [loW, hiW], drawn on its edges. */
  beyond: number;
  /** CSS colour of each gate: math/gates.ts, as the gate tracks', so a gate looks the same everywhere. */
  colors: string[];
}

export function collectWeightPoints(layer: DecodedLayer): LayerPoints | null {
  const W = layer.weights;
  const G = layer.weightGrads;
  if (!W || !G) return null;
  const gates = [...W.keys()];
  const segments: Segment[] = [];
  gates.forEach((gateName, gate) => {
    for (const [part, w] of W.get(gateName) ?? new Map<string, DecodedArray>()) {
      const g = G.get(gateName)?.get(part);
      if (!g || g.data.length !== w.data.length) continue;
      const [rows, units] = matrixDims(w);
      segments.push({ gate, gateName, part, w: w.data, g: g.data, sy: new Float32Array(0), rows, units });
    }
  });
  if (segments.length === 0) return null;
  let maxG = 0;
  let n = 0;
  let nonFinite = 0;
  for (const s of segments) {
    n += s.w.length;
    for (let i = 0; i < s.w.length; i++) {
      const w = s.w[i];
      const b = Math.abs(s.g[i]);
      if (w - w !== 0 || b === Infinity || b !== b) {
        nonFinite++;
        continue;
      }
      if (b > maxG) maxG = b;
    }
  }
  const c = symlogConstant(segments.map((s) => s.g));
  for (const s of segments) {
    const sy = new Float32Array(s.g.length);
    for (let i = 0; i < sy.length; i++) sy[i] = symlog(s.g[i], c);
    s.sy = sy;
  }
  // x range: all weights, or without far outliers (weightXRange); those sit on the edges
  const { lo, hi, beyond } = weightXRange(segments.map((s) => s.w));
  const colors = gates.map((g, k) => namedGateColor(g, k));
  return { layer, gates, segments, n, c, loW: lo, hiW: hi, maxG, nonFinite, beyond, colors };
}

/**
 * The point of `segments` nearest to (mx, my) within 6 px, given every point's pixel position
 * (px, py) in segment order, as (segment, index); null when none is that close.
 */
export function nearestWeight(
  segments: readonly Segment[],
  px: Float32Array,
  py: Float32Array,
  mx: number,
  my: number,
): { s: Segment; idx: number } | null {
  let best = 36;
  let bi = -1;
  for (let i = 0; i < px.length; i++) {
    const dx = px[i] - mx;
    const dy = py[i] - my;
    const d = dx * dx + dy * dy;
    if (d < best) {
      best = d;
      bi = i;
    }
  }
  if (bi < 0) return null;
  let off = 0;
  for (const s of segments) {
    if (bi < off + s.w.length) return { s, idx: bi - off };
    off += s.w.length;
  }
  return null;
}
