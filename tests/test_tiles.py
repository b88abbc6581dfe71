"""Tiles on demand (issue 13): the min/max pyramid against brute force, tile
coverage at 1,000,000 steps, the float16 round trip, the request handler, the tiled payload,
the explorer's `tiles=` switch and save_html's offline pyramid."""

from __future__ import annotations

import base64
import json
import re

import keras
import numpy as np
import pytest
from ipywidgets.widgets.widget import _remove_buffers

from lstmviz_widget import LSTMExplorer, capture
from lstmviz_widget.data import Capture, LayerCapture, Predictions
from lstmviz_widget.widget import payload_tiled, tiles
from lstmviz_widget.widget.tiles import TILE_STEPS, TileSource


def _synthetic(t: int, u: int, *, b: int = 1, seed: int = 0, values=None) -> Capture:
    """A capture built from numpy arrays: one SimpleRNN layer (h only), a 2-feature input,
    confidence and saliency."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(b, t, u)).astype(np.float32) if values is None else values
    lc = LayerCapture(
        name="rnn", kind="SimpleRNN", h=h, fidelity=0.0,
        inputs=rng.normal(size=(b, t, 2)).astype(np.float32),
    )  # fmt: skip
    preds = Predictions(mode="sequence", task="regression",
                        confidence=rng.random((b, t), dtype=np.float32))  # fmt: skip
    return Capture(layers={"rnn": lc}, lengths=np.full(b, t), predictions=preds,
                   saliency=rng.normal(size=(b, t)).astype(np.float32))  # fmt: skip


def _brute(x: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket by bucket, with np.min / np.max: the independent reference."""
    s = 2**level
    n = -(-x.shape[0] // s)
    lo = np.stack([np.min(x[i * s : (i + 1) * s], axis=0) for i in range(n)])
    hi = np.stack([np.max(x[i * s : (i + 1) * s], axis=0) for i in range(n)])
    return lo, hi


def _decode(arr: dict, buffers: list | None = None) -> np.ndarray:
    data = arr["data"] if buffers is None else buffers[arr["buffer"]]
    out = np.frombuffer(data, np.dtype(arr["dtype"]).newbyteorder("<")).reshape(arr["shape"])
    return out.astype(np.float64) * arr.get("scale", 1.0)


def _tile_values(src: TileSource, key: str, sample: int, level: int) -> tuple:
    """One level assembled from its tiles as served (raw bins, before encoding)."""
    parts = [src.tile_bins(key, sample, level, i) for i in range(tiles.n_tiles(src.n_steps, level))]
    lo = np.concatenate([p[0] for p in parts])
    hi = lo if level == 0 else np.concatenate([p[1] for p in parts])
    return lo, hi


@pytest.mark.parametrize("t", [1, 2, 3, 513, 1000, 4101, 9001])
def test_pyramid_bins_equal_brute_force(t):
    x = np.random.default_rng(t).normal(size=(2, t, 3)).astype(np.float32)
    src = TileSource(_synthetic(t, 3, b=2, values=x))
    assert src.max_level == (int(np.ceil(np.log2(t))) if t > 1 else 0)
    for sample in (0, 1):
        for level in range(src.max_level + 1):  # levels 1–3 from raw, ≥ 4 from the cache
            lo, hi = _brute(x[sample], level)
            got = _tile_values(src, "rnn|h", sample, level)
            np.testing.assert_array_equal(got[0], lo)
            np.testing.assert_array_equal(got[1], hi)
            whole = src.level_bins("rnn|h", sample, level)
            np.testing.assert_array_equal(whole[0], lo)
            np.testing.assert_array_equal(whole[1], hi)
    assert tiles.n_buckets(src.n_steps, src.max_level) == 1


def test_nan_wins_and_inf_survives():
    t = 3000
    x = np.random.default_rng(3).normal(size=(1, t, 2)).astype(np.float32)
    x[0, 5, 0] = np.nan
    x[0, 1000, 0] = np.inf
    x[0, 2000, 1] = -np.inf
    src = TileSource(_synthetic(t, 2, values=x))
    for level in range(src.max_level + 1):
        lo, hi = _tile_values(src, "rnn|h", 0, level)
        s = 2**level
        assert np.isnan(lo[5 // s, 0])
        assert np.isnan(hi[5 // s, 0])
        if 1000 // s != 5 // s:  # NaN wins where they share a bucket
            assert hi[1000 // s, 0] == np.inf
        assert lo[2000 // s, 1] == -np.inf
        # and the encoded tiles keep the marks
        for i in range(tiles.n_tiles(t, level)):
            tile = src.tile("rnn|h", 0, level, i)
            dlo = _decode(tile["lo"])
            dhi = dlo if tile["hi"] is None else _decode(tile["hi"])
            b0 = i * TILE_STEPS
            np.testing.assert_array_equal(np.isnan(dlo), np.isnan(lo[b0 : b0 + tile["n"]]))
            np.testing.assert_array_equal(np.isinf(dhi), np.isinf(hi[b0 : b0 + tile["n"]]))
            assert np.isfinite(tile.get("lo", {}).get("scale", 1.0))


def test_tiles_at_every_level_of_a_million_steps_cover_the_range():
    t = 1_000_000
    x = np.random.default_rng(4).normal(size=(1, t, 2)).astype(np.float32)
    src = TileSource(_synthetic(t, 2, values=x))
    assert src.max_level == 20
    rng = np.random.default_rng(5)
    for level in range(src.max_level + 1):
        n = tiles.n_tiles(t, level)
        assert n == -(-t // (TILE_STEPS * 2**level))
        covered, buckets = 0, 0
        for i in range(n):
            lo, hi = src.tile_bins("rnn|h", 0, level, i)
            meta = src.encode("rnn|h", 0, level, i, lo, hi)
            assert meta["start"] == covered  # no gap, no overlap
            assert meta["stop"] - meta["start"] == min(meta["n"] * 2**level, t - meta["start"])
            assert meta["width"] == 2
            assert meta["n"] == lo.shape[0]
            covered, buckets = meta["stop"], buckets + meta["n"]
        assert covered == t
        assert buckets == -(-t // 2**level)
        i = int(rng.integers(n))  # one tile's values against brute force over its steps
        s = 2**level
        start, stop = i * TILE_STEPS * s, min((i + 1) * TILE_STEPS * s, t)
        lo, hi = src.tile_bins("rnn|h", 0, level, i)
        blo, bhi = _brute(x[0, start:stop], level)
        np.testing.assert_array_equal(lo, blo)
        if level:
            np.testing.assert_array_equal(hi, bhi)


def test_float16_round_trip_within_scale_and_level0_exact():
    t = 20_000
    rng = np.random.default_rng(6)
    x = rng.normal(size=(1, t, 4)).astype(np.float32)
    x[0, :, 1] *= 1e-7  # far below float16's range
    x[0, :, 2] *= 1e6  # far above it
    x[0, 7000:9000, 3] = 0.0
    src = TileSource(_synthetic(t, 4, values=x))
    for level in range(src.max_level + 1):
        for i in range(tiles.n_tiles(t, level)):
            lo, hi = src.tile_bins("rnn|h", 0, level, i)
            tile = src.tile("rnn|h", 0, level, i)
            if level == 0:
                assert tile["hi"] is None
                assert tile["lo"]["dtype"] == "float32"
                got = np.frombuffer(tile["lo"]["data"], "<f4").reshape(tile["lo"]["shape"])
                assert got.tobytes() == x[0, i * TILE_STEPS : (i + 1) * TILE_STEPS].tobytes()
                continue
            scale = tile["lo"]["scale"]
            assert tile["hi"]["scale"] == scale
            assert scale == max(np.abs(lo).max(), np.abs(hi).max())
            for enc, exact in ((tile["lo"], lo), (tile["hi"], hi)):
                assert enc["dtype"] == "float16"
                err = np.abs(_decode(enc) - exact.astype(np.float64))
                assert err.max() <= scale * 2.0**-11
    # scale 1 when nothing is finite or all is 0
    assert tiles.tile_scale(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0
    assert tiles.tile_scale(np.full((2, 2), np.nan), np.full((2, 2), np.inf)) == 1.0


def test_request_handler_answers_valid_and_names_invalid_entries():
    t = 5000
    cap = _synthetic(t, 3, b=2)
    src = TileSource(cap)
    k = src.max_level
    asked = [
        ["rnn|h", 1, 0, 3],
        ["nope|h", 0, 0, 0],
        ["rnn|h", 0, k + 1, 0],
        ["rnn|h", 0, 2, 99],
        ["rnn|h", 2, 0, 0],
        ["rnn|h", 0, 5],
        ["|confidence", 0, 6, 0],
        ["|input", 1, 2, 2],
    ]
    reply, buffers = src.answer({"type": "lstmviz-tiles", "id": 7, "tiles": asked})
    json.dumps(reply)  # the content is plain JSON: the arrays went to buffers
    assert reply["type"] == "lstmviz-tiles"
    assert reply["id"] == 7
    got = [(r["key"], r["sample"], r["level"], r["index"]) for r in reply["tiles"]]
    assert got == [("rnn|h", 1, 0, 3), ("|confidence", 0, 6, 0), ("|input", 1, 2, 2)]
    err = reply["error"]
    assert "unknown key 'nope|h'" in err
    assert f"level {k + 1} out of range [0, {k}]" in err
    assert "index 99 out of range [0, 2] at level 2" in err
    assert "sample 2 out of range [0, 1]" in err
    assert "expected [key, sample, level, index]" in err
    assert len(buffers) == 1 + 2 + 2  # level 0: lo only
    h = cap["rnn"].h
    np.testing.assert_array_equal(_decode(reply["tiles"][0]["lo"], buffers),
                                  h[1, 3 * TILE_STEPS : 4 * TILE_STEPS])  # fmt: skip
    inp = reply["tiles"][2]
    lo, hi = _brute(cap["rnn"].inputs[1, 2 * 2048 : 3 * 2048], 2)
    assert inp["start"] == 4096
    assert inp["stop"] == 5000
    assert inp["n"] == 226
    assert np.abs(_decode(inp["lo"], buffers) - lo).max() <= inp["lo"]["scale"] * 2.0**-11
    assert np.abs(_decode(inp["hi"], buffers) - hi).max() <= inp["hi"]["scale"] * 2.0**-11
    # too many, or no list at all
    reply, _ = src.answer({"type": "lstmviz-tiles", "id": 8, "tiles": [["rnn|h", 0, k, 0]] * 70})
    assert len(reply["tiles"]) == 64
    assert "at most 64 tiles per request" in reply["error"]
    reply, buffers = src.answer({"type": "lstmviz-tiles", "id": 9})
    assert reply["tiles"] == []
    assert buffers == []
    assert "must be a list" in reply["error"]
    reply, _ = src.answer({"id": 10, "tiles": [["rnn|h", 0, 0, 0]]})
    assert reply["error"] is None


def test_initial_tiles_are_bounded_at_a_million_by_256():
    t, u = 1_000_000, 256  # one key of 1 GB: the other keys are W = 1 or 2
    h = np.empty((1, t, u), np.float32)
    h[:] = np.sin(np.arange(t, dtype=np.float32))[None, :, None]
    h[0, 123_456, 17] = 9.0  # a single-step spike
    src = TileSource(_synthetic(t, u, values=h))
    k0 = tiles.initial_level(t)
    assert k0 == 9
    assert tiles.n_buckets(t, k0) <= 2048 < tiles.n_buckets(t, k0 - 1)
    got = src.initial_tiles("rnn", "h", 0, 500_000)
    nbytes = sum(len(a["data"]) for tl in got for a in (tl["lo"], tl["hi"]) if a is not None)
    assert nbytes <= 4 * 2**20, nbytes
    shown = [tl for tl in got if tl["key"] == "rnn|h" and tl["level"] == k0]
    assert len(shown) == tiles.n_tiles(t, k0)
    level0 = [tl for tl in got if tl["level"] == 0]
    assert [(tl["key"], tl["index"]) for tl in level0] == [("rnn|h", 500_000 // TILE_STEPS)]
    assert {tl["key"] for tl in got} == {"rnn|h", "|confidence", "|saliency", "|input"}
    spike = shown[123_456 // 512 // TILE_STEPS]
    b = 123_456 // 512 - spike["index"] * TILE_STEPS
    assert _decode(spike["hi"])[b, 17] == 9.0  # the max survives the coarse level


def test_auto_threshold_and_bad_values():
    small = _synthetic(20_000, 2)
    assert not payload_tiled.resolve("auto", small)
    assert payload_tiled.resolve("auto", _synthetic(20_001, 2))
    assert payload_tiled.resolve(True, small)
    assert not payload_tiled.resolve(False, _synthetic(20_001, 2))
    # 64 MiB of per-step arrays: B·T·U·4 over h, c and gates (here h only)
    big = _synthetic(1000, 1, b=64)
    big.layers["rnn"].h = np.broadcast_to(np.float32(0), (64, 1000, 263))  # 67.3 MB, no copy
    assert payload_tiled.drawn_bytes(big) == 64 * 1000 * 263 * 4 > 64 * 2**20
    assert payload_tiled.resolve("auto", big)
    big.layers["rnn"].h = np.broadcast_to(np.float32(0), (64, 1000, 262))
    assert not payload_tiled.resolve("auto", big)
    for bad in ("yes", "Auto", 1, 0, None, "true"):
        with pytest.raises(ValueError, match='tiles must be "auto", True or False'):
            LSTMExplorer(small, tiles=bad)
    assert not LSTMExplorer(small).tiled
    assert LSTMExplorer(_synthetic(20_001, 2)).tiled


@pytest.fixture(scope="module")
def model_and_seq():
    keras.utils.set_random_seed(2)
    inp = keras.Input((None, 3))
    h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(inp)
    out = keras.layers.GRU(4, return_sequences=True, name="gru")(h)
    x = np.random.default_rng(1).normal(size=(2, 1300, 3)).astype(np.float32)
    return keras.Model(inp, out), x


def _sent(w, monkeypatch):
    sent = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append((content, buffers)))
    return sent


def test_tiled_explorer_payload_and_messages(model_and_seq, monkeypatch):
    model, x = model_and_seq
    w = LSTMExplorer(model, x, tiles=True, timestep=700, quantity="c")
    cap = w.capture
    assert w.tiled
    data = w._data
    stripped, _, _ = _remove_buffers(w.get_state())
    json.dumps(stripped)
    k = int(np.ceil(np.log2(1300)))
    assert data["tiling"] == {"tile_steps": 512, "max_level": k, "initial_level": 0,
                              "offline": False, "finest_level": 0, "note": ""}  # fmt: skip
    lstm = data["layers"][0]
    assert lstm["arrays"]["gate:forget"] == {"tiled": True, "key": "lstm|gate:forget",
                                             "shape": [2, 1300, 6]}  # fmt: skip
    assert set(lstm["arrays"]) == {"h", "c", "gate:input", "gate:forget", "gate:cell",
                                   "gate:output"}  # fmt: skip
    assert lstm["pca"] is None
    assert lstm["grad_norms"] is None
    assert lstm["health"] is None  # not on the way to the first render
    assert lstm["weights"]["forget"]["kernel"]["shape"] == [3, 6]
    assert data["attention"] == []
    assert "PCA trajectory" not in data["tiled_out"]
    assert lstm["trajectory"] == {"tiled": True, "key": "lstm|pca", "shape": [2, 1300, 3],
                                  "labels": ["PC1", "PC2", "PC3"]}  # fmt: skip
    assert data["input"]["values"] == {"tiled": True, "key": "|input", "shape": [2, 1300, 3]}
    assert data["counterfactual"]["editable"] is False
    assert "tiled" in data["counterfactual"]["reason"]
    with pytest.raises(RuntimeError, match="editing is off for a tiled explorer"):
        w.edit(3, 0.0)
    # initial tiles: level k0 = 0 (1300 ≤ 2048 steps) of the shown key and sample, exact
    init = [tl for tl in data["initial_tiles"] if tl["key"] == "lstm|c"]
    assert [tl["index"] for tl in init] == [0, 1, 2]
    np.testing.assert_array_equal(
        np.concatenate([_decode(tl["lo"]) for tl in init]), cap["lstm"].c[0]
    )
    # a request through the comm's custom-message path, after changing sample and layer
    w.sample, w.layer = 1, "gru"
    sent = _sent(w, monkeypatch)
    w._handle_custom_msg({"type": "lstmviz-tiles", "id": 3,
                          "tiles": [["gru|gate:reset", 1, 0, 1], ["gru|h", 1, 3, 0],
                                    ["gru|c", 0, 0, 0]]}, [])  # fmt: skip
    assert len(sent) == 1
    reply, buffers = sent[0]
    assert reply["id"] == 3
    assert "unknown key 'gru|c'" in reply["error"]
    a, b = reply["tiles"]
    np.testing.assert_array_equal(_decode(a["lo"], buffers),
                                  cap["gru"].gates["reset"][1, 512:1024])  # fmt: skip
    lo, hi = _brute(cap["gru"].h[1, :4096], 3)
    assert np.abs(_decode(b["hi"], buffers) - hi).max() <= b["hi"]["scale"] * 2.0**-11
    assert np.abs(_decode(b["lo"], buffers) - lo).max() <= b["lo"]["scale"] * 2.0**-11
    w._handle_custom_msg({"type": "something-else"}, [])  # not ours: no reply
    assert len(sent) == 1


def test_untiled_explorer_answers_a_tile_request_with_an_error(model_and_seq, monkeypatch):
    model, x = model_and_seq
    w = LSTMExplorer(capture(model, x[:, :40]))
    assert not w.tiled
    assert "tiling" not in w._data
    sent = _sent(w, monkeypatch)
    w._handle_custom_msg({"type": "lstmviz-tiles", "id": 1, "tiles": [["lstm|h", 0, 0, 0]]}, [])
    assert sent[0][0]["tiles"] == []
    assert "not tiled" in sent[0][0]["error"]


def _page_data(path) -> tuple[dict, list]:
    """`_data` and its tile buffers (decoded) from a saved page."""
    text = path.read_text(encoding="utf-8")
    m = re.search(r'widget-state\+json">\n(.*?)\n</script>', text, re.S)
    state = json.loads(m.group(1))["state"]
    (model,) = [s for s in state.values() if "_data" in s["state"]]
    return model["state"]["_data"], model.get("buffers", [])


def _tile_buffers(bufs: list) -> tuple[int, dict]:
    """Base64 bytes of the initial_tiles buffers, and the decoded bytes by (tile, side)."""
    total, out = 0, {}
    for b in bufs:
        p = b["path"]
        if p[:2] == ["_data", "initial_tiles"]:
            total += len(b["data"])
            out[(p[2], p[3])] = base64.b64decode(b["data"])
    return total, out


def test_save_html_embeds_every_level_when_it_fits(model_and_seq, tmp_path):
    model, x = model_and_seq
    w = LSTMExplorer(capture(model, x), tiles=True)
    data, bufs = _page_data(w.save_html(tmp_path / "small.html"))
    tiling = data["tiling"]
    assert tiling["offline"] is True
    assert tiling["finest_level"] == 0
    assert tiling["note"] == ""
    src = w._tiles
    want = {(key, b, lv, i) for key in src.keys for b in range(2)
            for lv in range(src.max_level + 1) for i in range(tiles.n_tiles(1300, lv))}  # fmt: skip
    got = [(tl["key"], tl["sample"], tl["level"], tl["index"]) for tl in data["initial_tiles"]]
    assert len(got) == len(want)
    assert set(got) == want
    _, raw = _tile_buffers(bufs)
    i = got.index(("gru|gate:update", 1, 0, 2))
    lo = np.frombuffer(raw[(i, "lo")], "<f4").reshape(data["initial_tiles"][i]["lo"]["shape"])
    np.testing.assert_array_equal(lo, w.capture["gru"].gates["update"][1, 1024:])
    assert w._data["tiling"]["offline"] is False  # the live widget is untouched


def test_save_html_of_a_long_capture_stays_within_50_mb(tmp_path):
    t, u = 1_000_000, 16  # h alone is 64 MB in float32: level 0 cannot fit
    w = LSTMExplorer(_synthetic(t, u, seed=8))
    assert w.tiled
    path = w.save_html(tmp_path / "long.html")
    data, bufs = _page_data(path)
    embedded, _ = _tile_buffers(bufs)
    assert embedded <= 50 * 10**6
    tiling = data["tiling"]
    finest = tiling["finest_level"]
    assert tiling["offline"] is True
    assert finest > 0
    assert tiling["note"] == f"offline copy: the finest level holds {2**finest} steps per column"
    levels = {tl["level"] for tl in data["initial_tiles"]}
    assert levels == set(range(finest, tiling["max_level"] + 1))
    # one level finer would not have fitted: its base64 bytes, counted from the shapes
    widths = {"rnn|h": u, "|input": 2, "|confidence": 1, "|saliency": 1}
    finer = finest - 1
    nb = -(-t // 2**finer)
    per_tile = [min(TILE_STEPS, nb - i * TILE_STEPS) for i in range(-(-nb // TILE_STEPS))]
    more = sum(
        (1 if finer == 0 else 2) * 4 * -(-(n * w_ * (4 if finer == 0 else 2)) // 3)
        for w_ in widths.values()
        for n in per_tile
    )
    assert embedded + more > 50 * 10**6


def _ask(w, monkeypatch, *entries):
    """One tile request through the comm's custom-message path; the reply's tiles decoded."""
    sent = _sent(w, monkeypatch)
    w._handle_custom_msg({"type": "lstmviz-tiles", "id": 1, "tiles": list(entries)}, [])
    ((reply, buffers),) = sent
    assert reply["error"] is None
    return [_decode(tl["lo"], buffers) for tl in reply["tiles"]]


def test_snapshots_and_a_store_rebuild_their_tiles(tmp_path, monkeypatch):
    a, b = _synthetic(3000, 3, seed=1), _synthetic(3000, 3, seed=2)
    w = LSTMExplorer.from_snapshots([(0, a), (1, b)], epoch=0, tiles=True)
    (got,) = _ask(w, monkeypatch, ["rnn|h", 0, 0, 1])
    np.testing.assert_array_equal(got, a["rnn"].h[0, 512:1024])
    w.epoch = 1
    assert w._data["epochs"] == [0, 1]
    assert "tiling" in w._data
    (got,) = _ask(w, monkeypatch, ["rnn|h", 0, 0, 1])
    np.testing.assert_array_equal(got, b["rnn"].h[0, 512:1024])
    # a store: the sample shown is read, tiled, and swapped by store_sample
    keras.utils.set_random_seed(3)
    inp = keras.Input((None,), dtype="int32")
    out = keras.layers.LSTM(5, return_sequences=True, name="lstm")(
        keras.layers.Embedding(9, 2)(inp)
    )
    x = np.random.default_rng(0).integers(0, 9, size=(6, 700)).astype(np.int32)
    path = tmp_path / "s.zarr"
    capture(keras.Model(inp, out), x, store=path, batch_size=4, progress=False)
    store = Capture.open(path)
    ex = LSTMExplorer(store, sample=4, tiles=True)
    assert ex.tiled
    assert ex._data["store"]["sample"] == 4
    (got,) = _ask(ex, monkeypatch, ["lstm|gate:forget", 0, 0, 1])
    np.testing.assert_array_equal(got, np.asarray(store["lstm"].gates["forget"][4, 512:]))
    ex.store_sample = 2
    (got,) = _ask(ex, monkeypatch, ["lstm|gate:forget", 0, 0, 1])
    np.testing.assert_array_equal(got, np.asarray(store["lstm"].gates["forget"][2, 512:]))


@pytest.mark.parametrize("chunk", [1 << 22, 40, 7])
def test_health_statistics_chunked_over_time_equal_brute_force(chunk, monkeypatch):
    """Health of a long layer walks the time axis in chunks (no (B, T, U) temporary): the
    chunked moments and saturation counts equal numpy over the valid steps."""
    from lstmviz_widget.analysis import _common, health

    monkeypatch.setattr(_common, "CHUNK_ELEMENTS", chunk)
    rng = np.random.default_rng(9)
    g = rng.random((3, 301, 5)).astype(np.float32)
    mask = rng.random((3, 301)) > 0.3
    mask[2] = False  # a sample with no valid step
    count, mean, var = _common.per_sample_moments(g, mask)
    for b in range(2):
        rows = g[b][mask[b]].astype(np.float64)
        assert count[b] == rows.shape[0]
        np.testing.assert_allclose(mean[b], rows.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(var[b], rows.var(axis=0), rtol=1e-5)
    assert np.isnan(mean[2]).all()
    assert np.isnan(var[2]).all()
    sat = health.gate_saturation({"forget": g, "cell": 2 * g - 1}, mask=mask)
    valid = g[mask]
    np.testing.assert_array_equal(sat["forget"].low, (valid < 0.05).sum(axis=0) / mask.sum())
    np.testing.assert_array_equal(sat["forget"].high, (valid > 0.95).sum(axis=0) / mask.sum())
    tanh = 2 * valid - 1
    np.testing.assert_array_equal(sat["cell"].low, (tanh < -0.95).sum(axis=0) / mask.sum())
    _, _, unmasked = _common.per_sample_moments(g, None)
    np.testing.assert_allclose(unmasked, g.astype(np.float64).var(axis=1), rtol=1e-5)


def test_cached_pyramids_stay_within_their_byte_budget(monkeypatch):
    t = 70_000
    cap = _synthetic(t, 8, b=3)
    src = TileSource(cap)
    one = None
    for b in range(3):
        src.answer({"tiles": [["rnn|h", b, 6, 0]]})  # a tile from raw; the pyramid in the back
        src.settle()
        one = one or src.cached_bytes
    assert src.cached_bytes == 3 * one  # levels ≥ 4 of three (key, sample): all kept
    monkeypatch.setattr(tiles, "CACHE_BYTES", 2 * one)
    reply, bufs = src.answer({"tiles": [["rnn|h", 0, 7, 0]]})  # sample 0 again: most recent
    src.answer({"tiles": [["|input", 1, 5, 0]]})  # a fourth: the least recent (1, 2) go
    src.settle()
    assert src.cached_bytes <= 2 * one
    assert set(src._cache) == {("rnn|h", 0), ("|input", 1)}
    _, hi = _brute(cap["rnn"].h[0, : 512 * 128], 7)
    assert np.abs(_decode(reply["tiles"][0]["hi"], bufs) - hi).max() <= (
        reply["tiles"][0]["hi"]["scale"] * 2.0**-11
    )
    monkeypatch.setattr(tiles, "CACHE_BYTES", 0)  # the pyramid in use always stays
    src.answer({"tiles": [["rnn|h", 2, 4, 1]]})
    src.settle()
    assert list(src._cache) == [("rnn|h", 2)]


def test_a_shorter_layer_is_padded_with_zeros_as_untiled():
    cap = _synthetic(3000, 2, b=2)
    rng = np.random.default_rng(10)
    short = rng.normal(size=(2, 1900, 3)).astype(np.float32) + 5.0  # all > 0: padding shows
    cap.layers["dec"] = LayerCapture(name="dec", kind="SimpleRNN", h=short, fidelity=0.0,
                                     inputs=np.zeros((2, 1900, 1), np.float32))  # fmt: skip
    src = TileSource(cap)
    assert src.shape("dec|h") == [2, 3000, 3]
    padded = np.zeros((2, 3000, 3), np.float32)
    padded[:, :1900] = short
    for level in (0, 2, 4, 11):
        lo, hi = _tile_values(src, "dec|h", 1, level)
        blo, bhi = _brute(padded[1], level)
        np.testing.assert_array_equal(lo, blo)
        np.testing.assert_array_equal(hi, bhi)
    assert (_tile_values(src, "dec|h", 0, 0)[0][1900:] == 0).all()


@pytest.mark.parametrize("chunk", [7, 1 << 22])
def test_derived_series_equal_the_unchunked_definitions(model_and_seq, chunk, monkeypatch):
    """Gate means and the memory-flow means of the tiled tracks: computed a time chunk at a time,
    equal to numpy over the whole arrays and to analysis.memory's MemoryFlow.step_means."""
    from lstmviz_widget.analysis.memory import memory_flow
    from lstmviz_widget.widget import series

    monkeypatch.setattr(series, "CHUNK_VALUES", chunk)
    model, seq = model_and_seq
    cap = capture(model, seq)
    src = TileSource(cap)
    assert [lc.kind for lc in cap] == ["LSTM", "GRU"]
    for lc in cap:
        key = f"{lc.name}|series:gate means"
        assert key in src
        assert src.labels(key) == list(lc.gates)
        got = src.raw(key, 1)
        for j, g in enumerate(lc.gates):
            np.testing.assert_allclose(
                got[:, j], lc.gates[g][1].mean(axis=-1), rtol=1e-6, atol=1e-7
            )
        flow = src.raw(f"{lc.name}|series:memory flow", 1)
        carried, written = memory_flow(lc).step_means()
        np.testing.assert_allclose(flow[:, 0], carried[1], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(flow[:, 1], written[1], rtol=1e-6, atol=1e-7)
    got = src.raw(key, 0)
    # tiled like any key: a level-2 tile's buckets are the brute-force min/max of the series
    c, bufs = src.answer({"type": "lstmviz-tiles", "id": 1, "tiles": [[key, 0, 2, 0]]})
    assert c["error"] is None
    lo = _decode(c["tiles"][0]["lo"], bufs)
    blo, _ = _brute(got, 2)
    np.testing.assert_allclose(lo, blo[: lo.shape[0]], atol=float(np.abs(blo).max()) * 2**-11)


def test_the_trajectory_key_is_the_pca_projection(model_and_seq):
    """The tiled trajectory's values are analysis.pca's projection of h (computed on request)."""
    from lstmviz_widget.analysis.pca import pca

    model, seq = model_and_seq
    cap = capture(model, seq)
    src = TileSource(cap)
    for lc in cap:
        want = pca(lc, k=3).projection
        ask = {"type": "lstmviz-tiles", "id": 2, "tiles": [[f"{lc.name}|pca", 1, 0, 1]]}
        c, _ = src.answer(ask)  # computed in the background: "pending", never blocked on
        assert c["tiles"] == []
        assert c["pending"] == [[f"{lc.name}|pca", 1, 0, 1]]
        src.settle()
        c, bufs = src.answer(ask)
        assert c["error"] is None
        assert c["pending"] == []
        got = _decode(c["tiles"][0]["lo"], bufs)
        np.testing.assert_allclose(got, want[1, 512:1024], rtol=1e-5, atol=1e-6)


def test_predicted_classes_and_mistakes_are_tiled():
    """A classifier's per-step class ids and mistakes travel as tiles (exact at level 0)."""
    cap = _synthetic(3000, 4)
    rng = np.random.default_rng(5)
    cls = rng.integers(0, 3, size=(1, 3000)).astype(np.int64)
    wrong = rng.random((1, 3000)) < 0.1
    cap.predictions = Predictions(
        mode="sequence", task="classification", reason="", source_layer=None,
        confidence=rng.random((1, 3000)).astype(np.float32), predicted=cls,
        mispredicted=wrong,
    )  # fmt: skip
    src = TileSource(cap)
    data = payload_tiled.tiled_payload(cap, src, layer=None, quantity="h", sample=0, timestep=0)
    assert data["predictions"]["predicted"]["key"] == "|predicted"
    assert data["predictions"]["mispredicted"]["key"] == "|mispredicted"
    ask = [["|predicted", 0, 0, 1], ["|mispredicted", 0, 2, 0]]
    c, bufs = src.answer({"type": "lstmviz-tiles", "id": 3, "tiles": ask})
    assert c["error"] is None
    np.testing.assert_array_equal(_decode(c["tiles"][0]["lo"], bufs)[:, 0], cls[0, 512:1024])
    hi = _decode(c["tiles"][1]["hi"], bufs)[:, 0]  # level 2: any mistake among 4 steps
    np.testing.assert_array_equal(hi, wrong[0].reshape(-1, 4).any(axis=1)[:512].astype(np.float32))


def test_health_comes_after_the_first_render_and_equals_the_untiled(model_and_seq, monkeypatch):
    """A tiled explorer computes health on a background thread; the browser's request gets
    ready: false or the same entries the untiled payload carries; save_html embeds them."""
    import time

    from lstmviz_widget.widget import messages

    model, x = model_and_seq
    w = LSTMExplorer(model, x, tiles=True)
    untiled = LSTMExplorer(w.capture, tiles=False)
    sent = _sent(w, monkeypatch)
    deadline = time.time() + 30
    while True:
        messages.on_health_message(w, {"type": "lstmviz-health", "id": 7})
        reply = sent[-1][0]
        assert reply["id"] == 7
        assert reply["error"] is None
        if reply["ready"] or time.time() > deadline:
            break
        time.sleep(0.05)
    assert reply["ready"] is True
    want = {lc["name"]: lc["health"] for lc in untiled._data["layers"]}
    assert reply["layers"] == want
    assert all(lc["health"] is None for lc in w._data["layers"])  # not in the first payload
    off = w._offline_data()
    assert {lc["name"]: lc["health"] for lc in off["layers"]} == want
    # an untiled explorer answers from its payload at once
    sent_u = _sent(untiled, monkeypatch)
    messages.on_health_message(untiled, {"type": "lstmviz-health", "id": 1})
    assert sent_u[-1][0]["ready"] is True
    assert sent_u[-1][0]["layers"] == want


def test_token_labels_are_served_by_window_with_clear_errors():
    """A tiled payload carries no per-step labels; the page asks for windows of them."""
    from lstmviz_widget.widget.messages import MAX_TOKENS, token_reply

    cap = _synthetic(30_000, 2)
    cap.tokens = [[f"w{t % 97}" for t in range(30_000)]]
    data = payload_tiled.tiled_payload(cap, TileSource(cap), layer=None, quantity="h")
    assert data["tokens"] is None
    assert data["tokens_on_request"] is True
    r = token_reply(cap.tokens, {"type": "lstmviz-tokens", "id": 4, "sample": 0,
                                 "start": 512, "stop": 1024})  # fmt: skip
    assert r["error"] is None
    assert r["tokens"] == cap.tokens[0][512:1024]
    assert (r["id"], r["start"], r["stop"]) == (4, 512, 1024)
    for bad in ({"sample": 1, "start": 0, "stop": 1}, {"sample": 0, "start": 5, "stop": 2},
                {"sample": 0, "start": 0, "stop": MAX_TOKENS + 1}, {"sample": "0", "start": 0,
                "stop": 1}, {"sample": 0, "start": 29_999, "stop": 30_001}):  # fmt: skip
        r = token_reply(cap.tokens, {"type": "lstmviz-tokens", "id": 1, **bad})
        assert r["error"]
        assert r["tokens"] == []
    assert "no token labels" in token_reply(None, {"sample": 0, "start": 0, "stop": 1})["error"]
