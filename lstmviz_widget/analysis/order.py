"""Unit orderings: by variance, by activation at a step, by a brushed time range, and by
clustering (units that move together end up next to each other).

The first three are the explorer's row orders (*rows:* in the toolbar, the store's
``sortMode``), with the same definitions and the same numbers as ``js/math/ordering.ts``:
``unit_order(layer, mode, ...)`` gives the order the heatmap shows, and
``tests/fixtures/ordering.json`` holds the orders and scores that both this module and the
JavaScript are tested against.

Every ordering returns a :class:`UnitOrder`; ``order`` lists unit indices top row first.
Masked and padded steps count nowhere and non-finite values are left out of every score; a
unit without a score (NaN: no finite value) goes last. Ties keep the units' own order (the
sort is stable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._common import full_mask, pooled_scatter, resolve, sample_chunks

#: The explorer's row orders (the store's ``sortMode``), as :func:`unit_order` takes them.
SORT_MODES = ("natural", "variance", "activation", "brush")
_LINKAGES = ("average", "complete", "single")


@dataclass
class UnitOrder:
    """An ordering of the units.

    Attributes
    ----------
    order : ndarray of int, (U,)
        Unit indices in display order.
    score : ndarray of float64, (U,), or None
        The score sorted on, indexed by unit (not by position); None for clustering and the
        natural order.
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


def _samples(x: np.ndarray, sample: int | None) -> np.ndarray:
    """x, or x restricted to one sample (the sample axis kept); IndexError naming the range."""
    if sample is None:
        return x
    n = x.shape[0]
    if not -n <= sample < n:
        raise IndexError(f"sample {sample} out of range for {n} samples")
    i = sample % n
    return x[i : i + 1]


