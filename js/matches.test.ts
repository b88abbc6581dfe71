// @vitest-environment jsdom
import { describe, expect, it } from "vitest";

import { decodePayload } from "./codecs";
import { makeNormalizer } from "./explorer";
import { Store } from "./store";
import { makePayload } from "./testing";
import { createMatches, jumpWindow, matchLabel, type MatchRow } from "./views/matches";

class MsgModel {
  state: Record<string, unknown>;
  sent: unknown[] = [];
  setCalls: Array<[string, unknown]> = [];
  saves = 0;
  custom = new Set<(msg: unknown) => void>();
  constructor(state: Record<string, unknown>) {
    this.state = state;
  }
  get = (key: string): unknown => this.state[key];
  set = (key: string, value: unknown): void => {
    this.setCalls.push([key, value]);
    this.state[key] = value;
  };
  save_changes = (): void => {
    this.saves++;
  };
  send = (content: unknown): void => {
    this.sent.push(content);
  };
  on = (event: string, cb: (msg: unknown) => void): void => {
    if (event === "msg:custom") this.custom.add(cb);
  };
  off = (event: string, cb: (msg: unknown) => void): void => {
    if (event === "msg:custom") this.custom.delete(cb);
  };
  emit(msg: unknown): void {
    for (const cb of [...this.custom]) cb(msg);
  }
}

const T = 20;

function setup(store: Record<string, unknown> | null) {
  const raw = makePayload({ B: 1, T });
  const data = store ? { ...raw, store } : raw;
  const model = new MsgModel({ _data: data });
  const payload = decodePayload(raw);
  const s = new Store(
    {
      timestep: 0,
      sample: 0,
      layer: "lstm",
      quantity: "h",
      selectedUnits: [],
      epoch: 0,
      hoverUnit: null,
      window: [0, T],
      brush: null,
      sortMode: "natural",
      playing: false,
      playSpeed: 5,
    },
    makeNormalizer(payload),
  );
  const el = document.createElement("div");
  const stop = createMatches(el, s, payload, model);
  return { model, s, el, stop };
}

const ROW: MatchRow = { sample: 41, t0: 3, t1: 7, score: 0.5, n_selected: 2, n_union: 4, text: "a b c d" };

describe("matches view (store-backed explorer)", () => {
  it("is absent without a store", () => {
    expect(setup(null).stop).toBeNull();
  });

  it("finds similar windows for the brush and jumps to a clicked match", () => {
    const { model, s, el, stop } = setup({ n_samples: 500, sample: 7, jump: null, matches: [], path: "x.zarr" });
    const find = el.querySelector<HTMLButtonElement>("button.lstmviz-find-similar");
    const input = el.querySelector<HTMLInputElement>("input.lstmviz-store-sample-input");
    expect(input?.max).toBe("499");
    expect(input?.value).toBe("7");
    expect(el.textContent).toContain("of 500");
    expect(find?.disabled).toBe(true);
    s.set({ brush: [4, 9], selectedUnits: [1, 2] });
    expect(find?.disabled).toBe(false);
    find?.click();
    const req = model.sent.at(-1) as Record<string, unknown>;
    expect(req).toMatchObject({ type: "lstmviz-match", t0: 4, t1: 9, units: [1, 2], threshold: 0.3 });
    // a reply to another request is ignored; ours is listed
    model.emit({ type: "lstmviz-matches", id: "other", rows: [ROW, ROW] });
    expect(el.querySelectorAll("button.lstmviz-match")).toHaveLength(0);
    model.emit({ type: "lstmviz-matches", id: req.id, rows: [ROW] });
    const rows = el.querySelectorAll<HTMLButtonElement>("button.lstmviz-match");
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toBe(matchLabel(ROW));
    expect(rows[0].textContent).toContain("sample 41 · steps 3–6 · 2 selected on, 2 others · J=0.50");
    rows[0].click();
    expect(model.sent.at(-1)).toEqual({ type: "lstmviz-goto", sample: 41, t0: 3, t1: 7 });
    // Python answers a jump within the sample shown
    model.emit({ type: "lstmviz-jump", t0: 10, t1: 14 });
    expect(s.state.brush).toEqual([10, 14]);
    expect(s.state.timestep).toBe(10);
    expect(s.state.window).toEqual(jumpWindow(10, 14, T));
    expect(s.state.window[0]).toBeLessThanOrEqual(10);
    expect(s.state.window[1]).toBeGreaterThanOrEqual(14);
    // errors are shown, not thrown
    find?.click();
    const again = model.sent.at(-1) as Record<string, unknown>;
    model.emit({ type: "lstmviz-matches", id: again.id, error: "no unit is above 0.3" });
    expect(el.textContent).toContain("no unit is above 0.3");
    stop?.();
    expect(model.custom.size).toBe(0);
    expect(el.children).toHaveLength(0);
  });

  it("sets store_sample and applies a pending jump on mount", () => {
    const { model, s, el } = setup({ n_samples: 50, sample: 3, jump: [5, 8], matches: [ROW], threshold: 0, path: "" });
    expect(el.querySelector<HTMLInputElement>("input.lstmviz-match-threshold")?.value).toBe("0");
    expect(s.state.brush).toEqual([5, 8]);
    expect(s.state.timestep).toBe(5);
    expect(el.querySelectorAll("button.lstmviz-match")).toHaveLength(1); // the list survives
    const input = el.querySelector<HTMLInputElement>("input.lstmviz-store-sample-input");
    if (!input) throw new Error("no input");
    input.value = "99";
    input.dispatchEvent(new Event("change"));
    expect(input.value).toBe("49");
    expect(model.setCalls.at(-1)).toEqual(["store_sample", 49]);
    expect(model.saves).toBe(1);
  });
});
