/**
 * Gradients through time: ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ (norm over units) on a log y scale, and the
 * per-gate gradient norms (`gradNorms` keys "gate:<name>") as thinner lines. Zeros and NaN are
 * gaps (a log scale has no 0); NaN/Inf steps are marked in magenta; the y domain spans the
 * finite positive values of the window. Clicking a legend entry shows/hides its line.
 *
 * Absent when no layer has gradient norms; hidden for layers without them.
 */
import { createLifecycle } from "../parts/lifecycle";
import { axisLeft } from "d3-axis";
import { scaleLog } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedArray, type DecodedLayer, type DecodedPayload } from "../codecs";
import { html, svg } from "../render/dom";
import type { Envelope } from "../math/lod";
import { columns, envelopeExtent, logDomain, sampleLod } from "../math/columns";
import { markColumns, shadePadding, strokeEnvelope } from "../render/series";
import { NAN_COLOR } from "../math/scales";
import type { Store } from "../store";
import { createTrack, type TrackGeom } from "../parts/track";
import { createReadout, shortValue, type Readout } from "../parts/readout";
import { gateColor } from "../math/gates";
import { logTickLabel } from "../parts/labels";

const HEIGHT = 96;
const STATE_COLORS: Record<string, string> = { h: "#e15759", c: "#9c755f" };

interface Series {
  key: string;
  label: string;
  array: DecodedArray;
  color: string;
  width: number;
  dash: number[];
}

/** The gradient series of a layer: h and c first (thick), then the gates (thin, dashed). */
export function gradientSeries(layer: DecodedLayer): Series[] {
  const out: Series[] = [];
  for (const k of ["h", "c"]) {
    const a = layer.gradNorms.get(k);
    if (a) out.push({ key: k, label: `∂L/∂${k}`, array: a, color: STATE_COLORS[k], width: 2, dash: [] });
  }
  let i = 0;
  for (const [k, a] of layer.gradNorms) {
    if (!k.startsWith("gate:")) continue;
    const name = k.slice(5);
    out.push({ key: k, label: name, array: a, color: gateColor(name, i++), width: 1, dash: [3, 2] });
  }
  return out;
}

/** Value for a log axis: finite and > 0, else NaN (a gap). */
export function logValue(v: number): number {
  return v > 0 && v !== Infinity ? v : NaN;
}

export function createGradients(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const T = payload.nSteps;
  if (!payload.layers.some((l) => l.gradNorms.size > 0)) return null;
  let track: ReturnType<typeof createTrack> | undefined;
  const axis = svg("g");
  const empty = svg("text", { class: "lstmviz-panel-label", "text-anchor": "middle" });
  /** Keys hidden by the user (kept across layers: "gate:forget" stays hidden). */
  const hidden = new Set<string>();
  let legendKey = "";
  let readout: Readout | null = null;
  let cacheKey = "";
  let cols = new Map<string, { env: Envelope; bad: Uint8Array | null }>();

  const legend = (layer: DecodedLayer, series: Series[]): void => {
    const side = track?.side;
    if (!side || legendKey === layer.name) return;
    legendKey = layer.name;
    side.replaceChildren();
    series.forEach((s) => {
      const button = html("button", "lstmviz-key lstmviz-key-toggle");
      button.type = "button";
      const sw = html("span", `lstmviz-key-swatch ${s.dash.length ? "dash" : "line"}`);
      sw.style.setProperty("--key-color", s.color);
      button.append(sw, html("span", "lstmviz-key-label", s.label));
      button.title = `show/hide ${s.key.startsWith("gate:") ? `‖∂L/∂ ${s.label} gate‖` : s.label}`;
      button.setAttribute("aria-pressed", String(!hidden.has(s.key)));
      button.dataset.key = s.key;
      button.addEventListener("click", () => {
        if (hidden.has(s.key)) hidden.delete(s.key);
        else hidden.add(s.key);
        button.setAttribute("aria-pressed", String(!hidden.has(s.key)));
        track?.invalidate();
        updateValues();
      });
      side.append(button);
    });
    side.append(html("div", "lstmviz-key-note", "‖·‖ over units · click to hide"));
  };

  const updateValues = (): void => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    readout?.set(
      gradientSeries(layer)
        .filter((sr) => !hidden.has(sr.key))
        .map((sr) => ({
          name: sr.label,
          color: sr.color,
          value: shortValue(sr.array.data[s.sample * T + s.timestep]),
        })),
    );
  };

  /** Title, legend, readout and visibility (no canvas); false when the layer has no norms. */
  const decorate = (): boolean => {
    if (!track) return false;
    const layer = findLayer(payload, store.state.layer);
    const series = gradientSeries(layer);
    track.root.hidden = series.length === 0;
    if (series.length === 0) return false;
    const dir = layer.direction ? ` (${layer.direction})` : "";
    track.title.textContent = `gradient norms · ${layer.name}${dir} · log scale`;
    legend(layer, series);
    updateValues();
    return true;
  };

  const draw = (ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void => {
    if (!decorate()) return;
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const series = gradientSeries(layer);

    const key = `${layer.name}\u0000${s.sample}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey) {
      cacheKey = key;
      cols = new Map();
      for (const sr of series) {
        const d = sr.array.data;
        // NaN / ±Inf norms (exploding gradients) are marked; zeros are just gaps
        const lod = sampleLod(d, T, s.sample, "log", logValue, (v) => !Number.isFinite(v));
        const env = columns(lod, geom.win, geom.width, T);
        cols.set(sr.key, { env, bad: lod.bad ? lod.bad.flags(env) : null });
      }
    }
    const visible = series.filter((sr) => !hidden.has(sr.key));
    const envs = visible.map((sr) => cols.get(sr.key)?.env).filter((e): e is Envelope => !!e);
    const domain = logDomain(envelopeExtent(envs, true));
    empty.setAttribute("x", String(geom.width / 2));
    empty.setAttribute("y", String(geom.height / 2 + 4));
    empty.textContent = domain ? "" : visible.length ? "no finite non-zero gradient in view" : "every line hidden";
    axis.style.display = domain ? "" : "none";
    const dom: [number, number] = domain ?? [1e-3, 1];
    const y = scaleLog().domain(dom).range([geom.height, 0]);
    select(axis).call(
      axisLeft(y)
        .ticks(4)
        .tickFormat((v) => logTickLabel(v as number, dom))
        .tickSize(3)
        .tickSizeOuter(0),
    );
    if (!ctx || geom.width <= 0) return;
    if (domain) {
      // gates under the states
      for (const sr of [...visible].reverse()) {
        const c = cols.get(sr.key);
        if (c) strokeEnvelope(ctx, c.env, geom, (v) => y(v), sr.color, sr.width, sr.dash);
      }
    }
    for (const sr of visible) {
      const c = cols.get(sr.key);
      if (c?.bad) markColumns(ctx, c.env, c.bad, geom, 0, 4, NAN_COLOR);
    }
    shadePadding(ctx, layer.lengths[s.sample] ?? T, geom, 0, geom.height);
  };

  track = createTrack(container, store, payload, { name: "gradients", title: "gradients", height: HEIGHT, draw });
  const t = track;
  readout = createReadout(t);
  t.yAxis.append(axis);
  t.overlay.append(empty);
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
