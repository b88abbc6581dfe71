/**
 * The toolbar (data-view "controls"): model name, layer / quantity / sample selects, the epoch
 * slider of training snapshots, play/pause with a speed, zoom in/out/reset with a "showing
 * t0–t1 of T" readout, the row sort mode, the brushed range with "select top 10", and the
 * replay-fidelity badge. All user strings (model, layer names) go in via textContent /
 * option.text.
 *
 * Play and speed are the store's `playing` / `playSpeed`; js/player.ts moves the cursor.
 */
import { createLifecycle } from "../parts/lifecycle";
import { findLayer, quantitiesOf, type DecodedLayer, type DecodedPayload } from "../codecs";
import { html, quantityLabel } from "../render/dom";
import { clearBrushPatch } from "../selection";
import { MIN_WINDOW } from "../math/layout";
import { SORT_LABELS, unitOrder } from "../math/ordering";
import { fidelityText, FIDELITY_OK, layerLabel } from "../parts/labels";
import { SPEEDS } from "../player";
import { SORT_MODES, type StateKey, type Store } from "../store";
import { isZoomed, ZOOM_STEP, zoomAboutCursor } from "../math/zoom";

/** How many units "select top N" selects. */
export const TOP_N = 10;

function button(className: string, text: string, label: string): HTMLButtonElement {
  const b = html("button", `lstmviz-button ${className}`, text);
  b.type = "button";
  b.setAttribute("aria-label", label);
  b.title = label;
  return b;
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
  const T = payload.nSteps;
  const header = html("div", "lstmviz-view lstmviz-header");
  header.dataset.view = "controls";
  const name = html("span", "lstmviz-model-name", payload.modelName || "model");
  name.title = "Keras model";

  const layerSel = html("select", "lstmviz-layer");
  layerSel.setAttribute("aria-label", "layer");
  for (const l of payload.layers) layerSel.add(option(l.name, layerLabel(l)));

  const quantitySel = html("select", "lstmviz-quantity");
  quantitySel.setAttribute("aria-label", "quantity");

  const sampleSel = createSampleSelect(payload);
  const epochText = html("span", "lstmviz-epoch-label");
  const epochs = payload.epochs;
  const epochInput = createEpochInput(epochs);

  const badge = html("span", "lstmviz-fidelity");

  header.append(name, labelled("layer", layerSel), labelled("show", quantitySel));
  if (sampleSel) header.append(labelled("sample", sampleSel));
  if (epochInput) {
    const l = labelled("epoch", epochInput);
    l.append(epochText);
    header.append(l);
  }

  const { playBtn, speedSel, playGroup } = createPlayGroup();
  const { zoomOut, zoomIn, zoomReset, windowText, zoomGroup } = createZoomGroup();
  const { sortSel, brushText, topBtn, clearBtn, brushGroup } = createBrushGroup();

  const spacer = html("span", "lstmviz-spacer");
  header.append(playGroup, zoomGroup, labelled("rows", sortSel), brushGroup, spacer, badge);
  container.append(header);

  let shownPlaying = false;
  const updatePlay = (): void => {
    const { playing, playSpeed } = store.state;
    if (speedSel.value !== String(playSpeed)) speedSel.value = String(playSpeed);
    if (playing === shownPlaying) return;
    shownPlaying = playing;
    playBtn.textContent = playing ? "❚❚" : "▶";
    playBtn.setAttribute("aria-pressed", String(playing));
    playBtn.setAttribute("aria-label", playing ? "pause (Space)" : "play (Space)");
    playBtn.title = playBtn.getAttribute("aria-label") ?? "";
    playBtn.classList.toggle("active", playing);
  };

  const updateView = (): void => {
    const s = store.state;
    const [t0, t1] = s.window;
    const zoomed = isZoomed(s.window, T);
    windowText.textContent = zoomed ? `showing ${t0}–${t1 - 1} of ${T}` : "";
    windowText.hidden = !zoomed;
    zoomIn.disabled = t1 - t0 <= Math.min(T, MIN_WINDOW);
    zoomOut.disabled = !zoomed;
    zoomReset.disabled = !zoomed;
    if (sortSel.value !== s.sortMode) sortSel.value = s.sortMode;
    const brushOpt = [...sortSel.options].find((o) => o.value === "brush");
    if (brushOpt) brushOpt.disabled = !s.brush;
    brushGroup.hidden = !s.brush;
    brushText.textContent = s.brush ? `brushed t ${s.brush[0]}–${s.brush[1] - 1}` : "";
  };

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
    showFidelity(badge, layer);
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
  const onPlay = (): void => {
    store.set({ playing: !store.state.playing });
  };
  const onSpeed = (): void => {
    store.set({ playSpeed: Number(speedSel.value) });
  };
  const zoomBy = (factor: number) => (): void => {
    const s = store.state;
    store.set({ window: zoomAboutCursor(s.window, factor, s.timestep, T) });
  };
  const onZoomIn = zoomBy(1 / ZOOM_STEP);
  const onZoomOut = zoomBy(ZOOM_STEP);
  const onZoomReset = (): void => {
    store.set({ window: [0, T] });
  };
  const onSort = (): void => {
    store.set({ sortMode: sortSel.value as (typeof SORT_MODES)[number] });
  };
  const onTop = (): void => {
    const s = store.state;
    if (!s.brush) return;
    const order = unitOrder(payload, { ...s, sortMode: "brush" });
    store.set({ selectedUnits: Array.from(order.subarray(0, TOP_N)) });
  };
  const onClear = (): void => {
    store.set(clearBrushPatch(store.state));
  };
  const life = createLifecycle(store);
  const listen = life.listen;
  listen(playBtn, "click", onPlay);
  listen(speedSel, "change", onSpeed);
  listen(zoomIn, "click", onZoomIn);
  listen(zoomOut, "click", onZoomOut);
  listen(zoomReset, "click", onZoomReset);
  listen(sortSel, "change", onSort);
  listen(topBtn, "click", onTop);
  listen(clearBtn, "click", onClear);
  listen(layerSel, "change", onLayer);
  listen(quantitySel, "change", onQuantity);
  if (sampleSel) listen(sampleSel, "change", onSample);
  if (epochInput) {
    listen(epochInput, "input", onEpochInput);
    listen(epochInput, "change", onEpoch);
  }
  life.subscribe((_s, changed) => {
    if (["layer", "quantity", "sample", "epoch"].some((k) => changed.has(k as StateKey))) update();
    if (["window", "brush", "sortMode"].some((k) => changed.has(k as StateKey))) updateView();
    if (changed.has("playing") || changed.has("playSpeed")) updatePlay();
  });
  update();
  updateView();
  updatePlay();

  life.onDispose(() => header.remove());
  return life.dispose;
}

