/**
 * requestAnimationFrame coalescing: any number of `schedule()` calls before the next frame run
 * `draw` once. Errors go to `onError` (the widget shows them) instead of vanishing.
 */
export interface Frame {
  schedule(): void;
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

export function createFrame(draw: () => void, onError: (err: unknown) => void): Frame {
  let id: number | null = null;
  let dead = false;
  const run = (): void => {
    id = null;
    if (dead) return;
    try {
      draw();
    } catch (err) {
      onError(err);
    }
  };
  return {
    schedule() {
      if (id === null && !dead) id = raf(run);
    },
    flush() {
      if (id !== null) {
        caf(id);
        run();
      }
    },
    cancel() {
      dead = true;
      if (id !== null) caf(id);
      id = null;
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
