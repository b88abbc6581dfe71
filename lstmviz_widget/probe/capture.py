"""``capture(model, seq)``: one forward pass, a vectorised replay, a fidelity check."""

from __future__ import annotations

import os
import warnings
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from ..data import Capture, LayerCapture
from .discover import functional_graph
from .inputs import prepare_batch, resolve_tokens
from .replay import NUMPY_ACTIVATIONS, Activation, CellWeights, replay
from .submodel import Plan, plan_for

#: Replay error (relative to max |h|) above which the capture is refused as wrong.
REFUSE_RELATIVE_ERROR = 1e-3
#: Absolute replay error above which a warning is raised (the product's float32 promise).
WARN_ERROR = 1e-5


def _activation(fn: Any) -> tuple[Activation, str]:
    try:
        name = keras.activations.serialize(fn)
    except Exception:  # a user lambda or partial: not serialisable
        name = None
    if isinstance(name, str) and name in NUMPY_ACTIVATIONS:
        return NUMPY_ACTIVATIONS[name], name

    def via_keras(a: np.ndarray) -> np.ndarray:
        return np.asarray(keras.ops.convert_to_numpy(fn(a)), dtype=np.float32)

    label = name if isinstance(name, str) else getattr(fn, "__name__", repr(fn))
    return via_keras, label


def _weights(layer: Any) -> CellWeights:
    cell = layer.cell
    bias = getattr(cell, "bias", None) if getattr(cell, "use_bias", True) else None
    return CellWeights(
        kernel=_f32(cell.kernel.numpy()),
        recurrent_kernel=_f32(cell.recurrent_kernel.numpy()),
        bias=None if bias is None else _f32(bias.numpy()),
    )


def _f32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _run_group(plan: Plan, arrays: list[np.ndarray]) -> dict[str, dict[str, Any]]:
    """Capture one batch of equal-length sequences; arrays per direction in input order."""
    outs = plan.run(arrays)
    result: dict[str, dict[str, Any]] = {}
    for slot in plan.slots:
        x = _f32(outs[slot.x])
        mask = None if slot.mask is None else np.asarray(outs[slot.mask], dtype=bool)
        for d in slot.site.directions:
            ds = slot.directions[d.name]
            seq = _f32(outs[ds.seq])
            if ds.part is not None:
                seq = seq[..., ds.part]
            backwards = bool(d.layer.go_backwards)
            if ds.input_order and backwards:
                seq = seq[:, ::-1]
            x_p = x[:, ::-1] if backwards else x
            m_p = None if mask is None else (mask[:, ::-1] if backwards else mask)
            init = [_f32(outs[i]) for i in ds.init]
            act, act_name = _activation(d.layer.cell.activation)
            rec_fn = getattr(d.layer.cell, "recurrent_activation", None)
            rec_act, rec_name = _activation(rec_fn) if rec_fn is not None else (act, "")
            w = _weights(d.layer)
            rep = replay(
                d.kind,
                x_p,
                seq,
                w,
                act,
                rec_act,
                mask=m_p,
                h0=init[0] if init else None,
                c0=init[1] if len(init) > 1 else None,
                reset_after=bool(getattr(d.layer.cell, "reset_after", True)),
            )
            if rep.fidelity > REFUSE_RELATIVE_ERROR * max(1.0, rep.scale):
                raise RuntimeError(
                    f"replaying layer {d.name!r} ({d.kind}) does not reproduce its output (max "
                    f"error {rep.fidelity:.3g}); refusing to show wrong gates. This layer "
                    "probably overrides the standard cell maths, which lstmviz-widget cannot "
                    "replay."
                )

            def order(a: np.ndarray | None, backwards=backwards) -> np.ndarray | None:
                return None if a is None else (np.ascontiguousarray(a[:, ::-1]) if backwards else a)

            result[d.name] = {
                "kind": d.kind,
                "label": d.label,
                "go_backwards": backwards,
                "h": order(rep.h),
                "c": order(rep.c),
                "gates": {k: order(v) for k, v in rep.gates.items()},
                "inputs": x,
                "mask": mask,
                "fidelity": rep.fidelity,
                "h0": init[0] if init else np.zeros((x.shape[0], seq.shape[-1]), np.float32),
                "c0": init[1]
                if len(init) > 1
                else np.zeros((x.shape[0], seq.shape[-1]), np.float32),
                "activation": act_name,
                "recurrent_activation": rec_name,
                "weights": {
                    k: v
                    for k, v in (
                        ("kernel", w.kernel),
                        ("recurrent_kernel", w.recurrent_kernel),
                        ("bias", w.bias),
                    )
                    if v is not None
                },
            }
    return result


