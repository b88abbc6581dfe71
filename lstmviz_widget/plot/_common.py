"""Shared pieces of the figures: argument checks, new axes, the min/max reduction of long
sequences to pixel columns, the time axis (window, tokens as ticks, padding, cursor)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..data import Capture, LayerCapture
from ._style import NAN_COLOR, PAD_COLOR, clip_chars, display_token

#: Longest token label (characters) on a thinned axis (js/views/input.ts).
TOKEN_CHARS = 8


def as_capture(source: Any) -> Capture:
    """A Capture from a Capture or anything with a ``capture`` attribute (an explorer)."""
    if isinstance(source, Capture):
        return source
    cap = getattr(source, "capture", None)
    if isinstance(cap, Capture):
        return cap
    raise TypeError(
        f"expected a Capture (or an LSTMExplorer), got {type(source).__name__}; "
        "make one with lstmviz_widget.capture(model, seq) or Capture.load(path)"
    )


def pick_layer(cap: Capture, layer: str | None) -> LayerCapture:
    """The named layer, or the first one."""
    return cap[layer] if layer is not None else next(iter(cap))


def check_sample(cap: Capture, sample: int) -> int:
    """``sample`` as an int in [0, B)."""
    b = int(sample)
    if not 0 <= b < cap.n_samples:
        raise IndexError(f"sample must be in [0, {cap.n_samples - 1}], got {sample}")
    return b


def check_window(t0: int | None, t1: int | None, n: int) -> tuple[int, int]:
    """The time window [t0, t1) within [0, n); None ends are the sequence's ends."""
    a = 0 if t0 is None else int(t0)
    b = n if t1 is None else int(t1)
    if not 0 <= a < b <= n:
        raise ValueError(
            f"time window [t0, t1) = [{t0}, {t1}) must satisfy 0 ≤ t0 < t1 ≤ {n} (steps)"
        )
    return a, b


def check_units(units: Sequence[int] | None, n: int) -> list[int] | None:
    """``units`` as a list of ints in [0, n), or None."""
    if units is None:
        return None
    out = [int(u) for u in units]
    bad = [u for u in out if not 0 <= u < n]
    if bad:
        raise IndexError(f"units {bad} out of range [0, {n - 1}]")
    return out


def new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure (no pyplot state: headless, thread-safe)."""
    if ax is not None:
        fig = ax.get_figure(root=True)
        assert isinstance(fig, Figure)
        return fig, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def colorbar(ax: Axes, mappable: Any, label: str, fraction: float = 0.04) -> Any:
    """A colour bar beside ``ax`` (in its own (sub)figure, so layouts stay aligned)."""
    parent = ax.get_figure(root=False)
    assert parent is not None
    cb = parent.colorbar(mappable, ax=ax, fraction=fraction, pad=0.01)
    cb.set_label(label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    return cb


def pixel_columns(ax: Axes) -> int:
    """Width of the axes in device pixels at the figure's dpi (what one column of data gets)."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    bbox = ax.get_position()  # in figure fractions of the root figure
    return max(1, int(bbox.width * fig.get_figwidth() * fig.dpi))


def pixel_rows(ax: Axes) -> int:
    """Height of the axes in device pixels at the figure's dpi."""
    fig = ax.get_figure(root=True)
    assert fig is not None
    return max(1, int(ax.get_position().height * fig.get_figheight() * fig.dpi))


def column_edges(n: int, cols: int) -> np.ndarray:
    """Start of each bucket when ``n`` steps go into at most ``cols`` pixel columns: buckets of
    k = ⌈n / cols⌉ steps (the last one may be shorter), so column i covers [i·k, (i+1)·k)."""
    k = max(1, math.ceil(n / max(1, int(cols))))
    return np.arange(0, n, k, dtype=np.int64)


def bucket_size(edges: np.ndarray, n: int) -> int:
    """Steps per column of :func:`column_edges` over ``n`` steps."""
    return int(edges[1] - edges[0]) if edges.size > 1 else n


