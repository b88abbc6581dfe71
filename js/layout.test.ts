import { describe, expect, it } from "vitest";

import { heatmapPlotHeight, indexToPx, integerTicks, keyToTimestep, pxToIndex } from "./layout";

describe("pixel ↔ timestep mapping", () => {
  it("puts the cursor at the centre of its column", () => {
    expect(indexToPx(0, 100, 500)).toBe(2.5);
    expect(indexToPx(99, 100, 500)).toBe(497.5);
    expect(indexToPx(1, 4, 400)).toBe(150);
  });

  it("maps a pixel to the column under it, clamped", () => {
    expect(pxToIndex(0, 100, 500)).toBe(0);
    expect(pxToIndex(4.99, 100, 500)).toBe(0);
    expect(pxToIndex(5, 100, 500)).toBe(1);
    expect(pxToIndex(499.9, 100, 500)).toBe(99);
    expect(pxToIndex(800, 100, 500)).toBe(99);
    expect(pxToIndex(-30, 100, 500)).toBe(0);
    expect(pxToIndex(10, 100, 0)).toBe(0); // not laid out yet
  });

  it("round-trips every column centre", () => {
    for (const [n, w] of [
      [7, 333],
      [120, 756],
      [1000, 640],
    ]) {
      for (let t = 0; t < n; t++) expect(pxToIndex(indexToPx(t, n, w), n, w)).toBe(t);
    }
  });
});

describe("sizes and ticks", () => {
  it("grows the heatmap with units, within [240, 420] px", () => {
    expect(heatmapPlotHeight(4)).toBe(240);
    expect(heatmapPlotHeight(32)).toBe(298);
    expect(heatmapPlotHeight(50)).toBe(370);
    expect(heatmapPlotHeight(64)).toBe(420);
    expect(heatmapPlotHeight(512)).toBe(420);
  });

  it("gives integer ticks with a nice step inside [0, n-1]", () => {
    expect(integerTicks(120, 756, 70)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(integerTicks(5, 1000)).toEqual([0, 1, 2, 3, 4]);
    expect(integerTicks(1, 100)).toEqual([0]);
    expect(integerTicks(0, 100)).toEqual([]);
    for (const v of integerTicks(1000, 300)) expect(Number.isInteger(v) && v >= 0 && v <= 999).toBe(true);
  });
});

describe("keyboard", () => {
  it("moves by 1, by 10 with Shift, and jumps with Home/End, clamped", () => {
    expect(keyToTimestep("ArrowRight", false, 5, 100)).toBe(6);
    expect(keyToTimestep("ArrowLeft", false, 5, 100)).toBe(4);
    expect(keyToTimestep("ArrowRight", true, 5, 100)).toBe(15);
    expect(keyToTimestep("ArrowLeft", true, 5, 100)).toBe(0);
    expect(keyToTimestep("ArrowRight", true, 95, 100)).toBe(99);
    expect(keyToTimestep("Home", false, 50, 100)).toBe(0);
    expect(keyToTimestep("End", false, 50, 100)).toBe(99);
    expect(keyToTimestep("a", false, 50, 100)).toBeNull();
  });
});
