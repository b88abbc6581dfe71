/**
 * anywidget entry of `LSTMExplorer` (lstmviz_widget/widget/explorer.py).
 * `render` mounts the explorer and returns a cleanup; any error — a bad payload, a failed
 * decode, an exception in a view — replaces the views by an error panel (never a blank cell).
 */
import "./widget.css";

import type { AnyModel, RenderProps } from "@anywidget/types";

import { html } from "./render/dom";
import { answerExportRequest } from "./export/protocol";
import { mountExplorer, type ExplorerModel } from "./explorer";
import type { ModelTraits } from "./model";

/** `div.lstmviz-error` with the message as plain text. */
export function errorPanel(err: unknown): HTMLElement {
  const panel = html("div", "lstmviz-error");
  panel.setAttribute("role", "alert");
  const message = err instanceof Error ? err.message : String(err);
  panel.append(
    html("div", "lstmviz-error-title", "LSTMExplorer could not render"),
    html("div", "lstmviz-error-message", message),
  );
  return panel;
}

function render({ model, el }: Pick<RenderProps<ModelTraits>, "model" | "el">): () => void {
  let teardown: (() => void) | null = null;
  const stop = (): void => {
    const fn = teardown;
    teardown = null;
    fn?.();
  };
  const showError = (err: unknown): void => {
    console.error("lstmviz:", err);
    try {
      stop();
    } finally {
      el.replaceChildren(errorPanel(err));
    }
  };
  const mount = (): void => {
    try {
      stop();
      el.replaceChildren();
      teardown = mountExplorer(el, model as AnyModel<ModelTraits> as ExplorerModel, showError);
    } catch (err) {
      showError(err);
    }
  };
  mount();
  // A new capture (Python reassigns `_data`) rebuilds every view.
  model.on("change:_data", mount);
  // `explorer.export(...)` in Python: draw this view's explorer and send the file back. Every
  // displayed view answers; Python keeps the first reply.
  // Python resends an unanswered request (same id) until it times out: answer each id once.
  const seen = new Set<string>();
  const onCustom = (msg: unknown): void => {
    const id = msg && typeof msg === "object" ? (msg as { id?: unknown }).id : undefined;
    if (typeof id === "string") {
      if (seen.has(id)) return;
      seen.add(id);
    }
    void answerExportRequest(el, msg, (content, buffers) => model.send(content, undefined, buffers));
  };
  model.on("msg:custom", onCustom);
  return () => {
    model.off("msg:custom", onCustom);
    model.off("change:_data", mount);
    try {
      stop();
    } finally {
      el.replaceChildren();
    }
  };
}

export default { render };
