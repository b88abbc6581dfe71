/**
 * Mounts the explorer: decodes `_data` once, builds the store, links it to the model and
 * creates the views (each talks only to the store). Returns one cleanup for all of it.
 */
import { decodePayload, findLayer, type DecodedPayload } from "./codecs";
import { html } from "./render/dom";
import { attachKeyboard } from "./keyboard";
import { clamp, clampWindow, windowFollowing } from "./math/layout";
import type { ModelTraits } from "./model";
import { attachPlayer, defaultSpeed } from "./player";
import { connectModel, SORT_MODES, stateFromModel, Store, type SyncModel, type ViewState } from "./store";
import { createAttention } from "./views/attention";
import { createConfidence } from "./views/confidence";
import { createControls } from "./views/controls";
import { createDownload } from "./views/download";
import { editorFor } from "./views/edit";
import { createGateLines } from "./views/gatelines";
import { createGates } from "./views/gates";
import { createGradients } from "./views/gradients";
import { createHealth } from "./views/health";
import { createHeatmap } from "./views/heatmap";
import { createInputTrack } from "./views/input";
import { matchesView } from "./views/matches";
import { createMemoryFlow } from "./views/memory";
import { createTrajectory } from "./views/trajectory";
import { createScatter } from "./views/scatter";
import { createSlider } from "./views/slider";
import { createVector } from "./views/vector";
import { createWeights } from "./views/weights";
import { isTiled } from "./tiles/payload";
import { mountTiledExplorer, type TiledModel } from "./tiled-explorer";

/**
 * A view: builds itself inside `container` and returns its cleanup, or null when the payload
 * has nothing for it (views without data are absent, not empty boxes).
 */
export type ViewFactory = (container: HTMLElement, store: Store, payload: DecodedPayload) => (() => void) | null;

/** Make any state valid for this payload (known layer and quantity, indices in range). */
export function makeNormalizer(p: DecodedPayload): (s: ViewState) => ViewState {
  return (s) => {
    const layer = findLayer(p, s.layer);
    const U = layer.units;
    const int = (v: unknown): number => {
      const n = Math.round(Number(v));
      return Number.isFinite(n) ? n : 0;
    };
    const seen = new Set<number>();
    const selectedUnits: number[] = [];
    for (const u of s.selectedUnits) {
      if (Number.isInteger(u) && u >= 0 && u < U && !seen.has(u)) {
        seen.add(u);
        selectedUnits.push(u);
      }
    }
    const hover = s.hoverUnit;
    let brush: [number, number] | null = null;
    if (s.brush && Number.isFinite(s.brush[0]) && Number.isFinite(s.brush[1])) {
      const b0 = clamp(Math.round(Math.min(...s.brush)), 0, p.nSteps);
      const b1 = clamp(Math.round(Math.max(...s.brush)), 0, p.nSteps);
      brush = b1 > b0 ? [b0, b1] : null;
    }
    return {
      timestep: clamp(int(s.timestep), 0, p.nSteps - 1),
      sample: clamp(int(s.sample), 0, p.nSamples - 1),
      layer: layer.name,
      quantity: layer.arrays.has(s.quantity) ? s.quantity : "h",
      selectedUnits,
      epoch: clamp(int(s.epoch), 0, (p.epochs?.length ?? 1) - 1),
      hoverUnit: hover !== null && Number.isInteger(hover) && hover >= 0 && hover < U ? hover : null,
      window: clampWindow(s.window, p.nSteps),
      brush,
      sortMode: SORT_MODES.includes(s.sortMode) ? s.sortMode : "natural",
      playing: s.playing === true,
      playSpeed: Number.isFinite(s.playSpeed) && s.playSpeed > 0 ? s.playSpeed : defaultSpeed(p.nSteps),
    };
  };
}

export interface ExplorerModel extends SyncModel {
  get(key: "_data"): ModelTraits["_data"];
  get(key: string): unknown;
}

/**
 * Render the explorer into `el`. Throws (after undoing what it built) when the payload cannot
 * be decoded; later errors in views go to `onFatal`.
 */
export function mountExplorer(el: HTMLElement, model: ExplorerModel, onFatal: (err: unknown) => void): () => void {
  // A long capture: tiles on demand (js/tiled-explorer.ts).
  if (isTiled(model.get("_data"))) return mountTiledExplorer(el, model as unknown as TiledModel, onFatal);
  const payload = decodePayload(model.get("_data"));
  const cleanups: Array<() => void> = [];
  const cleanup = (): void => {
    while (cleanups.length) {
      const fn = cleanups.pop() as () => void;
      try {
        fn();
      } catch (err) {
        console.error("lstmviz: cleanup failed", err);
      }
    }
  };
  try {
    const root = html("div", "lstmviz");
    root.tabIndex = 0;
    // Lumino (JupyterLab, Notebook 7) matches keyboard shortcuts in the capture phase at the
    // document and stops the event there (Notebook 7 binds the arrow keys); this attribute
    // makes it skip events aimed inside the explorer, so ←/→/Home/End reach our handler.
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.setAttribute("role", "group");
    root.setAttribute(
      "aria-label",
      `LSTM explorer of ${payload.modelName || "a model"}: ←/→ move the cursor (Shift: 10 steps), ` +
        "Home/End, +/− zoom, 0 resets the zoom, Space plays, Esc clears the brush",
    );
    el.append(root);
    cleanups.push(() => root.remove());

    const store = new Store(
      {
        ...stateFromModel(model),
        hoverUnit: null,
        window: [0, payload.nSteps],
        brush: null,
        sortMode: "natural",
        playing: false,
        playSpeed: defaultSpeed(payload.nSteps),
      },
      makeNormalizer(payload),
    );
    cleanups.push(() => store.clear());
    cleanups.push(store.onError(onFatal));
    cleanups.push(connectModel(store, model));

    root.dataset.timestep = String(store.state.timestep);
    cleanups.push(
      store.subscribe((s, changed) => {
        if (!changed.has("timestep")) return;
        root.dataset.timestep = String(s.timestep);
        // The zoom window follows the cursor (keys, slider, play, Python).
        const win = windowFollowing(s.window, s.timestep, payload.nSteps);
        if (win[0] !== s.window[0] || win[1] !== s.window[1]) store.set({ window: win });
      }),
    );
    const mount = (parent: HTMLElement, views: ViewFactory[]): void => {
      for (const view of views) {
        const stop = view(parent, store, payload);
        if (stop) cleanups.push(stop);
      }
    };
    const header = html("div", "lstmviz-toolbar");
    const tracks = html("div", "lstmviz-tracks");
    const cards = html("div", "lstmviz-cards");
    root.append(header, tracks, cards);
    mount(header, [createControls, createDownload, matchesView(model)]);
    mount(header, [editorFor(model)]); // counterfactual edits (js/views/edit.ts)
    mount(tracks, [
      createInputTrack,
      createHeatmap,
      createSlider,
      createGateLines,
      createMemoryFlow,
      createGradients,
      createConfidence,
      createGates,
    ]);
    mount(cards, [createVector, createAttention, createTrajectory, createWeights, createScatter, createHealth]);
    cleanups.push(attachPlayer(store, payload.nSteps));
    cleanups.push(attachKeyboard(root, store, payload.nSteps));
  } catch (err) {
    cleanup();
    throw err;
  }
  return cleanup;
}