def minmax_columns(a: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Min and max over each bucket of the last axis (NaN propagates: a bucket holding a NaN
    is NaN in both)."""
    lo = np.minimum.reduceat(a, edges, axis=-1)
    hi = np.maximum.reduceat(a, edges, axis=-1)
    return lo, hi


def extreme_columns(a: np.ndarray, edges: np.ndarray, mid: float) -> np.ndarray:
    """Per bucket, of its min and max the one farther from ``mid`` (max on a tie); NaN where
    the bucket holds a NaN or ±Inf: the widget's rule, so a one-step spike keeps its colour."""
    lo, hi = minmax_columns(a, edges)
    out = np.where(hi - mid >= mid - lo, hi, lo)
    poisoned = ~(np.isfinite(lo) & np.isfinite(hi))
    return np.where(poisoned, np.nan, out).astype(np.float32)


def envelope(y: np.ndarray, t0: int, cols: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Line data for a series over steps t0 … t0+len(y)−1 drawn in ``cols`` pixel columns.

    When the steps fit, (steps, y, False). Otherwise every column becomes a vertical stroke
    from its min to its max: x = each column's centre twice, y = (min, max) interleaved, and
    True, so no spike disappears between pixels.
    """
    n = y.shape[-1]
    if n <= cols:
        return np.arange(t0, t0 + n, dtype=np.float64), np.asarray(y, np.float64), False
    edges = column_edges(n, cols)
    lo, hi = minmax_columns(np.asarray(y, np.float64), edges)
    ends = np.append(edges[1:], n)
    centre = t0 + 0.5 * (edges + ends - 1)
    x = np.repeat(centre, 2)
    yy = np.empty(2 * lo.size)
    yy[0::2], yy[1::2] = lo, hi
    return x, yy, True


def time_axis(
    ax: Axes,
    cap: Capture,
    b: int,
    t0: int,
    t1: int,
    *,
    length: int | None = None,
    cursor: int | None = None,
    labels: bool = True,
) -> None:
    """x limits [t0 − ½, t1 − ½], "timestep" label, tokens as (thinned) tick labels, padded
    steps shaded, the cursor as a vertical line."""
    ax.set_xlim(t0 - 0.5, t1 - 0.5)
    n = int(cap.lengths[b]) if length is None else length
    if n < t1:
        ax.axvspan(max(n, t0) - 0.5, t1 - 0.5, color=PAD_COLOR, alpha=0.25, lw=0, zorder=0.5)
    if cursor is not None and t0 <= cursor < t1:
        ax.axvline(cursor, color="#222222", lw=1, alpha=0.8, zorder=5)
    if not labels:
        ax.tick_params(labelbottom=False)
        return
    tokens = cap.tokens[b] if cap.tokens is not None else None
    if tokens is not None and len(tokens) >= t1:
        token_ticks(ax, tokens, t0, t1)
        ax.set_xlabel("token (timestep)")
    else:
        ax.set_xlabel("timestep")


def token_ticks(ax: Axes, tokens: Sequence[str], t0: int, t1: int) -> list[int]:
    """Tokens of steps t0 … t1−1 as tick labels: every k-th (multiples of k) when they do not
    all fit, k from the labels' width and the step width (js/math/tokens.ts tokenStride)."""
    shown = [clip_chars(display_token(str(tokens[t])), TOKEN_CHARS) for t in range(t0, t1)]
    fig = ax.get_figure(root=True)
    assert fig is not None
    fontsize = 8.0
    widths = sorted(len(s) for s in shown)
    label_px = widths[int(0.75 * (len(widths) - 1))] * fontsize * 0.62 * fig.dpi / 72
    step_px = pixel_columns(ax) / max(1, t1 - t0)
    k = max(1, math.ceil((label_px + 6 * fig.dpi / 72) / step_px))
    steps = list(range(math.ceil(t0 / k) * k, t1, k))
    ax.set_xticks(steps, [shown[t - t0] for t in steps], fontsize=fontsize)
    return steps


def title(ax: Axes, text: str) -> None:
    """A small left-aligned title, like the widget's track titles."""
    ax.set_title(text, loc="left", fontsize=9)


def nan_note(ax: Axes, values: np.ndarray, y: float = 1.01) -> None:
    """The widget's "■ NaN / Inf" legend note above the axes' right end, when ``values`` hold
    any non-finite number."""
    if not np.isfinite(values).all():
        ax.text(
            1.0, y, "■ NaN / Inf", color=NAN_COLOR, transform=ax.transAxes,
            ha="right", va="bottom", fontsize=7,
        )  # fmt: skip
