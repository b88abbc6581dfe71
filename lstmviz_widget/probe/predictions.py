"""What the model predicts at each step, how sure it is, and where it is wrong.

``capture_predictions(model, arrays, cap, y)`` fills a :class:`~lstmviz_widget.data.Predictions`
in one of three modes:

``"sequence"``
    The model's output has a time axis as long as one of its inputs', ``(B, T, K)`` (e.g.
    ``LSTM(return_sequences=True)`` followed by ``Dense``): the per-step predictions are that
    output itself, from ``predict_on_batch`` (run per group of equal-length sequences for a
    ragged batch).
``"prefix"``
    A many-to-one model whose output is computed from the last state of one recurrent layer by
    layers that act on each vector on its own (``Dense``, ``Activation``, ``Dropout``,
    ``BatchNormalization``, ``LayerNormalization``, …): that head is applied to every h_t of
    the layer (``cap[layer].h``), which is what the model would predict if the sequence ended
    at step t. At the last valid step it is the model's output.
``"none"``
    Anything else — a head with a layer that mixes steps or vectors (``Flatten``, pooling,
    ``Lambda``, …), a head that also reads other tensors, a ``Bidirectional`` or
    ``go_backwards`` layer (their last state is not a prefix state) — with ``reason`` saying
    why. Nothing is guessed.

The task comes from the output's last activation: ``"classification"`` for softmax (or outputs
that are non-negative and sum to 1 with K > 1), ``"binary"`` for sigmoid with K = 1, else
``"regression"``. Confidence per step: the largest probability (classification), |p − 0.5|·2
(binary), the value (regression, K = 1) or its Euclidean norm (K > 1). ``predicted`` is the
arg-max class (classification) or p > 0.5 (binary), and None for regression.

Labels ``y`` give ``mispredicted`` (B, T), False at padded and masked steps:

* ``"sequence"``: ``(B, T)`` class ids (0/1 for binary) or ``(B, T, K)`` one-hot (``(B, T,
  1)`` for binary); the batch axis may be left out for a single sequence. Each step's
  prediction is compared with that step's label.
* ``"prefix"``: one label per sequence, ``(B,)`` class ids or ``(B, K)`` one-hot (``(B, 1)``
  for binary). Every step's prefix prediction is compared with the sequence's label: step t is
  mispredicted when the model, stopped at t, would give a class other than the label. The last
  valid step is the model's own (mis)prediction.

Labels are ignored (and ``reason`` says so) for regression outputs and in mode ``"none"``.
With several outputs the first one that is per-step (or prefix-readable) is used; ``reason``
names it.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ..data import Capture, Predictions
from .session import run_passes, session_for

#: Layers that do nothing at inference (skipped when looking for the head's activation).
_IDENTITY = (
    keras.layers.Dropout,
    keras.layers.GaussianNoise,
    keras.layers.GaussianDropout,
    keras.layers.AlphaDropout,
    keras.layers.ActivityRegularization,
    keras.layers.Identity,
)
#: Layers that act on each vector on its own at inference (the head may hold only these).
_PER_VECTOR = (
    *_IDENTITY,
    keras.layers.Dense,
    keras.layers.Activation,
    keras.layers.ReLU,
    keras.layers.LeakyReLU,
    keras.layers.ELU,
    keras.layers.PReLU,
    keras.layers.Softmax,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.UnitNormalization,
    keras.layers.Rescaling,
)
#: Of those, the ones with an ``axis``: per-vector only along the last axis.
_NORMALISERS = (
    keras.layers.Softmax,
    keras.layers.BatchNormalization,
    keras.layers.LayerNormalization,
    keras.layers.UnitNormalization,
)
#: Rows of vectors pushed through the head at once.
_CHUNK = 65536


# -- the head --------------------------------------------------------------------------------
def _last_axis(axis: Any) -> bool:
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    return len(axes) == 1 and axes[0] in (-1, 1)


def _not_per_vector(layer: Any) -> str | None:
    """Why ``layer`` does not act on each vector of a (N, U) batch on its own, or None."""
    if not isinstance(layer, _PER_VECTOR):
        return f"{layer.name!r} ({type(layer).__name__}) is not a per-vector layer"
    axis = getattr(layer, "axis", -1)
    if isinstance(layer, _NORMALISERS) and not _last_axis(axis):
        return f"{layer.name!r} ({type(layer).__name__}) normalises over axis {axis!r}"
    return None


def _rnn_kind(layer: Any) -> str | None:
    if isinstance(layer, keras.layers.Bidirectional):
        return "Bidirectional"
    if isinstance(layer, keras.layers.RNN):
        return type(layer).__name__
    return None


def _no(why: str) -> tuple[list[Any], None, str]:
    return [], None, why


def _prefix_head(out: Any, cap: Capture) -> tuple[list[Any], Any, str]:
    """``(head layers from the recurrent layer up, recurrent layer, "")`` or ``([], None, why)``."""
    chain: list[Any] = []
    t = out
    while True:
        history = getattr(t, "_keras_history", None)
        if history is None:
            return _no("the output cannot be traced back through the graph")
        op = history.operation
        node = op._inbound_nodes[history.node_index]
        kind = _rnn_kind(op)
        if kind is not None:
            break
        if isinstance(op, keras.layers.InputLayer) or not node.arguments.keras_tensors:
            return _no("the output does not come from a recurrent layer's last state")
        if len({id(x) for x in node.arguments.keras_tensors}) != 1:
            return _no(
                f"head layer {op.name!r} ({type(op).__name__}) also reads other tensors, so "
                "the head is not a function of the recurrent state alone"
            )
        why = _not_per_vector(op)
        if why:
            return _no(f"its head is not made of per-vector layers: {why}")
        if node.arguments.kwargs.get("training") is True:
            return _no(f"head layer {op.name!r} is called with training=True")
        chain.append(op)
        t = node.arguments.keras_tensors[0]
    if kind == "Bidirectional":
        return _no(
            f"the head reads Bidirectional layer {op.name!r}, whose backward half has read "
            "the whole sequence: its last state is not a prefix state"
        )
    if op.go_backwards:
        return _no(
            f"the head reads {op.name!r}, which runs backwards (go_backwards=True): its last "
            "state is not a prefix state"
        )
    if op.return_sequences:
        return _no(f"the head reads the whole sequence of {op.name!r}, not its last state")
    if history.tensor_index not in (0, 1):
        return _no(f"the head reads the cell state of {op.name!r}, not its hidden state")
    if op.name not in cap.layers:
        return _no(f"recurrent layer {op.name!r} is not in the capture")
    chain.reverse()
    return chain, op, ""


def _apply_head(chain: list[Any], h: np.ndarray) -> np.ndarray:
    b, t, u = h.shape
    flat = h.reshape(b * t, u)
    parts = []
    for start in range(0, max(b * t, 1), _CHUNK):
        x: Any = flat[start : start + _CHUNK]
        for layer in chain:
            x = layer(x)
        parts.append(np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32))
    out = np.concatenate(parts, axis=0)
    return out.reshape(b, t, -1)


# -- task ------------------------------------------------------------------------------------
def _activation_name(layer: Any) -> str | None:
    if isinstance(layer, keras.layers.TimeDistributed):
        return _activation_name(layer.layer)
    if isinstance(layer, keras.layers.Softmax):
        return "softmax" if _last_axis(layer.axis) else None
    fn = getattr(layer, "activation", None)
    if fn is None:
        return None
    try:
        name = keras.activations.serialize(fn)
    except Exception:  # a lambda or partial
        return None
    return name if isinstance(name, str) else None


def _task(final: Any, values: np.ndarray, valid: np.ndarray) -> str:
    act = None if final is None else _activation_name(final)
    k = values.shape[-1]
    if act == "softmax" and k > 1:
        return "classification"
    if act == "sigmoid" and k == 1:
        return "binary"
    v = values[valid]
    if k > 1 and v.size and v.min() >= 0 and np.allclose(v.sum(-1), 1.0, atol=1e-4):
        return "classification"
    return "regression"


# -- labels ----------------------------------------------------------------------------------
def _labels(y: Any, mode: str, task: str, b: int, t: int, k: int) -> np.ndarray:
    """``y`` as class ids, (B,) for prefix mode or (B, T) for sequence mode."""
    arr = np.asarray(y)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise ValueError(f"y has dtype {arr.dtype}; expected class ids or one-hot numbers.")
    n_classes = 2 if task == "binary" else k
    if mode == "prefix":
        ids_shape: tuple[int, ...] = (b,)
        want = f"({b},) class ids or ({b}, {k}) one-hot: one label per sequence"
    else:
        ids_shape = (b, t)
        want = f"({b}, {t}) class ids or ({b}, {t}, {k}) one-hot: one label per step"
    hot_shape = (*ids_shape, k)
    full, bare = (ids_shape, hot_shape), (ids_shape[1:], hot_shape[1:])
    if b == 1 and arr.shape not in full and arr.shape in bare:
        arr = arr[None]  # one sequence without its batch axis
    if k > 1 and arr.shape == (*ids_shape, 1):
        arr = arr[..., 0]  # ids with a trailing axis, as sparse losses accept them
    if arr.shape == hot_shape:
        arr = arr[..., 0] if k == 1 else arr.argmax(-1)
    if arr.shape != ids_shape:
        raise ValueError(f"y has shape {np.shape(y)}; expected {want}.")
    if arr.dtype.kind == "f" and (not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr))):
        raise ValueError("y holds non-integer labels; expected class ids (or one-hot rows).")
    ids = arr.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= n_classes):
        raise ValueError(
            f"y holds labels from {ids.min()} to {ids.max()}, but the output has {n_classes} "
            "classes" + (" (0/1 for a sigmoid output)." if task == "binary" else ".")
        )
    return ids


# -- per-step results ------------------------------------------------------------------------
def _finish(
    mode: str,
    values: np.ndarray,
    valid: np.ndarray,
    final: Any,
    y: Any,
    reason: str,
    source: str | None,
) -> Predictions:
    task = _task(final, values, valid)
    b, t, k = values.shape
    predicted = None
    if task == "classification":
        confidence = values.max(-1)
        predicted = values.argmax(-1).astype(np.int64)
    elif task == "binary":
        confidence = np.abs(values[..., 0] - 0.5) * 2.0
        predicted = (values[..., 0] > 0.5).astype(np.int64)
    else:
        confidence = values[..., 0] if k == 1 else np.linalg.norm(values, axis=-1)
    mispredicted = None
    if y is not None:
        if predicted is None:
            reason += "; labels y ignored: a regression output has no classes to get wrong"
        else:
            ids = _labels(y, mode, task, b, t, k)
            target = ids[:, None] if mode == "prefix" else ids
            mispredicted = (predicted != target) & valid
            reason += (
                "; mispredicted: each step's prefix prediction against the sequence's label"
                if mode == "prefix"
                else "; mispredicted: each step's prediction against that step's label"
            )
    return Predictions(
        mode=mode,
        task=task,
        values=np.ascontiguousarray(values, dtype=np.float32),
        confidence=np.ascontiguousarray(confidence, dtype=np.float32),
        predicted=predicted,
        mispredicted=mispredicted,
        reason=reason,
        source_layer=source,
    )


class _Runs:
    """The model's outputs, per group of equal-length sequences, computed once on demand
    (or given: the recorded passes ``capture`` already ran)."""

    def __init__(
        self, model: Any, arrays: list[np.ndarray], lengths: Any, mask: Any, passes: Any = None
    ) -> None:
        self.model, self.arrays, self.lengths, self.mask = model, arrays, lengths, mask
        self._passes = passes
        self._groups: list[tuple[np.ndarray, list[int], list[np.ndarray]]] | None = None

    @property
    def groups(self) -> list[tuple[np.ndarray, list[int], list[np.ndarray]]]:
        if self._groups is None:
            passes = self._passes
            if passes is None:
                passes = run_passes(session_for(self.model), self.arrays, self.lengths, self.mask)
            n_inputs = len(self.arrays)
            self._groups = [
                (idx, [a.shape[1] for a in g[:n_inputs] if a.ndim >= 2], p.outputs)
                for idx, _, g, p in passes
            ]
        return self._groups


def _sequence(runs: _Runs, k: int, b: int) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """The output ``k`` per step, ``(values, valid)``, or ``(None, None, why)``."""
    parts = []
    for idx, steps, outs in runs.groups:
        out = np.asarray(outs[k], dtype=np.float32)
        if out.ndim != 3 or out.shape[1] not in steps:
            return (
                None,
                None,
                (
                    f"its time axis has {out.shape[1]} steps where the inputs have "
                    f"{sorted(set(steps))}: not one prediction per input step"
                ),
            )
        parts.append((idx, out))
    t = max(o.shape[1] for _, o in parts)
    kk = parts[0][1].shape[-1]
    values = np.empty((b, t, kk), np.float32)
    valid = np.zeros((b, t), bool)
    for idx, out in parts:
        n = out.shape[1]
        values[idx, :n] = out
        values[idx, n:] = out[:, n - 1 : n]  # past the end: the last prediction carries over
        valid[idx, :n] = True
    return values, valid, ""


def _describe(k: int, out: Any, n: int) -> str:
    name = getattr(getattr(out, "_keras_history", None), "operation", None)
    label = f"{name.name!r}" if name is not None else repr(getattr(out, "name", "?"))
    return f"output {label}" if n == 1 else f"output {k} ({label}) of {n}"


def capture_predictions(
    model: Any,
    arrays: list[np.ndarray],
    cap: Capture,
    y: Any = None,
    *,
    mask: np.ndarray | None = None,
    passes: Any = None,
) -> Predictions:
    """Per-step predictions and confidence of ``model`` for the batch ``cap`` was taken on.

    Parameters
    ----------
    model : keras.Model
        The captured model.
    arrays : list of ndarray
        Its inputs, as ``prepare_batch`` returns them (one per model input, batch first).
    cap : Capture
        The capture of the same batch (its lengths and hidden states are used).
    y : array-like, optional
        Labels, giving ``mispredicted``: see the module docstring for the shapes.
    mask : ndarray of bool (B, T), optional
        The user mask given to ``capture`` (the model is run with that mask).
    passes : list, optional
        The recorded passes ``capture`` ran on this batch (``session.run_passes``); run here
        when not given.

    Returns
    -------
    Predictions
    """
    graph = session_for(model).graph()
    b = arrays[0].shape[0]
    runs = _Runs(model, arrays, cap.lengths, mask, passes)
    outputs: list[Any] = (
        list(graph.outputs) if graph is not None else list(runs.groups[0][2])
    )  # a subclassed model: its runtime outputs, with no graph to trace the head
    skipped: list[str] = []
    for k, out in enumerate(outputs):
        label = _describe(k, out, len(outputs))
        rank = len(out.shape)
        if rank == 3:
            values, valid, why = _sequence(runs, k, b)
            if values is not None:
                history = getattr(out, "_keras_history", None)
                final = None if history is None else history.operation
                reason = f"{label}: the model's own prediction at every step"
                if skipped:
                    reason = "; ".join([*skipped, reason])
                return _finish("sequence", values, valid, final, y, reason, None)
        elif rank == 2:
            chain, rnn, why = _prefix_head(out, cap)
            if rnn is not None:
                lc = cap[rnn.name]
                values = _apply_head(chain, lc.h)
                t = values.shape[1]
                valid = np.ones((b, t), bool)
                if lc.mask is not None:
                    valid &= lc.mask
                elif t == arrays[0].shape[1]:
                    valid &= np.arange(t)[None] < np.asarray(cap.lengths)[:, None]
                acting = [layer for layer in chain if not isinstance(layer, _IDENTITY)]
                final = acting[-1] if acting else None
                head = ", ".join(repr(layer.name) for layer in chain) or "no layers"
                reason = (
                    f"{label}: prefix readout — the head ({head}) applied to every h_t of "
                    f"{rnn.name!r}: what the model would predict if the sequence ended at t "
                    "(at the last valid step, the model's output)"
                )
                if skipped:
                    reason = "; ".join([*skipped, reason])
                return _finish("prefix", values, valid, final, y, reason, rnn.name)
        else:
            why = f"it has rank {rank}, not (B, K) or (B, T, K)"
        skipped.append(f"{label} skipped: {why}")
    reason = "no per-step predictions: " + "; ".join(skipped)
    if y is not None:
        reason += "; labels y ignored"
    return Predictions(mode="none", reason=reason)
