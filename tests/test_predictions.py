"""Per-step predictions: the model's own output per step, or the prefix readout of its head."""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest

from lstmviz_widget import capture
from lstmviz_widget.probe.predictions import capture_predictions

L = keras.layers
TOL = 1e-5


@pytest.fixture
def rng():
    keras.utils.set_random_seed(7)
    return np.random.default_rng(7)


def _predict(model, x):
    return np.asarray(model.predict_on_batch(x))


def _classifier(head_units=3, activation="softmax", name="clf"):
    inp = keras.Input((None, 4))
    h = L.LSTM(8, name="lstm")(inp)
    z = L.Dense(6, activation="relu", name="hidden")(h)
    z = L.Dropout(0.3)(z)
    z = L.LayerNormalization()(z)
    return keras.Model(inp, L.Dense(head_units, activation=activation, name="head")(z), name=name)


def test_sequence_output_is_the_model_output(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(6, return_sequences=True, name="lstm")(inp)
    model = keras.Model(inp, L.Dense(4, activation="softmax", name="tagger")(seq))
    x = rng.normal(size=(3, 7, 3)).astype(np.float32)
    cap = capture(model, x)
    p = capture_predictions(model, [x], cap)
    assert (p.mode, p.task, p.source_layer) == ("sequence", "classification", None)
    ref = _predict(model, x)
    np.testing.assert_allclose(p.values, ref, atol=TOL)
    np.testing.assert_allclose(p.confidence, ref.max(-1), atol=TOL)
    np.testing.assert_array_equal(p.predicted, ref.argmax(-1))
    assert p.mispredicted is None
    y = rng.integers(0, 4, size=(3, 7))
    p = capture_predictions(model, [x], cap, y)
    np.testing.assert_array_equal(p.mispredicted, ref.argmax(-1) != y)
    one_hot = np.eye(4)[y]
    p2 = capture_predictions(model, [x], cap, one_hot)
    np.testing.assert_array_equal(p2.mispredicted, p.mispredicted)
    assert "that step's label" in p.reason


def test_sequence_output_of_a_ragged_batch_runs_each_sequence_at_its_length(rng):
    inp = keras.Input((None, 3))
    model = keras.Model(inp, L.Dense(2, activation="softmax")(L.GRU(5, return_sequences=True)(inp)))
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (5, 2, 5)]
    cap = capture(model, seqs)
    y = [[0, 1, 0, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
    p = capture_predictions(
        model, [np.stack([np.pad(s, ((0, 5 - len(s)), (0, 0))) for s in seqs])], cap, y
    )
    for i, s in enumerate(seqs):
        n = len(s)
        alone = _predict(model, s[None])[0]
        np.testing.assert_allclose(p.values[i, :n], alone, atol=TOL)
        np.testing.assert_allclose(p.values[i, n:], np.repeat(alone[-1:], 5 - n, 0), atol=TOL)
        assert not p.mispredicted[i, n:].any()  # padding is never wrong
        np.testing.assert_array_equal(p.mispredicted[i, :n], alone.argmax(-1) != y[i][:n])


def test_many_to_one_prefix_readout(rng):
    model = _classifier()
    x = rng.normal(size=(5, 9, 4)).astype(np.float32)
    cap = capture(model, x)
    y = np.array([0, 1, 2, 1, 0])
    p = capture_predictions(model, [x], cap, y)
    assert (p.mode, p.task, p.source_layer) == ("prefix", "classification", "lstm")
    assert p.values.shape == (5, 9, 3)
    ref = _predict(model, x)
    np.testing.assert_allclose(p.values[:, -1], ref, atol=TOL)  # the model's own output
    np.testing.assert_allclose(p.values.sum(-1), 1.0, atol=TOL)
    np.testing.assert_allclose(p.confidence, p.values.max(-1), atol=0)
    np.testing.assert_array_equal(p.predicted, p.values.argmax(-1))
    # prefix t is the model run on the first t + 1 steps
    for t in (0, 4):
        np.testing.assert_allclose(p.values[:, t], _predict(model, x[:, : t + 1]), atol=TOL)
    hand = np.array([[p.predicted[b, t] != y[b] for t in range(9)] for b in range(5)])
    np.testing.assert_array_equal(p.mispredicted, hand)
    np.testing.assert_array_equal(p.mispredicted[:, -1], ref.argmax(-1) != y)
    np.testing.assert_array_equal(
        capture_predictions(model, [x], cap, np.eye(3)[y]).mispredicted, p.mispredicted
    )
    assert "prefix" in p.reason
    assert "'lstm'" in p.reason


def test_prefix_readout_of_a_ragged_batch_ends_at_each_sequence(rng):
    model = _classifier()
    seqs = [rng.normal(size=(n, 4)).astype(np.float32) for n in (3, 8, 5)]
    cap = capture(model, seqs)
    padded = np.stack([np.pad(s, ((0, 8 - len(s)), (0, 0))) for s in seqs])
    p = capture_predictions(model, [padded], cap, [2, 2, 2])
    for i, s in enumerate(seqs):
        n = len(s)
        np.testing.assert_allclose(p.values[i, n - 1], _predict(model, s[None])[0], atol=TOL)
        assert not p.mispredicted[i, n:].any()


def test_binary_sigmoid(rng):
    model = _classifier(head_units=1, activation="sigmoid", name="binary")
    x = rng.normal(size=(4, 6, 4)).astype(np.float32)
    cap = capture(model, x)
    y = np.array([1, 0, 1, 1])
    p = capture_predictions(model, [x], cap, y)
    assert (p.mode, p.task) == ("prefix", "binary")
    prob = p.values[..., 0]
    np.testing.assert_allclose(p.values[:, -1], _predict(model, x), atol=TOL)
    np.testing.assert_allclose(p.confidence, np.abs(prob - 0.5) * 2, atol=1e-6)
    np.testing.assert_array_equal(p.predicted, (prob > 0.5).astype(int))
    np.testing.assert_array_equal(p.mispredicted, (prob > 0.5) != y[:, None].astype(bool))
    with pytest.raises(ValueError, match="0/1"):
        capture_predictions(model, [x], cap, [0, 1, 2, 1])


def test_regression(rng):
    inp = keras.Input((None, 2))
    h = L.SimpleRNN(5, name="rnn")(inp)
    model = keras.Model(inp, L.Dense(2, name="out")(L.BatchNormalization()(h)))
    x = rng.normal(size=(3, 5, 2)).astype(np.float32)
    cap = capture(model, x)
    p = capture_predictions(model, [x], cap, y=[0, 1, 0])
    assert (p.mode, p.task) == ("prefix", "regression")
    np.testing.assert_allclose(p.values[:, -1], _predict(model, x), atol=TOL)
    np.testing.assert_allclose(p.confidence, np.linalg.norm(p.values, axis=-1), atol=1e-6)
    assert p.predicted is None
    assert p.mispredicted is None
    assert "labels y ignored" in p.reason
    one = keras.Model(inp, L.Dense(1)(L.GRU(3, return_sequences=True)(inp)))
    p1 = capture_predictions(one, [x], capture(one, x))
    assert (p1.mode, p1.task) == ("sequence", "regression")
    np.testing.assert_allclose(p1.confidence, _predict(one, x)[..., 0], atol=TOL)


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda s, i: L.Dense(2)(L.GlobalAveragePooling1D(name="pool")(s)), "'pool'"),
        (lambda s, i: L.Dense(2)(L.Flatten(name="flat")(s)), "'flat'"),
        (
            lambda s, i: L.Dense(2)(L.Concatenate(name="cat")([L.LSTM(3)(i), L.Dense(3)(i[:, 0])])),
            "'cat'.*other tensors",
        ),
        (
            lambda s, i: L.Dense(2)(L.Bidirectional(L.LSTM(3), name="bi")(i)),
            "Bidirectional.*'bi'.*not a prefix state",
        ),
        (lambda s, i: L.Dense(2)(L.LSTM(3, go_backwards=True, name="back")(i)), "go_backwards"),
    ],
)
def test_heads_that_are_not_per_vector_give_no_predictions(rng, make, why):
    inp = keras.Input((7, 3))
    seq = L.LSTM(4, return_sequences=True)(inp)
    model = keras.Model(inp, make(seq, inp))
    x = rng.normal(size=(2, 7, 3)).astype(np.float32)
    p = capture_predictions(model, [x], capture(model, x), y=[0, 1])
    assert p.mode == "none"
    assert p.values is None
    assert p.mispredicted is None
    assert p.reason
    assert re.search(why, p.reason), p.reason


