/**
 * A store-backed explorer (`LSTMExplorer(Capture.open(...))`): the sample selector over the
 * whole store and "find similar". The payload holds one sample; `_data.store` says which and
 * how many there are. "find similar" sends the brushed range (and the selected units, if any)
 * to Python, which ranks the matching windows across the store as LSTMVis does and answers
 * with a few JSON rows; a click on a row asks Python to show that sample, and the view moves
 * the cursor, zoom window and brush to the range (`jump`). Talks to the store and the model
 * only.
 */
import type { DecodedPayload } from "../codecs";
import { html } from "../render/dom";
import { clamp, clampWindow } from "../math/layout";
import type { Store } from "../store";

/** One match as Python sends it (lstmviz_widget/widget/explorer.py `_on_store_msg`). */
export interface MatchRow {
  sample: number;
  t0: number;
  t1: number;
  score: number;
  n_selected: number;
  n_union: number;
  text: string;
}

/** `_data.store`: present only for a store-backed explorer. */
export interface StoreInfo {
  n_samples: number;
  sample: number;
  jump: [number, number] | null;
  matches: MatchRow[];
  /** The threshold of the last search (kept when a jump rebuilds the views). */
  threshold?: number;
  path: string;
}

/** What this view needs of the anywidget model (custom messages, the `store_sample` trait). */
export interface MatchesModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  send(content: unknown): void;
  on(event: string, callback: (msg: unknown) => void): void;
  off(event: string, callback: (msg: unknown) => void): void;
}

/** Read `_data.store`, or null when the explorer is not store-backed. */
export function storeInfo(model: MatchesModel): StoreInfo | null {
  const data = model.get("_data") as { store?: unknown } | undefined;
  const s = data?.store as StoreInfo | undefined;
  if (!s || typeof s !== "object" || !Number.isInteger(s.n_samples)) return null;
  return s;
}

/** Window around a jump target: the range with some context on both sides. */
export function jumpWindow(t0: number, t1: number, nSteps: number): [number, number] {
  const pad = Math.max(5, t1 - t0);
  return clampWindow([t0 - pad, t1 + pad], nSteps);
}

/** One line of a match: where, how well, and its tokens. */
export function matchLabel(row: MatchRow): string {
  const text = row.text ? ` · “${row.text}”` : "";
  return (
    `sample ${row.sample} · steps ${row.t0}–${row.t1 - 1} · ${row.n_selected} selected on, ` +
    `${row.n_union - row.n_selected} other${row.n_union - row.n_selected === 1 ? "" : "s"} · ` +
    `J=${row.score.toFixed(2)}${text}`
  );
}

let counter = 0;

