"""Graph shapes beyond a plain stack: encoder–decoder, nested models, masks, ragged batches."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

L = keras.layers
TOL = 1e-5


@pytest.fixture
def rng():
    keras.utils.set_random_seed(3)
    return np.random.default_rng(3)


def test_encoder_decoder_initial_state_from_another_layer(rng):
    enc_in = keras.Input((None, 3), name="enc")
    _, h, c = L.LSTM(4, return_state=True, name="encoder")(enc_in)
    dec_in = keras.Input((None, 2), name="dec")
    dec = L.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], L.Dense(1)(dec))
    xe = rng.normal(size=(2, 6, 3)).astype(np.float32)
    xd = rng.normal(size=(2, 5, 2)).astype(np.float32)  # decoder shorter than encoder
    cap = capture(model, [xe, xd])
    assert cap.layer_names == ["encoder", "decoder"]
    assert cap["encoder"].h.shape == (2, 6, 4)  # each layer keeps its own time axis
    assert cap["decoder"].h.shape == (2, 5, 4)
    assert cap.n_steps == 6
    enc_ref = keras.Model(model.inputs, [h, c]).predict_on_batch([xe, xd])
    np.testing.assert_allclose(cap["encoder"].h[:, -1], enc_ref[0], atol=TOL)
    np.testing.assert_allclose(cap["encoder"].c[:, -1], enc_ref[1], atol=TOL)
    dec_ref = keras.Model(model.inputs, dec).predict_on_batch([xe, xd])
    np.testing.assert_allclose(cap["decoder"].h, dec_ref, atol=TOL)
    # the decoder starts from the encoder's final state, not from zeros
    assert cap["decoder"].fidelity <= TOL
    assert np.abs(cap["decoder"].c[:, 0]).max() > 0


def test_a_decoder_longer_than_its_encoder_keeps_all_its_steps(rng):
    enc_in, dec_in = keras.Input((None, 2)), keras.Input((None, 3))
    _, h, c = L.LSTM(4, return_state=True, name="enc")(enc_in)
    dec = L.LSTM(4, return_sequences=True, name="dec")(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], dec)
    xe = rng.normal(size=(2, 5, 2)).astype(np.float32)
    xd = rng.normal(size=(2, 7, 3)).astype(np.float32)
    cap = capture(model, [xe, xd])
    assert cap["enc"].h.shape == (2, 5, 4)
    assert cap["dec"].h.shape == (2, 7, 4)
    np.testing.assert_array_equal(cap.lengths, [7, 7])  # each layer is capped by its own T
    np.testing.assert_allclose(cap["dec"].h, model.predict_on_batch([xe, xd]), atol=TOL)


def test_nested_model_layers_are_found_in_graph_order(rng):
    inner = keras.Sequential(
        [keras.Input((None, 3)), L.GRU(4, return_sequences=True, name="g")], name="inner"
    )
    inp = keras.Input((None, 3))
    out = L.LSTM(2, name="top")(inner(inp))
    model = keras.Model(inp, out)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    cap = capture(model, x)
    assert cap.layer_names == ["inner/g", "top"]
    np.testing.assert_allclose(cap["inner/g"].h, inner.predict_on_batch(x), atol=TOL)
    np.testing.assert_allclose(cap["top"].h[:, -1], model.predict_on_batch(x), atol=TOL)


def test_user_mask_equals_keras_masking(rng):
    """mask= gives what Keras computes when a Masking layer hides the same steps."""
    keras.utils.set_random_seed(5)
    lstm = L.LSTM(4, return_sequences=True, name="l1")
    gru = L.GRU(3, name="l2")
    inp = keras.Input((None, 3))
    plain = keras.Model(inp, gru(lstm(inp)))
    masked_model = keras.Model(inp, gru(lstm(L.Masking(0.0)(inp))))  # shares the layers
    x = rng.normal(size=(2, 7, 3)).astype(np.float32)
    mask = np.ones((2, 7), bool)
    mask[0, 2] = mask[0, 3] = False
    mask[1, 5:] = False
    cap = capture(plain, x, mask=mask)
    x_zeroed = np.where(mask[..., None], x, 0.0).astype(np.float32)
    ref = capture(masked_model, x_zeroed)
    for name in ("l1", "l2"):
        np.testing.assert_array_equal(cap[name].mask, mask)
        np.testing.assert_allclose(cap[name].h, ref[name].h, atol=TOL)
    np.testing.assert_allclose(cap["l1"].c, ref["l1"].c, atol=TOL)
    np.testing.assert_allclose(
        cap["l2"].h[:, -1], masked_model.predict_on_batch(x_zeroed), atol=TOL
    )
    # state carried over on masked steps
    np.testing.assert_array_equal(cap["l1"].h[0, 3], cap["l1"].h[0, 1])
    np.testing.assert_array_equal(cap["l1"].c[1, 6], cap["l1"].c[1, 4])


@pytest.mark.parametrize("bidirectional", [False, True])
def test_ragged_list_is_padded_and_masked(rng, bidirectional):
    layer = L.LSTM(3, return_sequences=True, name="l")
    layer = L.Bidirectional(layer, name="l") if bidirectional else layer
    model = keras.Sequential([keras.Input((None, 2)), layer])
    seqs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (6, 3, 4)]
    cap = capture(model, seqs)
    np.testing.assert_array_equal(cap.lengths, [6, 3, 4])
    names = ["l/forward", "l/backward"] if bidirectional else ["l"]
    assert cap.layer_names == names
    for i, s in enumerate(seqs):
        alone = capture(model, s)
        n = len(s)
        for name in names:
            lc = cap[name]
            assert lc.mask[i].sum() == n
            assert not lc.mask[i, n:].any()
            np.testing.assert_allclose(lc.h[i, :n], alone[name].h[0], atol=TOL)
            np.testing.assert_allclose(lc.c[i, :n], alone[name].c[0], atol=TOL)
            if lc.direction == "backward":  # padding comes before the data: initial state
                assert not lc.h[i, n:].any()
            else:  # padding comes after the data: state carried over
                np.testing.assert_array_equal(lc.h[i, n:], np.repeat(lc.h[i, n - 1 : n], 6 - n, 0))


def test_multi_input_model_takes_a_list(rng):
    a, b = keras.Input((None, 2)), keras.Input((None, 3))
    model = keras.Model([a, b], L.SimpleRNN(2, name="rnn")(L.Concatenate()([a, b])))
    xa = rng.normal(size=(2, 4, 2)).astype(np.float32)
    xb = rng.normal(size=(2, 4, 3)).astype(np.float32)
    cap = capture(model, [xa, xb])
    np.testing.assert_allclose(cap["rnn"].h[:, -1], model.predict_on_batch([xa, xb]), atol=TOL)
    np.testing.assert_allclose(cap["rnn"].inputs, np.concatenate([xa, xb], -1), atol=0)


def test_tokens_labels_and_vocabulary(rng):
    model = keras.Sequential(
        [keras.Input((None,), dtype="int32"), L.Embedding(5, 3), L.GRU(2, name="g")]
    )
    ids = np.array([1, 2, 3, 4])
    vocab = ["<pad>", "the", "cat", "sat", "<img src=x onerror=alert(1)>"]
    assert capture(model, ids, tokens=vocab).tokens == [vocab[1:]]
    assert capture(model, ids, tokens=dict(enumerate(vocab))).tokens == [vocab[1:]]
    labels = ["a", "b", "c", "d"]
    assert capture(model, ids, tokens=labels).tokens == [labels]
    assert capture(model, [ids, ids], tokens=[labels, labels]).tokens == [labels, labels]
    with pytest.raises(ValueError, match="one label per step"):
        capture(model, [ids, ids], tokens=[labels])
    float_model = keras.Sequential([keras.Input((None, 2)), L.GRU(2)])
    with pytest.raises(ValueError, match="vocabulary"):
        capture(float_model, np.zeros((3, 2), np.float32), tokens={0: "a"})


def test_repeated_capture_sees_new_weights(rng):
    model = keras.Sequential([keras.Input((None, 2)), L.LSTM(3, name="l")])
    x = rng.normal(size=(1, 5, 2)).astype(np.float32)
    first = capture(model, x)["l"].h
    model.set_weights([w * 1.5 for w in model.get_weights()])
    second = capture(model, x)["l"]
    assert np.abs(first - second.h).max() > 1e-3
    np.testing.assert_allclose(second.h[:, -1], model.predict_on_batch(x), atol=TOL)
