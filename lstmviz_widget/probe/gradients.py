"""Gradients through time: ∂L/∂h_t, ∂L/∂c_t, ∂L/∂(gate pre-activations), ∂L/∂weights and
input saliency, for every recurrent layer, in one backward pass.

The model's graph is re-run in TensorFlow with each recurrent layer replaced by a replay of its
recurrence (``tf.scan`` over the layer's own weights) into which zero *perturbations* are
added: to the layer input, to every gate pre-activation, to c_t and to h_t. The gradient of the
loss with respect to a perturbation is the gradient with respect to the quantity it is added
to, at every timestep at once. Nothing depends on the fused cuDNN kernel's backward pass, so
CPU and GPU give the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from .discover import cell_kind, find_sites, functional_graph

Loss = Callable[[Any, Any], Any]


@dataclass
class _Layer:
    """A recurrence to replay: a plain layer or one half of a Bidirectional."""

    name: str
    layer: Any
    kind: str


def _directions(model: Any) -> list[_Layer]:
    sites, nested = find_sites(functional_graph(model))
    if nested:
        raise NotImplementedError(
            "gradients through recurrent layers inside a nested model are not supported yet; "
            "capture without gradients=True, or build the model without nesting."
        )
    return [_Layer(d.name, d.layer, d.kind) for s in sites for d in s.directions]


def _scan(spec: _Layer, x, mask, init, pert):
    """Replay one recurrent layer; returns (outputs (B,T,U) in processing order, h_T, c_T).

    ``pert`` holds zero tensors in input order: ``x`` (B,T,D), ``z`` (B,T,G·U), ``h``/``c``
    (B,T,U). Their gradients are the gradients of the loss w.r.t. those quantities. The gate
    perturbation is added to x·W + b before the loop (it is additive in the pre-activation);
    every per-step input is packed into one tensor so the loop reads one slice per step.
    """
    layer, kind = spec.layer, spec.kind
    cell = layer.cell
    u = cell.units
    kernel, rec = cell.kernel.value, cell.recurrent_kernel.value
    bias = cell.bias.value if getattr(cell, "use_bias", True) and cell.bias is not None else None
    act, rec_act = cell.activation, getattr(cell, "recurrent_activation", None)
    reset_after = kind == "GRU" and cell.reset_after
    dtype = kernel.dtype
    # as Keras's __call__ would: inputs and initial states in the variables' dtype
    x = tf.cast(x, dtype) + pert["x"]
    init = [tf.cast(s, dtype) for s in init]
    b, t = tf.shape(x)[0], tf.shape(x)[1]
    xw = tf.tensordot(x, kernel, 1) + pert["z"]
    if bias is not None:
        xw = xw + (bias[0] if reset_after else bias)
    rec_bias = bias[1] if reset_after and bias is not None else None
    gu = xw.shape[-1]
    parts = [xw, pert["h"]] + ([pert["c"]] if kind == "LSTM" else [])
    masked = mask is not None
    if masked:
        parts.append(tf.cast(mask, dtype)[..., None])
    packed = tf.transpose(tf.concat(parts, -1), [1, 0, 2])  # time-major
    if layer.go_backwards:
        packed = tf.reverse(packed, [0])
    h0 = init[0] if init else tf.zeros((b, u), dtype)
    c0 = init[1] if len(init) > 1 else tf.zeros((b, u), dtype)
    zero_masked = masked and getattr(layer, "zero_output_for_mask", False)
    steps = tf.TensorArray(dtype, size=t).unstack(packed)

    def body(i, h, c, outs):
        p = steps.read(i)
        z, eh = p[:, :gu], p[:, gu : gu + u]
        if kind == "LSTM":
            z = z + tf.matmul(h, rec)
            ig = rec_act(z[:, :u])
            f = rec_act(z[:, u : 2 * u])
            g = act(z[:, 2 * u : 3 * u])
            o = rec_act(z[:, 3 * u :])
            ec = p[:, gu + u : gu + 2 * u]
            c_new = f * c + ig * g
            if masked:
                m = p[:, -1:] > 0
                c_new = tf.where(m, c_new, c)
            c_new = c_new + ec  # its gradient is ∂L/∂c_t (through h_t and c_{t+1})
            h_new = o * act(c_new)
        elif kind == "GRU":
            c_new = c
            if reset_after:
                hr = tf.matmul(h, rec)
                if rec_bias is not None:
                    hr = hr + rec_bias
                zz = rec_act(z[:, :u] + hr[:, :u])
                r = rec_act(z[:, u : 2 * u] + hr[:, u : 2 * u])
                hh = act(z[:, 2 * u :] + r * hr[:, 2 * u :])
            else:
                hr = tf.matmul(h, rec[:, : 2 * u])
                zz = rec_act(z[:, :u] + hr[:, :u])
                r = rec_act(z[:, u : 2 * u] + hr[:, u:])
                hh = act(z[:, 2 * u :] + tf.matmul(r * h, rec[:, 2 * u :]))
            h_new = zz * h + (1 - zz) * hh
        else:
            c_new = c
            h_new = act(z + tf.matmul(h, rec))
        if masked:
            m = p[:, -1:] > 0
            h_new = tf.where(m, h_new, h)
        h_new = h_new + eh
        out = tf.where(m, h_new, tf.zeros_like(h_new)) if zero_masked else h_new
        return i + 1, h_new, c_new, outs.write(i, out)

    outs = tf.TensorArray(dtype, size=t)
    _, h, c, outs = tf.while_loop(lambda i, *_: i < t, body, (0, h0, c0, outs))
    seq = tf.transpose(outs.stack(), [1, 0, 2])
    # Give the stacked outputs the static shape Keras's own layer would have: layers after it
    # read it (TimeDistributed with an unknown time axis took the batch size for it).
    seq.set_shape(pert["h"].shape)
    h.set_shape(pert["h"].shape[:1] + pert["h"].shape[2:])
    return seq, h, c


def _call_rnn(spec: _Layer, perts, args, kwargs):
    layer = spec.layer
    x = args[0][0] if isinstance(args[0], (list, tuple)) else args[0]
    init = kwargs.get("initial_state")
    init = list(init) if isinstance(init, (list, tuple)) else ([] if init is None else [init])
    outs, h, c = _scan(spec, x, kwargs.get("mask"), init, perts[spec.name])
    out = outs if layer.return_sequences else h  # h: the final state, carried over masked steps
    if layer.return_state:
        return [out, h, c] if spec.kind == "LSTM" else [out, h]
    return out


def _call_bidirectional(layer, specs, perts, args, kwargs):
    x = args[0]
    init = kwargs.get("initial_state") or []
    half = len(init) // 2
    results = []
    for spec, st in zip(specs, (init[:half], init[half:]), strict=True):
        outs, h, c = _scan(spec, x, kwargs.get("mask"), list(st), perts[spec.name])
        seq = outs if layer.return_sequences else h
        if layer.return_sequences and spec.layer.go_backwards:
            seq = tf.reverse(seq, [1])
        results.append((seq, h, c, spec.kind))
    (fwd, fh, fc, kind), (bwd, bh, bc, _) = results
    mode = layer.merge_mode
    merged = {
        "concat": lambda: tf.concat([fwd, bwd], -1),
        "sum": lambda: fwd + bwd,
        "ave": lambda: (fwd + bwd) / 2,
        "mul": lambda: fwd * bwd,
        None: lambda: [fwd, bwd],
    }[mode]()
    if layer.return_state:
        states = [fh, fc, bh, bc] if kind == "LSTM" else [fh, bh]
        return ([*merged] if mode is None else [merged]) + states
    return merged


def _head_logit(op, args, kwargs):
    """The output layer without its squashing activation (the logit of class k)."""
    x = args[0]
    z = tf.tensordot(x, op.kernel.value, 1)
    return z + op.bias.value if op.use_bias else z


def _loss_fn(model: Any, loss: Any) -> tuple[Loss, bool]:
    """(per-element loss(y_true, y_pred), needs_labels)."""
    if isinstance(loss, (int, np.integer)) and not isinstance(loss, bool):
        k = int(loss)
        return (lambda _y, pred: pred[..., k]), False
    if callable(loss):
        return loss, True
    if loss is not None:
        spec = loss
    else:
        spec = getattr(model, "loss", None)
        if spec is None:
            raise ValueError(
                "gradients=True needs a loss: compile the model, or pass loss= (a callable "
                "loss(y_true, y_pred), a Keras loss name, or an int k for the logit of class k)."
            )
    if isinstance(spec, (list, tuple, dict)):
        raise NotImplementedError("models with several compiled losses: pass loss= explicitly")
    fn = keras.losses.get(spec)
    if isinstance(fn, keras.losses.Loss):
        return fn.call, True
    return fn, True


@dataclass
class Gradients:
    loss: float
    per_layer: dict[str, dict[str, np.ndarray]]
    input_grad: np.ndarray | None  # ∂L/∂(model input), float inputs only


class GradientProbe:
    """A traced function from (inputs, labels) to the loss and all gradients of one model."""

    def __init__(self, model: Any, loss: Any = None, compiled: Any = None) -> None:
        self.model = model
        self.graph = functional_graph(model)
        self.specs = _directions(model)
        self.loss_fn, self.needs_labels = _loss_fn(compiled or model, loss)
        self.logit = isinstance(loss, (int, np.integer)) and not isinstance(loss, bool)
        # Relaxed (None) shapes avoid a retrace per sequence length, but Keras's TimeDistributed
        # needs a static time axis inside a tf.function (with none it took the batch size for
        # it): with one in the graph, trace each input shape exactly.
        relax = not any(
            isinstance(op, keras.layers.TimeDistributed) for op in self.graph.operations
        )
        self._fn = tf.function(self._run, reduce_retracing=relax)

    def _forward(self, inputs, perts):
        by_layer = {id(s.layer): s for s in self.specs}
        bidi = {}
        for s in self.specs:
            if "/" in s.name:
                bidi.setdefault(s.name.rsplit("/", 1)[0], []).append(s)
        out_op = self.graph.outputs[0]._keras_history.operation

        def operation_fn(op):
            if id(op) in by_layer:
                return lambda *a, **kw: _call_rnn(by_layer[id(op)], perts, a, kw)
            if isinstance(op, keras.layers.Bidirectional):
                return lambda *a, **kw: _call_bidirectional(op, bidi[op.name], perts, a, kw)
            if self.logit and op is out_op and isinstance(op, keras.layers.Dense):
                return lambda *a, **kw: _head_logit(op, a, kw)
            if cell_kind(op) is None and isinstance(op, keras.layers.RNN):
                raise NotImplementedError(f"no gradient replay for layer {op.name!r}")
            return op

        return self.graph._run_through_graph(inputs, operation_fn=operation_fn)

    def _run(self, inputs, labels, perts):
        variables = [
            [
                getattr(s.layer.cell, n).value
                for n in ("kernel", "recurrent_kernel", "bias")
                if getattr(s.layer.cell, n, None) is not None
            ]
            for s in self.specs
        ]
        float_inputs = [x for x in inputs if x.dtype.is_floating]
        with tf.GradientTape() as tape:
            tape.watch(float_inputs)
            tape.watch(perts)
            out = self._forward(inputs, perts)
            out = out[0] if isinstance(out, (list, tuple)) else out
            loss = tf.reduce_sum(tf.cast(self.loss_fn(labels, out), tf.float64))
        grads = tape.gradient(loss, [perts, variables, float_inputs])
        return loss, grads[0], grads[1], grads[2]

    def run(self, arrays: list[np.ndarray], y: Any, shapes: dict[str, tuple[int, int, int, int]]):
        """Gradients for one batch of equal-length sequences.

        ``shapes`` maps a layer name to (B, T, D, U) of that layer's input/hidden sequence.
        """
        if self.needs_labels and y is None:
            raise ValueError(
                "gradients=True with a loss needs labels: pass y= (the targets, as for "
                "model.fit), or loss=k for the logit of class k."
            )
        dtype = self.specs[0].layer.cell.kernel.value.dtype
        perts = {}
        for s in self.specs:
            b, t, d, u = shapes[s.name]
            g = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}[s.kind]
            perts[s.name] = {
                "x": tf.zeros((b, t, d), dtype),
                "z": tf.zeros((b, t, g * u), dtype),
                "h": tf.zeros((b, t, u), dtype),
                "c": tf.zeros((b, t, u), dtype),
            }
        inputs = [tf.convert_to_tensor(a) for a in arrays]
        if y is not None:  # (B,) labels for a (B, 1) output and the like, as model.fit allows
            y = np.asarray(y)
            out_shape = self.graph.outputs[0].shape
            if y.ndim == len(out_shape) - 1 and out_shape[-1] == 1:
                y = y[..., None]
            elif y.ndim == len(out_shape) + 1 and y.shape[-1] == 1:
                y = y[..., 0]
        labels = tf.zeros((), dtype) if y is None else tf.convert_to_tensor(y)
        loss, d_pert, d_vars, d_inputs = self._fn(inputs, labels, perts)
        per_layer = {}
        for s, dv in zip(self.specs, d_vars, strict=True):
            dp = d_pert[s.name]
            names = [
                n
                for n in ("kernel", "recurrent_kernel", "bias")
                if getattr(s.layer.cell, n, None) is not None
            ]
            per_layer[s.name] = {
                "grad_x": _np(dp["x"]),
                "grad_z": _np(dp["z"]),
                "grad_h": _np(dp["h"]),
                "grad_c": _np(dp["c"]) if s.kind == "LSTM" else None,
                "grad_weights": {n: _np(g) for n, g in zip(names, dv, strict=True)},
            }
        floats = [a for a in arrays if np.issubdtype(a.dtype, np.floating)]
        input_grad = _np(d_inputs[0]) if floats and d_inputs and d_inputs[0] is not None else None
        return Gradients(float(loss), per_layer, input_grad)


def _np(t) -> np.ndarray:
    return np.zeros(()) if t is None else np.asarray(t.numpy(), dtype=np.float32)


def gradient_probe_for(session: Any, masked: bool, loss: Any) -> GradientProbe:
    """The session's GradientProbe for ``loss`` (with a user-mask input when ``masked``)."""
    key = ("tf-graph", masked, loss if isinstance(loss, (str, int, type(None))) else id(loss))
    hit = session.gradients.get(key)
    if hit is not None and (not callable(loss) or hit[0] is loss):
        return hit[1]
    model = session.model
    if session.graph() is None:
        raise NotImplementedError(
            "gradients=True needs a Sequential or Functional model for now; capture this "
            "subclassed model without gradients."
        )
    graph_model = model
    if masked:
        from .masking import masked_graph

        graph_model = masked_graph(model)
    probe = GradientProbe(graph_model, loss, compiled=model)
    session.gradients[key] = (loss, probe)
    return probe
