/**
 * Side-column keys and the cursor readout of the line tracks (gate lines, input, memory,
 * confidence, gradients).
 */
import { formatValue } from "../math/scales";
import { type Track, TRACK_MARGIN } from "./track";
import { context2d, html, setText, svg } from "../render/dom";

// ---- a small HTML legend (shared by the line tracks) -------------------------------------------

/**
 * One legend row in a track's side column: a swatch (`style` "line", "dash" or "tick") and a
 * label (text). Returns the row.
 */
export function keyRow(parent: HTMLElement, color: string, label: string, style = "line"): HTMLElement {
  const row = html("div", "lstmviz-key");
  const sw = html("span", `lstmviz-key-swatch ${style}`);
  sw.style.setProperty("--key-color", color);
  row.append(sw, html("span", "lstmviz-key-label", label));
  parent.append(row);
  return row;
}

/** A muted note line in a side column. */
export function keyNote(parent: HTMLElement, text: string): HTMLElement {
  const n = html("div", "lstmviz-key-note", text);
  parent.append(n);
  return n;
}

/** Short number for the readouts (3 significant digits). */
export function shortValue(v: number): string {
  if (!Number.isFinite(v)) return formatValue(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-2 || a >= 1e4)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** One part of a readout: a coloured name (optional) and a value. */
export type ReadoutPart = { name?: string; color?: string; value: string };

export interface Readout {
  set(parts: readonly ReadoutPart[]): void;
}

let measureCtx: CanvasRenderingContext2D | null | undefined;
/** Width of `text` in px at `font` (canvas measureText: no layout), or an estimate. */
export function textWidth(text: string, font: string): number {
  if (measureCtx === undefined) measureCtx = context2d(html("canvas"));
  if (measureCtx) {
    measureCtx.font = font;
    return measureCtx.measureText(text).width;
  }
  return text.length * 6;
}

/**
 * Values at the cursor, right-aligned in a track's title row ("input 0.51  forget 0.72 …").
 * Hidden when it would run into the title (narrow widgets). Setting new values only rewrites
 * text (no layout reads), so it is cheap on every timestep.
 */
export function createReadout(track: Track): Readout {
  const text = svg("text", { class: "lstmviz-caption lstmviz-track-readout", y: 12, "text-anchor": "end" });
  track.svg.append(text);
  let names = "";
  let values: SVGTSpanElement[] = [];
  let drawnX = "";
  let drawnVis = "";
  const GAP = 9;
  return {
    set(parts) {
      const key = parts.map((p) => `${p.name ?? ""}\u0000${p.color ?? ""}`).join("\u0001");
      if (key !== names || values.length !== parts.length) {
        names = key;
        text.replaceChildren();
        values = parts.map((p, i) => {
          if (p.name) {
            const n = svg("tspan", { class: "lstmviz-readout-name", dx: i ? GAP : 0 });
            if (p.color) n.setAttribute("fill", p.color);
            n.textContent = p.name;
            text.append(n);
          }
          const v = svg("tspan", p.name ? { dx: 3 } : { dx: i ? GAP : 0 });
          text.append(v);
          return v;
        });
      }
      parts.forEach((p, i) => {
        setText(values[i], p.value);
      });
      const g = track.geom();
      const x = String(TRACK_MARGIN.left + g.width);
      if (x !== drawnX) text.setAttribute("x", (drawnX = x));
      const font = "11px sans-serif";
      let w = 0;
      parts.forEach((p, i) => {
        w += (i ? GAP : 0) + (p.name ? textWidth(p.name, `600 ${font}`) + 3 : 0) + textWidth(p.value, font);
      });
      const fits = textWidth(track.title.textContent ?? "", `600 ${font}`) + w + 16 <= g.width;
      const vis = fits ? "visible" : "hidden";
      if (vis !== drawnVis) text.setAttribute("visibility", (drawnVis = vis));
    },
  };
}
