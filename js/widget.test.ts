// @vitest-environment jsdom
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

import { HEATMAP_MARGIN } from "./parts/heatmap/panel";
import { heatmapPlotHeight } from "./math/layout";
import { FakeModel, makePayload } from "./testing";
import { defaultSpeed, SPEEDS } from "./player";
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

/** A pointer event (jsdom: a MouseEvent with the pointer event's type is what listeners get). */
function pointer(target: Element, type: string, clientX: number, clientY: number, init: MouseEventInit = {}): void {
  target.dispatchEvent(new MouseEvent(type, { bubbles: true, cancelable: true, button: 0, clientX, clientY, ...init }));
}

function key(target: Element, k: string, shiftKey = false): KeyboardEvent {
  const e = new KeyboardEvent("keydown", { key: k, shiftKey, bubbles: true, cancelable: true });
  target.dispatchEvent(e);
  return e;
}

/** jsdom lays nothing out: every element reports this width (getBoundingClientRect stays 0, 0). */
const WIDTH = 1000;

beforeAll(() => {
  // jsdom has no canvas; its getContext returns null (after a "not implemented" warning).
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
  Object.defineProperty(HTMLElement.prototype, "clientWidth", { configurable: true, get: () => WIDTH });
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
    const quantities = [...el.querySelectorAll<HTMLOptionElement>("select.lstmviz-quantity option")].map(
      (o) => o.value,
    );
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
    const quantities = [...document.querySelectorAll<HTMLOptionElement>("select.lstmviz-quantity option")].map(
      (o) => o.value,
    );
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
    expect(model.listenerCount()).toBe(8); // 6 synced traits + _data + msg:custom (export)
    key($("div.lstmviz") as HTMLElement, "ArrowRight");
    cleanup();
    expect(model.state.timestep).toBe(1);
    expect(model.saves).toHaveLength(1);
    expect(model.listenerCount()).toBe(0);
    expect(el.childElementCount).toBe(0);
    vi.runAllTimers();
    expect(model.saves).toHaveLength(1);
  });

  // --- heatmap + interaction -----------------------------------------------------------------

  /** The main heatmap's plot geometry (8 LSTM units: 240 px tall; 20 steps over 938 px). */
  const M = HEATMAP_MARGIN;
  const plotW = WIDTH - M.left - M.right;
  const plotH = heatmapPlotHeight(8);
  const stepX = (t: number, win: [number, number] = [0, 20]) =>
    M.left + ((t - win[0] + 0.5) * plotW) / (win[1] - win[0]);
  const rowY = (r: number) => M.top + ((r + 0.5) * plotH) / 8;
  const bandY = M.top + plotH + 8;
  /** Views redraw in the next animation frame (fake timers: 16 ms). */
  const nextFrame = () => vi.advanceTimersByTime(20);
  const yLabels = (root: ParentNode) =>
    [...root.querySelectorAll("[data-view=heatmap] .lstmviz-axis-y .tick text")].map((t) => Number(t.textContent));

  it("wraps the heatmap, slider, toolbar and gates in view roots", () => {
    const { el } = open();
    const views = [...el.querySelectorAll<HTMLElement>("div.lstmviz-view[data-view]")].map((v) => v.dataset.view);
    for (const v of ["controls", "heatmap", "slider", "gates"]) expect(views).toContain(v);
    expect(el.querySelectorAll("[data-view=heatmap] .lstmviz-heatmap-canvas")).toHaveLength(1);
    expect(el.querySelector(".lstmviz-heatmap-canvas")?.closest("[data-view]")?.getAttribute("data-view")).toBe(
      "heatmap",
    );
  });

  it("plays at the chosen speed with requestAnimationFrame, and ▶/❚❚ and Space toggle it", () => {
    const { $, model } = open({ timestep: 2 });
    const play = $<HTMLButtonElement>("button.lstmviz-play") as HTMLButtonElement;
    const speed = $<HTMLSelectElement>("select.lstmviz-speed") as HTMLSelectElement;
    expect([...speed.options].map((o) => Number(o.value))).toEqual([...SPEEDS]);
    expect(Number(speed.value)).toBe(defaultSpeed(20));
    speed.value = "10";
    speed.dispatchEvent(new Event("change"));
    play.click();
    expect(play.getAttribute("aria-pressed")).toBe("true");
    expect(play.textContent).toBe("❚❚");
    vi.advanceTimersByTime(1000); // 10 steps/s for 1 s
    const t = Number($("div.lstmviz")?.dataset.timestep);
    expect(t).toBeGreaterThanOrEqual(11);
    expect(t).toBeLessThanOrEqual(12);
    expect(model.state.timestep).toBeGreaterThanOrEqual(10); // reaches Python, throttled
    key($("div.lstmviz") as HTMLElement, " "); // Space pauses
    expect(play.getAttribute("aria-pressed")).toBe("false");
    expect(play.textContent).toBe("▶");
    const paused = $("div.lstmviz")?.dataset.timestep;
    vi.advanceTimersByTime(1000);
    expect($("div.lstmviz")?.dataset.timestep).toBe(paused);
    key($("div.lstmviz") as HTMLElement, " "); // and plays again
    expect(play.getAttribute("aria-pressed")).toBe("true");
  });

  it("advances several steps per frame at high speed and stops at the last step", () => {
    const { $ } = open();
    const speed = $<HTMLSelectElement>("select.lstmviz-speed") as HTMLSelectElement;
    speed.value = "250";
    speed.dispatchEvent(new Event("change"));
    const play = $<HTMLButtonElement>("button.lstmviz-play") as HTMLButtonElement;
    play.click();
    vi.advanceTimersByTime(40); // 2–3 frames at 250 steps/s: several steps per frame
    expect(Number($("div.lstmviz")?.dataset.timestep)).toBeGreaterThanOrEqual(4);
    vi.advanceTimersByTime(500);
    expect($("div.lstmviz")?.dataset.timestep).toBe("19");
    expect(play.getAttribute("aria-pressed")).toBe("false");
    play.click(); // ▶ at the end starts again from 0
    expect($("div.lstmviz")?.dataset.timestep).toBe("0");
    expect(play.getAttribute("aria-pressed")).toBe("true");
  });

  it("stops playing when the user scrubs, and on teardown", () => {
    const { $, cleanup } = open({ timestep: 0 });
    const play = $<HTMLButtonElement>("button.lstmviz-play") as HTMLButtonElement;
    play.click();
    vi.advanceTimersByTime(300);
    const root = $("div.lstmviz") as HTMLElement;
    key(root, "Home");
    expect(play.getAttribute("aria-pressed")).toBe("false");
    vi.advanceTimersByTime(1000);
    expect(root.dataset.timestep).toBe("0");
    play.click();
    expect(play.getAttribute("aria-pressed")).toBe("true");
    cleanup();
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(vi.getTimerCount()).toBe(0);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it("zooms about the cursor with + / − and resets with 0; the toolbar says what is shown", () => {
    const { $ } = open({ timestep: 10 });
    const root = $("div.lstmviz") as HTMLElement;
    const readout = $(".lstmviz-window-readout") as HTMLElement;
    expect(readout.hidden).toBe(true);
    expect(key(root, "+").defaultPrevented).toBe(true);
    expect(readout.textContent).toBe("showing 5–14 of 20"); // [5, 15): the cursor stays in the middle
    expect(readout.hidden).toBe(false);
    key(root, "=");
    expect(readout.textContent).toBe("showing 8–12 of 20"); // 5 steps, min 4
    nextFrame();
    const ticks = [...root.querySelectorAll("[data-view=heatmap] .lstmviz-axis-x .tick text")].map((t) =>
      Number(t.textContent),
    );
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...ticks)).toBeLessThanOrEqual(12);
    key(root, "-");
    expect(readout.textContent).toBe("showing 6–15 of 20"); // 10 steps about t = 10.5
    key(root, "0");
    expect(readout.hidden).toBe(true);
    expect($<HTMLButtonElement>("button.lstmviz-zoom-reset")?.disabled).toBe(true);
    // toolbar buttons do the same
    $<HTMLButtonElement>("button.lstmviz-zoom-in")?.click();
    expect(readout.textContent).toBe("showing 5–14 of 20");
    $<HTMLButtonElement>("button.lstmviz-zoom-reset")?.click();
    expect(readout.hidden).toBe(true);
  });

  it("scrubs in the zoom window: a click maps to the window's steps", () => {
    const { $ } = open({ timestep: 10 });
    const root = $("div.lstmviz") as HTMLElement;
    key(root, "+"); // [5, 15)
    const plot = $("[data-view=heatmap] .lstmviz-heatmap") as HTMLElement;
    pointer(plot, "pointerdown", stepX(7, [5, 15]), rowY(2));
    pointer(plot, "pointerup", stepX(7, [5, 15]), rowY(2));
    expect(root.dataset.timestep).toBe("7");
    expect($("[data-view=heatmap] .lstmviz-cursor")?.dataset.timestep).toBe("7");
  });

  it("brushes a time range on the axis band: rows sort by it, top 10 selects, Escape clears", () => {
    const { $, el, model } = open();
    const root = $("div.lstmviz") as HTMLElement;
    const plot = $("[data-view=heatmap] .lstmviz-heatmap") as HTMLElement;
    pointer(plot, "pointerdown", stepX(4), bandY);
    pointer(plot, "pointermove", stepX(6), bandY);
    pointer(plot, "pointermove", stepX(9), bandY);
    pointer(plot, "pointerup", stepX(9), bandY);
    expect($<HTMLSelectElement>("select.lstmviz-sort")?.value).toBe("brush");
    expect($(".lstmviz-brush-readout")?.textContent).toBe("brushed t 4–9");
    expect(root.dataset.timestep).toBe("0"); // a brush does not move the cursor
    nextFrame();
    // h = tanh(sin(t/3 + u)) on sample 0: rank by mean over [4, 10) minus mean elsewhere
    const h = (t: number, u: number) => Math.fround(Math.tanh(Math.sin(t / 3 + u)));
    const score = Array.from({ length: 8 }, (_, u) => {
      let si = 0;
      let so = 0;
      for (let t = 0; t < 20; t++) {
        if (t >= 4 && t < 10) si += h(t, u);
        else so += h(t, u);
      }
      return si / 6 - so / 14;
    });
    const expected = score.map((_, u) => u).sort((a, b) => score[b] - score[a]);
    expect(yLabels(el)).toEqual(expected);
    expect(el.querySelectorAll("[data-view=heatmap] rect.lstmviz-brush")).toHaveLength(1);
    const top = $<HTMLButtonElement>("button.lstmviz-top10") as HTMLButtonElement;
    expect(top.closest<HTMLElement>(".lstmviz-brush-group")?.hidden).toBe(false);
    top.click();
    vi.advanceTimersByTime(60);
    expect(model.state.selected_units).toEqual(expected); // 8 units < 10: all, in rank order
    expect(key(root, "Escape").defaultPrevented).toBe(true);
    expect($<HTMLSelectElement>("select.lstmviz-sort")?.value).toBe("natural");
    nextFrame();
    expect(yLabels(el)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(el.querySelectorAll("[data-view=heatmap] rect.lstmviz-brush")).toHaveLength(0);
    expect(top.closest<HTMLElement>(".lstmviz-brush-group")?.hidden).toBe(true);
    expect(key(root, "Escape").defaultPrevented).toBe(false); // nothing to clear: not ours
  });

  it("brushes with Alt-drag on the plot and clears with a double-click on the axis", () => {
    const { $ } = open({ timestep: 3 });
    const root = $("div.lstmviz") as HTMLElement;
    const plot = $("[data-view=heatmap] .lstmviz-heatmap") as HTMLElement;
    pointer(plot, "pointerdown", stepX(12), rowY(3), { altKey: true });
    pointer(plot, "pointermove", stepX(15), rowY(3), { altKey: true });
    pointer(plot, "pointerup", stepX(15), rowY(3), { altKey: true });
    expect($(".lstmviz-brush-readout")?.textContent).toBe("brushed t 12–15");
    expect($<HTMLSelectElement>("select.lstmviz-sort")?.value).toBe("brush");
    expect(root.dataset.timestep).toBe("3");
    pointer(plot, "dblclick", stepX(2), bandY);
    expect($<HTMLSelectElement>("select.lstmviz-sort")?.value).toBe("natural");
    expect($(".lstmviz-brush-readout")?.textContent).toBe("");
  });

  it("a click on the axis band without dragging moves the cursor", () => {
    const { $ } = open();
    const plot = $("[data-view=heatmap] .lstmviz-heatmap") as HTMLElement;
    pointer(plot, "pointerdown", stepX(13), bandY);
    pointer(plot, "pointerup", stepX(13), bandY);
    expect($("div.lstmviz")?.dataset.timestep).toBe("13");
    expect($<HTMLSelectElement>("select.lstmviz-sort")?.value).toBe("natural");
  });

  it("orders rows by the sort select; hover and selection use real unit ids", () => {
    const { $, el, model } = open();
    const sort = $<HTMLSelectElement>("select.lstmviz-sort") as HTMLSelectElement;
    expect([...sort.options].map((o) => o.value)).toEqual(["natural", "variance", "activation", "brush"]);
    expect([...sort.options].find((o) => o.value === "brush")?.disabled).toBe(true); // no brush yet
    sort.value = "variance";
    sort.dispatchEvent(new Event("change"));
    const h = (t: number, u: number) => Math.fround(Math.tanh(Math.sin(t / 3 + u)));
    const variance = Array.from({ length: 8 }, (_, u) => {
      const xs = Array.from({ length: 20 }, (_, t) => h(t, u));
      const m = xs.reduce((a, b) => a + b, 0) / 20;
      return xs.reduce((a, b) => a + (b - m) ** 2, 0) / 20;
    });
    const order = variance.map((_, u) => u).sort((a, b) => variance[b] - variance[a]);
    nextFrame();
    expect(yLabels(el)).toEqual(order);
    const plot = $("[data-view=heatmap] .lstmviz-heatmap") as HTMLElement;
    pointer(plot, "pointermove", stepX(5), rowY(2));
    nextFrame();
    expect($("[data-view=heatmap] .lstmviz-tooltip")?.textContent).toContain(`unit ${order[2]} · t = 5`);
    // the hovered unit is outlined on its row in the gate small multiples too
    const gateHover = el.querySelector("[data-view=gates] .lstmviz-hover-row") as SVGRectElement;
    expect(gateHover.getAttribute("visibility")).toBe("visible");
    pointer(plot, "pointerdown", stepX(5), rowY(2), { shiftKey: true });
    vi.advanceTimersByTime(60);
    expect(model.state.selected_units).toEqual([order[2]]);
    // activation: |h| at the cursor, re-ranked when the cursor moves
    sort.value = "activation";
    sort.dispatchEvent(new Event("change"));
    for (const t of [0, 7]) {
      model.fromPython("timestep", t);
      vi.advanceTimersByTime(20); // one animation frame
      const act = Array.from({ length: 8 }, (_, u) => Math.abs(h(t, u)));
      expect(yLabels(el)).toEqual(act.map((_, u) => u).sort((a, b) => act[b] - act[a]));
    }
  });

  it("shows the gates of the layer as small multiples, hidden for a layer without gates", () => {
    const payload = makePayload();
    payload.layers[1].kind = "SimpleRNN";
    payload.layers[1].arrays = { h: payload.layers[1].arrays.h };
    const { el, model } = open({}, payload);
    const gates = el.querySelector<HTMLElement>("div.lstmviz-view[data-view=gates]") as HTMLElement;
    const captions = [...gates.querySelectorAll(".lstmviz-caption")].map((c) => c.textContent ?? "");
    expect(captions).toHaveLength(4);
    expect(captions[0]).toMatch(/^input gate i · σ/);
    expect(captions[2]).toMatch(/^cell gate g · tanh/);
    expect(gates.querySelectorAll(".lstmviz-heatmap-canvas")).toHaveLength(4);
    // one legend per colour map: sigmoid gates and the tanh gate
    expect([...gates.querySelectorAll(".lstmviz-legend-title")].map((t) => t.textContent)).toEqual([
      "σ gates",
      "tanh gates",
    ]);
    expect(gates.hidden).toBe(false);
    model.fromPython("layer", "gru");
    expect(gates.hidden).toBe(true);
    model.fromPython("layer", "lstm");
    expect(gates.hidden).toBe(false);
    expect(gates.querySelectorAll(".lstmviz-heatmap-canvas")).toHaveLength(4);
  });
});
