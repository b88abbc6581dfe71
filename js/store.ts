/**
 * The one cursor/selection store every view reads and writes (pub-sub), and its link to the
 * anywidget model.
 *
 * Views never talk to each other or to the model: they `set` the store and `subscribe` to it.
 * `connectModel` pushes UI changes of the synced keys to Python, throttled (at most one
 * `save_changes` per `delay` ms, the final value always flushed), and applies changes made in
 * Python to the store without echoing them back. `UI_KEYS` (hover, zoom window, brush, sort
 * mode, playback) live in the browser only and are never synced.
 */
import type { SyncedTrait } from "./model";

export interface ViewState {
  timestep: number;
  sample: number;
  layer: string;
  quantity: string;
  selectedUnits: number[];
  /** Index of the training snapshot shown (0 for a single capture). */
  epoch: number;
  /** Unit under the mouse (any view), or null. UI-only, never synced. */
  hoverUnit: number | null;
  /** Visible time range [t0, t1) of every time axis (zoom and pan). UI-only. */
  window: [number, number];
  /** Brushed time range [t0, t1), or null. UI-only. */
  brush: [number, number] | null;
  /** How unit rows are ordered: one of SORT_MODES. UI-only. */
  sortMode: SortMode;
  /** Whether the cursor is playing (js/player.ts moves it). UI-only. */
  playing: boolean;
  /** Playback speed in steps per second (one of player.ts SPEEDS). UI-only. */
  playSpeed: number;
}

/** Unit orders: as in the layer; by variance over the sample; by |value| at the cursor; by
 *  activity inside the brushed range relative to outside it (LSTMVis-style selection). */
export const SORT_MODES = ["natural", "variance", "activation", "brush"] as const;
export type SortMode = (typeof SORT_MODES)[number];

export type StateKey = keyof ViewState;
/** Keys that live only in the browser. */
export type UiKey = "hoverUnit" | "window" | "brush" | "sortMode" | "playing" | "playSpeed";
export const UI_KEYS: readonly UiKey[] = ["hoverUnit", "window", "brush", "sortMode", "playing", "playSpeed"];
/** Who made a change: the UI (pushed to Python) or the model (never echoed back). */
export type Source = "ui" | "model";
export type Listener = (state: Readonly<ViewState>, changed: ReadonlySet<StateKey>, source: Source) => void;
export type ErrorHandler = (err: unknown) => void;

/** Store key → model trait, for the keys that sync with Python. */
export const SYNCED: ReadonlyArray<readonly [Exclude<StateKey, UiKey>, SyncedTrait]> = [
  ["timestep", "timestep"],
  ["sample", "sample"],
  ["layer", "layer"],
  ["quantity", "quantity"],
  ["selectedUnits", "selected_units"],
  ["epoch", "epoch"],
];

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }
  return Object.is(a, b);
}

export class Store {
  private current: ViewState;
  private readonly listeners = new Set<Listener>();
  private readonly errorHandlers = new Set<ErrorHandler>();
  private readonly normalize: (s: ViewState) => ViewState;

  /**
   * @param initial first state (normalized before use)
   * @param normalize makes any state valid (clamps timestep, falls back to a known layer, …)
   */
  constructor(initial: ViewState, normalize: (s: ViewState) => ViewState = (s) => s) {
    this.normalize = normalize;
    this.current = normalize({ ...initial, selectedUnits: [...initial.selectedUnits] });
  }

  get state(): Readonly<ViewState> {
    return this.current;
  }

  /**
   * Merge `patch` into the state and notify subscribers of the keys that really changed.
   * Returns those keys (empty when nothing changed: no notification then).
   */
  set(patch: Partial<ViewState>, source: Source = "ui"): ReadonlySet<StateKey> {
    const next = this.normalize({ ...this.current, ...patch });
    const changed = new Set<StateKey>();
    for (const k of Object.keys(next) as StateKey[]) {
      if (!sameValue(next[k], this.current[k])) changed.add(k);
    }
    if (changed.size === 0) return changed;
    this.current = next;
    for (const fn of [...this.listeners]) {
      if (!this.listeners.has(fn)) continue; // unsubscribed by an earlier listener
      try {
        fn(next, changed, source);
      } catch (err) {
        this.reportError(err);
      }
    }
    return changed;
  }

