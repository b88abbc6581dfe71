"""Capturing whole data sets into a zarr store: equal to the in-memory capture, bounded
memory, whole or not at all, lazy to open, and the memory guard of in-RAM captures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from lstmviz_widget import Capture, capture
from lstmviz_widget.data import Predictions
from lstmviz_widget.store.reader import IncompleteStoreError, StoredCapture

VOCAB = [f"w{i}" for i in range(20)]


@pytest.fixture(scope="module")
def token_model():
    """Embedding → LSTM (sequences) → GRU → softmax: tokens, two layers, predictions."""
    keras.utils.set_random_seed(1)
    inp = keras.Input((None,), dtype="int32")
    e = keras.layers.Embedding(20, 3, mask_zero=False)(inp)
    h = keras.layers.LSTM(4, return_sequences=True, name="lstm")(e)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GRU(5, name="gru")(h))
    return keras.Model(inp, out, name="tok")


@pytest.fixture(scope="module")
def bi_model():
    """Bidirectional LSTM → GRU on float features: forward and backward padding rules."""
    keras.utils.set_random_seed(0)
    inp = keras.Input((None, 3))
    h = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True), name="bi")(inp)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.GRU(5, name="g")(h))
    return keras.Model(inp, out, name="bi")


def _close(va, vb, msg: str, tol: dict) -> None:
    vb = np.asarray(vb)
    assert va.shape == vb.shape, msg
    assert va.dtype == vb.dtype, msg
    if va.dtype.kind in "biu":  # masks, predicted classes, mispredictions: exactly
        np.testing.assert_array_equal(va, vb, err_msg=msg)
    else:
        np.testing.assert_allclose(va, vb, err_msg=msg, **tol)


def assert_same(a: Capture, b: Capture, *, exact: bool = False) -> None:
    """Every array, mask, token, prediction and scalar of two captures agree.

    Floats agree to float32 rounding unless ``exact``: Keras's kernels round differently for
    another batch size (a batch of 4 vs one of 10).
    """
    tol = {"rtol": 0, "atol": 0} if exact else {"rtol": 1e-5, "atol": 1e-6}
    assert a.layer_names == b.layer_names
    assert a.model_name == b.model_name
    np.testing.assert_array_equal(a.lengths, b.lengths)
    assert (a.tokens is None) == (b.tokens is None)
    if a.tokens is not None:
        assert list(a.tokens) == list(b.tokens)
    for la, lb in zip(a, b, strict=True):
        ma, mb = la._meta(), lb._meta()
        assert ma.pop("fidelity") == pytest.approx(mb.pop("fidelity"), abs=1e-6)
        assert ma == mb
        xa, xb = la._arrays(), lb._arrays()
        assert xa.keys() == xb.keys(), la.name
        for key, va in xa.items():
            # weight gradients are sums over batches: another summation order
            t = tol if not key.startswith("grad_weight:") else {"rtol": 2e-5, "atol": 2e-6}
            _close(va, xb[key], f"{la.name} {key}", t)
    for name, att in a.attention.items():
        _close(att.scores, b.attention[name].scores, name, tol)
    assert (a.predictions is None) == (b.predictions is None)
    if a.predictions is not None:
        assert a.predictions._meta() == b.predictions._meta()
        for key in Predictions._ARRAYS:
            va, vb = getattr(a.predictions, key), getattr(b.predictions, key)
            assert (va is None) == (vb is None), key
            if va is not None:
                _close(va, vb, key, tol)
    if a.saliency is None:
        assert b.saliency is None
    else:
        _close(a.saliency, b.saliency, "saliency", tol)
    if a.loss is None:
        assert b.loss is None
    else:
        assert b.loss == pytest.approx(a.loss, rel=1e-5)


def _ids(n: int, t: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(1, 20, size=(n, t)).astype(np.int32)


def test_generator_store_equals_in_memory(token_model, tmp_path):
    x = _ids(10, 6)
    y = np.random.default_rng(1).integers(0, 3, size=10)
    ref = capture(
        token_model, x, tokens=VOCAB, y=y, gradients=True, loss="sparse_categorical_crossentropy"
    )

    def batches():
        for i in range(0, 10, 4):
            yield x[i : i + 4], y[i : i + 4]

    st = capture(
        token_model, batches(), tokens=VOCAB, store=tmp_path / "g.zarr", gradients=True,
        loss="sparse_categorical_crossentropy", progress=False,
    )  # fmt: skip
    assert isinstance(st, StoredCapture)
    assert st.n_samples == 10
    assert st.meta["n_batches"] == 3
    assert st.meta["model"]["name"] == "tok"
    assert [la["class"] for la in st.meta["model"]["layers"]][:3] == [
        "InputLayer",
        "Embedding",
        "LSTM",
    ]
    assert {"units": 4}.items() <= st.meta["model"]["layers"][2].items()
    assert_same(ref, st.compute())
    ref0 = capture(token_model, x, tokens=VOCAB, y=y)
    gen0 = capture(
        token_model,
        ((x[i : i + 3], y[i : i + 3]) for i in range(0, 10, 3)),
        tokens=VOCAB,
        progress=False,
    )
    assert not isinstance(gen0, StoredCapture)  # no store=: in memory
    assert_same(ref0, gen0)


def test_ragged_list_store_equals_in_memory(bi_model, tmp_path):
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 3)).astype(np.float32) for n in (2, 8, 3, 5, 5, 7, 2, 4, 6)]
    labels = [[f"s{i}t{j}" for j in range(len(s))] for i, s in enumerate(seqs)]
    ref = capture(bi_model, seqs, tokens=labels)
    assert ref["bi/forward"].mask is not None  # ragged: padded and masked
    # batches of 4 have maxima 8, 7 and 6 steps: the store grows along time and pads
    st = capture(
        bi_model, seqs, tokens=labels, store=tmp_path / "r.zarr", batch_size=4, progress=False
    )
    assert st.n_steps == 8
    assert_same(ref, st.compute())
    # the padding of the backward half holds the initial state, of the forward half the last
    b = 6  # 2 steps, in the last batch (max 6 steps)
    np.testing.assert_array_equal(np.asarray(st["bi/backward"].h[b, 2:]), 0)
    np.testing.assert_array_equal(
        np.asarray(st["bi/forward"].h[b, 7]), np.asarray(st["bi/forward"].h[b, 1])
    )


def test_tf_data_and_pydataset_equal_in_memory(token_model, tmp_path):
    x = _ids(9, 5, seed=3)
    y = np.random.default_rng(4).integers(0, 3, size=9)
    ref = capture(token_model, x, tokens=VOCAB, y=y)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    assert_same(
        ref,
        capture(token_model, ds, tokens=VOCAB, store=tmp_path / "d.zarr", progress=False).compute(),
    )

    class Seq(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[i * 3 : (i + 1) * 3], y[i * 3 : (i + 1) * 3]

    assert_same(
        ref,
        capture(
            token_model, Seq(), tokens=VOCAB, store=tmp_path / "p.zarr", progress=False
        ).compute(),
    )


def test_store_layout_chunked_compressed(token_model, tmp_path, monkeypatch):
    import zarr

    from lstmviz_widget.store import writer

    monkeypatch.setattr(writer, "CHUNK_BYTES", 4096)  # 16 samples × 16 steps × 4 units × 4 B
    capture(token_model, _ids(64, 200), store=tmp_path / "s.zarr", batch_size=32, progress=False)
    h = zarr.open_group(str(tmp_path / "s.zarr"), mode="r")["layers/0/h"]
    assert h.shape == (64, 200, 4)
    assert h.chunks == (16, 16, 4)  # chunked along samples and time, whole units
    assert type(h.compressors[0]).__name__ == "BloscCodec"  # compressed
    # (small random states barely compress; a regular array shows the codec at work)
    mask = zarr.open_group(str(tmp_path / "s.zarr"), mode="r")["layers/0/mask"]
    assert mask.nbytes_stored() < mask.nbytes / 4


def _peak(model, n_batches: int, path: Path | None) -> int:
    x = _ids(16 * n_batches, 50, seed=n_batches)
    tracemalloc.start()
    capture(model, x, store=path, batch_size=16, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_peak_memory_flat_in_number_of_batches(token_model, tmp_path):
    capture(token_model, _ids(16, 50), store=tmp_path / "warm.zarr", progress=False)  # compile
    # from 4 batches on, one batch is written while the next is captured: the peak is reached
    few = _peak(token_model, 4, tmp_path / "a.zarr")
    many = _peak(token_model, 24, tmp_path / "b.zarr")
    assert many < 1.25 * few, (few, many)
    # control: the same batches captured into memory grow with their number
    in_ram = _peak(token_model, 24, None)
    assert in_ram > 3 * few, (few, in_ram)


def test_interrupted_capture_leaves_no_complete_store(token_model, tmp_path):
    x = _ids(12, 5)

    def failing():
        yield x[:4]
        yield x[4:8]
        raise RuntimeError("data source broke")

    target = tmp_path / "i.zarr"
    with pytest.raises(RuntimeError, match="data source broke"):
        capture(token_model, failing(), store=target, progress=False)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # nor a temporary directory

    # a process killed mid-capture leaves its temp directory, without the marker
    code = textwrap.dedent(
        f"""
        import os, numpy as np, keras
        from lstmviz_widget import capture
        config = {keras.saving.serialize_keras_object(token_model)!r}
        m = keras.saving.deserialize_keras_object(config)
        x = np.ones((12, 5), np.int32)
        def killed():
            yield x[:4]
            yield x[4:8]
            os._exit(3)
        capture(m, killed(), store={str(target)!r}, progress=False)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 3, run.stderr[-2000:]
    assert not target.exists()
    (left,) = tmp_path.iterdir()
    assert left.name.startswith(".i.zarr.")
    assert left.name.endswith(".tmp")
    with pytest.raises(IncompleteStoreError, match="incomplete capture store"):
        Capture.open(left)


