"""Probe benchmark: capture cost against Keras's own inference, and peak memory.

Every grid cell runs in two fresh subprocesses: one times, one measures memory (so no earlier
allocation hides in the other's figures). Prints, per cell:
- capture ÷ predict: ``capture`` time ÷ the faster of ``model.predict`` and
  ``model.predict_on_batch`` on the same batch (goal ≤ 1.5×);
- naive ÷ capture: a Python loop of ``LSTMCell`` calls (what users write today, recording only
  h and c) ÷ capture time; measured up to T=1000, slower cells are skipped;
- peak ÷ captured: the peak memory of one ``capture`` ÷ the bytes of the arrays it returns
  (goal ≤ 2×). Peak = the larger of the process's peak RSS (``VmHWM``, reset just before the
  capture) minus its RSS then, and the peak of ``tracemalloc`` (numpy's allocations are
  traced) during the capture; measured in a fresh process after imports, the model build and
  one 10-step capture (which builds and traces the sub-model);
- grad ÷ predict: ``capture(..., gradients=True)`` (states, gates and every gradient)
  ÷ the same predict baseline (goal ≤ 3×);
- keras bwd ÷ predict: Keras's own backward pass (a ``tf.GradientTape`` of the MSE loss
  through the same model, gradients of every weight, in a ``tf.function``) ÷ predict, for
  comparison with the gradient capture.

Every timing is the best of the same number of runs (3, or 1 on the largest cells), each path
warmed first on the full batch. A cell that fails prints "failed", makes every goal it covers
"NOT met" and the exit status 1.

Usage: ``python bench/probe.py [--quick] [--units 128 512] [--steps 100 1000 10000]
[--batch 1 32]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verdicts import emit, headline

GRID = {"units": [128, 512], "steps": [100, 1000, 10000], "batch": [1, 32]}
NAIVE_MAX_STEPS = 1000
#: Gradient capture is timed up to this many B·T·U elements (beyond it one run takes many
#: minutes on a 2-core CPU; the row says "skipped" and the goal covers only the cells below).
GRAD_MAX_ELEMENTS = 10000 * 32 * 128
FEATURES = 32
GOALS = {"capture": 1.5, "grad": 3.0, "peak": 2.0}


def _status_kib(field: str) -> int:
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


def repeats_for(units: int, steps: int, batch: int) -> int:
    return 3 if steps * batch * units <= 1000 * 32 * 128 else 1


def grad_in_scope(units: int, steps: int, batch: int) -> bool:
    return batch * steps * units <= GRAD_MAX_ELEMENTS


def _setup(units: int, steps: int, batch: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((None, FEATURES)), keras.layers.LSTM(units), keras.layers.Dense(1)]
    )
    x = np.random.default_rng(0).normal(size=(batch, steps, FEATURES)).astype(np.float32)
    return model, x


def _captured_bytes(cap) -> int:
    lc = cap[cap.layer_names[0]]
    return sum(a.nbytes for a in [lc.h, lc.c, lc.inputs, *lc.gates.values()])


def memory_cell(units: int, steps: int, batch: int) -> dict:
    """Peak memory of one capture, in this (fresh) process."""
    import tracemalloc

    from lstmviz_widget import capture

    model, x = _setup(units, steps, batch)
    capture(model, x[:, : min(steps, 10)])  # builds the sub-model and traces it
    gc.collect()
    with open("/proc/self/clear_refs", "w") as fh:  # VmHWM := VmRSS
        fh.write("5")
    base = _status_kib("VmRSS")
    tracemalloc.start()
    cap = capture(model, x)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = (_status_kib("VmHWM") - base) * 1024
    return {
        "captured_bytes": _captured_bytes(cap),
        "peak_rss_bytes": rss,
        "peak_traced_bytes": traced,
        "peak_bytes": max(rss, traced),
    }


def timing_cell(units: int, steps: int, batch: int) -> dict:
    """Every timing of one grid cell, in this process."""
    import numpy as np
    import tensorflow as tf

    from lstmviz_widget import capture

    model, x = _setup(units, steps, batch)
    repeats = repeats_for(units, steps, batch)
    model.predict(x, verbose=0, batch_size=batch)  # warm both paths (tracing) before timing
    model.predict_on_batch(x)
    t_predict = _best(lambda: model.predict(x, verbose=0, batch_size=batch), repeats)
    t_pob = _best(lambda: model.predict_on_batch(x), repeats)
    t0 = time.perf_counter()
    capture(model, x[:, : min(steps, 10)])  # builds the sub-model and traces it
    t_first = time.perf_counter() - t0
    cap = capture(model, x)  # warm on the full batch, like predict
    t_capture = _best(lambda: capture(model, x), repeats)
    fidelity = cap[cap.layer_names[0]].fidelity
    y = np.zeros((batch, 1), np.float32)
    t_grad = t_keras_bwd = None
    if grad_in_scope(units, steps, batch):
        capture(model, x, y=y, gradients=True, loss="mse")  # trace + warm
        t_grad = _best(lambda: capture(model, x, y=y, gradients=True, loss="mse"), repeats)

        @tf.function(reduce_retracing=True)
        def keras_backward(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(model(xb, training=False) - yb))
            return tape.gradient(loss, model.trainable_variables)

        xt, yt = tf.constant(x), tf.constant(y)
        keras_backward(xt, yt)  # trace + warm
        t_keras_bwd = _best(lambda: [g.numpy() for g in keras_backward(xt, yt)], repeats)
    naive = None
    if steps <= NAIVE_MAX_STEPS:
        cell = model.layers[0].cell

        def loop(n=steps):
            h = np.zeros((batch, units), np.float32)
            c = np.zeros((batch, units), np.float32)
            hs, cs = [], []
            for t in range(n):
                _, (h, c) = cell(x[:, t], [h, c])
                hs.append(h)
                cs.append(c)
            return np.stack(hs, 1), np.stack(cs, 1)

        loop(min(steps, 10))  # warm
        naive = _best(loop, repeats)
    return {
        "repeats": repeats,
        "predict_s": t_predict,
        "predict_on_batch_s": t_pob,
        "capture_s": t_capture,
        "first_capture_s": t_first,
        "naive_s": naive,
        "grad_s": t_grad,
        "keras_backward_s": t_keras_bwd,
        "fidelity": fidelity,
    }


def ratios(row: dict) -> dict:
    """The headline ratios of one cell's row (None for what was not measured)."""
    out = {"capture": None, "grad": None, "peak": None, "naive": None, "keras_bwd": None}
    if "predict_s" in row:
        base = min(row["predict_s"], row["predict_on_batch_s"])
        out["capture"] = row["capture_s"] / base
        if row.get("grad_s") is not None:
            out["grad"] = row["grad_s"] / base
        if row.get("keras_backward_s") is not None:
            out["keras_bwd"] = row["keras_backward_s"] / base
        if row.get("naive_s") is not None:
            out["naive"] = row["naive_s"] / row["capture_s"]
    if row.get("peak_bytes") is not None and row.get("captured_bytes"):
        out["peak"] = row["peak_bytes"] / row["captured_bytes"]
    return out


