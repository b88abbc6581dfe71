"""Replay == the layer's own output across cell types and options (float32, ≤ 1e-5).

The reference is always Keras itself: a separate sub-model of the *original* model that
returns the layer's own output, compared at every processed step (sequence layers) or at
the end of processing (last-state layers).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import capture

L = keras.layers
TOL = 1e-5
B, T, D = 3, 9, 4

CELLS = {
    "lstm": lambda **kw: L.LSTM(5, **kw),
    "gru": lambda **kw: L.GRU(5, **kw),
    "gru-reset-before": lambda **kw: L.GRU(5, reset_after=False, **kw),
    "simplernn": lambda **kw: L.SimpleRNN(5, **kw),
}


def _scaled_tanh(x):
    return keras.ops.tanh(x) * 0.9


OPTIONS = [
    "last",
    "seq",
    "state",
    "backwards",
    "backwards-seq",
    "nobias",
    "activations",
    "custom-activation",
    "masking",
    "embedding",
    "dropout",
    "stacked3",
    "bidi-concat",
    "bidi-sum",
    "bidi-ave",
    "bidi-mul",
    "bidi-none",
    "bidi-last-masked",
]


def build(cell: str, option: str):
    """A tiny model, its input, and the names of the layers whose output is the reference."""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(7)
    make = CELLS[cell]
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    inp = keras.Input((None, D))
    if option == "last":
        out = make()(inp)
    elif option == "seq":
        out = make(return_sequences=True)(inp)
    elif option == "state":
        outs = make(return_state=True)(inp)
        out = keras.layers.Concatenate()(list(outs))
    elif option == "backwards":
        out = make(go_backwards=True)(inp)
    elif option == "backwards-seq":
        out = make(go_backwards=True, return_sequences=True)(inp)
    elif option == "nobias":
        out = make(use_bias=False, return_sequences=True)(inp)
    elif option == "activations":
        kw = {"activation": "softsign"}
        if cell != "simplernn":
            kw["recurrent_activation"] = "hard_sigmoid"
        else:
            kw["activation"] = "relu"
        out = make(return_sequences=True, **kw)(inp)
    elif option == "custom-activation":
        out = make(return_sequences=True, activation=_scaled_tanh)(inp)
    elif option == "masking":
        x[0, 3] = 0.0  # a gap mid-sequence
        x[1, 6:] = 0.0  # padding at the end
        out = make(return_sequences=True)(L.Masking(0.0)(inp))
    elif option == "embedding":
        inp = keras.Input((None,), dtype="int32")
        x = rng.integers(1, 12, size=(B, T)).astype(np.int32)
        x[0, 2] = 0
        x[2, 5:] = 0
        out = make()(L.Embedding(12, D, mask_zero=True)(inp))
    elif option == "dropout":
        h = L.Dropout(0.5)(inp)
        out = make(dropout=0.3, recurrent_dropout=0.3)(h)
    elif option == "stacked3":
        h = make(return_sequences=True)(inp)
        h = make(return_sequences=True, go_backwards=True)(h)
        out = make()(h)
    elif option.startswith("bidi"):
        merge = {"concat": "concat", "sum": "sum", "ave": "ave", "mul": "mul", "none": None}
        if option == "bidi-last-masked":
            x[1, 5:] = 0.0
            out = L.Bidirectional(make())(L.Masking(0.0)(inp))
        else:
            mode = merge[option.split("-")[1]]
            out = L.Bidirectional(make(return_sequences=True), merge_mode=mode)(inp)
            if mode is None:
                out = L.Concatenate()(out)
    else:  # pragma: no cover
        raise AssertionError(option)
    return keras.Model(inp, out), x


def _reference(model, layer, x):
    """The layer's own output(s) from Keras, as numpy."""
    node = layer._inbound_nodes[0]
    ref = keras.Model(model.inputs, node.output_tensors).predict_on_batch(x)
    return [np.asarray(r) for r in (ref if isinstance(ref, (list, tuple)) else [ref])]


