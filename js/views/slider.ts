/**
 * Timestep slider (data-view "slider"): `input.lstmviz-slider[type=range]` (0 … T−1, the whole
 * sequence whatever the zoom) spanning the heatmap's plot width, a thin bar under it marking
 * the zoom window when zoomed, and below it a readout "t = 12 / 99" plus the token at the
 * cursor when the payload has tokens. Every `input` event updates the store (the store
 * throttles what goes to Python).
 */
import { findLayer, type DecodedPayload } from "../codecs";
import { html, setText } from "../render/dom";
import { createLifecycle } from "../parts/lifecycle";
import type { Store } from "../store";

export function createSlider(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const last = payload.nSteps - 1;
  const row = html("div", "lstmviz-view lstmviz-slider-row");
  row.dataset.view = "slider";
  const label = html("label", "lstmviz-slider-label");
  const input = html("input", "lstmviz-slider");
  input.type = "range";
  input.min = "0";
  input.max = String(last);
  input.step = "1";
  input.setAttribute("aria-label", "timestep");
  label.append(input);
  // Where the zoom window lies in the whole sequence.
  const winTrack = html("div", "lstmviz-slider-window");
  const winBar = html("div", "lstmviz-slider-window-bar");
  winTrack.append(winBar);
  winTrack.setAttribute("aria-hidden", "true");
  const info = html("div", "lstmviz-slider-info");
  const readout = html("span", "lstmviz-readout");
  readout.setAttribute("aria-live", "polite");
  const token = html("span", "lstmviz-token");
  token.title = "input at the cursor";
  const pad = html("span", "lstmviz-pad-note");
  info.append(readout, token, pad);
  row.append(label, winTrack, info);
  container.append(row);

  const update = (): void => {
    const { timestep: t, sample } = store.state;
    if (input.valueAsNumber !== t) input.value = String(t);
    setText(readout, `t = ${t} / ${last}`);
    const tok = payload.tokens?.[sample]?.[t];
    setText(token, tok ?? "");
    if (token.hidden !== !payload.tokens) token.hidden = !payload.tokens;
    const padded = t >= (findLayer(payload, store.state.layer).lengths[sample] ?? payload.nSteps);
    setText(pad, padded ? "padding" : "");
    if (pad.hidden !== !padded) pad.hidden = !padded;
  };

  const updateWindow = (): void => {
    const [t0, t1] = store.state.window;
    const T = payload.nSteps;
    const zoomed = t0 > 0 || t1 < T;
    winTrack.style.visibility = zoomed ? "visible" : "hidden";
    winBar.style.left = `${(t0 / T) * 100}%`;
    winBar.style.width = `${Math.max(0.3, ((t1 - t0) / T) * 100)}%`;
    winTrack.title = zoomed ? `zoomed to steps ${t0}–${t1 - 1} of ${T}` : "";
  };

  const onInput = (): void => {
    const t = Math.round(Number(input.value));
    if (Number.isFinite(t)) store.set({ timestep: t });
  };
  const life = createLifecycle(store);
  life.listen(input, "input", onInput);
  life.listen(input, "change", onInput);
  life.subscribe((_s, changed) => {
    if (changed.has("timestep") || changed.has("sample")) update();
    if (changed.has("window")) updateWindow();
  });
  update();
  updateWindow();

  life.onDispose(() => row.remove());
  return life.dispose;
}
