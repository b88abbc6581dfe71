"""Analysis benchmark: time and peak extra memory of each analysis on one synthetic LSTM layer.

The layer is LSTM-like and self-consistent (c and h follow the recurrence from random gates,
h in (−1, 1), gates in (0, 1)), with a quarter of the samples post-padded and masked. Prints
one line per function: best wall time of ``--repeats`` runs in ms, and the peak memory it
allocated beyond its inputs (numpy allocations, via tracemalloc) in MB. BLAS-bound steps (pca,
correlation, clustering) are sensitive to other load on the machine; the load average and any
``*_NUM_THREADS`` settings are printed with the results.

Usage: ``python bench/analysis.py [--batch 32] [--steps 1000] [--units 512] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np

from lstmviz_widget import LayerCapture
from lstmviz_widget import analysis as an


def make_layer(batch: int, steps: int, units: int, seed: int = 0) -> LayerCapture:
    """A masked LSTM capture whose states follow the recurrence (one loop over time)."""
    rng = np.random.default_rng(seed)

    def gate(scale: float, offset: float = 0.0) -> np.ndarray:
        z = rng.standard_normal((batch, steps, units), dtype=np.float32)
        return 1 / (1 + np.exp(-(z * scale + offset)))

    i, f, o = gate(2.0), gate(2.0, 1.5), gate(2.0)
    g = np.tanh(rng.standard_normal((batch, steps, units), dtype=np.float32) * 2)
    lengths = np.full(batch, steps)
    lengths[: batch // 4] = rng.integers(steps // 2, steps, size=batch // 4)
    mask = an.mask_from_lengths(lengths, steps)
    c = np.empty_like(g)
    h = np.empty_like(g)
    c_prev = np.zeros((batch, units), np.float32)
    h_prev = np.zeros((batch, units), np.float32)
    for t in range(steps):
        m = mask[:, t, None]
        c_prev = np.where(m, f[:, t] * c_prev + i[:, t] * g[:, t], c_prev)
        h_prev = np.where(m, o[:, t] * np.tanh(c_prev), h_prev)
        c[:, t], h[:, t] = c_prev, h_prev
    gates = {"input": i, "forget": f, "cell": g, "output": o}
    inputs = np.zeros((batch, steps, 1), np.float32)
    return LayerCapture("lstm", "LSTM", h, inputs, 0.0, c=c, gates=gates, mask=mask)


def measure(fn, repeats: int) -> tuple[float, float]:
    """(best seconds, peak MB allocated during one call)."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        del result
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return best, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores "
        f"({usable} usable), Python {platform.python_version()}, numpy {np.__version__}"
    )
    threads = {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average: {load}; thread settings: {threads or 'library defaults'}")
    t0 = time.perf_counter()
    lc = make_layer(args.batch, args.steps, args.units)
    b, t, u = lc.h.shape
    print(
        f"data: B={b} T={t} U={u}, {lc.mask.mean():.0%} steps valid, "
        f"{lc.h.nbytes / 2**20:.0f} MB per array, built in {time.perf_counter() - t0:.1f} s"
    )

    mid = t // 2
    cases = {
        "pca(k=3)": lambda: an.pca(lc, 3),
        "gate_saturation": lambda: an.gate_saturation(lc),
        "dead_units": lambda: an.dead_units(lc),
        "state_collapse": lambda: an.state_collapse(lc),
        "health_report": lambda: an.health_report(lc),
        "running_retention": lambda: an.running_retention(lc),
        f"retention(start={mid})": lambda: an.retention(lc, mid),
        "memory_flow": lambda: an.memory_flow(lc),
        "drift": lambda: an.drift(lc),
        "drift(robust)": lambda: an.drift(lc, robust=True),
        "order_by_variance": lambda: an.order_by_variance(lc),
        f"order_by_activation(t={mid})": lambda: an.order_by_activation(lc, mid),
        f"order_by_range({mid - 50}, {mid + 50})": lambda: an.order_by_range(
            lc, mid - 50, mid + 50
        ),
        "correlation": lambda: an.correlation(lc),
        "order_by_clustering": lambda: an.order_by_clustering(lc, n_clusters=8),
    }
    width = max(len(name) for name in cases) + 2
    for name, fn in cases.items():
        seconds, peak = measure(fn, args.repeats)
        print(f"{name:<{width}}{seconds * 1e3:9.1f} ms   peak +{peak:6.0f} MB")
    try:
        seconds, peak = measure(lambda: an.embed(lc, "tsne", max_points=2000), 1)
        print(f"{'embed(tsne, 2000 pts)':<{width}}{seconds * 1e3:9.1f} ms   peak +{peak:6.0f} MB")
    except ImportError:
        print(f"{'embed(tsne)':<{width}}skipped: scikit-learn not installed")


if __name__ == "__main__":
    main()
