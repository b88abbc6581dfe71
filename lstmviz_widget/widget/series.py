"""Derived per-step series of a layer for the tiled explorer's line tracks (numpy only).

The untiled explorer computes its gate lines and memory-flow track in the browser from the
whole arrays (js/math/gates.ts, js/math/flow.ts). A long capture never sends those arrays, so
the same per-step numbers are computed here, once per (layer, series) on first request, a time
chunk at a time (no (B, T, U) float64 temporary at 1,000,000 steps), and tiled like any array:

- ``gate means`` and ``gate spread``: per gate, the mean and the standard deviation over units
  at each step (the untiled gate lines' line and ±1 sd band), (B, T, G) each;
- ``memory flow``: mean |carried| and mean |written| over units (analysis.memory
  ``MemoryFlow.step_means``, the same definition), (B, T, 2); LSTM and GRU only;
- the PCA trajectory, key ``<layer>|pca``: h on its first ≤ 3 principal components
  (analysis.pca, pooled over samples and valid steps), (B, T, k); the trajectory card draws a
  level-of-detail path through its tiles.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..analysis.memory import gru_memory_flow, lstm_memory_flow
from ..data import LayerCapture

#: Steps per chunk: ~4 Mi values of the widest array.
CHUNK_VALUES = 1 << 22


def _chunks(n_steps: int, width: int, n_samples: int) -> range:
    step = max(1, CHUNK_VALUES // max(1, width * n_samples))
    return range(0, n_steps, step)


def gate_means(lc: LayerCapture, stat: str = "mean") -> np.ndarray:
    """(B, T, G) float32: each gate's mean (or standard deviation, ``stat="sd"``) over units per
    step (NaN where a step holds a NaN)."""
    names = list(lc.gates)
    b, t, u = lc.h.shape
    out = np.empty((b, t, len(names)), np.float32)
    step = _chunks(t, u, b).step
    reduce = np.mean if stat == "mean" else np.std
    for s in range(0, t, step):
        sl = slice(s, s + step)
        for j, g in enumerate(names):
            out[:, sl, j] = reduce(lc.gates[g][:, sl], axis=-1, dtype=np.float64)
    return out


def memory_flow_means(lc: LayerCapture) -> np.ndarray:
    """(B, T, 2) float32: mean |carried| and mean |written| over units per step."""
    b, t, u = lc.h.shape
    out = np.empty((b, t, 2), np.float32)
    step = _chunks(t, u, b).step
    for s in range(0, t, step):
        sl = slice(s, s + step)
        mask = None if lc.mask is None else lc.mask[:, sl]
        if lc.kind == "LSTM":
            assert lc.c is not None
            flow = lstm_memory_flow(
                lc.c[:, sl], lc.gates["input"][:, sl], lc.gates["cell"][:, sl], mask=mask
            )
        else:
            flow = gru_memory_flow(
                lc.h[:, sl], lc.gates["update"][:, sl], lc.gates["candidate"][:, sl], mask=mask
            )
        carried, written = flow.step_means()
        out[:, sl, 0] = carried
        out[:, sl, 1] = written
    return out


def pca_projection(lc: LayerCapture) -> np.ndarray:
    """(B, T, k ≤ 3) float32: h projected on its first principal components (analysis.pca)."""
    from ..analysis.pca import pca

    n_valid = int(lc.mask.sum()) if lc.mask is not None else lc.h.shape[0] * lc.h.shape[1]
    res = pca(lc, k=min(3, lc.units, max(1, n_valid)))
    return np.asarray(res.projection, np.float32)


def trajectory_spec(lc: LayerCapture) -> tuple[list[str], Callable[[], np.ndarray]]:
    """Labels and computation of the tiled PCA trajectory key ``<layer>|pca``."""
    k = min(3, lc.units)
    return [f"PC{i + 1}" for i in range(k)], lambda: pca_projection(lc)


def layer_series(lc: LayerCapture) -> dict[str, tuple[list[str], Callable[[], np.ndarray]]]:
    """Name → (column labels, how to compute the (B, T, W) array) for one layer."""
    out: dict[str, tuple[list[str], Callable[[], np.ndarray]]] = {}
    if lc.gates:
        out["gate means"] = (list(lc.gates), lambda: gate_means(lc))
        out["gate spread"] = (list(lc.gates), lambda: gate_means(lc, "sd"))
    has_flow = (lc.kind == "LSTM" and lc.c is not None and {"input", "cell"} <= set(lc.gates)) or (
        lc.kind == "GRU" and {"update", "candidate"} <= set(lc.gates)
    )
    if has_flow:
        out["memory flow"] = (["carried", "written"], lambda: memory_flow_means(lc))
    return out
