"""The widget's main panels as one figure, and an explorer's current view as a figure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..data import Capture
from ._common import as_capture, check_sample, check_window, pick_layer
from .cards import attention, trajectory
from .heatmaps import gate_heatmaps, heatmap, vector
from .lines import gates, gradients, memory_flow
from .tracks import confidence, input
from .weights import weight_vs_gradient, weights


def _time_tracks(cap: Capture, layer: str) -> list[str]:
    """The time tracks the widget shows for a layer, top to bottom."""
    lc = cap[layer]
    first = next(iter(cap))
    out = []
    numeric = cap.tokens is None and first.inputs.ndim == 3 and first.inputs.shape[-1] > 0
    if numeric or cap.tokens is not None or cap.saliency is not None:
        out.append("input")
    out.append("heatmap")
    if lc.gates:
        out.append("gatelines")
    if lc.kind in ("LSTM", "GRU") and lc.gates:
        out.append("memory")
    if lc.grad_h is not None:
        out.append("gradients")
    if cap.predictions is not None and cap.predictions.confidence is not None:
        out.append("confidence")
    return out


_HEIGHTS = {
    "input": 1.0,
    "heatmap": 2.2,
    "gatelines": 1.4,
    "memory": 1.2,
    "gradients": 1.3,
    "confidence": 1.0,
}


def dashboard(
    cap: Any,
    layer: str | None = None,
    quantity: str = "h",
    sample: int = 0,
    t0: int | None = None,
    t1: int | None = None,
    *,
    cursor: int | None = None,
    selected: Sequence[int] = (),
    figsize: tuple[float, float] | None = None,
) -> tuple[Figure, dict[str, Axes]]:
    """The widget's main panels in one figure: the time tracks on one time axis (input,
    heatmap of ``quantity``, gate lines, memory flow, gradient norms, confidence: those the
    capture has) over a row of cards (trajectory, attention, weights).

    Returns
    -------
    (Figure, dict of str to Axes)
        The axes keyed by view name (``"input"``, ``"heatmap"``, ``"gatelines"``,
        ``"memory"``, ``"gradients"``, ``"confidence"``, ``"trajectory"``, ``"attention"``,
        ``"weights"``).
    """
    c = as_capture(cap)
    lc = pick_layer(c, layer)
    b = check_sample(c, sample)
    a, z = check_window(t0, t1, lc.h.shape[1])
    tracks = _time_tracks(c, lc.name)
    cards = (
        ["trajectory"]
        + (["attention"] if c.attention else [])
        + (["weights"] if lc.weights else [])
    )
    height = sum(_HEIGHTS[t] for t in tracks) + 3.4
    fig = Figure(figsize=figsize or (11.0, height), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[height - 3.4, 3.4])
    top, bottom = fig.add_subfigure(grid[0]), fig.add_subfigure(grid[1])
    axes: dict[str, Axes] = {}
    track_axes = top.subplots(
        len(tracks), 1, sharex=True, squeeze=False, height_ratios=[_HEIGHTS[t] for t in tracks]
    )[:, 0]
    common = {"sample": b, "t0": a, "t1": z, "cursor": cursor}
    for name, ax in zip(tracks, track_axes, strict=True):
        axes[name] = ax
        _draw_track(c, lc.name, name, ax, quantity, selected, common)
    for ax in track_axes[:-1]:
        ax.set_xlabel("")
        ax.tick_params(labelbottom=False)
    widths = [1.0 if k != "weights" else 1.6 for k in cards]
    card_axes = bottom.subplots(1, len(cards), squeeze=False, width_ratios=widths)[0]
    for name, ax in zip(cards, card_axes, strict=True):
        axes[name] = ax
        if name == "trajectory":
            trajectory(c, lc.name, b, ax=ax, cursor=cursor)
        elif name == "attention":
            attention(c, None, b, ax=ax, cursor=cursor)
        else:
            weights(c, lc.name, ax=ax)
    fig.suptitle(f"{c.model_name or 'model'} · {lc.name} · sample {b}", fontsize=10)
    return fig, axes


def _draw_track(
    c: Capture,
    layer: str,
    name: str,
    ax: Axes,
    quantity: str,
    selected: Sequence[int],
    common: dict[str, Any],
) -> None:
    if name == "input":
        input(c, ax=ax, **common)
    elif name == "heatmap":
        heatmap(c, layer, quantity, ax=ax, selected=selected, **common)
    elif name == "gatelines":
        gates(c, layer, units=_thin(quantity, selected), ax=ax, **common)
    elif name == "memory":
        memory_flow(c, layer, units=selected[:8], ax=ax, **common)
    elif name == "gradients":
        gradients(c, layer, ax=ax, **common)
    elif name == "confidence":
        confidence(c, ax=ax, **common)


def _thin(quantity: str, selected: Sequence[int]) -> list[int]:
    """Selected units get their own thin gate lines (the first 8, as the widget)."""
    return list(selected)[:8]


Drawer = Callable[..., Any]

#: What ``explorer.figure(view)`` draws: the widget's view names (``data-view``) and the
#: plot functions' names.
VIEWS: dict[str, str] = {
    "dashboard": "dashboard",
    "heatmap": "heatmap",
    "gates": "gate_heatmaps",
    "gate_heatmaps": "gate_heatmaps",
    "gatelines": "gates",
    "memory": "memory_flow",
    "memory_flow": "memory_flow",
    "gradients": "gradients",
    "confidence": "confidence",
    "input": "input",
    "vector": "vector",
    "attention": "attention",
    "trajectory": "trajectory",
    "weights": "weights",
    "scatter": "weight_vs_gradient",
    "weight_vs_gradient": "weight_vs_gradient",
}


def view_figure(
    explorer: Any, view: str = "dashboard", *, t0: int | None = None, t1: int | None = None
) -> tuple[Figure, Any]:
    """What an explorer shows now, as a matplotlib figure: its capture (the current epoch's
    snapshot), ``layer``, ``quantity``, ``sample``, cursor ``timestep`` and
    ``selected_units``. The zoom window lives only in the browser (never synced to Python):
    pass ``t0``/``t1`` for a window; the default is the whole sequence."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; views: {sorted(VIEWS)}")
    cap = as_capture(explorer)
    layer = str(explorer.layer) or None
    q = str(explorer.quantity)
    b = int(explorer.sample)
    t = int(explorer.timestep)
    sel = [int(u) for u in explorer.selected_units]
    kind = VIEWS[view]
    if kind == "dashboard":
        return dashboard(cap, layer, q, b, cursor=t, selected=sel, t0=t0, t1=t1)
    if kind == "heatmap":
        return heatmap(cap, layer, q, b, cursor=t, selected=sel, t0=t0, t1=t1)
    if kind == "gate_heatmaps":
        return gate_heatmaps(cap, layer, b, cursor=t, selected=sel, t0=t0, t1=t1)
    if kind == "gates":
        return gates(cap, layer, b, units=sel[:8], cursor=t, t0=t0, t1=t1)
    if kind == "memory_flow":
        return memory_flow(cap, layer, b, units=sel[:8], cursor=t, t0=t0, t1=t1)
    if kind == "gradients":
        return gradients(cap, layer, b, cursor=t, t0=t0, t1=t1)
    if kind == "confidence":
        return confidence(cap, b, cursor=t, t0=t0, t1=t1)
    if kind == "input":
        return input(cap, b, cursor=t, t0=t0, t1=t1)
    if kind == "vector":
        return vector(cap, layer, q, b, t, selected=sel)
    if kind == "attention":
        return attention(cap, None, b, cursor=t)
    if kind == "trajectory":
        return trajectory(cap, layer, b, cursor=t)
    if kind == "weights":
        return weights(cap, layer)
    return weight_vs_gradient(cap, layer, highlight=tuple(sel))


def layer_of(cap: Capture, layer: str | None) -> str:
    """The layer name used when ``layer`` is None (the first)."""
    return pick_layer(cap, layer).name
