"""Gradients through time: ∂L/∂h_t, ∂L/∂c_t, ∂L/∂(gate pre-activations), ∂L/∂weights and
input saliency, for every recurrent layer call, in one backward pass of the backend's own
autodiff (``tf.GradientTape``, ``jax.grad``, ``torch.autograd``; nothing imports TensorFlow on
JAX or PyTorch).

The model runs as itself, with each recurrent layer's ``inner_loop`` swapped (``probe.record``)
for a replay of its recurrence in ``keras.ops`` (a ``keras.ops.scan`` over the layer's own
weights) into which zero *perturbations* are added: to the layer input, to every gate
pre-activation, to c_t and to h_t. The gradient of the loss with respect to a perturbation is
the gradient with respect to the quantity it is added to, at every timestep at once. Nothing
depends on a fused kernel's backward pass, so CPU and GPU give the same answer.

The loss L
----------
Per sample, exactly as Keras reduces the compiled loss for that sample — the loss object's own
reduction over the non-batch axes (``sum_over_batch_size``: the mean over steps and features
of a sequence output), the output's Keras mask and ``sample_weight`` respected — summed over
the batch, so each sample's gradients are its own and, for one sample, L is what
``model.evaluate(x, y)`` reports (regularisation losses aside). ``loss=k`` (an int) is instead
the logit of class k — the output layer's pre-activation when the model's output layer is a
``Dense`` of a Functional/Sequential graph, else the output itself — summed over every step
and sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
from keras.src.losses.loss import reduce_weighted_values
from keras.src.losses.losses import LossFunctionWrapper

from .record import (
    BACKEND,
    _model_inputs,
    _Stash,
    patched,
    quiet_retracing,
    restore_states,
    stateful_states,
    to_numpy,
)
from .tree import RnnSlot

_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
_WEIGHTS = ("kernel", "recurrent_kernel", "bias")


def _cell_vars(slot: RnnSlot) -> list[tuple[str, Any]]:
    cell = slot.layer.cell
    out = []
    for n in _WEIGHTS:
        v = getattr(cell, n, None)
        if v is not None and (n != "bias" or getattr(cell, "use_bias", True)):
            out.append((n, v))
    return out


# -- the replay, in keras.ops ----------------------------------------------------------------
def replay_ops(slot: RnnSlot, x: Any, init: list[Any], mask: Any, pert: dict[str, Any]):
    """Replay one recurrence with perturbations; returns Keras's ``inner_loop`` triple
    ``(last output, outputs (B, T, U) in processing order, states)``.

    ``pert`` holds zero tensors in input order: ``x`` (B,T,D), ``z`` (B,T,G·U), ``h``/``c``
    (B,T,U). The gate perturbation is added to x·W + b before the loop (it is additive in the
    pre-activation); the per-step inputs are packed into one tensor, one slice per step.
    """
    ops = keras.ops
    layer, kind = slot.layer, slot.kind
    cell = layer.cell
    u = cell.units
    kernel, rec = cell.kernel.value, cell.recurrent_kernel.value
    bias = cell.bias.value if getattr(cell, "use_bias", True) and cell.bias is not None else None
    act, rec_act = cell.activation, getattr(cell, "recurrent_activation", None)
    reset_after = kind == "GRU" and cell.reset_after
    dtype = kernel.dtype
    x = ops.cast(x, dtype) + pert["x"]
    init = [ops.cast(s, dtype) for s in init]
    xw = ops.matmul(x, kernel) + pert["z"]
    if bias is not None:
        xw = xw + (bias[0] if reset_after else bias)
    rec_bias = bias[1] if reset_after and bias is not None else None
    gu = _GATES[kind] * u
    parts = [xw, pert["h"]] + ([pert["c"]] if kind == "LSTM" else [])
    masked = mask is not None
    if masked:
        parts.append(ops.cast(ops.expand_dims(mask, -1), dtype))
    packed = ops.transpose(ops.concatenate(parts, axis=-1), (1, 0, 2))  # time-major
    if layer.go_backwards:
        packed = ops.flip(packed, axis=0)
    h0 = init[0]
    c0 = init[1] if len(init) > 1 else ops.zeros_like(h0)
    zero_masked = masked and getattr(layer, "zero_output_for_mask", False)

    def step(carry, p):
        h, c = carry
        z, eh = p[:, :gu], p[:, gu : gu + u]
        m = p[:, -1:] > 0 if masked else None
        if kind == "LSTM":
            z = z + ops.matmul(h, rec)
            ig = rec_act(z[:, :u])
            f = rec_act(z[:, u : 2 * u])
            g = act(z[:, 2 * u : 3 * u])
            o = rec_act(z[:, 3 * u :])
            c_new = f * c + ig * g
            if masked:
                c_new = ops.where(m, c_new, c)
            c_new = c_new + p[:, gu + u : gu + 2 * u]  # its gradient is ∂L/∂c_t
            h_new = o * act(c_new)
        elif kind == "GRU":
            c_new = c
            if reset_after:
                hr = ops.matmul(h, rec)
                if rec_bias is not None:
                    hr = hr + rec_bias
                zz = rec_act(z[:, :u] + hr[:, :u])
                r = rec_act(z[:, u : 2 * u] + hr[:, u : 2 * u])
                hh = act(z[:, 2 * u :] + r * hr[:, 2 * u :])
            else:
                hr = ops.matmul(h, rec[:, : 2 * u])
                zz = rec_act(z[:, :u] + hr[:, :u])
                r = rec_act(z[:, u : 2 * u] + hr[:, u:])
                hh = act(z[:, 2 * u :] + ops.matmul(r * h, rec[:, 2 * u :]))
            h_new = zz * h + (1 - zz) * hh
        else:
            c_new = c
            h_new = act(z + ops.matmul(h, rec))
        if masked:
            h_new = ops.where(m, h_new, h)
        h_new = h_new + eh
        out = ops.where(m, h_new, ops.zeros_like(h_new)) if zero_masked else h_new
        # the ys mirror the carry (TensorFlow's keras.ops.scan needs the same structure)
        return (h_new, c_new), (out, c_new)

    (h, c), (outs, _) = ops.scan(step, (h0, c0), packed)
    seq = ops.transpose(outs, (1, 0, 2))
    if BACKEND == "tensorflow":  # the scan loses the static shape layers after it read
        seq.set_shape((*x.shape[:2], u))
        h.set_shape((x.shape[0], u))
        c.set_shape((x.shape[0], u))
    states = [h, c] if kind == "LSTM" else [h]
    return seq[:, -1], seq, states


# -- the loss --------------------------------------------------------------------------------
def _loss_object(model: Any, loss: Any) -> Any:
    """A ``keras.losses.Loss`` for ``loss`` (None: the model's compiled loss)."""
    spec = loss if loss is not None else getattr(model, "loss", None)
    if spec is None:
        raise ValueError(
            "gradients=True needs a loss: compile the model, or pass loss= (a callable "
            "loss(y_true, y_pred), a Keras loss name, or an int k for the logit of class k)."
        )
    if isinstance(spec, (list, tuple, dict)):
        raise NotImplementedError("models with several compiled losses: pass loss= explicitly")
    if isinstance(spec, keras.losses.Loss):
        return spec
    fn = keras.losses.get(spec) if isinstance(spec, str) else spec
    if isinstance(fn, keras.losses.Loss):
        return fn
    if not callable(fn):
        raise ValueError(f"loss={spec!r} is not a Keras loss name, a Loss or a callable.")
    return LossFunctionWrapper(fn, reduction="sum_over_batch_size")


def _is_logit(loss: Any) -> bool:
    return isinstance(loss, (int, np.integer)) and not isinstance(loss, bool)


def _per_sample_sum(loss_obj: Any, y: Any, pred: Any, weight: Any, b: int) -> Any:
    """Σ_i (Keras's loss of sample i alone): the loss object reduced per sample."""
    mask = keras.src.backend.get_keras_mask(pred)
    pred = keras.ops.convert_to_tensor(pred, dtype=loss_obj.dtype)
    y = keras.ops.convert_to_tensor(y, dtype=loss_obj.dtype)
    total = 0.0
    for i in range(b):
        values = loss_obj.call(y[i : i + 1], pred[i : i + 1])
        total = total + reduce_weighted_values(
            values,
            sample_weight=None if weight is None else weight[i : i + 1],
            mask=None if mask is None else mask[i : i + 1],
            reduction=loss_obj.reduction,
            dtype=loss_obj.dtype,
        )
    return total


@dataclass
class Gradients:
    loss: float
    per_layer: dict[str, dict[str, np.ndarray]]
    input_grad: np.ndarray | None  # ∂L/∂(first model input), float inputs only


class GradientPass:
    """The loss and all gradients of one model for one loss, compiled per backend."""

    def __init__(self, session: Any, loss: Any, static_kwargs: dict[str, Any]) -> None:
        self.session, self.static_kwargs = session, static_kwargs
        model = session.model
        self.logit = _is_logit(loss)
        self.k = int(loss) if self.logit else None
        self.loss_obj = None if self.logit else _loss_object(model, loss)
        self.head = self._head() if self.logit else None
        self.slots: dict[str, RnnSlot] = {}
        self._fn = self._build()

    @property
    def needs_labels(self) -> bool:
        return not self.logit

    def _head(self) -> Any:
        graph = self.session.graph()
        if graph is None:
            return None
        op = graph.outputs[0]._keras_history.operation
        return op if isinstance(op, keras.layers.Dense) else None

    def _loss(self, outputs: Any, labels: Any, weight: Any, b: int) -> Any:
        out = keras.tree.flatten(outputs)[0]
        if self.logit:
            return keras.ops.sum(out[..., self.k])
        return _per_sample_sum(self.loss_obj, labels, out, weight, b)

    def _forward_loss(self, arrays, user_mask, kwargs, labels, weight, perts, b=None):
        """The model's loss with every recurrence replayed (traced or run by the backend)."""
        session = self.session
        stash = _Stash()

        def replace(name, slot, sequences, init, mask, training):
            if name not in perts:
                raise RuntimeError(
                    f"the gradient pass met recurrent call {name!r}, which the forward pass "
                    "did not record; the model's call is not the same from run to run."
                )
            self.slots[name] = slot
            return replay_ops(slot, sequences, init, mask, perts[name])

        head, saved_act = self.head, None
        if head is not None:
            saved_act = head.activation
            head.activation = keras.activations.linear  # the logit: the pre-activation
        try:
            with patched(session.tree, stash, user_mask, replace=replace, attention=False):
                out = session.model(
                    _model_inputs(arrays), training=False, **self.static_kwargs, **kwargs
                )
        finally:
            if head is not None:
                head.activation = saved_act
        return self._loss(out, labels, weight, arrays[0].shape[0] if b is None else b)

    def _weights(self) -> list[Any]:
        """Every recurrent cell's variables, in tree order (one list per slot)."""
        return [v for slot in self.session.tree.rnns for _, v in _cell_vars(slot)]

    def _build(self):
        if BACKEND == "tensorflow":
            return self._build_tf()
        if BACKEND == "jax":
            return self._build_jax()
        if BACKEND == "torch":
            return self._build_torch()
        raise NotImplementedError(f"no gradient pass for the Keras backend {BACKEND!r}")

    def _build_tf(self):
        import tensorflow as tf

        def fn(arrays, user_mask, kwargs, labels, weight, perts, b):
            floats = [a for a in arrays if a.dtype.is_floating]
            with tf.GradientTape() as tape:
                tape.watch(floats)
                tape.watch(perts)
                loss = self._forward_loss(arrays, user_mask, kwargs, labels, weight, perts, b)
            weights = [v.value for v in self._weights()]
            d_pert, d_w, d_in = tape.gradient(loss, [perts, weights, floats])
            return loss, d_pert, d_w, d_in

        # Relaxed (None) shapes avoid a retrace per sequence length, but Keras's
        # TimeDistributed needs a static time axis (with none it took the batch size for it)
        traced = tf.function(fn, reduce_retracing=relax_shapes(self.session), autograph=False)

        def run(arrays, user_mask, kwargs, labels, weight, perts):
            arrays = [tf.convert_to_tensor(a) for a in arrays]
            # the batch size is a Python int: the per-sample loss loops over it
            return traced(arrays, user_mask, kwargs, labels, weight, perts, len(arrays[0]))

        return run

    def _build_jax(self):
        import jax

        model = self.session.model
        trainable = list(model.trainable_variables)
        index = {id(v): i for i, v in enumerate(trainable)}

        def loss_of(diff, ntv, ints, user_mask, kwargs, labels, weight, where):
            perts, tv, floats = diff
            arrays = _merge(floats, list(zip(where, ints, strict=True)))
            with keras.StatelessScope(
                state_mapping=[
                    *zip(trainable, tv, strict=True),
                    *zip(model.non_trainable_variables, ntv, strict=True),
                ]
            ):
                return self._forward_loss(arrays, user_mask, kwargs, labels, weight, perts)

        # the positions of the integer inputs are static: they decide where each array goes
        grad_fn = jax.jit(jax.value_and_grad(loss_of), static_argnums=(7,))

        def run(arrays, user_mask, kwargs, labels, weight, perts):
            floats, ints = _split(arrays)
            tv = [v.value for v in trainable]
            ntv = [v.value for v in model.non_trainable_variables]
            where = tuple(i for i, _ in ints)
            loss, (d_pert, d_tv, d_in) = grad_fn(
                (perts, tv, floats),
                ntv,
                [a for _, a in ints],
                user_mask,
                kwargs,
                labels,
                weight,
                where,
            )
            missing = [v for v in self._weights() if id(v) not in index]
            if missing:
                raise NotImplementedError(
                    f"recurrent weights {[v.path for v in missing]} are not trainable; "
                    "gradients=True needs them trainable on the JAX backend."
                )
            d_w = [d_tv[index[id(v)]] for v in self._weights()]
            return loss, d_pert, d_w, [d for d in d_in if d is not None]

        return run

    def _build_torch(self):
        import torch

        def run(arrays, user_mask, kwargs, labels, weight, perts):
            ops = keras.ops
            tensors = [ops.convert_to_tensor(a) for a in arrays]
            floats = [t for t in tensors if torch.is_floating_point(t)]
            for t in floats:
                t.requires_grad_(True)
            flat_perts = [t.requires_grad_(True) for d in perts.values() for t in d.values()]
            mask = None if user_mask is None else ops.convert_to_tensor(user_mask)
            kw = {k: ops.convert_to_tensor(v) for k, v in kwargs.items()}
            lab = None if labels is None else ops.convert_to_tensor(labels)
            w = None if weight is None else ops.convert_to_tensor(weight)
            with torch.enable_grad():
                loss = self._forward_loss(tensors, mask, kw, lab, w, perts)
                weights = [v.value for v in self._weights()]
                grads = torch.autograd.grad(
                    loss, [*flat_perts, *weights, *floats], allow_unused=True
                )
            n, m = len(flat_perts), len(weights)
            it = iter(grads[:n])
            d_pert = {name: {k: next(it) for k in d} for name, d in perts.items()}
            return loss.detach(), d_pert, list(grads[n : n + m]), list(grads[n + m :])

        return run

    def run(
        self,
        arrays: list[np.ndarray],
        user_mask: np.ndarray | None,
        kwargs: dict[str, Any],
        y: Any,
        weight: Any,
        shapes: dict[str, tuple[int, int, int, int]],
        out_rank: int | None = None,
    ) -> Gradients:
        """Gradients for one batch of equal-length sequences.

        ``shapes`` maps each recorded call name to (B, T, D, U) of its input/hidden sequence.
        """
        if self.needs_labels and y is None:
            raise ValueError(
                "gradients=True with a loss needs labels: pass y= (the targets, as for "
                "model.fit), or loss=k for the logit of class k."
            )
        kinds = {}
        for slot in self.session.tree.rnns:
            for name in shapes:
                if name == slot.path or _base(name, slot):
                    kinds[name] = slot
        perts = {}
        for name, (b, t, d, u) in shapes.items():
            g = _GATES[kinds[name].kind]
            dtype = str(kinds[name].layer.cell.kernel.dtype)
            perts[name] = {
                "x": _zeros((b, t, d), dtype),
                "z": _zeros((b, t, g * u), dtype),
                "h": _zeros((b, t, u), dtype),
                "c": _zeros((b, t, u), dtype),
            }
        labels = None if y is None else _like_output(np.asarray(y), out_rank)
        if weight is not None:
            weight = np.asarray(weight)
        w = None if weight is None else np.asarray(weight, np.float32)
        saved = stateful_states(self.session.tree)  # a stateful layer's call moves them on
        try:
            with quiet_retracing():
                loss, d_pert, d_w, d_in = self._fn(arrays, user_mask, kwargs, labels, w, perts)
        finally:
            restore_states(saved)
        per_layer = {}
        by_slot: dict[int, dict[str, np.ndarray]] = {}
        it = iter(d_w)
        for slot in self.session.tree.rnns:
            by_slot[id(slot)] = {n: _np(next(it)) for n, _ in _cell_vars(slot)}
        for name in shapes:
            dp = d_pert[name]
            slot = kinds[name]
            per_layer[name] = {
                "grad_x": _np(dp["x"]),
                "grad_z": _np(dp["z"]),
                "grad_h": _np(dp["h"]),
                "grad_c": _np(dp["c"]) if slot.kind == "LSTM" else None,
                "grad_weights": by_slot[id(slot)],
            }
        floats = [a for a in arrays if np.issubdtype(a.dtype, np.floating)]
        input_grad = _np(d_in[0]) if floats and d_in and d_in[0] is not None else None
        return Gradients(float(to_numpy(loss)), per_layer, input_grad)


def _base(name: str, slot: RnnSlot) -> bool:
    """Whether ``name`` is a further call of ``slot`` (``path:k`` / ``owner:k/label``)."""
    if slot.label is None:
        head, _, k = name.rpartition(":")
        return head == slot.path and k.isdigit()
    owner, _, label = name.rpartition("/")
    head, _, k = owner.rpartition(":")
    return label == slot.label and head == slot.owner_path and k.isdigit()


def relax_shapes(session: Any) -> bool:
    """Whether a traced pass may relax its input shapes (no TimeDistributed in the model)."""
    return not any(
        isinstance(layer, keras.layers.TimeDistributed)
        for layer in session.model._flatten_layers(include_self=False)
    )


def _like_output(y: np.ndarray, rank: int | None) -> np.ndarray:
    """(B,) labels for a (B, 1) output and the like, as ``model.fit`` allows them."""
    if rank is not None and y.ndim == rank - 1:
        return y[..., None]
    if rank is not None and y.ndim == rank + 1 and y.shape[-1] == 1:
        return y[..., 0]
    return y


def _zeros(shape: tuple[int, ...], dtype: str) -> Any:
    if BACKEND == "torch":
        return keras.ops.zeros(shape, dtype)
    return np.zeros(shape, dtype)


def _split(arrays: list[Any]) -> tuple[list[Any], list[tuple[int, Any]]]:
    floats, ints = [], []
    for i, a in enumerate(arrays):
        if np.issubdtype(np.asarray(a).dtype, np.floating):
            floats.append(a)
        else:
            ints.append((i, a))
    return floats, ints


def _merge(floats: list[Any], ints: list[tuple[int, Any]]) -> list[Any]:
    out: list[Any] = []
    fi = iter(floats)
    taken = dict(ints)
    for i in range(len(floats) + len(ints)):
        out.append(taken[i] if i in taken else next(fi))
    return out


def _np(t: Any) -> np.ndarray:
    if t is None:
        return np.zeros(())
    if BACKEND == "torch":
        return np.asarray(t.detach().cpu().numpy(), dtype=np.float32)
    return np.asarray(to_numpy(t), dtype=np.float32)


def gradient_pass_for(session: Any, loss: Any, static_kwargs: dict[str, Any]) -> GradientPass:
    """The session's GradientPass for ``loss`` and these non-tensor call arguments."""
    loss_key = loss if isinstance(loss, (str, int, type(None))) else id(loss)
    key = (loss_key, tuple(sorted((k, repr(v)) for k, v in static_kwargs.items())))
    hit = session.gradients.get(key)
    if hit is not None and (hit[0] is loss or (not callable(loss) and hit[0] == loss)):
        return hit[1]
    grad = GradientPass(session, loss, static_kwargs)
    session.gradients[key] = (loss, grad)
    return grad