function createSampleSelect(payload: DecodedPayload): HTMLSelectElement | null {
  if (payload.nSamples <= 1) return null;
  const sampleSel = html("select", "lstmviz-sample");
  sampleSel.setAttribute("aria-label", "sample");
  for (let b = 0; b < payload.nSamples; b++) {
    const len = payload.lengths[b];
    const suffix = len < payload.nSteps ? ` (${len} steps)` : "";
    sampleSel.add(option(String(b), `sample ${b}${suffix}`));
  }
  return sampleSel;
}

/** Training snapshots (LSTMMonitor.explorer()): an epoch slider. Python swaps the capture
 *  when `epoch` changes, and the new `_data` rebuilds every view. */
function createEpochInput(epochs: DecodedPayload["epochs"]): HTMLInputElement | null {
  if (!epochs || epochs.length <= 1) return null;
  const epochInput = html("input", "lstmviz-epoch");
  epochInput.type = "range";
  epochInput.min = "0";
  epochInput.max = String(epochs.length - 1);
  epochInput.step = "1";
  epochInput.setAttribute("aria-label", "training epoch");
  return epochInput;
}

/** Play / pause and speed. */
function createPlayGroup() {
  const playBtn = button("lstmviz-play", "▶", "play (Space)");
  playBtn.setAttribute("aria-pressed", "false");
  const speedSel = html("select", "lstmviz-speed");
  speedSel.setAttribute("aria-label", "playback speed");
  speedSel.title = "playback speed (steps per second)";
  for (const v of SPEEDS) speedSel.add(option(String(v), `${v.toLocaleString("en-US")} steps/s`));
  const playGroup = html("span", "lstmviz-group lstmviz-play-group");
  playGroup.append(playBtn, speedSel);

  return { playBtn, speedSel, playGroup };
}

/** Zoom. */
function createZoomGroup() {
  const zoomOut = button("lstmviz-zoom-out", "−", "zoom out (−)");
  const zoomIn = button("lstmviz-zoom-in", "+", "zoom in about the cursor (+)");
  const zoomReset = button("lstmviz-zoom-reset", "all", "show every step (0)");
  const windowText = html("span", "lstmviz-window-readout");
  windowText.setAttribute("aria-live", "polite");
  const zoomGroup = html("span", "lstmviz-group lstmviz-zoom-group");
  zoomGroup.append(zoomOut, zoomIn, zoomReset, windowText);

  return { zoomOut, zoomIn, zoomReset, windowText, zoomGroup };
}

/** Row order and the brushed range. */
function createBrushGroup() {
  const sortSel = html("select", "lstmviz-sort");
  sortSel.setAttribute("aria-label", "order of the unit rows");
  for (const m of SORT_MODES) sortSel.add(option(m, m === "natural" ? "unit id" : `by ${SORT_LABELS[m]}`));
  sortSel.title =
    "Order of the heatmap rows: unit id; variance over the sample; |value| at the cursor; " +
    "mean inside the brushed range minus mean outside it (drag on the time axis, or Alt-drag " +
    "on the heatmap, to brush)";
  const brushText = html("span", "lstmviz-brush-readout");
  const topBtn = button(
    "lstmviz-top10",
    `select top ${TOP_N}`,
    `select the ${TOP_N} units ranked first by the brushed range`,
  );
  const clearBtn = button("lstmviz-brush-clear", "×", "clear the brushed range (Esc)");
  const brushGroup = html("span", "lstmviz-group lstmviz-brush-group");
  brushGroup.append(brushText, topBtn, clearBtn);

  return { sortSel, brushText, topBtn, clearBtn, brushGroup };
}

function showFidelity(badge: HTMLElement, layer: DecodedLayer): void {
  const ok = Number.isFinite(layer.fidelity) && layer.fidelity <= FIDELITY_OK;
  badge.textContent = fidelityText(layer.fidelity);
  badge.classList.toggle("ok", ok);
  badge.classList.toggle("bad", !ok);
  badge.dataset.ok = String(ok);
  badge.title =
    `Replay fidelity of layer ${layer.name}: max |h_replayed − h_keras|, the largest difference ` +
    `between the hidden states recomputed step by step (which give the gates and cell states shown) ` +
    `and the layer's own output. ≤ ${FIDELITY_OK.toExponential(0)} is shown green.`;
}
