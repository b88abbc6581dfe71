"""What the monitor records from one capture of the probe sequences (numpy only)."""

from __future__ import annotations

import numpy as np

from ..analysis import gate_saturation, state_collapse
from ..data import GATE_NAMES, Capture

#: Weight names whose gradient norms are recorded, and their short labels.
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


def probe_stats(cap: Capture) -> dict[str, float]:
    """Gradient norms, gate saturation and hidden-state variance of every captured layer.

    Parameters
    ----------
    cap : Capture
        A capture of the probe sequences; with ``gradients=True`` its weight gradients give
        the norms, otherwise no ``grad_norm/`` entries are returned.

    Returns
    -------
    dict of str to float
        ``grad_norm/<layer>/<weight>`` (Frobenius norm of ∂L/∂weight, weight in kernel,
        recurrent_kernel, bias), ``grad_norm/<layer>/<gate>/<weight>`` (the gate's slice),
        ``saturation/<layer>/<gate>`` (fraction of valid steps and units saturated, see
        :func:`~lstmviz_widget.analysis.gate_saturation`) and ``hidden_var/<layer>`` (mean
        per-sample variance of h over time, see
        :func:`~lstmviz_widget.analysis.state_collapse`).
    """
    out: dict[str, float] = {}
    for lc in cap:
        if lc.grad_weights:
            for w in WEIGHT_NAMES:
                if w in lc.grad_weights:
                    out[f"grad_norm/{lc.name}/{w}"] = _norm(lc.grad_weights[w])
            for gate in lc.gate_names:
                for w, g in lc.gate_weights(gate, grad=True).items():
                    out[f"grad_norm/{lc.name}/{gate}/{w}"] = _norm(g)
        for gate, s in gate_saturation(lc).items():
            out[f"saturation/{lc.name}/{gate}"] = s.mean_saturated
        out[f"hidden_var/{lc.name}"] = state_collapse(lc).mean_variance
    return out


def parse_key(key: str) -> tuple[str, str, str | None, str | None]:
    """Split a :func:`probe_stats` key into (quantity, layer, gate, weight).

    Layer names may themselves hold ``/`` (``bi/forward``), so the key is read from the
    right: ``grad_norm/<layer>/<weight>`` → ``("grad_norm", layer, None, weight)``,
    ``grad_norm/<layer>/<gate>/<weight>`` → ``("grad_norm", layer, gate, weight)``,
    ``saturation/<layer>/<gate>`` → ``("saturation", layer, gate, None)``,
    ``hidden_var/<layer>`` → ``("hidden_var", layer, None, None)``.
    """
    quantity, _, rest = key.partition("/")
    parts = rest.split("/")
    if quantity == "grad_norm":
        weight, parts = parts[-1], parts[:-1]
        if len(parts) >= 2 and parts[-1] in _ALL_GATES:
            return quantity, "/".join(parts[:-1]), parts[-1], weight
        return quantity, "/".join(parts), None, weight
    if quantity == "saturation":
        return quantity, "/".join(parts[:-1]), parts[-1], None
    return quantity, rest, None, None


_ALL_GATES = frozenset(g for gates in GATE_NAMES.values() for g in gates)


def _norm(a: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel()))
