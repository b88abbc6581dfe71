/**
 * Gate lines: every gate of the current layer over time. Per gate, the mean over units as a
 * line and a band of mean ± 1 sd over units (clipped to the step's min–max), one colour per
 * gate; thin lines of the selected units and (dashed) of the hovered unit, for the current
 * quantity's gate or, when h/c is shown, for every gate.
 *
 * Sigmoid gates share a [0, 1] panel; the signed tanh "gates" (LSTM's cell candidate g, GRU's
 * candidate h̃) get their own [-1, 1] panel below it. Absent when no layer has gates; hidden
 * for layers without them (SimpleRNN).
 *
 * Per (layer, sample, gate) the per-step mean/sd is computed once (series.ts cachedStepStats);
 * a redraw reduces only the window to pixel columns (lod.ts envelope). Scrubbing only moves the
 * cursor (track.ts) and the values in the legend.
 */
import { axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedArray, type DecodedLayer, type DecodedPayload } from "../codecs";
import { context2d, html, setText, svg } from "../render/dom";
import { seriesLod, type Envelope } from "../math/lod";
import { colorScaleFor, formatValue } from "../math/scales";
import {
  cachedStepStats,
  columns,
  cssVar,
  fillBand,
  markColumns,
  NAN_COLOR,
  SERIES_COLORS,
  shadePadding,
  strokeEnvelope,
  type StepStats,
} from "../render/series";
import type { Store } from "../store";
import { createTrack, TRACK_MARGIN, type Track, type TrackGeom } from "../parts/track";

/** Fixed colours of the usual gates (GRU's update gate keeps like LSTM's forget gate). */
export const GATE_COLORS: Record<string, string> = {
  input: "#4e79a7",
  forget: "#f28e2b",
  cell: "#b07aa1",
  output: "#59a14f",
  update: "#f28e2b",
  reset: "#76b7b2",
  candidate: "#b07aa1",
};

export function gateColor(name: string, index: number): string {
  return GATE_COLORS[name] ?? SERIES_COLORS[index % SERIES_COLORS.length];
}

const SIG_H = 92;
const TANH_H = 46;
const GAP = 14;

export interface Gate {
  name: string;
  array: DecodedArray;
  /** Signed (tanh) gate: drawn in the [-1, 1] panel. */
  signed: boolean;
  color: string;
}

/** The gates of a layer, in payload order, with their panel and colour. */
export function gatesOf(layer: DecodedLayer): Gate[] {
  const out: Gate[] = [];
  for (const [key, array] of layer.arrays) {
    if (!key.startsWith("gate:")) continue;
    const name = key.slice(5);
    const signed = colorScaleFor(array, key).kind === "diverging";
    out.push({ name, array, signed, color: gateColor(name, out.length) });
  }
  return out;
}

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

/**
 * Tick labels of a log axis over `domain`: powers of ten ("10⁻³"); over fewer than two decades
 * also 2× and 5× ("0.2", "5"), so a narrow domain still has a few labels. Others are blank.
 */
export function logTickLabel(v: number, domain: readonly [number, number]): string {
  if (!(v > 0)) return "";
  const p = pow10Label(v);
  if (p) return p;
  if (Math.log10(domain[1] / domain[0]) >= 2) return "";
  const mant = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  if (Math.abs(mant - 2) > 1e-6 && Math.abs(mant - 5) > 1e-6) return "";
  return v >= 1e-3 && v < 1e4 ? String(Number(v.toPrecision(1))) : v.toExponential(0).replace("+", "");
}

const SUPERSCRIPT: Record<string, string> = {
  "-": "⁻",
  "0": "⁰",
  "1": "¹",
  "2": "²",
  "3": "³",
  "4": "⁴",
  "5": "⁵",
  "6": "⁶",
  "7": "⁷",
  "8": "⁸",
  "9": "⁹",
};

/** Tick label of a power of ten: "10⁻³" (other ticks of a log axis stay unlabelled). */
export function pow10Label(v: number): string {
  const e = Math.log10(v);
  const k = Math.round(e);
  if (!(v > 0) || Math.abs(e - k) > 1e-9) return "";
  if (k === 0) return "1";
  if (k === 1) return "10";
  return `10${[...String(k)].map((c) => SUPERSCRIPT[c] ?? c).join("")}`;
}

/** At most this many selected units get their own lines (a health group may select dozens). */
export const MAX_UNIT_LINES = 8;

/** The selected units that get lines: the first MAX_UNIT_LINES of those the layer has. */
export function shownUnits(selected: readonly number[], units: number): number[] {
  return selected.filter((u) => u < units).slice(0, MAX_UNIT_LINES);
}

