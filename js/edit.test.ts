// @vitest-environment jsdom
// The counterfactual editor (js/views/edit.ts): requests it sends, the mode trait it writes,
// errors shown as text; the diverging, symmetric scale of a difference payload.
import { describe, expect, it } from "vitest";

import { decodePayload } from "./codecs";
import { mountExplorer, type ExplorerModel } from "./explorer";
import type { CounterfactualPayload } from "./model";
import { colorScaleFor } from "./math/scales";
import { FakeModel, makePayload } from "./testing";
import { f32Bytes } from "./testing";
import { parseToken, parseValue } from "./views/edit";

class EditFake extends FakeModel {
  sent: Array<Record<string, unknown>> = [];
  constructor(state: Record<string, unknown>) {
    super(state);
    (this as { send: unknown }).send = (content: Record<string, unknown>): void => {
      this.sent.push(content);
    };
  }
  emit(event: string, msg: unknown): void {
    for (const h of [...(this.handlers.get(event) ?? [])]) (h as (m: unknown) => void)(msg);
  }
}

function cf(over: Partial<CounterfactualPayload> = {}): CounterfactualPayload {
  return {
    editable: true,
    reason: "",
    mode: "original",
    difference: false,
    input: "tokens",
    features: 0,
    edits: [],
    vocab: { ids: [0, 1, 2], labels: ["<pad>", "cat", "dog"] },
    notes: {},
    first_changed: {},
    sample: 0,
    ...over,
  };
}

function mount(over: Partial<CounterfactualPayload> | null, tokens = true) {
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
  const T = 20;
  const payload = makePayload({ T, tokens: tokens ? [Array(T).fill("cat"), Array(T).fill("dog")] : null });
  if (over) payload.counterfactual = cf(over);
  const model = new EditFake({ _data: payload, timestep: 4 });
  const el = document.createElement("div");
  document.body.append(el);
  const stop = mountExplorer(el, model as unknown as ExplorerModel, (e) => {
    throw e;
  });
  const view = el.querySelector<HTMLElement>('[data-view="edit"]');
  return { model, el, stop, view };
}

