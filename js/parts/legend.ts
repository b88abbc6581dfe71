/**
 * Colour legend of the heatmap panels: a vertical gradient bar with a d3 axis, swatches for
 * the padding shade and the NaN/Inf colour when they occur, and a note when columns are
 * aggregated ("min/max per px", "48 steps/px"; its tooltip says the rule). Owned by
 * parts/heatmap/panel.ts (the main heatmap and the gate small multiples).
 */
import { axisRight } from "d3-axis";
import { format } from "d3-format";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { html, svg, uniqueId } from "../render/dom";
import { NAN_COLOR, type ColorScale } from "../math/scales";

export const LEGEND_WIDTH = 74;
const BAR_WIDTH = 12;
const N_STOPS = 24;

export interface LegendOptions {
  scale: ColorScale;
  quantity: string;
  /** Plot area: the bar spans [top, top + height]. */
  top: number;
  height: number;
  totalHeight: number;
  showPadding: boolean;
  showNaN: boolean;
  /** Title above the bar (default: the quantity's short name). */
  title?: string;
  /** Lines under the swatches (e.g. the aggregation note), and their tooltip. */
  note?: string[];
  noteTitle?: string;
}

export interface Legend {
  update(opts: LegendOptions): void;
  destroy(): void;
}

export function createLegend(container: HTMLElement): Legend {
  const root = html("div", "lstmviz-legend");
  const gradId = uniqueId("lstmviz-grad");
  const node = svg("svg", { class: "lstmviz-legend-svg", width: LEGEND_WIDTH });
  const defs = svg("defs");
  const grad = svg("linearGradient", { id: gradId, x1: 0, y1: 1, x2: 0, y2: 0 });
  defs.append(grad);
  const title = svg("text", { class: "lstmviz-legend-title", x: 0, y: 10 });
  const bar = svg("rect", { class: "lstmviz-legend-bar", x: 0, width: BAR_WIDTH, fill: `url(#${gradId})` });
  const axisG = svg("g", { class: "lstmviz-axis lstmviz-legend-axis" });
  const extras = svg("g", { class: "lstmviz-legend-extras" });
  const note = svg("g", { class: "lstmviz-legend-note" });
  node.append(defs, title, bar, axisG, extras, note);
  root.append(node);
  container.append(root);

  // What the last update drew: a zoom changes only the note, so only the note is rewritten.
  let drawnBar = "";
  let drawnExtras = "";
  let drawnNote = "";
  /** Where the swatches end (the note goes under them). */
  let notesTop = 0;
  return {
    update(o) {
      const [d0, d1] = o.scale.domain;
      const title_ = o.title ?? (o.quantity.startsWith("gate:") ? o.quantity.slice(5) : o.quantity);
      const barKey = `${o.scale.kind}|${d0}|${d1}|${o.top}|${o.height}|${o.totalHeight}|${title_}`;
      if (barKey !== drawnBar) {
        drawnBar = barKey;
        drawnExtras = "";
        drawnNote = "";
        drawBar(o, title_);
      }
      const extrasKey = `${o.showNaN}|${o.showPadding}`;
      if (extrasKey !== drawnExtras) {
        drawnExtras = extrasKey;
        drawnNote = "";
        drawExtras(o);
      }
      const noteKey = `${(o.note ?? []).join("\n")}|${o.noteTitle ?? ""}`;
      if (noteKey !== drawnNote) {
        drawnNote = noteKey;
        drawNote(o);
      }
    },
    destroy() {
      root.remove();
    },
  };

  function drawBar(o: LegendOptions, titleText: string): void {
    node.setAttribute("height", String(o.totalHeight));
    const [d0, d1] = o.scale.domain;
    grad.replaceChildren();
    for (let i = 0; i < N_STOPS; i++) {
      const t = i / (N_STOPS - 1);
      grad.append(svg("stop", { offset: `${(t * 100).toFixed(2)}%`, "stop-color": o.scale.interpolator(t) }));
    }
    title.textContent = titleText;
    bar.setAttribute("y", String(o.top));
    bar.setAttribute("height", String(Math.max(0, o.height)));
    const y = scaleLinear()
      .domain([d0, d1])
      .range([o.top + o.height, o.top]);
    const span = Math.abs(d1 - d0);
    const fmt = format(span >= 20 ? ".0f" : span >= 2 ? ".1f" : span >= 0.2 ? ".2~f" : ".2~e");
    axisG.setAttribute("transform", `translate(${BAR_WIDTH}, 0)`);
    const axis = axisRight(y)
      .tickSize(4)
      .tickFormat((v) => fmt(v as number));
    // A short bar (gate small multiples) gets its ends and middle; a tall one d3's ticks.
    if (o.height < 120) axis.tickValues([d0, (d0 + d1) / 2, d1]);
    else axis.ticks(Math.max(2, Math.min(7, Math.floor(o.height / 40))));
    select(axisG).call(axis);
  }

  function drawExtras(o: LegendOptions): void {
    extras.replaceChildren();
    let ey = o.top + o.height + 16;
    const swatch = (fill: string, label: string, cls: string): void => {
      extras.append(
        svg("rect", { class: cls, x: 0, y: ey - 8, width: 10, height: 10, fill }),
        Object.assign(svg("text", { x: 14, y: ey }), { textContent: label }),
      );
      ey += 14;
    };
    if (o.showNaN) swatch(NAN_COLOR, "NaN / Inf", "lstmviz-legend-nan");
    if (o.showPadding) swatch("rgb(128, 128, 128)", "padding", "lstmviz-legend-pad");
    notesTop = ey;
  }

  function drawNote(o: LegendOptions): void {
    let ey = notesTop;
    note.replaceChildren();
    if (o.note && o.note.length > 0) {
      ey += 2;
      if (o.noteTitle) note.append(Object.assign(svg("title"), { textContent: o.noteTitle }));
      for (const line of o.note) {
        note.append(Object.assign(svg("text", { x: 0, y: ey }), { textContent: line }));
        ey += 12;
      }
    }
  }
}
