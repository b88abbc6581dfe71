/**
 * The lifecycle of a tiled view (js/views/long-*.ts): parts/lifecycle.ts plus a redraw when
 * tiles (or token labels) arrive. It redraws at the end of the task that changed one of `keys`, one frame after
 * new tiles or a width change (reported to `onWidth`), and on theme changes.
 */
import type { StateKey, Store } from "../store";
import type { TiledData } from "../tiles/source";
import { createLifecycle, type Lifecycle } from "./lifecycle";

export function tiledLifecycle(
  store: Store,
  data: TiledData,
  el: HTMLElement,
  draw: () => void,
  keys: readonly StateKey[],
  onWidth: (width: number) => void,
): Lifecycle {
  const life = createLifecycle(store, draw);
  life.subscribe((_s, changed) => {
    if (keys.some((k) => changed.has(k))) life.frame.soon();
  });
  life.onDispose(data.client.onTiles(() => life.frame.schedule()));
  if (data.tokens) life.onDispose(data.tokens.onTokens(() => life.frame.schedule()));
  life.onResize(el, onWidth);
  life.onTheme(el);
  onWidth(el.clientWidth);
  life.onDispose(() => el.remove());
  life.frame.soon();
  return life;
}
