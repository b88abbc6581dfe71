// @vitest-environment jsdom
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { FakeModel, makePayload } from "./testing";
import widget from "./widget";

type Cleanup = () => void;

function mount(state: Record<string, unknown> = {}, payload = makePayload()) {
  const model = new FakeModel({ _data: payload, ...state });
  const el = document.createElement("div");
  document.body.append(el);
  const cleanup = widget.render({ model: model as never, el }) as Cleanup;
  const $ = <E extends Element = HTMLElement>(sel: string) => el.querySelector(sel) as E | null;
  return { model, el, cleanup, $ };
}

function key(target: Element, k: string, shiftKey = false): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

beforeAll(() => {
  // jsdom has no canvas; its getContext returns null (after a "not implemented" warning).
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
});

describe("render", () => {
  let cleanups: Cleanup[] = [];
  let consoleError: ReturnType<typeof vi.spyOn>;
  beforeEach(() => {
    vi.useFakeTimers();
    cleanups = [];
    consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => {
    cleanups.forEach((c) => c());
    document.body.replaceChildren();
    vi.useRealTimers();
    consoleError.mockRestore();
  });
  const open = (...args: Parameters<typeof mount>) => {
    const m = mount(...args);
    cleanups.push(m.cleanup);
    return m;
  };

  it("builds every view with the selectors browser tests rely on", () => {
    const { $, el } = open({ timestep: 7 });
    const root = $("div.lstmviz");
    expect(root?.getAttribute("tabindex")).toBe("0");
    expect(root?.getAttribute("data-lm-suppress-shortcuts")).toBe("true");
    expect(root?.dataset.timestep).toBe("7");
    expect($(".lstmviz-cursor")?.dataset.timestep).toBe("7");
    const slider = $<HTMLInputElement>("input.lstmviz-slider[type=range]");
    expect([slider?.min, slider?.max, slider?.step, slider?.value]).toEqual(["0", "19", "1", "7"]);
    expect($(".lstmviz-readout")?.textContent).toBe("t = 7 / 19");
    expect($(".lstmviz-token")?.textContent).toBe("w0_7");
    const layerOptions = [...el.querySelectorAll("select.lstmviz-layer option")].map((o) => o.textContent);
    expect(layerOptions).toEqual(["lstm · LSTM · 8 units", "gru (backward) · GRU · 4 units"]);
    const quantities = [...el.querySelectorAll<HTMLOptionElement>("select.lstmviz-quantity option")].map((o) => o.value);
    expect(quantities).toEqual(["h", "c", "gate:input", "gate:forget", "gate:cell", "gate:output"]);
    expect(el.querySelectorAll("select.lstmviz-sample option")).toHaveLength(2);
    const badge = $("span.lstmviz-fidelity");
    expect(badge?.textContent).toBe("replay error 3.1e-7");
    expect(badge?.classList.contains("ok")).toBe(true);
    expect(badge?.title).toMatch(/max \|h_replayed − h_keras\|/);
    expect($(".lstmviz-vector")).not.toBeNull();
    expect(el.querySelectorAll(".lstmviz-vector rect.lstmviz-bar")).toHaveLength(8);
    expect($(".lstmviz-legend")).not.toBeNull();
    expect($(".lstmviz-model-name")?.textContent).toBe("toy");
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("hides the sample select for a single sequence", () => {
    const { $ } = open({}, makePayload({ B: 1 }));
    expect($("select.lstmviz-sample")).toBeNull();
  });

  it("moves the cursor with ←/→ (Shift ×10) and Home/End, and sends only the final value", () => {
    const { $, model } = open({ timestep: 5 });
    const root = $("div.lstmviz") as HTMLElement;
    const e = key(root, "ArrowRight");
    expect(e.defaultPrevented).toBe(true);
    expect(root.dataset.timestep).toBe("6");
    expect($(".lstmviz-cursor")?.dataset.timestep).toBe("6");
    key(root, "ArrowRight", true);
    expect(root.dataset.timestep).toBe("16");
    key(root, "ArrowRight", true);
    expect(root.dataset.timestep).toBe("19"); // clamped to T−1
    key(root, "Home");
    expect(root.dataset.timestep).toBe("0");
    key(root, "ArrowLeft");
    expect(root.dataset.timestep).toBe("0");
    key(root, "End");
    expect(root.dataset.timestep).toBe("19");
    expect($<HTMLInputElement>("input.lstmviz-slider")?.value).toBe("19");
    expect(model.saves).toHaveLength(0);
    vi.advanceTimersByTime(60);
    expect(model.saves).toEqual([expect.objectContaining({ timestep: 19 })]);
    expect(key(root, "a").defaultPrevented).toBe(false);
  });

  it("updates the store on every slider input and throttles what goes to Python", () => {
    const { $, model } = open();
    const slider = $<HTMLInputElement>("input.lstmviz-slider") as HTMLInputElement;
    for (const v of [3, 4, 5, 9]) {
      slider.value = String(v);
      slider.dispatchEvent(new Event("input", { bubbles: true }));
    }
    expect($("div.lstmviz")?.dataset.timestep).toBe("9");
    expect($(".lstmviz-readout")?.textContent).toBe("t = 9 / 19");
    expect(model.state.timestep).toBe(0); // not yet sent
    vi.advanceTimersByTime(60);
    expect(model.state.timestep).toBe(9);
    expect(model.saves).toHaveLength(1);
  });

  it("follows changes made in Python without echoing them", () => {
    const { $, model } = open();
    model.fromPython("timestep", 12);
    model.fromPython("sample", 1);
    model.fromPython("layer", "gru");
    expect($("div.lstmviz")?.dataset.timestep).toBe("12");
    expect($(".lstmviz-cursor")?.dataset.timestep).toBe("12");
    expect($<HTMLInputElement>("input.lstmviz-slider")?.value).toBe("12");
    expect($<HTMLSelectElement>("select.lstmviz-layer")?.value).toBe("gru");
    expect($<HTMLSelectElement>("select.lstmviz-sample")?.value).toBe("1");
    expect($("span.lstmviz-fidelity")?.classList.contains("bad")).toBe(true);
    const quantities = [...document.querySelectorAll<HTMLOptionElement>("select.lstmviz-quantity option")].map((o) => o.value);
    expect(quantities).toEqual(["h", "gate:update"]);
    vi.advanceTimersByTime(500);
    expect(model.saves).toHaveLength(0);
    expect(model.setCalls).toHaveLength(0);
  });

  it("resets an unavailable quantity when the user picks another layer", () => {
    const { $, model } = open({ quantity: "c" });
    const sel = $<HTMLSelectElement>("select.lstmviz-layer") as HTMLSelectElement;
    sel.value = "gru";
    sel.dispatchEvent(new Event("change"));
    expect($<HTMLSelectElement>("select.lstmviz-quantity")?.value).toBe("h");
    vi.advanceTimersByTime(60);
    expect(model.saves).toEqual([expect.objectContaining({ layer: "gru", quantity: "h" })]);
  });

  it("renders user strings as text, never as HTML", () => {
    const evil = "<img src=x onerror=alert(1)>";
    const payload = makePayload({ tokens: [Array(20).fill(evil), Array(20).fill(evil)] });
    payload.model_name = "<b>bold</b>";
    payload.layers[0].name = "<script>x</script>";
    const { $, el } = open({ layer: "<script>x</script>" }, payload);
    expect(el.querySelector("img, b, script")).toBeNull();
    expect($(".lstmviz-token")?.textContent).toBe(evil);
    expect($(".lstmviz-model-name")?.textContent).toBe("<b>bold</b>");
    expect($("select.lstmviz-layer option")?.textContent).toBe("<script>x</script> · LSTM · 8 units");
  });

  it("shows an error panel instead of a blank cell when the payload is bad", () => {
    const payload = makePayload();
    payload.layers[0].arrays.h.shape = [2, 20, 9];
    const { el, $ } = open({}, payload);
    const err = $("div.lstmviz-error");
    expect(err).not.toBeNull();
    expect(err?.textContent).toMatch(/layer lstm, h: .* bytes for dtype float32 and shape \[2, 20, 9\]/);
    expect(el.querySelector(".lstmviz")).toBeNull();
    expect(consoleError).toHaveBeenCalled(); // the stack goes to the browser console
  });

  it("shows the error message as text", () => {
    const { $ } = open({}, { format: 1, n_samples: 1, n_steps: 1, layers: "<img src=x>" } as never);
    expect($("div.lstmviz-error")).not.toBeNull();
    expect(document.querySelector("img")).toBeNull();
  });

  it("rebuilds when Python sends a new capture, and shows an error if it is empty", () => {
    const { $, model } = open();
    model.fromPython("_data", makePayload({ T: 50 }));
    expect($<HTMLInputElement>("input.lstmviz-slider")?.max).toBe("49");
    model.fromPython("_data", {});
    expect($("div.lstmviz-error")?.textContent).toMatch(/no data/);
    model.fromPython("_data", makePayload({ T: 30 }));
    expect($("div.lstmviz-error")).toBeNull();
    expect($<HTMLInputElement>("input.lstmviz-slider")?.max).toBe("29");
  });

  it("cleanup removes the DOM, every model listener and timer, and flushes the last value", () => {
    const { model, el, cleanup, $ } = mount();
    expect(model.listenerCount()).toBe(7); // 6 synced traits + _data
    key($("div.lstmviz") as HTMLElement, "ArrowRight");
    cleanup();
    expect(model.state.timestep).toBe(1);
    expect(model.saves).toHaveLength(1);
    expect(model.listenerCount()).toBe(0);
    expect(el.childElementCount).toBe(0);
    vi.runAllTimers();
    expect(model.saves).toHaveLength(1);
  });
});
