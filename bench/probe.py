"""Probe benchmark: capture cost against Keras's own inference, and peak memory.

Each grid cell runs in a fresh subprocess so peak memory is its own. Prints, per cell:
- capture ÷ predict: warm ``capture`` time ÷ the faster of ``model.predict`` and
  ``model.predict_on_batch`` on the same batch (goal ≤ 1.5×);
- naive ÷ capture: a Python loop of ``LSTMCell`` calls (what users write today, recording only
  h and c) ÷ capture time; measured up to T=1000, slower cells are skipped;
- peak ÷ captured: peak RSS growth during capture ÷ bytes of the arrays it returns (goal ≤ 2×);
- grad ÷ predict: warm ``capture(..., gradients=True)`` (states, gates and every gradient)
  ÷ the same predict baseline (goal ≤ 3×).

Usage: ``python bench/probe.py [--quick] [--units 128 512] [--steps 100 1000 10000]
[--batch 1 32]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

GRID = {"units": [128, 512], "steps": [100, 1000, 10000], "batch": [1, 32]}
NAIVE_MAX_STEPS = 1000
#: Gradient capture is timed up to this many B·T·U elements (beyond it one run takes many
#: minutes on a 2-core CPU; the row says "skipped").
GRAD_MAX_ELEMENTS = 10000 * 32 * 128
FEATURES = 32


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run_cell(units: int, steps: int, batch: int) -> dict:
    """One grid cell, in this process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from lstmviz_widget import capture

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((None, FEATURES)), keras.layers.LSTM(units), keras.layers.Dense(1)]
    )
    x = np.random.default_rng(0).normal(size=(batch, steps, FEATURES)).astype(np.float32)
    repeats = 3 if steps * batch * units <= 1000 * 32 * 128 else 1
    # warm both paths (tracing) before timing
    model.predict(x, verbose=0, batch_size=batch)
    model.predict_on_batch(x)
    t_predict = _best(lambda: model.predict(x, verbose=0, batch_size=batch), repeats)
    t_pob = _best(lambda: model.predict_on_batch(x), repeats)
    t0 = time.perf_counter()
    capture(model, x[:, : min(steps, 10)])  # builds the sub-model and traces it
    t_first = time.perf_counter() - t0
    # peak RSS during the timed capture (reset the high-water mark first)
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = _rss_kib("VmRSS")
    times = []
    cap = None
    for _ in range(repeats):
        cap = None
        t0 = time.perf_counter()
        cap = capture(model, x)
        times.append(time.perf_counter() - t0)
    peak = _rss_kib("VmHWM") - base
    lc = cap[cap.layer_names[0]]
    captured = sum(a.nbytes for a in [lc.h, lc.c, lc.inputs, *lc.gates.values()])
    y = np.zeros((batch, 1), np.float32)
    t_grad = None
    if batch * steps * units <= GRAD_MAX_ELEMENTS:
        capture(model, x[:, : min(steps, 10)], y=y, gradients=True, loss="mse")  # trace
        t_grad = _best(lambda: capture(model, x, y=y, gradients=True, loss="mse"), repeats)
    naive = None
    if steps <= NAIVE_MAX_STEPS:
        cell = model.layers[0].cell

        def loop():
            h = np.zeros((batch, units), np.float32)
            c = np.zeros((batch, units), np.float32)
            hs, cs = [], []
            for t in range(steps):
                _, (h, c) = cell(x[:, t], [h, c])
                hs.append(h)
                cs.append(c)
            return np.stack(hs, 1), np.stack(cs, 1)

        naive = _best(loop, 1)
    t_capture = min(times)
    return {
        "units": units,
        "steps": steps,
        "batch": batch,
        "predict_s": t_predict,
        "predict_on_batch_s": t_pob,
        "capture_s": t_capture,
        "first_capture_s": t_first,
        "naive_s": naive,
        "grad_s": t_grad,
        "captured_bytes": captured,
        "peak_bytes": peak * 1024,
        "fidelity": lc.fidelity,
    }


def _fmt(row: dict) -> str:
    base = min(row["predict_s"], row["predict_on_batch_s"])
    naive = "skipped" if row["naive_s"] is None else f"{row['naive_s'] / row['capture_s']:.1f}x"
    grad = (
        "          skipped"
        if row["grad_s"] is None
        else f"{row['grad_s'] * 1e3:>9.1f} {row['grad_s'] / base:>6.2f}x"
    )
    return (
        f"{row['units']:>5} {row['steps']:>6} {row['batch']:>3} | {base * 1e3:>9.1f} "
        f"{row['capture_s'] * 1e3:>9.1f} {row['capture_s'] / base:>7.2f}x | {naive:>8} | "
        f"{row['captured_bytes'] / 2**20:>9.1f} {row['peak_bytes'] / 2**20:>9.1f} "
        f"{row['peak_bytes'] / row['captured_bytes']:>6.2f}x | {grad} | {row['fidelity']:.1e}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=GRID["units"])
    ap.add_argument("--steps", type=int, nargs="+", default=GRID["steps"])
    ap.add_argument("--batch", type=int, nargs="+", default=GRID["batch"])
    ap.add_argument("--quick", action="store_true", help="U=128, T≤1000 only")
    ap.add_argument("--cell", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cell:
        print(json.dumps(run_cell(*map(int, args.cell.split(",")))))
        return 0
    if args.quick:
        args.units, args.steps = [128], [s for s in args.steps if s <= 1000]
    print(f"# probe benchmark on {platform.node()}: {os.cpu_count()} cores, {platform.processor()}")
    print(
        "#  U      T   B |  best pred   capture   ratio |  naive/c "
        "| captured      peak  ratio |  gradients ratio | replay err"
    )
    print(
        "#               |       (ms)      (ms)         |          |    (MiB)     (MiB)        "
        "|       (ms)        |"
    )
    rows = []
    for units in args.units:
        for steps in args.steps:
            for batch in args.batch:
                done = subprocess.run(
                    [sys.executable, __file__, "--cell", f"{units},{steps},{batch}"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    print(
                        f"{units:>5} {steps:>6} {batch:>3} | failed: {done.stderr.strip()[-300:]}"
                    )
                    continue
                row = json.loads(done.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(_fmt(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
