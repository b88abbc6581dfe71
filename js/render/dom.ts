/** Tiny DOM helpers. User strings only ever go in through textContent / option.text. */

export const SVG_NS = "http://www.w3.org/2000/svg";

export function html<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A 2D context, or null where canvas is unavailable (jsdom) — views then draw nothing. */
export function context2d(canvas: HTMLCanvasElement): CanvasRenderingContext2D | null {
  try {
    return canvas.getContext("2d") ?? null;
  } catch {
    return null;
  }
}

let uid = 0;
/** A document-unique id (SVG gradients of several widgets on one page must not collide). */
export function uniqueId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Human label of a quantity: "h" → "h (hidden)", "gate:input" → "input gate". */
export function quantityLabel(q: string): string {
  if (q === "h") return "h (hidden state)";
  if (q === "c") return "c (cell state)";
  if (q.startsWith("gate:")) return `${q.slice(5)} gate`;
  return q;
}

/** Short label of a quantity for axes and captions. */
export function quantityShort(q: string): string {
  if (q.startsWith("gate:")) return `${q.slice(5)} gate`;
  return q;
}

/** Moves an absolutely positioned mark (`div.lstmviz-cursor`, `will-change: transform` in
 *  widget.css) with `transform` only, so a scrub step is compositor work (no layout, no paint
 *  of the panel under it), and writes a style only when its value changes. */
export interface Mark {
  /** Put the mark's top-left corner at (x, y) CSS px of its containing block, `height` tall. */
  place(x: number, y: number, height: number, visible: boolean): void;
}

export function markMover(el: HTMLElement): Mark {
  let tx = "";
  let h = "";
  let vis = "";
  return {
    place(x, y, height, visible) {
      const v = visible ? "visible" : "hidden";
      if (v !== vis) el.style.visibility = vis = v;
      if (!visible) return; // a hidden mark keeps its place: nothing to write
      const t = `translate(${Math.round(x * 100) / 100}px, ${Math.round(y * 100) / 100}px)`;
      if (t !== tx) el.style.transform = tx = t;
      const hh = `${height}px`;
      if (hh !== h) el.style.height = h = hh;
    },
  };
}

/**
 * Set an element's text, touching the DOM only when it changes, and then by editing its text
 * node in place (no node removed and inserted: a smaller style and layout invalidation). For the
 * readouts that follow the cursor on every step.
 */
export function setText(el: Element, text: string): void {
  const first = el.firstChild;
  if (first !== null && first === el.lastChild && first.nodeType === 3) {
    const node = first as Text;
    if (node.data !== text) node.data = text;
    return;
  }
  if (el.textContent !== text) el.textContent = text;
}
