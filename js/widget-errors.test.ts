// @vitest-environment jsdom
// An exception thrown by a view after the first render must replace the widget by the error
// panel (never a half-dead widget or a blank cell).
import { describe, expect, it, vi } from "vitest";

import type { Store } from "./store";
import { FakeModel, makePayload } from "./testing";
import widget from "./widget";

vi.mock("./views/vector", () => ({
  createVector: (container: HTMLElement, store: Store) => {
    const div = document.createElement("div");
    div.className = "lstmviz-vector";
    container.append(div);
    const unsub = store.subscribe((s) => {
      if (s.timestep === 3) throw new Error("vector view exploded at t=3");
    });
    return () => {
      unsub();
      div.remove();
    };
  },
}));

describe("errors in views", () => {
  it("replace the widget by the error panel and stop syncing", () => {
    HTMLCanvasElement.prototype.getContext = (() => null) as typeof HTMLCanvasElement.prototype.getContext;
    const model = new FakeModel({ _data: makePayload() });
    const el = document.createElement("div");
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    const cleanup = widget.render({ model: model as never, el }) as () => void;
    const root = el.querySelector("div.lstmviz") as HTMLElement;
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(el.querySelector(".lstmviz-error")).toBeNull();
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true, shiftKey: false }));
    root.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    expect(el.querySelector(".lstmviz-error-message")?.textContent).toBe("vector view exploded at t=3");
    expect(el.querySelector(".lstmviz")).toBeNull();
    expect(model.listenerCount()).toBe(2); // change:_data (rebuild on new data) and msg:custom (export) remain
    expect(consoleError).toHaveBeenCalled();
    cleanup();
    expect(model.listenerCount()).toBe(0);
    consoleError.mockRestore();
  });
});
