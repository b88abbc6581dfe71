/**
 * Drawing of the line tracks (views/input, gatelines, memory, gradients, confidence): envelopes,
 * bands, fills and marks of math/lod.ts envelopes in math/columns.ts column geometry. These only
 * call methods of the 2D context they are given (no DOM lookups), so a recording fake context
 * tests them.
 */
import { columnX, paddingPx, type XGeom } from "../math/columns";
import type { Envelope } from "../math/lod";

// ---- drawing (2D context only) ----------------------------------------------------------------

/** The part of CanvasRenderingContext2D these helpers use. */
export type Ctx = Pick<
  CanvasRenderingContext2D,
  "beginPath" | "moveTo" | "lineTo" | "closePath" | "stroke" | "fill" | "fillRect" | "save" | "restore" | "setLineDash"
> & {
  strokeStyle: CanvasRenderingContext2D["strokeStyle"];
  fillStyle: CanvasRenderingContext2D["fillStyle"];
  lineWidth: number;
  globalAlpha: number;
  lineJoin: CanvasLineJoin;
};

/**
 * Trace an envelope as one path: a polyline through the columns, vertical strokes lo → hi where
 * a column spans several values, a gap at every NaN column. Each run of finite columns is
 * extended by `stub` px at both ends, so a single finite step between gaps stays visible.
 * Returns the number of runs (segments).
 */
export function traceEnvelope(ctx: Ctx, env: Envelope, g: XGeom, y: (v: number) => number, stub = 2): number {
  let runs = 0;
  let open = false;
  let lastX = 0;
  let lastY = 0;
  const d = Math.min(stub, g.step / 2);
  for (let i = 0; i < env.n; i++) {
    const lo = env.lo[i];
    const hi = env.hi[i];
    const y0 = y(lo);
    const y1 = y(hi);
    if (y0 - y0 !== 0 || y1 - y1 !== 0) {
      if (open) ctx.lineTo(lastX + d, lastY);
      open = false;
      continue;
    }
    const x = columnX(env, i, g);
    if (!open) {
      ctx.moveTo(x - d, y0);
      ctx.lineTo(x, y0);
      runs++;
    } else ctx.lineTo(x, y0);
    if (y1 !== y0) ctx.lineTo(x, y1);
    open = true;
    lastX = x;
    lastY = y1;
  }
  if (open) ctx.lineTo(lastX + d, lastY);
  return runs;
}

// ---- dense envelopes: one rectangle per pixel column ----------------------------------------

/**
 * Columns at most this many px apart are drawn as one rectangle each instead of one path
 * through them all: at ~1 px per column the picture is the same, and a software rasteriser
 * fills a thousand small rectangles in a fraction of the time it takes to stroke (or fill) an
 * anti-aliased zigzag of two thousand vertices whose edges cross every scanline.
 */
export const DENSE_PX = 1.5;

/** Whether `env` is drawn column by column (see DENSE_PX). */
export function isDense(env: Envelope, g: XGeom): boolean {
  return env.n > 1 && g.width / env.n <= DENSE_PX;
}

/** Left and right px of column i's steps, rounded to whole px: adjacent columns share their
 *  edge (a partition of the plot: translucent fills never overlap or leave seams). */
function columnEdges(env: Envelope, i: number, g: XGeom): [number, number] {
  const a = Math.round(g.x(env.start[i]) - g.step / 2);
  const b = Math.round(g.x(env.start[i + 1] - 1) + g.step / 2);
  return [a, b];
}

/**
 * Whole-pixel rectangles filled as horizontal runs: a rectangle with the same top and bottom as
 * the previous one, touching or overlapping it, extends it instead of being drawn on its own
 * (the same pixels: flat stretches of a line cost one fill, not one per column).
 */
function rectRuns(ctx: Ctx): { add(x0: number, x1: number, y0: number, y1: number): void; flush(): void } {
  let rx0 = 0;
  let rx1 = 0;
  let ry0 = 0;
  let ry1 = 0;
  let open = false;
  const flush = (): void => {
    if (open) ctx.fillRect(rx0, ry0, rx1 - rx0, ry1 - ry0);
    open = false;
  };
  return {
    add(x0, x1, y0, y1) {
      if (open && y0 === ry0 && y1 === ry1 && x0 <= rx1 && x1 >= rx0) {
        if (x1 > rx1) rx1 = x1;
        if (x0 < rx0) rx0 = x0;
        return;
      }
      flush();
      rx0 = x0;
      rx1 = x1;
      ry0 = y0;
      ry1 = y1;
      open = true;
    },
    flush,
  };
}

