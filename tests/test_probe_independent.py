"""Every gate, c and h that ``capture()`` returns, checked against an independent recurrence.

The reference here is a plain per-step loop in float64 written from Keras's documented cell
maths (gate orders: LSTM i, f, c, o; GRU z, r, h̃) and the layer's own weights, set to seeded
random values (biases included) so that no two gates agree and a swapped or shifted array
cannot pass. It shares no code with the probe's vectorised replay. Masks have holes in the
middle (and at the first step), so the state carry-over on skipped steps is checked too.

The refusal and warning paths are exercised with cells whose maths the replay cannot
reproduce: one that changes a gate (refused) and one that is off by a tiny, real amount
(accepted with a RuntimeWarning).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from functools import cache

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

L = keras.layers
B, T, D, U = 3, 10, 3, 4
#: float32 capture against a float64 reference: a few float32 ulps accumulated over T steps.
TOL = 1e-5


# --- the reference: Keras's cell maths, one step at a time, in float64 ----------------------


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": sigmoid,
    "hard_sigmoid": lambda a: np.clip(a / 6.0 + 0.5, 0.0, 1.0),  # Keras 3: relu6(x + 3) / 6
    "relu": lambda a: np.maximum(a, 0.0),
    "softsign": lambda a: a / (1.0 + np.abs(a)),
}


def reference(rnn, x, mask=None, h0=None, c0=None):
    """Gates, c and h of the RNN layer ``rnn`` (one direction) for input ``x`` (B, T, D).

    Returns arrays in input time order. On a masked step the state is carried over and the
    gates are what the cell computed from that step's input and the carried state.
    """
    cell = rnn.cell
    kind = type(cell).__name__.replace("Cell", "")
    act = ACTIVATIONS[keras.activations.serialize(cell.activation)]
    rec = getattr(cell, "recurrent_activation", None)
    rec_act = ACTIVATIONS[keras.activations.serialize(rec)] if rec is not None else None
    W = np.asarray(cell.kernel.numpy(), np.float64)
    R = np.asarray(cell.recurrent_kernel.numpy(), np.float64)
    bias = np.asarray(cell.bias.numpy(), np.float64) if cell.use_bias else None
    x = np.asarray(x, np.float64)
    b, t, _ = x.shape
    u = R.shape[0]
    mask = np.ones((b, t), bool) if mask is None else mask
    h = np.zeros((b, u)) if h0 is None else np.asarray(h0, np.float64).copy()
    c = np.zeros((b, u)) if c0 is None else np.asarray(c0, np.float64).copy()
    names = {"LSTM": ("input", "forget", "cell", "output"), "GRU": ("update", "reset", "candidate")}
    out = {"h": np.zeros((b, t, u)), "c": np.zeros((b, t, u))}
    out.update({g: np.zeros((b, t, u)) for g in names.get(kind, ())})
    steps = range(t - 1, -1, -1) if rnn.go_backwards else range(t)
    for s in steps:
        xs = x[:, s]
        if kind == "LSTM":
            z = xs @ W + h @ R + (0.0 if bias is None else bias)
            i = rec_act(z[:, :u])
            f = rec_act(z[:, u : 2 * u])
            g = act(z[:, 2 * u : 3 * u])
            o = rec_act(z[:, 3 * u :])
            c_new = f * c + i * g
            h_new = o * act(c_new)
            gates = {"input": i, "forget": f, "cell": g, "output": o}
        elif kind == "GRU":
            if cell.reset_after:  # bias (2, 3U): input bias, recurrent bias
                bi, br = (np.zeros(3 * u), np.zeros(3 * u)) if bias is None else bias
                xz = xs @ W + bi
                hz = h @ R + br
                zg = rec_act(xz[:, :u] + hz[:, :u])
                r = rec_act(xz[:, u : 2 * u] + hz[:, u : 2 * u])
                hh = act(xz[:, 2 * u :] + r * hz[:, 2 * u :])
            else:  # bias (3U,); the reset gate scales h before the recurrent product
                xz = xs @ W + (0.0 if bias is None else bias)
                zg = rec_act(xz[:, :u] + h @ R[:, :u])
                r = rec_act(xz[:, u : 2 * u] + h @ R[:, u : 2 * u])
                hh = act(xz[:, 2 * u :] + (r * h) @ R[:, 2 * u :])
            h_new = zg * h + (1.0 - zg) * hh
            c_new = c
            gates = {"update": zg, "reset": r, "candidate": hh}
        else:  # SimpleRNN
            h_new = act(xs @ W + h @ R + (0.0 if bias is None else bias))
            c_new = c
            gates = {}
        keep = mask[:, s][:, None]
        h = np.where(keep, h_new, h)
        c = np.where(keep, c_new, c)
        for name, a in gates.items():
            out[name][:, s] = a
        out["h"][:, s], out["c"][:, s] = h, c
    if kind != "LSTM":
        del out["c"]
    return out


# --- the models -----------------------------------------------------------------------------


@dataclass
class Case:
    model: keras.Model
    inputs: list  # what capture() gets
    x: np.ndarray  # the recurrent layers' input (the model input, or the first layer's h)
    mask: np.ndarray | None
    directions: dict  # capture name -> the Keras RNN layer that ran that direction
    init: dict  # capture name -> (h0, c0)


def _holes(x: np.ndarray) -> np.ndarray:
    """Zero some steps (Masking(0) skips them): gaps mid-sequence, a first step, a tail."""
    x[0, 3] = x[0, 4] = 0.0
    x[1, 0] = x[1, 6] = 0.0
    x[2, 7:] = 0.0
    return (x != 0).any(-1)


def _randomise(layer, rng) -> None:
    """Seeded random weights and biases: every gate sees different numbers."""
    for w in layer.weights:
        scale = 0.5 if "recurrent" in w.path else 0.7
        w.assign(rng.normal(0.0, scale, w.shape).astype(np.float32))


MERGES = {"concat": "concat", "sum": "sum", "ave": "ave", "mul": "mul", "none": None}

CELLS = {
    "lstm": lambda **kw: L.LSTM(U, **kw),
    "gru": lambda **kw: L.GRU(U, **kw),
    "gru-reset-before": lambda **kw: L.GRU(U, reset_after=False, **kw),
    "simplernn": lambda **kw: L.SimpleRNN(U, **kw),
    "rnn(lstmcell)": lambda **kw: L.RNN(L.LSTMCell(U), **kw),
    "rnn(grucell)": lambda **kw: L.RNN(L.GRUCell(U, reset_after=False), **kw),
    "rnn(simplernncell)": lambda **kw: L.RNN(L.SimpleRNNCell(U, activation="softsign"), **kw),
}

CASES = [
    "lstm/seq",
    "lstm/last-holes",
    "lstm/backwards-holes",
    "lstm/softsign-hard_sigmoid",
    "lstm/relu-nobias",
    "lstm/initial-state",
    "gru/seq-holes",
    "gru/backwards",
    "gru/softsign-hard_sigmoid-holes",
    "gru/initial-state",
    "gru-reset-before/seq-holes",
    "gru-reset-before/backwards-holes",
    "gru-reset-before/relu-hard_sigmoid",
    "simplernn/relu-holes",
    "simplernn/backwards-softsign",
    "simplernn/initial-state",
    "rnn(lstmcell)/seq-holes",
    "rnn(grucell)/backwards",
    "rnn(simplernncell)/last-holes",
    "lstm/bidi-concat-holes",
    "gru/bidi-sum",
    "gru-reset-before/bidi-ave-holes",
    "simplernn/bidi-mul",
    "lstm/bidi-none-holes",
    "gru/bidi-concat-last-holes",
    "lstm+gru/stacked",
]


def _options(option: str, cell: str) -> dict:
    kw: dict = {"return_sequences": "last" not in option}
    if "backwards" in option:
        kw["go_backwards"] = True
    if "nobias" in option:
        kw["use_bias"] = False
    for act in ("relu", "softsign"):
        if option.startswith(act) or f"-{act}" in option or f"/{act}" in option:
            kw["activation"] = act
    if "hard_sigmoid" in option and not cell.startswith("simplernn"):
        kw["recurrent_activation"] = "hard_sigmoid"
    return kw


@cache
def build(case: str) -> Case:
    """One tiny model per case, built once (capture() caches its plan per model)."""
    cell, option = case.split("/")
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    x = rng.normal(0.0, 1.0, (B, T, D)).astype(np.float32)
    mask = _holes(x) if "holes" in option else None
    inp = keras.Input((T, D))
    feed = L.Masking(0.0)(inp) if mask is not None else inp
    init: dict = {}
    if option == "stacked":
        first, second = L.LSTM(U, return_sequences=True), L.GRU(U, go_backwards=True)
        model = keras.Model(inp, second(first(feed)))
        for layer in (first, second):
            _randomise(layer, rng)
        return Case(model, [x], x, mask, {first.name: first, second.name: second}, init)
    if option.startswith("bidi"):
        merge = MERGES[option.split("-")[1]]
        wrapper = L.Bidirectional(CELLS[cell](**_options(option, cell)), merge_mode=merge)
        out = wrapper(feed)
        model = keras.Model(inp, L.Concatenate()(out) if merge is None else out)
        halves = {"forward": wrapper.forward_layer, "backward": wrapper.backward_layer}
        for layer in halves.values():
            _randomise(layer, rng)
        dirs = {f"{wrapper.name}/{k}": v for k, v in halves.items()}
        return Case(model, [x], x, mask, dirs, init)
    layer = CELLS[cell](**_options(option, cell))
    if option == "initial-state":
        states = [keras.Input((U,)) for _ in range(2 if cell == "lstm" else 1)]
        model = keras.Model([inp, *states], layer(feed, initial_state=states))
        values = [rng.normal(0.0, 0.5, (B, U)).astype(np.float32) for _ in states]
        init[layer.name] = (values[0], values[1] if len(values) > 1 else None)
        inputs = [x, *values]
    else:
        model = keras.Model(inp, layer(feed))
        inputs = [x]
    _randomise(layer, rng)
    return Case(model, inputs, x, mask, {layer.name: layer}, init)


def captured(case: str):
    """Not cached: scripts/mutation_check.py plants bugs in what each capture() call returns."""
    c = build(case)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a replay warning fails the case
        return capture(c.model, c.inputs if len(c.inputs) > 1 else c.inputs[0])


@pytest.mark.parametrize("case", CASES)
def test_every_gate_c_and_h_match_an_independent_recurrence(case):
    c = build(case)
    cap = captured(case)
    assert cap.layer_names == list(c.directions)
    x = c.x
    for name, rnn in c.directions.items():
        lc = cap[name]
        h0, c0 = c.init.get(name, (None, None))
        want = reference(rnn, x, c.mask, h0, c0)
        # the reference itself must be able to catch a swap: no two gates alike
        gates = [g for g in want if g not in ("h", "c")]
        for k, a in enumerate(gates):
            for other in gates[k + 1 :]:
                assert np.abs(want[a] - want[other]).max() > 0.05, (case, a, other)
        assert np.abs(want["h"]).max() > 0.05
        scale = max(1.0, *(float(np.abs(v).max()) for v in want.values()))
        assert set(lc.gates) == set(gates), name
        for g in gates:
            got = lc.gates[g]
            assert got.dtype == np.float32
            assert got.shape == (B, T, U)
            err = np.abs(got - want[g]).max()
            assert err <= TOL * scale, f"{name} gate {g}: max error {err:.3g}"
        err = np.abs(lc.h - want["h"]).max()
        assert err <= TOL * scale, f"{name} h: max error {err:.3g}"
        if "c" in want:
            err = np.abs(lc.c - want["c"]).max()
            assert err <= TOL * scale, f"{name} c: max error {err:.3g}"
        else:
            assert lc.c is None
        # the capture's own claim about itself, for every direction
        assert 0.0 <= lc.fidelity <= TOL, f"{name}: fidelity {lc.fidelity:.3g}"
        assert lc.go_backwards == bool(rnn.go_backwards)
        if c.mask is not None:
            np.testing.assert_array_equal(lc.mask, c.mask)
        if case.endswith("stacked"):  # the next layer reads this one's output
            np.testing.assert_allclose(lc.inputs, x, atol=TOL * scale)
            x = want["h"]
        else:
            np.testing.assert_array_equal(lc.inputs, c.x)


# --- planted bugs: the guard rails must fire ------------------------------------------------


def _patched_lstm(step, return_sequences=True):
    """An LSTM layer (standard type, so the probe takes it for one) whose cell runs ``step``
    instead of Keras's maths: ``step(i, f, g, o, c_prev) -> (h, c)``."""
    # use_cudnn=False: Keras's fused kernels (the torch backend's pure-torch loop, cuDNN) never
    # call the cell, so the planted maths would not run; the generic loop calls it on every backend
    layer = L.LSTM(U, return_sequences=return_sequences, use_cudnn=False)
    cell = layer.cell
    ops = keras.ops

    def call(inputs, states, training=False):
        h_prev, c_prev = states[0], states[1]
        z = ops.matmul(inputs, cell.kernel) + ops.matmul(h_prev, cell.recurrent_kernel)
        z = z + cell.bias
        zi, zf, zg, zo = ops.split(z, 4, axis=-1)
        i, f, o = ops.sigmoid(zi), ops.sigmoid(zf), ops.sigmoid(zo)
        h, c = step(i, f, ops.tanh(zg), o, c_prev)
        return h, [h, c]

    cell.call = call  # an instance override: the cell still looks like a plain LSTMCell
    return layer


