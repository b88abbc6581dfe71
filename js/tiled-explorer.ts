/**
 * Mounts the explorer of a long capture (a tiled `_data`, issue 13): the same store and model
 * link as explorer.ts, views that read tiles (js/tiles/) instead of whole arrays — heatmap,
 * vector at the cursor, line tracks, toolbar — and a tile client that asks the kernel for what
 * the screen shows (anywidget custom messages with binary buffers). Offline (save_html) the
 * embedded tiles are all there is.
 */
import { html } from "./render/dom";
import { attachKeyboard } from "./keyboard";
import { clamp, clampWindow, windowFollowing } from "./math/layout";
import type { RawBytes } from "./model";
import { attachPlayer, defaultSpeed } from "./player";
import { connectModel, stateFromModel, Store, type SyncModel, type ViewState } from "./store";
import { TileCache } from "./tiles/cache";
import { TileClient, type TileTransport } from "./tiles/client";
import { decodeTiledPayload, findTiledLayer, type TiledPayload } from "./tiles/payload";
import { TiledData } from "./tiles/source";
import { TokenClient } from "./tiles/tokens";
import { createLongControls } from "./views/long-controls";
import { createLongGates } from "./views/long-gates";
import { createLongHeatmap } from "./views/long-heatmap";
import { createLongTokens } from "./views/long-tokens";
import { createLongTracks } from "./views/long-tracks";
import { createLongTrajectory } from "./views/long-trajectory";
import { createLongVector } from "./views/long-vector";
import type { DecodedPayload } from "./codecs";
import type { HealthPayload } from "./model";
import { createHealth } from "./views/health";

export const HEALTH_MESSAGE = "lstmviz-health";
/** How often, and how many times, the explorer asks whether the health findings are ready. */
const HEALTH_POLL_MS = 1000;
const HEALTH_TRIES = 300;

/**
 * The health card of a tiled explorer. Its findings are computed in the kernel after the first
 * render (widget/deferred.py): asked for until ready (an offline copy embeds them), then the
 * untiled health view is mounted on the tiled layers (it reads name, direction, fidelity,
 * health).
 */
function attachHealth(cards: HTMLElement, store: Store, payload: TiledPayload, model: TiledModel): () => void {
  let stop: (() => void) | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let tries = 0;
  let done = false;
  const show = (health: Record<string, HealthPayload | null>): void => {
    done = true;
    const layers = payload.layers.map((l) => ({ ...l, health: health[l.name] ?? null }));
    stop = createHealth(cards, store, { ...payload, layers } as unknown as DecodedPayload);
  };
  const initial = Object.fromEntries(payload.layers.map((l) => [l.name, l.health]));
  if (payload.layers.some((l) => l.health) || payload.tiling.offline) {
    show(initial);
    return () => stop?.();
  }
  const ask = (): void => {
    timer = null;
    if (tries++ < HEALTH_TRIES) model.send({ type: HEALTH_MESSAGE, id: tries });
  };
  const onMsg = (content: unknown): void => {
    const m = content as { type?: unknown; ready?: unknown; layers?: unknown } | null;
    if (!m || m.type !== HEALTH_MESSAGE || done) return;
    if (m.ready === true) show((m.layers ?? {}) as Record<string, HealthPayload | null>);
    else if (timer === null) timer = setTimeout(ask, HEALTH_POLL_MS);
  };
  model.on("msg:custom", onMsg as (...args: never[]) => void);
  ask();
  return () => {
    model.off("msg:custom", onMsg as (...args: never[]) => void);
    if (timer !== null) clearTimeout(timer);
    stop?.();
  };
}

/** What the tiled explorer needs of the anywidget model. */
export interface TiledModel extends SyncModel {
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: string, callback: (...args: never[]) => void): void;
  off(event: string, callback: (...args: never[]) => void): void;
}

