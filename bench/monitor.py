"""Training-monitor benchmark: fit time with ``LSTMMonitor`` ÷ fit time without it.

A small LSTM regressor (T=20, D=8, U=32, 4096 samples, batch 32, 10 % for validation) is
trained with and without a monitor at its default cadence (probe every ``every_n_batches``
batches and at each epoch end, gradients on, 4 probe sequences). Both models are warmed
first (Keras's tracing, the monitor's capture sub-model and gradient tracing are one-time
costs, printed apart); then ``--pairs`` short fits alternate between the two so that drift in
machine load favours neither, and the median ratio is reported. Goal: ratio ≤ 1.05.

Usage: ``python bench/monitor.py [--epochs 2] [--pairs 8] [--every N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

from lstmviz_widget.training import LSTMMonitor

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdicts import emit, headline

T, D, U, N, BATCH = 20, 8, 32, 4096, 32


class _TimedMonitor(LSTMMonitor):
    """The monitor with a stopwatch around its hooks: its own time inside ``fit``."""

    spent = 0.0

    def on_train_batch_end(self, batch, logs=None):
        t0 = time.perf_counter()
        super().on_train_batch_end(batch, logs)
        self.spent += time.perf_counter() - t0

    def on_epoch_end(self, epoch, logs=None):
        t0 = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.spent += time.perf_counter() - t0


class _NoOp(keras.callbacks.Callback):
    """A callback with an empty batch hook: what any such hook costs Keras (no async logs)."""

    def on_train_batch_end(self, batch, logs=None):
        pass


def _model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((T, D)), keras.layers.LSTM(U), keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    return model


def _fit(model: keras.Model, x, y, epochs: int, callbacks: list) -> float:
    start = time.perf_counter()
    model.fit(
        x, y, batch_size=BATCH, epochs=epochs, validation_split=0.1, callbacks=callbacks, verbose=0
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed fit")
    parser.add_argument("--pairs", type=int, default=8, help="timed (with, without) pairs")
    parser.add_argument("--every", type=int, default=None, help="every_n_batches")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, T, D)).astype("float32")
    y = x[:, :, 0].sum(1, keepdims=True).astype("float32")
    kwargs = {} if args.every is None else {"every_n_batches": args.every}

    base, monitored = _model(0), _model(0)
    _fit(base, x, y, 1, [])
    _fit(monitored, x, y, 1, [])
    monitor = _TimedMonitor(x[:4], probe_y=y[:4], **kwargs)
    t0 = time.perf_counter()
    monitor.set_model(monitored)
    monitor._probe(False)  # one-time: capture sub-model, tracing of the gradient probe
    first_probe = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(5):
        monitor._probe(False)
    probe_ms = (time.perf_counter() - t0) / 5 * 1e3

    ratios, base_times, mon_times, noop_times = [], [], [], []
    monitor.spent = 0.0
    for i in range(args.pairs):  # alternate the order: load drift favours neither side
        order = [("base", base, []), ("mon", monitored, [monitor]), ("noop", base, [_NoOp()])]
        times = {}
        for name, model, callbacks in order if i % 2 == 0 else order[::-1]:
            times[name] = _fit(model, x, y, args.epochs, callbacks)
        base_times.append(times["base"])
        mon_times.append(times["mon"])
        noop_times.append(times["noop"])
        ratios.append(times["mon"] / times["base"])
    n_probes = int(np.sum(monitor.history["probe_epoch"] >= 0)) - 6
    print(
        f"LSTM U={U} T={T} D={D}, {N} samples, batch {BATCH} ({N * 9 // 10 // BATCH + 1} "
        f"batches/epoch), {args.epochs} epochs per fit, every_n_batches="
        f"{monitor.every_n_batches}, gradients on, {n_probes / args.pairs:.1f} probes per fit"
    )
    print(f"fit without monitor: median {np.median(base_times):.3f} s over {args.pairs} fits")
    print(f"fit with monitor:    median {np.median(mon_times):.3f} s over {args.pairs} fits")
    print(f"fit with a no-op batch callback: median {np.median(noop_times):.3f} s")
    print(
        f"monitor's own time in its hooks: {monitor.spent / args.pairs * 1e3:.0f} ms per fit = "
        f"{monitor.spent / sum(mon_times):.1%} of the monitored fits"
    )
    print(f"one warm probe (capture with gradients + stats): {probe_ms:.1f} ms")
    print(f"one-time cost (first probe: sub-model + gradient tracing): {first_probe:.2f} s")
    print(
        f"ratio with ÷ without (steady state): median {np.median(ratios):.3f}, "
        f"min {min(ratios):.3f}, max {max(ratios):.3f} (goal ≤ 1.05)"
    )
    print(f"monitor errors: {monitor.errors or 'none'}")
    ratio = float(np.median(ratios)) if ratios and not monitor.errors else None
    rows = [
        headline("fit with monitor ÷ without (median)", [ratio], 1.05, unit="", digits=3),
        headline("monitor one-time cost (first probe)", [first_probe], None, unit=" s"),
    ]
    for row in rows:
        print(emit(row))
    return 0 if all(r.complete for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
