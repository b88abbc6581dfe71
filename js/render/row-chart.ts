/**
 * The attention card's row chart (js/views/attention.ts): one row of weights as bars with a
 * step line along their tops, NaN columns in the NaN colour. Pure canvas painting.
 */
import { NAN_COLOR } from "../math/scales";

/**
 * Paint `pooled` (one value per column, `cols` columns over `width` CSS px) as bars from the
 * bottom of a `H`-px chart, 0 … `scaleTop`. Below 3 px a bar, whole-pixel rectangles only.
 */
export function paintRowBars(
  ctx: CanvasRenderingContext2D,
  pooled: ArrayLike<number>,
  cols: number,
  width: number,
  H: number,
  scaleTop: number,
  accent: string,
): void {
  const bw = width / cols;
  const gap = bw >= 5 ? 1 : 0;
  const yOf = (v: number): number => H - 1 - (Math.max(0, Math.min(scaleTop, v)) / scaleTop) * (H - 2);
  if (bw < 3) {
    paintThinBars(ctx, pooled, cols, bw, H, yOf, accent);
    return;
  }
  ctx.fillStyle = accent;
  ctx.globalAlpha = 0.45;
  for (let j = 0; j < cols; j++) {
    const v = pooled[j];
    if (v - v !== 0) continue;
    const y = yOf(v);
    ctx.fillRect(j * bw, y, Math.max(1, bw - gap), H - 1 - y);
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = NAN_COLOR;
  for (let j = 0; j < cols; j++) {
    if (pooled[j] - pooled[j] !== 0) ctx.fillRect(j * bw, 0, Math.max(1, bw - gap), H);
  }
  // the top edge of the bars as a step line: readable where bars are thin
  ctx.strokeStyle = accent;
  ctx.lineWidth = 1.2;
  ctx.beginPath();
  for (let j = 0; j < cols; j++) {
    const v = pooled[j];
    const y = v - v !== 0 ? H - 1 : yOf(v);
    if (j === 0) ctx.moveTo(0, y);
    else ctx.lineTo(j * bw, y);
    ctx.lineTo((j + 1) * bw - (bw >= 5 ? gap : 0), y);
  }
  ctx.stroke();
}

/**
 * A bar per pixel or two: whole-pixel rectangles (bars edge to edge, the step line as 1-px
 * tops and risers) instead of hundreds of anti-aliased edges, redrawn on every step.
 */
function paintThinBars(
  ctx: CanvasRenderingContext2D,
  pooled: ArrayLike<number>,
  cols: number,
  bw: number,
  H: number,
  yOf: (v: number) => number,
  accent: string,
): void {
  const xs = (j: number): number => Math.round(j * bw);
  ctx.fillStyle = accent;
  ctx.globalAlpha = 0.45;
  for (let j = 0; j < cols; j++) {
    const v = pooled[j];
    if (v - v !== 0) continue;
    const y = Math.round(yOf(v));
    if (xs(j + 1) > xs(j) && y < H - 1) ctx.fillRect(xs(j), y, xs(j + 1) - xs(j), H - 1 - y);
  }
  ctx.globalAlpha = 1;
  ctx.fillStyle = NAN_COLOR;
  for (let j = 0; j < cols; j++) {
    if (pooled[j] - pooled[j] !== 0) ctx.fillRect(xs(j), 0, Math.max(1, xs(j + 1) - xs(j)), H);
  }
  ctx.fillStyle = accent;
  let prev = -1;
  for (let j = 0; j < cols; j++) {
    const v = pooled[j];
    const ly = Math.min(H - 1, Math.round((v - v !== 0 ? H - 1 : yOf(v)) - 0.5));
    const x0 = xs(j);
    ctx.fillRect(x0, ly, Math.max(1, xs(j + 1) - x0), 1);
    if (prev >= 0 && prev !== ly) ctx.fillRect(x0, Math.min(prev, ly), 1, Math.abs(prev - ly) + 1);
    prev = ly;
  }
}
