"""The attention heatmap and the PCA trajectory."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..analysis import pca
from ._common import (
    as_capture,
    check_sample,
    nan_note,
    new_axes,
    pick_layer,
    pixel_columns,
    title,
    token_ticks,
)
from ._common import (
    colorbar as add_colorbar,
)
from ._style import PAD_COLOR, colormap, layer_title


def attention(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    head: int | None = None,
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    colorbar: bool = True,
    max_pixels: int | None = None,
) -> tuple[Figure, Axes]:
    """Attention scores of one sample: query steps as rows, key steps as columns, viridis on
    [0, max of the matrix] as in the widget; tokens on the keys (and queries) when those axes
    are the input's. ``head`` None: the mean of the heads. ``cursor``: the query row outlined.

    A matrix larger than the axes' pixels is max-pooled (``max_pixels`` per side), so a sharp
    peak stays visible. The image array (``ax.images[0]``) equals the scores otherwise.
    """
    c = as_capture(cap)
    if not c.attention:
        raise ValueError(
            "this capture has no attention layer (Attention, AdditiveAttention, "
            "MultiHeadAttention) to draw"
        )
    name = layer if layer is not None else next(iter(c.attention))
    if name not in c.attention:
        raise KeyError(f"no attention layer {name!r}; captured: {list(c.attention)}")
    att = c.attention[name]
    b = check_sample(c, sample)
    heads = att.scores.shape[1]
    if head is None:
        m = np.asarray(att.scores[b], np.float64).mean(axis=0)
        which = "mean of heads" if heads > 1 else ""
    else:
        if not 0 <= int(head) < heads:
            raise IndexError(f"head must be in [0, {heads - 1}], got {head}")
        m = np.asarray(att.scores[b, int(head)], np.float64)
        which = f"head {head}"
    fig, ax = new_axes(ax, (4.6, 4.0))
    tq, tk = m.shape
    limit = max_pixels if max_pixels is not None else pixel_columns(ax)
    img, kq, kk = _pool_max(m, limit)
    fin = img[np.isfinite(img)]
    top = float(fin.max()) if fin.size and fin.max() > 0 else 1.0
    im = ax.imshow(
        np.ma.masked_invalid(img),
        aspect="auto",
        interpolation="nearest",
        cmap=colormap("sequential"),
        norm=Normalize(0, top, clip=True),
        extent=(-0.5, img.shape[1] * kk - 0.5, img.shape[0] * kq - 0.5, -0.5),
    )
    ax.set_xlim(-0.5, tk - 0.5)
    ax.set_ylim(tq - 0.5, -0.5)
    ax.set_xlabel(f"key step ({att.key_source or 'keys'})")
    ax.set_ylabel(f"query step ({att.query_source or 'queries'})")
    tokens = c.tokens[b] if c.tokens is not None else None
    if tokens is not None and len(tokens) == tk:
        token_ticks(ax, tokens, 0, tk)
        ax.tick_params(axis="x", labelrotation=90)
    if tokens is not None and len(tokens) == tq and tq <= 40:
        ax.set_yticks(range(tq), [str(t) for t in tokens], fontsize=7)
    n = int(c.lengths[b])
    for size, horizontal in ((tk, True), (tq, False)):
        if n < size and (size == c.n_steps):
            if horizontal:
                ax.axvspan(n - 0.5, size - 0.5, color=PAD_COLOR, alpha=0.35, lw=0)
            else:
                ax.axhspan(n - 0.5, size - 0.5, color=PAD_COLOR, alpha=0.35, lw=0)
    if cursor is not None and 0 <= cursor < tq:
        ax.add_patch(Rectangle((-0.5, cursor - 0.5), tk, 1, fill=False, ec="#d62728", lw=1.2))
    if colorbar:
        add_colorbar(ax, im, "attention weight", 0.05)
    nan_note(ax, m)
    pooled = f" · max-pooled {kq}×{kk}" if kq * kk > 1 else ""
    title(ax, f"attention · {name}{' · ' + which if which else ''} · sample {b}{pooled}")
    return fig, ax


def _pool_max(m: np.ndarray, limit: int) -> tuple[np.ndarray, int, int]:
    """Max over blocks of kq × kk cells so each side has at most ``limit`` cells (NaN wins)."""
    tq, tk = m.shape
    kq = max(1, -(-tq // max(1, limit)))
    kk = max(1, -(-tk // max(1, limit)))
    if kq == kk == 1:
        return m, 1, 1
    rows = np.maximum.reduceat(m, np.arange(0, tq, kq), axis=0)
    return np.maximum.reduceat(rows, np.arange(0, tk, kk), axis=1), kq, kk


def trajectory(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    components: tuple[int, int] = (0, 1),
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    others: bool = True,
) -> tuple[Figure, Axes]:
    """The hidden states projected on their principal components
    (:func:`lstmviz_widget.analysis.pca`, fitted on every valid step of every sample): the
    sample's path coloured by time (viridis, t = 0 … T−1), the other samples faded grey, the
    cursor's point as a big dot. Padded steps are not drawn."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    b = check_sample(c, sample)
    n_valid = int(lc.mask.sum()) if lc.mask is not None else lc.h.shape[0] * lc.h.shape[1]
    k = min(3, lc.units, n_valid)
    i, j = (int(x) for x in components)
    if not (0 <= i < k and 0 <= j < k and i != j):
        raise ValueError(
            f"components must be two different indices in [0, {k - 1}], got {components}"
        )
    res = pca(lc, k=k)
    proj = np.asarray(res.projection, np.float64)
    lengths = [min(int(n), proj.shape[1]) for n in c.lengths]
    fig, ax = new_axes(ax, (4.6, 4.0))
    if others:
        for s in range(proj.shape[0]):
            if s != b:
                ax.plot(
                    proj[s, : lengths[s], i],
                    proj[s, : lengths[s], j],
                    color="#b0b0b0",
                    lw=0.8,
                    alpha=0.6,
                    zorder=1,
                )
    n = lengths[b]
    xy = proj[b, :n][:, [i, j]]
    segs = np.stack([xy[:-1], xy[1:]], axis=1) if n > 1 else np.zeros((0, 2, 2))
    lcol = LineCollection(
        list(segs), cmap=colormap("sequential"), norm=Normalize(0, max(1, n - 1)), lw=1.8, zorder=2
    )
    lcol.set_array(np.arange(max(0, n - 1), dtype=np.float64))
    ax.add_collection(lcol)
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        c=np.arange(n),
        cmap=colormap("sequential"),
        norm=Normalize(0, max(1, n - 1)),
        s=6,
        zorder=3,
    )
    if cursor is not None and 0 <= cursor < n:
        ax.scatter(
            [xy[cursor, 0]],
            [xy[cursor, 1]],
            s=70,
            facecolor="none",
            edgecolor="#d62728",
            lw=1.8,
            zorder=4,
            label=f"t = {cursor}",
        )
        ax.legend(fontsize=7, frameon=False, loc="best")
    ax.autoscale_view()
    ev = res.explained_variance_ratio
    ax.set_xlabel(f"PC{i + 1} ({ev[i]:.0%} of variance)")
    ax.set_ylabel(f"PC{j + 1} ({ev[j]:.0%} of variance)")
    add_colorbar(ax, lcol, "timestep", 0.05)
    title(
        ax,
        f"trajectory · {layer_title(c, lc.name)} · sample {b}"
        + (" (others grey)" if others and proj.shape[0] > 1 else ""),
    )
    return fig, ax
