// @vitest-environment jsdom
// parts/lifecycle.ts: one dispose() undoes every listener, subscription and pending frame, and
// store changes / theme changes reach the view's draw through one frame.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { createLifecycle } from "./parts/lifecycle";
import { recheckTheme, themeVar } from "./render/theme";
import { Store, type ViewState } from "./store";

const initial = (): ViewState => ({
  timestep: 0,
  sample: 0,
  layer: "lstm",
  quantity: "h",
  selectedUnits: [],
  epoch: 0,
  hoverUnit: null,
  window: [0, 10],
  brush: null,
  sortMode: "natural",
  playing: false,
  playSpeed: 5,
});

describe("createLifecycle", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("draws once per frame however often it is scheduled, and never after dispose", () => {
    const draw = vi.fn();
    const life = createLifecycle(new Store(initial()), draw);
    life.frame.schedule();
    life.frame.schedule();
    vi.advanceTimersByTime(50);
    expect(draw).toHaveBeenCalledTimes(1);
    life.frame.schedule();
    life.dispose();
    vi.advanceTimersByTime(50);
    expect(draw).toHaveBeenCalledTimes(1);
  });

  it("removes its DOM listeners and store subscriptions on dispose, runs teardowns last-first", () => {
    const store = new Store(initial());
    const life = createLifecycle(store);
    const el = document.createElement("div");
    const clicks = vi.fn();
    const changes = vi.fn();
    const order: string[] = [];
    life.listen(el, "click", clicks);
    life.subscribe(changes);
    life.onDispose(() => order.push("first"));
    life.onDispose(() => order.push("second"));
    el.click();
    store.set({ timestep: 3 });
    expect(clicks).toHaveBeenCalledTimes(1);
    expect(changes).toHaveBeenCalledTimes(1);
    life.dispose();
    life.dispose(); // idempotent
    el.click();
    store.set({ timestep: 4 });
    expect(clicks).toHaveBeenCalledTimes(1);
    expect(changes).toHaveBeenCalledTimes(1);
    expect(order).toEqual(["second", "first"]);
    expect(life.signal.aborted).toBe(true);
  });

  it("a theme change runs the view's hook and then one draw", () => {
    const draw = vi.fn();
    const root = document.createElement("div");
    root.className = "lstmviz";
    document.body.append(root);
    const life = createLifecycle(new Store(initial()), draw);
    const hook = vi.fn();
    life.onTheme(root, hook);
    root.style.setProperty("--lstmviz-bg", "#ffffff");
    expect(themeVar(root, "--lstmviz-bg", "red")).toBe("#ffffff"); // read once: now watched
    root.style.setProperty("--lstmviz-bg", "#000000");
    recheckTheme();
    vi.advanceTimersByTime(50);
    expect(hook).toHaveBeenCalledTimes(1);
    expect(draw).toHaveBeenCalledTimes(1);
    life.dispose();
    root.style.setProperty("--lstmviz-bg", "#101010");
    recheckTheme();
    vi.advanceTimersByTime(50);
    expect(hook).toHaveBeenCalledTimes(1);
    root.remove();
  });

  it("a store error in the draw goes to the store's error handlers", () => {
    const store = new Store(initial());
    const errors: unknown[] = [];
    store.onError((e) => errors.push(e));
    const life = createLifecycle(store, () => {
      throw new Error("boom");
    });
    life.frame.schedule();
    vi.advanceTimersByTime(50);
    expect(errors.map((e) => (e as Error).message)).toEqual(["boom"]);
    life.dispose();
  });
});
