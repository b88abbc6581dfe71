/**
 * Gate small multiples (data-view "gates"): every gate of the current layer as a compact
 * heatmap (LSTM input i, forget f, cell g, output o; GRU update z, reset r, candidate h̃),
 * stacked so their time axes line up with the main heatmap: same zoom window, same unit order
 * (the store's sort mode, computed on the main heatmap's quantity), same cursor, hover and
 * selection. Each is a `createHeatmapPanel` with a fixed quantity.
 *
 * Colours: sigmoid gates ([0, 1]) sequential, tanh gates (g, h̃) diverging; one legend per
 * colour map, beside the first panel that uses it. Hidden for layers without gates (SimpleRNN);
 * absent when no layer has any.
 */
import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { html } from "../render/dom";
import { createHeatmapPanel, type HeatmapPanel } from "../parts/heatmap/panel";
import { clamp } from "../math/layout";
import { colorScaleFor } from "../math/scales";
import { createLifecycle } from "../parts/lifecycle";
import type { Store } from "../store";

/** Conventional symbol of a gate. */
const GATE_SYMBOL: Record<string, string> = {
  input: "i",
  forget: "f",
  cell: "g",
  output: "o",
  update: "z",
  reset: "r",
  candidate: "h̃",
};

/** The gate quantities ("gate:<name>") of a layer, in payload order. */
export function gatesOf(layer: DecodedLayer): string[] {
  return [...layer.arrays.keys()].filter((k) => k.startsWith("gate:"));
}

/** Plot height of one small multiple for a layer of `units` units, in CSS px. */
export function gatePanelHeight(units: number): number {
  return clamp(Math.round(30 + 2 * units), 44, 96);
}

/** Caption of a gate panel, e.g. "forget gate f · σ". */
export function gateCaption(q: string, kind: "diverging" | "sequential"): string {
  const name = q.slice(5);
  const sym = GATE_SYMBOL[name];
  const label = name === "candidate" ? "candidate" : `${name} gate`;
  return `${label}${sym ? ` ${sym}` : ""} · ${kind === "sequential" ? "σ, 0…1" : "tanh, signed"}`;
}

export function createGates(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  if (!payload.layers.some((l) => gatesOf(l).length > 0)) return null;
  const root = html("div", "lstmviz-view lstmviz-gates");
  root.dataset.view = "gates";
  container.append(root);

  let panels: HeatmapPanel[] = [];
  let builtFor = "";

  const build = (): void => {
    const layer = findLayer(payload, store.state.layer);
    if (layer.name === builtFor) return;
    builtFor = layer.name;
    for (const p of panels) p.destroy();
    panels = [];
    const gates = gatesOf(layer);
    root.hidden = gates.length === 0;
    if (gates.length === 0) return;
    const dir = layer.direction ? ` (${layer.direction})` : "";
    root.setAttribute("aria-label", `gates of ${layer.name}${dir}`);
    const seenMaps = new Set<string>();
    gates.forEach((q, i) => {
      const arr = layer.arrays.get(q);
      if (!arr) return;
      const scale = colorScaleFor(arr, q);
      const mapKey = `${scale.kind}:${scale.domain[0]}:${scale.domain[1]}`;
      const ownLegend = !seenMaps.has(mapKey);
      seenMaps.add(mapKey);
      const caption = gateCaption(q, scale.kind);
      panels.push(
        createHeatmapPanel(root, store, payload, {
          name: q,
          quantity: q,
          compact: true,
          height: gatePanelHeight,
          xAxis: i === gates.length - 1,
          legend: ownLegend,
          legendTitle: scale.kind === "sequential" ? "σ gates" : "tanh gates",
          caption: (l, _q, sample) =>
            i === 0
              ? `${caption}   —   gates of ${l.name}${dir}${payload.nSamples > 1 ? ` · sample ${sample}` : ""}`
              : caption,
        }),
      );
    });
  };

  const life = createLifecycle(store);
  life.subscribe((_s, changed) => {
    if (changed.has("layer")) build();
  });
  build();
  life.onDispose(() => {
    for (const p of panels) p.destroy();
    panels = [];
    root.remove();
  });
  return life.dispose;
}
