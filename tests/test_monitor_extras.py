"""LSTMMonitor's checkpoints on alerts and its Weights & Biases logging (offline: nothing is
sent anywhere; the run's files are read back)."""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import pytest

from lstmviz_widget import Capture, capture
from lstmviz_widget.training import AlertRules, LSTMMonitor
from lstmviz_widget.training.checkpoints import Checkpointer
from lstmviz_widget.training.summaries import normalised

from .wandb_records import finished_log, history

T, D, U, N, BATCH = 5, 2, 3, 32, 8


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, T, D)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None].astype("float32")


def _nan_loss(y_true, y_pred):
    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1) * float("nan")


def _model(loss="mse"):
    keras.utils.set_random_seed(0)
    init = keras.initializers.RandomNormal(stddev=1.5, seed=1)
    model = keras.Sequential(
        [
            keras.Input((T, D)),
            keras.layers.LSTM(U, kernel_initializer=init, name="lstm"),
            keras.layers.Dense(1, name="head"),
        ]
    )
    model.compile(keras.optimizers.SGD(0.05), loss)
    return model


def test_a_nan_loss_writes_exactly_one_checkpoint_set(tmp_path):
    x, y = _data()
    model = _model(_nan_loss)
    ckpt = tmp_path / "ckpt"
    monitor = LSTMMonitor(x[:4], every_n_batches=2, probe_y=y[:4], checkpoint_dir=ckpt)
    hist = model.fit(x, y, batch_size=BATCH, epochs=3, callbacks=[monitor], verbose=0)
    assert np.isnan(hist.history["loss"]).all()
    sets = sorted(p for p in ckpt.iterdir())
    assert [p.name for p in sets] == ["epoch000-batch000001-nan"], sets  # no temp folders left
    assert monitor.checkpoints == sets
    s = sets[0]
    assert sorted(p.name for p in s.iterdir()) == ["alert.txt", "model.keras", "probe.npz"]
    text = (s / "alert.txt").read_text()
    assert "NaN/Inf loss" in text
    assert text.startswith("epoch 0, batch step 1: nan")
    loaded = keras.models.load_model(s / "model.keras", custom_objects={"_nan_loss": _nan_loss})
    assert [w.shape for w in loaded.get_weights()] == [w.shape for w in model.get_weights()]
    cap = Capture.load(s / "probe.npz")
    assert cap.layer_names == ["lstm"]
    assert cap["lstm"].h.shape == (4, T, U)
    assert monitor.errors == []


def test_checkpoint_holds_the_model_and_capture_of_one_moment_and_training_is_untouched(tmp_path):
    x, y = _data()
    rules = AlertRules(saturation=0.0)  # every gate "saturated": alerts at the first probe

    def run(checkpoint_dir):
        model = _model()
        monitor = LSTMMonitor(
            x[:4],
            every_n_batches=3,
            probe_y=y[:4],
            rules=AlertRules(saturation=0.0),
            checkpoint_dir=checkpoint_dir,
        )
        h = model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[monitor], verbose=0)
        return model, monitor, h

    plain_model, _, plain_hist = run(None)
    model, monitor, hist = run(tmp_path / "c")
    assert rules.saturation == 0.0
    # the checkpoints changed nothing in the training
    np.testing.assert_array_equal(hist.history["loss"], plain_hist.history["loss"])
    for a, b in zip(model.get_weights(), plain_model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # one set per kind per epoch: saturation fires (4 gates) at the first probe, never again
    assert [p.name for p in monitor.checkpoints] == ["epoch000-batch000003-saturation"]
    s = monitor.checkpoints[0]
    assert (s / "alert.txt").read_text().count("gate saturated") == 4
    # the saved model is the model of that moment: it reproduces the saved capture
    loaded = keras.models.load_model(s / "model.keras")
    saved = Capture.load(s / "probe.npz")
    again = capture(loaded, x[:4])
    np.testing.assert_allclose(again["lstm"].h, saved["lstm"].h, atol=1e-6)
    assert not np.allclose(
        saved["lstm"].weights["kernel"], model.get_layer("lstm").get_weights()[0]
    )


def test_checkpointer_rules(tmp_path):
    with pytest.raises(ValueError, match="alert kinds among"):
        LSTMMonitor(np.zeros((1, T, D)), checkpoint_dir=tmp_path, checkpoint_on=("nans",))
    c = Checkpointer(tmp_path, ("nan", "exploding"))
    assert c.wanted(["nan", "saturation", "exploding", "nan"], 0) == ["exploding", "nan"]
    c._done.add(("nan", 0))
    assert c.wanted(["nan"], 0) == []
    assert c.wanted(["nan"], 1) == ["nan"]


def test_a_failed_save_leaves_nothing_and_never_reaches_fit(tmp_path):
    x, y = _data()
    model = _model(_nan_loss)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    model.save = broken
    ckpt = tmp_path / "ckpt"
    monitor = LSTMMonitor(x[:4], every_n_batches=None, checkpoint_dir=ckpt)
    model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[monitor], verbose=0)
    assert list(ckpt.iterdir()) == []  # the temp folder was removed
    assert monitor.checkpoints == []
    assert any("OSError: disk full" in e for e in monitor.errors)


