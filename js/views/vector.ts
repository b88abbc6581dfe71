/**
 * The vector at the cursor, a card: one bar per unit (unit index along x, value along y) of the
 * selected quantity at (sample, timestep), in the heatmap's colour scale, titled
 * "<quantity> at t = 12". Highlights the hovered unit and the selected units; hovering a bar
 * sets store.hoverUnit, clicking toggles the unit's selection. Redraws once per animation
 * frame while scrubbing (bars only; axes on layer/quantity/resize).
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedPayload } from "../codecs";
import { html, quantityShort, svg } from "../dom";
import { indexToPx, integerTicks, pxToIndex } from "../layout";
import { createFrame } from "../raf";
import { vectorAt } from "../raster";
import { colorScaleFor, formatValue, NAN_COLOR } from "../scales";
import type { StateKey, Store } from "../store";
import { toggleUnit } from "./heatmap";

/** Least height of the bar chart; it grows with the card when a neighbour in the row is taller. */
export const VECTOR_HEIGHT = 150;
const M = { top: 8, right: 10, bottom: 30, left: 44 };

export function createVector(container: HTMLElement, store: Store, payload: DecodedPayload): () => void {
  const T = payload.nSteps;
  const root = html("div", "lstmviz-view lstmviz-card lstmviz-vector");
  root.dataset.view = "vector";
  // head: the shared card classes (js/card.ts): title + subtitle (the hovered unit's value)
  const head = html("div", "lstmviz-card-head");
  const titles = html("div", "lstmviz-card-titles");
  const caption = html("div", "lstmviz-card-title");
  const readout = html("div", "lstmviz-card-subtitle lstmviz-vector-hover");
  titles.append(caption, readout);
  head.append(titles);
  const node = svg("svg", { class: "lstmviz-vector-svg", height: VECTOR_HEIGHT });
  const xAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-x" });
  const yAxisG = svg("g", { class: "lstmviz-axis lstmviz-axis-y" });
  const xLabel = Object.assign(svg("text", { class: "lstmviz-axis-label", "text-anchor": "middle" }), {
    textContent: "unit",
  });
  const zeroLine = svg("line", { class: "lstmviz-zero-line" });
  const bars = svg("g", { class: "lstmviz-bars" });
  const marks = svg("g", { class: "lstmviz-selected-marks" });
  node.append(yAxisG, xAxisG, xLabel, bars, zeroLine, marks);
  // the chart fills the box, which fills what the card's row leaves below the head
  const box = html("div", "lstmviz-vector-box");
  box.append(node);
  root.append(head, box);
  container.append(root);

  let width = 0;
  let rootWidth = 0; // as the ResizeObserver reports it (see observeResize in raf.ts)
  let totalH = VECTOR_HEIGHT;
  let rects: SVGRectElement[] = [];
  let dirtyLayout = true;

  let plotH = totalH - M.top - M.bottom;

  const draw = (): void => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const arr = layer.arrays.get(s.quantity) ?? layer.arrays.get("h");
    if (!arr) return;
    const U = layer.units;
    const scale = colorScaleFor(arr, s.quantity);
    plotH = totalH - M.top - M.bottom;
    const values = vectorAt(arr.data, T, U, s.sample, s.timestep);
    const y = scaleLinear().domain(scale.domain).range([M.top + plotH, M.top]);

    if (dirtyLayout || rects.length !== U) {
      width = Math.max(0, rootWidth - M.left - M.right);
      node.setAttribute("height", String(totalH));
      node.setAttribute("width", String(width + M.left + M.right));
      const x = scaleLinear().domain([-0.5, U - 0.5]).range([0, width]);
      xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + plotH})`);
      select(xAxisG).call(
        axisBottom(x).tickValues(integerTicks(U, width, 40)).tickFormat((v) => String(v)).tickSizeOuter(0),
      );
      yAxisG.setAttribute("transform", `translate(${M.left - 4}, 0)`);
      select(yAxisG).call(axisLeft(y).ticks(4).tickSizeOuter(0));
      xLabel.setAttribute("x", String(M.left + width / 2));
      xLabel.setAttribute("y", String(totalH - 2));
      if (rects.length !== U) {
        rects = Array.from({ length: U }, (_, u) => svg("rect", { "data-unit": u }));
        bars.replaceChildren(...rects);
      }
      const bw = width / U;
      const gap = bw > 4 ? Math.min(2, bw * 0.15) : 0;
      rects.forEach((r, u) => {
        r.setAttribute("x", String(M.left + u * bw + gap / 2));
        r.setAttribute("width", String(Math.max(0.5, bw - gap)));
      });
      const y0 = y(Math.max(scale.domain[0], Math.min(scale.domain[1], 0)));
      zeroLine.setAttribute("x1", String(M.left));
      zeroLine.setAttribute("x2", String(M.left + width));
      zeroLine.setAttribute("y1", String(y0));
      zeroLine.setAttribute("y2", String(y0));
      dirtyLayout = false;
    }

    const base = y(Math.max(scale.domain[0], Math.min(scale.domain[1], 0)));
    const hover = s.hoverUnit;
    const selected = new Set(s.selectedUnits);
    for (let u = 0; u < U; u++) {
      const v = values[u];
      const r = rects[u];
      let top: number;
      let h: number;
      if (!Number.isFinite(v)) {
        top = M.top;
        h = plotH;
        r.setAttribute("fill", NAN_COLOR);
      } else {
        const yv = y(Math.max(scale.domain[0], Math.min(scale.domain[1], v)));
        top = Math.min(yv, base);
        h = Math.max(1, Math.abs(yv - base));
        r.setAttribute("fill", scale.css(v));
      }
      r.setAttribute("y", String(top));
      r.setAttribute("height", String(h));
      // beyond the colour domain (a unit that dwarfs the rest): the bar is cut at the edge
      const clipped = Number.isFinite(v) && (v > scale.domain[1] || v < scale.domain[0]);
      r.setAttribute(
        "class",
        `lstmviz-bar${u === hover ? " hover" : ""}${selected.has(u) ? " selected" : ""}` +
          `${clipped ? " clipped" : ""}`,
      );
    }

    marks.replaceChildren();
    for (const u of s.selectedUnits) {
      if (u >= U) continue;
      marks.append(
        svg("circle", { class: "lstmviz-selected-mark", cx: M.left + indexToPx(u, U, width), cy: M.top + plotH + 3, r: 2.5 }),
      );
    }

    const len = layer.lengths[s.sample] ?? T;
    caption.textContent =
      `${quantityShort(s.quantity)} at t = ${s.timestep}` + (s.timestep >= len ? " (padding)" : "");
    readout.textContent = hover !== null && hover < U ? `unit ${hover} = ${formatValue(values[hover])}` : "";
  };

  const frame = createFrame(draw, (e) => store.reportError(e));
  const relevant: StateKey[] = ["timestep", "sample", "layer", "quantity", "selectedUnits", "hoverUnit"];
  const unsubscribe = store.subscribe((_s, changed) => {
    if (changed.has("layer") || changed.has("quantity")) dirtyLayout = true;
    if (relevant.some((k) => changed.has(k))) frame.schedule();
  });

  const unitAt = (e: MouseEvent): number | null => {
    const r = node.getBoundingClientRect();
    const x = e.clientX - r.left - M.left;
    const yy = e.clientY - r.top;
    if (x < 0 || x >= width || yy < M.top || yy > M.top + plotH + 6) return null;
    return pxToIndex(x, findLayer(payload, store.state.layer).units, width);
  };
  const onMove = (e: PointerEvent): void => {
    store.set({ hoverUnit: unitAt(e) });
  };
  const onLeave = (): void => {
    store.set({ hoverUnit: null });
  };
  const onClick = (e: MouseEvent): void => {
    const u = unitAt(e);
    if (u !== null) store.set({ selectedUnits: toggleUnit(store.state.selectedUnits, u) });
  };
  node.addEventListener("pointermove", onMove);
  node.addEventListener("pointerleave", onLeave);
  node.addEventListener("click", onClick);
  const stopResize = observeSize(box, (w, h) => {
    rootWidth = w;
    totalH = Math.max(VECTOR_HEIGHT, Math.floor(h));
    dirtyLayout = true;
    frame.schedule();
  });

  rootWidth = box.clientWidth;
  draw();

  return () => {
    frame.cancel();
    stopResize();
    unsubscribe();
    node.removeEventListener("pointermove", onMove);
    node.removeEventListener("pointerleave", onLeave);
    node.removeEventListener("click", onClick);
    root.remove();
  };
}

/** Observe an element's content box (width and height, as the observer reports them); a no-op
 *  where ResizeObserver is missing (jsdom). */
function observeSize(el: Element, onResize: (width: number, height: number) => void): () => void {
  if (typeof ResizeObserver === "undefined") return () => {};
  let lastW = -1;
  let lastH = -1;
  const ro = new ResizeObserver((entries) => {
    const r = entries[entries.length - 1]?.contentRect;
    if (!r || (r.width === lastW && r.height === lastH)) return;
    lastW = r.width;
    lastH = r.height;
    onResize(r.width, r.height);
  });
  ro.observe(el);
  return () => ro.disconnect();
}
