/**
 * The counterfactual editor (data-view "edit"): change the input at the cursor step, see what
 * changes inside. Python does the work (lstmviz_widget/widget/counterfactual.py): this view
 * sends `{type: "lstmviz-edit", action: "edit" | "undo" | "reset", ...}` custom messages and
 * writes the synced `mode` trait ("original" | "edited" | "difference"); Python answers with
 * a new `_data` (which rebuilds every view, this one included) or with
 * `{type: "lstmviz-edit-error", message}`, shown here as text.
 *
 * The step edited is the store's cursor: click a step on the input track (or any time axis).
 * Token inputs: a type-ahead box over the vocabulary (`<datalist>`) and "mask"; numeric
 * inputs: a value (one number for every feature, or one per feature), "zero" and "mask".
 * Absent when `_data.counterfactual` is missing (an explorer built from a Capture).
 * Every user string (tokens, labels, errors) goes in as textContent, never HTML. Exported
 * figures (`explorer.export`) keep the status lines and leave the controls out.
 */
import { decodeArray, type DecodedArray, type DecodedPayload } from "../codecs";
import { html, setText, uniqueId } from "../render/dom";
import type { CounterfactualPayload, EncodedArray } from "../model";
import { formatValue } from "../math/scales";
import type { Store } from "../store";

export const REQUEST_TYPE = "lstmviz-edit";
export const ERROR_TYPE = "lstmviz-edit-error";
export const MODES = ["original", "edited", "difference"] as const;
export type Mode = (typeof MODES)[number];

/** What the editor needs of the anywidget model. */
export interface EditModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  send(content: Record<string, unknown>): void;
  on(event: string, callback: (msg: unknown) => void): void;
  off(event: string, callback: (msg: unknown) => void): void;
}

function isEditModel(m: unknown): m is EditModel {
  const o = m as Record<string, unknown> | null;
  return !!o && ["get", "set", "save_changes", "send", "on", "off"].every((k) => typeof o[k] === "function");
}

/** The request for the text typed into the numeric box: numbers when they parse, else the raw
 *  text (Python answers with one clear error saying what it wants). */
export function parseValue(text: string): number | number[] | string {
  const parts = text
    .trim()
    .split(/[\s,;]+/)
    .filter((s) => s.length > 0);
  if (parts.length === 0) return text;
  const nums = parts.map(Number);
  if (nums.some((v) => !Number.isFinite(v))) return text;
  return nums.length === 1 ? nums[0] : nums;
}

/** The request for a typed token: the label when the vocabulary has it, a digit string as an
 *  id, anything else as typed (Python suggests close labels). */
export function parseToken(text: string, labels: ReadonlySet<string>): string | number {
  if (labels.has(text)) return text;
  const s = text.trim();
  if (labels.has(s)) return s;
  if (/^\d+$/.test(s)) return Number(s);
  return s;
}

interface RunPredictions {
  confidence: DecodedArray;
  predicted: DecodedArray | null;
}

/** "class 3 (p 0.912)", or the value for a regression; "" outside the arrays. */
export function predictionText(run: RunPredictions, b: number, t: number, steps: number): string {
  const i = b * steps + t;
  if (i < 0 || i >= run.confidence.data.length) return "";
  const conf = formatValue(run.confidence.data[i]);
  return run.predicted ? `class ${run.predicted.data[i]} (p ${conf})` : conf;
}

function button(cls: string, text: string, label: string): HTMLButtonElement {
  const b = html("button", `lstmviz-button ${cls}`, text);
  b.type = "button";
  b.title = label;
  b.setAttribute("aria-label", label);
  return b;
}

/** The view factory for `mountExplorer` (js/explorer.ts), bound to the widget's model. */
export function editorFor(
  model: unknown,
): (container: HTMLElement, store: Store, payload: DecodedPayload) => (() => void) | null {
  return (container, store, payload) => {
    if (!isEditModel(model)) return null;
    const data = model.get("_data") as { counterfactual?: CounterfactualPayload | null } | null;
    const cf = data?.counterfactual;
    if (!cf || !cf.editable) return null;
    return createEditor(container, store, payload, model, cf);
  };
}

