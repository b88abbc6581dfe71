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

/** Observe an element's size; a no-op where ResizeObserver is missing (jsdom). */
export function observeResize(el: Element, onResize: () => void): () => void {
  if (typeof ResizeObserver === "undefined") return () => {};
  let lastW = -1;
  let lastH = -1;
  const ro = new ResizeObserver((entries) => {
    const r = entries[entries.length - 1]?.contentRect;
    if (!r || (r.width === lastW && r.height === lastH)) return;
    lastW = r.width;
    lastH = r.height;
    onResize();
  });
  ro.observe(el);
  return () => ro.disconnect();
}
