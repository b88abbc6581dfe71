/**
 * DOM → scene: `collectScene` walks one element (the whole `.lstmviz` root or one `.lstmviz-view`)
 * and lists what it paints, in document order, at positions relative to that element: canvases,
 * SVG overlays (cloned, with their computed styles inlined so axes keep their colours and fonts
 * outside the page's stylesheet), HTML boxes with a background or border (the cursor, chips,
 * badges), form controls (a select as its chosen option, a range input as track and thumb) and
 * visible HTML text. Elements marked `data-lstmviz-export="skip"` (the download buttons) are
 * left out.
 */

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

export function cssFont(f: FontSpec): string {
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
  const k: Collector = { region, origin, items: [], alpha: 1 };

  const walk = (el: Element): void => {
    if (SKIP_TAGS.has(el.tagName.toUpperCase())) return;
    if (el instanceof HTMLElement && (el.dataset.lstmvizExport === "skip" || el.hidden)) return;
    const cs = getComputedStyle(el);
    const opacity = parseFloat(cs.opacity);
    if (cs.display === "none" || opacity === 0) return;
    const outer = k.alpha;
    if (Number.isFinite(opacity)) k.alpha *= opacity;
    try {
      paint(el, cs, outer);
    } finally {
      k.alpha = outer;
    }
  };

  const paint = (el: Element, cs: CSSStyleDeclaration, outer: number): void => {
    const shown = cs.visibility === "visible";
    const r = el.getBoundingClientRect();
    if (el instanceof HTMLCanvasElement) {
      if (shown && r.width > 0 && r.height > 0 && el.width > 0 && el.height > 0) {
        const pixelated = /pixelated|crisp-edges|optimizespeed/i.test(cs.imageRendering);
        add(k, { kind: "canvas", ...rel(k, r), canvas: el, pixelated });
      }
      return;
    }
    if (el instanceof SVGSVGElement) {
      // the overlay's own opacity is in its inlined style; only the ancestors' applies here
      if (r.width > 0 || r.height > 0) add(k, { kind: "svg", ...rel(k, r), node: inlineSvg(el) }, outer);
      return;
    }
    if (el instanceof HTMLSelectElement) {
      if (shown) addSelect(k, el, cs, r);
      return;
    }
    if (el instanceof HTMLInputElement) {
      if (shown && el.type === "range") addRange(k, el, cs, r);
      else if (shown && el.type !== "hidden") addBoxes(k, el, cs, r);
      return;
    }
    if (shown && r.width > 0 && r.height > 0) addBoxes(k, el, cs, r);
    for (const child of Array.from(el.childNodes)) {
      if (child.nodeType === Node.TEXT_NODE) {
        if (shown) addText(k, child as Text, el, cs);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        walk(child as Element);
      }
    }
  };
  walk(region);
  return { width: origin.width, height: origin.height, background: backgroundOf(region), items: k.items };
}

/** What collectScene gathers into: the region, its box, the items so far, and the product of
 *  the opacities of the elements being walked. */
interface Collector {
  region: HTMLElement;
  origin: DOMRect;
  items: SceneItem[];
  alpha: number;
}

function add(k: Collector, item: SceneItem, opacity = k.alpha): void {
  if (opacity < 1) item.alpha = opacity;
  k.items.push(item);
}

function rel(k: Collector, r: DOMRect): Box {
  return { x: r.left - k.origin.left, y: r.top - k.origin.top, w: r.width, h: r.height };
}

function addBoxes(k: Collector, el: Element, cs: CSSStyleDeclaration, r: DOMRect): void {
  const box = rel(k, r);
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
  const fill = el !== k.region && colorAlpha(bg) > 0 ? bg : null;
  if (uniform) {
    const bw = sides[0].width;
    add(k, {
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
  if (fill) add(k, { kind: "rect", ...box, fill, stroke: null, strokeWidth: 0, radius });
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
    add(k, { kind: "rect", ...b, fill: s.color, stroke: null, strokeWidth: 0, radius: 0 });
  });
}

function addText(k: Collector, node: Text, parent: Element, cs: CSSStyleDeclaration): void {
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
    add(k, {
      kind: "text",
      x: line.left - k.origin.left,
      y: line.top - k.origin.top + line.height / 2,
      text,
      font,
      fill: cs.color,
      preserve,
    });
  }
}

function addSelect(k: Collector, el: HTMLSelectElement, cs: CSSStyleDeclaration, r: DOMRect): void {
  addBoxes(k, el, cs, r);
  const opt = el.selectedOptions[0];
  if (!opt) return;
  const left = (parseFloat(cs.borderLeftWidth) || 0) + (parseFloat(cs.paddingLeft) || 0) + 1;
  const arrow = 16; // room the native arrow takes
  const font = fontOf(cs);
  const text = fitText(opt.text, r.width - left - arrow, measurer(font));
  const box = rel(k, r);
  add(k, { kind: "text", x: box.x + left, y: box.y + box.h / 2, text, font, fill: cs.color, preserve: false });
  // a small chevron where the native arrow is
  const cx = box.x + box.w - arrow / 2 - 2;
  const cy = box.y + box.h / 2;
  add(k, { kind: "text", x: cx - 4, y: cy, text: "▾", font, fill: cs.color, preserve: false });
}

function addRange(k: Collector, el: HTMLInputElement, cs: CSSStyleDeclaration, r: DOMRect): void {
  const box = rel(k, r);
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
    add(k, { kind: "rect", x, y, w, h, fill: color, stroke: null, strokeWidth: 0, radius });
  };
  fill(x0, cy - track / 2, span, track, "rgba(128, 128, 128, 0.45)", track / 2); // track
  fill(x0, cy - track / 2, tx - x0, track, accent, track / 2); // filled part
  fill(tx - thumb / 2, cy - thumb / 2, thumb, thumb, accent, thumb / 2); // thumb
}
