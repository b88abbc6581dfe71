"""PCA of hidden states: the trajectory view's axes.

States are pooled over every sample and valid step (masked and padded steps are left out of
the fit) and every step, masked or not, is projected so views can draw the padding faded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import pooled_mean, pooled_scatter, resolve, sample_chunks, valid_rows


@dataclass
class PCAResult:
    """Principal components of pooled states.

    Attributes
    ----------
    components : ndarray, float64, (k, U)
        Unit-norm principal axes, by decreasing variance. Sign convention: each component's
        loading with the largest absolute value is positive.
    explained_variance : ndarray, float64, (k,)
        Variance along each component (sample variance, ddof = 1, as ``np.cov``).
    explained_variance_ratio : ndarray, float64, (k,)
        ``explained_variance`` divided by the total variance of all U units.
    mean : ndarray, float64, (U,)
        Mean state over the valid steps, subtracted before projecting.
    projection : ndarray, float32, (B, T, k)
        Every step (masked ones included) projected onto the components.
    n_fitted : int
        Number of valid steps the components were fitted on.
    """

    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray
    projection: np.ndarray
    n_fitted: int

    def transform(self, states: Any) -> np.ndarray:
        """Project other states (..., U) onto these components.

        Parameters
        ----------
        states : array_like, (..., U)
            States of the same layer, e.g. from another capture.

        Returns
        -------
        ndarray, float32, (..., k)
        """
        return _project(np.asarray(states), self.mean, self.components)


def pca(source: Any, k: int = 3, *, mask: Any = None, state: str = "h") -> PCAResult:
    """Principal components of hidden (or cell) states pooled over samples and valid steps.

    Centres the pooled (N, U) matrix of valid steps, then takes the eigen-decomposition of its
    (U, U) scatter matrix when N ≥ U (cheaper: O(N·U²) with a small U³ part), or the thin SVD
    of the centred data matrix when N < U (O(N²·U)). Both give the same principal axes.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer (its ``state`` array and mask are used) or the states themselves.
    k : int
        Number of components, 1 ≤ k ≤ min(N, U).
    mask : ndarray of bool, (B, T), optional
        True where a step is valid. Defaults to the capture's own mask (all steps when none).
    state : {"h", "c"}
        Which state of a LayerCapture to analyse.

    Returns
    -------
    PCAResult
    """
    x, mask = resolve(source, mask, state)
    u = x.shape[-1]
    n, mean = pooled_mean(x, mask)
    if n < 2:
        raise ValueError(f"PCA needs at least 2 valid steps, got {n}")
    if not 1 <= k <= min(n, u):
        raise ValueError(f"k must be between 1 and min(valid steps, units) = {min(n, u)}, got {k}")

    if n >= u:
        _, mean, scatter = pooled_scatter(x, mask)
        evals, evecs = np.linalg.eigh(scatter)  # ascending
        total = float(np.clip(evals, 0.0, None).sum())
        evals, comps = evals[::-1][:k], evecs[:, ::-1][:, :k].T
    else:
        rows = np.concatenate([valid_rows(x, mask, sl) for sl in sample_chunks(x)])
        rows = rows.astype(np.float64) - mean
        _, s, vt = np.linalg.svd(rows, full_matrices=False)
        evals, comps = s[:k] ** 2, vt[:k]
        total = float(np.sum(s**2))
    evals = np.clip(evals, 0.0, None)
    comps = _fix_signs(np.ascontiguousarray(comps))
    variance = evals / (n - 1)
    ratio = evals / total if total > 0 else np.zeros_like(evals)
    return PCAResult(
        components=comps,
        explained_variance=variance,
        explained_variance_ratio=ratio,
        mean=mean,
        projection=_project(x, mean, comps),
        n_fitted=n,
    )


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Flip each row so that its largest-|loading| entry is positive."""
    idx = np.argmax(np.abs(components), axis=1)
    signs: np.ndarray = np.sign(components[np.arange(len(components)), idx])
    signs[signs == 0] = 1.0
    flipped: np.ndarray = components * signs[:, None]
    return flipped


def _project(x: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    # (x − mean)·Cᵀ = x·Cᵀ − mean·Cᵀ: no centred copy of x.
    c = components.T.astype(np.float32)
    offset = (mean @ components.T).astype(np.float32)
    out: np.ndarray = x.astype(np.float32, copy=False) @ c
    out -= offset
    return out
