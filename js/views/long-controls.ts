/**
 * The toolbar of a long (tiled) capture (data-view "controls"): model name, layer / quantity /
 * sample selects, zoom out / in / reset with "showing t0–t1 of T", and a note saying what the
 * tiled explorer leaves out (attention, PCA, …: `_data.tiled_out`). User strings go in as
 * text only.
 */
import { html, quantityLabel } from "../render/dom";
import { layerLabel } from "../parts/labels";
import { ZOOM_STEP, zoomAboutCursor } from "../math/zoom";
import type { Store } from "../store";
import { findTiledLayer } from "../tiles/payload";
import type { TiledData } from "../tiles/source";

function select(label: string, options: Array<[string, string]>): HTMLSelectElement {
  const s = html("select");
  s.setAttribute("aria-label", label);
  for (const [value, text] of options) {
    const o = html("option");
    o.value = value;
    o.text = text;
    s.add(o);
  }
  return s;
}

function button(text: string, label: string): HTMLButtonElement {
  const b = html("button", "lstmviz-button", text);
  b.type = "button";
  b.title = label;
  b.setAttribute("aria-label", label);
  return b;
}

export function createLongControls(container: HTMLElement, store: Store, data: TiledData): () => void {
  const p = data.payload;
  const T = p.nSteps;
  const root = html("div", "lstmviz-view lstmviz-header");
  root.dataset.view = "controls";
  const name = html("span", "lstmviz-model-name", p.modelName || "model");
  const layerSel = select(
    "layer",
    p.layers.map((l) => [l.name, layerLabel(l)]),
  );
  layerSel.classList.add("lstmviz-layer");
  const quantitySel = select("quantity", []);
  quantitySel.classList.add("lstmviz-quantity");
  const sampleSel = select(
    "sample",
    Array.from({ length: p.nSamples }, (_, b) => [String(b), `sample ${b}`] as [string, string]),
  );
  sampleSel.hidden = p.nSamples < 2;
  const zoomOut = button("−", "zoom out (−)");
  const zoomIn = button("+", "zoom in (+)");
  const reset = button("all", "show every step (0)");
  const readout = html("span", "lstmviz-zoom-readout");
  const note = html("div", "lstmviz-tiles-about");
  const out = p.tiledOut.length ? ` Not shown for a sequence this long: ${p.tiledOut.join(", ")}.` : "";
  note.textContent =
    `Long sequence (${T.toLocaleString("en-US")} steps): views are drawn from min/max tiles ` +
    `sent on demand; every step is exact when zoomed in.${out}`;
  root.append(name, layerSel, quantitySel, sampleSel, zoomOut, zoomIn, reset, readout, note);
  container.append(root);

  const fillQuantities = (): void => {
    const layer = findTiledLayer(p, store.state.layer);
    quantitySel.replaceChildren();
    for (const q of layer.arrays.keys()) {
      const o = html("option");
      o.value = q;
      o.text = quantityLabel(q);
      quantitySel.add(o);
    }
  };
  const sync = (): void => {
    const s = store.state;
    layerSel.value = s.layer;
    quantitySel.value = s.quantity;
    sampleSel.value = String(s.sample);
    readout.textContent = `showing ${s.window[0].toLocaleString("en-US")}–${s.window[1].toLocaleString("en-US")} of ${T.toLocaleString("en-US")}`;
  };
  fillQuantities();
  sync();
  const onLayer = (): void => {
    store.set({ layer: layerSel.value });
  };
  const onQuantity = (): void => {
    store.set({ quantity: quantitySel.value });
  };
  const onSample = (): void => {
    store.set({ sample: Number(sampleSel.value) });
  };
  const zoom = (f: number) => (): void => {
    const s = store.state;
    store.set({ window: zoomAboutCursor(s.window, f, s.timestep, T) });
  };
  const onIn = zoom(1 / ZOOM_STEP);
  const onOut = zoom(ZOOM_STEP);
  const onReset = (): void => {
    store.set({ window: [0, T] });
  };
  layerSel.addEventListener("change", onLayer);
  quantitySel.addEventListener("change", onQuantity);
  sampleSel.addEventListener("change", onSample);
  zoomIn.addEventListener("click", onIn);
  zoomOut.addEventListener("click", onOut);
  reset.addEventListener("click", onReset);
  const unsub = store.subscribe((_s, changed) => {
    if (changed.has("layer")) fillQuantities();
    sync();
  });
  return () => {
    unsub();
    layerSel.removeEventListener("change", onLayer);
    quantitySel.removeEventListener("change", onQuantity);
    sampleSel.removeEventListener("change", onSample);
    zoomIn.removeEventListener("click", onIn);
    zoomOut.removeEventListener("click", onOut);
    reset.removeEventListener("click", onReset);
    root.remove();
  };
}
