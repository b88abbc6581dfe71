"""Whole data sets: ``python bench/store.py [--quick] [--match-gb 2.1]``.

1. capture to a zarr store ÷ the same capture in memory (goal ≤ 1.2×): an Embedding → LSTM(128)
   → LSTM(128) model over 1024 sequences × 200 steps, batches of 64;
2. peak RSS (VmHWM) against the number of batches (goal: flat), each in a fresh process, and
   its growth over the peak once the model is built and one batch captured;
3. ``analysis.match`` over a synthetic store of ≥ 2 GB of h (float32, random walks through
   tanh) and over its first quarter and half: time, and how it scales with the store.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def _model(units: int = 128):
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(5000, 64)(inp)
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm1")(x)
    x = keras.layers.LSTM(units, return_sequences=True, name="lstm2")(x)
    return keras.Model(inp, keras.layers.Dense(2, activation="softmax")(x[:, -1]), name="bench")


def _ids(n: int, t: int) -> np.ndarray:
    return np.random.default_rng(n).integers(1, 5000, size=(n, t)).astype(np.int32)


def ratio(n: int, t: int, batch: int, work: Path) -> None:
    from lstmviz_widget import capture

    model = _model()
    x = _ids(n, t)
    capture(model, x[:batch], progress=False)  # build and trace once
    capture(model, x[:batch], store=work / "warm.zarr", progress=False)
    mem, sto, bat = [], [], []
    for rep in range(2):
        t0 = time.perf_counter()
        cap = capture(model, x)
        mem.append(time.perf_counter() - t0)
        nbytes = sum(a.nbytes for lc in cap for a in lc._arrays().values())
        del cap
        t0 = time.perf_counter()
        capture(model, x, batch_size=batch, progress=False)
        bat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        capture(model, x, store=work / f"r{rep}.zarr", batch_size=batch, progress=False)
        sto.append(time.perf_counter() - t0)
    stored = sum(f.stat().st_size for f in (work / "r0.zarr").rglob("*") if f.is_file())
    print(f"capture {n} × {t} steps, 2 × LSTM(128), batches of {batch} ({n // batch} batches)")
    print(f"  in memory, one call        {min(mem):7.2f} s   captured {nbytes / 2**20:7.1f} MiB")
    print(f"  in memory, batch by batch  {min(bat):7.2f} s")
    print(f"  to a zarr store            {min(sto):7.2f} s   on disk  {stored / 2**20:7.1f} MiB")
    r = min(sto) / min(mem)
    print(
        f"  store ÷ in memory          {r:7.2f}x   (goal ≤ 1.2x) {'ok' if r <= 1.2 else 'MISSED'}"
    )


CHILD = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
from store import _ids, _model
from lstmviz_widget import capture
model = _model()
x = _ids({n}, {t})
def hwm():  # peak RSS of this process image (ru_maxrss would carry the parent's over exec)
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmHWM:"))
capture(model, x[:{batch}], store={warm!r}, progress=False)
base = hwm()
capture(model, x, store={path!r}, batch_size={batch}, progress=False)
print(base, hwm())
"""


def rss(batches: list[int], t: int, batch: int, work: Path) -> None:
    print(f"peak RSS vs number of batches ({batch} × {t} steps each, fresh process each)")
    one = None
    for nb in batches:
        code = CHILD.format(
            root=str(ROOT), bench=str(ROOT / "bench"), n=nb * batch, t=t, batch=batch,
            warm=str(work / f"w{nb}.zarr"), path=str(work / f"p{nb}.zarr"),
        )  # fmt: skip
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-3000:])
            raise SystemExit(1)
        base, peak = (int(v) for v in out.stdout.split())
        growth = peak - base
        one = one or peak
        gb = nb * batch * t * 128 * 2 * 7 * 4 / 2**30
        print(
            f"  {nb:4d} batches ({gb:5.2f} GiB captured): peak RSS {peak / 2**20:7.0f} MiB, "
            f"({peak / one:4.2f}x of the first), above the warm model's "
            f"{growth / 2**20:5.0f} MiB"
        )


