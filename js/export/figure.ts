/**
 * Figures of the explorer as PNG or SVG, drawn from what is on screen.
 *
 * `collectScene` walks one element (the whole `.lstmviz` root or one `.lstmviz-view`) and
 * lists what it paints, in document order, at positions relative to that element: canvases,
 * SVG overlays (cloned, with their computed styles inlined so axes keep their colours and
 * fonts outside the page's stylesheet), HTML boxes with a background or border (the cursor,
 * chips, badges), form controls (a select as its chosen option, a range input as track and
 * thumb) and visible HTML text. Two painters turn a scene into a file:
 *
 * - `sceneToSvg`: one standalone SVG document (canvases as `<image href="data:image/png…">`,
 *   overlays as nested `<svg>`, text as `<text>`), built with DOM APIs and XMLSerializer, so
 *   user strings (tokens, layer names) are always escaped;
 * - `sceneToPng`: a canvas at `scale` × CSS pixels with the theme's background.
 *
 * Elements marked `data-lstmviz-export="skip"` (the download buttons) are left out.
 * `answerExportRequest` serves the kernel's `explorer.export(...)` (lstmviz_widget/widget/export.py).
 */
import { SVG_NS } from "../render/dom";

export type ExportFormat = "png" | "svg";

export const MIME: Record<ExportFormat, string> = { png: "image/png", svg: "image/svg+xml" };

/** Message types of the export protocol (mirrored in lstmviz_widget/widget/export.py). */
export const REQUEST_TYPE = "lstmviz-export";
export const RESULT_TYPE = "lstmviz-export-result";

/** Largest accepted scale, and the largest side of a PNG in device pixels (browsers cap
 *  canvases near 16k–32k; beyond that `toBlob` fails silently). */
export const MAX_SCALE = 8;
export const MAX_PNG_SIDE = 16_384;

/** SVG presentation properties copied from computed styles onto every cloned SVG element. */
export const SVG_STYLE_PROPS = [
  "display",
  "visibility",
  "opacity",
  "overflow",
  "fill",
  "fill-opacity",
  "fill-rule",
  "stroke",
  "stroke-width",
  "stroke-opacity",
  "stroke-dasharray",
  "stroke-dashoffset",
  "stroke-linecap",
  "stroke-linejoin",
  "shape-rendering",
  "font-family",
  "font-size",
  "font-style",
  "font-weight",
  "font-variant-numeric",
  "text-anchor",
  "dominant-baseline",
  "alignment-baseline",
  "letter-spacing",
  "paint-order",
  "stop-color",
  "stop-opacity",
  "color",
] as const;

/** Values not worth writing out (the SVG default, or nothing). */
const SKIP_VALUES: Record<string, readonly string[]> = {
  display: ["inline"],
  visibility: ["visible"],
  opacity: ["1"],
  "fill-opacity": ["1"],
  "fill-rule": ["nonzero"],
  "stroke-opacity": ["1"],
  "stroke-dasharray": ["none"],
  "stroke-dashoffset": ["0px", "0"],
  "stroke-linecap": ["butt"],
  "stroke-linejoin": ["miter"],
  "shape-rendering": ["auto"],
  "font-style": ["normal"],
  "font-variant-numeric": ["normal"],
  "text-anchor": ["start"],
  "dominant-baseline": ["auto"],
  "alignment-baseline": ["auto"],
  "letter-spacing": ["normal"],
  "paint-order": ["normal"],
  "stop-opacity": ["1"],
};

/** `prop: value; …` for the props whose value is set and not a default. */
export function styleDeclarations(get: (prop: string) => string, props: readonly string[] = SVG_STYLE_PROPS): string {
  const parts: string[] = [];
  for (const p of props) {
    const v = get(p).trim();
    if (!v || SKIP_VALUES[p]?.includes(v)) continue;
    parts.push(`${p}: ${v}`);
  }
  return parts.join("; ");
}

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

