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