/** The original / edited / difference switch; `pick` runs when another mode is chosen. */
function modeSwitch(cf: CounterfactualPayload, hasEdits: boolean, pick: (mode: string) => void): HTMLElement {
  const modes = html("span", "lstmviz-group lstmviz-edit-modes");
  for (const m of MODES) {
    const b = button(`lstmviz-edit-mode`, m, `show the ${m} run`);
    b.dataset.mode = m;
    b.setAttribute("aria-pressed", String(m === cf.mode));
    if (m === cf.mode) b.classList.add("active");
    b.disabled = m !== "original" && !hasEdits;
    b.addEventListener("click", () => {
      if (m !== cf.mode) pick(m);
    });
    modes.append(b);
  }
  return modes;
}

/** The type-ahead list of the vocabulary, bound to `box`. */
function vocabList(labels: readonly string[], box: HTMLInputElement): HTMLDataListElement {
  const list = html("datalist");
  list.id = uniqueId("lstmviz-vocab");
  for (const label of labels) {
    const opt = html("option");
    opt.value = label; // an attribute, never parsed as HTML
    list.append(opt);
  }
  box.setAttribute("list", list.id);
  return list;
}

export function createEditor(
  container: HTMLElement,
  store: Store,
  payload: DecodedPayload,
  model: EditModel,
  cf: CounterfactualPayload,
): () => void {
  const root = html("div", "lstmviz-view lstmviz-edit");
  root.dataset.view = "edit";
  root.dataset.mode = cf.mode;
  root.setAttribute("role", "group");
  root.setAttribute("aria-label", "edit the input at the cursor step and compare the runs");

  const hasEdits = cf.edits.length > 0;
  const modes = modeSwitch(cf, hasEdits, (m) => {
    busy(true);
    model.set("mode", m);
    model.save_changes();
  });

  // The step editor.
  const editor = html("span", "lstmviz-group lstmviz-edit-step");
  const where = html("span", "lstmviz-edit-where");
  const box = html("input", "lstmviz-edit-input");
  box.type = "text";
  box.spellcheck = false;
  box.autocomplete = "off";
  const labels = new Set<string>(cf.vocab?.labels ?? []);
  const controls: HTMLButtonElement[] = [];
  const apply = button("lstmviz-edit-apply", "apply", "run the model with this step changed");
  controls.push(apply);
  editor.append(where, box, apply);
  if (cf.input === "tokens") {
    box.placeholder = cf.vocab ? "new token (type)" : "new token id";
    box.setAttribute("aria-label", "new token for the cursor step");
    if (cf.vocab) editor.append(vocabList(cf.vocab.labels, box));
  } else {
    box.placeholder = cf.features > 1 ? `value, or ${cf.features} values` : "value";
    box.setAttribute("aria-label", "new input value(s) for the cursor step");
    const zero = button("lstmviz-edit-zero", "zero", "set every feature of the cursor step to 0");
    zero.addEventListener("click", () => send({ action: "edit", t: store.state.timestep, value: 0 }));
    controls.push(zero);
    editor.append(zero);
  }
  const mask = button("lstmviz-edit-mask", "mask", "skip the cursor step (its state is carried over)");
  mask.addEventListener("click", () => send({ action: "edit", t: store.state.timestep, mask: true }));
  const undo = button("lstmviz-edit-undo", "undo", "drop the last edit");
  undo.addEventListener("click", () => send({ action: "undo" }));
  const reset = button("lstmviz-edit-reset", "reset", "drop every edit and show the original");
  reset.addEventListener("click", () => send({ action: "reset" }));
  undo.disabled = reset.disabled = !hasEdits;
  controls.push(mask);
  editor.append(mask, undo, reset);

  const submit = (): void => {
    const t = store.state.timestep;
    const text = box.value;
    if (cf.input === "tokens") send({ action: "edit", t, token: parseToken(text, labels) });
    else send({ action: "edit", t, value: parseValue(text) });
  };
  apply.addEventListener("click", submit);
  box.addEventListener("keydown", (ev) => {
    ev.stopPropagation(); // typing must not scrub the cursor (the explorer's key handler)
    if (ev.key === "Enter") {
      ev.preventDefault();
      submit();
    }
  });

  // What was edited, what the mode shows, notes on layers that change before the edit.
  const status = html("div", "lstmviz-edit-status");
  const editsLine = html("div", "lstmviz-edit-list");
  editsLine.textContent = hasEdits ? `edits: ${cf.edits.map((e) => e.label).join("; ")}` : "no edits";
  const modeLine = html("div", "lstmviz-edit-note");
  const note = html("div", "lstmviz-edit-note lstmviz-edit-layer-note");
  const predLine = html("div", "lstmviz-edit-note lstmviz-edit-prediction");
  predLine.hidden = true;
  let preds: { original: RunPredictions; edited: RunPredictions } | null = null;
  if (cf.predictions) {
    const dec = (r: { confidence: EncodedArray; predicted: EncodedArray | null }): RunPredictions => ({
      confidence: decodeArray(r.confidence, "confidence"),
      predicted: r.predicted ? decodeArray(r.predicted, "predicted") : null,
    });
    preds = { original: dec(cf.predictions.original), edited: dec(cf.predictions.edited) };
  }
  const error = html("div", "lstmviz-edit-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  status.append(editsLine, modeLine, predLine, note, error);
  if (cf.mode === "difference") modeLine.textContent = "showing edited − original (diverging scale, 0 = unchanged)";
  else if (cf.mode === "edited") modeLine.textContent = "showing the edited run";
  else modeLine.hidden = true;

  // A saved figure keeps what the views show (the status lines), not the edit controls.
  modes.dataset.lstmvizExport = "skip";
  editor.dataset.lstmvizExport = "skip";
  root.append(modes, editor, status);
  container.append(root);

  function busy(on: boolean): void {
    root.classList.toggle("busy", on);
    for (const b of controls) b.disabled = on;
    if (on) {
      undo.disabled = reset.disabled = true;
      error.hidden = true;
    } else {
      undo.disabled = reset.disabled = !hasEdits;
    }
  }

  function send(content: Record<string, unknown>): void {
    busy(true);
    model.send({ type: REQUEST_TYPE, sample: store.state.sample, ...content });
  }

  const onMsg = (msg: unknown): void => {
    const m = msg as { type?: unknown; message?: unknown } | null;
    if (!m || m.type !== ERROR_TYPE) return;
    busy(false);
    error.textContent = String(m.message ?? "the edit failed");
    error.hidden = false;
  };
  model.on("msg:custom", onMsg);

  const update = (): void => {
    const { timestep: t, sample: b, layer } = store.state;
    const tok = payload.tokens?.[b]?.[t];
    setText(where, tok !== undefined ? `step ${t} (${tok})` : `step ${t}`);
    const firsts = cf.first_changed[layer];
    const first = firsts ? firsts[b] : undefined;
    const text = cf.notes[layer] ?? "";
    const firstText = first !== undefined && first >= 0 ? `${layer} first changes at step ${first}` : "";
    note.textContent = [firstText, text].filter(Boolean).join(" — ");
    note.hidden = note.textContent === "";
    if (preds) {
      const before = predictionText(preds.original, b, t, payload.nSteps);
      const after = predictionText(preds.edited, b, t, payload.nSteps);
      predLine.textContent = before ? `prediction at step ${t}: ${before} → ${after}` : "";
      predLine.hidden = !before;
    }
    root.dataset.cursor = String(t);
  };
  update();
  const unsubscribe = store.subscribe((_s, changed) => {
    if (changed.has("timestep") || changed.has("sample") || changed.has("layer")) update();
  });

  return () => {
    unsubscribe();
    model.off("msg:custom", onMsg);
    root.remove();
  };
}
