/**
 * The token strip of a long (tiled) capture (data-view "tokens"), on the heatmap's time axis:
 * zoomed in to at most one token per MIN_PX pixels, each step's label (asked for by window,
 * js/tiles/tokens.ts) at its column, the cursor's in bold; further out a line says to zoom in.
 * Labels are drawn as canvas text (never HTML). dataset: shown (labels drawn), first (the
 * first drawn step's label) — read by the tests.
 */
import { HEATMAP_MARGIN } from "../parts/heatmap/panel";
import { LEGEND_WIDTH } from "../parts/legend";
import { sizeCanvas } from "../parts/card";
import { tiledLifecycle } from "../parts/tiled";
import { html } from "../render/dom";
import type { Store } from "../store";
import type { TiledData } from "../tiles/source";

const H = 22;
/** Least pixels per token for the labels to be drawn. */
export const MIN_PX = 14;

export function createLongTokens(container: HTMLElement, store: Store, data: TiledData): (() => void) | null {
  if (!data.tokens) return null;
  const tokens = data.tokens;
  const root = html("div", "lstmviz-view lstmviz-long-tokens");
  root.dataset.view = "tokens";
  root.style.position = "relative";
  root.style.height = `${H}px`;
  const caption = html("div", "lstmviz-caption", "tokens");
  caption.style.position = "absolute";
  caption.style.fontSize = "10px";
  const canvas = html("canvas", "lstmviz-long-tokens-canvas");
  canvas.style.position = "absolute";
  root.append(caption, canvas);
  container.append(root);
  let rootWidth = 0;

  const draw = (): void => {
    const s = store.state;
    const w = Math.max(0, rootWidth - HEATMAP_MARGIN.left - HEATMAP_MARGIN.right - LEGEND_WIDTH);
    const dpr = sizeCanvas(canvas, HEATMAP_MARGIN.left, 0, Math.max(1, w), H);
    const ctx = canvas.getContext("2d");
    if (!ctx || w <= 0) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, H);
    const [t0, t1] = s.window;
    const per = w / Math.max(1, t1 - t0);
    ctx.font = "10px sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#555";
    if (per < MIN_PX) {
      ctx.textAlign = "left";
      ctx.fillText(`zoom in to read the tokens (${(t1 - t0).toLocaleString("en-US")} steps shown)`, 4, H / 2);
      root.dataset.shown = "0";
      return;
    }
    const labels = tokens.window(s.sample, t0, t1, data.nSteps) ?? [];
    let shown = 0;
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i];
      if (label === undefined) continue;
      const t = t0 + i;
      ctx.font = t === s.timestep ? "bold 10px sans-serif" : "10px sans-serif";
      const x = (i + 0.5) * per;
      ctx.save();
      ctx.beginPath();
      ctx.rect(i * per, 0, per, H);
      ctx.clip();
      ctx.fillText(label, x, H / 2, Math.max(1, per - 2));
      ctx.restore();
      shown++;
    }
    root.dataset.shown = String(shown);
    root.dataset.first = labels[0] ?? "";
  };
  const life = tiledLifecycle(store, data, root, draw, ["window", "sample", "timestep"], (w) => {
    rootWidth = w;
  });
  return life.dispose;
}
