"""Figures of every view with matplotlib, without a browser: for papers, reports, scripts.

    from lstmviz_widget import plot
    fig, ax = plot.heatmap(cap, quantity="c", sample=0)
    fig.savefig("heatmap.pdf")

One function per view of the widget, fed by a :class:`~lstmviz_widget.Capture` (or an
explorer, whose capture is used), with the widget's colour maps, domains, legends and labels.
Each draws on a given ``ax`` (or a new figure: a plain ``matplotlib.figure.Figure``, no pyplot
state, so it works headless and in threads) and returns ``(fig, ax)`` for restyling. Long
sequences are reduced to min/max per pixel column, so no spike disappears. In a notebook a
returned figure displays as the cell's result once inline display is on (``%matplotlib
inline``, or after pyplot has drawn a first figure).

Needs matplotlib: ``pip install "lstmviz-widget[plot]"``. The widget never imports this.
"""

from __future__ import annotations

try:
    import matplotlib as _mpl  # noqa: F401
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "lstmviz_widget.plot draws with matplotlib, which is not installed: "
        'pip install "lstmviz-widget[plot]" (or pip install matplotlib)'
    ) from _exc

from .cards import attention, trajectory
from .dashboard import VIEWS, dashboard, view_figure
from .heatmaps import gate_heatmaps, heatmap, vector
from .lines import gates, gradients, memory_flow
from .tracks import confidence, input
from .weights import weight_vs_gradient, weights

__all__ = [
    "VIEWS",
    "attention",
    "confidence",
    "dashboard",
    "gate_heatmaps",
    "gates",
    "gradients",
    "heatmap",
    "input",
    "memory_flow",
    "trajectory",
    "vector",
    "view_figure",
    "weight_vs_gradient",
    "weights",
]
