/** Density binning of many points into a pixel grid (the weight scatter above DENSITY_THRESHOLD points). */

// --- density ----------------------------------------------------------------------------

/** Above this many points the scatter draws a density grid instead of single points. */
export const DENSITY_THRESHOLD = 50_000;

/** One group of points (a gate's weights of one part): x and y of equal length. */
export interface PointSet {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  group: number;
}

export interface DensityGrid {
  nx: number;
  ny: number;
  groups: number;
  /** counts[(g · ny + row) · nx + col]; row 0 is the top of the plot. */
  counts: Uint32Array;
  /** Sum over groups of each cell, (ny · nx). */
  total: Uint32Array;
  /** Largest `total`. */
  max: number;
  /** Points left out: non-finite, or outside the plot. */
  skipped: number;
}

/**
 * Bin points into an nx × ny grid, per group: x over `xDomain` left to right, y over `yDomain`
 * bottom to top (transform y beforehand for a non-linear axis). Non-finite points are skipped,
 * and so are points outside the domains, except that with `clampX` an x beyond the domain goes
 * into the first / last column. A value at the upper end falls into the last cell.
 */
export function binDensity(
  sets: readonly PointSet[],
  groups: number,
  nx: number,
  ny: number,
  xDomain: readonly [number, number],
  yDomain: readonly [number, number],
  clampX = false,
): DensityGrid {
  const counts = new Uint32Array(groups * nx * ny);
  const total = new Uint32Array(nx * ny);
  const [x0, x1] = xDomain;
  const [y0, y1] = yDomain;
  const kx = x1 > x0 ? nx / (x1 - x0) : 0;
  const ky = y1 > y0 ? ny / (y1 - y0) : 0;
  let skipped = 0;
  let max = 0;
  for (const s of sets) {
    const n = Math.min(s.x.length, s.y.length);
    const base = s.group * nx * ny;
    const xs = s.x;
    const ys = s.y;
    for (let i = 0; i < n; i++) {
      let x = xs[i];
      const y = ys[i];
      if (clampX) x = x < x0 ? x0 : x > x1 ? x1 : x; // NaN stays NaN
      if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) {
        skipped++;
        continue;
      }
      let col = Math.floor((x - x0) * kx);
      if (col >= nx) col = nx - 1;
      let row = ny - 1 - Math.floor((y - y0) * ky);
      if (row < 0) row = 0;
      const cell = row * nx + col;
      counts[base + cell]++;
      const t = ++total[cell];
      if (t > max) max = t;
    }
  }
  return { nx, ny, groups, counts, total, max, skipped };
}

/** Opacity of a density cell of `count` points when the densest holds `max`: 0.35 for one
 *  point, 1 for the densest, logarithmic in between. */
export function densityAlpha(count: number, max: number): number {
  if (count <= 0) return 0;
  if (max <= 1) return 1;
  return 0.35 + (0.65 * Math.log1p(count - 1)) / Math.log1p(max - 1);
}

/**
 * Colour a density grid into RGBA pixels (nx × ny): each cell's colour is the mix of its
 * groups' colours weighted by their counts, its opacity grows with log(1 + count) from 35 % (one
 * point) to 100 % (the densest cell); empty cells are transparent.
 */
export function densityToRGBA(
  grid: DensityGrid,
  colors: ReadonlyArray<readonly [number, number, number]>,
  out: Uint8ClampedArray,
): void {
  const { nx, ny, groups, counts, total, max } = grid;
  if (out.length !== nx * ny * 4) throw new Error(`densityToRGBA: ${out.length} bytes for ${nx}×${ny}`);
  const cells = nx * ny;
  for (let cell = 0; cell < cells; cell++) {
    const t = total[cell];
    const p = cell * 4;
    if (t === 0) {
      out[p] = out[p + 1] = out[p + 2] = out[p + 3] = 0;
      continue;
    }
    let r = 0;
    let g = 0;
    let b = 0;
    for (let k = 0; k < groups; k++) {
      const c = counts[k * cells + cell];
      if (c === 0) continue;
      const col = colors[k % colors.length];
      r += c * col[0];
      g += c * col[1];
      b += c * col[2];
    }
    out[p] = r / t;
    out[p + 1] = g / t;
    out[p + 2] = b / t;
    out[p + 3] = Math.round(255 * densityAlpha(t, max));
  }
}
