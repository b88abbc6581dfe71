/**
 * Theme colours for canvas drawing: the explorer's CSS custom properties (`--lstmviz-fg`,
 * `--lstmviz-bg`, …, which follow JupyterLab's `--jp-*` theme variables), read once per
 * explorer and cached, so that no draw — least of all a scrub frame — calls getComputedStyle
 * (a read after the frame's DOM writes forces a style recalculation).
 *
 * The cache is keyed by the explorer's root (`div.lstmviz`, or the element itself outside
 * one) and only filled while that element is in the document (a detached element resolves no
 * variable). When the theme may have changed — JupyterLab sets `data-jp-theme-light` /
 * `data-jp-theme-name` on `<body>` and swaps stylesheets in `<head>` — the cached variables of
 * every watched explorer are read again in the next animation frame, and the views of an
 * explorer whose values changed are told (`onThemeChange`) and redraw.
 */

const cache = new WeakMap<Element, Map<string, string>>();

interface Watcher {
  el: Element;
  fn: () => void;
}
const watchers = new Set<Watcher>();

/** The element whose variables stand for `el`'s: its explorer root. */
function keyOf(el: Element): Element {
  return (typeof el.closest === "function" ? el.closest(".lstmviz") : null) ?? el;
}

function read(el: Element, name: string): string {
  try {
    return getComputedStyle(el).getPropertyValue(name).trim();
  } catch {
    return "";
  }
}

/** A theme colour (CSS custom property `name` as resolved on `el`'s explorer), or `fallback`
 *  when unset. Cached: call freely at draw time. */
export function themeVar(el: Element, name: string, fallback: string): string {
  const key = keyOf(el);
  let m = cache.get(key);
  let v = m?.get(name);
  if (v === undefined) {
    v = read(key, name);
    if (key.isConnected) {
      if (!m) {
        m = new Map();
        cache.set(key, m);
      }
      m.set(name, v);
    }
  }
  return v || fallback;
}

/** Forget the cached values of `el`'s explorer (the next `themeVar` reads them again). */
export function resetTheme(el: Element): void {
  cache.delete(keyOf(el));
}

/** Read the cached variables again; tell the watchers of the explorers whose values changed. */
export function recheckTheme(): void {
  const changed = new Set<Element>();
  const seen = new Set<Element>();
  for (const w of watchers) {
    const key = keyOf(w.el);
    if (seen.has(key)) continue;
    seen.add(key);
    const m = cache.get(key);
    if (!m || !key.isConnected) continue;
    for (const [name, old] of m) {
      const v = read(key, name);
      if (v !== old) {
        m.set(name, v);
        changed.add(key);
      }
    }
  }
  if (changed.size === 0) return;
  for (const w of [...watchers]) {
    if (watchers.has(w) && changed.has(keyOf(w.el))) w.fn();
  }
}

// --- what may change the theme ----------------------------------------------------------------

let observer: MutationObserver | null = null;
let pending = false;
const onLoad = (e: Event): void => {
  const t = e.target;
  if (t instanceof Element && (t.tagName === "LINK" || t.tagName === "STYLE")) schedule();
};

function schedule(): void {
  if (pending) return;
  pending = true;
  const run = (): void => {
    pending = false;
    recheckTheme();
  };
  if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
  else setTimeout(run, 16);
}

function start(): void {
  if (observer || typeof MutationObserver === "undefined" || typeof document === "undefined") return;
  observer = new MutationObserver(schedule);
  if (document.body) {
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"],
    });
  }
  if (document.head) observer.observe(document.head, { childList: true });
  document.addEventListener("load", onLoad, true); // stylesheets (<link>) finishing to load
}

function stop(): void {
  observer?.disconnect();
  observer = null;
  if (typeof document !== "undefined") document.removeEventListener("load", onLoad, true);
}

/**
 * Call `fn` when the theme colours of `el`'s explorer change (after a theme switch); returns
 * the unsubscribe function.
 */
export function onThemeChange(el: Element, fn: () => void): () => void {
  const w = { el, fn };
  watchers.add(w);
  start();
  return () => {
    watchers.delete(w);
    if (watchers.size === 0) stop();
  };
}
