/**
 * Timestep slider: `input.lstmviz-slider[type=range]` (0 … T−1) spanning the heatmap's plot
 * width, and below it a readout "t = 12 / 99" plus the token at the cursor when the payload
 * has tokens. Every `input` event updates the
 * store (the store throttles what goes to Python).
 */
import { findLayer, type DecodedPayload } from "../codecs";
import { html } from "../dom";
import type { Store } from "../store";

export function createSlider(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const last = payload.nSteps - 1;
  const row = html("div", "lstmviz-slider-row");
  const label = html("label", "lstmviz-slider-label");
  const input = html("input", "lstmviz-slider");
  input.type = "range";
  input.min = "0";
  input.max = String(last);
  input.step = "1";
  input.setAttribute("aria-label", "timestep");
  label.append(input);
  const info = html("div", "lstmviz-slider-info");
  const readout = html("span", "lstmviz-readout");
  readout.setAttribute("aria-live", "polite");
  const token = html("span", "lstmviz-token");
  token.title = "input at the cursor";
  const pad = html("span", "lstmviz-pad-note");
  info.append(readout, token, pad);
  row.append(label, info);
  container.append(row);

  const update = (): void => {
    const { timestep: t, sample } = store.state;
    if (input.valueAsNumber !== t) input.value = String(t);
    readout.textContent = `t = ${t} / ${last}`;
    const tok = payload.tokens?.[sample]?.[t];
    token.textContent = tok ?? "";
    token.hidden = !payload.tokens;
    const padded = t >= (findLayer(payload, store.state.layer).lengths[sample] ?? payload.nSteps);
    pad.textContent = padded ? "padding" : "";
    pad.hidden = !padded;
  };

  const onInput = (): void => {
    const t = Math.round(Number(input.value));
    if (Number.isFinite(t)) store.set({ timestep: t });
  };
  input.addEventListener("input", onInput);
  input.addEventListener("change", onInput);
  const unsubscribe = store.subscribe((_s, changed) => {
    if (changed.has("timestep") || changed.has("sample")) update();
  });
  update();

  return () => {
    unsubscribe();
    input.removeEventListener("input", onInput);
    input.removeEventListener("change", onInput);
    row.remove();
  };
}
