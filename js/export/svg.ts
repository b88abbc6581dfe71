/**
 * The SVG painter: one standalone SVG document (canvases as `<image href="data:image/png…">`,
 * overlays as nested `<svg>`, text as `<text>`), built with DOM APIs and XMLSerializer, so user
 * strings (tokens, layer names) are always escaped.
 */
import type { Scene } from "./scene";
import { SVG_NS } from "../render/dom";

// ---------------------------------------------------------------------------------------------
// Painters
// ---------------------------------------------------------------------------------------------

const XML_NS = "http://www.w3.org/XML/1998/namespace";

export const fmt = (v: number): string => String(Math.round(v * 100) / 100);

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
