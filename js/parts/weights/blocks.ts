/**
 * The weights card's blocks (js/views/weights.ts): per gate, the input kernel over the recurrent
 * kernel over the bias strip, each rasterised once per layer at one pixel per weight; where they
 * sit in the plot, how they are painted onto the card, and which cell lies under a point.
 */
import type { DecodedLayer } from "../../codecs";
import { hasNonFinite, makeColorScale, NAN_RGB } from "../../math/scales";
import { matrixDims, rasterizeMatrix, weightDomain, type WeightDomain, type WeightsLayout } from "../../math/weights";
import { context2d, html } from "../../render/dom";
import { themeVar } from "../../render/theme";

/** Margins of the matrices inside the plot (labels left, gate names above, unit axis below). */
export const WEIGHTS_MARGIN = { top: 16, right: 6, bottom: 30, left: 74 } as const;
const M = WEIGHTS_MARGIN;
export const PARTS = ["kernel", "recurrent_kernel", "bias"] as const;
export type Part = (typeof PARTS)[number];

export interface Block {
  gate: string;
  part: Part;
  rows: number;
  image: HTMLCanvasElement | null;
}

/** Everything computed once per layer. */
export interface LayerImages {
  layer: DecodedLayer;
  gates: string[];
  domain: WeightDomain;
  blocks: Map<string, Block>;
  inputs: number;
  biasRows: number;
  nonFinite: boolean;
}

/** A cell of a block: gate panel, part, row, unit. */
export interface Hit {
  gate: string;
  part: Part;
  row: number;
  unit: number;
}

export const blockKey = (gate: string, part: Part): string => `${gate}\u0000${part}`;

/** The layer's blocks, rasterised (when `raster`) into one canvas each; null without weights. */
export function prepareImages(layer: DecodedLayer, raster: boolean): LayerImages | null {
  const w = layer.weights;
  if (!w) return null;
  const gates = [...w.keys()];
  const domain = weightDomain(w);
  const scale = makeColorScale({ kind: "diverging", domain: domain.domain });
  const blocks = new Map<string, Block>();
  let inputs = 0;
  let biasRows = 0;
  let nonFinite = false;
  for (const gate of gates) {
    const parts = w.get(gate) as Map<string, { data: Float32Array; shape: number[] }>;
    for (const part of PARTS) {
      const m = parts.get(part);
      if (!m) continue;
      const [rows, cols] = matrixDims(m);
      if (part === "kernel") inputs = Math.max(inputs, rows);
      if (part === "bias") biasRows = Math.max(biasRows, rows);
      if (!nonFinite && hasNonFinite(m.data)) nonFinite = true;
      let image: HTMLCanvasElement | null = null;
      if (raster && rows > 0 && cols > 0) {
        image = html("canvas");
        image.width = cols;
        image.height = rows;
        const ictx = context2d(image);
        if (ictx) {
          const img = ictx.createImageData(cols, rows);
          rasterizeMatrix(img.data, m.data, scale.lut, domain.domain, NAN_RGB);
          ictx.putImageData(img, 0, 0);
        }
      }
      blocks.set(blockKey(gate, part), { gate, part, rows, image });
    }
  }
  return { layer, gates, domain, blocks, inputs, biasRows, nonFinite };
}

/** y of the top of each block, relative to the plot. */
export function blockTop(g: WeightsLayout, part: Part): number {
  if (part === "kernel") return M.top;
  if (part === "recurrent_kernel") return M.top + g.kernelH + (g.kernelH > 0 ? g.gapY : 0);
  return M.top + g.kernelH + (g.kernelH > 0 ? g.gapY : 0) + g.recurrentH + g.gapY;
}
export const blockH = (g: WeightsLayout, part: Part): number =>
  part === "kernel" ? g.kernelH : part === "recurrent_kernel" ? g.recurrentH : g.biasH;
export const panelX = (g: WeightsLayout, k: number): number => M.left + k * (g.panelW + g.gapX);
export const plotBottom = (g: WeightsLayout): number => blockTop(g, "bias") + g.biasH;

/** Paint every block onto `canvas` (`cssW` CSS px wide), cell gaps where cells are big. */
export function paintBlocks(
  ctx: CanvasRenderingContext2D,
  canvas: HTMLCanvasElement,
  themed: HTMLElement,
  im: LayerImages,
  g: WeightsLayout,
  cssW: number,
): void {
  const dpr = window.devicePixelRatio || 1;
  const cssH = plotBottom(g) + M.bottom;
  const w = Math.max(1, Math.round(cssW * dpr));
  const h = Math.max(1, Math.round(cssH * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const bg = themeVar(themed, "--lstmviz-bg", "#fff");
  const border = themeVar(themed, "--lstmviz-border", "#ddd");
  im.gates.forEach((gate, k) => {
    const x = panelX(g, k);
    for (const part of PARTS) {
      const b = im.blocks.get(blockKey(gate, part));
      const bh = blockH(g, part);
      if (!b || !b.image || bh <= 0) continue;
      const y = blockTop(g, part);
      const rowH = bh / b.rows;
      // several weights per device pixel: average them; otherwise keep cells crisp
      ctx.imageSmoothingEnabled = g.cellW * dpr < 1 || rowH * dpr < 1;
      ctx.imageSmoothingQuality = "high";
      ctx.drawImage(b.image, x, y, g.panelW, bh);
      // thin gaps between cells when they are big enough to tell apart
      ctx.strokeStyle = bg;
      ctx.lineWidth = 1;
      ctx.beginPath();
      if (g.cellW >= 8) {
        for (let u = 1; u < im.layer.units; u++) {
          const xx = Math.round((x + u * g.cellW) * dpr) / dpr + 0.5 / dpr;
          ctx.moveTo(xx, y);
          ctx.lineTo(xx, y + bh);
        }
      }
      if (rowH >= 8) {
        for (let r = 1; r < b.rows; r++) {
          const yy = Math.round((y + r * rowH) * dpr) / dpr + 0.5 / dpr;
          ctx.moveTo(x, yy);
          ctx.lineTo(x + g.panelW, yy);
        }
      }
      ctx.stroke();
      ctx.strokeStyle = border;
      ctx.strokeRect(x - 0.5, y - 0.5, g.panelW + 1, bh + 1);
    }
  });
}

/** The cell at plot point (x, y); the gaps and the unit axis count as the nearest block. */
export function hitBlock(im: LayerImages, g: WeightsLayout, x: number, y: number): Hit | null {
  const U = im.layer.units;
  const k = Math.floor((x - M.left) / (g.panelW + g.gapX));
  if (k < 0 || k >= im.gates.length) return null;
  const xi = x - panelX(g, k);
  if (xi < 0 || xi >= g.panelW || g.cellW <= 0) return null;
  const unit = Math.min(U - 1, Math.floor(xi / g.cellW));
  for (const part of PARTS) {
    const top = blockTop(g, part);
    const h = blockH(g, part);
    const b = im.blocks.get(blockKey(im.gates[k], part));
    if (!b || h <= 0) continue;
    // the gaps between blocks and the unit axis count as the nearest block: the column is what matters
    const slack = part === "bias" ? 16 : g.gapY;
    if (y >= top - (part === "kernel" ? 0 : g.gapY) && y < top + h + slack) {
      const row = Math.max(0, Math.min(b.rows - 1, Math.floor(((y - top) / h) * b.rows)));
      return { gate: im.gates[k], part, row, unit };
    }
  }
  return null;
}
