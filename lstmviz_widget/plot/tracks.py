"""The input track (numeric features or tokens, with saliency) and prediction confidence."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import (
    as_capture,
    check_sample,
    check_window,
    column_edges,
    minmax_columns,
    new_axes,
    pixel_columns,
    time_axis,
    title,
)
from ._style import CONFIDENCE_COLOR, INPUT_COLORS, WRONG_COLOR, class_color
from .lines import line

#: Features of the numeric input drawn as lines (the first ones), as in the widget.
MAX_INPUT_FEATURES = 8
#: Saliency shading colour (|gradient × input|, normalised per sample).
SALIENCY_COLOR = "#e15759"


def input(
    cap: Any,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    columns: int | None = None,
    saliency: bool = True,
) -> tuple[Figure, Axes]:
    """What goes into the model: the first ≤ 8 features of the first recurrent layer's input
    as lines ``x0 … x7`` (numeric input) or the tokens as tick labels, with each step's
    background shaded by |saliency| (gradient × input, normalised over the sample's valid
    steps; a column of several steps shows their max) when the capture has it."""
    c = as_capture(cap)
    b = check_sample(c, sample)
    first = next(iter(c))
    n_t = first.h.shape[1] if c.tokens is None else c.n_steps
    a, z = check_window(t0, t1, n_t)
    fig, ax = new_axes(ax, (8.0, 1.8))
    cols = columns if columns is not None else pixel_columns(ax)
    drew = False
    if c.tokens is None and first.inputs.ndim == 3 and first.inputs.shape[-1] > 0:
        d = first.inputs.shape[-1]
        shown = min(d, MAX_INPUT_FEATURES)
        for f in range(shown):
            line(ax, first.inputs[b, a:z, f], a, cols, INPUT_COLORS[f], 1.25, label=f"x{f}")
        ax.set_ylabel("input value")
        extra = f" ({shown} of {d} features)" if d > shown else ""
        ax.legend(
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            title=extra.strip() or None,
            title_fontsize=7,
        )
        title(ax, f"input to {first.name}")
        drew = True
    if saliency and c.saliency is not None:
        _shade_saliency(ax, np.asarray(c.saliency[b], np.float64), int(c.lengths[b]), a, z, cols)
        drew = True
    if c.tokens is not None:
        ax.set_yticks([])
        title(ax, "input tokens" + (" · shade: |saliency|" if c.saliency is not None else ""))
        drew = True
    if not drew:
        raise ValueError("this capture has no numeric input, tokens or saliency to draw")
    time_axis(ax, c, b, a, z, cursor=cursor)
    return fig, ax


def _shade_saliency(ax: Axes, s: np.ndarray, n: int, a: int, z: int, cols: int) -> None:
    """|saliency| per step as the alpha of a background band (max over a column's steps)."""
    mag = np.abs(s)
    valid = mag[:n][np.isfinite(mag[:n])]
    top = float(valid.max()) if valid.size else 0.0
    if not top > 0:
        return
    part = np.where(np.isfinite(mag[a:z]), mag[a:z], 0.0) / top
    if z - a > cols:
        edges = column_edges(z - a, cols)
        _, part = minmax_columns(part, edges)
        k = int(edges[1] - edges[0]) if edges.size > 1 else z - a
    else:
        k = 1
    rgba = np.zeros((1, part.size, 4))
    rgba[..., :3] = _rgb(SALIENCY_COLOR)
    rgba[..., 3] = 0.55 * np.clip(part, 0, 1)
    band = _band_axes(ax, (0.0, 0.0, 1.0, 1.0), zorder=-1)
    band.imshow(
        rgba,
        aspect="auto",
        interpolation="nearest",
        extent=(a - 0.5, a - 0.5 + part.size * k, 0, 1),
    )
    band.set_xlim(a - 0.5, z - 0.5)


def _band_axes(ax: Axes, bounds: tuple[float, float, float, float], zorder: float) -> Axes:
    """An axes-less strip over part of ``ax`` (axes fractions) sharing its x axis, for
    per-step colour bands that must not touch ``ax``'s y scale."""
    band = ax.inset_axes(bounds, sharex=ax, zorder=zorder)
    band.set_axis_off()
    band.set_ylim(0, 1)
    if zorder < ax.get_zorder():
        ax.patch.set_alpha(0.0)
    return band


def confidence(
    cap: Any,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    columns: int | None = None,
) -> tuple[Figure, Axes]:
    """How sure the model is at each step: the largest class probability (classification),
    |2p − 1| (binary) on [0, 1], or the predicted value (regression). Mispredicted steps are
    red ticks along the top, a strip along the bottom is coloured by the predicted class."""
    c = as_capture(cap)
    p = c.predictions
    if p is None or p.confidence is None:
        reason = f": {p.reason}" if p is not None and p.reason else ""
        raise ValueError(f"this capture has no predictions{reason}")
    b = check_sample(c, sample)
    conf = np.asarray(p.confidence[b], np.float64)
    a, z = check_window(t0, t1, conf.shape[0])
    fig, ax = new_axes(ax, (8.0, 1.8))
    cols = columns if columns is not None else pixel_columns(ax)
    bounded = p.task in ("classification", "binary")
    label = {"classification": "max probability", "binary": "|2p − 1|"}.get(
        p.task, "predicted value"
    )
    line(ax, conf[a:z], a, cols, CONFIDENCE_COLOR, 1.75, label=label)
    if bounded:
        ax.set_ylim(0, 1.08)
    ax.set_ylabel(label)
    if p.mispredicted is not None:
        wrong = a + np.flatnonzero(np.asarray(p.mispredicted[b, a:z], bool))
        if wrong.size:
            ax.plot(
                wrong,
                np.full(wrong.size, 1.0),
                "|",
                color=WRONG_COLOR,
                ms=8,
                mew=1.5,
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label="wrong",
            )
    if p.predicted is not None:
        cls = np.asarray(p.predicted[b, a:z], np.int64)
        colours = np.array([_rgb(class_color(int(k))) for k in cls])[None]
        strip = _band_axes(ax, (0.0, 0.0, 1.0, 0.05), zorder=ax.get_zorder() + 1)
        strip.imshow(
            colours, aspect="auto", interpolation="nearest", extent=(a - 0.5, z - 0.5, 0, 1)
        )
        strip.set_xlim(a - 0.5, z - 0.5)
    time_axis(ax, c, b, a, z, cursor=cursor)
    mode = {"sequence": "per step", "prefix": "prefix readout"}.get(p.mode, p.mode)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    title(ax, f"confidence · {mode} · {p.task}")
    return fig, ax


def _rgb(hex_color: str) -> tuple[float, float, float]:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)