/** A file name made of `base` (model name) and `ext`: no path separators, control characters
 *  or characters Windows refuses; never empty. */
export function safeFileName(base: string, ext: string): string {
  const cleaned = base
    .normalize("NFC")
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, "_")
    .replace(/\s+/g, "_")
    .replace(/^[._]+|[._]+$/g, "")
    .slice(0, 80);
  return `${cleaned || "lstm-explorer"}.${ext}`;
}

/** Fit `text` into `maxWidth` (as `measure` reports), ending in "…" when cut. */
export function fitText(text: string, maxWidth: number, measure: (s: string) => number): string {
  if (!(maxWidth > 0)) return "";
  if (measure(text) <= maxWidth + 0.5) return text;
  const chars = Array.from(text);
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(chars.slice(0, mid).join("") + "…") <= maxWidth + 0.5) lo = mid;
    else hi = mid - 1;
  }
  return lo > 0 ? chars.slice(0, lo).join("") + "…" : "";
}

export interface WordBox {
  text: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Words laid out by the browser grouped into lines (words whose vertical centres are within
 *  half a line of each other), each line as one box with its words joined by a space. */
export function groupLines(words: readonly WordBox[]): WordBox[] {
  const lines: WordBox[] = [];
  for (const w of words) {
    if (!w.text) continue;
    const last = lines[lines.length - 1];
    const centre = w.top + w.height / 2;
    if (last && Math.abs(last.top + last.height / 2 - centre) < Math.max(last.height, w.height) / 2) {
      const right = Math.max(last.left + last.width, w.left + w.width);
      last.text += ` ${w.text}`;
      last.left = Math.min(last.left, w.left);
      last.width = right - last.left;
      continue;
    }
    lines.push({ ...w });
  }
  return lines;
}

/** Parse a CSS colour as computed styles give it ("rgb(…)", "rgba(…)", "transparent"); the
 *  alpha (0 for anything unparsed but "transparent"-like, 1 for other named colours). */
export function colorAlpha(color: string): number {
  const c = color.trim().toLowerCase();
  if (!c || c === "transparent" || c === "none") return 0;
  const m = /^rgba?\(([^)]*)\)$/.exec(c);
  if (!m) return 1;
  const parts = m[1].split(/[\s,/]+/).filter(Boolean);
  if (parts.length < 4) return 1;
  const a = parts[3].endsWith("%") ? parseFloat(parts[3]) / 100 : parseFloat(parts[3]);
  return Number.isFinite(a) ? a : 1;
}

// ---------------------------------------------------------------------------------------------
// The scene
// ---------------------------------------------------------------------------------------------

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FontSpec {
  family: string;
  size: string;
  weight: string;
  style: string;
}

export type SceneItem = (
  | (Box & { kind: "rect"; fill: string | null; stroke: string | null; strokeWidth: number; radius: number })
  | (Box & { kind: "canvas"; canvas: HTMLCanvasElement; pixelated: boolean })
  | (Box & { kind: "svg"; node: SVGSVGElement })
  | { kind: "text"; x: number; y: number; text: string; font: FontSpec; fill: string; preserve: boolean }
) & {
  /** Product of the CSS opacities above the item (1 when absent). */
  alpha?: number;
};

export interface Scene {
  width: number;
  height: number;
  background: string;
  items: SceneItem[];
}

const SKIP_TAGS = new Set(["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT", "OPTION", "OPTGROUP", "DATALIST", "LINK"]);

/** Names of the `.lstmviz-view[data-view]` elements inside `root`, in document order. */
export function viewNames(root: Element): string[] {
  return Array.from(root.querySelectorAll<HTMLElement>(".lstmviz-view[data-view]"), (v) => v.dataset.view ?? "");
}