def test_several_outputs_use_the_first_per_step_one(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(4, return_sequences=True, name="lstm")(inp)
    pooled = L.Dense(1, name="pooled")(L.GlobalMaxPooling1D()(seq))
    tags = L.Dense(3, activation="softmax", name="tags")(seq)
    model = keras.Model(inp, [pooled, tags])
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    p = capture_predictions(model, [x], capture(model, x))
    assert p.mode == "sequence"
    np.testing.assert_allclose(p.values, model.predict_on_batch(x)[1], atol=TOL)
    assert "output 0 ('pooled') of 2 skipped" in p.reason
    assert "output 1 ('tags') of 2" in p.reason


def test_encoder_decoder_sequence_output_follows_the_decoder(rng):
    enc_in = keras.Input((None, 3))
    _, h, c = L.LSTM(4, return_state=True)(enc_in)
    dec_in = keras.Input((None, 2))
    dec = L.LSTM(4, return_sequences=True)(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], L.Dense(5, activation="softmax")(dec))
    xe = rng.normal(size=(2, 6, 3)).astype(np.float32)
    xd = rng.normal(size=(2, 4, 2)).astype(np.float32)
    p = capture_predictions(model, [xe, xd], capture(model, [xe, xd]), np.zeros((2, 4)))
    assert p.mode == "sequence"
    assert p.values.shape == (2, 4, 5)
    np.testing.assert_allclose(p.values, model.predict_on_batch([xe, xd]), atol=TOL)