export function tiledNormalizer(p: TiledPayload): (s: ViewState) => ViewState {
  return (s) => {
    const layer = findTiledLayer(p, s.layer);
    const int = (v: unknown): number => (Number.isFinite(Math.round(Number(v))) ? Math.round(Number(v)) : 0);
    const U = layer.units;
    return {
      ...s,
      timestep: clamp(int(s.timestep), 0, p.nSteps - 1),
      sample: clamp(int(s.sample), 0, p.nSamples - 1),
      layer: layer.name,
      quantity: layer.arrays.has(s.quantity) ? s.quantity : "h",
      selectedUnits: [...new Set(s.selectedUnits)].filter((u) => Number.isInteger(u) && u >= 0 && u < U),
      epoch: 0,
      hoverUnit: s.hoverUnit !== null && s.hoverUnit >= 0 && s.hoverUnit < U ? s.hoverUnit : null,
      window: clampWindow(s.window, p.nSteps),
      brush: null,
      sortMode: "natural",
      playing: s.playing === true,
      playSpeed: Number.isFinite(s.playSpeed) && s.playSpeed > 0 ? s.playSpeed : defaultSpeed(p.nSteps),
    };
  };
}

function transportOf(model: TiledModel): TileTransport {
  return {
    send: (content) => model.send(content),
    listen: (cb) => {
      const handler = (content: unknown, buffers?: readonly RawBytes[]): void => cb(content, buffers ?? []);
      model.on("msg:custom", handler as (...args: never[]) => void);
      return () => model.off("msg:custom", handler as (...args: never[]) => void);
    },
  };
}

export function mountTiledExplorer(el: HTMLElement, model: TiledModel, onFatal: (err: unknown) => void): () => void {
  const payload = decodeTiledPayload(model.get("_data") as Record<string, unknown>);
  const cleanups: Array<() => void> = [];
  const cleanup = (): void => {
    while (cleanups.length) {
      try {
        (cleanups.pop() as () => void)();
      } catch (err) {
        console.error("lstmviz: cleanup failed", err);
      }
    }
  };
  try {
    const root = html("div", "lstmviz lstmviz-tiled");
    root.tabIndex = 0;
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", `LSTM explorer of ${payload.modelName || "a model"} (long sequence)`);
    el.append(root);
    cleanups.push(() => root.remove());
    const T = payload.nSteps;
    const store = new Store(
      {
        ...stateFromModel(model),
        hoverUnit: null,
        window: [0, T],
        brush: null,
        sortMode: "natural",
        playing: false,
        playSpeed: defaultSpeed(T),
      },
      tiledNormalizer(payload),
    );
    cleanups.push(() => store.clear());
    cleanups.push(store.onError(onFatal));
    cleanups.push(connectModel(store, model));
    const transport = payload.tiling.offline ? null : transportOf(model);
    const client = new TileClient(new TileCache(), transport);
    cleanups.push(() => client.destroy());
    const tokens = payload.tokensOnRequest && transport ? new TokenClient(transport) : null;
    if (tokens) cleanups.push(() => tokens.destroy());
    const data = new TiledData(payload, client, tokens);
    root.dataset.timestep = String(store.state.timestep);
    cleanups.push(
      store.subscribe((s, changed) => {
        if (!changed.has("timestep")) return;
        root.dataset.timestep = String(s.timestep);
        const win = windowFollowing(s.window, s.timestep, T);
        if (win[0] !== s.window[0] || win[1] !== s.window[1]) store.set({ window: win });
      }),
    );
    const header = html("div", "lstmviz-toolbar");
    const tracks = html("div", "lstmviz-tracks");
    const cards = html("div", "lstmviz-cards");
    root.append(header, tracks, cards);
    cleanups.push(createLongControls(header, store, data));
    cleanups.push(createLongHeatmap(tracks, store, data));
    const strip = createLongTokens(tracks, store, data);
    if (strip) cleanups.push(strip);
    const lines = createLongTracks(tracks, store, data);
    if (lines) cleanups.push(lines);
    const gates = createLongGates(tracks, store, data);
    if (gates) cleanups.push(gates);
    cleanups.push(createLongVector(cards, store, data));
    const trajectory = createLongTrajectory(cards, store, data);
    if (trajectory) cleanups.push(trajectory);
    cleanups.push(attachHealth(cards, store, payload, model));
    cleanups.push(attachPlayer(store, T));
    cleanups.push(attachKeyboard(root, store, T));
  } catch (err) {
    cleanup();
    throw err;
  }
  return cleanup;
}