/** Whether x lies on a dash of the pattern `dash` (on/off lengths in px, along x). */
function onDash(x: number, dash: readonly number[], period: number): boolean {
  let p = ((x % period) + period) % period;
  for (let k = 0; k < dash.length; k++) {
    if (p < dash[k]) return k % 2 === 0;
    p -= dash[k];
  }
  return false;
}

/**
 * The dense form of `strokeEnvelope` (solid lines): per column a `width`-wide rectangle over the
 * column's min → max and the step from the previous column's end (the polyline's vertical and
 * diagonal strokes), gaps at NaN columns; a dash pattern skips columns along x (fillStyle as
 * set). Returns the rectangles drawn.
 */
export function fillEnvelopeColumns(
  ctx: Ctx,
  env: Envelope,
  g: XGeom,
  y: (v: number) => number,
  width: number,
  dash: readonly number[] = [],
): number {
  const half = width / 2;
  const period = dash.reduce((a, b) => a + b, 0);
  let prev = NaN;
  let prevRight = 0; // right edge of the previous column's rectangle (when connected)
  let n = 0;
  const runs = rectRuns(ctx);
  for (let i = 0; i < env.n; i++) {
    const y0 = y(env.lo[i]);
    const y1 = y(env.hi[i]);
    if (y0 - y0 !== 0 || y1 - y1 !== 0) {
      prev = NaN;
      continue;
    }
    const x = columnX(env, i, g);
    let top = y0 < y1 ? y0 : y1;
    let bottom = y0 < y1 ? y1 : y0;
    const connected = prev - prev === 0;
    if (connected) {
      if (prev < top) top = prev;
      if (prev > bottom) bottom = prev;
    }
    prev = y1;
    // whole pixels: aligned rectangles need no anti-aliasing, and equal neighbours merge; a
    // column reaches back to its connected neighbour (no gap where columns are > 1 px apart)
    let x0 = Math.round(x - half);
    const x1 = Math.max(x0 + 1, Math.round(x + half));
    if (connected && prevRight < x0) x0 = prevRight;
    prevRight = x1;
    if (period > 0 && !onDash(x, dash, period)) continue;
    const y0r = Math.round(top - half);
    runs.add(x0, x1, y0r, Math.max(y0r + 1, Math.round(bottom + half)));
    n++;
  }
  runs.flush();
  return n;
}

/** Stroke one envelope in `color` (column by column when dense, see DENSE_PX). */
export function strokeEnvelope(
  ctx: Ctx,
  env: Envelope,
  g: XGeom,
  y: (v: number) => number,
  color: string,
  width = 1.5,
  dash: number[] = [],
): void {
  const dense = isDense(env, g);
  if (dense && dash.length === 0) {
    ctx.fillStyle = color;
    fillEnvelopeColumns(ctx, env, g, y, width);
    return;
  }
  ctx.beginPath();
  traceEnvelope(ctx, env, g, y);
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  // a dashed line stays a path (dashes follow its length); at pixel density bevel joins look
  // the same as round ones and cost far less to rasterise
  ctx.lineJoin = dense ? "bevel" : "round";
  ctx.setLineDash(dash);
  ctx.stroke();
  ctx.setLineDash([]);
}

/**
 * Fill the band between `lower` (its lo) and `upper` (its hi), column by column, with gaps where
 * either is NaN. Both envelopes must share their columns (same window and width).
 */
