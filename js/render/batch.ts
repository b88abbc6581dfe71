/**
 * Rectangles drawn on a 2D canvas in bulk.
 *
 * A dense time track draws one small rectangle per pixel column for each of its lines (a
 * thousand or more per line, js/render/series.ts), and a software-rendered canvas replays every one of
 * them when the frame is committed: tens of thousands of fillRect calls cost more there than
 * everything else a zoom does. `batchRects` hands the track's `draw` a context in which
 * fillRects are written into a pixel buffer instead (whole device pixels, the same ones the
 * canvas would fill: the rectangles are whole CSS pixels), and the buffer goes onto the canvas
 * in one drawImage — before anything else is drawn, clipped or restored, or a rectangle of
 * another opacity comes, so the stacking order and the clips are those of the calls. The buffer
 * holds one opacity at a time, drawn with it: translucent rectangles that do not overlap (a band
 * drawn column by column) composite exactly as they would one by one; one that overlaps what is
 * buffered flushes first. Paths, text and images go to the canvas as they are.
 */
import { html } from "./dom";

interface Buffer {
  px: Uint32Array;
  image: ImageData;
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  /** Pixels left in it (a draw that threw before `finish`). */
  dirty: boolean;
}
const buffers = new WeakMap<HTMLCanvasElement, Buffer>();

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const colours = new Map<string, { c: number; a: number } | null>();

/** A CSS colour as an opaque RGBA Uint32 (platform byte order) and its alpha, or null when it is
 *  not "#rrggbb" / "rgb(…)" / "rgba(…)" (what a 2D context's fillStyle reads back as). */
