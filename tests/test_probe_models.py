"""Every kind of Keras 3 model people write: subclassed models, custom layers, layers called more
than once, nested models at any depth with masks from outside, stateful layers.

Backend-agnostic (run under KERAS_BACKEND=tensorflow and jax by scripts/test.sh). Each capture
is checked against Keras itself: the layer's own output computed by calling the layer on the
same tensors, never against the probe's own replay.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

L = keras.layers
TOL = 2e-5


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


@pytest.fixture
def rng():
    keras.utils.set_random_seed(7)
    return np.random.default_rng(7)


# -- the tensorflow.org text-generation model -------------------------------------------------
class TextModel(keras.Model):
    def __init__(self, vocab=12, dim=5, units=6):
        super().__init__()
        self.embedding = L.Embedding(vocab, dim)
        self.gru = L.GRU(units, return_sequences=True, return_state=True)
        self.dense = L.Dense(vocab)

    def call(self, inputs, states=None, return_state=False, training=False):
        x = self.embedding(inputs, training=training)
        x, states = self.gru(x, initial_state=states, training=training)
        x = self.dense(x, training=training)
        return (x, states) if return_state else x


@pytest.mark.parametrize("with_states", [False, True])
def test_subclassed_text_generation_model(rng, with_states):
    model = TextModel()
    ids = rng.integers(0, 12, size=(3, 7)).astype("int32")
    model(ids)
    h0 = rng.normal(size=(3, 6)).astype(np.float32) if with_states else None
    kwargs = {"states": h0, "return_state": True} if with_states else None
    cap = capture(model, ids, call_kwargs=kwargs)
    name = model.gru.name
    assert list(cap.layers) == [name]
    lc = cap[name]
    emb = model.embedding(ids)
    want, _ = model.gru(emb, initial_state=h0)
    np.testing.assert_allclose(lc.h, _np(want), atol=TOL)
    np.testing.assert_allclose(lc.inputs, _np(emb), atol=TOL)
    assert lc.fidelity < 1e-5
    # z·h_prev + (1-z)·h̃ from the recorded gates gives back h: the initial state was used
    prev = np.concatenate([(h0 if with_states else np.zeros((3, 6)))[:, None], lc.h[:, :-1]], 1)
    z, hh = lc.gates["update"], lc.gates["candidate"]
    np.testing.assert_allclose(z * prev + (1 - z) * hh, lc.h, atol=TOL)
    assert cap.predictions.mode == "sequence"
    np.testing.assert_allclose(cap.predictions.values, _np(model(ids, states=h0)), atol=TOL)


# -- custom layers: an encoder and a decoder with cross-attention ----------------------------
class Encoder(L.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.embedding = L.Embedding(10, 4)
        self.rnn = L.Bidirectional(L.GRU(3, return_sequences=True), name="bi")

    def call(self, ids):
        return self.rnn(self.embedding(ids))


class CrossAttention(L.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.mha = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
        self.add = L.Add()

    def call(self, x, context):
        return self.add([x, self.mha(query=x, value=context)])


class Decoder(L.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.rnn = L.LSTM(6, return_sequences=True, name="rnn")
        self.attention = CrossAttention(name="cross")

    def call(self, x, context):
        return self.attention(self.rnn(x), context)


class Translator(keras.Model):
    def __init__(self):
        super().__init__()
        self.encoder = Encoder(name="encoder")
        self.decoder = Decoder(name="decoder")
        self.out = L.Dense(3)

    def call(self, x, context=None):
        return self.out(self.decoder(x, self.encoder(context)))


def test_custom_encoder_decoder_layers_and_attention_inside_them(rng):
    model = Translator()
    ids = rng.integers(0, 10, size=(2, 5)).astype("int32")
    x = rng.normal(size=(2, 4, 2)).astype(np.float32)
    model(x, context=ids)
    cap = capture(model, x, call_kwargs={"context": ids})
    assert set(cap.layers) == {
        "encoder/bi/forward",
        "encoder/bi/backward",
        "decoder/rnn",
    }
    emb = model.encoder.embedding(ids)
    fwd = _np(model.encoder.rnn.forward_layer(emb))
    bwd = _np(model.encoder.rnn.backward_layer(emb))[:, ::-1]
    np.testing.assert_allclose(cap["encoder/bi/forward"].h, fwd, atol=TOL)
    np.testing.assert_allclose(cap["encoder/bi/backward"].h, bwd, atol=TOL)
    seq = model.decoder.rnn(x)
    np.testing.assert_allclose(cap["decoder/rnn"].h, _np(seq), atol=TOL)
    att = cap.attention["decoder/cross/mha"]
    context = model.encoder(ids)
    _, ref = model.decoder.attention.mha(query=seq, value=context, return_attention_scores=True)
    assert att.scores.shape == (2, 2, 4, 5)
    np.testing.assert_allclose(att.scores, _np(ref), atol=TOL)


# -- a layer called more than once ------------------------------------------------------------
def test_shared_layer_called_twice_gives_two_entries(rng):
    a_in, b_in = keras.Input((None, 3)), keras.Input((None, 3))
    shared = L.GRU(4, return_sequences=True, name="gru")
    model = keras.Model([a_in, b_in], L.Concatenate()([shared(a_in), shared(b_in)]))
    xa = rng.normal(size=(2, 5, 3)).astype(np.float32)
    xb = rng.normal(size=(2, 5, 3)).astype(np.float32)
    cap = capture(model, [xa, xb])
    assert list(cap.layers) == ["gru", "gru:1"]
    np.testing.assert_allclose(cap["gru"].h, _np(shared(xa)), atol=TOL)
    np.testing.assert_allclose(cap["gru:1"].h, _np(shared(xb)), atol=TOL)


class Stepper(keras.Model):
    """A decoder step layer called in a loop, its states carried from call to call."""

    def __init__(self):
        super().__init__()
        self.step = L.LSTM(5, return_state=True, name="step")
        self.head = L.Dense(2)

    def call(self, x):
        states = None
        outs = []
        for k in range(3):
            out, h, c = self.step(x[:, k : k + 2], initial_state=states)
            states = [h, c]
            outs.append(out)
        return self.head(keras.ops.stack(outs, axis=1))


def test_layer_called_in_a_loop_with_carried_states(rng):
    model = Stepper()
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    model(x)
    cap = capture(model, x)
    assert list(cap.layers) == ["step", "step:1", "step:2"]
    states = None
    for k, name in enumerate(cap.layers):
        _, h, c = model.step(x[:, k : k + 2], initial_state=states)
        lc = cap[name]
        np.testing.assert_allclose(lc.h[:, -1], _np(h), atol=TOL)
        np.testing.assert_allclose(lc.c[:, -1], _np(c), atol=TOL)
        states = [h, c]


# -- layers in lists and dicts ----------------------------------------------------------------
class Stack(keras.Model):
    def __init__(self):
        super().__init__()
        self.blocks = [L.LSTM(4, return_sequences=True), L.SimpleRNN(3, return_sequences=True)]
        self.heads = {"last": L.GRU(2)}

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.heads["last"](x)


def test_layers_held_in_lists_and_dicts(rng):
    model = Stack()
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    model(x)
    cap = capture(model, x)
    names = [model.blocks[0].name, model.blocks[1].name, model.heads["last"].name]
    assert list(cap.layers) == names
    h1 = model.blocks[0](x)
    h2 = model.blocks[1](h1)
    np.testing.assert_allclose(cap[names[0]].h, _np(h1), atol=TOL)
    np.testing.assert_allclose(cap[names[1]].h, _np(h2), atol=TOL)
    np.testing.assert_allclose(cap[names[2]].h[:, -1], _np(model(x)), atol=TOL)


# -- nested functional models -----------------------------------------------------------------
def test_nested_functional_two_deep_with_the_outer_mask(rng):
    i1 = keras.Input((None, 3))
    inner = keras.Model(i1, L.LSTM(4, return_sequences=True, name="lstm")(i1), name="inner")
    i2 = keras.Input((None, 3))
    middle = keras.Model(i2, inner(i2), name="middle")
    i3 = keras.Input((None, 3))
    masked = L.Masking(0.0)(i3)
    model = keras.Model(i3, L.GRU(2, name="top")(middle(masked)))
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    x[0, 4:] = 0.0  # padded: the outer Masking layer's mask must reach the inner LSTM
    cap = capture(model, x)
    lc = cap["middle/inner/lstm"]
    assert lc.mask is not None
    assert not lc.mask[0, 4:].any()
    assert lc.mask[1].all()
    layer = inner.get_layer("lstm")
    alone = _np(layer(x[:1, :4]))
    np.testing.assert_allclose(lc.h[0, :4], alone[0], atol=TOL)
    np.testing.assert_allclose(lc.h[0, 4:], np.repeat(alone[:, -1:], 2, 1)[0], atol=TOL)
    assert lc.fidelity < 1e-5


# -- stateful layers --------------------------------------------------------------------------
def test_stateful_layer_starts_from_its_states_and_keeps_them(rng):
    layer = L.LSTM(4, stateful=True, return_sequences=True, name="lstm")
    model = keras.Sequential([keras.Input(batch_shape=(2, None, 3)), layer, L.Dense(1)])
    warm = rng.normal(size=(2, 5, 3)).astype(np.float32)
    model(warm)  # the layer now holds non-zero states
    before = [np.array(v.numpy()) for v in layer.states]
    assert np.abs(before[0]).max() > 0
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    cap = capture(model, x)
    after = [np.array(v.numpy()) for v in layer.states]
    for a, b in zip(before, after, strict=True):
        np.testing.assert_array_equal(a, b)
    want = _np(layer(x))  # from the same states (this call moves them on)
    np.testing.assert_allclose(cap["lstm"].h, want, atol=TOL)
    # c_0 is the layer's state: c_1 = f·c_0 + i·g
    g = cap["lstm"].gates
    c1 = g["forget"][:, 0] * before[1] + g["input"][:, 0] * g["cell"][:, 0]
    np.testing.assert_allclose(cap["lstm"].c[:, 0], c1, atol=TOL)


# -- what stays refused -----------------------------------------------------------------------
@keras.saving.register_keras_serializable("lstmviz_tests")
class MinimalCell(L.Layer):
    def __init__(self, units, **kw):
        super().__init__(**kw)
        self.units = units
        self.state_size = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs, states):
        out = keras.ops.matmul(inputs, self.w) + states[0]
        return out, [out]


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda: L.RNN(MinimalCell(3), name="mine"), r"'mine' \(RNN\).*MinimalCell"),
        (lambda: L.Bidirectional(L.RNN(MinimalCell(3)), name="bi"), r"'bi' \(Bidirectional\)"),
    ],
)
def test_custom_cells_are_one_clear_refusal(make, what):
    model = keras.Sequential([keras.Input((None, 2)), make()])
    with pytest.raises(NotImplementedError, match=what):
        capture(model, np.zeros((3, 2), np.float32))


def test_conv_lstm_is_refused_by_name():
    model = keras.Sequential([keras.Input((None, 4, 1)), L.ConvLSTM1D(2, 3, name="conv")])
    with pytest.raises(NotImplementedError, match=r"'conv' \(ConvLSTM1D\).*convolutional"):
        capture(model, np.zeros((1, 3, 4, 1), np.float32))


_NO_TF = """
import sys
sys.modules["tensorflow"] = None  # any import of TensorFlow fails
import numpy as np, keras
from lstmviz_widget import capture
m = keras.Sequential([keras.Input((None, 4)), keras.layers.LSTM(8), keras.layers.Dense(1)])
m.compile(loss="mse")
x = np.random.default_rng(0).normal(size=(1, 5, 4)).astype("float32")
y = np.ones((1, 1), "float32")
cap = capture(m, x, y=y, gradients=True)
assert cap[m.layers[0].name].fidelity < 1e-5
assert abs(cap.loss - m.evaluate(x, y, verbose=0)) < 1e-5 * max(1.0, cap.loss)
assert np.abs(cap[m.layers[0].name].grad_h).max() > 0
print("ok", keras.backend.backend())
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_jax_and_torch_backends_need_no_tensorflow(backend):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run(
        [sys.executable, "-c", _NO_TF], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith(f"ok {backend}")


def test_gradients_of_a_subclassed_model_with_initial_state(rng):
    model = TextModel()
    ids = rng.integers(0, 12, size=(1, 6)).astype("int32")
    model(ids)
    h0 = rng.normal(size=(1, 6)).astype(np.float32)
    y = rng.integers(0, 12, size=(1, 6))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    cap = capture(model, ids, y=y, gradients=True, loss=loss, call_kwargs={"states": h0})
    want = float(_np(loss(y, model(ids, states=h0))))
    assert cap.loss == pytest.approx(want, rel=1e-5)
    lc = cap[model.gru.name]
    assert lc.grad_h.shape == lc.h.shape
    assert np.abs(lc.grad_h).max() > 0
    # the last step's ∂L/∂h_T is the head's gradient alone: through the Dense layer only
    logits = _np(model.dense(lc.h[:, -1:]))[:, 0]
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    p[0, y[0, -1]] -= 1.0
    head = (p / 6.0) @ _np(model.dense.kernel).T  # the mean over 6 steps
    np.testing.assert_allclose(lc.grad_h[:, -1], head, atol=1e-5)


def test_gradients_leave_stateful_states_and_cover_every_call(rng):
    a_in, b_in = keras.Input(batch_shape=(2, None, 3)), keras.Input(batch_shape=(2, None, 3))
    shared = L.GRU(4, return_sequences=True, stateful=True, name="gru")
    model = keras.Model([a_in, b_in], L.Dense(1)(L.Concatenate()([shared(a_in), shared(b_in)])))
    model.compile(loss="mse")
    xa, xb = (rng.normal(size=(2, 5, 3)).astype(np.float32) for _ in range(2))
    model([xa, xb])
    before = [np.array(v.numpy()) for v in shared.states]
    cap = capture(model, [xa, xb], y=np.zeros((2, 5, 1), np.float32), gradients=True)
    for a, b in zip(before, [np.array(v.numpy()) for v in shared.states], strict=True):
        np.testing.assert_array_equal(a, b)
    assert set(cap.layers) == {"gru", "gru:1"}
    for name in cap.layers:
        assert np.abs(cap[name].grad_h).max() > 0
    # the weight gradient is the total over both calls
    np.testing.assert_allclose(
        cap["gru"].grad_weights["kernel"], cap["gru:1"].grad_weights["kernel"]
    )