def _check_direction(lc, seq_out, returns_sequences, processing_backwards, ref_in_input_order):
    mask = lc.mask if lc.mask is not None else np.ones(lc.h.shape[:2], bool)
    if returns_sequences:
        keras_seq = seq_out
        if processing_backwards and not ref_in_input_order:
            keras_seq = keras_seq[:, ::-1]
        err = np.abs(lc.h - keras_seq)[mask]
    else:
        final = lc.h[:, 0] if processing_backwards else lc.h[:, -1]
        err = np.abs(final - seq_out)
    assert err.size > 0
    assert err.max() <= TOL, f"{lc.name}: max error {err.max():.3g}"


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("cell", list(CELLS))
def test_replay_matches_keras(cell, option):
    model, x = build(cell, option)
    cap = capture(model, x)
    recurrent = [
        layer
        for layer in model.layers
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))
    ]
    expected_names = []
    for layer in recurrent:
        if isinstance(layer, keras.layers.Bidirectional):
            expected_names += [f"{layer.name}/forward", f"{layer.name}/backward"]
        else:
            expected_names.append(layer.name)
    assert cap.layer_names == expected_names
    for layer in recurrent:
        outs = _reference(model, layer, x)
        if isinstance(layer, keras.layers.Bidirectional):
            fwd, bwd = cap[f"{layer.name}/forward"], cap[f"{layer.name}/backward"]
            assert (fwd.direction, bwd.direction) == ("forward", "backward")
            assert fwd.fidelity <= TOL, f"{fwd.name}: fidelity {fwd.fidelity:.3g}"
            assert bwd.fidelity <= TOL, f"{bwd.name}: fidelity {bwd.fidelity:.3g}"
            u = fwd.units
            if layer.merge_mode == "concat" or not layer.return_sequences:
                parts = [outs[0][..., :u], outs[0][..., u:]]
            elif layer.merge_mode is None:
                parts = outs[:2]
            else:  # sum/ave/mul: check the merge of our two directions instead
                mask = fwd.mask if fwd.mask is not None else np.ones(fwd.h.shape[:2], bool)
                merged = {
                    "sum": fwd.h + bwd.h,
                    "ave": (fwd.h + bwd.h) / 2,
                    "mul": fwd.h * bwd.h,
                }[layer.merge_mode]
                assert np.abs(merged - outs[0])[mask].max() <= TOL
                continue
            _check_direction(fwd, parts[0], layer.return_sequences, False, True)
            _check_direction(bwd, parts[1], layer.return_sequences, True, True)
        else:
            lc = cap[layer.name]
            assert lc.fidelity <= TOL
            _check_direction(lc, outs[0], layer.return_sequences, layer.go_backwards, False)
            if layer.return_state:  # the returned states are the final h (and c)
                np.testing.assert_allclose(outs[1], lc.h[:, -1], atol=TOL)
                if lc.c is not None:
                    np.testing.assert_allclose(outs[2], lc.c[:, -1], atol=TOL)
    for lc in cap:
        assert lc.h.dtype == np.float32
        assert lc.h.shape[:2] == (B, T)
        assert lc.inputs.shape[:2] == (B, T)
        assert set(lc.gates) == set(lc.gate_names)
        for g in lc.gates.values():
            assert g.shape == lc.h.shape
            assert np.isfinite(g).all()


@pytest.mark.parametrize("option", ["seq", "last", "masking", "nobias"])
def test_cell_state_matches_return_state_on_prefixes(option):
    """c_t from the replay equals the c that Keras's own layer returns for the prefix x[:t]."""
    model, x = build("lstm", option)
    layer = next(lyr for lyr in model.layers if isinstance(lyr, keras.layers.LSTM))
    lc = capture(model, x)[layer.name]
    config = layer.get_config()
    config.update(return_state=True, return_sequences=False, name="prefix_twin")
    twin = keras.layers.LSTM.from_config(config)
    inputs = keras.Input((None, lc.inputs.shape[-1]))
    mask_in = keras.Input((None,), dtype="bool")
    prefix_model = keras.Model([inputs, mask_in], twin(inputs, mask=mask_in))
    twin.set_weights(layer.get_weights())
    mask = lc.mask if lc.mask is not None else np.ones((B, T), bool)
    for k in (1, 2, T // 2, T - 1, T):
        _, h_k, c_k = prefix_model.predict_on_batch([lc.inputs[:, :k], mask[:, :k]])
        np.testing.assert_allclose(lc.c[:, k - 1], c_k, atol=TOL)
        np.testing.assert_allclose(lc.h[:, k - 1], h_k, atol=TOL)
