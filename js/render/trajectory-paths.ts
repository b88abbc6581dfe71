/**
 * Canvas painting of the trajectory card (js/views/trajectory.ts): the grey paths of the other
 * samples and the current sample's path coloured by time.
 */
import { decimatePath, pathPixels, type Affine, type AxisSource, type Projection } from "../math/trajectory";

/** Colour buckets along time for the current path (one stroke each). */
const TIME_BUCKETS = 64;
/** Grey samples are thinned (every n-th sample) above this many points in all. */
const MAX_GREY_POINTS = 2_000_000;
/** Show a dot at every point up to this many valid steps. */
const DOTS_UP_TO = 240;

/** Stroke the kept points of a path (lifting the pen at gaps). */
export function tracePath(c: CanvasRenderingContext2D, xs: Float32Array, ys: Float32Array, kept: Int32Array): void {
  let pen = false;
  for (let j = 0; j < kept.length; j++) {
    const i = kept[j];
    const x = xs[i];
    const y = ys[i];
    if (x - x !== 0 || y - y !== 0) {
      pen = false;
      continue;
    }
    if (pen) c.lineTo(x, y);
    else c.moveTo(x, y);
    pen = true;
  }
}

/** Every sample of `p` (thinned above MAX_GREY_POINTS) as a faint `fg` line. */
export function strokeGreyPaths(
  c: CanvasRenderingContext2D,
  p: Projection,
  lengths: readonly number[],
  src: readonly [AxisSource, AxisSource],
  ax: Affine,
  ay: Affine,
  fg: string,
): void {
  let total = 0;
  for (let b = 0; b < p.B; b++) total += Math.min(p.T, lengths[b] ?? p.T);
  const stride = Math.max(1, Math.ceil(total / MAX_GREY_POINTS));
  c.strokeStyle = fg;
  c.globalAlpha = 0.2;
  c.lineWidth = 1;
  c.lineJoin = "round";
  for (let b = 0; b < p.B; b += stride) {
    const len = Math.min(p.T, lengths[b] ?? p.T);
    const { xs, ys } = pathPixels(p, b, len, src[0], src[1], ax, ay);
    c.beginPath();
    tracePath(c, xs, ys, decimatePath(xs, ys));
    c.stroke();
  }
  c.globalAlpha = 1;
}

/** The current path: one stroke per time bucket in `ramp`'s colour, dots when short. */
export function strokeTimePath(
  c: CanvasRenderingContext2D,
  pth: { xs: Float32Array; ys: Float32Array; kept: Int32Array; len: number },
  ramp: (f: number) => string,
): void {
  const { xs, ys, kept, len } = pth;
  const denom = Math.max(1, len - 1);
  c.lineWidth = 1.8;
  c.lineJoin = "round";
  c.lineCap = "round";
  let bucket = -1;
  let pen = false;
  let px = 0;
  let py = 0;
  for (let j = 0; j < kept.length; j++) {
    const i = kept[j];
    const x = xs[i];
    const y = ys[i];
    if (x - x !== 0 || y - y !== 0) {
      pen = false;
      continue;
    }
    if (pen) {
      const bk = Math.min(TIME_BUCKETS - 1, Math.floor((i / denom) * TIME_BUCKETS));
      if (bk !== bucket) {
        if (bucket >= 0) c.stroke();
        bucket = bk;
        c.strokeStyle = ramp((bk + 0.5) / TIME_BUCKETS);
        c.beginPath();
        c.moveTo(px, py);
      }
      c.lineTo(x, y);
    }
    px = x;
    py = y;
    pen = true;
  }
  if (bucket >= 0) c.stroke();
  if (len <= DOTS_UP_TO) {
    for (let t = 0; t < len; t++) {
      if (xs[t] - xs[t] !== 0 || ys[t] - ys[t] !== 0) continue;
      c.fillStyle = ramp(t / denom);
      c.beginPath();
      c.arc(xs[t], ys[t], 2.2, 0, 2 * Math.PI);
      c.fill();
    }
  }
}
