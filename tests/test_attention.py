"""Attention weights: the scores the model itself used, per layer, per head."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import capture
from lstmviz_widget.probe.attention import capture_attention

L = keras.layers
TOL = 1e-5


@pytest.fixture
def rng():
    keras.utils.set_random_seed(11)
    return np.random.default_rng(11)


def _sub(model, tensors, x):
    """What ``tensors`` hold when ``model`` runs on ``x``: an independent sub-model."""
    outs = keras.Model(model.inputs, tensors).predict_on_batch(x)
    return list(outs) if isinstance(outs, (list, tuple)) else [outs]


def _np(t):
    return np.asarray(keras.ops.convert_to_numpy(t))


def _check_rows(scores, atol=TOL):
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=atol)


def _encoder_decoder(layer, t_enc=7, t_dec=5, units=6):
    enc_in = keras.Input((None, 3), name="enc_in")
    enc_seq, h, c = L.LSTM(units, return_sequences=True, return_state=True, name="encoder")(enc_in)
    dec_in = keras.Input((None, 2), name="dec_in")
    dec_seq = L.LSTM(units, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    context = layer([dec_seq, enc_seq])
    out = L.Dense(4, activation="softmax", name="out")(L.Concatenate()([dec_seq, context]))
    model = keras.Model([enc_in, dec_in], out)
    return model, dec_seq, enc_seq, context


def test_encoder_decoder_luong_attention(rng):
    layer = L.Attention(name="attention")
    model, dec_seq, enc_seq, context = _encoder_decoder(layer)
    xe = rng.normal(size=(3, 7, 3)).astype(np.float32)
    xd = rng.normal(size=(3, 5, 2)).astype(np.float32)
    att = capture_attention(model, [xe, xd])
    assert list(att) == ["attention"]
    a = att["attention"]
    assert a.kind == "Attention"
    assert a.scores.shape == (3, 1, 5, 7)  # Tq = decoder steps, Tk = encoder steps
    assert a.scores.dtype == np.float32
    assert (a.query_source, a.key_source) == ("decoder", "encoder")
    _check_rows(a.scores)
    # the Keras layer called on its own on the same inputs gives the same weights
    q, v, ctx = _sub(model, [dec_seq, enc_seq, context], [xe, xd])
    _, ref = layer([q, v], return_attention_scores=True)
    np.testing.assert_allclose(a.scores[:, 0], _np(ref), atol=TOL)
    # and they are the weights the model used: scores @ value is the layer's output in the graph
    np.testing.assert_allclose(a.scores[:, 0] @ v, ctx, atol=TOL)


def test_additive_attention_with_separate_key(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(5, return_sequences=True, name="lstm")(inp)
    query = L.Dense(4, name="queries")(seq)
    key = L.Dense(4, name="keys")(seq)
    layer = L.AdditiveAttention(name="additive")
    context = layer([query, seq, key])
    model = keras.Model(inp, L.LSTM(2, name="top")(context))
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    a = capture_attention(model, [x])["additive"]
    assert a.kind == "AdditiveAttention"
    assert a.scores.shape == (2, 1, 6, 6)
    assert (a.query_source, a.key_source) == ("queries", "keys")
    _check_rows(a.scores)
    q, v, k, ctx = _sub(model, [query, seq, key, context], x)
    _, ref = layer([q, v, k], return_attention_scores=True)
    np.testing.assert_allclose(a.scores[:, 0], _np(ref), atol=TOL)
    np.testing.assert_allclose(a.scores[:, 0] @ v, ctx, atol=TOL)


def _mha_output(layer, scores, value):
    """MultiHeadAttention's output rebuilt from per-head scores (B, N, Tq, Tk)."""
    v = _np(layer._value_dense(value))  # (B, Tk, N, H)
    heads = np.einsum("bnqk,bknh->bqnh", scores, v)
    return _np(layer._output_dense(heads))


