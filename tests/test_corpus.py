"""Corpus analysis (unit_stats, match, top_activations) against brute-force Python on a small
capture, in memory, on its zarr store (dask), and on a dask.distributed LocalCluster."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstmviz_widget import analysis
from lstmviz_widget.analysis import corpus
from lstmviz_widget.analysis.health import dead_units, gate_saturation
from lstmviz_widget.data import Capture, LayerCapture
from lstmviz_widget.store import reader
from lstmviz_widget.store.writer import StoreWriter

B, T, U = 30, 40, 12
THR = 0.3


def _capture(b0: int = 0, b1: int = B) -> Capture:
    """Smooth random states (runs of 'on' steps), ragged lengths, LSTM gates, tokens."""
    rng = np.random.default_rng(7)
    raw = rng.normal(size=(B, T + 6, U)).cumsum(1)
    h = np.tanh(0.4 * (raw[:, 6:] - raw[:, :-6])).astype(np.float32)
    h[:, :, 11] = 0.0  # a dead unit
    lengths = rng.integers(5, T + 1, size=B)
    lengths[0] = T
    mask = np.arange(T)[None] < lengths[:, None]
    gates = {
        g: (1 / (1 + np.exp(-3 * rng.normal(size=(B, T, U))))).astype(np.float32)
        for g in ("input", "forget", "output")
    }
    gates["cell"] = np.tanh(2 * rng.normal(size=(B, T, U))).astype(np.float32)
    tokens = [[f"{b}:{t}" if t < lengths[b] else "" for t in range(T)] for b in range(B)]
    sl = slice(b0, b1)
    lc = LayerCapture(
        name="lstm",
        kind="LSTM",
        h=h[sl],
        c=(2 * h[sl]).astype(np.float32),
        inputs=np.zeros((b1 - b0, T, 1), np.float32),
        fidelity=0.0,
        gates={g: gates[g][sl] for g in ("input", "forget", "cell", "output")},
        mask=mask[sl],
    )
    return Capture(layers={"lstm": lc}, lengths=lengths[sl], tokens=tokens[sl], model_name="syn")


@pytest.fixture(scope="module")
def mem() -> Capture:
    return _capture()


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Capture:
    path = tmp_path_factory.mktemp("corpus") / "c.zarr"
    with StoreWriter(path) as w:
        for s in range(0, B, 10):
            w.append(_capture(s, min(s + 10, B)))
        w.finish()
    saved = reader.BLOCK_BYTES
    reader.BLOCK_BYTES = 1  # one dask block per zarr chunk of samples: several blocks
    try:
        cap = Capture.open(path)
    finally:
        reader.BLOCK_BYTES = saved
    assert cap["lstm"].h.numblocks[0] == 3
    return cap


# -- brute force, one step at a time ------------------------------------------------------------
def brute_match(cap, units, thr, *, min_length=2, k=20, left=False, right=False, exclude=None):
    lc = cap["lstm"]
    h, valid = np.asarray(lc.h), np.asarray(lc.mask)
    S = set(units)

    def on(b, t, u):
        return 0 <= t < T and bool(valid[b, t]) and float(h[b, t, u]) > thr

    cands = set()
    for need in range(len(S), 0, -1):
        for b in range(B):
            t = 0
            while t < T:
                if sum(on(b, t, u) for u in S) >= need:
                    s = t
                    while t < T and sum(on(b, t, u) for u in S) >= need:
                        t += 1
                    if t - s >= min_length:
                        cands.add((b, s, t))
                else:
                    t += 1
    rows = []
    for b, s, e in cands:
        if exclude and b == exclude[0] and s < exclude[2] and e > exclude[1]:
            continue
        A = {
            u
            for u in range(U)
            if all(on(b, t, u) for t in range(s, e))
            and not (left and on(b, s - 1, u))
            and not (right and on(b, e, u))
        }
        rows.append((-len(A & S), len(A | S), -(e - s), b, s, e))
    rows.sort()
    return [(b, s, e, -i, n) for i, n, _, b, s, e in rows[:k]]


def brute_top(cap, unit, k, width, largest=True):
    lc = cap["lstm"]
    h, valid = np.asarray(lc.h, np.float64), np.asarray(lc.mask)
    sign = 1 if largest else -1
    wins = []
    for b in range(B):
        for s in range(T - width + 1):
            if all(valid[b, s : s + width]):
                wins.append((-sign * float(np.mean(h[b, s : s + width, unit])), b, s))
    wins.sort()
    picked, out = {}, []
    for v, b, s in wins:
        if any(abs(s - p) < width for p in picked.get(b, [])):
            continue
        picked.setdefault(b, []).append(s)
        out.append((b, s, -sign * v))
        if len(out) == k:
            break
    return out


def _rows(matches):
    return [(m.sample, m.t0, m.t1, m.n_selected, m.n_union) for m in matches]


# -- the tests ------------------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["mem", "stored"])
def test_match_equals_brute_force(source, request, monkeypatch):
    cap = request.getfixturevalue(source)
    monkeypatch.setattr(corpus, "BLOCK_ELEMENTS", 7 * T * U)  # several numpy blocks too
    units = [0, 3, 5]
    got = analysis.match(cap, units, threshold=THR, k=15)
    assert _rows(got) == brute_match(cap, units, THR, k=15)
    assert got[0].n_selected == 3  # the corpus has windows with all three on
    assert got[0].score == pytest.approx(got[0].n_selected / got[0].n_union)
    assert got[0].tokens == [f"{got[0].sample}:{t}" for t in range(got[0].t0, got[0].t1)]
    constrained = analysis.match(
        cap, units, threshold=THR, k=10, constrain_left=True, constrain_right=True, min_length=3
    )
    assert _rows(constrained) == brute_match(
        cap, units, THR, k=10, left=True, right=True, min_length=3
    )


@pytest.mark.parametrize("source", ["mem", "stored"])
def test_match_from_a_brushed_range(source, request):
    cap = request.getfixturevalue(source)
    h = np.asarray(cap["lstm"].h)
    # a range where some units are on throughout
    b, t0, t1 = next(
        (b, t, t + 3)
        for b, t in itertools.product(range(B), range(T - 3))
        if (h[b, t : t + 3] > THR).all(0).sum() >= 2 and t + 3 <= cap.lengths[b]
    )
    sel = analysis.active_units(cap, b, t0, t1, threshold=THR)
    assert list(sel) == [u for u in range(U) if (h[b, t0:t1, u] > THR).all()]
    got = analysis.match(cap, threshold=THR, sample=b, t0=t0, t1=t1, k=12)
    assert _rows(got) == brute_match(cap, list(sel), THR, k=12, exclude=(b, t0, t1))
    assert all(not (m.sample == b and m.t0 < t1 and m.t1 > t0) for m in got)


@pytest.mark.parametrize("source", ["mem", "stored"])
@pytest.mark.parametrize(("unit", "width", "largest"), [(2, 1, True), (4, 5, True), (7, 3, False)])
def test_top_activations_equal_brute_force(source, unit, width, largest, request, monkeypatch):
    cap = request.getfixturevalue(source)
    monkeypatch.setattr(corpus, "BLOCK_ELEMENTS", 4 * T)
    got = analysis.top_activations(cap, unit, k=9, width=width, largest=largest)
    want = brute_top(cap, unit, 9, width, largest)
    assert [(a.sample, a.t0) for a in got] == [(b, s) for b, s, _ in want]
    np.testing.assert_allclose([a.value for a in got], [v for *_, v in want], rtol=1e-12)
    assert got[0].tokens == [f"{got[0].sample}:{t}" for t in range(got[0].t0, got[0].t1)]


@pytest.mark.parametrize("source", ["mem", "stored"])
def test_unit_stats_equal_numpy_and_health(source, request, mem):
    cap = request.getfixturevalue(source)
    st = analysis.unit_stats(cap)
    lc = mem["lstm"]
    m = lc.mask
    x = lc.h[m].astype(np.float64)  # (n_valid, U)
    assert st.n_valid == int(m.sum())
    np.testing.assert_allclose(st.mean, x.mean(0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(st.variance, x.var(0), rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(st.max, x.max(0))
    sat = gate_saturation(lc)
    for g, s in sat.items():
        np.testing.assert_allclose(st.saturation[g], s.saturated, rtol=1e-12)
        np.testing.assert_allclose(st.saturation_low[g], s.low, rtol=1e-12)
    np.testing.assert_array_equal(st.dead, dead_units(lc).dead)
    assert list(st.dead_units) == [11]


def test_same_numbers_on_a_distributed_cluster(stored, mem):
    from dask.distributed import Client, LocalCluster, get_task_stream

    def run():
        return (
            _rows(analysis.match(stored, [1, 2, 6], threshold=THR, k=10)),
            [(a.sample, a.t0, a.value) for a in analysis.top_activations(stored, 3, k=5, width=2)],
            analysis.unit_stats(stored).variance,
        )

    local = run()
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as lc,
        Client(lc) as client,
        get_task_stream(client) as stream,
    ):
        remote = run()
    assert len(stream.data) >= 3 * 3  # every block of every analysis ran on the workers
    assert remote[0] == local[0] == brute_match(mem, [1, 2, 6], THR, k=10)
    assert remote[1] == local[1]
    np.testing.assert_array_equal(remote[2], local[2])


def test_bad_arguments(mem):
    with pytest.raises(ValueError, match="units must be"):
        analysis.match(mem, [99])
    with pytest.raises(ValueError, match="pass units"):
        analysis.match(mem)
    with pytest.raises(ValueError, match="quantity"):
        analysis.match(mem, [1], quantity="q")
    with pytest.raises(ValueError, match="unit must be"):
        analysis.top_activations(mem, 12)
    with pytest.raises(ValueError, match="lower the threshold"):
        analysis.match(mem, threshold=5.0, sample=0, t0=0, t1=3)
