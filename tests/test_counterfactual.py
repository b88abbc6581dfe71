"""Counterfactual edits: change one input step, re-capture, compare (explorer.edit, analysis.diff).

Real tiny Keras layers. The truth: a unidirectional layer is unchanged before the edited step
(within 1e-7) and first differs at it; a Bidirectional's backward half differs before it; the
difference payload's numbers are analysis.diff's; bad input raises one clear error and leaves
the original untouched.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from lstmviz_widget import LSTMExplorer, capture
from lstmviz_widget.analysis.diff import diff, difference_capture

T = 10
VOCAB = ["<pad>", "the", "cat", "dog", "sat", "ran", "on", "mat"]


@pytest.fixture(scope="module")
def numeric_model():
    keras.utils.set_random_seed(3)
    inp = keras.Input((None, 3))
    h = keras.layers.LSTM(5, return_sequences=True, name="lstm")(inp)
    h = keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True), name="bi")(h)
    out = keras.layers.SimpleRNN(3, name="rnn")(h)
    return keras.Model(inp, out)


@pytest.fixture(scope="module")
def bidi_model():
    keras.utils.set_random_seed(5)
    inp = keras.Input((None, 3))
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi")(inp)
    out = keras.layers.GRU(3, name="top")(h)
    return keras.Model(inp, out)


@pytest.fixture(scope="module")
def token_model():
    keras.utils.set_random_seed(4)
    inp = keras.Input((None,), dtype="int32")
    e = keras.layers.Embedding(len(VOCAB), 4)(inp)
    h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(e)
    out = keras.layers.Dense(len(VOCAB), activation="softmax")(h)
    return keras.Model(inp, out)


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(2, T, 3)).astype(np.float32)


@pytest.fixture
def ids():
    return np.array([[1, 2, 4, 6, 1, 7, 3, 5, 4, 2]], np.int32)


def _payload_array(w, layer, quantity):
    state = w.get_state()
    stripped, paths, buffers = _remove_buffers(state)
    names = [lay["name"] for lay in stripped["_data"]["layers"]]
    i = names.index(layer)
    enc = stripped["_data"]["layers"][i]["arrays"][quantity]
    raw = buffers[paths.index(["_data", "layers", i, "arrays", quantity, "data"])]
    return np.frombuffer(raw, "<f4").reshape(enc["shape"]), stripped["_data"]


@pytest.mark.parametrize("step", [0, 4, T - 1])
def test_unidirectional_layers_change_first_at_the_edited_step(numeric_model, x, step):
    w = LSTMExplorer(numeric_model, x)
    before = {lc.name: lc.h.copy() for lc in w.baseline}
    edited = w.edit(step, [2.0, -1.0, 0.5], sample=1)
    d = diff(w.baseline, edited)
    # Independent: the same model run by the probe on a hand-edited copy of x.
    x2 = x.copy()
    x2[1, step] = [2.0, -1.0, 0.5]
    again = capture(numeric_model, x2)
    for name in ("lstm", "bi/forward"):
        lc = edited[name]
        np.testing.assert_array_equal(lc.h, again[name].h)
        dh = np.abs(d[name].h[1])
        assert dh[:step].max(initial=0) <= 1e-7, name  # untouched before the edit
        assert dh[step].max() > 1e-4, name  # changed at it
        assert d[name].first_changed()[1] == step
        # the other sample of the batch is not edited at all
        assert np.abs(d[name].h[0]).max() <= 1e-7
        assert d[name].first_changed()[0] == -1
    np.testing.assert_array_equal(edited["rnn"].h, again["rnn"].h)
    for name, h in before.items():
        np.testing.assert_array_equal(w.baseline[name].h, h)  # the original is untouched
    # rnn reads the Bidirectional's output, backward half included: it may change earlier.
    first = w._data["counterfactual"]["first_changed"]
    assert first["lstm"][1] == step
    assert first["bi/forward"][1] == step
    assert (first["rnn"][1] < step) == (first["bi/backward"][1] < step)


def test_bidirectional_backward_half_changes_before_the_edit(bidi_model, x):
    w = LSTMExplorer(bidi_model, x)
    step = 6
    d = diff(w.baseline, w.edit(step, 0.0))
    back = np.abs(d["bi/backward"].h[0])
    assert back[:step].max() > 1e-4  # it reads from the end: earlier steps see the edit
    assert back[step + 1 :].max(initial=0) <= 1e-7  # ...and later ones do not
    assert d["bi/backward"].direction == "backward"
    info = w._data["counterfactual"]
    assert "bi/backward" in info["notes"]
    assert "before" in info["notes"]["bi/backward"]
    assert "bi/forward" not in info["notes"]
    # top sits above the Bidirectional: its input changed before the edit, so it did too
    assert info["first_changed"]["top"][0] == 0
    assert "before" in info["notes"]["top"]
    assert info["first_changed"]["bi/backward"][0] == 0
    assert info["first_changed"]["bi/forward"][0] == step
    fwd = np.abs(d["bi/forward"].h[0])
    assert fwd[:step].max() <= 1e-7
    assert fwd[step].max() > 1e-4


def test_difference_payload_equals_analysis_diff(numeric_model, x):
    w = LSTMExplorer(numeric_model, x)
    w.edit(3, [1.0, 1.0, 1.0])
    w.edit(7, mask=True)
    w.mode = "difference"
    d = diff(w.baseline, w.edited)
    for name in ("lstm", "bi/backward", "rnn"):
        for q, ref in d[name].arrays().items():
            got, data = _payload_array(w, name, q)
            np.testing.assert_array_equal(got, ref)
    # Independent of diff(): subtract the two captures' arrays directly.
    got, data = _payload_array(w, "lstm", "gate:forget")
    ref = w.edited["lstm"].gates["forget"] - w.baseline["lstm"].gates["forget"]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-7)
    assert data["counterfactual"]["difference"] is True
    assert data["counterfactual"]["mode"] == "difference"
    assert [e["kind"] for e in data["counterfactual"]["edits"]] == ["value", "mask"]
    assert all(lay["health"] is None and lay["pca"] is None for lay in data["layers"])
    # The masked step carries the state over: h at step 7 equals h at step 6 in the edited run.
    np.testing.assert_array_equal(w.edited["lstm"].h[0, 7], w.edited["lstm"].h[0, 6])
    w.mode = "edited"
    got, _ = _payload_array(w, "lstm", "h")
    np.testing.assert_array_equal(got, w.edited["lstm"].h)
    w.mode = "original"
    got, _ = _payload_array(w, "lstm", "h")
    np.testing.assert_array_equal(got, w.baseline["lstm"].h)
    # Switching back re-sends the payload built before (nothing computed again) ...
    w.mode = "difference"
    layers = w._data["layers"]
    w.mode = "edited"
    w.mode = "difference"
    assert w._data["layers"] is layers
    # ... until the edits change.
    w.undo()
    assert w._data["layers"] is not layers
    got, _ = _payload_array(w, "lstm", "h")
    np.testing.assert_array_equal(got, diff(w.baseline, w.edited)["lstm"].h)


def test_token_edits_by_label_id_and_mask(token_model, ids):
    w = LSTMExplorer(token_model, ids, tokens=VOCAB)
    assert w._data["counterfactual"]["vocab"]["labels"] == VOCAB
    assert w._data["counterfactual"]["input"] == "tokens"
    cap = w.edit(4, token="dog")
    assert cap.tokens[0][4] == "dog"
    assert w.baseline.tokens[0][4] == "the"
    again = capture(token_model, np.where(np.arange(T) == 4, 3, ids).astype(np.int32))
    np.testing.assert_array_equal(cap["lstm"].h, again["lstm"].h)
    assert w.mode == "edited"
    assert len(w.edits) == 1
    assert w.edits[0].kind == "token"
    assert "'the' → 'dog'" in w.edits[0].label
    # both runs' predictions travel for the edit view's "before → after" (binary, int32)
    stripped, paths, buffers = _remove_buffers(w.get_state())
    pred = stripped["_data"]["counterfactual"]["predictions"]
    assert pred["task"] == "classification"
    for run, c in (("original", w.baseline), ("edited", w.edited)):
        path = ["_data", "counterfactual", "predictions", run, "predicted", "data"]
        got = np.frombuffer(buffers[paths.index(path)], "<i4").reshape(1, T)
        np.testing.assert_array_equal(got, c.predictions.predicted)
        path = ["_data", "counterfactual", "predictions", run, "confidence", "data"]
        got = np.frombuffer(buffers[paths.index(path)], "<f4").reshape(1, T)
        np.testing.assert_array_equal(got, c.predictions.confidence)
    w.edit(2, token=5)
    assert w.edited.tokens[0][2] == "ran"
    w.edit(8, mask=True)
    assert [e.kind for e in w.edits] == ["token", "token", "mask"]
    assert diff(w.baseline, w.edited)["lstm"].first_changed()[0] == 2
    # undo steps back through the runs; reset returns to the original
    assert w.undo().kind == "mask"
    assert w.edited.tokens[0][2] == "ran"
    assert len(w.edits) == 2
    w.reset()
    assert w.edits == []
    assert w.edited is None
    assert w.mode == "original"
    assert w.undo() is None
    np.testing.assert_array_equal(w.capture["lstm"].h, w.baseline["lstm"].h)


def test_compare_a_second_sequence(token_model, ids):
    w = LSTMExplorer(token_model, ids, vocab=dict(enumerate(VOCAB)))
    other = ids[0].copy()
    other[6:] = 1
    cap = w.compare(other)
    np.testing.assert_array_equal(cap["lstm"].h, capture(token_model, other[None])["lstm"].h)
    assert w.edits[0].kind == "sequence"
    assert diff(w.baseline, cap)["lstm"].first_changed()[0] == 6
    with pytest.raises(ValueError, match="same shape"):
        w.compare(other[:5])


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((T,), {"value": 1.0}, ValueError, r"step t must be in \[0, 9\]"),
        ((-1,), {"value": 1.0}, ValueError, r"step t must be in \[0, 9\]"),
        (("3",), {"value": 1.0}, TypeError, "t is a step index"),
        ((3,), {"value": "big"}, TypeError, "value is a number or 3 numbers"),
        ((3,), {"value": [1.0, 2.0]}, ValueError, "a number or 3 numbers"),
        ((3,), {"value": float("nan")}, ValueError, "finite"),
        ((3,), {}, TypeError, "exactly one of"),
        ((3,), {"value": 1.0, "mask": True}, TypeError, "exactly one of"),
        ((3,), {"token": "cat"}, TypeError, "token= is for models whose input is token ids"),
        ((3,), {"value": 1.0, "sample": 2}, ValueError, r"sample must be in \[0, 1\]"),
    ],
)
def test_bad_numeric_edits_raise_one_clear_error(numeric_model, x, args, kwargs, exc, match):
    w = LSTMExplorer(numeric_model, x)
    data = w._data
    with pytest.raises(exc, match=match):
        w.edit(*args, **kwargs)
    assert w.edits == []
    assert w.edited is None
    assert w.mode == "original"
    assert w._data is data  # nothing redrawn
    np.testing.assert_array_equal(w.capture["lstm"].h, capture(numeric_model, x)["lstm"].h)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"token": "dgo"}, ValueError, "did you mean 'dog'"),
        ({"token": len(VOCAB)}, ValueError, r"token id must be in \[0, 7\]"),
        ({"token": 1.5}, TypeError, "a label \\(str\\) or an id"),
        ({"value": [1, 2]}, TypeError, "a label \\(str\\) or an id"),
    ],
)
def test_bad_token_edits_raise_one_clear_error(token_model, ids, kwargs, exc, match):
    w = LSTMExplorer(token_model, ids, tokens=VOCAB)
    w.edit(1, token="cat")
    edited = w.edited
    with pytest.raises(exc, match=match):
        w.edit(3, **kwargs)
    assert len(w.edits) == 1
    assert w.edited is edited


def test_explorer_from_a_capture_cannot_edit(numeric_model, x):
    w = LSTMExplorer(capture(numeric_model, x))
    assert "counterfactual" not in w._data
    with pytest.raises(RuntimeError, match=r"built from a Capture.*LSTMExplorer\(model, seq\)"):
        w.edit(1, 0.0)
    import traitlets

    with pytest.raises(traitlets.TraitError, match="needs an edit first"):
        w.mode = "difference"


def test_edits_from_the_widget_and_errors_back_as_text(numeric_model, x):
    w = LSTMExplorer(numeric_model, x)
    sent = []
    w.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    w._on_edit_message(w, {"type": "lstmviz-edit", "action": "edit", "t": 2, "value": 0.0}, [])
    assert [e.t for e in w.edits] == [2]
    assert sent == []
    w._on_edit_message(w, {"type": "lstmviz-edit", "action": "edit", "t": 99, "value": 0.0}, [])
    assert len(w.edits) == 1
    assert sent[-1]["type"] == "lstmviz-edit-error"
    assert "step t must be in [0, 9]" in sent[-1]["message"]
    w._on_edit_message(w, {"type": "lstmviz-edit", "action": "undo"}, [])
    assert w.edits == []
    assert w.mode == "original"
    w._on_edit_message(w, {"type": "other"}, [])  # not ours: ignored
    assert len(sent) == 1


def test_difference_capture_without_keras_shapes(numeric_model, x):
    a = capture(numeric_model, x)
    x2 = x.copy()
    x2[0, 5] += 1
    b = capture(numeric_model, x2)
    dc = difference_capture(a, b)
    assert dc.layer_names == a.layer_names
    np.testing.assert_array_equal(dc["lstm"].inputs[0, 5], np.ones(3, np.float32))
    assert np.abs(dc["lstm"].inputs).sum() == pytest.approx(3.0)
    with pytest.raises(TypeError, match="two Captures"):
        diff(a, x)
    with pytest.raises(ValueError, match="same batch size and length"):
        diff(a, capture(numeric_model, x[:, :5]))


def test_masking_a_step_changes_nothing_before_it(numeric_model, x):
    # A mask edit runs the model through the masked-graph path; steps before it must agree
    # with the unmasked original all the same.
    w = LSTMExplorer(numeric_model, x)
    d = diff(w.baseline, w.edit(5, mask=True))
    for name in ("lstm", "bi/forward"):
        assert np.abs(d[name].h[0, :5]).max() <= 1e-7
        assert d[name].first_changed()[0] == 5
    # masked: the state is carried over from step 4
    np.testing.assert_array_equal(w.edited["lstm"].h[0, 5], w.baseline["lstm"].h[0, 4])


def test_token_ids_are_checked_against_the_embedding(token_model, ids):
    w = LSTMExplorer(token_model, ids)  # no vocabulary: ids only, range from the Embedding
    with pytest.raises(ValueError, match=r"token id must be in \[0, 7\], got 8"):
        w.edit(0, token=8)
    with pytest.raises(ValueError, match="has no vocabulary: pass vocab="):
        w.edit(0, token="cat")
    assert w.edit(0, token=7).tokens is None
    assert w.edits[0].label == "step 0: '1' → '7'"
