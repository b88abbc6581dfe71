import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { connectModel, stateFromModel, Store, type StateKey, type ViewState } from "./store";
import { FakeModel } from "./testing";

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

describe("Store", () => {
  it("notifies subscribers with the keys that changed, and only when something changed", () => {
    const store = new Store(initial());
    const calls: Array<[StateKey[], string]> = [];
    const unsub = store.subscribe((_s, changed, source) => calls.push([[...changed], source]));
    store.set({ timestep: 5 });
    store.set({ timestep: 5 }); // no change → no call
    store.set({ selectedUnits: [] }); // equal array → no call
    store.set({ selectedUnits: [1, 2], hoverUnit: 3 }, "model");
    expect(calls).toEqual([
      [["timestep"], "ui"],
      [["selectedUnits", "hoverUnit"], "model"],
    ]);
    expect(store.state.timestep).toBe(5);
    unsub();
    store.set({ timestep: 6 });
    expect(calls).toHaveLength(2);
  });

  it("applies the normalizer to every state", () => {
    const store = new Store({ ...initial(), timestep: 99 }, (s) => ({
      ...s,
      timestep: Math.min(Math.max(s.timestep, 0), 9),
    }));
    expect(store.state.timestep).toBe(9);
    const changed = store.set({ timestep: -4 });
    expect(store.state.timestep).toBe(0);
    expect([...changed]).toEqual(["timestep"]);
  });

  it("routes listener exceptions to the error handlers and keeps notifying the others", () => {
    const store = new Store(initial());
    const errors: unknown[] = [];
    store.onError((e) => errors.push(e));
    const seen: number[] = [];
    store.subscribe(() => {
      throw new Error("view broke");
    });
    store.subscribe((s) => seen.push(s.timestep));
    store.set({ timestep: 1 });
    expect((errors[0] as Error).message).toBe("view broke");
    expect(seen).toEqual([1]);
  });
});

describe("connectModel", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("reads the synced traits from the model", () => {
    const model = new FakeModel({
      timestep: "7",
      sample: 1,
      layer: "gru",
      quantity: "gate:reset",
      selected_units: [4, "2"],
      epoch: "3",
    });
    expect(stateFromModel(model)).toEqual({
      timestep: 7,
      sample: 1,
      layer: "gru",
      quantity: "gate:reset",
      selectedUnits: [4, 2],
      epoch: 3,
    });
  });

  it("updates the store at once but throttles pushes, always flushing the final value", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    const seen: number[] = [];
    store.subscribe((s) => seen.push(s.timestep));
    connectModel(store, model, { delay: 60 });

    for (let t = 1; t <= 20; t++) store.set({ timestep: t }); // a fast scrub
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1)); // views see every step
    expect(model.saves).toHaveLength(0);
    vi.advanceTimersByTime(59);
    expect(model.saves).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(model.saves).toHaveLength(1);
    expect(model.state.timestep).toBe(20);
    expect(model.setCalls).toEqual([["timestep", 20]]);
    vi.advanceTimersByTime(1000);
    expect(model.saves).toHaveLength(1); // nothing more to send
  });

  it("sends at most one save per window during a long drag, and the last value at the end", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    connectModel(store, model, { delay: 60 });
    for (let t = 1; t <= 50; t++) {
      store.set({ timestep: t });
      vi.advanceTimersByTime(10); // a mousemove every 10 ms for 500 ms
    }
    vi.advanceTimersByTime(100);
    expect(model.saves.length).toBeGreaterThanOrEqual(7);
    expect(model.saves.length).toBeLessThanOrEqual(10); // 500 ms / 60 ms + final
    expect(model.saves[model.saves.length - 1].timestep).toBe(50);
  });

  it("batches different traits of one window into one save", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    connectModel(store, model);
    store.set({ layer: "gru", quantity: "gate:reset" });
    store.set({ selectedUnits: [2, 5] });
    store.set({ hoverUnit: 4 }); // UI-only: never synced
    vi.advanceTimersByTime(60);
    expect(model.saves).toHaveLength(1);
    expect(model.saves[0]).toMatchObject({ layer: "gru", quantity: "gate:reset", selected_units: [2, 5] });
    expect(model.setCalls.map(([k]) => k).sort()).toEqual(["layer", "quantity", "selected_units"]);
  });

  it("applies changes from Python to the store without echoing them back", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    const sources: string[] = [];
    store.subscribe((_s, _c, source) => sources.push(source));
    connectModel(store, model);
    model.fromPython("timestep", 42);
    model.fromPython("selected_units", [1, 3]);
    expect(store.state.timestep).toBe(42);
    expect(store.state.selectedUnits).toEqual([1, 3]);
    expect(sources).toEqual(["model", "model"]);
    vi.advanceTimersByTime(500);
    expect(model.saves).toHaveLength(0);
    expect(model.setCalls).toHaveLength(0);
  });

  it("lets a change from Python win over an unsent UI value of the same trait", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    connectModel(store, model);
    store.set({ timestep: 30, sample: 1 }); // pending
    model.fromPython("timestep", 3);
    vi.advanceTimersByTime(60);
    expect(store.state.timestep).toBe(3);
    expect(model.state.timestep).toBe(3);
    expect(model.setCalls).toEqual([["sample", 1]]);
  });

  it("disconnect flushes the pending value and removes every listener and timer", () => {
    const model = new FakeModel();
    const store = new Store(initial());
    const disconnect = connectModel(store, model);
    expect(model.listenerCount()).toBe(6);
    store.set({ timestep: 9 });
    disconnect();
    expect(model.saves).toHaveLength(1);
    expect(model.state.timestep).toBe(9);
    expect(model.listenerCount()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    store.set({ timestep: 10 });
    model.fromPython("timestep", 1);
    vi.advanceTimersByTime(100);
    expect(model.saves).toHaveLength(1);
    expect(store.state.timestep).toBe(10);
  });
});
