"""LSTMExplorer on a store: one sample read and sent at a time, the store's sample selector,
find similar and jumps over custom messages (the kernel side; the browser side is in
tests/browser/test_store_browser.py)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lstmviz_widget import Capture, LSTMExplorer, analysis, capture

N, T = 40, 12


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    keras.utils.set_random_seed(2)
    inp = keras.Input((None,), dtype="int32")
    h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(keras.layers.Embedding(30, 4)(inp))
    model = keras.Model(inp, h, name="w")
    x = np.random.default_rng(0).integers(0, 30, size=(N, T)).astype(np.int32)
    path = tmp_path_factory.mktemp("sw") / "w.zarr"
    capture(
        model, x, tokens=[f"t{i}" for i in range(30)], store=path, batch_size=16, progress=False
    )
    return path


def _payload_h(ex: LSTMExplorer) -> np.ndarray:
    enc = ex._data["layers"][0]["arrays"]["h"]
    return np.frombuffer(enc["data"], np.float32).reshape(enc["shape"])


def test_explorer_sends_one_sample_and_spans_the_store(store_path):
    cap = Capture.open(store_path)
    ex = LSTMExplorer(cap, sample=21)
    assert ex.store is cap
    assert (ex.sample, ex.store_sample) == (0, 21)
    assert ex._data["n_samples"] == 1
    assert ex._data["store"]["n_samples"] == N
    np.testing.assert_array_equal(_payload_h(ex)[0], np.asarray(cap["lstm"].h[21]))
    assert ex._data["tokens"] == [cap.tokens[21]]
    ex.store_sample = 3
    np.testing.assert_array_equal(_payload_h(ex)[0], np.asarray(cap["lstm"].h[3]))
    assert ex._data["store"]["sample"] == 3
    with pytest.raises(Exception, match=r"store_sample must be in \[0, 39\]"):
        ex.store_sample = N
    with pytest.raises(ValueError, match="sample must be in"):
        LSTMExplorer(cap, sample=N)


def test_reads_only_the_chunks_of_the_sample_shown(store_path, tmp_path):
    import shutil

    copy = tmp_path / "c.zarr"
    shutil.copytree(store_path, copy)

    # break every chunk of samples 16… (sample-chunk index ≥ 1) of every per-step array
    # (not of `lengths`, which opening reads)
    def sample_chunk(p):  # chunk files are <array>/c/<i>/<j>/...: i along samples
        parts = p.relative_to(copy).parts
        for k in range(len(parts) - 1, -1, -1):
            if parts[k] == "c" and all(q.isdigit() for q in parts[k + 1 :]):
                return int(parts[k + 1])
        return None

    broken = [
        p
        for p in copy.rglob("*")
        if p.is_file() and (sample_chunk(p) or 0) >= 1 and "lengths" not in p.parts
    ]
    assert len(broken) > 5
    for p in broken:
        p.write_bytes(b"not a chunk")
    ex = LSTMExplorer(Capture.open(copy), sample=5)  # samples 0–15 only: works
    assert ex._data["store"]["n_samples"] == N
    with pytest.raises(Exception):  # noqa: B017, PT011 - the codec's error on a broken chunk
        ex.store_sample = 20


def test_find_similar_and_goto_over_messages(store_path, monkeypatch):
    cap = Capture.open(store_path)
    ex = LSTMExplorer(cap, sample=4)
    sent: list[dict] = []
    monkeypatch.setattr(ex, "send", lambda content, buffers=None: sent.append(content))
    h = np.asarray(cap["lstm"].h[4])
    t0 = int(np.argmax((h > 0.0).sum(1)))
    t1 = min(t0 + 2, T)
    ex._on_store_msg(
        ex, {"type": "lstmviz-match", "id": "q1", "t0": t0, "t1": t1, "threshold": 0.0}, []
    )
    reply = sent[-1]
    assert reply["type"] == "lstmviz-matches"
    assert reply["id"] == "q1"
    want = analysis.match(cap, threshold=0.0, sample=4, t0=t0, t1=t1, k=20)
    assert [(r["sample"], r["t0"], r["t1"]) for r in reply["rows"]] == [
        (m.sample, m.t0, m.t1) for m in want
    ]
    assert reply["rows"][0]["text"] == " ".join(want[0].tokens)
    # a click on a match in another sample loads it, with the jump for the views
    target = next(r for r in reply["rows"] if r["sample"] != 4)
    ex._on_store_msg(
        ex, {"type": "lstmviz-goto", **{k: target[k] for k in ("sample", "t0", "t1")}}, []
    )
    assert ex.store_sample == target["sample"]
    assert ex.timestep == target["t0"]
    assert ex._data["store"]["jump"] == [target["t0"], target["t1"]]
    assert ex._data["store"]["matches"] == reply["rows"]  # the list survives the new payload
    np.testing.assert_array_equal(_payload_h(ex)[0], np.asarray(cap["lstm"].h[target["sample"]]))
    # within the sample shown: a jump message, no new payload
    data = ex._data
    ex._on_store_msg(ex, {"type": "lstmviz-goto", "sample": target["sample"], "t0": 1, "t1": 3}, [])
    assert ex._data is data
    assert sent[-1] == {"type": "lstmviz-jump", "t0": 1, "t1": 3}
    # a range with no unit on: the error goes back as text
    ex._on_store_msg(
        ex, {"type": "lstmviz-match", "id": "q2", "t0": 0, "t1": T, "threshold": 5}, []
    )
    assert "lower the threshold" in sent[-1]["error"]
