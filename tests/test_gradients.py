"""Gradients through time, checked against independent computations.

- ∂L/∂h_t and ∂L/∂c_t: central finite differences (float64, eps 1e-6, tolerance 1e-6) of a
  loop over Keras's *own* cell (``layer.cell(x_t, states)``) with δ added to h_t or c_t.
- ∂L/∂weights: Keras's own graph differentiated by a GradientTape (float32, 1e-5 relative).
- Saliency: central differences of ``model.predict_on_batch`` w.r.t. the input (float64).
- Gate pre-activation gradients: the chain rule from ∂L/∂h_t, ∂L/∂c_t (LSTM identities).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstmviz_widget import capture

L = keras.layers


@pytest.fixture
def float64():
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")  # floatx alone leaves the layer policy cached
    keras.utils.set_random_seed(11)
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")


def _unrolled_loss(model, x, y, where=None, delta=0.0):
    """Loss of an LSTM → Dense model computed with Keras's own cell, one step at a time,
    with ``delta`` added to h_t (``where=("h", t, b, u)``) or c_t."""
    lstm, dense = model.layers[0], model.layers[1]
    b_, t_, _ = x.shape
    u = lstm.units
    h = tf.zeros((b_, u), tf.float64)
    c = tf.zeros((b_, u), tf.float64)
    for t in range(t_):
        _, (h, c) = lstm.cell(tf.constant(x[:, t]), [h, c])
        if where is not None and where[1] == t:
            bump = np.zeros((b_, u))
            bump[where[2], where[3]] = delta
            if where[0] == "h":
                h = h + bump
            else:
                c = c + bump
    pred = dense(h).numpy()
    return float(np.sum((pred - y) ** 2))


def test_grad_h_and_grad_c_match_finite_differences_of_keras_cell(float64):
    model = keras.Sequential([keras.Input((None, 3)), L.LSTM(2), L.Dense(1)])
    model.compile(loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    y = rng.normal(size=(2, 1))
    cap = capture(model, x, y=y, gradients=True)
    lc = cap[model.layers[0].name]
    assert cap.loss == pytest.approx(_unrolled_loss(model, x, y), rel=1e-9)
    eps = 1e-6
    fd = {}
    for which in ("h", "c"):
        fd[which] = np.zeros_like(lc.h)
        for b, t, u in np.ndindex(*lc.h.shape):
            up = _unrolled_loss(model, x, y, (which, t, b, u), eps)
            down = _unrolled_loss(model, x, y, (which, t, b, u), -eps)
            fd[which][b, t, u] = (up - down) / (2 * eps)
        assert np.abs(fd[which]).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(lc.grad_h, fd["h"], atol=1e-6)
    # Bumping c after Keras's step reaches L only through c_{t+1}; ∂L/∂c_t is the total
    # derivative, which also flows through h_t = o_t·tanh(c_t).
    through_h = lc.grad_h * lc.gates["output"] * (1 - np.tanh(lc.c) ** 2)
    np.testing.assert_allclose(lc.grad_c, fd["c"] + through_h, atol=1e-6)


def test_lstm_gate_gradients_follow_the_chain_rule(float64):
    """∂L/∂z_o = ∂L/∂h·tanh(c)·o(1−o); ∂L/∂z_f = ∂L/∂c_local·c_{t−1}·f(1−f), where
    ∂L/∂c_local = ∂L/∂c_t (total) already includes the path through h_t."""
    model = keras.Sequential([keras.Input((None, 3)), L.LSTM(3), L.Dense(2)])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 5, 3))
    lc = capture(model, x, gradients=True, loss=1)[model.layers[0].name]
    o, f, i, g = (lc.gates[k] for k in ("output", "forget", "input", "cell"))
    c_prev = np.concatenate([np.zeros_like(lc.c[:, :1]), lc.c[:, :-1]], axis=1)
    np.testing.assert_allclose(
        lc.grad_gates["output"], lc.grad_h * np.tanh(lc.c) * o * (1 - o), atol=1e-6
    )
    np.testing.assert_allclose(lc.grad_gates["forget"], lc.grad_c * c_prev * f * (1 - f), atol=1e-6)
    np.testing.assert_allclose(lc.grad_gates["input"], lc.grad_c * g * i * (1 - i), atol=1e-6)
    np.testing.assert_allclose(lc.grad_gates["cell"], lc.grad_c * i * (1 - g**2), atol=1e-6)


def _tape_weight_grads(model, x, y, layers):
    with tf.GradientTape() as tape:
        pred = model(x, training=False)
        per_step = keras.losses.mean_squared_error(y, pred)  # reduces the last axis only
        # L: each sample's loss as Keras reduces it (the mean over its steps), summed over
        # the batch
        axes = list(range(1, len(per_step.shape)))
        loss = tf.reduce_sum(tf.reduce_mean(per_step, axis=axes) if axes else per_step)
    variables = [[v.value for v in layer.cell.trainable_variables] for layer in layers]
    return float(loss), tape.gradient(loss, variables)


def _bidi(inp):
    return L.Bidirectional(L.LSTM(3, return_sequences=True), name="bi")(inp)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            lambda i: L.GRU(3, name="r2")(L.LSTM(4, return_sequences=True, name="r1")(i)),
            id="stacked-lstm-gru",
        ),
        pytest.param(lambda i: L.SimpleRNN(3, go_backwards=True, name="r1")(i), id="backwards"),
        pytest.param(
            lambda i: L.GRU(3, reset_after=False, name="r1")(L.Masking(0.0)(i)), id="masked-gru"
        ),
        pytest.param(lambda i: L.GRU(2, name="r2")(_bidi(i)), id="bidirectional+gru"),
        pytest.param(
            lambda i: L.Bidirectional(L.GRU(3), merge_mode="sum", name="bi")(i),
            id="bidirectional-sum-last",
        ),
    ],
)
def test_weight_gradients_match_keras_tape(body):
    keras.utils.set_random_seed(4)
    inp = keras.Input((None, 3))
    model = keras.Model(inp, L.Dense(2)(body(inp)))
    model.compile(loss="mse")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 6, 3)).astype(np.float32)
    x[1, 4:] = 0.0
    y = rng.normal(size=(3, 2)).astype(np.float32)
    cap = capture(model, x, y=y, gradients=True)
    layers, names = [], []
    for layer in model.layers:
        if isinstance(layer, L.Bidirectional):
            layers += [layer.forward_layer, layer.backward_layer]
            names += [f"{layer.name}/forward", f"{layer.name}/backward"]
        elif isinstance(layer, L.RNN):
            layers.append(layer)
            names.append(layer.name)
    loss, want = _tape_weight_grads(model, x, y, layers)
    assert cap.loss == pytest.approx(loss, rel=1e-5)
    for name, grads in zip(names, want, strict=True):
        got = cap[name].grad_weights
        assert list(got) == ["kernel", "recurrent_kernel", "bias"]
        for g_want, g_got in zip(grads, got.values(), strict=True):
            scale = max(1e-3, float(np.abs(g_want).max()))
            assert np.abs(g_want.numpy() - g_got).max() <= 1e-5 * scale * 10, name
    for lc in cap:
        assert lc.grad_h.shape == lc.h.shape
        assert set(lc.grad_gates) == set(lc.gates)
        per_gate = lc.gate_weights(lc.gate_names[0] if lc.gate_names else "cell", grad=True)
        assert per_gate["recurrent_kernel"].shape == (lc.units, lc.units)


def test_saliency_matches_finite_differences_of_predict(float64):
    model = keras.Sequential([keras.Input((None, 2)), L.GRU(3), L.Dense(1)])
    model.compile(loss="mse")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 5, 2))
    y = rng.normal(size=(2, 1))
    cap = capture(model, x, y=y, gradients=True)

    def loss(xx):
        return float(np.sum((model.predict_on_batch(xx) - y) ** 2))

    eps = 1e-6
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        grad[idx] = (loss(up) - loss(down)) / (2 * eps)
    np.testing.assert_allclose(cap.saliency, (grad * x).sum(-1), atol=1e-6)
    # ∂L/∂(layer input) of the first layer is the same gradient here
    np.testing.assert_allclose(cap[model.layers[0].name].inputs, x, atol=1e-12)


def test_ragged_batch_gradients_equal_per_sequence_gradients():
    keras.utils.set_random_seed(9)
    model = keras.Sequential([keras.Input((None, 2)), L.LSTM(3, name="l"), L.Dense(1)])
    rng = np.random.default_rng(5)
    seqs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 3)]
    y = rng.normal(size=(2, 1)).astype(np.float32)
    cap = capture(model, seqs, y=y, gradients=True, loss="mse")
    for i, s in enumerate(seqs):
        alone = capture(model, s, y=y[i : i + 1], gradients=True, loss="mse")
        n = len(s)
        np.testing.assert_allclose(cap["l"].grad_h[i, :n], alone["l"].grad_h[0], atol=1e-6)
        assert not cap["l"].grad_h[i, n:].any()
    assert cap.loss == pytest.approx(
        sum(
            capture(model, s, y=y[i : i + 1], gradients=True, loss="mse").loss
            for i, s in enumerate(seqs)
        ),
        rel=1e-5,
    )


def test_gradient_errors():
    model = keras.Sequential([keras.Input((None, 2)), L.LSTM(2), L.Dense(1)])
    x = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="needs a loss: compile the model, or pass loss="):
        capture(model, x, gradients=True)
    with pytest.raises(ValueError, match="needs labels: pass y="):
        capture(model, x, gradients=True, loss="mse")
    with pytest.raises(ValueError, match=r"y has shape \(2, 1\); expected one target per sequence"):
        capture(model, x, y=np.zeros((2, 1)), gradients=True, loss="mse")


def test_finite_differences_through_bidirectional_and_stacked_pair(float64):
    inp = keras.Input((None, 2))
    h = L.Bidirectional(L.LSTM(2, return_sequences=True), name="bi")(inp)
    model = keras.Model(inp, L.Dense(1)(L.GRU(2, name="top")(h)))
    model.compile(loss="mse")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 4, 2))
    y = rng.normal(size=(2, 1))
    cap = capture(model, x, y=y, gradients=True)

    def loss():
        return float(np.sum((model.predict_on_batch(x) - y) ** 2))

    eps = 1e-6
    for name, layer in (
        ("bi/forward", model.get_layer("bi").forward_layer),
        ("bi/backward", model.get_layer("bi").backward_layer),
        ("top", model.get_layer("top")),
    ):
        lc = cap[name]
        for which, var in (
            ("kernel", layer.cell.kernel),
            ("recurrent_kernel", layer.cell.recurrent_kernel),
        ):
            value = var.numpy()
            for idx in [(0, 0), (1, value.shape[1] - 1), (0, value.shape[1] // 2)]:
                bumped = value.copy()
                bumped[idx] += eps
                var.assign(bumped)
                up = loss()
                bumped[idx] -= 2 * eps
                var.assign(bumped)
                down = loss()
                var.assign(value)
                assert lc.grad_weights[which][idx] == pytest.approx(
                    (up - down) / (2 * eps), abs=1e-6
                )
        # ∂L/∂U = Σ_t h_{t-1}ᵀ ∂L/∂z_t and ∂L/∂W = Σ_t x_tᵀ ∂L/∂z_t (processing order)
        h_seq, x_seq = lc.h, lc.inputs
        gz = np.concatenate([lc.grad_gates[g] for g in lc.gate_names], axis=-1)
        if lc.go_backwards:
            h_seq, x_seq, gz = h_seq[:, ::-1], x_seq[:, ::-1], gz[:, ::-1]
        h_prev = np.concatenate([np.zeros_like(h_seq[:, :1]), h_seq[:, :-1]], axis=1)
        np.testing.assert_allclose(
            lc.grad_weights["kernel"], np.einsum("btd,btg->dg", x_seq, gz), atol=1e-6
        )
        if lc.kind == "LSTM":  # GRU's candidate slice sees r·h_prev, not h_prev
            np.testing.assert_allclose(
                lc.grad_weights["recurrent_kernel"], np.einsum("btu,btg->ug", h_prev, gz), atol=1e-6
            )


def test_flat_labels_for_a_column_output_as_fit_allows():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((None, 2)), L.LSTM(3), L.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 5, 2)).astype(np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)  # (B,), the output is (B, 1)
    flat = capture(model, x, y=y, gradients=True)
    column = capture(model, x, y=y[:, None], gradients=True)
    lc = model.layers[0].name
    np.testing.assert_allclose(flat[lc].grad_h, column[lc].grad_h, atol=1e-7)
    # and it is the loss model.evaluate reports (mean over the batch there, a sum here)
    assert flat.loss == pytest.approx(4 * model.evaluate(x, y, verbose=0), rel=1e-5)


def test_time_distributed_head_after_the_replay_at_two_lengths():
    """Keras's TimeDistributed reads the time axis from the static shape; the replay's output
    once had none, and the head came back as (B, B, K). Two lengths: the relaxed retrace."""
    keras.utils.set_random_seed(6)
    inp = keras.Input((None, 3))
    h = L.LSTM(4, return_sequences=True, name="r1")(inp)
    model = keras.Model(inp, L.TimeDistributed(L.Dense(2), name="head")(h))
    model.compile(loss="mse")
    rng = np.random.default_rng(6)
    for t in (5, 8):
        x = rng.normal(size=(2, t, 3)).astype(np.float32)
        y = rng.normal(size=(2, t, 2)).astype(np.float32)
        cap = capture(model, x, y=y, gradients=True)
        loss, want = _tape_weight_grads(model, x, y, [model.get_layer("r1")])
        assert cap.loss == pytest.approx(loss, rel=1e-5)
        for g_want, g_got in zip(want[0], cap["r1"].grad_weights.values(), strict=True):
            np.testing.assert_allclose(
                g_got, g_want.numpy(), atol=1e-5 * max(1.0, float(np.abs(g_want).max()))
            )