/** "thin: units 1, 4, 9" (+ "first 8 of 30"), or "" when none is selected. */
export function unitsNote(selected: readonly number[], units: number): string {
  const all = selected.filter((u) => u < units);
  const shown = all.slice(0, MAX_UNIT_LINES);
  if (!shown.length) return "";
  const more = all.length > shown.length ? ` (first ${shown.length} of ${all.length})` : "";
  return `thin: unit${shown.length > 1 ? "s" : ""} ${shown.join(", ")}${more}`;
}

/** "0", "0.5", "1", "−1": ticks without trailing zeros, with a real minus sign. */
export function shortTick(v: number): string {
  const r = Math.round(v * 1000) / 1000;
  return (r < 0 ? "−" : "") + String(Math.abs(r));
}

interface Panel {
  signed: boolean;
  top: number;
  height: number;
  y: (v: number) => number;
  domain: [number, number];
}

interface GateCols {
  mean: Envelope;
  lo: Envelope;
  hi: Envelope;
  bad: Uint8Array | null;
}

export function createGateLines(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const T = payload.nSteps;
  let track: ReturnType<typeof createTrack> | undefined;
  const gated = payload.layers.some((l) => [...l.arrays.keys()].some((k) => k.startsWith("gate:")));
  if (!gated) return null;
  const anySigned = payload.layers.some((l) => gatesOf(l).some((g) => g.signed));
  const height = anySigned ? SIG_H + GAP + TANH_H : SIG_H;

  let cacheKey = "";
  let cols = new Map<string, GateCols>();
  let readout: Readout | null = null;
  let legendKey = "";
  let unitNote: HTMLElement | null = null;
  const axisG = [svg("g"), svg("g")];
  const labels = [
    svg("text", { class: "lstmviz-panel-label", "text-anchor": "end" }),
    svg("text", { class: "lstmviz-panel-label", "text-anchor": "end" }),
  ];
  const zeroLine = svg("line", { class: "lstmviz-zero-line lstmviz-track-zero" });

  const panelsOf = (gates: Gate[]): Panel[] => {
    const hasSigned = gates.some((g) => g.signed);
    const hasSig = gates.some((g) => !g.signed);
    const out: Panel[] = [];
    if (hasSig) {
      const h = hasSigned ? SIG_H : height;
      const y = scaleLinear().domain([0, 1]).range([h, 0]);
      out.push({ signed: false, top: 0, height: h, y, domain: [0, 1] });
    }
    if (hasSigned) {
      const top = hasSig ? SIG_H + GAP : 0;
      const h = height - top;
      let m = 1;
      for (const g of gates) if (g.signed) m = Math.max(m, colorScaleFor(g.array, `gate:${g.name}`).domain[1]);
      const y = scaleLinear()
        .domain([-m, m])
        .range([top + h, top]);
      out.push({ signed: true, top, height: h, y, domain: [-m, m] });
    }
    return out;
  };

  const sideFor = (layer: DecodedLayer, gates: Gate[]): void => {
    const key = `${layer.name}`;
    const side = track?.side;
    if (key === legendKey || !side) return;
    legendKey = key;
    side.replaceChildren();
    gates.forEach((g) => keyRow(side, g.color, g.name, "line"));
    keyNote(side, "band: mean ± 1 sd over units");
    unitNote = keyNote(side, "");
  };

  const updateValues = (): void => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const gates = gatesOf(layer);
    readout?.set(
      gates.map((g) => ({
        name: g.name,
        color: g.color,
        value: shortValue(cachedStepStats(g.array.data, T, layer.units, s.sample).mean[s.timestep]),
      })),
    );
  };

  /** Title, legend, readout and visibility (no canvas); false when the layer has no gates. */
  const decorate = (): boolean => {
    if (!track) return false;
    const layer = findLayer(payload, store.state.layer);
    const gates = gatesOf(layer);
    track.root.hidden = gates.length === 0;
    if (gates.length === 0) return false;
    const dir = layer.direction ? ` (${layer.direction})` : "";
    track.title.textContent = `gates · ${layer.name}${dir} · mean over units`;
    sideFor(layer, gates);
    updateValues();
    return true;
  };

  const draw = (ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void => {
    if (!track || !decorate()) return;
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const gates = gatesOf(layer);
    const U = layer.units;
    const panels = panelsOf(gates);

    // axes and panel labels (SVG)
    axisG.forEach((g, i) => {
      const p = panels[i];
      g.style.display = p ? "" : "none";
      labels[i].style.display = p ? "" : "none";
      if (!p) return;
      const ticks = p.signed ? [p.domain[0], 0, p.domain[1]] : [0, 0.5, 1];
      select(g).call(
        axisLeft(
          scaleLinear()
            .domain(p.domain)
            .range([p.top + p.height, p.top]),
        )
          .tickValues(ticks)
          .tickFormat((v) => shortTick(v as number))
          .tickSize(3)
          .tickSizeOuter(0),
      );
      labels[i].setAttribute("x", String(geom.width - 3));
      labels[i].setAttribute("y", String(p.top + 9));
      labels[i].textContent = p.signed ? "tanh" : "sigmoid";
    });
    const signedPanel = panels.find((p) => p.signed);
    zeroLine.style.display = signedPanel ? "" : "none";
    if (signedPanel) {
      const y0 = signedPanel.y(0);
      zeroLine.setAttribute("x1", "0");
      zeroLine.setAttribute("x2", String(geom.width));
      zeroLine.setAttribute("y1", String(y0));
      zeroLine.setAttribute("y2", String(y0));
    }
    if (!ctx || geom.width <= 0) return;

    // per-gate columns of the window: cached until window/sample/layer/width change
    const key = `${layer.name}\u0000${s.sample}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey) {
      cacheKey = key;
      cols = new Map();
      for (const g of gates) {
        const st: StepStats = cachedStepStats(g.array.data, T, U, s.sample);
        // min/max pyramids of the per-step stats, once: O(columns · log T) per redraw
        const meanLod = seriesLod(st.mean, "", () => ({ values: st.mean, flagged: st.bad }));
        const mean = columns(meanLod, geom.win, geom.width, T);
        cols.set(g.name, {
          mean,
          lo: columns(
            seriesLod(st.lo, "", () => ({ values: st.lo })),
            geom.win,
            geom.width,
            T,
          ),
          hi: columns(
            seriesLod(st.hi, "", () => ({ values: st.hi })),
            geom.win,
            geom.width,
            T,
          ),
          bad: meanLod.bad ? meanLod.bad.flags(mean) : null,
        });
      }
    }

    const bg = cssVar(track.root, "--lstmviz-bg", "#fff");
    for (const p of panels) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, p.top, geom.width, p.height);
      ctx.clip();
      const inPanel = gates.filter((g) => g.signed === p.signed);
      for (const g of inPanel) {
        const c = cols.get(g.name);
        if (c) fillBand(ctx, c.lo, c.hi, geom, p.y, g.color, 0.16);
      }
      for (const g of inPanel) {
        const c = cols.get(g.name);
        if (c) strokeEnvelope(ctx, c.mean, geom, p.y, g.color, 2);
      }
      // units: the current quantity's gate, or every gate when h / c is shown
      const q = s.quantity.startsWith("gate:") ? s.quantity.slice(5) : null;
      const shown = inPanel.filter((g) => q === null || g.name === q);
      for (const g of shown) {
        for (const u of shownUnits(s.selectedUnits, U)) {
          const env = columns((t) => g.array.data[(s.sample * T + t) * U + u], geom.win, geom.width, T);
          strokeEnvelope(ctx, env, geom, p.y, g.color, 1);
        }
        const hu = s.hoverUnit;
        if (hu !== null && hu < U) {
          const env = columns((t) => g.array.data[(s.sample * T + t) * U + hu], geom.win, geom.width, T);
          strokeEnvelope(ctx, env, geom, p.y, bg, 3.5);
          strokeEnvelope(ctx, env, geom, p.y, g.color, 1.5, [4, 2]);
        }
      }
      for (const g of inPanel) {
        const c = cols.get(g.name);
        if (c?.bad) markColumns(ctx, c.mean, c.bad, geom, p.top + p.height - 4, 4, NAN_COLOR);
      }
      ctx.restore();
      shadePadding(ctx, layer.lengths[s.sample] ?? T, geom, p.top, p.height);
    }

    if (unitNote) {
      const parts: string[] = [];
      const sel = unitsNote(s.selectedUnits, U);
      if (sel) parts.push(sel);
      if (s.hoverUnit !== null && s.hoverUnit < U) parts.push(`dashed: unit ${s.hoverUnit}`);
      unitNote.textContent = parts.join(" · ");
      unitNote.hidden = parts.length === 0;
    }
  };

  track = createTrack(container, store, payload, {
    name: "gatelines",
    title: "gates",
    height,
    redrawOn: ["quantity", "selectedUnits", "hoverUnit"],
    draw,
  });
  const t = track;
  readout = createReadout(t);
  t.yAxis.append(...axisG);
  t.overlay.append(zeroLine, ...labels);
  decorate();
  t.invalidate();
  const unsubscribe = store.subscribe((_st, changed) => {
    if (changed.has("layer")) decorate();
    if (changed.has("timestep") && !t.root.hidden) updateValues();
  });
  return () => {
    unsubscribe();
    t.destroy();
  };
}
