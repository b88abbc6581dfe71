"""Exact values on tiny models with Constant initialisers (Keras's own test style).

Every unit of a Constant-initialised layer computes the same scalar recurrence, so the
expected numbers are worked out here with the ``math`` module, one scalar at a time, and
independently of the numpy replay under test.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

# 3 steps of 2 features; every unit sees s_t = sum of the features of step t times the kernel.
X = np.array([[[0.5, -1.0], [1.0, 0.25], [-0.5, 0.5]]], dtype=np.float32)
K, R, BIAS = 0.1, 0.2, 0.05


def sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def const(v: float):
    return keras.initializers.Constant(v)


def build(layer):
    return keras.Sequential([keras.Input((3, 2)), layer])


def test_lstm_two_units_three_steps():
    layer = keras.layers.LSTM(
        2,
        kernel_initializer=const(K),
        recurrent_initializer=const(R),
        bias_initializer=const(BIAS),
        unit_forget_bias=False,  # else the forget slice of the bias starts at 1
    )
    model = build(layer)
    lc = capture(model, X)[model.layers[0].name]
    # hand computation: z = K*sum(x) + R*2*h (2 units feed each other) + b for every gate
    h = c = 0.0
    want_h, want_c, want_i, want_g = [], [], [], []
    for x_t in X[0]:
        z = K * float(x_t.sum()) + R * 2 * h + BIAS
        i = f = o = sig(z)
        g = math.tanh(z)
        c = f * c + i * g
        h = o * math.tanh(c)
        want_h.append(h)
        want_c.append(c)
        want_i.append(i)
        want_g.append(g)
    # step 1 by hand: z = 0.1*(-0.5) + 0 + 0.05 = 0 -> i = 0.5, g = 0, c = 0, h = 0
    assert want_h[0] == 0.0
    assert want_i[0] == 0.5
    np.testing.assert_allclose(lc.h[0, :, 0], want_h, atol=1e-6)
    np.testing.assert_allclose(lc.h[0, :, 1], want_h, atol=1e-6)
    np.testing.assert_allclose(lc.c[0, :, 0], want_c, atol=1e-6)
    np.testing.assert_allclose(lc.gates["input"][0, :, 0], want_i, atol=1e-6)
    np.testing.assert_allclose(lc.gates["forget"][0, :, 1], want_i, atol=1e-6)
    np.testing.assert_allclose(lc.gates["cell"][0, :, 0], want_g, atol=1e-6)
    np.testing.assert_allclose(lc.gates["output"][0, :, 1], want_i, atol=1e-6)
    assert lc.fidelity <= 1e-6


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_two_units_three_steps(reset_after):
    layer = keras.layers.GRU(
        2,
        reset_after=reset_after,
        kernel_initializer=const(K),
        recurrent_initializer=const(R),
        bias_initializer=const(BIAS),
    )
    model = build(layer)
    lc = capture(model, X)[model.layers[0].name]
    h = 0.0
    want_h, want_z, want_r, want_hh = [], [], [], []
    for x_t in X[0]:
        xs = K * float(x_t.sum())
        rec = R * 2 * h  # recurrent product of one gate slice
        if reset_after:  # bias is (2, 3U): input bias and recurrent bias
            z = sig(xs + BIAS + rec + BIAS)
            r = sig(xs + BIAS + rec + BIAS)
            hh = math.tanh(xs + BIAS + r * (rec + BIAS))
        else:
            z = sig(xs + BIAS + rec)
            r = sig(xs + BIAS + rec)
            hh = math.tanh(xs + BIAS + R * 2 * (r * h))
        h = z * h + (1 - z) * hh
        want_h.append(h)
        want_z.append(z)
        want_r.append(r)
        want_hh.append(hh)
    np.testing.assert_allclose(lc.h[0, :, 0], want_h, atol=1e-6)
    np.testing.assert_allclose(lc.gates["update"][0, :, 1], want_z, atol=1e-6)
    np.testing.assert_allclose(lc.gates["reset"][0, :, 0], want_r, atol=1e-6)
    np.testing.assert_allclose(lc.gates["candidate"][0, :, 0], want_hh, atol=1e-6)
    assert lc.c is None


def test_simple_rnn_two_units_three_steps():
    layer = keras.layers.SimpleRNN(
        2, kernel_initializer=const(K), recurrent_initializer=const(R), bias_initializer=const(BIAS)
    )
    model = build(layer)
    lc = capture(model, X)[model.layers[0].name]
    h, want = 0.0, []
    for x_t in X[0]:
        h = math.tanh(K * float(x_t.sum()) + BIAS + R * 2 * h)
        want.append(h)
    # step 1 by hand: tanh(0.1 * -0.5 + 0.05) = tanh(0) = 0
    assert want[0] == 0.0
    np.testing.assert_allclose(lc.h[0, :, 1], want, atol=1e-6)
    assert lc.gates == {}
    assert lc.kind == "SimpleRNN"


def test_go_backwards_is_reported_in_input_order():
    layer = keras.layers.SimpleRNN(
        2,
        go_backwards=True,
        kernel_initializer=const(K),
        recurrent_initializer=const(R),
        bias_initializer=const(BIAS),
    )
    model = build(layer)
    lc = capture(model, X)[model.layers[0].name]
    h, want = 0.0, {}
    for t in (2, 1, 0):  # processed from the end
        h = math.tanh(K * float(X[0, t].sum()) + BIAS + R * 2 * h)
        want[t] = h
    np.testing.assert_allclose(lc.h[0, :, 0], [want[0], want[1], want[2]], atol=1e-6)
    assert lc.go_backwards
