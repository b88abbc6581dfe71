"""The monitor's live dashboard: bqplot figures and an alert panel in one ipywidgets box.

Marks are updated by assigning whole numpy arrays to ``mark.x``/``mark.y``; bqplot sends
them to the frontend as binary buffers. Without a frontend (a plain script) the widgets still
hold the arrays, and nothing is sent.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from bqplot import Axis, Figure, LinearScale, Lines

from .history import Recorder
from .stats import parse_key

#: Colours of successive lines in one figure (Tableau 10).
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)

_NO_GRADIENTS = "no gradient norms: pass probe_y= to LSTMMonitor to record them"


class _Panel:
    """One bqplot Figure whose Lines marks are created as their series appear."""

    def __init__(self, title: str, x_label: str, y_label: str) -> None:
        self.x_scale, self.y_scale = LinearScale(), LinearScale()
        axes = [
            Axis(scale=self.x_scale, label=x_label, side="bottom"),
            Axis(
                scale=self.y_scale,
                label=y_label,
                side="left",
                tick_format=".3g",
                label_offset="4em",  # left of the tick labels
            ),
        ]
        self.figure = Figure(
            marks=[],
            axes=axes,
            title=title,
            legend_location="top-right",
            layout=widgets.Layout(width="480px", height="300px"),
            fig_margin={"top": 40, "bottom": 40, "left": 80, "right": 20},
        )
        self.lines: dict[str, Lines] = {}

    def line(self, key: str, label: str) -> Lines:
        mark = self.lines.get(key)
        if mark is None:
            mark = Lines(
                x=np.zeros(0),
                y=np.zeros(0),
                scales={"x": self.x_scale, "y": self.y_scale},
                labels=[label],
                display_legend=True,
                colors=[PALETTE[len(self.lines) % len(PALETTE)]],
            )
            self.lines[key] = mark
            self.figure.marks = [*self.figure.marks, mark]
        return mark

    def set(self, key: str, label: str, x: np.ndarray, y: np.ndarray) -> None:
        mark = self.line(key, label)
        with mark.hold_sync():
            mark.x = np.asarray(x, dtype=np.float64)
            mark.y = np.asarray(y, dtype=np.float64)


class Dashboard:
    """Loss, gradient norms, gate saturation, hidden-state variance and alerts.

    Parameters
    ----------
    gradients : bool
        Whether gradient norms are recorded; without them the gradient panel says why it is
        empty.

    Attributes
    ----------
    loss, grad, saturation, variance : bqplot.Figure
        The four figures.
    alerts : ipywidgets.HTML
        The alert list (escaped text).
    widget : ipywidgets.VBox
        Everything, laid out two figures per row.
    """

    def __init__(self, *, gradients: bool) -> None:
        self._loss = _Panel("loss", "batch step", "loss")
        title = "gradient norms" if gradients else _NO_GRADIENTS
        self._grad = _Panel(title, "batch step", "‖∂L/∂W‖")
        self._sat = _Panel("gate saturation", "batch step", "fraction saturated")
        self._var = _Panel("hidden-state variance", "batch step", "mean var(h) over time")
        self.loss, self.grad = self._loss.figure, self._grad.figure
        self.saturation, self.variance = self._sat.figure, self._var.figure
        self.alerts = widgets.HTML(value=_alerts_html([], []))
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.loss, self.grad]),
                widgets.HBox([self.saturation, self.variance]),
                self.alerts,
            ]
        )

    @property
    def panels(self) -> dict[str, _Panel]:
        """The panels by name: ``loss``, ``grad``, ``saturation``, ``variance``."""
        return {
            "loss": self._loss,
            "grad": self._grad,
            "saturation": self._sat,
            "variance": self._var,
        }

    def update(self, rec: Recorder, alerts: Sequence[str], errors: Sequence[str]) -> None:
        """Redraw every series from ``rec`` and the alert panel."""
        step = rec.series("batch", "batch_step")
        if step.size:
            self._loss.set("loss", "train (batch)", step, rec.series("batch", "loss"))
        epoch_step = rec.series("epoch", "epoch_step")
        for key in rec.keys("epoch"):
            if key.startswith("val_") and "loss" in key:
                self._loss.set(key, f"{key} (epoch)", epoch_step, rec.series("epoch", key))
        probe_step = rec.series("probe", "probe_step")
        for key in rec.keys("probe"):
            quantity, layer, gate, weight = parse_key(key)
            y = rec.series("probe", key)
            if quantity == "grad_norm" and gate is None and weight != "bias":
                self._grad.set(key, f"{layer} {weight}", probe_step, y)
            elif quantity == "saturation":
                self._sat.set(key, f"{layer} {gate}", probe_step, y)
            elif quantity == "hidden_var":
                self._var.set(key, layer, probe_step, y)
        text = _alerts_html(alerts, errors)
        if text != self.alerts.value:
            self.alerts.value = text


def _alerts_html(alerts: Sequence[str], errors: Sequence[str]) -> str:
    if not alerts and not errors:
        return "<b>alerts</b>: none"
    items = [f"<li>{html.escape(a)}</li>" for a in alerts]
    items += [f"<li><i>monitor error: {html.escape(e)}</i></li>" for e in errors[-5:]]
    return f"<b>alerts</b><ul>{''.join(items)}</ul>"
