/**
 * requestAnimationFrame coalescing: any number of `schedule()` calls before the next frame run
 * `draw` once. Errors go to `onError` (the widget shows them) instead of vanishing.
 */
export interface Frame {
  schedule(): void;
  /**
   * Draw at the end of the current task (a microtask), in the same frame as the change that
   * asked for it, instead of one frame later: for the light per-step redraws (a cursor move
   * from a key, the slider, play, Python), so a step costs one frame, not two. Several calls in
   * one task draw once. The animation frame stays scheduled as a fallback (and for
   * environments whose microtasks the caller does not run, such as fake timers in tests).
   */
  soon(): void;
  /** Run a pending draw now (tests, teardown-free synchronous redraws). */
  flush(): void;
  cancel(): void;
}

const raf: (cb: () => void) => number =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(cb)
    : (cb) => setTimeout(cb, 16) as unknown as number;
const caf: (id: number) => void =
  typeof cancelAnimationFrame === "function"
    ? (id) => cancelAnimationFrame(id)
    : (id) => clearTimeout(id as unknown as ReturnType<typeof setTimeout>);

const microtask: (cb: () => void) => void =
  typeof queueMicrotask === "function" ? queueMicrotask : (cb) => void Promise.resolve().then(cb);

export function createFrame(draw: () => void, onError: (err: unknown) => void): Frame {
  let id: number | null = null;
  let micro = false;
  let dead = false;
  const run = (): void => {
    if (id !== null) caf(id);
    id = null;
    micro = false;
    if (dead) return;
    try {
      draw();
    } catch (err) {
      onError(err);
    }
  };
  const runMicro = (): void => {
    if (micro) run(); // not drawn by the animation frame meanwhile
  };
  return {
    schedule() {
      if (id === null && !dead) id = raf(run);
    },
    soon() {
      if (dead) return;
      if (id === null) id = raf(run);
      if (!micro) {
        micro = true;
        microtask(runMicro);
      }
    },
    flush() {
      if (id !== null || micro) run();
    },
    cancel() {
      dead = true;
      if (id !== null) caf(id);
      id = null;
      micro = false;
    },
  };
}

/**
 * Observe an element's width; a no-op where ResizeObserver is missing (jsdom).
 *
 * Views lay out with the width the observer *reports*, not with `clientWidth` read later:
 * a read in the middle of a theme switch (stylesheets swapped) can see a transient width that
 * the observer never reports, and no later notification would correct it.
 */
export function observeResize(el: Element, onResize: (width: number) => void): () => void {
  if (typeof ResizeObserver === "undefined") return () => {};
  let lastW = -1;
  const ro = new ResizeObserver((entries) => {
    const r = entries[entries.length - 1]?.contentRect;
    if (!r || r.width === lastW) return;
    lastW = r.width;
    onResize(r.width);
  });
  ro.observe(el);
  return () => ro.disconnect();
}
