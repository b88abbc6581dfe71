/** Pure rasterisation of one (sample, quantity) into RGBA pixels: rows = units, columns = t. */
import { LUT_SIZE, NAN_RGB, type ColorScale } from "./scales";

/**
 * Fill `out` (RGBA, T × U pixels, row-major: pixel (t, u) at (u·T + t)·4) with the colours of
 * `data[sample, :, :]` where `data` is a (B, T, U) C-order array. NaN/±Inf get NAN_RGB.
 */
export function rasterize(
  out: Uint8ClampedArray,
  data: Float32Array,
  sample: number,
  nSteps: number,
  units: number,
  scale: ColorScale,
): void {
  if (out.length !== nSteps * units * 4) {
    throw new Error(`rasterize: ${out.length} bytes for ${nSteps}×${units} pixels`);
  }
  const lut = scale.lut;
  const [d0, d1] = scale.domain;
  const k = d1 === d0 ? 0 : (LUT_SIZE - 1) / (d1 - d0);
  const base = sample * nSteps * units;
  const [nr, ng, nb] = NAN_RGB;
  for (let t = 0; t < nSteps; t++) {
    const row = base + t * units;
    for (let u = 0; u < units; u++) {
      const v = data[row + u];
      const p = (u * nSteps + t) * 4;
      if (v - v !== 0) {
        // NaN or ±Inf (v - v is NaN for both)
        out[p] = nr;
        out[p + 1] = ng;
        out[p + 2] = nb;
      } else {
        let i = k === 0 ? (LUT_SIZE - 1) >> 1 : Math.round((v - d0) * k);
        if (i < 0) i = 0;
        else if (i > LUT_SIZE - 1) i = LUT_SIZE - 1;
        out[p] = lut[i * 3];
        out[p + 1] = lut[i * 3 + 1];
        out[p + 2] = lut[i * 3 + 2];
      }
      out[p + 3] = 255;
    }
  }
}

/** Value of a (B, T, U) array at (sample, t, u). */
export function valueAt(data: Float32Array, nSteps: number, units: number, b: number, t: number, u: number): number {
  return data[(b * nSteps + t) * units + u];
}

/** The U values of a (B, T, U) array at (sample, t), as a view (no copy). */
export function vectorAt(data: Float32Array, nSteps: number, units: number, b: number, t: number): Float32Array {
  const start = (b * nSteps + t) * units;
  return data.subarray(start, start + units);
}