/** The view factory for `mountExplorer`, bound to the model. */
export function matchesView(model: unknown) {
  return (container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null =>
    createMatches(container, store, payload, model as MatchesModel);
}

export function createMatches(
  container: HTMLElement,
  store: Store,
  payload: DecodedPayload,
  model: MatchesModel,
): (() => void) | null {
  const info = storeInfo(model);
  if (!info) return null;
  const T = payload.nSteps;
  const root = html("div", "lstmviz-view lstmviz-matches");
  root.dataset.view = "matches";
  root.dataset.lstmvizExport = "skip";
  const bar = html("div", "lstmviz-matches-bar");

  const sampleLabel = html("label", "lstmviz-store-sample");
  const sampleInput = html("input", "lstmviz-store-sample-input");
  sampleInput.type = "number";
  sampleInput.min = "0";
  sampleInput.max = String(info.n_samples - 1);
  sampleInput.step = "1";
  sampleInput.value = String(info.sample);
  sampleInput.setAttribute("aria-label", "sample of the store");
  sampleLabel.append(html("span", "", "sample "), sampleInput, html("span", "", ` of ${info.n_samples}`));
  const onSample = (): void => {
    const b = clamp(Math.round(Number(sampleInput.value)), 0, info.n_samples - 1);
    if (!Number.isFinite(b)) return;
    sampleInput.value = String(b);
    if (b === info.sample) return;
    model.set("store_sample", b);
    model.save_changes();
  };
  sampleInput.addEventListener("change", onSample);

  const threshold = html("input", "lstmviz-match-threshold");
  threshold.type = "number";
  threshold.step = "0.05";
  threshold.value = String(info.threshold ?? 0.3);
  threshold.title = "a unit is on where its value exceeds this";
  threshold.setAttribute("aria-label", "activation threshold");
  const thresholdLabel = html("label", "lstmviz-group");
  thresholdLabel.append(html("span", "", "on above "), threshold);

  const find = html("button", "lstmviz-find-similar", "find similar");
  find.type = "button";
  const status = html("span", "lstmviz-matches-status");
  status.setAttribute("aria-live", "polite");
  bar.append(sampleLabel, thresholdLabel, find, status);

  const list = html("ol", "lstmviz-matches-list");
  root.append(bar, list);
  container.append(root);

  const render = (rows: MatchRow[]): void => {
    list.replaceChildren();
    for (const row of rows) {
      const li = html("li", "");
      const b = html("button", "lstmviz-match", matchLabel(row));
      b.type = "button";
      b.dataset.sample = String(row.sample);
      b.dataset.t0 = String(row.t0);
      b.dataset.t1 = String(row.t1);
      b.addEventListener("click", () => {
        status.textContent = `opening sample ${row.sample}…`;
        model.send({ type: "lstmviz-goto", sample: row.sample, t0: row.t0, t1: row.t1 });
      });
      li.append(b);
      list.append(li);
    }
  };
  render(info.matches ?? []);

  const updateButton = (): void => {
    const brush = store.state.brush;
    find.disabled = brush === null;
    find.title = brush
      ? `find windows across the ${info.n_samples} samples where the units on in steps ${brush[0]}–${brush[1] - 1} are on`
      : "brush a range on a time track first (drag), then find similar windows across the store";
  };
  updateButton();
  const unsubscribe = store.subscribe((_s, changed) => {
    if (changed.has("brush")) updateButton();
  });

  let pending: string | null = null;
  find.addEventListener("click", () => {
    const brush = store.state.brush;
    if (!brush) return;
    pending = `m${Date.now()}-${counter++}`;
    status.textContent = "searching…";
    find.disabled = true;
    model.send({
      type: "lstmviz-match",
      id: pending,
      t0: brush[0],
      t1: brush[1],
      units: store.state.selectedUnits,
      threshold: Number(threshold.value),
      k: 20,
    });
  });

  const applyJump = (t0: number, t1: number): void => {
    const a = clamp(Math.round(t0), 0, T - 1);
    const b = clamp(Math.round(t1), a + 1, T);
    store.set({ brush: [a, b], window: jumpWindow(a, b, T), timestep: a });
    status.textContent = `sample ${info.sample}, steps ${a}–${b - 1}`;
  };
  const onMsg = (msg: unknown): void => {
    if (!msg || typeof msg !== "object") return;
    const m = msg as Record<string, unknown>;
    if (m.type === "lstmviz-matches" && m.id === pending) {
      pending = null;
      updateButton();
      if (typeof m.error === "string") {
        status.textContent = m.error;
        render([]);
        return;
      }
      const rows = Array.isArray(m.rows) ? (m.rows as MatchRow[]) : [];
      status.textContent = rows.length ? `${rows.length} matches` : "no match";
      render(rows);
    } else if (m.type === "lstmviz-jump") {
      applyJump(Number(m.t0), Number(m.t1));
    }
  };
  model.on("msg:custom", onMsg);
  if (info.jump) applyJump(info.jump[0], info.jump[1]);

  return () => {
    model.off("msg:custom", onMsg);
    unsubscribe();
    sampleInput.removeEventListener("change", onSample);
    root.remove();
  };
}
