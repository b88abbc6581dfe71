/**
 * The gate small multiples of a long (tiled) capture (data-view "gates"): one compact tiled
 * heatmap per gate of the layer (parts/heatmap/tiled-panel.ts with a fixed quantity), on the
 * same time axis, each from its own tiles; panels of gates the current layer does not have
 * hide. Folded until asked for (a button): four more keys' tiles at 1,000,000 steps are work
 * for the kernel that the first look at the heatmap should not wait behind.
 */
import { html } from "../render/dom";
import type { Store } from "../store";
import type { TiledData } from "../tiles/source";
import { createTiledPanel } from "../parts/heatmap/tiled-panel";

/** Plot height of one gate panel (CSS px). */
export const GATE_PANEL_HEIGHT = 90;

export function createLongGates(container: HTMLElement, store: Store, data: TiledData): (() => void) | null {
  const gates: string[] = [];
  for (const l of data.payload.layers) {
    for (const q of l.arrays.keys()) if (q.startsWith("gate:") && !gates.includes(q)) gates.push(q);
  }
  if (gates.length === 0) return null;
  const root = html("div", "lstmviz-view lstmviz-gates");
  root.dataset.view = "gates";
  root.dataset.open = "false";
  const toggle = html("button", "lstmviz-button lstmviz-gates-toggle", `▸ gate heatmaps (${gates.length})`);
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  root.append(toggle);
  container.append(root);
  let stops: Array<() => void> | null = null;
  const onClick = (): void => {
    const open = stops === null;
    if (open) {
      stops = gates.map((q) =>
        createTiledPanel(root, store, data, { quantity: q, height: GATE_PANEL_HEIGHT, view: null }),
      );
    } else {
      for (const stop of stops ?? []) stop();
      stops = null;
    }
    toggle.textContent = `${open ? "▾" : "▸"} gate heatmaps (${gates.length})`;
    toggle.setAttribute("aria-expanded", String(open));
    root.dataset.open = String(open);
  };
  toggle.addEventListener("click", onClick);
  return () => {
    toggle.removeEventListener("click", onClick);
    for (const stop of stops ?? []) stop();
    root.remove();
  };
}
