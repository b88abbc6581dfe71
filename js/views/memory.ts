/**
 * Memory flow: at each step, how much of the state is carried over from the past and how much
 * is written now (math/flow.ts `splitState`).
 *
 * - LSTM: written = i ⊙ g, carried = c_t − written = f ⊙ c_{t−1}.
 * - GRU: written = (1 − z) ⊙ h̃, carried = h_t − written = z ⊙ h_{t−1}.
 *
 * Lines: mean |carried| and mean |written| over units (with a light fill), plus the selected
 * units' and the hovered unit's own |carried| / |written| (thin; the hovered one outlined).
 * At padded steps the state is held: nothing is written. Absent when no layer is an LSTM/GRU
 * with its gates; hidden for other layers (SimpleRNN).
 */
import { createLifecycle } from "../parts/lifecycle";
import { axisLeft } from "d3-axis";
import { scaleLinear } from "d3-scale";
import { select } from "d3-selection";

import { findLayer, type DecodedLayer, type DecodedPayload } from "../codecs";
import { svg } from "../render/dom";
import { seriesLod, type Envelope } from "../math/lod";
import { cachedFlowStats, flowInputs, writtenAt, type FlowInputs, type FlowStats } from "../math/flow";
import { columns, envelopeExtent } from "../math/columns";
import { fillUnder, markColumns, shadePadding, strokeEnvelope } from "../render/series";
import { themeVar as cssVar } from "../render/theme";
import { NAN_COLOR } from "../math/scales";
import type { Store } from "../store";
import { createTrack, type TrackGeom } from "../parts/track";
import { createReadout, keyNote, keyRow, shortValue, type Readout } from "../parts/readout";
import { shownUnits, unitsNote } from "../selection";

const HEIGHT = 90;
export const CARRIED_COLOR = "#4e79a7";
export const WRITTEN_COLOR = "#f28e2b";

function inputsOf(layer: DecodedLayer): FlowInputs | null {
  return flowInputs(layer.arrays);
}

/** The side column's keys for an LSTM's or a GRU's flow; returns the (empty) units note. */
function flowKeys(side: HTMLElement, kind: "LSTM" | "GRU"): HTMLElement {
  side.replaceChildren();
  const carried = keyRow(side, CARRIED_COLOR, "carried", "line");
  const written = keyRow(side, WRITTEN_COLOR, "written", "line");
  carried.title = kind === "LSTM" ? "f ⊙ c(t−1) = c(t) − i ⊙ g" : "z ⊙ h(t−1) = h(t) − (1 − z) ⊙ h̃";
  written.title = kind === "LSTM" ? "i ⊙ g" : "(1 − z) ⊙ h̃";
  const parts = kind === "LSTM" ? "|f⊙c₋₁| vs |i⊙g|" : "|z⊙h₋₁| vs |(1−z)⊙h̃|";
  keyNote(side, `${parts}, mean over units`);
  return keyNote(side, "");
}

