"""Saving and loading captures: whole files, no Keras needed to read them back."""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from lstmviz_widget import Capture, capture


@pytest.fixture(scope="module")
def cap():
    keras.utils.set_random_seed(0)
    inp = keras.Input((None, 3))
    h = keras.layers.Bidirectional(keras.layers.LSTM(3, return_sequences=True), name="bi")(inp)
    out = keras.layers.GRU(2, name="g")(h)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    return capture(keras.Model(inp, out, name="m"), x, tokens=[list("abcde"), list("vwxyz")])


def _assert_same(a: Capture, b: Capture) -> None:
    assert a.layer_names == b.layer_names
    assert a.tokens == b.tokens
    assert a.model_name == b.model_name
    np.testing.assert_array_equal(a.lengths, b.lengths)
    for la, lb in zip(a, b, strict=True):
        assert (la.kind, la.direction, la.fidelity) == (lb.kind, lb.direction, lb.fidelity)
        np.testing.assert_array_equal(la.h, lb.h)
        np.testing.assert_array_equal(la.inputs, lb.inputs)
        if la.c is None:
            assert lb.c is None
        else:
            np.testing.assert_array_equal(la.c, lb.c)
        assert la.gates.keys() == lb.gates.keys()
        for g in la.gates:
            np.testing.assert_array_equal(la.gates[g], lb.gates[g])
        assert la.weights.keys() == lb.weights.keys()


def test_round_trip(cap, tmp_path):
    path = cap.save(tmp_path / "cap")
    assert path.name == "cap.npz"
    _assert_same(cap, Capture.load(path))


def test_no_silent_overwrite_and_no_partial_file(cap, tmp_path):
    path = cap.save(tmp_path / "c.npz")
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        cap.save(path)
    assert path.read_bytes() == before
    cap.save(path, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temp files left behind


def test_load_without_keras_or_tensorflow(cap, tmp_path):
    path = cap.save(tmp_path / "c.npz")
    np.save(tmp_path / "h.npy", cap["bi/backward"].h)
    code = textwrap.dedent(
        f"""
        import sys
        import importlib.abc

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("keras", "tensorflow"):
                    raise ImportError(f"blocked import of {{name}}")
                return None

        sys.meta_path.insert(0, Block())
        import numpy as np
        from lstmviz_widget import Capture
        cap = Capture.load({str(path)!r})
        want = np.load({str(tmp_path / "h.npy")!r})
        assert cap.layer_names == ["bi/forward", "bi/backward", "g"], cap.layer_names
        assert np.array_equal(cap["bi/backward"].h, want)
        assert cap.tokens[1] == list("vwxyz")
        assert not any(m.split(".")[0] in ("keras", "tensorflow") for m in sys.modules)
        print("LOADED", cap)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED Capture(model='m', B=2, T=5" in done.stdout


def test_wrong_format_version_is_refused(cap, tmp_path):
    import json

    path = cap.save(tmp_path / "c.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    meta["format"] = 999
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(ValueError, match="format 999"):
        Capture.load(tmp_path / "future.npz")


def _pickled_objects(path):
    np.savez(path, labels=np.array([{"a": 1}, None], dtype=object), x=np.zeros(3))


def _random_npz(path):
    np.savez(path, weights=np.random.default_rng(0).normal(size=(3, 4)))


def _pickled_meta(path):
    np.savez(path, meta=np.array([{"format": 1}], dtype=object))


def _other_json_meta(path):
    np.savez(path, meta=np.array('{"model": "resnet"}'))


@pytest.mark.parametrize(
    ("write", "found"),
    [
        (_pickled_objects, r"'labels' \(pickled Python objects, shape \(2,\)\), 'x' \(float64"),
        (_random_npz, r"\.npz archive of 'weights' \(float64, shape \(3, 4\)\), without a 'meta'"),
        (_pickled_meta, r"'meta' entry holds pickled Python objects"),
        (_other_json_meta, r"'meta' entry is JSON without the keys \['format', 'layers'\]"),
        (lambda p: p.write_text("step,value\n0,1.5\n"), r"it is text starting 'step,value'"),
        (
            lambda p: np.save(p.with_suffix(".npy"), np.ones(2)) or p.with_suffix(".npy").rename(p),
            r"one \.npy array, not an \.npz archive",
        ),
        (lambda p: p.write_bytes(pickle.dumps({"h": [1, 2]})), r"a Python pickle"),
        (lambda p: p.write_bytes(b""), r"an empty file"),
    ],
    ids=[
        "pickled-arrays",
        "random-npz",
        "pickled-meta",
        "other-json",
        "text",
        "npy",
        "pickle",
        "empty",
    ],
)
def test_load_of_a_file_that_is_not_a_capture_says_so_and_what_it_found(tmp_path, write, found):
    path = tmp_path / "f.npz"
    write(path)
    with pytest.raises(ValueError, match="is not an lstmviz capture") as info:
        Capture.load(path)
    assert re.search(found, str(info.value)), str(info.value)
    assert "Capture.save" in str(info.value)


def test_load_of_a_damaged_capture_names_what_is_missing(cap, tmp_path):
    path = cap.save(tmp_path / "c.npz")
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "layer1/h"}
    np.savez(tmp_path / "damaged.npz", **arrays)
    with pytest.raises(ValueError, match=r"lstmviz capture \(format 1\) that cannot be read.*h"):
        Capture.load(tmp_path / "damaged.npz")
