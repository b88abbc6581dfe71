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
    sent = sum(memoryview(b).nbytes for b in buffers)
    assert sent == raw  # float32, nothing else: no JSON lists, no base64
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


def test_explorer_scrubs_across_training_snapshots():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.LSTM(3, name="lstm")])
    seq = np.random.default_rng(5).normal(size=(2, 6, 2)).astype(np.float32)
    snapshots = []
    for epoch in range(3):  # stand-ins for three epochs of training
        model.set_weights([w * (1 + 0.5 * epoch) for w in model.get_weights()])
        snapshots.append((epoch, capture(model, seq)))
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
