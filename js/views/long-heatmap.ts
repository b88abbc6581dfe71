/**
 * The main heatmap of a long (tiled) capture (data-view "heatmap", data-tiled="true"): the
 * store's quantity, drawn by the tiled panel (parts/heatmap/tiled-panel.ts).
 */
import { createTiledPanel } from "../parts/heatmap/tiled-panel";
import type { Store } from "../store";
import type { TiledData } from "../tiles/source";

export function createLongHeatmap(container: HTMLElement, store: Store, data: TiledData): () => void {
  return createTiledPanel(container, store, data);
}