@pytest.fixture
def offline_wandb(tmp_path, monkeypatch):
    import wandb  # the [wandb] extra: scripts/setup.sh installs it

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DISABLE_GIT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    return wandb


def test_wandb_offline_run_holds_the_logged_keys_and_images(offline_wandb, tmp_path):
    wandb = offline_wandb
    x, y = _data()
    model = _model()
    run = wandb.init(project="lstmviz-test", mode="offline", dir=tmp_path)
    try:
        monitor = LSTMMonitor(x[:4], every_n_batches=None, probe_y=y[:4], wandb=True)
        model.fit(x, y, batch_size=BATCH, epochs=2, callbacks=[monitor], verbose=0)
        run_dir = Path(run.dir).parent
    finally:
        run.finish()
    rows = history(finished_log(run_dir))
    assert [r["epoch"] for r in rows] == [0, 1]
    h = monitor.history
    end = np.flatnonzero(h["probe_epoch_end"] == 1)
    for key in (
        "grad_norm/lstm/kernel",
        "grad_norm/lstm/recurrent_kernel",
        "grad_norm/lstm/forget/kernel",
    ):
        np.testing.assert_allclose([r[key] for r in rows], h[key][end], rtol=1e-6)
    np.testing.assert_allclose([r["epoch/loss"] for r in rows], h["epoch/loss"], rtol=1e-6)
    for gate in ("input", "forget", "cell", "output"):
        assert rows[1][f"lstm/{gate}/bias/_type"] == "histogram"
        assert rows[1][f"lstm/{gate}/activation/_type"] == "histogram"
        for part in ("kernel", "recurrent_kernel"):
            assert rows[1][f"lstm/{gate}/{part}/_type"] == "image-file"
    # the last epoch's forget-gate kernel image is the normalised matrix, as for TensorBoard
    from PIL import Image

    png = run_dir / "files" / rows[1]["lstm/forget/kernel/path"]
    pixels = np.asarray(Image.open(png))
    want = normalised(monitor.snapshots[-1][1]["lstm"].gate_weights("forget")["kernel"])
    np.testing.assert_array_equal(pixels, np.round(want * 255).astype(np.uint8))


def test_wandb_true_without_a_run_says_how_to_fix(offline_wandb):
    assert offline_wandb.run is None
    x, y = _data()
    model = _model()
    monitor = LSTMMonitor(x[:4], every_n_batches=None, wandb=True)
    with pytest.raises(RuntimeError, match=r"wandb.init\(...\) before fit"):
        model.fit(x, y, batch_size=BATCH, epochs=1, callbacks=[monitor], verbose=0)
    with pytest.raises(TypeError, match="wandb= takes True"):
        LSTMMonitor(x[:4], wandb="yes")
    assert "WANDB_MODE" in os.environ
