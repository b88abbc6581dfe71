"""The explorer's Python side: binary transport, trait validation, state round trips."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import traitlets
from ipywidgets.widgets.widget import _remove_buffers

import lstmviz_widget
from lstmviz_widget import LSTMExplorer, capture

from .conftest import ROOT


@pytest.fixture(scope="module")
def cap():
    keras.utils.set_random_seed(2)
    inp = keras.Input((None, 3))
    h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(inp)
    out = keras.layers.GRU(4, name="gru")(h)
    x = np.random.default_rng(1).normal(size=(2, 12, 3)).astype(np.float32)
    return capture(keras.Model(inp, out), x)


def test_version_matches_package_json():
    package = json.loads((ROOT / "package.json").read_text())
    assert lstmviz_widget.__version__ == package["version"]


def test_arrays_travel_as_binary_buffers(cap):
    w = LSTMExplorer(cap)
    state = w.get_state()
    stripped, paths, buffers = _remove_buffers(state)
    json.dumps(stripped)  # what is left is plain JSON
    assert ["_data", "layers", 0, "arrays", "h", "data"] in paths
    raw = sum(
        a.nbytes
        for lc in cap
        for a in [lc.h, *lc.gates.values()] + ([lc.c] if lc.c is not None else [])
    )
    state_paths = [i for i, p in enumerate(paths) if p[1] == "layers" and p[3] == "arrays"]
    sent = sum(memoryview(buffers[i]).nbytes for i in state_paths)
    assert sent == raw  # float32, nothing else: no JSON lists, no base64
    # The other buffers are the small extras (PCA, weights, the input track), float32 too.
    extras = {
        p[3] if p[1] == "layers" else p[1] for i, p in enumerate(paths) if i not in state_paths
    }
    assert extras == {"pca", "weights", "input", "predictions"}, extras
    lstm = stripped["_data"]["layers"][0]
    assert lstm["name"] == "lstm"
    assert lstm["arrays"]["h"]["shape"] == [2, 12, 6]
    assert lstm["arrays"]["h"]["dtype"] == "float32"
    h = np.frombuffer(buffers[paths.index(["_data", "layers", 0, "arrays", "h", "data"])], "<f4")
    np.testing.assert_array_equal(h.reshape(2, 12, 6), cap["lstm"].h)
    assert set(lstm["arrays"]) == {
        "h",
        "c",
        "gate:input",
        "gate:forget",
        "gate:cell",
        "gate:output",
    }


def test_defaults_and_set_state_round_trip(cap):
    w = LSTMExplorer(cap, timestep=4, sample=1, layer="gru")
    assert (w.timestep, w.sample, w.layer, w.quantity) == (4, 1, "gru", "h")
    assert LSTMExplorer(cap, quantity="gate:forget").quantity == "gate:forget"
    with pytest.raises(traitlets.TraitError, match="quantity for layer 'gru'"):
        LSTMExplorer(cap, layer="gru", quantity="c")
    w.set_state({"timestep": 9, "selected_units": [0, 3]})
    assert w.timestep == 9
    assert w.selected_units == [0, 3]
    state = w.get_state(["timestep", "sample", "layer", "selected_units"])
    assert state == {"timestep": 9, "sample": 1, "layer": "gru", "selected_units": [0, 3]}


@pytest.mark.parametrize(
    ("trait", "value", "message"),
    [
        ("timestep", 12, r"timestep must be in \[0, 11\]"),
        ("timestep", -1, r"timestep must be in \[0, 11\]"),
        ("sample", 2, r"sample must be in \[0, 1\]"),
        ("layer", "nope", r"layer must be one of \['lstm', 'gru'\]"),
        ("quantity", "gate:update", r"quantity for layer 'lstm' must be one of"),
        ("selected_units", [6], r"selected_units \[6\] out of range \[0, 5\]"),
    ],
)
def test_trait_validation(cap, trait, value, message):
    w = LSTMExplorer(cap)
    with pytest.raises(traitlets.TraitError, match=message):
        setattr(w, trait, value)


def test_switching_layer_keeps_traits_valid(cap):
    w = LSTMExplorer(cap)
    w.quantity = "c"
    w.selected_units = [1, 5]
    w.layer = "gru"  # no cell state, 4 units
    assert w.quantity == "h"
    assert w.selected_units == [1]
    w.quantity = "gate:reset"
    w.layer = "lstm"
    assert w.quantity == "h"


def test_explorer_from_model_matches_capture(cap):
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(5)])
    seq = np.random.default_rng(4).normal(size=(7, 3)).astype(np.float32)
    w = LSTMExplorer(model, seq, tokens=list("abcdefg"))
    assert w.capture.tokens == [list("abcdefg")]
    assert w._data["tokens"] == [list("abcdefg")]
    np.testing.assert_allclose(
        w.capture[w.layer].h[:, -1], model.predict_on_batch(seq[None]), atol=1e-5
    )


def test_layers_with_their_own_time_axis_are_padded_in_the_payload():
    enc_in, dec_in = keras.Input((None, 2)), keras.Input((None, 2))
    _, h, c = keras.layers.LSTM(3, return_state=True, name="enc")(enc_in)
    dec = keras.layers.LSTM(3, return_sequences=True, name="dec")(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], dec)
    rng = np.random.default_rng(0)
    seqs = [
        rng.normal(size=(1, 7, 2)).astype(np.float32),
        rng.normal(size=(1, 4, 2)).astype(np.float32),
    ]
    w = LSTMExplorer(model, seqs)
    enc, dec_layer = w._data["layers"]
    assert (enc["steps"], dec_layer["steps"]) == (7, 4)
    assert dec_layer["arrays"]["h"]["shape"] == [1, 7, 3]
    h_dec = np.frombuffer(dec_layer["arrays"]["h"]["data"], "<f4").reshape(1, 7, 3)
    np.testing.assert_array_equal(h_dec[:, :4], w.capture["dec"].h)
    assert not h_dec[:, 4:].any()
    # Every per-step extra of the decoder is padded the same way (the JS decoder checks T).
    assert dec_layer["pca"]["projection"]["shape"][:2] == [1, 7]


@pytest.fixture(scope="module")
def snapshots():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.LSTM(3, name="lstm")])
    seq = np.random.default_rng(5).normal(size=(2, 6, 2)).astype(np.float32)
    out = []
    for epoch in range(3):  # stand-ins for three epochs of training
        model.set_weights([w * (1 + 0.5 * epoch) for w in model.get_weights()])
        out.append((epoch, capture(model, seq)))
    return out


def test_explorer_scrubs_across_training_snapshots(snapshots):
    w = LSTMExplorer.from_snapshots(snapshots, timestep=4)
    assert w.epoch == 2  # the last snapshot first
    assert w._data["epochs"] == [0, 1, 2]
    assert w.capture is snapshots[2][1]
    w.epoch = 0
    assert w.capture is snapshots[0][1]
    h = np.frombuffer(w._data["layers"][0]["arrays"]["h"]["data"], "<f4").reshape(2, 6, 3)
    np.testing.assert_array_equal(h, snapshots[0][1]["lstm"].h)
    assert w.timestep == 4  # the cursor stays where it was
    with pytest.raises(traitlets.TraitError, match=r"epoch must be in \[0, 2\]"):
        w.epoch = 3
    with pytest.raises(ValueError, match="no snapshots"):
        LSTMExplorer.from_snapshots([])
    assert LSTMExplorer(snapshots[0][1])._data["epochs"] is None


def test_from_snapshots_builds_its_payload_once(snapshots, monkeypatch):
    from lstmviz_widget.widget import payload

    built = []
    real = payload.capture_payload

    def counting(cap, epochs=None, **kwargs):
        built.append((cap, epochs))
        return real(cap, epochs, **kwargs)

    monkeypatch.setattr(payload, "capture_payload", counting)
    for epoch, index in ((-1, 2), (0, 0), (1, 1)):
        built.clear()
        w = LSTMExplorer.from_snapshots(snapshots, epoch=epoch, transport="float16")
        assert built == [(snapshots[index][1], [0, 1, 2])], epoch
        assert w.epoch == index
        assert w._data["layers"][0]["arrays"]["h"]["dtype"] == "float16"
    built.clear()
    w.epoch = 0  # a different epoch: one build, of that snapshot
    assert built == [(snapshots[0][1], [0, 1, 2])]
    w.epoch = 0  # unchanged: none
    assert len(built) == 1
    built.clear()
    LSTMExplorer(snapshots[0][1])
    assert built == [(snapshots[0][1], None)]


def _arr(enc, dtype=None):
    """Decode one `{dtype, shape, data}` the way js/codecs.ts does."""
    np_dtype = {"float32": "<f4", "float16": "<f2", "int32": "<i4", "uint8": "u1"}[enc["dtype"]]
    return np.frombuffer(enc["data"], np_dtype).reshape(enc["shape"])


@pytest.fixture(scope="module")
def grad_cap():
    keras.utils.set_random_seed(5)
    inp = keras.Input((None, 2))
    h = keras.layers.LSTM(5, return_sequences=True, name="lstm")(inp)
    out = keras.layers.Dense(3, activation="softmax", name="head")(h)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 9, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=(2, 9))
    return model, capture(model, x, y=y, gradients=True, loss="sparse_categorical_crossentropy")


def test_payload_carries_gradient_norms_pca_weights_and_predictions(grad_cap):
    model, cap = grad_cap
    data = LSTMExplorer(cap)._data
    lay = data["layers"][0]
    lc = cap["lstm"]
    # ‖∂L/∂h_t‖ and ‖∂L/∂c_t‖ per step: numpy's own norm over units.
    np.testing.assert_allclose(
        _arr(lay["grad_norms"]["h"]), np.linalg.norm(lc.grad_h, axis=-1), rtol=1e-6
    )
    np.testing.assert_allclose(
        _arr(lay["grad_norms"]["c"]), np.linalg.norm(lc.grad_c, axis=-1), rtol=1e-6
    )
    assert set(lay["grad_norms"]) == {
        "h",
        "c",
        "gate:input",
        "gate:forget",
        "gate:cell",
        "gate:output",
    }
    # PCA: the projection spans the same plane as numpy's SVD of the centred states.
    flat = lc.h.reshape(-1, lc.units).astype(np.float64)
    centred = flat - flat.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    proj = _arr(lay["pca"]["projection"]).reshape(-1, 3).astype(np.float64)
    np.testing.assert_allclose(np.abs(proj), np.abs(centred @ vt[:3].T), atol=1e-5)
    np.testing.assert_allclose(lay["pca"]["explained"], (s**2 / (s**2).sum())[:3], rtol=1e-5)
    # Weights per gate: slices of the layer's own Keras variables (order i, f, c, o).
    kernel, recurrent, bias = (np.asarray(v) for v in model.get_layer("lstm").weights)
    for k, g in enumerate(["input", "forget", "cell", "output"]):
        w = lay["weights"][g]
        np.testing.assert_array_equal(_arr(w["kernel"]), kernel[:, k * 5 : (k + 1) * 5])
        np.testing.assert_array_equal(
            _arr(w["recurrent_kernel"]), recurrent[:, k * 5 : (k + 1) * 5]
        )
        np.testing.assert_array_equal(_arr(w["bias"]), bias[k * 5 : (k + 1) * 5])
        assert _arr(lay["weight_grads"][g]["kernel"]).shape == (2, 5)
    # Predictions: the model's own softmax max, and where the labels disagree.
    probs = model.predict(cap["lstm"].inputs, verbose=0)
    np.testing.assert_allclose(_arr(data["predictions"]["confidence"]), probs.max(-1), atol=1e-5)
    assert _arr(data["predictions"]["mispredicted"]).dtype == np.uint8
    # The numeric input track is the first layer's input sequence.
    np.testing.assert_array_equal(_arr(data["input"]["values"]), lc.inputs)
    assert data["saliency"]["shape"] == [2, 9]
    assert isinstance(lay["health"]["findings"], list)


def test_float16_transport_halves_the_state_bytes(cap):
    w32, w16 = LSTMExplorer(cap), LSTMExplorer(cap, transport="float16")
    h32 = _arr(w32._data["layers"][0]["arrays"]["h"])
    h16 = _arr(w16._data["layers"][0]["arrays"]["h"])
    assert h16.dtype == np.float16
    assert h16.nbytes * 2 == h32.nbytes
    np.testing.assert_allclose(h16.astype(np.float32), h32, atol=1e-3)
    with pytest.raises(ValueError, match="transport must be one of"):
        LSTMExplorer(cap, transport="int8")


def test_health_groups_name_the_units_the_analysis_flags():
    from lstmviz_widget.analysis.health import health_report
    from lstmviz_widget.data import Capture, LayerCapture

    rng = np.random.default_rng(0)
    b, t, u = 1, 20, 4
    gates = {
        g: rng.uniform(0.2, 0.8, (b, t, u)).astype(np.float32)
        for g in ["input", "forget", "cell", "output"]
    }
    gates["forget"][..., 2] = 0.999  # unit 2's forget gate always open
    h = np.tanh(rng.normal(size=(b, t, u))).astype(np.float32)
    h[..., 1] = 0.0  # unit 1 dead
    lc = LayerCapture(
        name="l",
        kind="LSTM",
        h=h,
        c=h.copy(),
        gates=gates,
        inputs=np.zeros((b, t, 1), np.float32),
        fidelity=0.0,
    )
    cap = Capture(layers={"l": lc}, lengths=np.array([t]))
    groups = {
        g["label"]: g["units"] for g in LSTMExplorer(cap)._data["layers"][0]["health"]["groups"]
    }
    rep = health_report(lc)
    assert groups["forget gate saturated"] == [2]
    assert groups["dead units"] == np.flatnonzero(rep.dead.dead).tolist() == [1]


def test_float16_transport_scales_weight_gradients_into_range(grad_cap):
    _, cap = grad_cap
    lay = LSTMExplorer(cap, transport="float16")._data["layers"][0]
    want = cap["lstm"].gate_weights("forget", grad=True)["recurrent_kernel"]
    enc = lay["weight_grads"]["forget"]["recurrent_kernel"]
    assert enc["dtype"] == "float16"
    assert enc["scale"] == pytest.approx(np.abs(want).max())
    got = _arr(enc).astype(np.float64) * enc["scale"]  # what js/codecs.ts does
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())
    # tiny values that float16 alone would flush to zero survive the scale
    from lstmviz_widget.widget.codec import encode_array

    e = encode_array(np.array([1e-9, -3e-10]), "float16", scaled=True)
    np.testing.assert_allclose(_arr(e).astype(np.float64) * e["scale"], [1e-9, -3e-10], rtol=1e-3)
    assert "scale" not in encode_array(np.array([1e-9]), "float32", scaled=True)
