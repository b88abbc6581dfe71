/**
 * Prediction confidence over time for the current sample (`payload.predictions`): the largest
 * class probability (classification), |2p − 1| (binary) on a [0, 1] axis, or the predicted
 * value (regression; its norm for vector outputs) on a linear axis fitted to the window.
 * Mispredicted steps are red ticks along the top; a thin strip along the bottom is coloured by
 * the predicted class; the side column names the predicted class at the cursor. The title says
 * whether these are per-step outputs or the prefix readout of a many-to-one model.
 *
 * Absent without predictions.
 */
import { createLifecycle } from "../parts/lifecycle";
import { axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import type { DecodedPayload } from "../codecs";
import { html, setText, svg } from "../render/dom";
import { stepFlags, type Envelope } from "../math/lod";
import { columns, envelopeExtent, paddedDomain, sampleLod, spanPx } from "../math/columns";
import { markColumns, shadePadding, strokeEnvelope } from "../render/series";
import { NAN_COLOR } from "../math/scales";
import { SERIES_COLORS } from "../math/scales";
import type { Store } from "../store";
import { createTrack, type TrackGeom } from "../parts/track";
import { createReadout, keyRow, shortValue } from "../parts/readout";

const HEIGHT = 78;
const STRIP = 5;
const LINE_COLOR = "#4e79a7";
export const WRONG_COLOR = "#e03131";

/** Human name of a predictions mode for the title. */
export function modeLabel(mode: string): string {
  if (mode === "sequence") return "per step";
  if (mode === "prefix") return "prefix readout";
  return mode;
}

/** What the confidence line means for a task. */
export function confidenceLabel(task: string): string {
  if (task === "classification") return "max probability";
  if (task === "binary") return "|2p − 1|";
  return "predicted value";
}

/** The class whose colour fills the strip in a column: the class of the column's middle step. */
export function classColor(k: number): string {
  return SERIES_COLORS[((k % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

export function createConfidence(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const p = payload.predictions;
  if (!p || p.mode === "none") return null;
  const T = payload.nSteps;
  const bounded = p.task === "classification" || p.task === "binary";
  const axis = svg("g");
  let cacheKey = "";
  let env: Envelope | null = null;
  let wrong: Uint8Array | null = null;
  let badCols: Uint8Array | null = null;
  let refresh: (() => void) | null = null;

  /** Valid steps of a sample: the source layer's (prefix readout of one layer), else the
   *  sample's length. */
  const source = p.sourceLayer ? payload.layers.find((l) => l.name === p.sourceLayer) : undefined;
  const validSteps = (b: number): number => (source ?? payload).lengths[b] ?? T;

  const draw = (ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void => {
    const s = store.state;
    const off = s.sample * T;
    const conf = p.confidence;
    const key = `${s.sample}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey || !env) {
      cacheKey = key;
      // min/max pyramids and flag counts, once per sample: O(columns · log T) per redraw
      const lod = sampleLod(conf, T, s.sample, "", null, (v) => !Number.isFinite(v));
      env = columns(lod, geom.win, geom.width, T);
      const mis = p.mispredicted;
      const misFlags = mis
        ? stepFlags(mis, `${s.sample}`, () => mis.subarray(off, off + T).map((v) => (v === 1 ? 1 : 0)))
        : null;
      wrong = misFlags ? misFlags.flags(env) : null;
      badCols = lod.bad ? lod.bad.flags(env) : null;
    }
    const plotTop = 5; // room for the mispredicted ticks
    const plotBottom = geom.height - (p.predicted ? STRIP + 2 : 0);
    const domain = bounded ? ([0, 1] as [number, number]) : paddedDomain(envelopeExtent([env]));
    const y = scaleLinear().domain(domain).range([plotBottom, plotTop]);
    select(axis).call(
      axisLeft(y)
        .ticks(bounded ? 2 : 3)
        .tickSize(3)
        .tickSizeOuter(0),
    );
    if (!ctx || geom.width <= 0) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, geom.width, plotBottom + 1);
    ctx.clip();
    strokeEnvelope(ctx, env, geom, (v) => y(v), LINE_COLOR, 1.75);
    ctx.restore();
    if (wrong) markColumns(ctx, env, wrong, geom, 0, 5, WRONG_COLOR);
    if (badCols) markColumns(ctx, env, badCols, geom, plotBottom - 4, 4, NAN_COLOR);
    const pred = p.predicted;
    if (pred) {
      // predicted class strip: one rect per column, the column's middle step
      for (let i = 0; i < env.n; i++) {
        const mid = (env.start[i] + env.start[i + 1] - 1) >> 1;
        const k = pred[off + mid];
        if (!Number.isFinite(k)) continue;
        // whole pixels: adjacent steps share their edge (no anti-aliased seams)
        const [x0, x1] = spanPx(env.start[i], env.start[i + 1], geom).map(Math.round);
        if (x1 <= x0) continue; // a step outside the window
        ctx.fillStyle = classColor(k);
        ctx.fillRect(x0, geom.height - STRIP, x1 - x0, STRIP);
      }
    }
    shadePadding(ctx, validSteps(s.sample), geom, 0, geom.height);
    refresh?.();
  };

  const modeText = modeLabel(p.mode);
  const track = createTrack(container, store, payload, {
    name: "confidence",
    title: `prediction · ${modeText} · ${p.task}${p.sourceLayer ? ` (from ${p.sourceLayer})` : ""}`,
    height: HEIGHT,
    draw,
  });
  track.yAxis.append(axis);
  if (p.reason) track.root.title = p.reason;

  // side: what the line is, the class at the cursor, the legend of the marks
  const side = track.side;
  const line = keyRow(side, LINE_COLOR, bounded ? "confidence" : p.task === "regression" ? "value" : "output", "line");
  line.title = confidenceLabel(p.task);
  const readout = createReadout(track);
  const cls = html("div", "lstmviz-key-class");
  side.append(cls);
  if (p.mispredicted) keyRow(side, WRONG_COLOR, "wrong", "tick");
  if (p.predicted) side.append(html("div", "lstmviz-key-note", "strip: class"));

  const updateCursor = (): void => {
    const s = store.state;
    const i = s.sample * T + s.timestep;
    const name = bounded ? confidenceLabel(p.task) : "value";
    readout.set([{ name, color: LINE_COLOR, value: shortValue(p.confidence[i]) }]);
    const padded = s.timestep >= validSteps(s.sample);
    if (p.predicted) {
      const k = p.predicted[i];
      const wrong = p.mispredicted?.[i] === 1 ? " ✗" : "";
      setText(cls, `class ${Number.isFinite(k) ? k : "?"}${wrong}${padded ? " (pad)" : ""}`);
      cls.classList.toggle("wrong", p.mispredicted?.[i] === 1);
    } else {
      setText(cls, padded ? "(padding)" : "");
    }
    if (cls.hidden !== (cls.textContent === "")) cls.hidden = cls.textContent === "";
  };
  updateCursor();
  refresh = updateCursor;
  const life = createLifecycle(store);
  life.onDispose(() => track.destroy());
  life.subscribe((_s, changed) => {
    if (changed.has("timestep") || changed.has("sample")) updateCursor();
  });
  return life.dispose;
}
