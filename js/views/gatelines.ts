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
 * Per (layer, sample, gate) the per-step mean/sd is computed once (math/steps.ts cachedStepStats);
 * a redraw reduces only the window to pixel columns (lod.ts envelope). Scrubbing only moves the
 * cursor (track.ts) and the values in the legend.
 */
import { createLifecycle } from "../parts/lifecycle";
import { axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { type DecodedLayer, type DecodedPayload, findLayer } from "../codecs";
import { type Gate, gatesOf } from "../math/gates";
import { type Envelope, seriesLod } from "../math/lod";
import { colorScaleFor } from "../math/scales";
import { shortTick } from "../parts/labels";
import { createReadout, keyNote, keyRow, type Readout, shortValue } from "../parts/readout";
import { createTrack, type TrackGeom } from "../parts/track";
import { svg } from "../render/dom";
import { cachedStepStats, type StepStats } from "../math/steps";
import { columns } from "../math/columns";
import { fillBand, markColumns, shadePadding, strokeEnvelope } from "../render/series";
import { themeVar as cssVar } from "../render/theme";
import { NAN_COLOR } from "../math/scales";
import { shownUnits, unitsNote } from "../selection";
import type { Store, ViewState } from "../store";

const SIG_H = 92;
const TANH_H = 46;
const GAP = 14;

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
    const panels = panelsOf(gates, height);

    drawPanelAxes(axisG, labels, zeroLine, panels, geom.width);
    if (!ctx || geom.width <= 0) return;

    // per-gate columns of the window: cached until window/sample/layer/width change
    const key = `${layer.name}\u0000${s.sample}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey) {
      cacheKey = key;
      cols = gateColumns(gates, T, U, s.sample, geom);
    }

    const bg = cssVar(track.root, "--lstmviz-bg", "#fff");
    for (const p of panels) {
      paintPanel(ctx, p, gates, cols, s, T, U, geom, bg);
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
  const life = createLifecycle(store);
  life.onDispose(() => t.destroy());
  life.subscribe((_st, changed) => {
    if (changed.has("layer")) decorate();
    if (changed.has("timestep") && !t.root.hidden) updateValues();
  });
  return life.dispose;
}

function panelsOf(gates: Gate[], height: number): Panel[] {
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
}

/** Axes and panel labels (SVG), the zero line of the signed panel. */
function drawPanelAxes(
  axisG: SVGGElement[],
  labels: SVGTextElement[],
  zeroLine: SVGLineElement,
  panels: Panel[],
  width: number,
): void {
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
    labels[i].setAttribute("x", String(width - 3));
    labels[i].setAttribute("y", String(p.top + 9));
    labels[i].textContent = p.signed ? "tanh" : "sigmoid";
  });
  const signedPanel = panels.find((p) => p.signed);
  zeroLine.style.display = signedPanel ? "" : "none";
  if (signedPanel) {
    const y0 = signedPanel.y(0);
    zeroLine.setAttribute("x1", "0");
    zeroLine.setAttribute("x2", String(width));
    zeroLine.setAttribute("y1", String(y0));
    zeroLine.setAttribute("y2", String(y0));
  }
}

/** Per gate, the window's pixel columns of the mean and the band (min/max pyramids of the
 *  per-step stats, once: O(columns · log T) per redraw). */
function gateColumns(gates: Gate[], T: number, U: number, sample: number, geom: TrackGeom): Map<string, GateCols> {
  const cols = new Map<string, GateCols>();
  for (const g of gates) {
    const st: StepStats = cachedStepStats(g.array.data, T, U, sample);
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
  return cols;
}

/** One panel's bands, means, unit lines and NaN marks, clipped to the panel. */
function paintPanel(
  ctx: CanvasRenderingContext2D,
  p: Panel,
  gates: Gate[],
  cols: Map<string, GateCols>,
  s: Readonly<ViewState>,
  T: number,
  U: number,
  geom: TrackGeom,
  bg: string,
): void {
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
}
