/**
 * The gate small multiples of a long (tiled) capture (data-view "gates"): one compact tiled
 * heatmap per gate of the layer (parts/heatmap/tiled-panel.ts with a fixed quantity), on the same
 * time axis, each from its own tiles; panels of gates the current layer does not have hide.
 */
import { html } from "../render/dom";
import type { Store } from "../store";
import type { TiledData } from "../tiles/source";
import { createTiledPanel } from "../parts/heatmap/tiled-panel";

/** Plot height of one gate panel (CSS px). */
export const GATE_PANEL_HEIGHT = 90;

export function createLongGates(container: HTMLElement, store: Store, data: TiledData): (() => void) | null {
  const gates: string[] = [];
  for (const l of data.payload.layers)
    for (const q of l.arrays.keys()) if (q.startsWith("gate:") && !gates.includes(q)) gates.push(q);
  if (gates.length === 0) return null;
  const root = html("div", "lstmviz-view lstmviz-gates");
  root.dataset.view = "gates";
  container.append(root);
  const stops = gates.map((q) =>
    createTiledPanel(root, store, data, { quantity: q, height: GATE_PANEL_HEIGHT, view: null }),
  );
  return () => {
    for (const stop of stops) stop();
    root.remove();
  };
}