def test_bad_labels_are_clear_errors(rng):
    model = _classifier()
    x = rng.normal(size=(2, 4, 4)).astype(np.float32)
    cap = capture(model, x)
    with pytest.raises(ValueError, match=r"y has shape \(2, 4\); expected \(2,\) class ids"):
        capture_predictions(model, [x], cap, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="non-integer"):
        capture_predictions(model, [x], cap, [0.5, 1])
    with pytest.raises(ValueError, match="3 classes"):
        capture_predictions(model, [x], cap, [0, 3])
    with pytest.raises(ValueError, match="dtype"):
        capture_predictions(model, [x], cap, ["a", "b"])
    # one sequence may leave out its batch axis
    one = x[:1]
    p = capture_predictions(model, [one], capture(model, one), 2)
    assert p.mispredicted.shape == (1, 4)


def test_capture_fills_predictions_with_y(rng):
    model = _classifier()
    x = rng.normal(size=(3, 6, 4)).astype(np.float32)
    y = np.array([0, 1, 2])
    cap = capture(model, x, y=y)
    assert cap.predictions.mode == "prefix"
    np.testing.assert_allclose(cap.predictions.values[:, -1], _predict(model, x), atol=TOL)
    np.testing.assert_array_equal(
        cap.predictions.mispredicted, cap.predictions.predicted != y[:, None]
    )
    assert capture(model, x).predictions.mispredicted is None


def test_user_mask_gives_what_keras_masking_gives(rng):
    lstm = L.LSTM(4, return_sequences=True)
    dense = L.Dense(3, activation="softmax")
    inp = keras.Input((None, 2))
    plain = keras.Model(inp, dense(lstm(inp)))
    masked_model = keras.Model(inp, dense(lstm(L.Masking(0.0)(inp))))  # shares the layers
    x = rng.normal(size=(2, 6, 2)).astype(np.float32)
    mask = np.ones((2, 6), bool)
    mask[0, 2] = mask[1, 4:] = False
    p = capture(plain, x, mask=mask).predictions
    assert p.mode == "sequence"
    ref = _predict(masked_model, np.where(mask[..., None], x, 0.0).astype(np.float32))
    np.testing.assert_allclose(p.values, ref, atol=TOL)