/** What to draw: the named view inside `root`, or `root` itself for `view` null/empty. */
export function findRegion(root: HTMLElement, view: string | null | undefined): HTMLElement {
  if (!view) return root;
  for (const v of root.querySelectorAll<HTMLElement>(".lstmviz-view[data-view]")) {
    if (v.dataset.view === view) return v;
  }
  const names = viewNames(root);
  const listed = names.length
    ? `available views: ${names.map((n) => JSON.stringify(n)).join(", ")}`
    : "this explorer has no named views (export the whole dashboard with view=None)";
  throw new UnknownViewError(`no view named ${JSON.stringify(view)}; ${listed}`);
}

export class UnknownViewError extends Error {
  override name = "UnknownViewError";
}

/** The region has no layout box (display: none somewhere above it). */
export class NotShownError extends Error {
  override name = "NotShownError";
}

/** How long a hidden view waits before it reports that it cannot draw: Python keeps the first
 *  reply, and a visible view of the same explorer (if any) should be that one. */
export const HIDDEN_REPLY_DELAY_MS = 1000;

/** The first non-transparent background at or above `el`, else white. */
export function backgroundOf(el: Element): string {
  for (let node: Element | null = el; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (colorAlpha(bg) > 0) return bg;
  }
  return "#ffffff";
}

function fontOf(cs: CSSStyleDeclaration): FontSpec {
  return { family: cs.fontFamily, size: cs.fontSize, weight: cs.fontWeight, style: cs.fontStyle };
}

function cssFont(f: FontSpec): string {
  return `${f.style} ${f.weight} ${f.size} ${f.family}`;
}

let measureCtx: CanvasRenderingContext2D | null | undefined;
function measurer(font: FontSpec): (s: string) => number {
  if (measureCtx === undefined) {
    try {
      measureCtx = document.createElement("canvas").getContext("2d");
    } catch {
      measureCtx = null;
    }
  }
  const ctx = measureCtx;
  if (!ctx) return (s) => s.length * (parseFloat(font.size) || 12) * 0.55;
  ctx.font = cssFont(font);
  return (s) => ctx.measureText(s).width;
}

/** Clone an `<svg>` with every element's computed style written into its `style` attribute
 *  (hidden elements dropped), so it looks the same outside the page. */
export function inlineSvg(src: SVGSVGElement): SVGSVGElement {
  const clone = src.cloneNode(true) as SVGSVGElement;
  const from = [src, ...Array.from(src.querySelectorAll("*"))];
  const to = [clone, ...Array.from(clone.querySelectorAll("*"))];
  const drop: Element[] = [];
  for (let i = 0; i < from.length; i++) {
    const cs = getComputedStyle(from[i]);
    if (cs.display === "none") {
      drop.push(to[i]);
      continue;
    }
    const style = styleDeclarations((p) => cs.getPropertyValue(p));
    if (style) to[i].setAttribute("style", style);
    else to[i].removeAttribute("style");
  }
  for (const d of drop) d.remove();
  return clone;
}

/**
 * What `region` paints, relative to its top-left corner, in paint order (document order;
 * positioned overlays such as the cursor come after the canvas they sit on).
 */
