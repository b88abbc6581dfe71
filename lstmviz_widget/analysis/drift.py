"""Per-step drift: how far the hidden state jumps at each step, and how unusual the jump is.

Definition
----------
``distance[b, t] = ‖h[b, t] − h[b, t−1]‖₂`` (Euclidean norm over units). At t = 0 it is
measured from ``initial_state`` when one is given, else NaN. At masked steps it is NaN: the
state was carried over, nothing moved. The step after a masked run is compared with the
carried state, i.e. with the last processed step.

``zscore[b, t] = (distance[b, t] − μ_b) / σ_b`` with μ_b, σ_b the mean and standard deviation
(ddof 0) of sample b's own finite distances; with ``robust=True`` μ_b is the median and σ_b
1.4826 × the median absolute deviation. Where σ_b = 0 the z-score is 0; where the distance is
NaN so is the z-score.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import resolve, sample_chunks

#: Scales the median absolute deviation to σ for normal data.
MAD_SCALE = 1.4826


@dataclass
class Drift:
    """Step sizes of the state and their per-sample z-scores.

    Attributes
    ----------
    distance : ndarray, float64, (B, T)
        ‖h_t − h_{t−1}‖₂; NaN at masked steps (and at t = 0 without an initial state).
    zscore : ndarray, float64, (B, T)
        ``distance`` standardised against the sample's own distances.
    center, scale : ndarray, float64, (B,)
        μ_b and σ_b used for the z-scores (NaN for a sample with no finite distance).
    robust : bool
        Whether median / MAD were used.
    """

    distance: np.ndarray
    zscore: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    robust: bool

    def anomalies(self, threshold: float = 3.0) -> np.ndarray:
        """(sample, step) pairs whose z-score exceeds ``threshold``, largest first.

        Parameters
        ----------
        threshold : float
            Minimum z-score.

        Returns
        -------
        ndarray of int, (K, 2)
        """
        z = np.where(np.isfinite(self.zscore), self.zscore, -np.inf)
        b, t = np.nonzero(z > threshold)
        order = np.argsort(-z[b, t], kind="stable")
        return np.stack([b[order], t[order]], axis=1)


def step_distance(
    source: Any, *, mask: Any = None, state: str = "h", initial_state: Any = None
) -> np.ndarray:
    """‖h_t − h_{t−1}‖₂ per sample and step (see the module docstring for the edge cases).

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    initial_state : ndarray, (B, U) or (U,), optional
        State before step 0; without it the distance at t = 0 is NaN.

    Returns
    -------
    ndarray, float64, (B, T)
    """
    x, m = resolve(source, mask, state)
    b, t, u = x.shape
    dist = np.full((b, t), np.nan)
    for sl in sample_chunks(x):
        part: np.ndarray = x[sl].astype(
            np.float64 if x.dtype == np.float64 else np.float32, copy=False
        )
        diff = part[:, 1:] - part[:, :-1]
        dist[sl, 1:] = np.sqrt(np.einsum("btu,btu->bt", diff, diff, dtype=np.float64))
    if initial_state is not None and t:
        init = np.broadcast_to(np.asarray(initial_state, dtype=np.float64), (b, u))
        dist[:, 0] = np.linalg.norm(x[:, 0].astype(np.float64) - init, axis=1)
    if m is not None:
        dist[~m] = np.nan
    return dist


def drift(
    source: Any,
    *,
    mask: Any = None,
    state: str = "h",
    robust: bool = False,
    initial_state: Any = None,
) -> Drift:
    """Per-step drift score: the state's step size and its z-score within the sample.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask. Masked steps get NaN.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    robust : bool
        Standardise with median and MAD instead of mean and standard deviation, so a few
        large jumps do not hide each other.
    initial_state : ndarray, (B, U) or (U,), optional
        State before step 0; without it step 0 has no distance (NaN).

    Returns
    -------
    Drift
    """
    dist = step_distance(source, mask=mask, state=state, initial_state=initial_state)
    finite = np.isfinite(dist)
    n = finite.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if robust:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN samples
                center = np.nanmedian(dist, axis=1)
                scale = MAD_SCALE * np.nanmedian(np.abs(dist - center[:, None]), axis=1)
        else:
            center = np.where(finite, dist, 0.0).sum(axis=1) / n
            dev = np.where(finite, dist - center[:, None], 0.0)
            scale = np.sqrt((dev * dev).sum(axis=1) / n)
        z = (dist - center[:, None]) / scale[:, None]
    z[finite & (scale[:, None] == 0)] = 0.0
    return Drift(dist, z, center, scale, robust)
