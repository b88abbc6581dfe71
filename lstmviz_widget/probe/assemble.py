"""Putting per-length groups back together: padding to the batch's T, scattering into order.

A ragged batch is captured one group of equal-length sequences at a time (so a model without a
Masking layer still gets exact states). Here each group is padded as Keras masking would have
done, and the groups are scattered back into batch order. Numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Per-step arrays (B, T, ...) of a layer part, padded with zeros unless said otherwise.
STEP_KEYS = ("h", "c", "inputs", "grad_h", "grad_c", "grad_x")
#: Dicts of per-step arrays.
STEP_DICTS = ("gates", "grad_gates")


def _grow(a: np.ndarray, length: int, t: int, fill: np.ndarray | float) -> np.ndarray:
    out = np.empty((a.shape[0], t, *a.shape[2:]), a.dtype)
    out[:, :length] = a
    out[:, length:] = fill if np.isscalar(fill) else np.asarray(fill)[:, None]
    return out


def pad(part: dict[str, Any], length: int, t: int) -> dict[str, Any]:
    """Pad one group's per-step arrays from ``length`` to ``t`` steps.

    In processing order, padding comes after the data for a forward layer (state carried over
    from the last step) and before it for a backward one (state still the initial one).
    Gates, inputs and gradients are zero there; the mask is False.
    """
    if length == t:
        return part
    backwards = part["go_backwards"]
    new = dict(part)
    for key in STEP_KEYS:
        a = part.get(key)
        if a is None:
            continue
        fill: np.ndarray | float = 0.0
        if key in ("h", "c"):
            fill = part[f"{key}0"] if backwards else a[:, length - 1]
        new[key] = _grow(a, length, t, fill)
    for key in STEP_DICTS:
        new[key] = {k: _grow(v, length, t, 0.0) for k, v in part.get(key, {}).items()}
    mask = part["mask"] if part["mask"] is not None else np.ones(part["h"].shape[:2], bool)
    new["mask"] = _grow(mask, length, t, False)
    return new


def merge(parts: list[tuple[np.ndarray, dict[str, Any]]], b: int) -> dict[str, Any]:
    """Scatter per-group parts (``(batch indices, part)``) back into batch order."""
    if len(parts) == 1:
        return parts[0][1]
    first = parts[0][1]
    merged = dict(first)

    def scatter(get):
        sample = get(first)
        if sample is None:
            return None
        out = np.empty((b, *sample.shape[1:]), sample.dtype)
        for idx, part in parts:
            out[idx] = get(part)
        return out

    for key in STEP_KEYS:
        merged[key] = scatter(lambda p, key=key: p.get(key))
    for key in STEP_DICTS:
        merged[key] = {k: scatter(lambda p, key=key, k=k: p[key][k]) for k in first.get(key, {})}
    if any(p["mask"] is not None for _, p in parts):
        merged["mask"] = scatter(
            lambda p: p["mask"] if p["mask"] is not None else np.ones(p["h"].shape[:2], bool)
        )
    merged["fidelity"] = max(p["fidelity"] for _, p in parts)
    if first.get("grad_weights"):
        merged["grad_weights"] = {
            k: sum(p["grad_weights"][k] for _, p in parts) for k in first["grad_weights"]
        }
    return merged
