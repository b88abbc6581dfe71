"""Corpus analysis: per-unit statistics, LSTMVis-style matches and top activations.

Works on an in-memory :class:`~lstmviz_widget.Capture` (numpy, walked in blocks of samples)
and on a store opened with ``Capture.open`` (dask arrays: one task per block of samples, run on
dask's threads or, when a ``dask.distributed`` client is active, on its cluster, unchanged).
Every block is reduced to a few numbers or its own best windows, so memory stays at a block.
Masked and padded steps are left out everywhere. Numpy, plus dask for stores.

Matching follows LSTMVis (Strobelt, Gehrmann, Pfister, Rush: "LSTMVis: A Tool for Visual
Analysis of Hidden State Dynamics in Recurrent Neural Networks", IEEE TVCG 24(1), 2018; its
server's ``query_similar_activations`` in ``lstmdata/data_handler.py``):

1. a unit is *on* at a step when its value exceeds the threshold; the selection S is the set of
   units on at every step of the brushed range (or the units given);
2. candidate windows are the maximal runs of at least 2 steps (``min_length``) in which at
   least k units of S are on, for k = |S| down to 1;
3. for each candidate, A is the set of *all* units on at every step of it (optionally off on
   the step before / after: ``constrain_left`` / ``constrain_right``);
4. candidates are ranked by the largest |A ∩ S|, then the smallest |A ∪ S| (fewest other units
   on), then the longest window; ``score`` is the Jaccard index |A ∩ S| / |A ∪ S|.

Unlike the LSTMVis server (which treats the corpus as one sequence and in its "fast" mode keeps
1000 candidates of the first 500,000 steps), windows never cross samples or padding, and every
candidate is ranked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data import Capture, LayerCapture

#: Elements per numpy block of an in-memory capture (dask blocks are the store's).
BLOCK_ELEMENTS = 1 << 23
#: Candidate windows whose unit sets are computed at once.
CANDIDATES_AT_ONCE = 4096


# -- plumbing: layers, quantities, blocks -------------------------------------------------------
def _layer(cap: Capture, layer: str | None) -> LayerCapture:
    if not isinstance(cap, Capture):
        raise TypeError(f"expected a Capture (capture(...) or Capture.open(...)), got {type(cap)}")
    return cap[layer] if layer is not None else next(iter(cap))


def _quantity(lc: LayerCapture, quantity: str) -> Any:
    if quantity == "h":
        return lc.h
    if quantity == "c" and lc.c is not None:
        return lc.c
    if quantity.startswith("gate:") and quantity[5:] in lc.gates:
        return lc.gates[quantity[5:]]
    allowed = ["h"] + (["c"] if lc.c is not None else []) + [f"gate:{g}" for g in lc.gates]
    raise ValueError(f"quantity for layer {lc.name!r} must be one of {allowed}, got {quantity!r}")


def _is_dask(a: Any) -> bool:
    return type(a).__module__.startswith("dask")


def _valid(lc: LayerCapture, cap: Capture) -> Any:
    """(B, T) valid steps: the layer's mask, else every step."""
    if lc.mask is not None:
        return lc.mask
    h: Any = lc.h
    b, t = h.shape[:2]
    if _is_dask(h):
        import dask.array as da

        return da.ones((b, t), dtype=bool, chunks=(h.chunks[0], t))
    return np.ones((b, t), bool)


