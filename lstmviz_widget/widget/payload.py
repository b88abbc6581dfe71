"""The payload builder: Capture → the explorer's `_data` trait.

Every array goes through the codec (:mod:`.codec`: binary buffers with dtype and shape);
js/codecs.ts ``decodePayload`` reads the whole structure back (docs/widget-contract.md).
Everything the views draw is prepared here once per capture (gradient norms, PCA projection,
per-gate weights, health findings), so scrubbing never waits on the kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..analysis.health import health_report
from ..analysis.pca import pca
from ..data import Capture, LayerCapture
from .codec import TRANSPORTS, encode_array

#: Features of the numeric input drawn as line tracks (the first ones).
MAX_INPUT_FEATURES = 8


def _padded(a: np.ndarray, t: int) -> np.ndarray:
    """Pad the time axis to ``t`` steps (a decoder shorter than its encoder); JS shades it."""
    if a.shape[1] == t:
        return a
    out = np.zeros((a.shape[0], t, *a.shape[2:]), a.dtype if a.dtype != bool else np.float32)
    out[:, : a.shape[1]] = a
    return out


def _norms(a: np.ndarray, t: int) -> dict[str, Any]:
    """L2 norm over units at every step, (B, T), float32 (never float16: gradients vanish)."""
    n = np.sqrt(np.einsum("btu,btu->bt", a, a, dtype=np.float64)).astype(np.float32)
    return encode_array(_padded(n, t))


def _health(lc: LayerCapture) -> dict[str, Any]:
    """Findings plus clickable unit groups (saturated gates, dead units)."""
    rep = health_report(lc)
    groups = []
    for name, s in rep.saturation.items():
        bad = s.saturated > 0.5
        if bad.any():
            groups.append(
                {
                    "label": f"{name} gate saturated",
                    "units": np.flatnonzero(bad).tolist(),
                    "kind": "saturated",
                }
            )
    if rep.dead.dead.any():
        groups.append(
            {"label": "dead units", "units": np.flatnonzero(rep.dead.dead).tolist(), "kind": "dead"}
        )
    return {
        "findings": list(rep.findings),
        "groups": groups,
        "collapsed": bool(rep.collapse.collapsed),
        "mean_variance": float(rep.collapse.mean_variance),
    }


def _pca(lc: LayerCapture, t: int) -> dict[str, Any] | None:
    n_valid = int(lc.mask.sum()) if lc.mask is not None else lc.h.shape[0] * lc.h.shape[1]
    k = min(3, lc.units, n_valid)
    if k < 1:
        return None
    res = pca(lc, k=k)
    if not np.isfinite(res.projection).all():
        return None
    return {
        "projection": encode_array(_padded(res.projection, t)),
        "explained": [float(v) for v in res.explained_variance_ratio],
    }


def _weights(lc: LayerCapture, grad: bool, dtype: str) -> dict[str, Any] | None:
    source = lc.grad_weights if grad else lc.weights
    if not source:
        return None
    out = {}
    for g in lc.gate_names or ("cell",):
        parts = lc.gate_weights(g, grad=grad)
        out[g] = {name: encode_array(a, dtype, scaled=True) for name, a in parts.items()}
    return out


def layer_meta(lc: LayerCapture) -> dict[str, Any]:
    """What a layer's payload says about it, tiled or not."""
    return {
        "name": lc.name,
        "kind": lc.kind,
        "units": lc.units,
        "direction": lc.direction,
        "fidelity": float(lc.fidelity),
        "steps": int(lc.h.shape[1]),
        "input_dim": int(lc.inputs.shape[-1]) if lc.inputs.ndim == 3 else 0,
    }


def _layer(lc: LayerCapture, t: int, dtype: str) -> dict[str, Any]:
    arrays = {"h": encode_array(_padded(lc.h, t), dtype)}
    if lc.c is not None:
        arrays["c"] = encode_array(_padded(lc.c, t), dtype)
    for g, a in lc.gates.items():
        arrays[f"gate:{g}"] = encode_array(_padded(a, t), dtype)
    grad_norms = {}
    if lc.grad_h is not None:
        grad_norms["h"] = _norms(lc.grad_h, t)
    if lc.grad_c is not None:
        grad_norms["c"] = _norms(lc.grad_c, t)
    for g, a in lc.grad_gates.items():
        grad_norms[f"gate:{g}"] = _norms(a, t)
    pc = _pca(lc, t)
    return {
        **layer_meta(lc),
        "arrays": arrays,
        "grad_norms": grad_norms or None,
        "pca": pc,
        "weights": _weights(lc, False, dtype),
        "weight_grads": _weights(lc, True, dtype),
        "health": _health(lc),
    }


def _input_track(cap: Capture, t: int) -> dict[str, Any] | None:
    """The first recurrent layer's input sequence as line tracks (numeric inputs only)."""
    if cap.tokens is not None:
        return None
    first = next(iter(cap))
    x = first.inputs
    if x.ndim != 3 or x.shape[-1] == 0:
        return None
    d = x.shape[-1]
    shown = min(d, MAX_INPUT_FEATURES)
    return {
        "label": f"input to {first.name}",
        "features": d,
        "values": encode_array(_padded(np.asarray(x[..., :shown], np.float32), t)),
    }


def _predictions(cap: Capture, t: int) -> dict[str, Any] | None:
    p = cap.predictions
    if p is None or p.confidence is None:
        return None
    return {
        "mode": p.mode,
        "task": p.task,
        "reason": p.reason,
        "source_layer": p.source_layer,
        "confidence": encode_array(_padded(p.confidence, t)),
        "predicted": None
        if p.predicted is None
        else encode_array(_padded(p.predicted, t), "int32"),
        "mispredicted": None
        if p.mispredicted is None
        else encode_array(_padded(p.mispredicted.astype(np.uint8), t), "uint8"),
    }


def capture_payload(
    cap: Capture, epochs: list[int] | None = None, *, transport: str = "float32"
) -> dict[str, Any]:
    """The `_data` dict for a capture: every quantity the views can draw.

    Parameters
    ----------
    cap : Capture
    epochs : list of int, optional
        Training epochs of the snapshots an explorer scrubs across.
    transport : {"float32", "float16"}
        dtype of the big per-step arrays on the wire (float16 halves the bytes; values beyond
        ±65504 become ±inf and are marked as such). Weights and their gradients go as float16
        scaled by their max |value| (see :func:`encode_array`); norms, PCA and predictions stay
        float32.
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {TRANSPORTS}, got {transport!r}")
    t = cap.n_steps
    return {
        "format": 1,
        "model_name": cap.model_name,
        "n_samples": cap.n_samples,
        "n_steps": t,
        "lengths": [int(n) for n in cap.lengths],
        "tokens": cap.tokens,
        "layers": [_layer(lc, t, transport) for lc in cap],
        "epochs": epochs,
        "input": _input_track(cap, t),
        "saliency": None if cap.saliency is None else encode_array(_padded(cap.saliency, t)),
        "predictions": _predictions(cap, t),
        "attention": [
            {
                "name": a.name,
                "kind": a.kind,
                "query_source": a.query_source,
                "key_source": a.key_source,
                "scores": encode_array(a.scores, transport),
            }
            for a in cap.attention.values()
        ],
        "loss": None if cap.loss is None else float(cap.loss),
    }
