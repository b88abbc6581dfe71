"""What one epoch's summaries hold, as numpy: shared by the TensorBoard and W&B writers, so
both log the same images, histograms and scalars."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..data import Capture


@dataclass
class EpochSummaries:
    """Per layer ``<L>`` and gate ``<g>``:

    - ``images["<L>/<g>/kernel"]``, ``images["<L>/<g>/recurrent_kernel"]``: the gate's weight
      matrix (rows = inputs, columns = units) min–max normalised to [0, 1], float32 (H, W);
    - ``histograms["<L>/<g>/bias"]`` and ``histograms["<L>/<g>/activation"]`` (gate
      activations on the probe sequences, valid steps only), flat float32 arrays;
    - ``scalars``: every ``grad_norm/...`` entry of the probe's stats, under the same name.
    """

    images: dict[str, np.ndarray] = field(default_factory=dict)
    histograms: dict[str, np.ndarray] = field(default_factory=dict)
    scalars: dict[str, float] = field(default_factory=dict)


def epoch_summaries(cap: Capture, stats: Mapping[str, float]) -> EpochSummaries:
    """The summaries of one epoch-end capture and its :func:`probe_stats`."""
    out = EpochSummaries()
    for lc in cap:
        mask = lc.mask
        for gate in lc.gate_names or ("cell",):
            w = lc.gate_weights(gate)
            for name in ("kernel", "recurrent_kernel"):
                out.images[f"{lc.name}/{gate}/{name}"] = normalised(w[name])
            if "bias" in w:
                out.histograms[f"{lc.name}/{gate}/bias"] = np.ravel(w["bias"])
            if gate in lc.gates:
                a = lc.gates[gate]
                a = a[mask] if mask is not None else a.reshape(-1, a.shape[-1])
                out.histograms[f"{lc.name}/{gate}/activation"] = a.ravel()
    out.scalars = {k: float(v) for k, v in stats.items() if k.startswith("grad_norm/")}
    return out


def normalised(w: np.ndarray) -> np.ndarray:
    """A 2-D matrix min–max normalised to [0, 1] (NaN → 0; a constant matrix → zeros)."""
    w = np.nan_to_num(np.asarray(w, dtype=np.float32))
    lo, hi = (float(w.min()), float(w.max())) if w.size else (0.0, 0.0)
    return (w - lo) / (hi - lo) if hi > lo else np.zeros_like(w)