def _map_blocks(fn: Callable[..., Any], *arrays: Any) -> list[Any]:
    """``fn(offset, *blocks)`` for each block of samples (whole time and unit axes); the
    results in sample order. Dask arrays become one delayed task per block."""
    if any(_is_dask(a) for a in arrays):
        import dask
        import dask.array as da

        first = next(a for a in arrays if _is_dask(a))
        rows = first.chunks[0]
        lazy = [
            da.asarray(a).rechunk((rows, *(-1,) * (a.ndim - 1))).to_delayed().ravel()
            for a in arrays
        ]
        offsets = np.concatenate([[0], np.cumsum(rows)[:-1]])
        tasks = [
            dask.delayed(fn)(int(off), *(blocks[i] for blocks in lazy))
            for i, off in enumerate(offsets)
        ]
        return list(dask.compute(*tasks))
    b = arrays[0].shape[0]
    per_row = max(1, int(np.prod(arrays[0].shape[1:], dtype=np.int64)))
    step = max(1, BLOCK_ELEMENTS // per_row)
    return [fn(s, *(np.asarray(a[s : s + step]) for a in arrays)) for s in range(0, b, step)]


# -- per-unit statistics --------------------------------------------------------------------------
@dataclass
class UnitStats:
    """Per-unit statistics of one layer over the whole corpus (valid steps only).

    Attributes
    ----------
    layer : str
    n_valid : int
        Valid steps pooled over samples.
    mean, variance, min, max : ndarray, float64, (U,)
        Of h over every valid step of every sample (variance with ddof 0).
    saturation : dict of str to ndarray, float64, (U,)
        Per gate, the fraction of valid steps saturated (as :func:`~.health.gate_saturation`:
        sigmoid gates below ``low`` or above ``high``, tanh gates beyond ±``high``).
    saturation_low, saturation_high : dict of str to ndarray
        The two halves of ``saturation``.
    dead : ndarray of bool, (U,)
        Units with |h| < ``dead_threshold`` at every valid step, or a span below it (as
        :func:`~.health.dead_units`).
    """

    layer: str
    n_valid: int
    mean: np.ndarray
    variance: np.ndarray
    min: np.ndarray
    max: np.ndarray
    saturation: dict[str, np.ndarray] = field(default_factory=dict)
    saturation_low: dict[str, np.ndarray] = field(default_factory=dict)
    saturation_high: dict[str, np.ndarray] = field(default_factory=dict)
    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def dead_units(self) -> np.ndarray:
        """Indices of the dead units."""
        return np.flatnonzero(self.dead)


def unit_stats(
    cap: Capture,
    layer: str | None = None,
    *,
    low: float = 0.05,
    high: float = 0.95,
    dead_threshold: float = 1e-3,
) -> UnitStats:
    """Mean, variance, range, gate saturation and dead units of every unit of ``layer``.

    Parameters
    ----------
    cap : Capture
        In memory or opened from a store.
    layer : str, optional
        Default: the first layer.
    low, high : float
        Gate saturation thresholds (see :func:`~.health.gate_saturation`).
    dead_threshold : float
        See :func:`~.health.dead_units`.
    """
    from .health import TANH_GATES

    lc = _layer(cap, layer)
    names = list(lc.gates)

    def block(_: int, valid: np.ndarray, h: np.ndarray, *gates: np.ndarray) -> dict[str, Any]:
        m = valid[..., None]
        x = h.astype(np.float64)
        out: dict[str, Any] = {
            "n": int(valid.sum()),
            "s1": np.sum(x, axis=(0, 1), where=m),
            "s2": np.sum(x * x, axis=(0, 1), where=m),
            "lo": np.min(h, axis=(0, 1), where=m, initial=np.inf).astype(np.float64),
            "hi": np.max(h, axis=(0, 1), where=m, initial=-np.inf).astype(np.float64),
        }
        for name, g in zip(names, gates, strict=True):
            lo_thr = -high if name in TANH_GATES else low
            out[f"low:{name}"] = np.sum(g < lo_thr, axis=(0, 1), where=m, dtype=np.int64)
            out[f"high:{name}"] = np.sum(g > high, axis=(0, 1), where=m, dtype=np.int64)
        return out

    parts = _map_blocks(block, _valid(lc, cap), lc.h, *(lc.gates[g] for g in names))
    n = sum(p["n"] for p in parts)
    if n == 0:
        raise ValueError(f"layer {lc.name!r} has no valid step")
    s1 = sum(p["s1"] for p in parts)
    s2 = sum(p["s2"] for p in parts)
    mean = s1 / n
    variance = np.maximum(s2 / n - mean * mean, 0.0)
    lo = np.min([p["lo"] for p in parts], axis=0)
    hi = np.max([p["hi"] for p in parts], axis=0)
    sat_lo = {g: sum(p[f"low:{g}"] for p in parts) / n for g in names}
    sat_hi = {g: sum(p[f"high:{g}"] for p in parts) / n for g in names}
    max_abs = np.maximum(np.abs(lo), np.abs(hi))
    dead = (max_abs < dead_threshold) | ((hi - lo) < dead_threshold)
    return UnitStats(
        layer=lc.name,
        n_valid=int(n),
        mean=mean,
        variance=variance,
        min=lo,
        max=hi,
        saturation={g: sat_lo[g] + sat_hi[g] for g in names},
        saturation_low=sat_lo,
        saturation_high=sat_hi,
        dead=dead,
    )


# -- LSTMVis matches ------------------------------------------------------------------------------
@dataclass
class Match:
    """One window of the corpus where the selected units are on.

    Attributes
    ----------
    sample : int
    t0, t1 : int
        The window is steps ``t0 … t1 − 1``.
    score : float
        Jaccard index |A ∩ S| / |A ∪ S| of the units on throughout the window (A) and the
        selection (S).
    n_selected : int
        |A ∩ S|: selected units on throughout.
    n_union : int
        |A ∪ S|.
    tokens : list of str or None
        The window's tokens.
    """

    sample: int
    t0: int
    t1: int
    score: float
    n_selected: int
    n_union: int
    tokens: list[str] | None = None

    @property
    def length(self) -> int:
        return self.t1 - self.t0


def active_units(
    cap: Capture,
    sample: int,
    t0: int,
    t1: int,
    *,
    threshold: float = 0.3,
    layer: str | None = None,
    quantity: str = "h",
) -> np.ndarray:
    """Units above ``threshold`` at every step ``t0 … t1 − 1`` of ``sample`` (LSTMVis's
    selection of a brushed range)."""
    lc = _layer(cap, layer)
    x = _quantity(lc, quantity)
    b, t = x.shape[:2]
    if not 0 <= sample < b:
        raise IndexError(f"sample {sample} out of range [0, {b - 1}]")
    if not 0 <= t0 < t1 <= t:
        raise ValueError(f"the range must satisfy 0 ≤ t0 < t1 ≤ {t}, got t0={t0}, t1={t1}")
    window = np.asarray(x[sample, t0:t1])
    return np.flatnonzero((window > threshold).all(axis=0))


def _runs(flags: np.ndarray, min_length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of True per row: (row, start, end) with end − start ≥ min_length."""
    n, t = flags.shape
    padded = np.zeros((n, t + 2), np.int8)
    padded[:, 1:-1] = flags
    d = np.diff(padded, axis=1)
    rs, ss = np.nonzero(d == 1)
    _, es = np.nonzero(d == -1)
    # starts and ends come in the same row-major order, pairwise
    keep = (es - ss) >= min_length
    return rs[keep], ss[keep], es[keep]


def _match_block(
    offset: int,
    valid: np.ndarray,
    x: np.ndarray,
    *,
    units: np.ndarray,
    threshold: float,
    min_length: int,
    length: int | None,
    constrain_left: bool,
    constrain_right: bool,
    k: int,
    exclude: tuple[int, int, int] | None,
) -> np.ndarray:
    """This block's best ``k`` candidates as rows (sample, t0, t1, n_selected, n_union)."""
    on = (x > threshold) & valid[..., None]
    count = on[..., units].sum(-1)
    found = []
    for need in range(len(units), 0, -1):
        r, s, e = _runs(count >= need, min_length)
        found.append(np.stack([r, s, e], 1))
    cand = np.unique(np.concatenate(found), axis=0) if found else np.zeros((0, 3), np.int64)
    if length is not None:
        cand = cand[(cand[:, 2] - cand[:, 1]) == length]
    if exclude is not None:
        eb, e0, e1 = exclude
        local = eb - offset
        overlap = (cand[:, 0] == local) & (cand[:, 1] < e1) & (cand[:, 2] > e0)
        cand = cand[~overlap]
    if not len(cand):
        return np.zeros((0, 5), np.int64)
    n, t, _ = on.shape
    cum = np.zeros((n, t + 1, on.shape[2]), np.int32)
    np.cumsum(on, axis=1, out=cum[:, 1:])
    rows = []
    for i in range(0, len(cand), CANDIDATES_AT_ONCE):
        c = cand[i : i + CANDIDATES_AT_ONCE]
        r, s, e = c[:, 0], c[:, 1], c[:, 2]
        active = (cum[r, e] - cum[r, s]) == (e - s)[:, None]
        if constrain_left:  # off on the step before (no step before counts as off)
            before = on[r, np.maximum(s - 1, 0)] & (s > 0)[:, None]
            active &= ~before
        if constrain_right:
            after = on[r, np.minimum(e, t - 1)] & (e < t)[:, None]
            active &= ~after
        inter = active[:, units].sum(1)
        union = len(units) + active.sum(1) - inter
        rows.append(np.stack([r + offset, s, e, inter, union], 1))
    out = np.concatenate(rows).astype(np.int64)
    return _top(out, k)


def _rank_key(rows: np.ndarray) -> np.ndarray:
    """lexsort order: largest intersection, smallest union, longest, then sample and t0."""
    length = rows[:, 2] - rows[:, 1]
    return np.lexsort((rows[:, 1], rows[:, 0], -length, rows[:, 4], -rows[:, 3]))


def _top(rows: np.ndarray, k: int) -> np.ndarray:
    top: np.ndarray = rows[_rank_key(rows)[:k]]
    return top


def match(
    cap: Capture,
    units: Sequence[int] | np.ndarray | None = None,
    *,
    threshold: float = 0.3,
    sample: int | None = None,
    t0: int | None = None,
    t1: int | None = None,
    layer: str | None = None,
    quantity: str = "h",
    k: int = 20,
    min_length: int = 2,
    length: int | None = None,
    constrain_left: bool = False,
    constrain_right: bool = False,
    exclude_query: bool = True,
) -> list[Match]:
    """Windows across the corpus where the same units are on and the others are not, ranked
    as LSTMVis ranks its matches (see the module docstring).

    Parameters
    ----------
    cap : Capture
        In memory or opened from a store.
    units : sequence of int, optional
        The selection S. Default: the units above ``threshold`` at every step of the query
        range ``sample``, ``t0 … t1 − 1`` (:func:`active_units`).
    threshold : float
        A unit is on where its value exceeds this.
    sample, t0, t1 : int, optional
        The query range (brushed in the explorer); windows overlapping it are left out with
        ``exclude_query``.
    layer, quantity : str
        Which layer (default the first) and which of its quantities (``"h"``, ``"c"``,
        ``"gate:<name>"``).
    k : int
        How many matches to return.
    min_length, length : int
        Shortest window (LSTMVis: 2); ``length`` keeps only windows of exactly that length.
    constrain_left, constrain_right : bool
        A unit counts only when it is off on the step before / after the window.

    Returns
    -------
    list of Match
        Best first, with their tokens.
    """
    lc = _layer(cap, layer)
    x = _quantity(lc, quantity)
    query = sample is not None and t0 is not None and t1 is not None
    if units is None:
        if not query:
            raise ValueError("pass units=[...] or the query range sample=, t0=, t1=")
        sel = active_units(cap, int(sample), int(t0), int(t1), threshold=threshold,  # type: ignore[arg-type]
                           layer=lc.name, quantity=quantity)  # fmt: skip
        if not len(sel):
            raise ValueError(
                f"no unit of {lc.name!r} is above {threshold:g} at every step {t0}…{int(t1) - 1} "  # type: ignore[arg-type]
                f"of sample {sample}; lower the threshold or brush a shorter range"
            )
    else:
        sel = np.unique(np.asarray(units, dtype=np.int64))
        if not len(sel) or sel.min() < 0 or sel.max() >= lc.units:
            raise ValueError(
                f"units must be a non-empty list in [0, {lc.units - 1}], got {units!r}"
            )
    if k < 1 or min_length < 1:
        raise ValueError(f"k and min_length must be ≥ 1, got k={k}, min_length={min_length}")
    exclude = (int(sample), int(t0), int(t1)) if (query and exclude_query) else None  # type: ignore[arg-type]

    def block(offset: int, valid: np.ndarray, xb: np.ndarray) -> np.ndarray:
        return _match_block(
            offset, valid, xb, units=sel, threshold=threshold, min_length=min_length,
            length=length, constrain_left=constrain_left, constrain_right=constrain_right,
            k=k, exclude=exclude,
        )  # fmt: skip

    parts = _map_blocks(block, _valid(lc, cap), x)
    rows = _top(np.concatenate([*parts, np.zeros((0, 5), np.int64)]), k)
    return [
        Match(
            sample=int(r[0]),
            t0=int(r[1]),
            t1=int(r[2]),
            score=float(r[3] / r[4]) if r[4] else 0.0,
            n_selected=int(r[3]),
            n_union=int(r[4]),
            tokens=_tokens(cap, int(r[0]), int(r[1]), int(r[2])),
        )
        for r in rows
    ]


def _tokens(cap: Capture, sample: int, t0: int, t1: int) -> list[str] | None:
    if cap.tokens is None:
        return None
    return list(cap.tokens[sample][t0:t1])


# -- top activations ----------------------------------------------------------------------------
@dataclass
class Activation:
    """A window that drives one unit hard.

    Attributes
    ----------
    sample, t0, t1 : int
        Steps ``t0 … t1 − 1`` of ``sample``.
    value : float
        Mean of the unit over the window (the value itself for ``width=1``).
    tokens : list of str or None
        The window's tokens.
    """

    sample: int
    t0: int
    t1: int
    value: float
    tokens: list[str] | None = None


def _top_block(
    offset: int, valid: np.ndarray, x: np.ndarray, *, width: int, k: int, sign: float
) -> np.ndarray:
    """This block's best ``k`` non-overlapping windows as rows (sample, t0, value)."""
    v = sign * x.astype(np.float64)
    n, t = v.shape
    if t < width:
        return np.zeros((0, 3))
    cs = np.zeros((n, t + 1))
    np.cumsum(np.where(valid, v, 0.0), axis=1, out=cs[:, 1:])
    cv = np.zeros((n, t + 1), np.int64)
    np.cumsum(valid, axis=1, out=cv[:, 1:])
    score = (cs[:, width:] - cs[:, :-width]) / width
    ok = (cv[:, width:] - cv[:, :-width]) == width  # windows of valid steps only
    r, s = np.nonzero(ok)
    vals = score[r, s]
    if not len(vals):
        return np.zeros((0, 3))
    # greedy non-overlapping choice per sample; each pick blocks at most 2·width − 2 others,
    # so the best k·(2·width − 1) windows hold the first k picks
    m = min(len(vals), k * (2 * width - 1))
    pre = np.argpartition(-vals, m - 1)[:m] if m < len(vals) else np.arange(len(vals))
    order = pre[np.lexsort((s[pre], r[pre], -vals[pre]))]
    picked: dict[int, list[int]] = {}
    rows = []
    for i in order:
        taken = picked.setdefault(int(r[i]), [])
        if any(abs(int(s[i]) - p) < width for p in taken):
            continue
        taken.append(int(s[i]))
        rows.append((int(r[i]) + offset, int(s[i]), float(vals[i])))
        if len(rows) == k:
            break
    return np.array(rows, dtype=np.float64).reshape(-1, 3)


def top_activations(
    cap: Capture,
    unit: int,
    *,
    k: int = 10,
    layer: str | None = None,
    quantity: str = "h",
    width: int = 1,
    largest: bool = True,
) -> list[Activation]:
    """The ``k`` windows of ``width`` steps that drive ``unit`` hardest across the corpus
    (Karpathy, Johnson, Fei-Fei, "Visualizing and Understanding Recurrent Networks", 2015).

    Windows lie inside one sample's valid steps; within a sample they do not overlap (the
    best is kept, then the best of the rest, ...). Ranked by the unit's mean over the window,
    highest first (``largest=False``: lowest first); ties by sample, then step.
    """
    lc = _layer(cap, layer)
    x = _quantity(lc, quantity)
    if not 0 <= int(unit) < lc.units:
        raise ValueError(f"unit must be in [0, {lc.units - 1}], got {unit}")
    if k < 1 or width < 1:
        raise ValueError(f"k and width must be ≥ 1, got k={k}, width={width}")
    sign = 1.0 if largest else -1.0
    column = x[..., int(unit)]

    def block(offset: int, valid: np.ndarray, xb: np.ndarray) -> np.ndarray:
        return _top_block(offset, valid, xb, width=width, k=k, sign=sign)

    parts = _map_blocks(block, _valid(lc, cap), column)
    rows = np.concatenate([*parts, np.zeros((0, 3))])
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0], -rows[:, 2]))][:k]
    return [
        Activation(
            sample=int(b),
            t0=int(s),
            t1=int(s) + width,
            value=float(sign * v),
            tokens=_tokens(cap, int(b), int(s), int(s) + width),
        )
        for b, s, v in rows
    ]
