/**
 * Header row: model name, layer / quantity / sample selects and the replay-fidelity badge.
 * All user strings (model, layer names) go in via textContent / option.text.
 */
import { findLayer, quantitiesOf, type DecodedLayer, type DecodedPayload } from "../codecs";
import { html, quantityLabel } from "../dom";
import type { StateKey, Store } from "../store";

/** Replay errors at or below this are shown green. */
export const FIDELITY_OK = 1e-5;

export function layerLabel(l: DecodedLayer): string {
  const dir = l.direction ? ` (${l.direction})` : "";
  return `${l.name}${dir} · ${l.kind} · ${l.units} unit${l.units === 1 ? "" : "s"}`;
}

export function fidelityText(err: number): string {
  return Number.isFinite(err) ? `replay error ${err.toExponential(1)}` : "replay error n/a";
}

function option(value: string, text: string): HTMLOptionElement {
  const o = html("option");
  o.value = value;
  o.text = text;
  return o;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  const l = html("label", "lstmviz-control");
  l.append(html("span", "lstmviz-control-label", text), control);
  return l;
}

export function createControls(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const header = html("div", "lstmviz-header");
  const name = html("span", "lstmviz-model-name", payload.modelName || "model");
  name.title = "Keras model";

  const layerSel = html("select", "lstmviz-layer");
  layerSel.setAttribute("aria-label", "layer");
  for (const l of payload.layers) layerSel.add(option(l.name, layerLabel(l)));

  const quantitySel = html("select", "lstmviz-quantity");
  quantitySel.setAttribute("aria-label", "quantity");

  let sampleSel: HTMLSelectElement | null = null;
  if (payload.nSamples > 1) {
    sampleSel = html("select", "lstmviz-sample");
    sampleSel.setAttribute("aria-label", "sample");
    for (let b = 0; b < payload.nSamples; b++) {
      const len = payload.lengths[b];
      const suffix = len < payload.nSteps ? ` (${len} steps)` : "";
      sampleSel.add(option(String(b), `sample ${b}${suffix}`));
    }
  }

  // Training snapshots (LSTMMonitor.explorer()): an epoch slider. Python swaps the capture
  // when `epoch` changes, and the new `_data` rebuilds every view.
  let epochInput: HTMLInputElement | null = null;
  const epochText = html("span", "lstmviz-epoch-label");
  const epochs = payload.epochs;
  if (epochs && epochs.length > 1) {
    epochInput = html("input", "lstmviz-epoch");
    epochInput.type = "range";
    epochInput.min = "0";
    epochInput.max = String(epochs.length - 1);
    epochInput.step = "1";
    epochInput.setAttribute("aria-label", "training epoch");
  }

  const badge = html("span", "lstmviz-fidelity");

  header.append(name, labelled("layer", layerSel), labelled("show", quantitySel));
  if (sampleSel) header.append(labelled("sample", sampleSel));
  if (epochInput) {
    const l = labelled("epoch", epochInput);
    l.append(epochText);
    header.append(l);
  }
  const spacer = html("span", "lstmviz-spacer");
  header.append(spacer, badge);
  container.append(header);

  let quantityLayer = "";
  const update = (): void => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    if (layerSel.value !== layer.name) layerSel.value = layer.name;
    if (quantityLayer !== layer.name) {
      quantitySel.replaceChildren(...quantitiesOf(layer).map((q) => option(q, quantityLabel(q))));
      quantityLayer = layer.name;
    }
    if (quantitySel.value !== s.quantity) quantitySel.value = s.quantity;
    if (sampleSel && sampleSel.value !== String(s.sample)) sampleSel.value = String(s.sample);
    if (epochInput && epochs) {
      if (epochInput.value !== String(s.epoch)) epochInput.value = String(s.epoch);
      epochText.textContent = `${epochs[s.epoch] + 1} / ${epochs[epochs.length - 1] + 1}`;
    }
    const ok = Number.isFinite(layer.fidelity) && layer.fidelity <= FIDELITY_OK;
    badge.textContent = fidelityText(layer.fidelity);
    badge.classList.toggle("ok", ok);
    badge.classList.toggle("bad", !ok);
    badge.dataset.ok = String(ok);
    badge.title =
      `Replay fidelity of layer ${layer.name}: max |h_replayed − h_keras|, the largest difference ` +
      `between the hidden states recomputed step by step (which give the gates and cell states shown) ` +
      `and the layer's own output. ≤ ${FIDELITY_OK.toExponential(0)} is shown green.`;
  };

  const onLayer = (): void => {
    store.set({ layer: layerSel.value });
  };
  const onQuantity = (): void => {
    store.set({ quantity: quantitySel.value });
  };
  const onSample = (): void => {
    if (sampleSel) store.set({ sample: Number(sampleSel.value) });
  };
  // A new epoch means new data from Python, which rebuilds the views (and this slider): commit
  // on release ("change"), and only preview the label while dragging ("input").
  const onEpochInput = (): void => {
    if (epochInput && epochs) {
      epochText.textContent = `${epochs[Number(epochInput.value)] + 1} / ${epochs[epochs.length - 1] + 1}`;
    }
  };
  const onEpoch = (): void => {
    if (epochInput) store.set({ epoch: Number(epochInput.value) });
  };
  layerSel.addEventListener("change", onLayer);
  quantitySel.addEventListener("change", onQuantity);
  sampleSel?.addEventListener("change", onSample);
  epochInput?.addEventListener("input", onEpochInput);
  epochInput?.addEventListener("change", onEpoch);
  const unsubscribe = store.subscribe((_s, changed) => {
    if (["layer", "quantity", "sample", "epoch"].some((k) => changed.has(k as StateKey))) update();
  });
  update();

  return () => {
    unsubscribe();
    layerSel.removeEventListener("change", onLayer);
    quantitySel.removeEventListener("change", onQuantity);
    sampleSel?.removeEventListener("change", onSample);
    epochInput?.removeEventListener("input", onEpochInput);
    epochInput?.removeEventListener("change", onEpoch);
    header.remove();
  };
}