export function fillBand(
  ctx: Ctx,
  lower: Envelope,
  upper: Envelope,
  g: XGeom,
  y: (v: number) => number,
  color: string,
  alpha: number,
): void {
  ctx.save();
  ctx.fillStyle = color;
  ctx.globalAlpha = alpha;
  const n = Math.min(lower.n, upper.n);
  if (isDense(upper, g)) {
    // one whole-pixel rectangle per column, edge to edge (see DENSE_PX), equal neighbours merged
    const runs = rectRuns(ctx);
    for (let k = 0; k < n; k++) {
      const a = y(lower.lo[k]);
      const b = y(upper.hi[k]);
      if (a - a !== 0 || b - b !== 0) continue;
      const [x0, x1] = columnEdges(upper, k, g);
      const y0 = Math.round(Math.min(a, b));
      const y1 = Math.round(Math.max(a, b));
      if (x1 > x0 && y1 > y0) runs.add(x0, x1, y0, y1);
    }
    runs.flush();
    ctx.restore();
    return;
  }
  const d = Math.min(2, g.step / 2);
  let i = 0;
  const ok = (k: number): boolean => {
    const a = y(lower.lo[k]);
    const b = y(upper.hi[k]);
    return a - a === 0 && b - b === 0;
  };
  while (i < n) {
    if (!ok(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && ok(j + 1)) j++;
    ctx.beginPath();
    for (let k = i; k <= j; k++) {
      const x = columnX(upper, k, g) + (k === i ? -d : 0);
      ctx.lineTo(x, y(upper.hi[k]));
    }
    ctx.lineTo(columnX(upper, j, g) + d, y(upper.hi[j]));
    ctx.lineTo(columnX(lower, j, g) + d, y(lower.lo[j]));
    for (let k = j; k >= i; k--) {
      const x = columnX(lower, k, g) + (k === i ? -d : 0);
      ctx.lineTo(x, y(lower.lo[k]));
    }
    ctx.closePath();
    ctx.fill();
    i = j + 1;
  }
  ctx.restore();
}

/** Fill between an envelope's top (hi) and y(0), with gaps at NaN columns (fillStyle as set). */
export function fillUnder(ctx: Ctx, env: Envelope, g: XGeom, y: (v: number) => number): number {
  const y0 = y(0);
  if (isDense(env, g)) {
    // one whole-pixel rectangle per column, edge to edge (see DENSE_PX), equal neighbours
    // merged; returns the runs of finite columns, as below
    let runs = 0;
    let open = false;
    const rects = rectRuns(ctx);
    const base = Math.round(y0);
    for (let i = 0; i < env.n; i++) {
      const yv = y(env.hi[i]);
      if (yv - yv !== 0) {
        open = false;
        continue;
      }
      if (!open) runs++;
      open = true;
      const [x0, x1] = columnEdges(env, i, g);
      const yr = Math.round(yv);
      if (x1 > x0 && yr !== base) rects.add(x0, x1, Math.min(yr, base), Math.max(yr, base));
    }
    rects.flush();
    return runs;
  }
  const d = Math.min(2, g.step / 2);
  let open = false;
  let lastX = 0;
  let lastY = 0;
  let runs = 0;
  const close = (): void => {
    ctx.lineTo(lastX + d, lastY);
    ctx.lineTo(lastX + d, y0);
    ctx.closePath();
    ctx.fill();
    open = false;
  };
  for (let i = 0; i < env.n; i++) {
    const yv = y(env.hi[i]);
    if (yv - yv !== 0) {
      if (open) close();
      continue;
    }
    const x = columnX(env, i, g);
    if (!open) {
      ctx.beginPath();
      ctx.moveTo(x - d, y0);
      ctx.lineTo(x - d, yv);
      open = true;
      runs++;
    }
    ctx.lineTo(x, yv);
    lastX = x;
    lastY = yv;
  }
  if (open) close();
  return runs;
}

/** Small ticks of `color` (h px tall from `top`) under every flagged column. */
export function markColumns(
  ctx: Ctx,
  env: Envelope,
  flags: Uint8Array,
  g: XGeom,
  top: number,
  h: number,
  color: string,
): number {
  ctx.fillStyle = color;
  const w = Math.max(2, Math.min(6, g.step * 0.6));
  let n = 0;
  for (let i = 0; i < env.n; i++) {
    if (!flags[i]) continue;
    ctx.fillRect(columnX(env, i, g) - w / 2, top, w, h);
    n++;
  }
  return n;
}

/** Grey shade over the padded steps t ≥ length (as the heatmap's padding). */
export function shadePadding(ctx: Ctx, length: number, g: XGeom, top: number, h: number): void {
  const px = paddingPx(length, g);
  if (!px) return;
  ctx.save();
  ctx.fillStyle = "rgba(128, 128, 128, 0.5)";
  ctx.fillRect(px[0], top, px[1] - px[0], h);
  ctx.restore();
}