function parse(css: string): { c: number; a: number } | null {
  let v = colours.get(css);
  if (v !== undefined) return v;
  let rgb: [number, number, number] | null = null;
  let a = 1;
  let m = /^#([0-9a-f]{6})$/i.exec(css);
  if (m) {
    const n = parseInt(m[1], 16);
    rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  } else {
    m = /^rgba?\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(css);
    if (m) {
      rgb = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (m[4] !== undefined) a = Math.min(1, Number(m[4]));
    }
  }
  v = rgb
    ? {
        c: LITTLE_ENDIAN
          ? ((255 << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0
          : ((rgb[0] << 24) | (rgb[1] << 16) | (rgb[2] << 8) | 255) >>> 0,
        a,
      }
    : null;
  if (colours.size > 256) colours.clear();
  colours.set(css, v);
  return v;
}

/** Calls after which buffered rectangles must already be on the canvas (they draw, or change
 *  the clip, the transform or the state a later flush would draw under). */
const FLUSH_BEFORE = new Set([
  "fill",
  "stroke",
  "fillText",
  "strokeText",
  "strokeRect",
  "clearRect",
  "drawImage",
  "putImageData",
  "clip",
  "save",
  "restore",
  "setTransform",
  "resetTransform",
  "transform",
  "translate",
  "scale",
  "rotate",
]);

const TRANSFORMS = new Set(["setTransform", "resetTransform", "transform", "translate", "scale", "rotate"]);

export interface RectBatch {
  /** Draw with this instead of the canvas's own context. */
  ctx: CanvasRenderingContext2D;
  /** Put what is still buffered on the canvas (call when the drawing is done). */
  finish(): void;
}

/**
 * A context for `ctx` (whose transform is the plain device-pixel-ratio scale `dpr`, as js/parts/track.ts
 * sets it) that buffers fillRects; see the module comment.
 */
export function batchRects(ctx: CanvasRenderingContext2D, dpr: number): RectBatch {
  const canvas = ctx.canvas;
  const W = canvas.width;
  const H = canvas.height;
  let buf = buffers.get(canvas);
  if (!buf || buf.image.width !== W || buf.image.height !== H) {
    const off = html("canvas");
    off.width = W;
    off.height = H;
    const octx = off.getContext("2d");
    if (!octx) return { ctx, finish: () => {} };
    const image = octx.createImageData(W, H);
    const px = new Uint32Array(image.data.buffer, image.data.byteOffset, W * H);
    buf = { px, image, canvas: off, ctx: octx, dirty: false };
    buffers.set(canvas, buf);
  }
  const b = buf;
  if (b.dirty) b.px.fill(0);
  b.dirty = false;
  // the dirty box, in device pixels
  let x0 = W;
  let y0 = H;
  let x1 = 0;
  let y1 = 0;
  let plain = true; // transform still the dpr scale: rectangles map to device pixels directly
  let colour = parse(String(ctx.fillStyle));
  let alpha = ctx.globalAlpha;
  let composite = ctx.globalCompositeOperation === "source-over";
  /** The opacity of what is buffered (null: nothing). */
  let group: number | null = null;

  const flush = (): void => {
    if (x1 > x0 && y1 > y0 && group !== null) {
      const w = x1 - x0;
      const h = y1 - y0;
      b.ctx.putImageData(b.image, 0, 0, x0, y0, w, h);
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.globalAlpha = group;
      ctx.globalCompositeOperation = "source-over";
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(b.canvas, x0, y0, w, h, x0, y0, w, h);
      ctx.restore();
      for (let y = y0; y < y1; y++) b.px.fill(0, y * W + x0, y * W + x1);
    }
    b.dirty = false;
    group = null;
    x0 = W;
    y0 = H;
    x1 = 0;
    y1 = 0;
  };

  const fillRect = (x: number, y: number, w: number, h: number): void => {
    if (!plain || colour === null || !composite) {
      flush();
      ctx.fillRect(x, y, w, h);
      return;
    }
    const e = colour.a * alpha;
    if (!(e > 0)) return; // draws nothing
    if (w < 0) {
      x += w;
      w = -w;
    }
    if (h < 0) {
      y += h;
      h = -h;
    }
    const a = Math.max(0, Math.round(x * dpr));
    const c = Math.min(W, Math.round((x + w) * dpr));
    const t = Math.max(0, Math.round(y * dpr));
    const d = Math.min(H, Math.round((y + h) * dpr));
    if (c <= a || d <= t) return;
    const px = b.px;
    if (group !== null && group !== e) flush();
    else if (e < 1 && group !== null && c > x0 && a < x1 && d > y0 && t < y1) {
      // translucent over translucent: only where nothing is buffered yet
      let hit = false;
      for (let r = t; r < d && !hit; r++) for (let i = r * W + a; i < r * W + c; i++) if (px[i] !== 0) hit = true;
      if (hit) flush();
    }
    const cc = colour.c;
    if (c - a <= 8) {
      for (let r = t; r < d; r++) for (let i = r * W + a, end = r * W + c; i < end; i++) px[i] = cc;
    } else {
      for (let r = t; r < d; r++) px.fill(cc, r * W + a, r * W + c);
    }
    group = e;
    b.dirty = true;
    if (a < x0) x0 = a;
    if (c > x1) x1 = c;
    if (t < y0) y0 = t;
    if (d > y1) y1 = d;
  };

  const wrapped = new Map<PropertyKey, unknown>();
  const proxy = new Proxy(ctx, {
    get(target, prop) {
      if (prop === "fillRect") return fillRect;
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== "function") return v;
      let fn = wrapped.get(prop) as ((...args: unknown[]) => unknown) | undefined;
      if (!fn) {
        const f = v as (...args: unknown[]) => unknown;
        const flushes = FLUSH_BEFORE.has(String(prop));
        const transform = TRANSFORMS.has(String(prop));
        fn = (...args: unknown[]): unknown => {
          if (flushes) flush();
          const out = f.apply(target, args);
          if (transform) plain = false;
          if (prop === "restore") {
            // the state came back: so did the colour, alpha and compositing
            colour = parse(String(target.fillStyle));
            alpha = target.globalAlpha;
            composite = target.globalCompositeOperation === "source-over";
          }
          return out;
        };
        wrapped.set(prop, fn);
      }
      return fn;
    },
    set(target, prop, value) {
      const ok = Reflect.set(target, prop, value, target);
      if (prop === "fillStyle") colour = typeof target.fillStyle === "string" ? parse(target.fillStyle) : null;
      else if (prop === "globalAlpha") alpha = target.globalAlpha;
      else if (prop === "globalCompositeOperation") composite = target.globalCompositeOperation === "source-over";
      return ok;
    },
  });
  return { ctx: proxy, finish: flush };
}