export function collectScene(region: HTMLElement): Scene {
  const origin = region.getBoundingClientRect();
  if (!(origin.width > 0 && origin.height > 0)) {
    throw new NotShownError(
      "nothing to export: this view of the explorer is hidden (a collapsed output or a hidden tab?)",
    );
  }
  const items: SceneItem[] = [];
  let alpha = 1; // product of the opacities of the elements being walked
  const add = (item: SceneItem, opacity = alpha): void => {
    if (opacity < 1) item.alpha = opacity;
    items.push(item);
  };
  const rel = (r: DOMRect): Box => ({ x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height });

  const addBoxes = (el: Element, cs: CSSStyleDeclaration, r: DOMRect): void => {
    const box = rel(r);
    const radius = parseFloat(cs.borderTopLeftRadius) || 0;
    const bg = cs.backgroundColor;
    const sides = (["Top", "Right", "Bottom", "Left"] as const).map((s) => ({
      width: parseFloat(cs.getPropertyValue(`border-${s.toLowerCase()}-width`)) || 0,
      color: cs.getPropertyValue(`border-${s.toLowerCase()}-color`),
      style: cs.getPropertyValue(`border-${s.toLowerCase()}-style`),
    }));
    const visible = sides.map(
      (s) => s.width > 0 && s.style !== "none" && s.style !== "hidden" && colorAlpha(s.color) > 0,
    );
    const same = sides.every((s) => s.width === sides[0].width && s.color === sides[0].color);
    const uniform = visible.every(Boolean) && same;
    const fill = el !== region && colorAlpha(bg) > 0 ? bg : null;
    if (uniform) {
      const bw = sides[0].width;
      add({
        kind: "rect",
        x: box.x + bw / 2,
        y: box.y + bw / 2,
        w: Math.max(0, box.w - bw),
        h: Math.max(0, box.h - bw),
        fill,
        stroke: sides[0].color,
        strokeWidth: bw,
        radius: Math.max(0, radius - bw / 2),
      });
      return;
    }
    if (fill) add({ kind: "rect", ...box, fill, stroke: null, strokeWidth: 0, radius });
    sides.forEach((s, i) => {
      if (!visible[i]) return;
      const b =
        i === 0
          ? { x: box.x, y: box.y, w: box.w, h: s.width }
          : i === 1
            ? { x: box.x + box.w - s.width, y: box.y, w: s.width, h: box.h }
            : i === 2
              ? { x: box.x, y: box.y + box.h - s.width, w: box.w, h: s.width }
              : { x: box.x, y: box.y, w: s.width, h: box.h };
      add({ kind: "rect", ...b, fill: s.color, stroke: null, strokeWidth: 0, radius: 0 });
    });
  };

  const addText = (node: Text, parent: Element, cs: CSSStyleDeclaration): void => {
    const raw = node.data;
    if (!raw.trim()) return;
    const preserve = /^pre/.test(cs.whiteSpace) || cs.whiteSpace === "break-spaces";
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0 && r.height > 0);
    if (!rects.length) return;
    let lines: WordBox[];
    if (rects.length === 1) {
      const text = preserve ? raw.replace(/\n+$/, "") : raw.replace(/\s+/g, " ").trim();
      lines = [{ text, left: rects[0].left, top: rects[0].top, width: rects[0].width, height: rects[0].height }];
    } else {
      // Wrapped text: measure word by word and rebuild the lines the browser made.
      const words: WordBox[] = [];
      const re = /\S+/g;
      for (let m = re.exec(raw); m; m = re.exec(raw)) {
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const r = range.getBoundingClientRect();
        if (r.width > 0) words.push({ text: m[0], left: r.left, top: r.top, width: r.width, height: r.height });
      }
      lines = groupLines(words);
    }
    const font = fontOf(cs);
    // Text cut by an ancestor's `overflow: hidden` (ellipsis) is cut here too.
    const clip = parent instanceof HTMLElement && cs.overflowX !== "visible" ? parent.getBoundingClientRect() : null;
    const measure = measurer(font);
    for (const line of lines) {
      let text = line.text;
      if (clip) {
        const room = clip.right - line.left - (parseFloat(cs.paddingRight) || 0);
        text = fitText(text, room, measure);
      }
      if (!text) continue;
      add({
        kind: "text",
        x: line.left - origin.left,
        y: line.top - origin.top + line.height / 2,
        text,
        font,
        fill: cs.color,
        preserve,
      });
    }
  };

  const addSelect = (el: HTMLSelectElement, cs: CSSStyleDeclaration, r: DOMRect): void => {
    addBoxes(el, cs, r);
    const opt = el.selectedOptions[0];
    if (!opt) return;
    const left = (parseFloat(cs.borderLeftWidth) || 0) + (parseFloat(cs.paddingLeft) || 0) + 1;
    const arrow = 16; // room the native arrow takes
    const font = fontOf(cs);
    const text = fitText(opt.text, r.width - left - arrow, measurer(font));
    const box = rel(r);
    add({ kind: "text", x: box.x + left, y: box.y + box.h / 2, text, font, fill: cs.color, preserve: false });
    // a small chevron where the native arrow is
    const cx = box.x + box.w - arrow / 2 - 2;
    const cy = box.y + box.h / 2;
    add({ kind: "text", x: cx - 4, y: cy, text: "▾", font, fill: cs.color, preserve: false });
  };

  const addRange = (el: HTMLInputElement, cs: CSSStyleDeclaration, r: DOMRect): void => {
    const box = rel(r);
    const lo = Number(el.min || 0);
    const hi = Number(el.max || 100);
    const v = Number(el.value);
    const frac = hi > lo && Number.isFinite(v) ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0;
    const accent = cs.accentColor && cs.accentColor !== "auto" ? cs.accentColor : "#1976d2";
    const thumb = Math.min(16, box.h);
    const track = 4;
    const cy = box.y + box.h / 2;
    const x0 = box.x + thumb / 2;
    const span = Math.max(0, box.w - thumb);
    const tx = x0 + span * frac;
    const fill = (x: number, y: number, w: number, h: number, color: string, radius: number): void => {
      add({ kind: "rect", x, y, w, h, fill: color, stroke: null, strokeWidth: 0, radius });
    };
    fill(x0, cy - track / 2, span, track, "rgba(128, 128, 128, 0.45)", track / 2); // track
    fill(x0, cy - track / 2, tx - x0, track, accent, track / 2); // filled part
    fill(tx - thumb / 2, cy - thumb / 2, thumb, thumb, accent, thumb / 2); // thumb
  };

  const walk = (el: Element): void => {
    if (SKIP_TAGS.has(el.tagName.toUpperCase())) return;
    if (el instanceof HTMLElement && (el.dataset.lstmvizExport === "skip" || el.hidden)) return;
    const cs = getComputedStyle(el);
    const opacity = parseFloat(cs.opacity);
    if (cs.display === "none" || opacity === 0) return;
    const outer = alpha;
    if (Number.isFinite(opacity)) alpha *= opacity;
    try {
      paint(el, cs, outer);
    } finally {
      alpha = outer;
    }
  };

  const paint = (el: Element, cs: CSSStyleDeclaration, outer: number): void => {
    const shown = cs.visibility === "visible";
    const r = el.getBoundingClientRect();
    if (el instanceof HTMLCanvasElement) {
      if (shown && r.width > 0 && r.height > 0 && el.width > 0 && el.height > 0) {
        const pixelated = /pixelated|crisp-edges|optimizespeed/i.test(cs.imageRendering);
        add({ kind: "canvas", ...rel(r), canvas: el, pixelated });
      }
      return;
    }
    if (el instanceof SVGSVGElement) {
      // the overlay's own opacity is in its inlined style; only the ancestors' applies here
      if (r.width > 0 || r.height > 0) add({ kind: "svg", ...rel(r), node: inlineSvg(el) }, outer);
      return;
    }
    if (el instanceof HTMLSelectElement) {
      if (shown) addSelect(el, cs, r);
      return;
    }
    if (el instanceof HTMLInputElement) {
      if (shown && el.type === "range") addRange(el, cs, r);
      else if (shown && el.type !== "hidden") addBoxes(el, cs, r);
      return;
    }
    if (shown && r.width > 0 && r.height > 0) addBoxes(el, cs, r);
    for (const child of Array.from(el.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (shown) addText(child as Text, el, cs);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        walk(child as Element);
      }
    }
  };
  walk(region);
  return { width: origin.width, height: origin.height, background: backgroundOf(region), items };
}

