/**
 * Canvas painting of the weight-vs-gradient card (js/views/scatter.ts): every weight as a
 * small square in its gate's colour, and the weights of some units emphasised on top.
 */
import type { LayerPoints } from "../math/weight-points";

/** Draw rounds: interleaved so that the last gate does not cover the others. */
const ROUNDS = 16;

/** Every point at (px[i], py[i]) in segment order (NaN: hidden), fainter as points pile up. */
export function paintPoints(ctx: CanvasRenderingContext2D, p: LayerPoints, px: Float32Array, py: Float32Array): void {
  ctx.globalAlpha = Math.max(0.25, Math.min(0.8, 4000 / p.n));
  for (let round = 0; round < ROUNDS; round++) {
    let off = 0;
    for (const s of p.segments) {
      const n = s.w.length;
      ctx.fillStyle = p.colors[s.gate];
      const j1 = Math.ceil(((round + 1) * n) / ROUNDS);
      for (let j = Math.ceil((round * n) / ROUNDS); j < j1; j++) {
        const xx = px[off + j];
        const yy = py[off + j];
        if (Number.isFinite(xx) && Number.isFinite(yy)) ctx.fillRect(xx - 1.1, yy - 1.1, 2.2, 2.2);
      }
      off += n;
    }
  }
  ctx.globalAlpha = 1;
}

/** The weights of `units` (every matrix's columns), squares of half-size `r` rimmed in `stroke`. */
export function paintUnits(
  ctx: CanvasRenderingContext2D,
  p: LayerPoints,
  hiddenGates: ReadonlySet<number>,
  units: readonly number[],
  r: number,
  stroke: string,
  at: (w: number, sy: number) => [number, number],
): void {
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1;
  for (const s of p.segments) {
    if (hiddenGates.has(s.gate)) continue;
    ctx.fillStyle = p.colors[s.gate];
    for (const u of units) {
      for (let row = 0; row < s.rows; row++) {
        const idx = row * s.units + u;
        const [xx, yy] = at(s.w[idx], s.sy[idx]);
        if (!Number.isFinite(xx) || !Number.isFinite(yy)) continue;
        ctx.fillRect(xx - r, yy - r, 2 * r, 2 * r);
        ctx.strokeRect(xx - r, yy - r, 2 * r, 2 * r);
      }
    }
  }
}