def _pad(part: dict[str, Any], length: int, t: int) -> dict[str, Any]:
    """Pad one group's arrays from ``length`` to ``t`` steps as Keras masking would."""
    if length == t:
        return part

    def grow(a: np.ndarray, fill: np.ndarray | float) -> np.ndarray:
        out = np.empty((a.shape[0], t, *a.shape[2:]), a.dtype)
        out[:, :length] = a
        out[:, length:] = fill if np.isscalar(fill) else np.asarray(fill)[:, None]
        return out

    backwards = part["go_backwards"]
    # In processing order, padding comes after the data for a forward layer (state carried
    # over from the last step) and before it for a backward one (state still the initial one).
    h_fill = part["h0"] if backwards else part["h"][:, length - 1]
    new = dict(part)
    new["h"] = grow(part["h"], h_fill)
    if part["c"] is not None:
        new["c"] = grow(part["c"], part["c0"] if backwards else part["c"][:, length - 1])
    new["gates"] = {k: grow(v, 0.0) for k, v in part["gates"].items()}
    new["inputs"] = grow(part["inputs"], 0.0)
    mask = part["mask"] if part["mask"] is not None else np.ones(part["h"].shape[:2], bool)
    new["mask"] = grow(mask, False)
    return new


def _merge(parts: list[tuple[np.ndarray, dict[str, Any]]], b: int) -> dict[str, Any]:
    """Scatter per-group arrays back into batch order."""
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

    merged["h"] = scatter(lambda p: p["h"])
    merged["c"] = scatter(lambda p: p["c"])
    merged["inputs"] = scatter(lambda p: p["inputs"])
    if any(p["mask"] is not None for _, p in parts):
        merged["mask"] = scatter(
            lambda p: p["mask"] if p["mask"] is not None else np.ones(p["h"].shape[:2], bool)
        )
    merged["gates"] = {k: scatter(lambda p, k=k: p["gates"][k]) for k in first["gates"]}
    merged["fidelity"] = max(p["fidelity"] for _, p in parts)
    return merged


def capture(
    model: Any,
    seq: Any,
    mask: Any = None,
    tokens: Any = None,
) -> Capture:
    """Record every recurrent layer's states and gates for ``seq``, verified against Keras.

    Parameters
    ----------
    model : keras.Model
        A built Sequential or Functional Keras 3 model (TensorFlow backend).
    seq : array-like or list
        ``(T, D)`` or ``(B, T, D)`` features (``(T,)``/``(B, T)`` token ids for an Embedding),
        a list of sequences of different lengths (padded and masked for you), or for a
        multi-input model a list with one array per input.
    mask : array-like of bool, optional
        ``(B, T)`` or ``(T,)``; False marks steps the recurrent layers skip (their state is
        carried over), combined with any mask the model computes itself.
    tokens : list or dict, optional
        One label per step (list of str, or B lists), or a vocabulary (list or dict) mapping
        token ids to labels.

    Returns
    -------
    Capture
    """
    graph = functional_graph(model)
    specs = [tuple(t.shape) for t in graph.inputs]
    dtypes = [str(t.dtype) for t in graph.inputs]
    batch = prepare_batch(seq, specs, dtypes, mask)
    plan = plan_for(model)
    if batch.user_mask is not None:
        from .masking import masked_plan_for

        plan = masked_plan_for(model)
    plan.sync_weights()
    b, t = batch.arrays[0].shape[:2]
    parts: dict[str, list[tuple[np.ndarray, dict[str, Any]]]] = {}
    for length in np.unique(batch.lengths):
        idx = np.flatnonzero(batch.lengths == length)
        arrays = [a[idx, :length] for a in batch.arrays]
        if batch.user_mask is not None:
            arrays.append(batch.user_mask[idx, :length])
        for name, part in _run_group(plan, arrays).items():
            parts.setdefault(name, []).append((idx, _pad(part, int(length), t)))
    layers: dict[str, LayerCapture] = {}
    for name, group in parts.items():
        m = group[0][1] if len(group) == 1 else _merge(group, b)
        if m["fidelity"] > WARN_ERROR:
            warnings.warn(
                f"layer {name!r}: replay error {m['fidelity']:.3g} exceeds {WARN_ERROR:g}",
                RuntimeWarning,
                stacklevel=2,
            )
        layers[name] = LayerCapture(
            name=name,
            kind=m["kind"],
            h=m["h"],
            c=m["c"],
            gates=m["gates"],
            inputs=m["inputs"],
            mask=m["mask"],
            fidelity=float(m["fidelity"]),
            direction=m["label"],
            go_backwards=m["go_backwards"],
            activation=m["activation"],
            recurrent_activation=m["recurrent_activation"],
            weights=m["weights"],
        )
    ids = batch.arrays[0] if batch.arrays[0].dtype.kind in "iu" else None
    return Capture(
        layers=layers,
        lengths=batch.lengths,
        tokens=resolve_tokens(tokens, ids, b, t),
        model_name=model.name,
    )
