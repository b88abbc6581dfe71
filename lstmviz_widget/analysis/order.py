"""Unit orderings for the heatmap rows: by variance, by activation, by a brushed time range,
and by clustering (units that move together end up next to each other).

Every ordering returns a :class:`UnitOrder`; ``order`` lists unit indices top row first.
Ties keep the units' own order (stable sort); NaN scores (no valid step) sort last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import full_mask, pooled_scatter, pooled_variance, resolve

_RANGE_SCORES = ("mean_abs", "mean", "variance")
_LINKAGES = ("average", "complete", "single")


@dataclass
class UnitOrder:
    """An ordering of the units.

    Attributes
    ----------
    order : ndarray of int, (U,)
        Unit indices in display order.
    score : ndarray of float64, (U,), or None
        The score sorted on, indexed by unit (not by position); None for clustering.
    method : str
        What the ordering is by.
    labels : ndarray of int, (U,), or None
        Cluster of each unit (clustering with ``n_clusters``), numbered in display order.
    linkage : ndarray, float64, (U − 1, 4), or None
        Clustering merges in SciPy's linkage format: (cluster a, cluster b, distance, size),
        clusters numbered 0..U−1 for units and U + i for the i-th merge.
    """

    order: np.ndarray
    score: np.ndarray | None
    method: str
    labels: np.ndarray | None = None
    linkage: np.ndarray | None = None


def _sorted(score: np.ndarray, descending: bool) -> np.ndarray:
    key = -score if descending else score
    return np.argsort(key, kind="stable")  # NaN last either way


def order_by_variance(
    source: Any, *, mask: Any = None, state: str = "h", descending: bool = True
) -> UnitOrder:
    """Units by variance over all samples and valid steps.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    descending : bool
        Most variable unit first.

    Returns
    -------
    UnitOrder
    """
    x, m = resolve(source, mask, state)
    _, _, var = pooled_variance(x, m)
    return UnitOrder(_sorted(var, descending), var, "variance")


def order_by_activation(
    source: Any,
    t: int,
    *,
    sample: int | None = None,
    mask: Any = None,
    state: str = "h",
    absolute: bool = False,
    descending: bool = True,
) -> UnitOrder:
    """Units by their activation at step ``t``.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    t : int
        The step (negative counts from the end).
    sample : int or None
        Order by this sample's state at t (masked or not: it is the state shown there);
        None averages over the samples whose step t is valid.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    absolute : bool
        Order by |activation|.
    descending : bool
        Largest first.

    Returns
    -------
    UnitOrder
    """
    x, m = resolve(source, mask, state)
    n_steps = x.shape[1]
    if not -n_steps <= t < n_steps:
        raise IndexError(f"step {t} out of range for {n_steps} steps")
    at = x[:, t].astype(np.float64)
    if absolute:
        at = np.abs(at)
    if sample is not None:
        score = at[sample]
    else:
        valid = full_mask(m, x.shape[:2])[:, t]
        if not valid.any():
            raise ValueError(f"no sample has a valid step {t}")
        score = at[valid].mean(axis=0)
    return UnitOrder(_sorted(score, descending), score, f"activation at t={t}")


def order_by_range(
    source: Any,
    t0: int,
    t1: int,
    *,
    sample: int | None = None,
    mask: Any = None,
    state: str = "h",
    score: str = "mean_abs",
    descending: bool = True,
) -> UnitOrder:
    """Units by their activity within the steps [t0, t1) — a brushed selection.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    t0, t1 : int
        The half-open step range, 0 ≤ t0 < t1 ≤ T.
    sample : int or None
        Only this sample; None pools all samples.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask. Only valid steps in the range count.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    score : {"mean_abs", "mean", "variance"}
        Mean |h|, mean h, or variance of h over the valid steps in the range.
    descending : bool
        Most active first.

    Returns
    -------
    UnitOrder
    """
    if score not in _RANGE_SCORES:
        raise ValueError(f"score must be one of {_RANGE_SCORES}, got {score!r}")
    x, m = resolve(source, mask, state)
    n_steps = x.shape[1]
    if not 0 <= t0 < t1 <= n_steps:
        raise ValueError(f"need 0 ≤ t0 < t1 ≤ {n_steps}, got t0={t0}, t1={t1}")
    rows = slice(None) if sample is None else slice(sample, sample + 1)
    window = x[rows, t0:t1]
    valid = full_mask(m, x.shape[:2])[rows, t0:t1]
    if not valid.any():
        raise ValueError(f"no valid step in [{t0}, {t1})")
    where = valid[..., None]
    if score == "mean_abs":
        values = np.mean(np.abs(window), axis=(0, 1), where=where, dtype=np.float64)
    elif score == "mean":
        values = np.mean(window, axis=(0, 1), where=where, dtype=np.float64)
    else:
        values = np.var(window, axis=(0, 1), where=where, dtype=np.float64)
    values = np.asarray(values)
    return UnitOrder(_sorted(values, descending), values, f"{score} in [{t0}, {t1})")


def correlation(source: Any, *, mask: Any = None, state: str = "h") -> np.ndarray:
    """Pearson correlation between units over all samples and valid steps.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c"}
        Which state of a LayerCapture to use.

    Returns
    -------
    ndarray, float64, (U, U)
        A constant unit has correlation 0 with every other unit and 1 with itself.
    """
    x, m = resolve(source, mask, state)
    _, _, scatter = pooled_scatter(x, m)
    std = np.sqrt(np.clip(np.diag(scatter), 0.0, None))
    denom = np.outer(std, std)
    corr: np.ndarray = np.divide(scatter, denom, out=np.zeros_like(scatter), where=denom > 0)
    np.clip(corr, -1.0, 1.0, out=corr)
    np.fill_diagonal(corr, 1.0)
    return corr


def order_by_clustering(
    source: Any,
    *,
    mask: Any = None,
    state: str = "h",
    linkage: str = "average",
    absolute: bool = False,
    n_clusters: int | None = None,
) -> UnitOrder:
    """Units by hierarchical clustering of their correlation, in dendrogram leaf order.

    Distance between units is ``1 − r`` (``1 − |r|`` with ``absolute=True``, so that
    anti-correlated units group too), r the Pearson correlation over all samples and valid
    steps. Clusters are merged bottom-up with the chosen linkage (NN-chain algorithm, O(U²)
    time and memory, numpy only), and units are listed in the leaf order of the resulting
    tree, so every cluster is a contiguous block. Perfectly correlated units are at distance
    0 and merge before anything else, so they always end up adjacent.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c"}
        Which state of a LayerCapture to use.
    linkage : {"average", "complete", "single"}
        Distance between clusters: mean, max or min of the pairwise unit distances.
    absolute : bool
        Treat anti-correlated units as similar.
    n_clusters : int or None
        Also cut the tree into this many clusters and return their ``labels``.

    Returns
    -------
    UnitOrder
        With ``linkage`` (the merge table) and, with ``n_clusters``, ``labels``.
    """
    if linkage not in _LINKAGES:
        raise ValueError(f"linkage must be one of {_LINKAGES}, got {linkage!r}")
    corr = correlation(source, mask=mask, state=state)
    u = corr.shape[0]
    if n_clusters is not None and not 1 <= n_clusters <= u:
        raise ValueError(f"n_clusters must be between 1 and {u}, got {n_clusters}")
    dist = 1.0 - (np.abs(corr) if absolute else corr)
    np.clip(dist, 0.0, None, out=dist)
    z = _linkage(dist, linkage)
    order = _leaf_order(z, u)
    labels = None
    if n_clusters is not None:
        labels = _cut(z, u, n_clusters, order)
    return UnitOrder(order, None, f"{linkage}-linkage clustering", labels, z)


def _nn_chain(dist: np.ndarray, method: str) -> list[tuple[int, int, float]]:
    """Merges (slot a, slot b, distance) in the order NN-chain finds them."""
    n = dist.shape[0]
    d = dist.astype(np.float64, copy=True)
    np.fill_diagonal(d, np.inf)
    size = np.ones(n)
    active = np.ones(n, dtype=bool)
    merges: list[tuple[int, int, float]] = []
    chain: list[int] = []
    for _ in range(n - 1):
        if not chain:
            chain.append(int(np.flatnonzero(active)[0]))
        while True:
            a = chain[-1]
            row = d[a]
            b = int(np.argmin(row))
            if len(chain) > 1 and row[chain[-2]] <= row[b]:
                b = chain[-2]  # ties go back down the chain, so it always terminates
            if len(chain) > 1 and b == chain[-2]:
                break
            chain.append(b)
        chain.pop()
        chain.pop()
        lo, hi = min(a, b), max(a, b)
        merges.append((lo, hi, float(d[a, b])))
        if method == "average":
            new = (size[lo] * d[lo] + size[hi] * d[hi]) / (size[lo] + size[hi])
        elif method == "complete":
            new = np.maximum(d[lo], d[hi])
        else:
            new = np.minimum(d[lo], d[hi])
        new[~active] = np.inf
        new[lo] = new[hi] = np.inf
        d[lo], d[:, lo] = new, new
        d[hi], d[:, hi] = np.inf, np.inf
        size[lo] += size[hi]
        active[hi] = False
    return merges


def _linkage(dist: np.ndarray, method: str) -> np.ndarray:
    """SciPy-format linkage matrix from the NN-chain merges (sorted by distance, relabelled)."""
    n = dist.shape[0]
    merges = _nn_chain(dist, method)
    z = np.zeros((max(n - 1, 0), 4))
    if not merges:
        return z
    order = np.argsort([m[2] for m in merges], kind="stable")
    parent = np.arange(2 * n - 1)
    size = np.concatenate([np.ones(n), np.zeros(n - 1)])

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return int(root)

    for k, idx in enumerate(order):
        a, b, dd = merges[idx]
        ra, rb = find(a), find(b)
        new = n + k
        size[new] = size[ra] + size[rb]
        z[k] = (min(ra, rb), max(ra, rb), dd, size[new])
        parent[ra] = parent[rb] = new
    return z


def _leaf_order(z: np.ndarray, n: int) -> np.ndarray:
    """Leaves of the tree left to right (iterative: no recursion limit for large U)."""
    if n == 1:
        return np.zeros(1, dtype=int)
    out: list[int] = []
    stack = [2 * n - 2]
    while stack:
        node = stack.pop()
        if node < n:
            out.append(node)
        else:
            left, right = int(z[node - n, 0]), int(z[node - n, 1])
            stack.append(right)
            stack.append(left)
    return np.asarray(out, dtype=int)


def _cut(z: np.ndarray, n: int, n_clusters: int, order: np.ndarray) -> np.ndarray:
    """Cluster labels after the first n − n_clusters merges, numbered in display order."""
    parent = np.arange(2 * n - 1)
    for k in range(n - n_clusters):
        a, b = int(z[k, 0]), int(z[k, 1])
        parent[a] = parent[b] = n + k
    root = np.arange(n)
    for _ in range(n):  # follow parents to the top (depth ≤ n − 1)
        nxt = parent[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    _, first = np.unique(root[order], return_index=True)
    rank = {int(root[order][i]): r for r, i in enumerate(np.sort(first))}
    return np.array([rank[int(r)] for r in root])
