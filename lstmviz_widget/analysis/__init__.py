"""Analyses of captured recurrent states: numpy only, no Keras or TensorFlow.

Each function takes a :class:`~lstmviz_widget.LayerCapture` (its arrays and mask) or plain
(B, T, U) arrays with an optional (B, T) boolean ``mask`` (True = step processed). Masked and
padded steps are left out of every statistic.

- :mod:`.pca` — PCA trajectories of the hidden state.
- :mod:`.embed` — optional t-SNE / UMAP (``pip install "lstmviz-widget[embed]"``).
- :mod:`.health` — gate saturation, dead units, state collapse, findings to show.
- :mod:`.memory` — retention (running product of the forget / update gate), memory flow (the
  explorer's memory-flow track, same definition).
- :mod:`.drift` — per-step state jumps and their z-scores.
- :mod:`.order` — unit orderings: variance, activation at t, brushed range (the explorer's row
  orders, same numbers: :func:`unit_order`), clustering.
"""

from __future__ import annotations

from ._common import mask_from_lengths
from .drift import Drift, drift, step_distance
from .embed import embed
from .health import (
    DeadUnits,
    GateSaturation,
    HealthReport,
    StateCollapse,
    dead_units,
    gate_saturation,
    health_report,
    state_collapse,
)
from .memory import (
    MemoryFlow,
    gru_memory_flow,
    lstm_memory_flow,
    memory_flow,
    retention,
    running_retention,
)
from .order import (
    UnitOrder,
    correlation,
    order_by_activation,
    order_by_clustering,
    order_by_range,
    order_by_variance,
    unit_order,
)
from .pca import PCAResult, pca

__all__ = [
    "DeadUnits",
    "Drift",
    "GateSaturation",
    "HealthReport",
    "MemoryFlow",
    "PCAResult",
    "StateCollapse",
    "UnitOrder",
    "correlation",
    "dead_units",
    "drift",
    "embed",
    "gate_saturation",
    "gru_memory_flow",
    "health_report",
    "lstm_memory_flow",
    "mask_from_lengths",
    "memory_flow",
    "order_by_activation",
    "order_by_clustering",
    "order_by_range",
    "order_by_variance",
    "pca",
    "retention",
    "running_retention",
    "state_collapse",
    "step_distance",
    "unit_order",
]
