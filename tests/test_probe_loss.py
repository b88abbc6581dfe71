"""``cap.loss`` is exactly the loss Keras reports, and the gradients are of that loss.

Per sample L is what ``model.evaluate`` gives for that sample alone (the compiled loss's own
reduction over steps and features, the output mask and sample weights respected); over a
batch the per-sample losses are summed. Backend-agnostic: the references are Keras's own
``evaluate``, never the probe's replay.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

L = keras.layers


@pytest.fixture
def rng():
    keras.utils.set_random_seed(3)
    return np.random.default_rng(3)


def _sequence_model():
    inp = keras.Input((None, 3))
    h = L.LSTM(4, return_sequences=True, name="lstm")(L.Masking(0.0)(inp))
    model = keras.Model(inp, L.Dense(2)(h))
    model.compile(loss="mse")
    return model


def _many_to_one_model():
    inp = keras.Input((None, 3))
    h = L.GRU(4, name="gru")(L.Masking(0.0)(inp))
    model = keras.Model(inp, L.Dense(3, activation="softmax")(h))
    model.compile(loss="sparse_categorical_crossentropy")
    return model


def _padded(rng, b, t, valid):
    x = rng.normal(size=(b, t, 3)).astype(np.float32)
    for i, n in enumerate(valid):
        x[i, n:] = 0.0  # Masking marks these steps
    return x


def test_sequence_output_loss_is_what_evaluate_reports(rng):
    model = _sequence_model()
    x = _padded(rng, 1, 6, [4])
    y = rng.normal(size=(1, 6, 2)).astype(np.float32)
    cap = capture(model, x, y=y, gradients=True)
    want = model.evaluate(x, y, verbose=0)
    assert cap.loss == pytest.approx(want, rel=1e-5)
    # the masked steps do not count: the same loss as the 4 valid steps alone
    assert cap.loss == pytest.approx(model.evaluate(x[:, :4], y[:, :4], verbose=0), rel=1e-5)
    assert not cap["lstm"].grad_h[0, 4:].any()


def test_many_to_one_loss_is_what_evaluate_reports_and_sums_over_the_batch(rng):
    model = _many_to_one_model()
    x = _padded(rng, 3, 5, [5, 3, 4])
    y = np.array([0, 2, 1])
    single = capture(model, x[:1], y=y[:1], gradients=True)
    assert single.loss == pytest.approx(model.evaluate(x[:1], y[:1], verbose=0), rel=1e-5)
    cap = capture(model, x, y=y, gradients=True)
    per_sample = [model.evaluate(x[i : i + 1], y[i : i + 1], verbose=0) for i in range(3)]
    assert cap.loss == pytest.approx(sum(per_sample), rel=1e-5)


def test_sample_weights_are_respected(rng):
    model = _sequence_model()
    x = _padded(rng, 1, 5, [5])
    y = rng.normal(size=(1, 5, 2)).astype(np.float32)
    w = np.array([[1.0, 0.0, 2.0, 0.5, 1.0]], np.float32)
    cap = capture(model, x, y=y, gradients=True, sample_weight=w)
    assert cap.loss == pytest.approx(model.evaluate(x, y, sample_weight=w, verbose=0), rel=1e-5)
    plain = capture(model, x, y=y, gradients=True)
    assert cap.loss != pytest.approx(plain.loss, rel=1e-3)


@pytest.mark.parametrize("make", [_sequence_model, _many_to_one_model])
def test_weight_gradients_are_finite_differences_of_evaluate(rng, make):
    model = make()
    x = _padded(rng, 1, 5, [4])
    y = (
        rng.normal(size=(1, 5, 2)).astype(np.float32)
        if len(model.output.shape) == 3
        else np.array([1])
    )
    cap = capture(model, x, y=y, gradients=True)
    (name,) = cap.layers
    layer = model.get_layer(name)
    eps = 1e-2
    checked = 0
    for which in ("kernel", "recurrent_kernel"):
        var = getattr(layer.cell, which)
        value = np.array(var.numpy())
        got = cap[name].grad_weights[which]
        for idx in [(0, 0), (1, value.shape[1] - 1), (2, value.shape[1] // 2)]:
            bumped = value.copy()
            bumped[idx] += eps
            var.assign(bumped)
            up = model.evaluate(x, y, verbose=0)
            bumped[idx] -= 2 * eps
            var.assign(bumped)
            down = model.evaluate(x, y, verbose=0)
            var.assign(value)
            fd = (up - down) / (2 * eps)
            assert got[idx] == pytest.approx(fd, rel=2e-2, abs=2e-4), (which, idx)
            checked += abs(fd) > 1e-3
    assert checked >= 3  # the check is not vacuous
