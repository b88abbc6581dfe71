"""The heatmap (units × time), the gate small multiples and the vector at the cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from ..data import LayerCapture
from ._common import (
    as_capture,
    bucket_size,
    check_sample,
    check_units,
    check_window,
    column_edges,
    extreme_columns,
    nan_note,
    new_axes,
    pick_layer,
    pixel_columns,
    pixel_rows,
    time_axis,
    title,
)
from ._common import (
    colorbar as add_colorbar,
)
from ._style import color_spec, layer_title, quantity_label


def quantity_array(lc: LayerCapture, quantity: str) -> np.ndarray:
    """The (B, T, U) array of ``"h"``, ``"c"`` or ``"gate:<name>"``."""
    if quantity == "h":
        return lc.h
    if quantity == "c":
        if lc.c is None:
            raise ValueError(f"layer {lc.name!r} ({lc.kind}) has no cell state c; use 'h'")
        return lc.c
    if quantity.startswith("gate:") and quantity[5:] in lc.gates:
        return lc.gates[quantity[5:]]
    offered = ["h"] + (["c"] if lc.c is not None else []) + [f"gate:{g}" for g in lc.gates]
    raise ValueError(f"quantity for layer {lc.name!r} must be one of {offered}, got {quantity!r}")


def heatmap(
    cap: Any,
    layer: str | None = None,
    quantity: str = "h",
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    units: Sequence[int] | None = None,
    ax: Axes | None = None,
    *,
    cursor: int | None = None,
    selected: Sequence[int] = (),
    colorbar: bool = True,
    columns: int | None = None,
    row_pixels: int | None = None,
    time_labels: bool = True,
) -> tuple[Figure, Axes]:
    """One quantity of one layer and sample as a units × time heatmap, coloured as the widget.

    Parameters
    ----------
    cap : Capture or LSTMExplorer
    layer : str, optional
        Layer name (default: the first layer).
    quantity : str
        ``"h"``, ``"c"`` (LSTM) or ``"gate:<name>"``.
    sample : int
        Which sequence of the batch.
    t0, t1 : int, optional
        The time window [t0, t1) (default: every step).
    units : sequence of int, optional
        The rows, in this order (default: every unit, 0 at the top).
    ax : matplotlib Axes, optional
        Draw here; default: a new figure.
    cursor : int, optional
        A timestep marked by a vertical line.
    selected : sequence of int
        Units outlined (the explorer's ``selected_units``).
    colorbar : bool
        Add a colour bar labelled with the quantity.
    columns : int, optional
        Pixel columns of the image (default: the axes' width in pixels). When the window has
        more steps, each column shows the extreme of its steps (of min and max, the one
        farther from the colour map's middle; NaN/Inf anywhere makes it NaN), so a spike of
        one step in 100,000 still shows.
    row_pixels : int, optional
        Pixel rows of the image (default: the axes' height in pixels); more units than that
        are folded by the same rule, k units per row.

    Returns
    -------
    (Figure, Axes)
        The image is ``ax.images[0]``; its array is ``lc.<quantity>[sample, t0:t1][:, units].T``
        (or that reduction of it).
    """
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    arr = quantity_array(lc, quantity)
    b = check_sample(c, sample)
    n_t = arr.shape[1]
    a, z = check_window(t0, t1, n_t)
    rows = check_units(units, lc.units)
    spec = color_spec(quantity, arr)
    fig, ax = new_axes(ax, (8.0, 3.0))
    data = arr[b, a:z] if rows is None else arr[b, a:z][:, rows]
    img = np.asarray(data, np.float32).T  # (rows, steps)
    cols = columns if columns is not None else pixel_columns(ax)
    k = 1
    if img.shape[1] > cols:
        edges = column_edges(img.shape[1], cols)
        k = bucket_size(edges, img.shape[1])
        img = extreme_columns(img, edges, spec.mid)
    n_units = img.shape[0]
    rows_px = row_pixels if row_pixels is not None else pixel_rows(ax)
    kr = 1
    if n_units > rows_px:  # more units than pixel rows: fold them the same way
        redges = column_edges(n_units, rows_px)
        kr = bucket_size(redges, n_units)
        img = extreme_columns(img.T, redges, spec.mid).T
    im = ax.imshow(
        np.ma.masked_invalid(img),
        aspect="auto",
        interpolation="nearest",
        cmap=spec.cmap(),
        norm=spec.norm(),
        extent=(a - 0.5, a - 0.5 + img.shape[1] * k, img.shape[0] * kr - 0.5, -0.5),
    )
    time_axis(ax, c, b, a, z, length=min(int(c.lengths[b]), n_t), cursor=cursor, labels=time_labels)
    _unit_axis(ax, rows, lc.units)
    shown_rows = list(range(lc.units)) if rows is None else rows
    for u in selected:
        if u in shown_rows:
            r = shown_rows.index(u)
            ax.add_patch(
                Rectangle((a - 0.5, r - 0.5), z - a, 1, fill=False, ec="#111111", lw=0.9, zorder=4)
            )
    parts = [f"{k} steps/column"] * (k > 1) + [f"{kr} units/row"] * (kr > 1)
    agg = f" · min/max per pixel ({', '.join(parts)})" if parts else ""
    title(ax, f"{quantity_label(quantity, lc.kind)} · {layer_title(c, lc.name)} · sample {b}{agg}")
    if colorbar:
        add_colorbar(ax, im, quantity_label(quantity, lc.kind))
    nan_note(ax, data)
    return fig, ax


def _unit_axis(ax: Axes, rows: list[int] | None, n_units: int) -> None:
    n = n_units if rows is None else len(rows)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_ylabel("unit")
    if rows is not None and n <= 16:
        ax.set_yticks(range(n), [str(u) for u in rows], fontsize=7)
    else:
        ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))


def gate_heatmaps(
    cap: Any,
    layer: str | None = None,
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    units: Sequence[int] | None = None,
    fig: Figure | None = None,
    *,
    cursor: int | None = None,
    selected: Sequence[int] = (),
    columns: int | None = None,
) -> tuple[Figure, list[Axes]]:
    """Every gate of a layer as a heatmap, stacked on one time axis (the widget's "gates"
    small multiples): sigmoid gates viridis on [0, 1], tanh gates diverging."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    if not lc.gates:
        raise ValueError(f"layer {lc.name!r} is a {lc.kind}: it has no gates to draw")
    if fig is None:
        fig = Figure(figsize=(8.0, 1.0 + 1.3 * len(lc.gates)), layout="constrained")
    axes = list(fig.subplots(len(lc.gates), 1, sharex=True, squeeze=False)[:, 0])
    for i, (g, ax) in enumerate(zip(lc.gates, axes, strict=True)):
        heatmap(
            c,
            lc.name,
            f"gate:{g}",
            sample,
            t0,
            t1,
            units,
            ax,
            cursor=cursor,
            selected=selected,
            columns=columns,
            time_labels=i == len(axes) - 1,
        )
    return fig, axes


def vector(
    cap: Any,
    layer: str | None = None,
    quantity: str = "h",
    sample: int = 0,
    timestep: int = 0,
    ax: Axes | None = None,
    *,
    selected: Sequence[int] = (),
) -> tuple[Figure, Axes]:
    """The quantity at one timestep, one bar per unit in the heatmap's colours."""
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    arr = quantity_array(lc, quantity)
    b = check_sample(c, sample)
    t, _ = check_window(timestep, timestep + 1, arr.shape[1])
    spec = color_spec(quantity, arr)
    fig, ax = new_axes(ax, (5.0, 2.2))
    v = np.asarray(arr[b, t], np.float64)
    colours = spec.cmap()(spec.norm()(np.ma.masked_invalid(v)))
    bars = ax.bar(
        np.arange(lc.units),
        np.nan_to_num(v, nan=0.0, posinf=0, neginf=0),
        color=colours,
        width=0.85,
    )
    for u in selected:
        if 0 <= u < lc.units:
            bars[u].set_edgecolor("#111111")
            bars[u].set_linewidth(1.2)
    ax.axhline(0, color="#888888", lw=0.6)
    lo, hi = spec.domain
    ax.set_ylim(min(lo, 0.0), hi)
    ax.set_xlabel("unit")
    ax.set_ylabel(quantity_label(quantity, lc.kind))
    token = ""
    if c.tokens is not None and t < len(c.tokens[b]):
        token = f" ({c.tokens[b][t]!r})"
    title(ax, f"{quantity_label(quantity, lc.kind)} at t = {t}{token} · {layer_title(c, lc.name)}")
    return fig, ax


def image_of(ax: Axes) -> AxesImage:
    """The first image of an axes (tests and restyling)."""
    return ax.images[0]
