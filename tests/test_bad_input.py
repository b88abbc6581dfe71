"""Every bad input gets one clear exception that says what is wrong and how to fix it."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import LSTMExplorer, capture

L = keras.layers


@pytest.fixture(scope="module")
def model():
    return keras.Sequential([keras.Input((None, 8)), L.LSTM(4), L.Dense(1)])


def good():
    return np.zeros((5, 8), np.float32)


@pytest.mark.parametrize("entry", [capture, LSTMExplorer])
def test_not_a_model(entry):
    with pytest.raises(TypeError, match=r"expected a Keras 3 model \(keras.Model\), got dict"):
        entry({"not": "a model"}, good())


@pytest.mark.parametrize("entry", [capture, LSTMExplorer])
def test_model_without_recurrent_layer(entry):
    dense = keras.Sequential([keras.Input((None, 8)), L.Dense(3)])
    with pytest.raises(ValueError, match=r"no recurrent layer.*dense_?\d* \(Dense\).*LSTM, GRU"):
        entry(dense, good())


def test_model_never_built():
    unbuilt = keras.Sequential([L.LSTM(4)])
    with pytest.raises(ValueError, match=r"never been built.*keras.Input"):
        capture(unbuilt, good())


def test_subclassed_model_is_captured_not_refused():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.rnn = L.LSTM(3)

        def call(self, x):
            return self.rnn(x)

    net = Net()
    x = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    want = np.asarray(net(x[None]))
    cap = capture(net, x)
    np.testing.assert_allclose(cap[net.rnn.name].h[:, -1], want, atol=1e-6)
    assert cap[net.rnn.name].fidelity < 1e-5


@pytest.mark.parametrize(
    ("seq", "error", "message"),
    [
        (np.zeros((2, 3, 5, 8), np.float32), ValueError, r"shape \(2, 3, 5, 8\).*\(batch, T, 8\)"),
        (np.zeros(8, np.float32), ValueError, r"expects \(batch, T, 8\) \(or \(T, 8\)"),
        (np.zeros((5, 7), np.float32), ValueError, r"has 7 features.*expects 8"),
        (np.zeros((0, 8), np.float32), ValueError, r"empty sequence"),
        (np.zeros((0, 5, 8), np.float32), ValueError, r"empty batch"),
        ([], ValueError, r"empty list"),
        (None, TypeError, r"seq is None"),
        (np.array([["a"] * 8] * 5), TypeError, r"dtype <U1.*expected numbers"),
        ([[1.0] * 8, [1.0] * 3], ValueError, "could not be turned into an array"),
    ],
)
def test_bad_sequences(model, seq, error, message):
    with pytest.raises(error, match=message):
        capture(model, seq)


def test_nan_and_inf(model):
    seq = good()
    seq[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN/Inf value\(s\), first at index \(0, 3, 2\)"):
        capture(model, seq)
    seq[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN/Inf"):
        LSTMExplorer(model, seq)


def test_fixed_length_model_checks_timesteps():
    fixed = keras.Sequential([keras.Input((10, 8)), L.GRU(2)])
    with pytest.raises(ValueError, match=r"5 timesteps.*expects 10"):
        capture(fixed, good())


def test_token_ids_must_be_integers():
    emb = keras.Sequential([keras.Input((None,), dtype="int32"), L.Embedding(9, 2), L.GRU(2)])
    with pytest.raises(TypeError, match="non-integer values"):
        capture(emb, np.array([0.5, 1.0]))


def test_multi_input_needs_a_list():
    a, b = keras.Input((None, 2)), keras.Input((None, 2))
    m = keras.Model([a, b], L.LSTM(2)(L.Add()([a, b])))
    with pytest.raises(ValueError, match="has 2 inputs; pass a list of 2 arrays"):
        capture(m, np.zeros((3, 2), np.float32))


def test_bad_mask(model):
    with pytest.raises(ValueError, match=r"mask has shape \(4,\); expected \(B, T\) = \(1, 5\)"):
        capture(model, good(), mask=np.ones(4, bool))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: L.ConvLSTM1D(2, 3), r"'conv_lstm1d.*' \(ConvLSTM1D\) is not supported"),
        (
            lambda: L.RNN([L.LSTMCell(2), L.LSTMCell(2)]),
            r"is not supported: stacked cells \(StackedRNNCells\)",
        ),
    ],
)
def test_unsupported_layers(make, message):
    layer = make()
    shape = (None, 6, 8) if isinstance(layer, L.ConvLSTM1D) else (None, 8)
    m = keras.Sequential([keras.Input(shape), layer])
    seq = np.zeros((5, *shape[1:]), np.float32) if len(shape) > 2 else good()
    with pytest.raises(NotImplementedError, match=message):
        capture(m, seq)


def test_custom_cell_is_refused():
    class MyCell(L.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.state_size = 2

        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], 2))

        def call(self, x, states):
            h = keras.ops.tanh(x @ self.w + states[0])
            return h, [h]

    m = keras.Sequential([keras.Input((None, 8)), L.RNN(MyCell())])
    with pytest.raises(NotImplementedError, match=r"its cell is MyCell.*supports LSTM, GRU"):
        capture(m, good())


def test_explorer_argument_errors(model):
    with pytest.raises(TypeError, match=r"LSTMExplorer\(model, seq\): pass the input sequence"):
        LSTMExplorer(model)
    cap = capture(model, good())
    with pytest.raises(TypeError, match="takes no sequence"):
        LSTMExplorer(cap, good())
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        LSTMExplorer(cap, colour="red")


def test_too_few_labels_for_a_float_sequence_says_so(model):
    with pytest.raises(ValueError, match=r"2 labels were given for 5 steps"):
        capture(model, good(), tokens=["a", "b"])