export function createMemoryFlow(container: HTMLElement, store: Store, payload: DecodedPayload): (() => void) | null {
  const T = payload.nSteps;
  if (!payload.layers.some((l) => inputsOf(l) !== null)) return null;
  let track: ReturnType<typeof createTrack> | undefined;
  const axis = svg("g");
  let readout: Readout | null = null;
  let legendKind = "";
  let unitNote: HTMLElement | null = null;
  let cacheKey = "";
  let base: { carried: Envelope; written: Envelope; bad: Uint8Array | null } | null = null;

  const current = (): { layer: DecodedLayer; f: FlowInputs | null; stats: FlowStats | null } => {
    const s = store.state;
    const layer = findLayer(payload, s.layer);
    const f = inputsOf(layer);
    const len = layer.lengths[s.sample] ?? T;
    return { layer, f, stats: f ? cachedFlowStats(f, T, layer.units, s.sample, len) : null };
  };

  const legend = (kind: "LSTM" | "GRU"): void => {
    const side = track?.side;
    if (!side || legendKind === kind) return;
    legendKind = kind;
    unitNote = flowKeys(side, kind);
  };

  const updateValues = (): void => {
    const { stats } = current();
    if (!stats) return;
    const t = store.state.timestep;
    readout?.set([
      { name: "carried", color: CARRIED_COLOR, value: shortValue(stats.carried[t]) },
      { name: "written", color: WRITTEN_COLOR, value: shortValue(stats.written[t]) },
    ]);
  };

  /** Title, legend, readout and visibility (no canvas); false for layers without a flow. */
  const decorate = (): boolean => {
    if (!track) return false;
    const layer = findLayer(payload, store.state.layer);
    const f = inputsOf(layer);
    track.root.hidden = f === null;
    if (!f) return false;
    const dir = layer.direction ? ` (${layer.direction})` : "";
    const stateName = f.kind === "LSTM" ? "c" : "h";
    track.title.textContent = `memory flow · ${layer.name}${dir} · ${stateName}(t) = carried + written`;
    legend(f.kind);
    updateValues();
    return true;
  };

  const draw = (ctx: CanvasRenderingContext2D | null, geom: TrackGeom): void => {
    if (!decorate()) return;
    const s = store.state;
    const { layer, f, stats } = current();
    if (!f || !stats) return;
    const U = layer.units;

    const key = `${layer.name}\u0000${s.sample}\u0000${geom.win[0]}:${geom.win[1]}\u0000${Math.floor(geom.width)}`;
    if (key !== cacheKey || !base) {
      cacheKey = key;
      // min/max pyramids of the per-step means, once: O(columns · log T) per redraw
      const carriedLod = seriesLod(stats.carried, "", () => ({ values: stats.carried, flagged: stats.bad }));
      const carried = columns(carriedLod, geom.win, geom.width, T);
      base = {
        carried,
        written: columns(
          seriesLod(stats.written, "", () => ({ values: stats.written })),
          geom.win,
          geom.width,
          T,
        ),
        bad: carriedLod.bad ? carriedLod.bad.flags(carried) : null,
      };
    }
    // the units' own |carried| / |written| over the window (padded steps: all carried)
    const len = layer.lengths[s.sample] ?? T;
    const units = shownUnits(s.selectedUnits, U);
    const hu = s.hoverUnit !== null && s.hoverUnit < U ? s.hoverUnit : null;
    const unitCols = (u: number): { c: Envelope; w: Envelope } => {
      const at = (t: number): number => (s.sample * T + t) * U + u;
      const w = (t: number): number => (t >= len ? 0 : writtenAt(f, at(t)));
      return {
        c: columns((t) => Math.abs(f.state[at(t)] - w(t)), geom.win, geom.width, T),
        w: columns((t) => Math.abs(w(t)), geom.win, geom.width, T),
      };
    };
    const shown = units.map((u) => ({ u, ...unitCols(u) }));
    const hovered = hu !== null ? { u: hu, ...unitCols(hu) } : null;
    const envs = [base.carried, base.written, ...shown.flatMap((x) => [x.c, x.w])];
    if (hovered) envs.push(hovered.c, hovered.w);
    const ext = envelopeExtent(envs);
    const top = ext && ext[1] > 0 ? ext[1] * 1.05 : 1;
    const y = scaleLinear().domain([0, top]).range([geom.height, 0]);
    select(axis).call(axisLeft(y).ticks(3).tickSize(3).tickSizeOuter(0));

    if (unitNote) {
      const parts: string[] = [];
      const sel = unitsNote(s.selectedUnits, U);
      if (sel) parts.push(sel);
      if (hu !== null) parts.push(`dashed: unit ${hu}`);
      unitNote.textContent = parts.join(" · ");
      unitNote.hidden = parts.length === 0;
    }
    if (!ctx || geom.width <= 0) return;

    // light fills under the means, then the lines
    for (const [env, color] of [
      [base.carried, CARRIED_COLOR],
      [base.written, WRITTEN_COLOR],
    ] as const) {
      ctx.save();
      ctx.globalAlpha = 0.13;
      ctx.fillStyle = color;
      fillUnder(ctx, env, geom, y);
      ctx.restore();
    }
    strokeEnvelope(ctx, base.carried, geom, y, CARRIED_COLOR, 2);
    strokeEnvelope(ctx, base.written, geom, y, WRITTEN_COLOR, 2);
    for (const x of shown) {
      strokeEnvelope(ctx, x.c, geom, y, CARRIED_COLOR, 1);
      strokeEnvelope(ctx, x.w, geom, y, WRITTEN_COLOR, 1);
    }
    if (hovered) {
      const bg = cssVar(track?.root ?? container, "--lstmviz-bg", "#fff");
      for (const [env, color] of [
        [hovered.c, CARRIED_COLOR],
        [hovered.w, WRITTEN_COLOR],
      ] as const) {
        strokeEnvelope(ctx, env, geom, y, bg, 3.5);
        strokeEnvelope(ctx, env, geom, y, color, 1.5, [4, 2]);
      }
    }
    if (base.bad) markColumns(ctx, base.carried, base.bad, geom, geom.height - 4, 4, NAN_COLOR);
    shadePadding(ctx, len, geom, 0, geom.height);
  };

  track = createTrack(container, store, payload, {
    name: "memory",
    title: "memory flow",
    height: HEIGHT,
    redrawOn: ["selectedUnits", "hoverUnit"],
    draw,
  });
  const t = track;
  readout = createReadout(t);
  t.yAxis.append(axis);
  decorate();
  t.invalidate();
  const life = createLifecycle(store);
  life.onDispose(() => t.destroy());
  life.subscribe((_st, changed) => {
    if (changed.has("layer")) decorate();
    if (changed.has("timestep") && !t.root.hidden) updateValues();
  });
  return life.dispose;
}