def _model_and_input(layer):
    rng = np.random.default_rng(11)
    model = keras.Sequential([keras.Input((T, D)), layer])
    _randomise(layer, rng)
    return model, rng.normal(0.0, 1.0, (B, T, D)).astype(np.float32)


def test_a_cell_that_changes_one_gate_is_refused():
    ops = keras.ops

    def forget_is_squared(i, f, g, o, c_prev):  # f² instead of f: not the LSTM Keras documents
        c = f * f * c_prev + i * g
        return o * ops.tanh(c), c

    model, x = _model_and_input(_patched_lstm(forget_is_squared))
    with pytest.raises(RuntimeError, match="does not reproduce"):
        capture(model, x)


def test_a_subclassed_cell_with_other_maths_never_yields_gates():
    class HalfOutputCell(L.LSTMCell):
        def call(self, inputs, states, training=False):
            h, (h2, c) = super().call(inputs, states, training=training)
            return h * 0.5, [h2 * 0.5, c]

    model, x = _model_and_input(L.RNN(HalfOutputCell(U), return_sequences=True))
    # refused either up front (an unknown cell type) or by the replay check; never silent
    with pytest.raises((NotImplementedError, RuntimeError)):
        capture(model, x)


def test_a_small_real_replay_error_warns():
    ops = keras.ops
    offset = 1e-4  # between WARN_ERROR (1e-5) and the refusal (1e-3 relative)

    def h_slightly_off(i, f, g, o, c_prev):
        c = f * c_prev + i * g
        return o * ops.tanh(c) + offset, c

    model, x = _model_and_input(_patched_lstm(h_slightly_off))
    with pytest.warns(RuntimeWarning, match="replay error"):
        cap = capture(model, x)
    lc = cap[model.layers[0].name]
    # the replay uses Keras's own (offset) h as the previous state, so its error is the offset
    assert lc.fidelity == pytest.approx(offset, rel=0.05)


def test_the_exact_lstm_is_accepted_without_a_warning():
    """The control for the two tests above: the same patching with Keras's own maths."""
    ops = keras.ops

    def keras_lstm(i, f, g, o, c_prev):
        c = f * c_prev + i * g
        return o * ops.tanh(c), c

    layer = _patched_lstm(keras_lstm)
    model, x = _model_and_input(layer)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        lc = capture(model, x)[layer.name]
    want = reference(layer, x)
    assert np.abs(lc.h - want["h"]).max() <= TOL
    assert lc.fidelity <= TOL
