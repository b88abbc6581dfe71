"""Capture → the explorer's `_data` trait: arrays as binary buffers with dtype/shape metadata.

See docs/widget-contract.md; js/codecs.ts decodes what this writes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Capture


def encode_array(arr: np.ndarray, dtype: str = "float32") -> dict[str, Any]:
    """One array as ``{dtype, shape, data}``; ``data`` is raw little-endian C-order bytes."""
    a = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "shape": list(a.shape), "data": memoryview(a).cast("B")}


def _padded(a: np.ndarray, t: int) -> np.ndarray:
    """Pad the time axis to ``t`` steps (a decoder shorter than its encoder); JS shades it."""
    if a.shape[1] == t:
        return a
    out = np.zeros((a.shape[0], t, *a.shape[2:]), np.float32)
    out[:, : a.shape[1]] = a
    return out


def capture_payload(cap: Capture, epochs: list[int] | None = None) -> dict[str, Any]:
    """The `_data` dict for a capture: every quantity the views can draw.

    ``epochs`` lists the training epochs of the snapshots an explorer scrubs across.
    """
    t = cap.n_steps
    layers = []
    for lc in cap:
        arrays = {"h": encode_array(_padded(lc.h, t))}
        if lc.c is not None:
            arrays["c"] = encode_array(_padded(lc.c, t))
        for g, a in lc.gates.items():
            arrays[f"gate:{g}"] = encode_array(_padded(a, t))
        layers.append(
            {
                "name": lc.name,
                "kind": lc.kind,
                "units": lc.units,
                "direction": lc.direction,
                "fidelity": float(lc.fidelity),
                "steps": int(lc.h.shape[1]),
                "arrays": arrays,
            }
        )
    return {
        "format": 1,
        "model_name": cap.model_name,
        "n_samples": cap.n_samples,
        "n_steps": cap.n_steps,
        "lengths": [int(n) for n in cap.lengths],
        "tokens": cap.tokens,
        "layers": layers,
        "epochs": epochs,
    }
