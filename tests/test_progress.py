"""Progress bars: shown for long work only, off on request; saving writes the same file."""

from __future__ import annotations

import time

import numpy as np
import pytest

import lstmviz_widget
from lstmviz_widget import Capture, LayerCapture, _progress
from lstmviz_widget._progress import progress, progress_enabled


@pytest.fixture(autouse=True)
def _default(monkeypatch):
    monkeypatch.setattr(_progress, "_enabled", None)
    monkeypatch.delenv("LSTMVIZ_PROGRESS", raising=False)


def _slow(n, dt):
    for i in range(n):
        time.sleep(dt)
        yield i


def test_nothing_shown_for_quick_work(capsys):
    assert list(progress(range(5), desc="quick job")) == [0, 1, 2, 3, 4]
    assert "quick job" not in capsys.readouterr().err


def test_a_bar_for_work_over_a_second(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "MIN_SECONDS", 0.2)
    assert list(progress(_slow(4, 0.1), desc="long job", total=4)) == [0, 1, 2, 3]
    err = capsys.readouterr().err
    assert "long job" in err
    assert "4/4" in err


def test_turned_off_three_ways(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "MIN_SECONDS", 0.0)
    items = [1, 2]
    assert progress(items, desc="x", enabled=False) is items
    monkeypatch.setenv("LSTMVIZ_PROGRESS", "0")
    assert not progress_enabled()
    assert progress_enabled(True)
    monkeypatch.delenv("LSTMVIZ_PROGRESS")
    lstmviz_widget.set_progress(False)
    assert progress(items, desc="x") is items
    assert capsys.readouterr().err == ""


def _capture(t=50):
    h = np.random.default_rng(0).normal(size=(2, t, 3)).astype(np.float32)
    lc = LayerCapture(name="rnn", kind="SimpleRNN", h=h, inputs=h.copy(), fidelity=0.0)
    return Capture(layers={"rnn": lc}, lengths=np.array([t, t - 5]))


def test_saving_shows_bytes_and_writes_what_savez_writes(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_progress, "MIN_SECONDS", 0.0)
    cap = _capture()
    path = cap.save(tmp_path / "big")
    assert "saving big.npz" in capsys.readouterr().err
    back = Capture.load(path)
    np.testing.assert_array_equal(back["rnn"].h, cap["rnn"].h)
    # the same members as numpy's own savez_compressed, readable by np.load
    with np.load(path) as npz:
        assert sorted(npz.files) == ["layer0/h", "layer0/inputs", "lengths", "meta"]
    cap.save(tmp_path / "quiet", progress=False)
    assert capsys.readouterr().err == ""


def test_monitor_saves_its_snapshots(tmp_path, capsys, monkeypatch):
    from lstmviz_widget.training import LSTMMonitor

    monkeypatch.setattr(_progress, "MIN_SECONDS", 0.0)
    monitor = LSTMMonitor(np.zeros((1, 4, 2)))
    monitor.snapshots = [(0, _capture()), (2, _capture(40))]
    paths = monitor.save_snapshots(tmp_path / "snaps")
    assert [p.name for p in paths] == ["epoch000.npz", "epoch002.npz"]
    assert "saving snapshots" in capsys.readouterr().err
    assert Capture.load(paths[1])["rnn"].h.shape == (2, 40, 3)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        monitor.save_snapshots(tmp_path / "snaps")


def test_a_ragged_capture_ticks_per_length_group(capsys, monkeypatch):
    import keras

    from lstmviz_widget import capture

    monkeypatch.setattr(_progress, "MIN_SECONDS", 0.0)
    model = keras.Sequential([keras.Input((None, 2)), keras.layers.GRU(3, name="gru")])
    seqs = [np.ones((n, 2), np.float32) for n in (3, 5, 5, 7)]
    cap = capture(model, seqs)
    assert cap["gru"].h.shape == (4, 7, 3)
    err = capsys.readouterr().err
    assert "capture (length groups)" in err
    assert "/3 [" in err  # three length groups: 3, 5 and 7 steps
    lstmviz_widget.set_progress(False)
    capture(model, seqs)
    assert "capture" not in capsys.readouterr().err