// ---------------------------------------------------------------------------------------------
// Painters
// ---------------------------------------------------------------------------------------------

const XML_NS = "http://www.w3.org/XML/1998/namespace";

const fmt = (v: number): string => String(Math.round(v * 100) / 100);

/** PNG data URL of a canvas's pixels, or null when it cannot be read. */
function canvasDataUrl(canvas: HTMLCanvasElement): string | null {
  try {
    const url = canvas.toDataURL("image/png");
    return url.startsWith("data:image/png") ? url : null;
  } catch {
    return null; // a tainted canvas
  }
}

/** One standalone SVG document of `scene` (a string that parses as XML). */
export function sceneToSvg(scene: Scene): string {
  const doc = document.implementation.createDocument(SVG_NS, "svg", null);
  const root = doc.documentElement as unknown as SVGSVGElement;
  const W = fmt(scene.width);
  const H = fmt(scene.height);
  root.setAttribute("width", W);
  root.setAttribute("height", H);
  root.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const el = (tag: string, attrs: Record<string, string | number>): Element => {
    const node = doc.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, typeof v === "number" ? fmt(v) : v);
    return node;
  };
  root.append(el("rect", { width: "100%", height: "100%", fill: scene.background }));
  for (const item of scene.items) {
    // Faded items (CSS opacity above them) sit in a group with that opacity.
    let parent: Element = root;
    if (item.alpha !== undefined && item.alpha < 1) {
      parent = el("g", { opacity: item.alpha });
      root.append(parent);
    }
    if (item.kind === "rect") {
      const attrs: Record<string, string | number> = { x: item.x, y: item.y, width: item.w, height: item.h };
      attrs.fill = item.fill ?? "none";
      if (item.stroke) {
        attrs.stroke = item.stroke;
        attrs["stroke-width"] = item.strokeWidth;
      }
      if (item.radius > 0) attrs.rx = Math.min(item.radius, item.w / 2, item.h / 2);
      parent.append(el("rect", attrs));
    } else if (item.kind === "canvas") {
      const url = canvasDataUrl(item.canvas);
      if (!url) continue; // an empty <g> at most
      const image = el("image", { x: item.x, y: item.y, width: item.w, height: item.h, href: url });
      image.setAttribute("preserveAspectRatio", "none");
      if (item.pixelated) image.setAttribute("style", "image-rendering: pixelated");
      parent.append(image);
    } else if (item.kind === "svg") {
      const nested = doc.importNode(item.node, true) as Element;
      nested.setAttribute("x", fmt(item.x));
      nested.setAttribute("y", fmt(item.y));
      nested.setAttribute("width", fmt(item.w));
      nested.setAttribute("height", fmt(item.h));
      nested.setAttribute("overflow", "visible");
      parent.append(nested);
    } else {
      const text = el("text", {
        x: item.x,
        y: item.y,
        fill: item.fill,
        "dominant-baseline": "central",
        "font-family": item.font.family,
        "font-size": item.font.size,
      });
      const weight = item.font.weight;
      if (weight !== "400" && weight !== "normal") text.setAttribute("font-weight", weight);
      if (item.font.style !== "normal") text.setAttribute("font-style", item.font.style);
      if (item.preserve) text.setAttributeNS(XML_NS, "xml:space", "preserve");
      text.textContent = item.text; // user strings: text, escaped by the serializer
      parent.append(text);
    }
  }
  const xml = new XMLSerializer().serializeToString(doc);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml}\n`;
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

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

export interface ExportOptions {
  format: ExportFormat;
  /** A `.lstmviz-view[data-view]` name; null/undefined for the whole explorer. */
  view?: string | null;
  /** Device pixels per CSS pixel (PNG only). Default 2. */
  scale?: number;
}

export interface ExportResult {
  bytes: Uint8Array;
  mime: string;
  /** Size of the exported region in CSS pixels. */
  width: number;
  height: number;
}

/** Draw `root` (a `.lstmviz` element) or one of its views as a PNG or SVG file's bytes. */
export async function exportFigure(root: HTMLElement, options: ExportOptions): Promise<ExportResult> {
  const format = options.format;
  if (format !== "png" && format !== "svg") throw new Error(`format must be "png" or "svg", got ${String(format)}`);
  const scale = checkScale(options.scale ?? 2);
  const region = findRegion(root, options.view);
  const scene = collectScene(region);
  const bytes = format === "svg" ? new TextEncoder().encode(sceneToSvg(scene)) : await sceneToPng(scene, scale);
  return { bytes, mime: MIME[format], width: scene.width, height: scene.height };
}

export interface ExportRequest {
  id: string;
  format: ExportFormat;
  view: string | null;
  scale: number;
}

/** The request in a custom message, null when the message is not an export request. Throws
 *  (with the reason) for a malformed request. */
export function parseExportRequest(msg: unknown): ExportRequest | null {
  if (!msg || typeof msg !== "object" || (msg as { type?: unknown }).type !== REQUEST_TYPE) return null;
  const m = msg as Record<string, unknown>;
  if (typeof m.id !== "string" || !m.id) throw new Error("export request without an id");
  if (m.format !== "png" && m.format !== "svg") {
    throw new Error(`format must be "png" or "svg", got ${String(m.format)}`);
  }
  const view = m.view ?? null;
  if (view !== null && typeof view !== "string") throw new Error("view must be a string or None");
  return { id: m.id, format: m.format, view, scale: checkScale(m.scale ?? 2) };
}

export type Reply = (content: Record<string, unknown>, buffers: ArrayBuffer[]) => void;

/**
 * Serve one custom message: when it is an export request, draw the explorer inside `el` and
 * reply `{type: RESULT_TYPE, id, ok: true, mime, width, height}` with the file's bytes as the
 * one buffer, or `{…, ok: false, error, code}`. Never throws. Resolves to whether `msg` was
 * an export request.
 */
/** Resolve after `n` animation frames (each at most `fallbackMs`: hidden tabs get no frames). */
export function settleFrames(n = 2, fallbackMs = 100): Promise<void> {
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      if (typeof requestAnimationFrame === "function") requestAnimationFrame(finish);
      setTimeout(finish, fallbackMs);
    });
  let p = Promise.resolve();
  for (let i = 0; i < n; i++) p = p.then(one);
  return p;
}

export async function answerExportRequest(el: HTMLElement, msg: unknown, reply: Reply): Promise<boolean> {
  const id = msg && typeof msg === "object" ? (msg as { id?: unknown }).id : undefined;
  let request: ExportRequest | null;
  try {
    request = parseExportRequest(msg);
  } catch (err) {
    const replyId = typeof id === "string" ? id : null;
    reply({ type: RESULT_TYPE, id: replyId, ok: false, error: messageOf(err), code: "bad-request" }, []);
    return true;
  }
  if (!request) return false;
  try {
    const root = el.classList.contains("lstmviz") ? el : el.querySelector<HTMLElement>("div.lstmviz");
    if (!root) {
      const panel = el.querySelector(".lstmviz-error-message");
      throw new Error(
        panel
          ? `the explorer shows an error instead of views: ${panel.textContent ?? ""}`
          : "the explorer is not rendered",
      );
    }
    // Let pending redraws land first (a trait set just before export() is drawn in the next
    // animation frame; a resize in the one after).
    await settleFrames();
    const result = await exportFigure(root, request);
    const { bytes } = result;
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    reply(
      { type: RESULT_TYPE, id: request.id, ok: true, mime: result.mime, width: result.width, height: result.height },
      [buffer as ArrayBuffer],
    );
  } catch (err) {
    const code = err instanceof UnknownViewError ? "unknown-view" : "error";
    if (err instanceof NotShownError) await new Promise((r) => setTimeout(r, HIDDEN_REPLY_DELAY_MS));
    reply({ type: RESULT_TYPE, id: request.id, ok: false, error: messageOf(err), code }, []);
  }
  return true;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