describe("edit view", () => {
  it("is absent without a counterfactual entry", () => {
    const { view, stop } = mount(null);
    expect(view).toBeNull();
    stop();
  });

  it("sends token edits for the cursor step and mask / undo / reset", () => {
    const { model, view, stop } = mount({});
    expect(view).not.toBeNull();
    expect(view!.querySelector(".lstmviz-edit-where")!.textContent).toBe("step 4 (cat)");
    const box = view!.querySelector<HTMLInputElement>(".lstmviz-edit-input")!;
    const options = [...view!.querySelectorAll("datalist option")].map((o) => (o as HTMLOptionElement).value);
    expect(options).toEqual(["<pad>", "cat", "dog"]);
    expect(view!.querySelector<HTMLElement>(".lstmviz-edit-step")!.dataset.lstmvizExport).toBe("skip");
    box.value = "dog";
    box.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    expect(model.sent.at(-1)).toEqual({ type: "lstmviz-edit", sample: 0, action: "edit", t: 4, token: "dog" });
    // Without edits: edited / difference / undo / reset are off.
    const btn = (sel: string) => view!.querySelector<HTMLButtonElement>(sel)!;
    expect(btn('[data-mode="difference"]').disabled).toBe(true);
    expect(btn(".lstmviz-edit-undo").disabled).toBe(true);
    model.emit("msg:custom", { type: "lstmviz-edit-error", message: "ValueError: <b>no</b>" });
    const err = view!.querySelector<HTMLElement>(".lstmviz-edit-error")!;
    expect(err.hidden).toBe(false);
    expect(err.textContent).toBe("ValueError: <b>no</b>");
    expect(err.querySelector("b")).toBeNull(); // text, never HTML
    expect(btn(".lstmviz-edit-mask").disabled).toBe(false);
    btn(".lstmviz-edit-mask").click();
    expect(model.sent.at(-1)).toMatchObject({ action: "edit", t: 4, mask: true });
    stop();
  });

  it("switches the mode through the synced trait once there are edits", () => {
    const edits = [{ kind: "token", t: 4, sample: 0, label: "step 4: 'cat' → 'dog'" }];
    const { model, view, stop } = mount({
      edits,
      mode: "edited",
      notes: { lstm: "backward direction: it reads the sequence from the end" },
      first_changed: { lstm: [2, -1] },
    });
    expect(view!.dataset.mode).toBe("edited");
    expect(view!.querySelector(".lstmviz-edit-list")!.textContent).toContain("'cat' → 'dog'");
    const note = view!.querySelector(".lstmviz-edit-layer-note")!.textContent;
    expect(note).toContain("first changes at step 2");
    expect(note).toContain("backward direction");
    view!.querySelector<HTMLButtonElement>(".lstmviz-edit-undo")!.click();
    expect(model.sent.at(-1)).toMatchObject({ type: "lstmviz-edit", action: "undo" });
    model.emit("msg:custom", { type: "lstmviz-edit-error", message: "x" });
    view!.querySelector<HTMLButtonElement>('[data-mode="difference"]')!.click();
    expect(model.setCalls.at(-1)).toEqual(["mode", "difference"]);
    expect(model.saves.length).toBeGreaterThan(0);
    stop();
  });

  it("shows the prediction at the cursor before → after", () => {
    const T = 20;
    const arr = (vals: number[], dtype = "float32") => ({
      dtype,
      shape: [2, T],
      data: dtype === "int32" ? new Uint8Array(new Int32Array(vals).buffer) : f32Bytes(vals),
    });
    const conf = (v: number) => Array.from({ length: 2 * T }, (_, i) => (i === 4 ? v : 0.5));
    const cls = (v: number) => Array.from({ length: 2 * T }, (_, i) => (i === 4 ? v : 0));
    const { view, stop } = mount({
      edits: [{ kind: "token", t: 4, sample: 0, label: "x" }],
      mode: "edited",
      predictions: {
        task: "classification",
        mode: "sequence",
        original: { confidence: arr(conf(0.9)), predicted: arr(cls(3), "int32") },
        edited: { confidence: arr(conf(0.25)), predicted: arr(cls(5), "int32") },
      },
    });
    const line = view!.querySelector<HTMLElement>(".lstmviz-edit-prediction")!;
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe("prediction at step 4: class 3 (p 0.900) → class 5 (p 0.250)");
    stop();
  });

  it("offers zero for numeric inputs", () => {
    const { model, view, stop } = mount({ input: "numeric", features: 3, vocab: null }, false);
    view!.querySelector<HTMLButtonElement>(".lstmviz-edit-zero")!.click();
    expect(model.sent.at(-1)).toMatchObject({ action: "edit", t: 4, value: 0 });
    // Busy until Python answers (a new _data rebuilds the view, or an error re-enables it).
    expect(view!.querySelector<HTMLButtonElement>(".lstmviz-edit-apply")!.disabled).toBe(true);
    model.emit("msg:custom", { type: "lstmviz-edit-error", message: "x" });
    const box = view!.querySelector<HTMLInputElement>(".lstmviz-edit-input")!;
    box.value = "1, -2 3.5";
    view!.querySelector<HTMLButtonElement>(".lstmviz-edit-apply")!.click();
    expect(model.sent.at(-1)).toMatchObject({ value: [1, -2, 3.5] });
    stop();
  });
});

describe("parsing what is typed", () => {
  it("numbers, else the raw text for Python to refuse", () => {
    expect(parseValue("0.5")).toBe(0.5);
    expect(parseValue("1;2")).toEqual([1, 2]);
    expect(parseValue("big")).toBe("big");
    expect(parseValue("")).toBe("");
  });
  it("labels, ids, or as typed", () => {
    const labels = new Set(["cat", "7"]);
    expect(parseToken("cat", labels)).toBe("cat");
    expect(parseToken("7", labels)).toBe("7"); // a label that looks like a number stays a label
    expect(parseToken("12", labels)).toBe(12);
    expect(parseToken(" dgo ", labels)).toBe("dgo");
  });
});

describe("difference payloads", () => {
  it("get a diverging scale symmetric around 0, whatever the quantity", () => {
    const raw = makePayload({ T: 5 });
    const plain = decodePayload(raw);
    const gate = plain.layers[0].arrays.get("gate:input")!;
    expect(colorScaleFor(gate, "gate:input").kind).toBe("sequential");
    raw.counterfactual = cf({ mode: "difference", difference: true });
    const diff = decodePayload(raw);
    const g = diff.layers[0].arrays.get("gate:input")!;
    const s = colorScaleFor(g, "gate:input");
    expect(s.kind).toBe("diverging");
    let m = 0;
    for (const v of g.data) m = Math.max(m, Math.abs(v));
    expect(s.domain).toEqual([-m, m]);
    const h = diff.layers[0].arrays.get("h")!;
    expect(colorScaleFor(h, "h").domain[0]).toBe(-colorScaleFor(h, "h").domain[1]);
  });
});
