/** The PNG painter: a scene drawn on a canvas at `scale` × CSS pixels with the theme's background. */
import { type Box, cssFont, type Scene, type SceneItem } from "./scene";
import { fmt } from "./svg";
import { SVG_NS } from "../render/dom";

/** Largest accepted scale, and the largest side of a PNG in device pixels (browsers cap
 *  canvases near 16k–32k; beyond that `toBlob` fails silently). */
export const MAX_SCALE = 8;
export const MAX_PNG_SIDE = 16_384;
/** A positive, finite scale, at most MAX_SCALE. */
export function checkScale(scale: unknown): number {
  const s = Number(scale);
  if (!Number.isFinite(s) || s <= 0 || s > MAX_SCALE) {
    throw new Error(`scale must be a number in (0, ${MAX_SCALE}], got ${String(scale)}`);
  }
  return s;
}

/** Device-pixel size of a `width` × `height` CSS-pixel figure at `scale`. */
export function pixelSize(width: number, height: number, scale: number): { width: number; height: number } {
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  if (w > MAX_PNG_SIDE || h > MAX_PNG_SIDE) {
    throw new Error(
      `a ${w} × ${h} px PNG is too large for the browser (max ${MAX_PNG_SIDE} px a side): use a smaller scale or SVG`,
    );
  }
  return { width: w, height: h };
}

/** A standalone SVG of one overlay, positioned in a scene-sized frame at `scale`. */
function overlayDocument(item: Box & { node: SVGSVGElement }, scene: Scene, scale: number): string {
  const doc = document.implementation.createDocument(SVG_NS, "svg", null);
  const root = doc.documentElement;
  root.setAttribute("width", fmt(scene.width * scale));
  root.setAttribute("height", fmt(scene.height * scale));
  root.setAttribute("viewBox", `0 0 ${fmt(scene.width)} ${fmt(scene.height)}`);
  const nested = doc.importNode(item.node, true) as Element;
  nested.setAttribute("x", fmt(item.x));
  nested.setAttribute("y", fmt(item.y));
  nested.setAttribute("width", fmt(item.w));
  nested.setAttribute("height", fmt(item.h));
  nested.setAttribute("overflow", "visible");
  root.append(nested);
  return new XMLSerializer().serializeToString(doc);
}

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser could not rasterise an SVG overlay"));
    img.src = url;
  });
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number): void {
  const rr = Math.max(0, Math.min(r, w / 2, h / 2));
  ctx.beginPath();
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}

/** PNG bytes of `scene` at `scale` device pixels per CSS pixel. */
export async function sceneToPng(scene: Scene, scale: number): Promise<Uint8Array> {
  const size = pixelSize(scene.width, scene.height, scale);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("this browser has no 2D canvas to draw the PNG on");
  const sx = size.width / scene.width;
  const sy = size.height / scene.height;
  ctx.setTransform(sx, 0, 0, sy, 0, 0);
  ctx.fillStyle = scene.background;
  ctx.fillRect(0, 0, scene.width, scene.height);
  // Overlays are rasterised by the browser's own SVG renderer (asynchronously): start them all.
  const overlays = new Map<SceneItem, Promise<HTMLImageElement>>();
  for (const item of scene.items) {
    if (item.kind === "svg") {
      const xml = overlayDocument(item, scene, scale);
      overlays.set(item, loadImage(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(xml)}`));
    }
  }
  for (const item of scene.items) {
    ctx.globalAlpha = item.alpha ?? 1;
    if (item.kind === "rect") {
      roundRect(ctx, item.x, item.y, item.w, item.h, item.radius);
      if (item.fill) {
        ctx.fillStyle = item.fill;
        ctx.fill();
      }
      if (item.stroke) {
        ctx.strokeStyle = item.stroke;
        ctx.lineWidth = item.strokeWidth;
        ctx.stroke();
      }
    } else if (item.kind === "canvas") {
      ctx.imageSmoothingEnabled = !item.pixelated;
      ctx.drawImage(item.canvas, item.x, item.y, item.w, item.h);
      ctx.imageSmoothingEnabled = true;
    } else if (item.kind === "svg") {
      const img = await (overlays.get(item) as Promise<HTMLImageElement>);
      ctx.save();
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.drawImage(img, 0, 0, size.width, size.height);
      ctx.restore();
    } else {
      ctx.font = cssFont(item.font);
      ctx.fillStyle = item.fill;
      ctx.textBaseline = "middle";
      ctx.textAlign = "left";
      ctx.fillText(item.text, item.x, item.y);
    }
  }
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/png"));
  if (!blob) throw new Error("the browser could not encode the PNG");
  return new Uint8Array(await blob.arrayBuffer());
}