def test_overwrite_false_refuses_before_work(token_model, tmp_path, monkeypatch):
    target = tmp_path / "o.zarr"
    capture(token_model, _ids(4, 3), store=target, progress=False)
    import lstmviz_widget.probe.capture as probe_capture

    monkeypatch.setattr(probe_capture, "run_passes", _no_work)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        capture(token_model, _ids(4, 3), store=target, progress=False)
    monkeypatch.undo()
    st = capture(token_model, _ids(6, 2), store=target, overwrite=True, progress=False)
    assert st.n_samples == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.zarr"]


def test_open_is_lazy_and_needs_no_keras(token_model, tmp_path):
    target = tmp_path / "l.zarr"
    ref = capture(
        token_model, _ids(32, 40), tokens=VOCAB, store=target, batch_size=16, progress=False
    )
    h = ref["lstm"].h
    total = float(np.asarray(h).sum())
    # corrupt every chunk of h: opening still works (nothing read), using h fails
    chunks = [
        p
        for p in (target / "layers" / "0" / "h").rglob("*")
        if p.is_file() and p.name != "zarr.json"
    ]
    assert chunks
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, *a, **k):
                if name.split('.')[0] in ('keras', 'tensorflow', 'jax', 'torch'):
                    raise ImportError('blocked ' + name)
        sys.meta_path.insert(0, Block())
        from lstmviz_widget import Capture
        import dask.array as da
        cap = Capture.open({str(target)!r})
        h = cap['lstm'].h
        assert isinstance(h, da.Array), type(h)
        print(repr(float(h.sum().compute())), cap.tokens[3][:2], cap.n_samples)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    s, _tok, n = run.stdout.split(" ", 2)
    assert float(s) == pytest.approx(total, rel=1e-6)
    assert n.strip().endswith("32")
    for p in chunks:
        p.write_bytes(b"garbage")
    cap = Capture.open(target)  # reads metadata and lengths only
    assert cap.n_samples == 32
    with pytest.raises(Exception):  # noqa: B017, PT011 - the codec's own error on a bad chunk
        np.asarray(cap["lstm"].h[0])


