"""``capture(model, seq)``: one forward pass, a vectorised replay, a fidelity check."""

from __future__ import annotations

import os
import warnings
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from .. import _progress
from ..data import GATE_NAMES, Capture, LayerCapture
from ..store.guard import check_capture_memory
from .assemble import merge, pad
from .attention import assemble_attention
from .batching import split_kwargs, take
from .inputs import prepare_batch, resolve_tokens
from .predictions import capture_predictions
from .record import Pass, RnnCall
from .replay import NUMPY_ACTIVATIONS, Activation, CellWeights, replay
from .session import run_passes, session_for
from .tree import no_recurrent_layer

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
        kernel=_value(cell.kernel),
        recurrent_kernel=_value(cell.recurrent_kernel),
        bias=None if bias is None else _value(bias),
    )


def _f32(a: Any) -> np.ndarray:
    return np.asarray(a, dtype=np.float32)


def _value(v: Any) -> np.ndarray:
    return _f32(v.numpy())


def _replay_call(call: RnnCall) -> dict[str, Any]:
    """Replay one recorded recurrent call and check it against the layer's own output."""
    layer, kind = call.slot.layer, call.slot.kind
    x, mask, seq = call.x, call.mask, call.seq
    backwards = bool(layer.go_backwards)
    x_p = x[:, ::-1] if backwards else x
    m_p = None if mask is None else (mask[:, ::-1] if backwards else mask)
    init = call.init
    act, act_name = _activation(layer.cell.activation)
    rec_fn = getattr(layer.cell, "recurrent_activation", None)
    rec_act, rec_name = _activation(rec_fn) if rec_fn is not None else (act, "")
    w = _weights(layer)
    rep = replay(
        kind,
        x_p,
        seq,
        w,
        act,
        rec_act,
        mask=m_p,
        h0=init[0] if init else None,
        c0=init[1] if len(init) > 1 else None,
        reset_after=bool(getattr(layer.cell, "reset_after", True)),
    )
    if not rep.fidelity <= REFUSE_RELATIVE_ERROR * max(1.0, rep.scale):
        raise RuntimeError(
            f"replaying layer {call.name!r} ({kind}) does not reproduce its output (max "
            f"error {rep.fidelity:.3g}); refusing to show wrong gates. This layer "
            "probably overrides the standard cell maths, which lstmviz-widget cannot "
            "replay."
        )

    def order(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else (np.ascontiguousarray(a[:, ::-1]) if backwards else a)

    b, u = x.shape[0], seq.shape[-1]
    return {
        "kind": kind,
        "label": call.slot.label,
        "go_backwards": backwards,
        "h": order(rep.h),
        "c": order(rep.c),
        "gates": {k: order(v) for k, v in rep.gates.items()},
        "inputs": x,
        "mask": mask,
        "fidelity": rep.fidelity,
        "h0": init[0] if init else np.zeros((b, u), np.float32),
        "c0": init[1] if len(init) > 1 else np.zeros((b, u), np.float32),
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


def _run_group(p: Pass) -> dict[str, dict[str, Any]]:
    return {call.name: _replay_call(call) for call in p.rnn}


def _labels_for(y: np.ndarray | None, idx: np.ndarray, length: int, t: int):
    if y is None:
        return None
    yg = y[idx]
    if yg.ndim >= 2 and yg.shape[1] == t and length < t:  # per-step labels of a ragged batch
        yg = yg[:, :length]
    return yg


def _attach_gradients(group: dict[str, dict[str, Any]], grads: Any) -> None:
    for name, part in group.items():
        g = grads.per_layer[name]
        part["grad_h"], part["grad_c"], part["grad_x"] = g["grad_h"], g["grad_c"], g["grad_x"]
        gates = GATE_NAMES[part["kind"]]
        u = part["h"].shape[-1]
        part["grad_gates"] = {n: g["grad_z"][..., k * u : (k + 1) * u] for k, n in enumerate(gates)}
        part["grad_weights"] = g["grad_weights"]


def capture(
    model: Any,
    seq: Any,
    mask: Any = None,
    tokens: Any = None,
    *,
    y: Any = None,
    gradients: bool = False,
    loss: Any = None,
    store: Any = None,
    batch_size: int | None = None,
    overwrite: bool = False,
    progress: bool | None = None,
    call_kwargs: dict[str, Any] | None = None,
    sample_weight: Any = None,
) -> Capture:
    """Record every recurrent layer's states and gates for ``seq``, verified against Keras.

    Parameters
    ----------
    model : keras.Model
        A built Keras 3 model — Sequential, Functional or subclassed, recurrent layers at any
        depth (custom layers, nested models, Bidirectional, stateful layers) — on the
        TensorFlow, JAX or PyTorch backend. Each recurrent layer *call* is one entry of
        ``Capture.layers``, named by its path in the layer tree (see ``probe.tree``).
    seq : array-like or list
        ``(T, D)`` or ``(B, T, D)`` features (``(T,)``/``(B, T)`` token ids for an Embedding),
        a list of sequences of different lengths (padded and masked for you), or for a
        multi-input Functional model a list with one array per input. A subclassed model
        takes its first ``call`` argument here and the others in ``call_kwargs``.
    mask : array-like of bool, optional
        ``(B, T)`` or ``(T,)``; False marks steps the recurrent layers skip (their state is
        carried over), combined with any mask the model computes itself.
    tokens : list or dict, optional
        One label per step (list of str, or B lists), or a vocabulary (list or dict) mapping
        token ids to labels.
    y : array-like, optional
        Targets, batch-first as for ``model.fit``: the labels the loss compares with (for
        ``gradients=True``) and that mark mispredicted steps.
    gradients : bool
        Also record ∂L/∂h_t, ∂L/∂c_t, ∂L/∂(gate pre-activations) and ∂L/∂weights of every
        recurrent layer (one backward pass), and input saliency (gradient × input).
    loss : None, str, callable or int
        The loss L: None for the model's compiled loss, a Keras loss name or
        ``keras.losses.Loss``, a callable ``loss(y_true, y_pred)`` (reduced as Keras reduces a
        loss function: ``sum_over_batch_size``), or an int ``k`` for the logit of class k (the
        output layer's pre-activation, summed over steps). Per sample, L is what Keras
        reports for that sample alone (its reduction over the non-batch axes, the output's
        mask and ``sample_weight`` respected); over the batch, the per-sample losses are
        summed, so each sample's gradients are its own and for one sample
        ``cap.loss == model.evaluate(x, y)`` (regularisation losses aside).

    call_kwargs : dict, optional
        Further arguments of the model's ``call`` (e.g. ``{"states": h0}`` for a model whose
        ``call(inputs, states=None, ...)`` passes ``initial_state=states``). Arrays are
        batch-first (split with the batch for ragged input); other values are fixed.
        ``training`` is always False.
    sample_weight : array-like, optional
        ``(B,)`` or ``(B, T)`` weights of the loss, as for ``model.fit`` (gradients only).
    store, batch_size, overwrite, progress
        Whole data sets (``seq`` may then also be a generator of ``x``/``(x, y)`` batches, a
        ``tf.data.Dataset`` or a ``keras.utils.PyDataset``): captured batch by batch into the
        zarr store ``store`` (returned opened, lazily), or into memory without ``store``; see
        :mod:`lstmviz_widget.store`. ``overwrite=False`` refuses an existing store;
        ``progress`` shows a progress bar (tqdm) for captures over a second.

    Stateful layers start from their current states, which are the same after the capture
    as before.

    Returns
    -------
    Capture
    """
    from ..store.sources import is_batch_source

    if store is not None or batch_size is not None or is_batch_source(seq):
        from ..store.batches import capture_batches

        return capture_batches(
            capture, model, seq, mask=mask, tokens=tokens, y=y, gradients=gradients, loss=loss,
            store=store, batch_size=batch_size, overwrite=overwrite, progress=progress,
        )  # fmt: skip
    session = session_for(model)
    specs, dtypes = session.input_specs(seq)
    batch = prepare_batch(seq, specs, dtypes, mask)
    b, t = batch.arrays[0].shape[0], int(batch.lengths.max())
    check_capture_memory(model, b, t, gradients=gradients)  # MemoryError before any work
    y_arr = None if y is None else np.asarray(y)
    if y_arr is not None and (y_arr.ndim == 0 or y_arr.shape[0] != b):
        raise ValueError(f"y has shape {np.shape(y)}; expected one target per sequence ({b}, ...)")
    if not session.tree.rnns:
        raise no_recurrent_layer(model)
    static, tensors = split_kwargs(call_kwargs)
    grad_pass = None
    if gradients:
        from .gradients import gradient_pass_for

        grad_pass = gradient_pass_for(session, loss, static)
        if grad_pass.needs_labels and y is None:
            raise ValueError(
                "gradients=True with a loss needs labels: pass y= (the targets, as for "
                "model.fit), or loss=k for the logit of class k."
            )
    sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
    if sw is not None and (sw.ndim == 0 or sw.shape[0] != b):
        raise ValueError(
            f"sample_weight has shape {np.shape(sample_weight)}; expected ({b},) or ({b}, T)."
        )
    passes = run_passes(session, batch.arrays, batch.lengths, batch.user_mask, call_kwargs)
    if not passes[0][3].rnn:
        raise ValueError(
            f"none of the recurrent layers of model {model.name!r} ran in its forward pass "
            f"({', '.join(s.path for s in session.tree.rnns)}); nothing to capture."
        )
    parts: dict[str, list[tuple[np.ndarray, dict[str, Any]]]] = {}
    total_loss = 0.0
    saliency = np.zeros((b, t), np.float32) if gradients else None
    for idx, length, arrays, p in _progress.progress(
        passes, desc="capture (length groups)", enabled=progress
    ):
        group = _run_group(p)
        if grad_pass is not None:
            shapes = {n: (*q["inputs"].shape, q["h"].shape[-1]) for n, q in group.items()}
            inputs, umask = (
                (arrays[:-1], arrays[-1])
                if batch.user_mask is not None
                else (
                    arrays,
                    None,
                )
            )
            grads = grad_pass.run(
                inputs,
                umask,
                take(tensors, idx, b),
                _labels_for(y_arr, idx, int(length), t),
                None if sw is None else _labels_for(sw, idx, int(length), t),
                shapes,
                out_rank=np.ndim(p.outputs[0]),
            )
            _attach_gradients(group, grads)
            total_loss += grads.loss
            sal = _saliency(arrays[0], grads, group)  # over the first input's own steps
            saliency[idx, : sal.shape[1]] = sal
        for name, part in group.items():
            parts.setdefault(name, []).append((idx, pad(part, int(length), t)))
    layers = {name: _layer_capture(name, merge(group, b)) for name, group in parts.items()}
    ids = batch.arrays[0] if batch.arrays[0].dtype.kind in "iu" else None
    cap = Capture(
        layers=layers,
        lengths=batch.lengths,
        tokens=resolve_tokens(tokens, ids, b, t),
        model_name=model.name,
        saliency=saliency,
        loss=total_loss if gradients else None,
    )
    cap.attention = assemble_attention([(idx, p) for idx, _, _, p in passes], b)
    cap.predictions = capture_predictions(
        model, batch.arrays, cap, y, mask=batch.user_mask, passes=passes
    )
    return cap


def _saliency(x: np.ndarray, grads: Any, group: dict[str, dict[str, Any]]) -> np.ndarray:
    """Gradient × input summed over features: of the model input when it is numeric, else of
    the first recurrent layer's input (the embeddings of token ids)."""
    if grads.input_grad is not None and np.issubdtype(x.dtype, np.floating):
        g, inp = grads.input_grad, x
    else:
        first = next(iter(group.values()))
        g, inp = first["grad_x"], first["inputs"]
    return (g * inp).reshape(*g.shape[:2], -1).sum(-1)


def _layer_capture(name: str, m: dict[str, Any]) -> LayerCapture:
    if m["fidelity"] > WARN_ERROR:
        warnings.warn(
            f"layer {name!r}: replay error {m['fidelity']:.3g} exceeds {WARN_ERROR:g}",
            RuntimeWarning,
            stacklevel=3,
        )
    return LayerCapture(
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
        grad_h=m.get("grad_h"),
        grad_c=m.get("grad_c"),
        grad_gates=m.get("grad_gates", {}),
        grad_weights=m.get("grad_weights", {}),
    )
