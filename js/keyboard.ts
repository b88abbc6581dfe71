/**
 * Keyboard on the explorer's root (tabindex=0): ←/→ move the cursor by 1 (Shift: by 10),
 * Home/End go to 0 / T−1. Selects keep their own arrow keys; on the slider we take over so
 * Shift works there too.
 */
import { keyToTimestep } from "./layout";
import type { Store } from "./store";

export function attachKeyboard(root: HTMLElement, store: Store, nSteps: number): () => void {
  const onKey = (e: KeyboardEvent): void => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target as HTMLElement | null;
    if (target && (target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
    if (target instanceof HTMLInputElement && target.type !== "range") return;
    const t = keyToTimestep(e.key, e.shiftKey, store.state.timestep, nSteps);
    if (t === null) return;
    e.preventDefault();
    e.stopPropagation(); // keep JupyterLab's notebook shortcuts out of it
    store.set({ timestep: t });
  };
  root.addEventListener("keydown", onKey);
  return () => root.removeEventListener("keydown", onKey);
}
