/**
 * Bars of the vector card (js/views/vector.ts): where a unit's bar lies and its colour, and the
 * canvas drawing used for wide layers (the same look as the SVG bars' CSS).
 */
import { NAN_COLOR, type ColorScale } from "../math/scales";

export interface Bar {
  top: number;
  h: number;
  fill: string;
  /** Cut at the colour domain's edge. */
  clipped: boolean;
}

/** scale.css(v), from a table of the LUT's colours made once per scale (no string per bar). */
const cssTables = new WeakMap<ColorScale, string[]>();
function cssOf(scale: ColorScale, v: number): string {
  const i = scale.index(v);
  if (i < 0) return NAN_COLOR;
  let t = cssTables.get(scale);
  if (!t) {
    const lut = scale.lut;
    t = Array.from({ length: lut.length / 3 }, (_, k) => `rgb(${lut[k * 3]}, ${lut[k * 3 + 1]}, ${lut[k * 3 + 2]})`);
    cssTables.set(scale, t);
  }
  return t[i];
}

/**
 * The bar of value `v` from `base` (y of 0), `y` mapping values to px; a NaN fills the plot
 * from `top` down `plotH` px.
 */
export function barOf(
  v: number,
  y: (v: number) => number,
  base: number,
  scale: ColorScale,
  top: number,
  plotH: number,
): Bar {
  if (!Number.isFinite(v)) return { top, h: plotH, fill: NAN_COLOR, clipped: false };
  const yv = y(Math.max(scale.domain[0], Math.min(scale.domain[1], v)));
  // beyond the colour domain (a unit that dwarfs the rest): the bar is cut at the edge
  const clipped = v > scale.domain[1] || v < scale.domain[0];
  return { top: Math.min(yv, base), h: Math.max(1, Math.abs(yv - base)), fill: cssOf(scale, v), clipped };
}

/**
 * `U` bars over `width` px from x = `left` on the canvas: fills, then the outlines of the
 * clipped, selected and hovered units (as the SVG bars' CSS: dashed fg, accent 2 px, fg 1.5 px).
 */
export function paintBars(
  ctx: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  dpr: number,
  U: number,
  bar: (u: number) => Bar,
  left: number,
  width: number,
  marks: { selected: readonly number[]; hover: number | null; fg: string; accent: string },
): void {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const bw = width / U;
  const gap = bw > 4 ? Math.min(2, bw * 0.15) : 0;
  const w = Math.max(0.5, bw - gap);
  const xOf = (u: number): number => left + u * bw + gap / 2;
  let fill = "";
  const clipped: number[] = [];
  for (let u = 0; u < U; u++) {
    const b = bar(u);
    if (b.fill !== fill) {
      fill = b.fill;
      ctx.fillStyle = fill;
    }
    ctx.fillRect(xOf(u), b.top, w, b.h);
    if (b.clipped) clipped.push(u);
  }
  const outline = (u: number, color: string, lw: number, dash: number[]): void => {
    const b = bar(u);
    ctx.strokeStyle = color;
    ctx.lineWidth = lw;
    ctx.setLineDash(dash);
    ctx.strokeRect(xOf(u), b.top, w, b.h);
  };
  const { fg, accent, hover } = marks;
  for (const u of clipped) outline(u, fg, 1, [3, 2]);
  for (const u of marks.selected) if (u < U) outline(u, accent, 2, []);
  if (hover !== null && hover < U) outline(hover, fg, 1.5, []);
  ctx.setLineDash([]);
}