def _synthetic_store(path: Path, n: int, t: int, u: int, per: int) -> float:
    from lstmviz_widget.data import Capture, LayerCapture
    from lstmviz_widget.store.writer import StoreWriter

    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    with StoreWriter(path) as w:
        for _ in range(0, n, per):
            walk = rng.standard_normal((per, t, u), dtype=np.float32)
            np.cumsum(walk, axis=1, out=walk)
            walk *= 0.15
            np.tanh(walk, out=walk)
            lc = LayerCapture(name="lstm", kind="SimpleRNN", h=walk,
                              inputs=np.zeros((per, t, 1), np.float32), fidelity=0.0)  # fmt: skip
            w.append(Capture(layers={"lstm": lc}, lengths=np.full(per, t)))
            del walk, lc
        w.finish()
    return time.perf_counter() - t0


def match_bench(gb: float, work: Path) -> None:
    import dask

    from lstmviz_widget import Capture, analysis
    from lstmviz_widget.data import LayerCapture

    t, u, per = 1000, 128, 256
    n = int(np.ceil(gb * 2**30 / (t * u * 4) / per)) * per
    path = work / "big.zarr"
    took = _synthetic_store(path, n, t, u, per)
    disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    cap = Capture.open(path)
    h = cap["lstm"].h
    print(
        f"match over a store of h: {n} samples × {t} steps × {u} units = "
        f"{h.nbytes / 2**30:.2f} GiB float32 (written in {took:.0f} s, "
        f"{disk / 2**30:.2f} GiB on disk), "
        f"dask threads: {dask.config.get('num_workers', None) or os.cpu_count()}"
    )
    units = [3, 17, 40]
    times = {}
    for frac in (0.25, 0.5, 1.0):
        m = int(n * frac)
        part = Capture(
            layers={"lstm": LayerCapture(name="lstm", kind="SimpleRNN", h=h[:m],
                                         inputs=cap["lstm"].inputs[:m], fidelity=0.0)},
            lengths=cap.lengths[:m],
        )  # fmt: skip
        t0 = time.perf_counter()
        found = analysis.match(part, units, threshold=0.3, k=20)
        times[frac] = time.perf_counter() - t0
        best = found[0]
        print(
            f"  {frac:4.2f} of the store ({h[:m].nbytes / 2**30:5.2f} GiB): {times[frac]:6.1f} s, "
            f"{h[:m].nbytes / 2**20 / times[frac]:6.0f} MiB/s; best: sample {best.sample} "
            f"t {best.t0}–{best.t1 - 1} J={best.score:.2f}"
        )
    print(f"  scaling: full ÷ quarter = {times[1.0] / times[0.25]:.2f} (linear: 4.00)")
    t0 = time.perf_counter()
    top = analysis.top_activations(cap, 17, k=10, width=5)
    print(f"  top_activations(unit 17, k=10, width=5) over all: {time.perf_counter() - t0:.1f} s"
          f" (best {top[0].value:.3f})")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"  peak RSS of this process {peak / 2**20:.0f} MiB (store {h.nbytes / 2**20:.0f} MiB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small sizes (a minute)")
    ap.add_argument("--match-gb", type=float, default=2.1)
    ap.add_argument("--parts", default="ratio,rss,match", help="comma-separated subset")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    work = Path(tempfile.mkdtemp(prefix="lstmviz-bench-store-"))
    try:
        quick = args.quick
        if "ratio" in parts:
            ratio(*((256, 100) if quick else (1024, 200)), 64, work)
        if "rss" in parts:
            rss(*(([2, 8], 100) if quick else ([2, 8, 32], 200)), 64, work)
        if "match" in parts:
            match_bench(0.1 if quick else args.match_gb, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