  /** Call `fn` after every change; returns the unsubscribe function. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  /** Be told about errors thrown by views (listeners, animation frames). */
  onError(fn: ErrorHandler): () => void {
    this.errorHandlers.add(fn);
    return () => {
      this.errorHandlers.delete(fn);
    };
  }

  reportError(err: unknown): void {
    if (this.errorHandlers.size === 0) {
      console.error("lstmviz:", err);
      return;
    }
    for (const fn of [...this.errorHandlers]) fn(err);
  }

  /** Drop every subscriber (used when the widget is torn down). */
  clear(): void {
    this.listeners.clear();
    this.errorHandlers.clear();
  }
}

/** What `connectModel` needs of an anywidget model (AnyModel satisfies it). */
export interface SyncModel {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  on(event: string, callback: () => void): void;
  off(event: string, callback: () => void): void;
}

/** Coerce a trait value from Python into the store's type for `key`. */
export function fromTrait(key: StateKey, value: unknown): unknown {
  switch (key) {
    case "timestep":
    case "sample":
    case "epoch":
      return Number.isFinite(Number(value)) ? Math.trunc(Number(value)) : 0;
    case "layer":
    case "quantity":
      return value === null || value === undefined ? "" : String(value);
    case "selectedUnits":
      return Array.isArray(value) ? value.map(Number).filter(Number.isInteger) : [];
    default:
      return value;
  }
}

/** The synced part of the store's state, read from the model. */
export function stateFromModel(model: SyncModel): Omit<ViewState, UiKey> {
  const out: Record<string, unknown> = {};
  for (const [key, trait] of SYNCED) out[key] = fromTrait(key, model.get(trait));
  return out as Omit<ViewState, UiKey>;
}

export interface ConnectOptions {
  /** Throttle window of the pushes to Python, in ms. */
  delay?: number;
}

/**
 * Link `store` and `model` both ways. Returns a disconnect function that flushes any pending
 * push (so the final value always reaches Python) and removes every listener and timer.
 */
export function connectModel(store: Store, model: SyncModel, options: ConnectOptions = {}): () => void {
  const delay = options.delay ?? 60;
  const pending = new Map<SyncedTrait, unknown>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let applying = false; // true while we write to the model ourselves

  const flush = (): void => {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    if (pending.size === 0) return;
    const entries = [...pending];
    pending.clear();
    applying = true;
    try {
      for (const [trait, value] of entries) {
        model.set(trait, Array.isArray(value) ? [...value] : value);
      }
      model.save_changes();
    } finally {
      applying = false;
    }
  };

  const unsubscribe = store.subscribe((state, changed, source) => {
    if (source !== "ui") return; // changes from Python are never echoed back
    let any = false;
    for (const [key, trait] of SYNCED) {
      if (changed.has(key)) {
        pending.set(trait, state[key]);
        any = true;
      }
    }
    // Trailing throttle: the first change opens a window; everything in it goes out together.
    if (any && timer === null) timer = setTimeout(flush, delay);
  });

  const handlers: Array<[string, () => void]> = SYNCED.map(([key, trait]) => {
    const handler = (): void => {
      if (applying) return;
      pending.delete(trait); // Python's value wins over an unsent UI value
      store.set({ [key]: fromTrait(key, model.get(trait)) } as Partial<ViewState>, "model");
    };
    return [`change:${trait}`, handler];
  });
  for (const [event, handler] of handlers) model.on(event, handler);

  return () => {
    unsubscribe();
    for (const [event, handler] of handlers) model.off(event, handler);
    try {
      flush();
    } catch (err) {
      console.error("lstmviz: could not send the last change to the kernel", err);
    }
  };
}
