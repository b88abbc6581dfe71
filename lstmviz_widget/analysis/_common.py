"""Shared plumbing: resolving a LayerCapture or plain arrays, masks, pooled moments.

Pooled statistics walk the batch in chunks of samples, so a (32, 1000, 512) capture never
needs a float64 copy of itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..data import LayerCapture

#: Elements per chunk when pooling over samples (4 Mi values: 16 MB float32, 32 MB float64).
CHUNK_ELEMENTS = 1 << 22


def mask_from_lengths(lengths: Any, n_steps: int) -> np.ndarray:
    """Boolean (B, T) mask that is True on the first ``lengths[b]`` steps of each sample.

    Parameters
    ----------
    lengths : array_like of int, (B,)
        Number of steps carrying data in each sample (``Capture.lengths``).
    n_steps : int
        Number of timesteps T after padding.

    Returns
    -------
    ndarray of bool, (B, T)
        Use it as ``mask=`` for post-padded sequences processed without a Keras mask.
    """
    n: np.ndarray = np.asarray(lengths)
    if n.ndim != 1:
        raise ValueError(f"lengths must be one-dimensional (B,), got shape {n.shape}")
    return np.arange(int(n_steps))[None, :] < n[:, None]


def resolve(
    source: Any, mask: Any = None, state: str = "h"
) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, mask) from a LayerCapture (its ``state`` array — "h", "c" or "gate:<name>", the
    explorer's quantities — and own mask) or a (B, T, U) array.

    An explicit ``mask`` overrides the capture's own.
    """
    if isinstance(source, LayerCapture):
        gates = [f"gate:{g}" for g in source.gates]
        if state not in ("h", "c", *gates):
            raise ValueError(f"state must be one of {['h', 'c', *gates]}, got {state!r}")
        x: Any = source.h if state == "h" else source.c
        if state.startswith("gate:"):
            x = source.gates[state[len("gate:") :]]
        if x is None:
            raise ValueError(f"{source.kind} layer {source.name!r} has no cell state c")
        if mask is None:
            mask = source.mask
    else:
        x = source
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected a (B, T, U) array, got shape {x.shape}")
    return x, check_mask(mask, x.shape[:2])


def check_mask(mask: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """Validate a (B, T) mask; None stays None (every step valid)."""
    if mask is None:
        return None
    m: np.ndarray = np.asarray(mask)
    if m.shape != tuple(shape):
        raise ValueError(f"mask must have shape {tuple(shape)} (B, T), got {m.shape}")
    return m.astype(bool, copy=False)


def full_mask(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """The mask, or all-True when None."""
    return np.ones(shape, dtype=bool) if mask is None else mask


def work_dtype(x: np.ndarray) -> type:
    """float64 for float64 input, else float32 (the precision chunks are computed in)."""
    return np.float64 if x.dtype == np.float64 else np.float32


def sample_chunks(x: np.ndarray) -> Iterator[slice]:
    """Slices over the sample axis of about ``CHUNK_ELEMENTS`` elements each."""
    per_sample = max(1, int(np.prod(x.shape[1:])))
    step = max(1, CHUNK_ELEMENTS // per_sample)
    for b0 in range(0, x.shape[0], step):
        yield slice(b0, min(b0 + step, x.shape[0]))


def valid_rows(x: np.ndarray, mask: np.ndarray | None, sl: slice) -> np.ndarray:
    """The valid steps of samples ``sl`` as rows, (n, U), in the working precision."""
    part = x[sl]
    rows = part.reshape(-1, part.shape[-1]) if mask is None else part[mask[sl]]
    return rows.astype(work_dtype(x), copy=False)


def pooled_mean(x: np.ndarray, mask: np.ndarray | None) -> tuple[int, np.ndarray]:
    """Number of valid steps and per-unit mean (float64) over all samples and valid steps."""
    n, total = 0, np.zeros(x.shape[-1])
    for sl in sample_chunks(x):
        rows = valid_rows(x, mask, sl)
        n += rows.shape[0]
        total += rows.sum(axis=0, dtype=np.float64)
    return n, total / max(n, 1)


def pooled_variance(
    x: np.ndarray, mask: np.ndarray | None, ddof: int = 0
) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, mean, var) per unit over all samples and valid steps, two passes, float64."""
    n, mean = pooled_mean(x, mask)
    ss = np.zeros(x.shape[-1])
    for sl in sample_chunks(x):
        rows = valid_rows(x, mask, sl) - mean.astype(work_dtype(x))
        ss += np.einsum("nu,nu->u", rows, rows, dtype=np.float64)
    var = ss / (n - ddof) if n > ddof else np.full(x.shape[-1], np.nan)
    return n, mean, var


def pooled_scatter(x: np.ndarray, mask: np.ndarray | None) -> tuple[int, np.ndarray, np.ndarray]:
    """(n, mean, S) with S = Σ (x − mean)ᵀ(x − mean) over valid steps, (U, U) float64.

    Each chunk's product runs in the input's precision; the sum is accumulated in float64.
    """
    n, mean = pooled_mean(x, mask)
    u = x.shape[-1]
    scatter = np.zeros((u, u))
    for sl in sample_chunks(x):
        rows = valid_rows(x, mask, sl) - mean.astype(work_dtype(x))
        scatter += rows.T @ rows
    return n, mean, scatter


def per_sample_moments(
    x: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sample and unit: (count (B,), mean (B, U), variance (B, U)) over valid steps.

    float64, population variance (ddof 0); NaN where a sample has no valid step.
    """
    b, _, u = x.shape
    count = np.full(b, x.shape[1]) if mask is None else mask.sum(axis=1)
    mean = np.full((b, u), np.nan)
    var = np.full((b, u), np.nan)
    for sl in sample_chunks(x):
        n = count[sl][:, None]
        s1 = np.zeros((sl.stop - sl.start, u))
        s2 = np.zeros_like(s1)
        with np.errstate(invalid="ignore", divide="ignore"):
            for part, w in _time_chunks(x, mask, sl):
                s1 += np.sum(part, axis=1, where=w, dtype=np.float64)
            m = s1 / n
            for part, w in _time_chunks(x, mask, sl):
                centred = part - m[:, None, :].astype(part.dtype)
                s2 += np.sum(centred * centred, axis=1, where=w, dtype=np.float64)
            v = s2 / n
        ok = n[:, 0] > 0
        mean[sl][ok], var[sl][ok] = m[ok], v[ok]
    return count, mean, var


def time_chunks(x: np.ndarray, sl: slice) -> Iterator[slice]:
    """Slices over the time axis so that samples ``sl`` × a slice hold about
    ``CHUNK_ELEMENTS`` elements (one slice of all steps when the samples fit: a long sequence
    never needs a temporary of its own size)."""
    per_step = max(1, (sl.stop - sl.start) * int(np.prod(x.shape[2:])))
    step = max(1, CHUNK_ELEMENTS // per_step)
    for t0 in range(0, x.shape[1], step):
        yield slice(t0, min(t0 + step, x.shape[1]))


def _time_chunks(
    x: np.ndarray, mask: np.ndarray | None, sl: slice
) -> Iterator[tuple[np.ndarray, Any]]:
    for ts in time_chunks(x, sl):
        part: np.ndarray = x[sl, ts].astype(work_dtype(x), copy=False)
        yield part, (True if mask is None else mask[sl, ts][..., None])