def _fmt(row: dict) -> str:
    r = ratios(row)
    base = min(row["predict_s"], row["predict_on_batch_s"])
    naive = "skipped" if r["naive"] is None else f"{r['naive']:.1f}x"
    grad = (
        f"{'skipped':>17}"
        if row["grad_s"] is None
        else f"{row['grad_s'] * 1e3:>9.1f} {r['grad']:>6.2f}x"
    )
    kb = f"{'skipped':>8}" if r["keras_bwd"] is None else f"{r['keras_bwd']:>7.2f}x"
    return (
        f"{row['units']:>5} {row['steps']:>6} {row['batch']:>3} | {base * 1e3:>9.1f} "
        f"{row['capture_s'] * 1e3:>9.1f} {r['capture']:>7.2f}x | {naive:>8} | "
        f"{row['captured_bytes'] / 2**20:>9.1f} {row['peak_bytes'] / 2**20:>9.1f} "
        f"{r['peak']:>6.2f}x | {grad} | {kb} | {row['fidelity']:.1e}"
    )


def summary_rows(cells: list[tuple[int, int, int]], rows: dict) -> list:
    """The headline rows over the grid; a cell missing from ``rows`` counts as not measured."""
    per = {cell: ratios(rows[cell]) if cell in rows else {} for cell in cells}
    in_scope = [c for c in cells if grad_in_scope(*c)]
    return [
        headline(
            "capture ÷ faster of predict/predict_on_batch (grid)",
            [per[c].get("capture") for c in cells],
            GOALS["capture"],
        ),
        headline(
            f"gradient capture ÷ predict ({len(in_scope)} cells ≤ {GRAD_MAX_ELEMENTS:,} B·T·U)",
            [per[c].get("grad") for c in in_scope],
            GOALS["grad"],
        ),
        headline(
            "Keras's own backward (GradientTape) ÷ predict (same cells)",
            [per[c].get("keras_bwd") for c in in_scope],
            None,
        ),
        headline(
            "peak memory ÷ captured bytes (grid)",
            [per[c].get("peak") for c in cells],
            GOALS["peak"],
        ),
    ]


def _subprocess(what: str, cell: tuple[int, int, int]) -> tuple[dict | None, str]:
    done = subprocess.run(
        [sys.executable, __file__, f"--{what}", ",".join(map(str, cell))],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        return None, f"{what}: {done.stderr.strip()[-300:] or f'exit {done.returncode}'}"
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, f"{what}: no result line in its output"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=GRID["units"])
    ap.add_argument("--steps", type=int, nargs="+", default=GRID["steps"])
    ap.add_argument("--batch", type=int, nargs="+", default=GRID["batch"])
    ap.add_argument("--quick", action="store_true", help="U=128, T≤1000 only")
    ap.add_argument("--timing", help=argparse.SUPPRESS)
    ap.add_argument("--memory", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.timing:
        print(json.dumps(timing_cell(*map(int, args.timing.split(",")))))
        return 0
    if args.memory:
        print(json.dumps(memory_cell(*map(int, args.memory.split(",")))))
        return 0
    if args.quick:
        args.units, args.steps = [128], [s for s in args.steps if s <= 1000]
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"# probe benchmark on {platform.node()}: {os.cpu_count()} cores; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load}"
    )
    print(
        "#  U      T   B |  best pred   capture   ratio |  naive/c "
        "| captured      peak  ratio |  gradients ratio | keras bwd | replay err"
    )
    print(
        "#               |       (ms)      (ms)         |          |    (MiB)     (MiB)        "
        "|       (ms)        |  ÷ pred   |"
    )
    cells = [(u, t, b) for u in args.units for t in args.steps for b in args.batch]
    rows: dict = {}
    status = 0
    for cell in cells:
        timing, why_t = _subprocess("timing", cell)
        memory, why_m = _subprocess("memory", cell) if timing is not None else (None, "")
        if timing is None or memory is None:
            status = 1
            u, t, b = cell
            print(f"{u:>5} {t:>6} {b:>3} | failed: {why_t or why_m}", flush=True)
            continue
        rows[cell] = {"units": cell[0], "steps": cell[1], "batch": cell[2], **timing, **memory}
        print(_fmt(rows[cell]), flush=True)
    print(f"# load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for row in summary_rows(cells, rows):
        print(emit(row))
        status |= 0 if row.complete else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
