/**
 * Pixels of a composed window (pure): one RGBA32 pixel per (unit row, column), row-major, the
 * colour of each column's extreme (compose.ts `extremeOf`); NaN/±Inf in the NaN colour (as
 * the untiled heatmap),
 * columns no tile covers in MISSING_RGB (light grey: never a blank panel).
 */
import { lut32Of, NAN_RGB, rgba32, type ColorScale } from "../math/scales";
import { type ColumnImage, extremeOf } from "./compose";

export const MISSING_RGB: readonly [number, number, number] = [236, 236, 236];

export function paintColumns(img: ColumnImage, scale: ColorScale): Uint32Array {
  const { cols, width: W } = img;
  const out = new Uint32Array(cols * W);
  const lut = lut32Of(scale.lut);
  const nan = rgba32(NAN_RGB[0], NAN_RGB[1], NAN_RGB[2]);
  const missing = rgba32(MISSING_RGB[0], MISSING_RGB[1], MISSING_RGB[2]);
  const [d0, d1] = scale.domain;
  const mid = scale.kind === "diverging" ? (d0 + d1) / 2 : d0;
  const last = lut.length - 1;
  const k = d1 === d0 ? 0 : last / (d1 - d0);
  for (let c = 0; c < cols; c++) {
    const base = c * W;
    const none = img.levels[c] < 0;
    for (let u = 0; u < W; u++) {
      let px: number;
      if (none) px = missing;
      else {
        const v = extremeOf(img.lo[base + u], img.hi[base + u], mid);
        if (!Number.isFinite(v)) px = nan;
        else {
          const i = d1 === d0 ? last >> 1 : Math.round((v - d0) * k);
          px = lut[i < 0 ? 0 : i > last ? last : i];
        }
      }
      out[u * cols + c] = px;
    }
  }
  return out;
}