def _sums(x: np.ndarray, valid: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Per unit over the steps where ``valid`` (B, T) and the value is finite: (count, sum)
    or, given ``mean``, (count, Σ (x − mean)²); float64, chunked over samples."""
    out = np.zeros((2, x.shape[-1]))
    for sl in sample_chunks(x):
        v = valid[sl]
        rows = x[sl].reshape(-1, x.shape[-1]) if v.all() else x[sl][v]  # (n, U)
        if mean is not None:
            rows = rows - mean  # float64
            rows *= rows
        finite = np.isfinite(rows)
        if finite.all():
            out[0] += rows.shape[0]
            out[1] += rows.sum(axis=0, dtype=np.float64)
        else:
            out[0] += finite.sum(axis=0)
            out[1] += np.sum(rows, axis=0, where=finite, dtype=np.float64)
    return out


def _mean(count: np.ndarray, total: np.ndarray, empty: float) -> np.ndarray:
    safe = np.where(count > 0, count, 1)
    return np.where(count > 0, total / safe, empty)


def order_by_variance(
    source: Any,
    *,
    sample: int | None = None,
    mask: Any = None,
    state: str = "h",
    descending: bool = True,
) -> UnitOrder:
    """Units by the population variance of their values over the valid steps.

    The explorer's *rows: variance* is ``order_by_variance(layer, sample=s, state=q)`` for
    the sample ``s`` and quantity ``q`` shown.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    sample : int or None
        One sample's valid steps (the explorer's definition); None pools every sample's.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c", "gate:<name>"}
        Which quantity of a LayerCapture to use.
    descending : bool
        Most variable unit first.

    Returns
    -------
    UnitOrder
        ``score``: the variance (ddof 0, float64); NaN for a unit with no finite valid value.
    """
    x, m = resolve(source, mask, state)
    valid = _samples(full_mask(m, x.shape[:2]), sample)
    x = _samples(x, sample)
    count, total = _sums(x, valid)
    mean = _mean(count, total, np.nan)
    _, ss = _sums(x, valid, mean)
    var = _mean(count, ss, np.nan)
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
    """Units by their value at step ``t``.

    The explorer's *rows: |value| at cursor* is ``order_by_activation(layer, t, sample=s,
    state=q, absolute=True)``.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    t : int
        The step (negative counts from the end).
    sample : int or None
        Order by this sample's value at t (masked or not: it is the value shown there);
        None averages over the samples whose step t is valid.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c", "gate:<name>"}
        Which quantity of a LayerCapture to use.
    absolute : bool
        Order by |value|.
    descending : bool
        Largest first.

    Returns
    -------
    UnitOrder
        ``score``: the value (or the mean over samples); NaN where it is not finite.
    """
    x, m = resolve(source, mask, state)
    n_steps = x.shape[1]
    if not -n_steps <= t < n_steps:
        raise IndexError(f"step {t} out of range for {n_steps} steps")
    at = x[:, t].astype(np.float64)
    if absolute:
        at = np.abs(at)
    at[~np.isfinite(at)] = np.nan
    if sample is not None:
        score = _samples(at, sample)[0]
    else:
        valid = full_mask(m, x.shape[:2])[:, t]
        if not valid.any():
            raise ValueError(f"no sample has a valid step {t}")
        count, total = _sums(at[:, None], valid[:, None])
        score = _mean(count, total, np.nan)
    return UnitOrder(_sorted(score, descending), score, f"activation at t={t}")


def order_by_range(
    source: Any,
    t0: int,
    t1: int,
    *,
    sample: int | None = None,
    mask: Any = None,
    state: str = "h",
    descending: bool = True,
) -> UnitOrder:
    """Units by how much higher they are inside the steps [t0, t1) than outside them.

    The score is the explorer's brush score (LSTMVis-style selection): the mean over the
    valid steps in [t0, t1) minus the mean over the other valid steps. Units that are high
    ("on") inside and low ("off") outside come first, those that switch off inside come last.
    An empty side has mean 0. The explorer's *rows: brushed range* with steps [t0, t1)
    brushed is ``order_by_range(layer, t0, t1, sample=s, state=q)``.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        A captured layer or its states.
    t0, t1 : int
        The range, ``0 ≤ t0 < t1 ≤ T``.
    sample : int or None
        One sample's steps (the explorer's definition); None pools every sample's.
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    state : {"h", "c", "gate:<name>"}
        Which quantity of a LayerCapture to use.
    descending : bool
        Most "on inside" first.

    Returns
    -------
    UnitOrder
        ``score``: mean inside − mean outside, float64; NaN for a unit with no finite valid
        value at all.
    """
    x, m = resolve(source, mask, state)
    n_steps = x.shape[1]
    if not 0 <= t0 < t1 <= n_steps:
        raise ValueError(f"need 0 ≤ t0 < t1 ≤ {n_steps}, got t0={t0}, t1={t1}")
    score = _brush_score(_samples(x, sample), _samples(full_mask(m, x.shape[:2]), sample), t0, t1)
    return UnitOrder(_sorted(score, descending), score, f"brush [{t0}, {t1})")


def _brush_score(x: np.ndarray, valid: np.ndarray, t0: int, t1: int) -> np.ndarray:
    """Mean over the valid steps in [t0, t1) − mean over the other valid steps (finite
    values; an empty side has mean 0; NaN for a unit without any)."""
    inside = np.zeros_like(valid)
    inside[:, t0:t1] = valid[:, t0:t1]
    n_in, s_in = _sums(x, inside)
    n_out, s_out = _sums(x, valid & ~inside)
    score: np.ndarray = _mean(n_in, s_in, 0.0) - _mean(n_out, s_out, 0.0)
    score[n_in + n_out == 0] = np.nan
    return score


def unit_order(
    source: Any,
    mode: str,
    *,
    sample: int = 0,
    timestep: int = 0,
    brush: tuple[int, int] | None = None,
    state: str = "h",
    mask: Any = None,
) -> UnitOrder:
    """The row order the explorer shows for a sort mode: ``js/math/ordering.ts`` ``unitOrder``.

    Parameters
    ----------
    source : LayerCapture or ndarray, (B, T, U)
        The layer shown (or its states).
    mode : {"natural", "variance", "activation", "brush"}
        The explorer's *rows:* choice.
    sample, timestep : int
        The sample shown and the cursor (``timestep`` matters for "activation" only).
    brush : (int, int) or None
        The brushed steps [t0, t1) for "brush"; without one, "brush" is the natural order,
        as in the explorer. A brush beyond the sample's valid steps is clipped to them.
    state : {"h", "c", "gate:<name>"}
        The quantity shown (the explorer's ``quantity`` trait).
    mask : ndarray of bool, (B, T), optional
        Valid steps; defaults to the capture's mask.
    """
    if mode not in SORT_MODES:
        raise ValueError(f"mode must be one of {SORT_MODES}, got {mode!r}")
    x, m = resolve(source, mask, state)
    n_steps = x.shape[1]
    if mode == "variance":
        return order_by_variance(x, sample=sample, mask=m)
    if mode == "activation":
        t = min(max(int(timestep), 0), n_steps - 1)
        return order_by_activation(x, t, sample=sample, absolute=True)
    if mode == "brush" and brush is not None:
        valid = _samples(full_mask(m, x.shape[:2]), sample)
        n = int(np.flatnonzero(valid[0])[-1]) + 1 if valid.any() else 0
        a = min(max(int(brush[0]), 0), n)  # clipped to the valid steps, as the explorer does
        b = max(a, min(int(brush[1]), n))
        score = _brush_score(_samples(x, sample), valid, a, b)
        return UnitOrder(_sorted(score, True), score, f"brush [{a}, {b})")
    u = x.shape[-1]
    return UnitOrder(np.arange(u), None, "natural")


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
