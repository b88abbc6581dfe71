/**
 * The frame of a card view (attention, trajectory): `div.lstmviz-view.lstmviz-card` with a
 * title line, a row for the card's own selects, a plot box (canvas + SVG overlay) and a text
 * tooltip. User strings go in through textContent / option.text only.
 */
import { placeTooltip } from "./tooltip";
import { context2d, html, svg } from "../render/dom";
import { themeVar } from "../render/theme";

export interface Card {
  root: HTMLDivElement;
  /** Title line (text). */
  title: HTMLDivElement;
  /** Second, muted line under the title (text). */
  subtitle: HTMLDivElement;
  /** Where the card's selects go (right of the title). */
  controls: HTMLDivElement;
  /** Positioned box holding the canvas, the SVG overlay and the tooltip. */
  plot: HTMLDivElement;
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D | null;
  svg: SVGSVGElement;
  tooltip: HTMLDivElement;
}

export function createCard(container: HTMLElement, name: string, cls: string): Card {
  const root = html("div", `lstmviz-view lstmviz-card ${cls}`);
  root.dataset.view = name;
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const title = html("div", "lstmviz-card-title");
  const subtitle = html("div", "lstmviz-card-subtitle");
  titles.append(title, subtitle);
  const controls = html("div", "lstmviz-card-controls");
  head.append(titles, controls);
  const plot = html("div", "lstmviz-card-plot");
  const canvas = html("canvas", "lstmviz-card-canvas");
  const overlay = svg("svg", { class: "lstmviz-card-svg" });
  const tooltip = html("div", "lstmviz-tooltip");
  tooltip.hidden = true;
  plot.append(canvas, overlay, tooltip);
  root.append(head, plot);
  container.append(root);
  return { root, title, subtitle, controls, plot, canvas, ctx: context2d(canvas), svg: overlay, tooltip };
}

/** A labelled `select` appended to `parent` (a card's control row); options set by text only. */
export function cardSelect(
  parent: HTMLElement,
  label: string,
  options: ReadonlyArray<readonly [string, string]>,
  value: string,
  onChange: (v: string) => void,
): { el: HTMLSelectElement; destroy(): void } {
  const wrap = html("label", "lstmviz-control");
  const text = html("span", "lstmviz-control-label", label);
  const el = html("select", "lstmviz-card-select");
  for (const [v, t] of options) {
    const o = html("option");
    o.value = v;
    o.text = t;
    el.append(o);
  }
  el.value = value;
  const handler = (): void => onChange(el.value);
  el.addEventListener("change", handler);
  wrap.append(text, el);
  parent.append(wrap);
  return {
    el,
    destroy() {
      el.removeEventListener("change", handler);
      wrap.remove();
    },
  };
}

/** Show `lines` in the tooltip next to the mouse, kept inside the plot box. */
export function showTooltip(card: Card, e: MouseEvent, lines: readonly string[]): void {
  placeTooltip(card.tooltip, card.plot, e, lines);
}

/** A theme colour (CSS custom property on `el`'s explorer), cached (js/render/theme.ts: never a
 *  getComputedStyle per draw); `fallback` when unset. */
export function cssVar(el: Element, name: string, fallback: string): string {
  return themeVar(el, name, fallback);
}

/** Whether a CSS colour is dark (for choosing a colour ramp's readable end on the theme). */
export function isDarkColor(css: string): boolean {
  const m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/i.exec(css.trim());
  let rgb: [number, number, number] | null = null;
  if (m) rgb = [Number(m[1]), Number(m[2]), Number(m[3])];
  else {
    const h = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(css.trim());
    if (h) {
      const s = h[1].length === 3 ? h[1].replace(/./g, (c) => c + c) : h[1];
      const n = parseInt(s, 16);
      rgb = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    }
  }
  if (!rgb) return false;
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] < 110;
}

/** Size a canvas to `w` × `h` CSS px at the device pixel ratio; returns the ratio. */
export function sizeCanvas(canvas: HTMLCanvasElement, left: number, top: number, w: number, h: number): number {
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  canvas.style.left = `${left}px`;
  canvas.style.top = `${top}px`;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const pw = Math.max(1, Math.round(w * dpr));
  const ph = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== pw) canvas.width = pw;
  if (canvas.height !== ph) canvas.height = ph;
  return dpr;
}
