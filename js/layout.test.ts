import { describe, expect, it } from "vitest";

import { aggregationNote } from "./parts/heatmap/panel";
import { brushBetween, clearBrushPatch } from "./selection";
import { keyAction } from "./keyboard";
import {
  heatmapPlotHeight,
  indexToPx,
  integerTicks,
  keyToTimestep,
  pxToIndex,
  pxToStep,
  stepToPx,
} from "./math/layout";
import { windowImageSize } from "./math/raster";
import type { ViewState } from "./store";
import { defaultSpeed, playPosition, SPEEDS } from "./player";
import { gateCaption, gatePanelHeight } from "./views/gates";
import { isZoomed, windowTicks, zoomAboutCursor } from "./math/zoom";

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

describe("zoom window", () => {
  it("maps steps of a window to pixels and back", () => {
    for (const [win, w] of [
      [[0, 20], 938],
      [[5, 15], 938],
      [[40_000, 41_234], 1037],
    ] as Array<[[number, number], number]>) {
      for (let t = win[0]; t < win[1]; t++) expect(pxToStep(stepToPx(t, win, w), win, w)).toBe(t);
      expect(pxToStep(-5, win, w)).toBe(win[0]);
      expect(pxToStep(w + 5, win, w)).toBe(win[1] - 1);
    }
  });

  it("zooms about the cursor, keeping it in place, within the axis", () => {
    expect(zoomAboutCursor([0, 20], 0.5, 10, 20)).toEqual([5, 15]);
    expect(zoomAboutCursor([0, 100], 0.5, 0, 100)).toEqual([0, 50]); // clamped at the start
    expect(zoomAboutCursor([0, 100], 0.5, 99, 100)).toEqual([50, 100]);
    expect(zoomAboutCursor([40, 60], 2, 50, 100)).toEqual([30, 70]);
    expect(zoomAboutCursor([0, 100], 2, 50, 100)).toEqual([0, 100]);
    expect(zoomAboutCursor([10, 14], 0.5, 12, 100)).toEqual([10, 14]); // at least MIN_WINDOW steps
    // the cursor's place on screen (fraction of the window) is kept
    const before = (70.5 - 0) / 100;
    const [a, b] = zoomAboutCursor([0, 100], 0.5, 70, 100);
    expect(Math.abs((70.5 - a) / (b - a) - before)).toBeLessThan(0.02);
    // a cursor outside the window: zoom about the centre
    expect(zoomAboutCursor([20, 60], 0.5, 90, 100)).toEqual([30, 50]);
    expect(isZoomed([0, 100], 100)).toBe(false);
    expect(isZoomed([0, 99], 100)).toBe(true);
  });

  it("puts nice integer ticks inside the window", () => {
    expect(windowTicks([0, 100_000], 1000, 70)).toEqual([
      0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000,
    ]);
    expect(windowTicks([517, 563], 900, 70)).toEqual([520, 525, 530, 535, 540, 545, 550, 555, 560]);
    expect(windowTicks([8, 13], 900, 70)).toEqual([8, 9, 10, 11, 12]);
    expect(windowTicks([3, 3], 900)).toEqual([]);
    for (const v of windowTicks([12_345, 67_891], 640))
      expect(Number.isInteger(v) && v >= 12_345 && v < 67_891).toBe(true);
  });

  it("says when columns are aggregated, in steps per CSS pixel", () => {
    expect(aggregationNote(windowImageSize([0, 500], 8, 1000, 300), 1)).toEqual([]);
    expect(aggregationNote(windowImageSize([0, 100_000], 8, 2000, 300), 2)).toEqual([
      "min/max per px:",
      "100 steps/px",
    ]);
    expect(aggregationNote(windowImageSize([0, 2500], 8, 1000, 300), 1)).toEqual(["min/max per px:", "2.5 steps/px"]);
  });
});

describe("keys, brush and playback", () => {
  it("maps zoom, play and brush keys", () => {
    expect(["+", "=", "-", "_", "0", " ", "Escape", "a", "ArrowLeft"].map(keyAction)).toEqual([
      "zoom-in",
      "zoom-in",
      "zoom-out",
      "zoom-out",
      "zoom-reset",
      "play",
      "clear-brush",
      null,
      null,
    ]);
  });

  it("brushes [from, to] inclusive in either direction, and clearing it restores the natural order", () => {
    expect(brushBetween(4, 9)).toEqual([4, 10]);
    expect(brushBetween(9, 4)).toEqual([4, 10]);
    expect(brushBetween(7, 7)).toEqual([7, 8]);
    const s = { sortMode: "brush", brush: [4, 10] } as unknown as ViewState;
    expect(clearBrushPatch(s)).toEqual({ brush: null, sortMode: "natural" });
    expect(clearBrushPatch({ ...s, sortMode: "variance" })).toEqual({ brush: null, sortMode: "variance" });
  });

  it("plays from the elapsed time, several steps per frame when fast, capped at the end", () => {
    expect(playPosition(10, 0, 25, 99)).toBe(10);
    expect(playPosition(10, 1000, 25, 99)).toBe(35);
    expect(playPosition(10, 16.7, 1000, 99)).toBe(26); // 16 steps in one 60 Hz frame
    expect(playPosition(90, 5000, 100, 99)).toBe(99);
    expect(playPosition(3, -5, 10, 99)).toBe(3);
    expect(defaultSpeed(20)).toBe(5);
    expect(defaultSpeed(1000)).toBe(100);
    expect(defaultSpeed(100_000)).toBe(SPEEDS[SPEEDS.length - 1]);
  });
});

describe("gate small multiples", () => {
  it("captions each gate with its symbol and activation, and sizes the panels", () => {
    expect(gateCaption("gate:forget", "sequential")).toBe("forget gate f · σ, 0…1");
    expect(gateCaption("gate:cell", "diverging")).toBe("cell gate g · tanh, signed");
    expect(gateCaption("gate:candidate", "diverging")).toBe("candidate h̃ · tanh, signed");
    expect(gateCaption("gate:update", "sequential")).toBe("update gate z · σ, 0…1");
    expect(gatePanelHeight(4)).toBe(44);
    expect(gatePanelHeight(24)).toBe(78);
    expect(gatePanelHeight(256)).toBe(96);
  });
});