def test_incomplete_or_foreign_directories(tmp_path):
    with pytest.raises(FileNotFoundError, match="no store"):
        Capture.open(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(ValueError, match="not a zarr store"):
        Capture.open(tmp_path / "plain")


def _no_work(*args, **kwargs):
    raise AssertionError("the capture started working")


def test_memory_guard_raises_before_any_work(monkeypatch):
    import lstmviz_widget.probe.capture as probe_capture

    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    out = keras.layers.LSTM(2048, return_sequences=True)(keras.layers.Embedding(10, 8)(inp))
    big = keras.Model(inp, out)
    monkeypatch.setattr(probe_capture, "run_passes", _no_work)
    ids = np.zeros((64, 20_000), np.int32)  # 5 MB of input → ≈ 100 GB of states and gates
    with pytest.raises(MemoryError, match=r"GiB.*store=.*fewer samples") as err:
        capture(big, ids)
    assert "64 sequences × 20000 steps" in str(err.value)
    # a limit below a small capture's need (LSTMVIZ_MEMORY_LIMIT overrides what is free)
    monkeypatch.setenv("LSTMVIZ_MEMORY_LIMIT", "1000")
    with pytest.raises(MemoryError, match=r"about 1 fit|only"):
        capture(big, np.zeros((2, 3), np.int32))


def test_memory_guard_estimate_matches_capture(token_model, monkeypatch):
    """The estimate counts the bytes capture really returns for these layers."""
    from lstmviz_widget.store.guard import estimate_capture_bytes

    x = _ids(5, 7)
    cap = capture(
        token_model, x, gradients=True, y=np.zeros(5, int), loss="sparse_categorical_crossentropy"
    )
    real = sum(
        a.nbytes
        for lc in cap
        for k, a in lc._arrays().items()
        if not k.startswith(("weight", "grad_weight"))
    )
    est = estimate_capture_bytes(token_model, 5, 7, gradients=True)
    assert 0.8 * real <= est <= 1.25 * real, (est, real)


def test_bad_batches_say_what_is_wrong(token_model, bi_model, tmp_path):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        capture(token_model, _ids(4, 3), store=tmp_path / "x.zarr", batch_size=0)
    with pytest.raises(TypeError, match="vocabulary"):
        capture(token_model, iter([_ids(2, 3)]), tokens=[["a"] * 3] * 2, progress=False)
    with pytest.raises(ValueError, match="same features"):
        _features_change(bi_model)
    with pytest.raises(ValueError, match="no batch"):
        capture(token_model, iter([]), store=tmp_path / "e.zarr", progress=False)
    assert not (tmp_path / "e.zarr").exists()


def _features_change(model):
    """A batch whose layer inputs differ in features from the first: refused, named."""
    from lstmviz_widget.store.writer import StoreWriter

    cap = capture(model, np.zeros((2, 4, 3), np.float32))
    other = capture(model, np.zeros((2, 4, 3), np.float32))
    other.layers["g"].h = np.zeros((2, 4, 7), np.float32)
    with StoreWriter(None) as w:
        w.append(cap)
        w.append(other)


def test_missing_zarr_says_how_to_install(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        class Block:
            def find_spec(self, name, *a, **k):
                if name.split('.')[0] in ('zarr', 'dask'):
                    raise ImportError('blocked ' + name, name=name.split('.')[0])
        sys.meta_path.insert(0, Block())
        from lstmviz_widget import Capture
        try:
            Capture.open({str(tmp_path)!r})
        except ImportError as err:
            print(err)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert 'pip install "lstmviz-widget[store]"' in run.stdout
    assert "zarr" in run.stdout


def test_multi_input_attention_model_in_a_store(tmp_path):
    """Encoder–decoder with Luong attention (two inputs, layers with their own time axes):
    the store from batches of [x_enc, x_dec] equals the in-memory capture, scores included."""
    L = keras.layers
    keras.utils.set_random_seed(3)
    enc_in, dec_in = keras.Input((None, 3)), keras.Input((None, 2))
    enc_seq, h, c = L.LSTM(4, return_sequences=True, return_state=True, name="encoder")(enc_in)
    dec_seq = L.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    context = L.Attention(name="attention")([dec_seq, enc_seq])
    out = L.Dense(3, activation="softmax")(L.Concatenate()([dec_seq, context]))
    model = keras.Model([enc_in, dec_in], out, name="ed")
    rng = np.random.default_rng(5)
    xe = rng.normal(size=(7, 6, 3)).astype(np.float32)
    xd = rng.normal(size=(7, 4, 2)).astype(np.float32)
    ref = capture(model, [xe, xd])
    assert ref.attention["attention"].scores.shape == (7, 1, 4, 6)
    st = capture(model, [xe, xd], store=tmp_path / "ed.zarr", batch_size=3, progress=False)
    assert isinstance(st, StoredCapture)
    assert st["decoder"].h.shape == (7, 4, 4)  # each layer keeps its own time axis
    assert_same(ref, st.compute())
    gen = capture(model, ([xe[i : i + 2], xd[i : i + 2]] for i in range(0, 7, 2)), progress=False)
    assert_same(ref, gen)


def test_memory_guard_of_a_batch_source_into_memory(token_model, monkeypatch, tmp_path):
    """Batches that fit one by one but not all together in RAM: refused after the first."""
    served = []

    class Many(keras.utils.PyDataset):
        def __len__(self):
            return 50

        def __getitem__(self, i):
            served.append(i)
            return _ids(4, 20, seed=i)

    monkeypatch.setenv("LSTMVIZ_MEMORY_LIMIT", str(200_000))  # one batch needs ~35 kB
    with pytest.raises(MemoryError, match=r"50 batches of 4 sequences.*store=") as err:
        capture(token_model, Many(), progress=False)
    assert "GiB" in str(err.value)
    assert served == [0]  # nothing captured past the first batch
    # the way out it names: the same data, same limit, to a store
    st = capture(token_model, Many(), store=tmp_path / "m.zarr", progress=False)
    assert st.n_samples == 200
