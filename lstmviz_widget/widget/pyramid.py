"""The level maths and tile encoding of the tiled explorer (numpy only; used by tiles.py).

Level k of an array along time keeps, per bucket of 2^k steps and per column, the min and the
max (NaN wins, ±Inf survive); level 0 is the data itself. A tile is TILE_STEPS consecutive
buckets of one level. Level 0 travels as exact float32, levels ≥ 1 as float16 of value/scale
with one scale per tile (error ≤ scale·2^-11). Contract: docs/widget-contract.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Buckets per tile.
TILE_STEPS = 512
#: The initial level is the finest whose bucket count fits this many columns.
INITIAL_COLUMNS = 2048


def max_level(n_steps: int) -> int:
    """K = ceil(log2 T) (0 for T ≤ 1): level K has one bucket."""
    return max(int(n_steps) - 1, 0).bit_length()


def n_buckets(n_steps: int, level: int) -> int:
    """Buckets of level ``level``: ceil(T / 2^level)."""
    return -(-int(n_steps) // (1 << level))


def n_tiles(n_steps: int, level: int) -> int:
    """Tiles of one level: ceil(buckets / 512)."""
    return -(-n_buckets(n_steps, level) // TILE_STEPS)


def initial_level(n_steps: int) -> int:
    """k0: the smallest k with ceil(T / 2^k) ≤ 2048."""
    k = 0
    while n_buckets(n_steps, k) > INITIAL_COLUMNS:
        k += 1
    return k


def bins(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of consecutive buckets of ``size`` rows of ``x`` (n, W); the last bucket
    may be shorter. One reshape-reduce over the full buckets, no Python loop."""
    n = x.shape[0]
    full = n // size * size
    parts_lo, parts_hi = [], []
    if full:
        r = x[:full].reshape(full // size, size, *x.shape[1:])
        parts_lo.append(r.min(axis=1))
        parts_hi.append(r.max(axis=1))
    if full < n:
        parts_lo.append(x[full:].min(axis=0, keepdims=True))
        parts_hi.append(x[full:].max(axis=0, keepdims=True))
    if len(parts_lo) == 1:
        return parts_lo[0], parts_hi[0]
    return np.concatenate(parts_lo), np.concatenate(parts_hi)


def coarser(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The next level from one level: pairs of buckets merged (np.minimum/np.maximum
    propagate NaN, so NaN still wins)."""
    n = lo.shape[0] // 2 * 2
    lo2 = np.minimum(lo[0:n:2], lo[1:n:2])
    hi2 = np.maximum(hi[0:n:2], hi[1:n:2])
    if n < lo.shape[0]:
        lo2 = np.concatenate([lo2, lo[n:]])
        hi2 = np.concatenate([hi2, hi[n:]])
    return lo2, hi2


def encode_level0(values: np.ndarray) -> dict[str, Any]:
    """Level 0: the exact float32 values."""
    a = np.ascontiguousarray(values, dtype="<f4")
    return {"dtype": "float32", "shape": list(a.shape), "data": a.data.cast("B")}


def tile_scale(lo: np.ndarray, hi: np.ndarray) -> float:
    """max |finite| over lo and hi; 1 when none is finite or it is 0."""
    m = 0.0
    for a in (lo, hi):
        fin = np.abs(a[np.isfinite(a)])
        if fin.size:
            m = max(m, float(fin.max()))
    return m if m > 0 else 1.0


def encode_scaled(a: np.ndarray, scale: float) -> dict[str, Any]:
    """float16 of a/scale (division in float64, one rounding): |decoded − a| ≤ scale·2^-11."""
    q = np.ascontiguousarray(np.asarray(a, np.float64) / scale, dtype="<f2")
    return {"dtype": "float16", "shape": list(q.shape), "data": q.data.cast("B"), "scale": scale}
