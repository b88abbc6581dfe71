/**
 * The vector at the cursor of a long (tiled) capture (data-view "vector"): one bar per unit of
 * the store's quantity at (sample, timestep), exact, read from the level-0 tile that holds the
 * step (asked for with its neighbours, so scrubbing on goes on from the cache). Until it is in,
 * the card says so and shows nothing wrong. dataset: step, exact ("true" once drawn from the
 * exact tile), values (comma list, toPrecision(7)) — read by the browser tests.
 */
import { axisBottom, axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { createCard, sizeCanvas } from "../parts/card";
import { integerTicks } from "../math/layout";
import { colorSpec, makeColorScale } from "../math/scales";
import { quantityShort, svg } from "../render/dom";
import type { Store } from "../store";
import { tiledLifecycle } from "../parts/tiled";
import { findTiledLayer, type TiledArray } from "../tiles/payload";
import type { TiledData } from "../tiles/source";

const H = 150;
const M = { top: 8, right: 10, bottom: 22, left: 44 };

export function createLongVector(container: HTMLElement, store: Store, data: TiledData): () => void {
  const card = createCard(container, "vector", "lstmviz-vector");
  const yAxisG = svg("g", { class: "lstmviz-axis" });
  const xAxisG = svg("g", { class: "lstmviz-axis" });
  card.svg.append(yAxisG, xAxisG);
  let rootWidth = 0;

  const draw = (): void => {
    const s = store.state;
    const layer = findTiledLayer(data.payload, s.layer);
    const arr = layer.arrays.get(s.quantity) ?? (layer.arrays.get("h") as TiledArray);
    const q = layer.arrays.has(s.quantity) ? s.quantity : "h";
    const t = s.timestep;
    const values = data.exactAt(arr, s.sample, t);
    const token = data.tokenAt(s.sample, t);
    card.title.textContent = `${quantityShort(q)} at t = ${t.toLocaleString("en-US")}${token ? ` “${token}”` : ""}`;
    card.root.dataset.token = token;
    card.root.dataset.step = String(t);
    card.root.dataset.exact = String(values !== null);
    const w = Math.max(0, rootWidth - M.left - M.right);
    card.svg.setAttribute("width", String(w + M.left + M.right));
    card.svg.setAttribute("height", String(H));
    card.plot.style.height = `${H}px`;
    const plotH = H - M.top - M.bottom;
    const dpr = sizeCanvas(card.canvas, M.left, M.top, Math.max(1, w), plotH);
    const ctx = card.ctx;
    if (ctx) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, plotH);
    }
    if (!values) {
      card.subtitle.textContent = data.client.offline
        ? "exact values are not in this offline copy (zoom shows min/max)"
        : "exact values loading…";
      card.root.dataset.values = "";
      return;
    }
    card.subtitle.textContent = `${layer.name} · exact`;
    card.root.dataset.values = Array.from(values, (v) => v.toPrecision(7)).join(",");
    const dom = data.domain(arr, s.sample);
    const scale = makeColorScale(colorSpec(q, dom ?? values, layer.units));
    const [d0, d1] = scale.kind === "diverging" ? scale.domain : [Math.min(0, scale.domain[0]), scale.domain[1]];
    const y = scaleLinear().domain([d0, d1]).range([plotH, 0]);
    yAxisG.setAttribute("transform", `translate(${M.left}, ${M.top})`);
    select(yAxisG).call(axisLeft(y).ticks(4));
    const U = values.length;
    const x = scaleLinear()
      .domain([-0.5, U - 0.5])
      .range([0, w]);
    xAxisG.setAttribute("transform", `translate(${M.left}, ${M.top + plotH})`);
    select(xAxisG).call(
      axisBottom(x)
        .tickValues(integerTicks(U, w, 40))
        .tickFormat((v) => String(v)),
    );
    if (!ctx) return;
    const bw = w / U;
    const y0 = y(Math.max(d0, Math.min(d1, 0)));
    for (let u = 0; u < U; u++) {
      const v = values[u];
      ctx.fillStyle = scale.css(v);
      const yv = Number.isFinite(v) ? y(Math.max(d0, Math.min(d1, v))) : 0;
      ctx.fillRect(u * bw, Math.min(y0, yv), Math.max(1, bw - (bw > 3 ? 1 : 0)), Math.max(1, Math.abs(y0 - yv)));
    }
  };
  const life = tiledLifecycle(store, data, card.root, draw, ["timestep", "sample", "layer", "quantity"], (w) => {
    rootWidth = w;
  });
  return life.dispose;
}
