/**
 * Playback of the cursor, driven by the store's UI keys `playing` and `playSpeed` (steps per
 * second): whoever sets `playing` (the toolbar's ▶ button, Space) starts or stops it, and
 * every view shows it from the store.
 *
 * requestAnimationFrame advances the cursor at the chosen speed (several steps per frame at
 * high speeds: the step is computed from the elapsed time, not counted per frame). It stops at
 * the last step (playing at the last step starts again from 0), when anything else moves the
 * cursor (slider, keys, clicks, Python), and on teardown. The timestep reaches Python
 * throttled by the store.
 */
import type { Store } from "./store";

/** Playback speeds offered, in steps per second. */
export const SPEEDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** Default speed: the slowest that plays the whole sequence in about 10 s (at least 5 steps/s). */
export function defaultSpeed(nSteps: number): number {
  const want = Math.max(5, nSteps / 10);
  return SPEEDS.find((v) => v >= want) ?? SPEEDS[SPEEDS.length - 1];
}

/** Cursor position `ms` after playback started at `from`, at `speed` steps/s, capped at `last`. */
export function playPosition(from: number, ms: number, speed: number, last: number): number {
  return Math.min(last, from + Math.floor((Math.max(0, ms) * speed) / 1000));
}

const requestFrame: (cb: () => void) => number =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16) as unknown as number;
const cancelFrame: (id: number) => void =
  typeof cancelAnimationFrame === "function"
    ? (id) => cancelAnimationFrame(id)
    : (id) => clearTimeout(id as unknown as ReturnType<typeof setTimeout>);
const now = (): number => (typeof performance !== "undefined" ? performance.now() : Date.now());

/** Play the cursor through `store` while `store.state.playing`; returns the teardown. */
export function attachPlayer(store: Store, nSteps: number): () => void {
  const last = nSteps - 1;
  let active = false;
  let id: number | null = null;
  let from = 0;
  let start = 0;
  let mine = -1; // the timestep we set last: any other change is someone else scrubbing

  const cancel = (): void => {
    if (id !== null) cancelFrame(id);
    id = null;
  };
  const tick = (): void => {
    id = null;
    if (!active) return;
    const t = playPosition(from, now() - start, store.state.playSpeed, last);
    if (t !== store.state.timestep) {
      mine = t;
      store.set({ timestep: t });
    }
    if (!active) return; // a listener stopped us
    if (t >= last) store.set({ playing: false });
    else id = requestFrame(tick);
  };
  const begin = (): void => {
    const t0 = store.state.timestep >= last ? 0 : store.state.timestep;
    active = true;
    mine = t0;
    from = t0;
    start = now();
    if (t0 !== store.state.timestep) store.set({ timestep: t0 });
    if (active && id === null) id = requestFrame(tick);
  };
  const unsubscribe = store.subscribe((s, changed) => {
    if (changed.has("playing")) {
      if (s.playing && !active) begin();
      else if (!s.playing && active) {
        active = false;
        cancel();
      }
    }
    if (!active) return;
    if (changed.has("timestep") && s.timestep !== mine) {
      store.set({ playing: false });
    } else if (changed.has("playSpeed")) {
      // Keep the cursor where it is and go on at the new speed.
      from = s.timestep;
      start = now();
    }
  });
  if (store.state.playing) begin();
  return () => {
    active = false;
    cancel();
    unsubscribe();
  };
}