def test_multi_head_self_attention_per_head(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(6, return_sequences=True, name="lstm")(inp)
    layer = L.MultiHeadAttention(num_heads=2, key_dim=3, name="mha")
    mixed = layer(seq, seq)
    model = keras.Model(inp, L.Dense(1)(L.GlobalAveragePooling1D()(mixed)))
    x = rng.normal(size=(2, 8, 3)).astype(np.float32)
    a = capture_attention(model, [x])["mha"]
    assert a.kind == "MultiHeadAttention"
    assert a.scores.shape == (2, 2, 8, 8)
    assert (a.query_source, a.key_source) == ("lstm", "lstm")
    _check_rows(a.scores)
    assert not np.allclose(a.scores[:, 0], a.scores[:, 1])  # two different heads
    s, out = _sub(model, [seq, mixed], x)
    _, ref = layer(s, s, return_attention_scores=True)
    np.testing.assert_allclose(a.scores, _np(ref), atol=TOL)
    np.testing.assert_allclose(_mha_output(layer, a.scores, s), out, atol=TOL)


def test_multi_head_cross_attention_tq_differs_from_tk(rng):
    enc_in = keras.Input((None, 3))
    enc = L.GRU(4, return_sequences=True, name="enc")(enc_in)
    dec_in = keras.Input((None, 2))
    dec = L.LSTM(5, return_sequences=True, name="dec")(dec_in)
    layer = L.MultiHeadAttention(num_heads=3, key_dim=2, name="cross")
    mixed = layer(query=dec, value=enc, key=enc)
    model = keras.Model([enc_in, dec_in], L.Dense(2)(mixed))
    xe = rng.normal(size=(2, 9, 3)).astype(np.float32)
    xd = rng.normal(size=(2, 4, 2)).astype(np.float32)
    a = capture_attention(model, [xe, xd])["cross"]
    assert a.scores.shape == (2, 3, 4, 9)
    assert (a.query_source, a.key_source) == ("dec", "enc")
    _check_rows(a.scores)
    q, v, out = _sub(model, [dec, enc, mixed], [xe, xd])
    _, ref = layer(q, v, key=v, return_attention_scores=True)
    np.testing.assert_allclose(a.scores, _np(ref), atol=TOL)
    np.testing.assert_allclose(_mha_output(layer, a.scores, v), out, atol=TOL)


def test_masks_and_causal_flag_are_those_of_the_graph_call(rng):
    """A causal self-attention over an Embedding(mask_zero) sequence: both masks apply."""
    inp = keras.Input((None,), dtype="int32")
    seq = L.LSTM(4, return_sequences=True, name="lstm")(L.Embedding(9, 3, mask_zero=True)(inp))
    layer = L.Attention(name="causal")
    context = layer([seq, seq], use_causal_mask=True)
    mha = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")
    mixed = mha(seq, seq, use_causal_mask=True)
    model = keras.Model(inp, L.Concatenate()([context, mixed]))
    x = np.array([[3, 1, 4, 1, 5, 0, 0], [2, 7, 1, 8, 2, 8, 1]])
    att = capture_attention(model, [x])
    a, m = att["causal"].scores[:, 0], att["mha"].scores
    assert np.all(np.triu(a[1], k=1) == 0)  # nothing from the future
    assert np.all(a[0, :, 5:] == 0)  # nor from padding
    _check_rows(a)
    _check_rows(m[1])
    assert np.all(np.triu(m[1, 0], k=1) == 0)
    s, ctx = _sub(model, [seq, context], x)
    valid = x != 0
    _, ref = layer([s, s], mask=[valid, valid], use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(a, _np(ref), atol=TOL)
    np.testing.assert_allclose((a @ s) * valid[..., None], ctx, atol=TOL)


class DotAttention(L.Layer):
    """Plain dot-product attention following the probe's protocol."""

    def call(self, query, value):
        return keras.ops.matmul(self.lstmviz_attention_scores(query, value), value)

    def lstmviz_attention_scores(self, query, value):
        logits = keras.ops.matmul(query, keras.ops.transpose(value, (0, 2, 1)))
        return keras.ops.softmax(logits, axis=-1)


class ScoresInCall(L.Layer):
    """Returns (output, scores) with return_attention_scores=True, like the Keras layers."""

    def call(self, inputs, return_attention_scores=False):
        q, v = inputs
        w = keras.ops.softmax(keras.ops.matmul(q, keras.ops.transpose(v, (0, 2, 1))) / 2.0)
        out = keras.ops.matmul(w, v)
        return (out, w) if return_attention_scores else out


def test_custom_layers_following_the_protocol(rng):
    enc_in = keras.Input((None, 3))
    enc = L.LSTM(4, return_sequences=True, name="enc")(enc_in)
    dec_in = keras.Input((None, 3))
    dec = L.GRU(4, return_sequences=True, name="dec")(dec_in)
    dot = DotAttention(name="dot")
    ctx1 = dot(dec, enc)
    other = ScoresInCall(name="in_call")
    ctx2 = other([dec, enc])
    model = keras.Model([enc_in, dec_in], L.Add()([ctx1, ctx2]))
    xe = rng.normal(size=(2, 6, 3)).astype(np.float32)
    xd = rng.normal(size=(2, 3, 3)).astype(np.float32)
    att = capture_attention(model, [xe, xd])
    assert set(att) == {"dot", "in_call"}
    q, v, out1, out2 = _sub(model, [dec, enc, ctx1, ctx2], [xe, xd])
    for name, out in (("dot", out1), ("in_call", out2)):
        a = att[name]
        assert a.kind == type(model.get_layer(name)).__name__
        assert a.scores.shape == (2, 1, 3, 6)
        assert (a.query_source, a.key_source) == ("dec", "enc")
        _check_rows(a.scores)
        np.testing.assert_allclose(a.scores[:, 0] @ v, out, atol=TOL)
    np.testing.assert_allclose(att["dot"].scores[:, 0], _np(dot.lstmviz_attention_scores(q, v)))


def test_custom_layer_with_wrong_score_shape_is_a_clear_error(rng):
    class Bad(DotAttention):
        def call(self, query, value):  # a valid model on every backend; only its scores are bad
            return query

        def lstmviz_attention_scores(self, query, value):
            return keras.ops.ones((2, 2))

    inp = keras.Input((None, 3))
    seq = L.LSTM(3, return_sequences=True)(inp)
    model = keras.Model(inp, Bad(name="bad")(seq, seq))
    with pytest.raises(ValueError, match=r"'bad'.*expected \(B, T_query, T_key\)"):
        capture_attention(model, [rng.normal(size=(2, 4, 3)).astype(np.float32)])


def test_flash_attention_is_turned_off_for_the_probe_only(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(4, return_sequences=True)(inp)
    layer = L.MultiHeadAttention(num_heads=2, key_dim=2, name="mha")
    mixed = layer(seq, seq)
    model = keras.Model(inp, mixed)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    s, out = _sub(model, [seq, mixed], x)  # the layer's own output, before flash is on
    layer._flash_attention = True  # as if built with flash_attention=True (GPU only)
    a = capture_attention(model, [x])["mha"]
    _check_rows(a.scores)
    assert layer._flash_attention is True
    assert a.scores.shape == (2, 2, 5, 5)
    assert not np.allclose(a.scores[:, 0], a.scores[:, 1])
    # the scores are the ones the layer used: its output rebuilt from them
    np.testing.assert_allclose(_mha_output(layer, a.scores, s), out, atol=TOL)


def test_no_attention_layer_gives_empty_dict(rng):
    model = keras.Sequential([keras.Input((None, 2)), L.LSTM(3)])
    assert capture_attention(model, [rng.normal(size=(1, 4, 2)).astype(np.float32)]) == {}


def test_attention_inside_a_nested_model(rng):
    seq_in = keras.Input((None, 4))
    inner_layer = L.Attention(name="att")
    inner = keras.Model(seq_in, inner_layer([seq_in, seq_in]), name="block")
    inp = keras.Input((None, 3))
    seq = L.LSTM(4, return_sequences=True, name="lstm")(inp)
    context = inner(seq)
    model = keras.Model(inp, L.LSTM(2)(context))
    x = rng.normal(size=(2, 5, 3)).astype(np.float32)
    a = capture_attention(model, [x])["block/att"]
    assert a.scores.shape == (2, 1, 5, 5)
    s, ctx = _sub(model, [seq, context], x)
    _, ref = inner_layer([s, s], return_attention_scores=True)
    np.testing.assert_allclose(a.scores[:, 0], _np(ref), atol=TOL)
    # independent of Keras: Luong dot-product weights in numpy, and the nested model's output
    # (in the outer graph) rebuilt from the captured scores
    logits = s @ s.transpose(0, 2, 1)
    want = np.exp(logits - logits.max(-1, keepdims=True))
    want /= want.sum(-1, keepdims=True)
    np.testing.assert_allclose(a.scores[:, 0], want, atol=TOL)
    np.testing.assert_allclose(a.scores[:, 0] @ s, ctx, atol=TOL)


def test_capture_records_attention_and_pads_ragged_batches(rng):
    inp = keras.Input((None, 3))
    seq = L.LSTM(4, return_sequences=True, name="lstm")(inp)
    layer = L.Attention(name="attention")
    model = keras.Model(inp, L.Dense(2)(layer([seq, seq])))
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (6, 3)]
    cap = capture(model, seqs)
    a = cap.attention["attention"]
    assert a.scores.shape == (2, 1, 6, 6)
    # each sequence attends as it would alone; padded keys and queries get zeros
    for i, s in enumerate(seqs):
        alone = capture_attention(model, [s[None]])["attention"].scores[0]
        n = len(s)
        np.testing.assert_allclose(a.scores[i, :, :n, :n], alone, atol=TOL)
        assert np.all(a.scores[i, :, n:] == 0)
        assert np.all(a.scores[i, :, :, n:] == 0)
    plain = capture(keras.Model(inp, L.Dense(1)(L.LSTM(2)(inp))), seqs[0])
    assert plain.attention == {}


def test_user_mask_reaches_the_attention_as_keras_masking_would(rng):
    lstm = L.LSTM(4, return_sequences=True, name="lstm")
    layer = L.Attention(name="attention")
    inp = keras.Input((None, 2))
    seq = lstm(inp)
    plain = keras.Model(inp, layer([seq, seq]))
    mseq = lstm(L.Masking(0.0)(inp))
    masked_model = keras.Model(inp, layer([mseq, mseq]))  # shares the layers
    x = rng.normal(size=(2, 6, 2)).astype(np.float32)
    mask = np.ones((2, 6), bool)
    mask[0, 2] = mask[1, 4:] = False
    got = capture(plain, x, mask=mask).attention["attention"].scores
    ref = capture_attention(masked_model, [np.where(mask[..., None], x, 0.0).astype(np.float32)])
    np.testing.assert_allclose(got, ref["attention"].scores, atol=TOL)
    assert np.all(got[0, :, :, 2] == 0)
    assert np.all(got[1, :, :, 4:] == 0)
