/**
 * Keyboard on the explorer's root (tabindex=0):
 * - ←/→ move the cursor by 1 (Shift: by 10), Home/End go to 0 / T−1;
 * - + (or =) / − zoom the time axis in / out about the cursor, 0 shows every step again;
 * - Space plays / pauses (the store's `playing`, js/player.ts);
 * - Escape clears the brushed time range.
 * Selects and text inputs keep their own keys; on the slider we take over so Shift works
 * there too; a focused button keeps Space and Enter (the browser clicks it).
 */
import { clearBrushPatch } from "./selection";
import { keyToTimestep } from "./math/layout";
import type { Store } from "./store";
import { ZOOM_STEP, zoomAboutCursor } from "./math/zoom";

/** What a key does to the view besides moving the cursor, or null when it is not ours. */
export type KeyAction = "zoom-in" | "zoom-out" | "zoom-reset" | "play" | "clear-brush";

export function keyAction(key: string): KeyAction | null {
  switch (key) {
    case "+":
    case "=":
      return "zoom-in";
    case "-":
    case "_":
    case "\u2212": // − (some layouts)
      return "zoom-out";
    case "0":
      return "zoom-reset";
    case " ":
    case "Spacebar":
      return "play";
    case "Escape":
      return "clear-brush";
    default:
      return null;
  }
}

export function attachKeyboard(root: HTMLElement, store: Store, nSteps: number): () => void {
  const onKey = (e: KeyboardEvent): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
    if (target instanceof HTMLInputElement && target.type !== "range") return;
    const s = store.state;
    const t = keyToTimestep(e.key, e.shiftKey, s.timestep, nSteps);
    if (t !== null) {
      e.preventDefault();
      e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of it
      store.set({ timestep: t });
      return;
    }
    const action = keyAction(e.key);
    if (action === null) return;
    if (action === "play" && target instanceof HTMLButtonElement) return; // the button's own Space
    if (action === "clear-brush" && !s.brush) return; // let Escape do what it does elsewhere
    e.preventDefault();
    e.stopPropagation();
    switch (action) {
      case "zoom-in":
        store.set({ window: zoomAboutCursor(s.window, 1 / ZOOM_STEP, s.timestep, nSteps) });
        break;
      case "zoom-out":
        store.set({ window: zoomAboutCursor(s.window, ZOOM_STEP, s.timestep, nSteps) });
        break;
      case "zoom-reset":
        store.set({ window: [0, nSteps] });
        break;
      case "play":
        store.set({ playing: !s.playing });
        break;
      case "clear-brush":
        store.set(clearBrushPatch(s));
        break;
    }
  };
  root.addEventListener("keydown", onKey);
  return () => root.removeEventListener("keydown", onKey);
}
