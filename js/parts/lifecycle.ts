/**
 * The lifecycle every view shares: one animation frame for its draw, and everything it
 * listens to (DOM events, the store, resizes, theme changes) undone by one `dispose()`.
 *
 *   const life = createLifecycle(store, draw);
 *   life.listen(plot, "pointermove", onMove);
 *   life.subscribe((s, changed) => { if (changed.has("sample")) { dirty = true; life.frame.schedule(); } });
 *   life.onResize(plot, (w) => { plotWidth = w; dirtyLayout = true; });   // then one frame
 *   life.onTheme(root, () => { dirtyPaint = true; });                     // then one frame
 *   return life.dispose;
 *
 * DOM listeners go through an AbortController (one abort removes them all); other teardowns
 * run in reverse order of registration, the frame is cancelled first.
 */
import { createFrame, observeResize, type Frame } from "../render/raf";
import { onThemeChange } from "../render/theme";
import type { Listener, Store } from "../store";

export interface Lifecycle {
  /** The view's frame: any number of schedule()/soon() calls draw once. */
  readonly frame: Frame;
  /** Aborted by dispose(). */
  readonly signal: AbortSignal;
  /** `target.addEventListener(type, fn)` until dispose(). */
  listen<K extends keyof GlobalEventHandlersEventMap>(
    target: HTMLElement | SVGElement,
    type: K,
    fn: (e: GlobalEventHandlersEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void;
  /** Store changes until dispose(). */
  subscribe(fn: Listener): void;
  /** `fn(width)` on every width change of `el` (ResizeObserver), then one frame. */
  onResize(el: Element, fn: (width: number) => void): void;
  /** `fn()` when the explorer's theme changes (light/dark), then one frame. */
  onTheme(el: Element, fn?: () => void): void;
  /** Run `fn` on dispose() (after the listeners are gone; the last added runs first). */
  onDispose(fn: () => void): void;
  /** Undo everything (idempotent). */
  dispose(): void;
}

/** `draw`: what the frame draws (views that redraw synchronously pass none). */
export function createLifecycle(store: Store, draw: () => void = () => {}): Lifecycle {
  const frame = createFrame(draw, (e) => store.reportError(e));
  const abort = new AbortController();
  const teardowns: Array<() => void> = [];
  let disposed = false;
  const life: Lifecycle = {
    frame,
    signal: abort.signal,
    listen(target, type, fn, options) {
      target.addEventListener(type, fn as EventListener, { ...options, signal: abort.signal });
    },
    subscribe(fn) {
      teardowns.push(store.subscribe(fn));
    },
    onResize(el, fn) {
      teardowns.push(
        observeResize(el, (w) => {
          fn(w);
          frame.schedule();
        }),
      );
    },
    onTheme(el, fn) {
      teardowns.push(
        onThemeChange(el, () => {
          fn?.();
          frame.schedule();
        }),
      );
    },
    onDispose(fn) {
      teardowns.push(fn);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      frame.cancel();
      abort.abort();
      while (teardowns.length) (teardowns.pop() as () => void)();
    },
  };
  return life;
}
