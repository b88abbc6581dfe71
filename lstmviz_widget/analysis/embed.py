"""Optional non-linear embeddings of hidden states: t-SNE (scikit-learn) and UMAP (umap-learn).

Neither package is a dependency; they come with ``pip install "lstmviz-widget[embed]"``.
They are imported only when :func:`embed` is called.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from ._common import full_mask, resolve
from .pca import pca

EXTRA = 'pip install "lstmviz-widget[embed]"'

#: method -> (module to import, pip package, estimator class)
_BACKENDS = {
    "tsne": ("sklearn.manifold", "scikit-learn", "TSNE"),
    "umap": ("umap", "umap-learn", "UMAP"),
}


def _estimator_class(method: str) -> Any:
    try:
        module, package, cls = _BACKENDS[method]
    except KeyError:
        raise ValueError(f"method must be one of {sorted(_BACKENDS)}, got {method!r}") from None
    try:
        mod = importlib.import_module(module)
    except ImportError as err:
        raise ImportError(
            f"{method!r} embedding needs the optional package {package!r}, which is not "
            f"installed. Install it with: {EXTRA}  (or: pip install {package})"
        ) from err
    return getattr(mod, cls)


def embed(
    source: Any,
    method: str = "tsne",
    *,
    n_components: int = 2,
    mask: Any = None,
    state: str = "h",
    pca_components: int | None = 50,
    max_points: int | None = None,
    random_state: int = 0,
    **kwargs: Any,
) -> np.ndarray:
    """Embed every valid step's state in ``n_components`` dimensions with t-SNE or UMAP.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    method : {"tsne", "umap"}
        ``"tsne"`` uses ``sklearn.manifold.TSNE``; ``"umap"`` uses ``umap.UMAP``.
    n_components : int
        Output dimensions.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask. Only valid steps are embedded.
    state : {"h", "c"}
        Which state of a LayerCapture to embed.
    pca_components : int or None
        Reduce to this many principal components first (when U is larger), the usual
        speed-up; None embeds the raw states.
    max_points : int or None
        Embed at most this many valid steps, evenly spaced in (sample, time) order; the
        others are left NaN. t-SNE's cost grows quickly with the number of points.
    random_state : int
        Seed passed to the estimator, for reproducible layouts.
    **kwargs
        Passed to the estimator (e.g. ``perplexity=30``, ``n_neighbors=15``).

    Returns
    -------
    ndarray, float32, (B, T, n_components)
        Embedded coordinates; NaN at masked steps and at steps left out by ``max_points``.

    Raises
    ------
    ImportError
        When the package the method needs is not installed; the message names the extra.
    """
    estimator_cls = _estimator_class(method)
    x, mask = resolve(source, mask, state)
    b, t, u = x.shape
    valid = full_mask(mask, (b, t))
    if pca_components is not None and pca_components < u:
        n_valid = int(valid.sum())
        k = min(pca_components, n_valid)
        x = pca(x, k, mask=mask).projection
    flat_idx = np.flatnonzero(valid)
    if max_points is not None and flat_idx.size > max_points:
        pick = np.linspace(0, flat_idx.size - 1, max_points).round().astype(int)
        flat_idx = flat_idx[np.unique(pick)]
    if flat_idx.size < 2:
        raise ValueError(f"need at least 2 valid steps to embed, got {flat_idx.size}")
    points = x.reshape(b * t, -1)[flat_idx].astype(np.float32)
    estimator = estimator_cls(n_components=n_components, random_state=random_state, **kwargs)
    coords = np.asarray(estimator.fit_transform(points), dtype=np.float32)
    out = np.full((b * t, n_components), np.nan, dtype=np.float32)
    out[flat_idx] = coords
    return out.reshape(b, t, n_components)
