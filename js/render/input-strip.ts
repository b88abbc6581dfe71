/**
 * Canvas painting of the input track (js/views/input.ts): the saliency shade as one row of
 * pixels stretched over the track, and the thinned token labels on the time axis.
 */
import { spanPx, type XGeom } from "../math/columns";
import type { Envelope } from "../math/lod";
import { clipChars, displayToken, thinnedSteps, tokenStride } from "../math/tokens";

/** Longest label (in characters) of a thinned token. */
export const MAX_CHARS = 10;
export const FONT = "10px sans-serif";

/**
 * The shade of `cols` (alpha ∝ value / `max` × `alpha`, colour `rgb`) as one row of pixels
 * (one per CSS px) in `strip`, stretched over the track's `height`: one draw instead of a
 * rectangle (and a colour) per column.
 */
export function paintShadeStrip(
  ctx: CanvasRenderingContext2D,
  strip: HTMLCanvasElement,
  stripCtx: CanvasRenderingContext2D,
  cols: Envelope,
  geom: XGeom & { height: number },
  max: number,
  rgb: readonly number[],
  alpha: number,
): void {
  const [sr, sg, sb] = rgb;
  const W = Math.max(1, Math.ceil(geom.width));
  if (strip.width !== W) strip.width = W;
  strip.height = 1;
  const img = stripCtx.createImageData(W, 1);
  const px = img.data;
  for (let i = 0; i < cols.n; i++) {
    const v = cols.hi[i];
    if (!(v > 0)) continue;
    // whole pixels: adjacent steps share their edge (no seams, no double alpha)
    const [x0, x1] = spanPx(cols.start[i], cols.start[i + 1], geom).map(Math.round);
    const a = Math.round(255 * Math.min(1, v / max) * alpha);
    for (let x = Math.max(0, x0); x < Math.min(W, x1); x++) {
      px[4 * x] = sr;
      px[4 * x + 1] = sg;
      px[4 * x + 2] = sb;
      px[4 * x + 3] = a;
    }
  }
  stripCtx.putImageData(img, 0, 0);
  ctx.save();
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(strip, 0, 0, W, 1, 0, 0, W, geom.height);
  ctx.restore();
}

/** Every k-th token of `row` in the window, in `fg`, k so that the labels fit. */
export function paintTokens(
  ctx: CanvasRenderingContext2D,
  row: readonly string[],
  geom: XGeom & { height: number },
  fg: string,
): void {
  ctx.font = FONT;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillStyle = fg;
  // label width: the 75th percentile of the (clipped) widths of up to ~400 of the window's
  // tokens; a few long tokens are clipped with "…" rather than thinning out all the others
  const [t0, t1] = geom.win;
  const stride = Math.max(1, Math.floor((t1 - t0) / 400));
  const widths: number[] = [];
  for (let t = t0; t < t1; t += stride) {
    const tok = row[t] ?? "";
    if (tok) widths.push(ctx.measureText(clipChars(displayToken(tok), MAX_CHARS)).width);
  }
  widths.sort((a, c) => a - c);
  const labelPx = widths.length ? widths[Math.floor(0.75 * (widths.length - 1))] : 0;
  const k = tokenStride(geom.step, labelPx);
  const room = k * geom.step - 4;
  for (const t of thinnedSteps(geom.win, k)) {
    let text = clipChars(displayToken(row[t] ?? ""), MAX_CHARS);
    while (text.length > 1 && ctx.measureText(text).width > room) text = clipChars(text, [...text].length - 1);
    if (!text) continue;
    ctx.fillText(text, geom.x(t), geom.height / 2 + 0.5);
  }
}
