/**
 * The main heatmap (data-view "heatmap"): the store's quantity for the current layer and
 * sample, rows = units in the store's sort order, columns = the steps of the zoom window
 * (min/max-aggregated to pixel resolution when they do not fit). A colour legend beside it,
 * a cursor at the store's timestep. Everything is drawn by the shared panel in
 * parts/heatmap/panel.ts (also used by the gate small multiples, views/gates.ts).
 */
import type { DecodedPayload } from "../codecs";
import { html } from "../render/dom";
import { createHeatmapPanel } from "../parts/heatmap/panel";
import type { Store } from "../store";

export function createHeatmap(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const root = html("div", "lstmviz-view lstmviz-heatmap-view");
  root.dataset.view = "heatmap";
  container.append(root);
  const panel = createHeatmapPanel(root, store, payload, { name: "heatmap" });
  return () => {
    panel.destroy();
    root.remove();
  };
}
