"""analysis/: every result against an independent computation on synthetic captures (no Keras)."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
import types

import numpy as np
import pytest

from lstmviz_widget import LayerCapture
from lstmviz_widget.analysis import (
    _common,
    correlation,
    dead_units,
    drift,
    embed,
    gate_saturation,
    gru_memory_flow,
    health_report,
    lstm_memory_flow,
    mask_from_lengths,
    memory_flow,
    order_by_activation,
    order_by_clustering,
    order_by_range,
    order_by_variance,
    pca,
    retention,
    running_retention,
    state_collapse,
    step_distance,
    unit_order,
)

from .conftest import ROOT


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _mask(b, t, rng):
    """Post-padding on some samples plus a few masked steps in the middle."""
    lengths = rng.integers(t // 2, t + 1, size=b)
    lengths[0] = t
    mask = mask_from_lengths(lengths, t)
    mask[1, 2] = False
    return mask


def make_lstm(b=3, t=9, u=5, mask=None, seed=0, c0=None):
    """An LSTM-shaped capture whose c and h follow the recurrence, step by step."""
    rng = np.random.default_rng(seed)
    i, f, o = (_sigmoid(rng.normal(size=(b, t, u)) * 2).astype(np.float32) for _ in range(3))
    g = np.tanh(rng.normal(size=(b, t, u)) * 2).astype(np.float32)
    c = np.zeros((b, t, u), np.float32)
    h = np.zeros((b, t, u), np.float32)
    c_prev = np.zeros((b, u), np.float32) if c0 is None else np.asarray(c0, np.float32)
    h_prev = np.zeros((b, u), np.float32)
    for s in range(t):
        step = np.ones(b, bool) if mask is None else mask[:, s]
        c_new = f[:, s] * c_prev + i[:, s] * g[:, s]
        h_new = o[:, s] * np.tanh(c_new)
        c_prev = np.where(step[:, None], c_new, c_prev)
        h_prev = np.where(step[:, None], h_new, h_prev)
        c[:, s], h[:, s] = c_prev, h_prev
    gates = {"input": i, "forget": f, "cell": g, "output": o}
    return LayerCapture(
        "lstm", "LSTM", h, np.zeros((b, t, 1), np.float32), 0.0, c=c, gates=gates, mask=mask
    )


def make_gru(b=3, t=9, u=4, mask=None, seed=1):
    """A GRU-shaped capture following Keras's h_t = z h_{t-1} + (1 - z) h̃."""
    rng = np.random.default_rng(seed)
    z, r = (_sigmoid(rng.normal(size=(b, t, u))).astype(np.float32) for _ in range(2))
    cand = np.tanh(rng.normal(size=(b, t, u))).astype(np.float32)
    h = np.zeros((b, t, u), np.float32)
    prev = np.zeros((b, u), np.float32)
    for s in range(t):
        step = np.ones(b, bool) if mask is None else mask[:, s]
        new = z[:, s] * prev + (1 - z[:, s]) * cand[:, s]
        prev = np.where(step[:, None], new, prev)
        h[:, s] = prev
    gates = {"update": z, "reset": r, "candidate": cand}
    return LayerCapture(
        "gru", "GRU", h, np.zeros((b, t, 1), np.float32), 0.0, gates=gates, mask=mask
    )


@pytest.fixture
def small_chunks(monkeypatch):
    """Pool in chunks of a couple of samples so chunk boundaries are exercised."""
    monkeypatch.setattr(_common, "CHUNK_ELEMENTS", 50)


# -- import hygiene -------------------------------------------------------------------------


def test_analysis_imports_without_keras_or_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        class Block(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("keras", "tensorflow", "tf_keras", "jax", "torch"):
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        try:
            import keras  # noqa: F401
        except ImportError:
            pass
        else:
            raise SystemExit("the blocker does not work")
        import numpy as np
        import lstmviz_widget.analysis as A

        h = np.tanh(np.random.default_rng(0).normal(size=(2, 6, 4))).astype("float32")
        A.pca(h, 2); A.order_by_clustering(h); A.drift(h); A.state_collapse(h)
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow"))
        assert not bad, bad
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_mask_from_lengths():
    m = mask_from_lengths([3, 0, 5], 5)
    expected = np.array([[j < n for j in range(5)] for n in (3, 0, 5)])
    np.testing.assert_array_equal(m, expected)


# -- PCA ------------------------------------------------------------------------------------


def _pooled_rows_by_loop(x, mask):
    return np.array(
        [
            x[b, t]
            for b in range(x.shape[0])
            for t in range(x.shape[1])
            if mask is None or mask[b, t]
        ],
        dtype=np.float64,
    )


@pytest.mark.parametrize(("b", "t", "u"), [(4, 12, 5), (2, 5, 16)])  # N ≥ U and N < U paths
def test_pca_matches_svd_and_cov(b, t, u, small_chunks):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(b, t, u)) * np.linspace(3, 0.5, u) + rng.normal(size=u)
    mask = _mask(b, t, rng)
    x[~mask] = 1e3  # masked steps must not influence the fit
    rows = _pooled_rows_by_loop(x, mask)
    n = len(rows)
    k = 3
    res = pca(x, k, mask=mask)

    centred = rows - rows.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(res.mean, rows.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(res.explained_variance, s[:k] ** 2 / (n - 1), rtol=1e-8)
    cov_eig = np.sort(np.linalg.eigvalsh(np.cov(rows, rowvar=False)))[::-1]
    np.testing.assert_allclose(res.explained_variance, cov_eig[:k], rtol=1e-8)
    np.testing.assert_allclose(res.explained_variance_ratio, cov_eig[:k] / cov_eig.sum(), rtol=1e-8)
    # same axes up to sign, then the sign convention: largest |loading| positive
    for j in range(k):
        assert abs(abs(res.components[j] @ vt[j]) - 1) < 1e-8
        assert res.components[j][np.argmax(np.abs(res.components[j]))] > 0
    assert res.n_fitted == n
    # every step projected, masked ones too
    expected = (x - rows.mean(axis=0)) @ res.components.T
    np.testing.assert_allclose(res.projection, expected, rtol=1e-4, atol=1e-2)
    valid_err = np.abs(res.projection[mask] - expected[mask]).max()
    assert valid_err < 1e-4
    np.testing.assert_allclose(res.transform(x[0]), res.projection[0], rtol=1e-6)


def test_pca_full_rank_reconstructs_states():
    lc = make_lstm(b=3, t=10, u=4, mask=_mask(3, 10, np.random.default_rng(1)))
    res = pca(lc, 4)
    back = res.projection.astype(np.float64) @ res.components + res.mean
    np.testing.assert_allclose(back, lc.h, atol=1e-5)
    np.testing.assert_allclose(res.explained_variance_ratio.sum(), 1.0, rtol=1e-9)
    np.testing.assert_allclose(res.components @ res.components.T, np.eye(4), atol=1e-10)
    assert pca(lc, 2, state="c").mean.shape == (4,)


def test_pca_rejects_bad_k():
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    with pytest.raises(ValueError, match="k must be"):
        pca(x, 5)
    one_step = np.zeros((2, 3), bool)
    one_step[0, 0] = True
    with pytest.raises(ValueError, match="at least 2"):
        pca(x, 1, mask=one_step)


# -- embed (optional packages) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "module", "package"),
    [
        ("tsne", "sklearn", "scikit-learn"),
        ("umap", "umap", "umap-learn"),
    ],
)
def test_embed_missing_package_names_the_extra(monkeypatch, method, module, package):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=r"lstmviz-widget\[embed\]") as err:
        embed(np.zeros((1, 3, 2)), method)
    assert package in str(err.value)


def test_embed_uses_valid_steps_and_leaves_masked_nan(monkeypatch):
    seen = {}

    class FakeTSNE:
        def __init__(self, n_components, random_state, **kwargs):
            seen["init"] = (n_components, random_state, kwargs)

        def fit_transform(self, points):
            seen["points"] = points.copy()
            return points[:, :2] * 10

    sk = types.ModuleType("sklearn")
    manifold = types.ModuleType("sklearn.manifold")
    manifold.TSNE = FakeTSNE
    sk.manifold = manifold
    monkeypatch.setitem(sys.modules, "sklearn", sk)
    monkeypatch.setitem(sys.modules, "sklearn.manifold", manifold)

    x = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    mask = np.array([[1, 1, 0, 1], [1, 0, 0, 0]], bool)
    out = embed(x, "tsne", mask=mask, pca_components=None, perplexity=2)
    assert seen["init"] == (2, 0, {"perplexity": 2})
    np.testing.assert_array_equal(seen["points"], x[mask])
    np.testing.assert_array_equal(out[mask], x[mask][:, :2] * 10)
    assert np.isnan(out[~mask]).all()

    out = embed(x, "tsne", mask=mask, pca_components=None, max_points=2)
    assert np.isfinite(out[..., 0]).sum() == 2
    with pytest.raises(ValueError, match="method"):
        embed(x, "pca")


# -- health ---------------------------------------------------------------------------------


def test_gate_saturation_matches_brute_force_count():
    rng = np.random.default_rng(5)
    b, t, u = 2, 5, 3
    sig = rng.choice([0.01, 0.03, 0.5, 0.96, 0.99, 0.2], size=(b, t, u)).astype(np.float32)
    tanh = rng.choice([-0.99, -0.5, 0.0, 0.97, 0.3], size=(b, t, u)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    res = gate_saturation({"forget": sig, "cell": tanh}, mask=mask)

    def count(arr, pred):
        out = []
        for j in range(u):
            hits = [pred(float(arr[i, s, j])) for i in range(b) for s in range(t) if mask[i, s]]
            out.append(sum(hits) / len(hits))
        return np.array(out)

    f, c = res["forget"], res["cell"]
    assert (f.kind, c.kind) == ("sigmoid", "tanh")
    np.testing.assert_allclose(f.low, count(sig, lambda v: v < 0.05))
    np.testing.assert_allclose(f.high, count(sig, lambda v: v > 0.95))
    np.testing.assert_allclose(f.saturated, count(sig, lambda v: v < 0.05 or v > 0.95))
    np.testing.assert_allclose(c.saturated, count(tanh, lambda v: abs(v) > 0.95))
    np.testing.assert_allclose(c.low, count(tanh, lambda v: v < -0.95))
    assert f.n_valid == mask.sum()
    # a LayerCapture gives the same with its own mask
    lc = make_lstm(b, t, u, mask=mask)
    lc.gates["forget"] = sig
    np.testing.assert_allclose(gate_saturation(lc)["forget"].saturated, f.saturated)
    everything = gate_saturation({"forget": sig})["forget"]  # no mask: every step counts
    np.testing.assert_allclose(everything.low, (sig < 0.05).mean(axis=(0, 1)))
    assert everything.n_valid == b * t


def test_dead_units_ignore_masked_steps():
    rng = np.random.default_rng(2)
    b, t, u = 3, 6, 4
    h = rng.uniform(-0.9, 0.9, size=(b, t, u)).astype(np.float32)
    mask = np.ones((b, t), bool)
    mask[:, 4:] = False
    h[:, :, 0] = 1e-4  # quiet
    h[:, :, 1] = 0.5  # frozen at a non-zero value
    h[:, :4, 2] = 0.0  # silent on every valid step, loud only where masked
    h[:, 4:, 2] = 0.8
    res = dead_units(h, mask=mask)
    np.testing.assert_array_equal(res.dead, [True, True, True, False])
    np.testing.assert_array_equal(res.quiet, [True, False, True, False])
    np.testing.assert_array_equal(res.frozen, [True, True, True, False])
    np.testing.assert_array_equal(res.indices, [0, 1, 2])
    np.testing.assert_allclose(res.max_abs[3], np.abs(h[:, :4, 3]).max())
    np.testing.assert_allclose(res.span[3], np.ptp(h[:, :4, 3]))
    assert "3/4 units dead" in res.findings[0]
    assert not dead_units(h).dead[2]  # counting the masked steps it would be alive


def test_state_collapse_variance_per_sample(small_chunks):
    rng = np.random.default_rng(4)
    b, t, u = 4, 7, 3
    h = rng.normal(size=(b, t, u))
    mask = _mask(b, t, rng)
    mask[3] = False  # a sample with no valid step
    res = state_collapse(h, mask=mask)
    for i, j in itertools.product(range(b), range(u)):
        vals = [h[i, s, j] for s in range(t) if mask[i, s]]
        if vals:
            assert res.variance[i, j] == pytest.approx(np.var(vals), rel=1e-10)
        else:
            assert np.isnan(res.variance[i, j])
    assert res.mean_variance == pytest.approx(np.nanmean(res.variance))
    assert not res.collapsed
    assert not res.findings
    np.testing.assert_allclose(state_collapse(h).variance, h.var(axis=1), rtol=1e-10)

    flat = np.broadcast_to(rng.normal(size=(b, 1, u)), (b, t, u)) + 1e-4 * rng.normal(
        size=(b, t, u)
    )
    res = state_collapse(flat)
    assert res.collapsed
    assert "collapsed" in res.findings[0]


def test_health_report_collects_findings():
    lc = make_lstm(b=2, t=8, u=6)
    lc.gates["forget"][..., :2] = 0.999  # two units always open
    lc.h[..., 5] = 0.0
    rep = health_report(lc)
    assert any("forget gate: 2/6 units" in s and "units 0, 1" in s for s in rep.findings)
    assert any("1/6 units dead" in s and "unit 5" in s for s in rep.findings)
    assert set(rep.saturation) == {"input", "forget", "cell", "output"}
    assert rep.dead.dead[5]
    assert not rep.dead.dead[:5].any()


# -- memory ---------------------------------------------------------------------------------


def test_running_retention_and_retention_match_loop_products():
    rng = np.random.default_rng(7)
    mask = _mask(3, 9, rng)
    lc = make_lstm(mask=mask)
    f = lc.gates["forget"].astype(np.float64)
    b, t, u = f.shape

    def product(i, s0, s1, j):
        p = 1.0
        for s in range(s0, s1 + 1):
            if mask[i, s]:
                p *= f[i, s, j]
        return p

    run = running_retention(lc)
    for i, s, j in itertools.product(range(b), range(t), range(u)):
        assert run[i, s, j] == pytest.approx(product(i, 0, s, j), rel=1e-5)

    start = 3
    ret = retention(lc, start)
    assert np.isnan(ret[:, :start]).all()
    for i, s, j in itertools.product(range(b), range(start, t), range(u)):
        assert ret[i, s, j] == pytest.approx(product(i, start + 1, s, j), rel=1e-5)
    np.testing.assert_array_equal(retention(lc, start - t), ret)
    # plain arrays: the forget gate itself
    np.testing.assert_allclose(running_retention(lc.gates["forget"], mask=mask), run)
    # GRU keeps through the update gate
    gru = make_gru(mask=mask)
    np.testing.assert_allclose(
        running_retention(gru), running_retention(gru.gates["update"], mask=mask)
    )
    with pytest.raises(IndexError):
        retention(lc, t)


def test_lstm_memory_flow_sums_to_captured_c_with_masks():
    rng = np.random.default_rng(8)
    mask = _mask(3, 9, rng)
    lc = make_lstm(mask=mask)
    flow = memory_flow(lc)
    assert flow.state == "c"
    np.testing.assert_allclose(flow.carried + flow.written, lc.c, atol=1e-6)
    np.testing.assert_allclose(flow.total, lc.c, atol=1e-6)
    g = lc.gates
    prev = np.concatenate([np.zeros_like(lc.c[:, :1]), lc.c[:, :-1]], axis=1)
    # carried is c − i·g; for a consistent capture that is f ⊙ c_{t−1} (to float32 rounding)
    np.testing.assert_allclose(flow.carried[mask], (g["forget"] * prev)[mask], atol=2e-6)
    np.testing.assert_allclose(flow.written[mask], (g["input"] * g["cell"])[mask], rtol=1e-6)
    np.testing.assert_array_equal(flow.carried[~mask], prev[~mask])
    assert (flow.written[~mask] == 0).all()
    share = flow.written_share()
    assert ((share >= 0) & (share <= 1)).all()


def test_lstm_memory_flow_needs_no_initial_state():
    # a decoder started from an encoder's state: carried at step 0 is f_0 ⊙ c0, found without
    # being told c0 (carried = c − i·g)
    c0 = np.random.default_rng(9).normal(size=(3, 5))
    lc = make_lstm(c0=c0)
    g = lc.gates
    flow = lstm_memory_flow(lc.c, g["input"], g["cell"])
    np.testing.assert_allclose(flow.total, lc.c, atol=1e-6)
    prev = np.concatenate([c0[:, None].astype(np.float32), lc.c[:, :-1]], axis=1)
    np.testing.assert_allclose(flow.carried, g["forget"] * prev, atol=2e-6)
    assert np.abs(g["forget"][:, 0] * c0).max() > 0.1  # a zero initial state would be wrong
    with pytest.raises(ValueError, match="do not match"):
        lstm_memory_flow(lc.c, g["input"][:, :3], g["cell"][:, :3])


def test_memory_flow_step_means_are_the_tracks_lines():
    mask = _mask(3, 9, np.random.default_rng(15))
    lc = make_lstm(mask=mask)
    lc.gates["input"][0, 2, 1] = np.nan  # one unit left out of step 2's means
    carried, written = memory_flow(lc).step_means()
    i, g = lc.gates["input"].astype(np.float64), lc.gates["cell"].astype(np.float64)
    for b in range(3):
        for t in range(9):
            w = np.where(mask[b, t], i[b, t] * g[b, t], 0.0)
            c = lc.c[b, t] - w
            ok = np.isfinite(w) & np.isfinite(c)
            assert ok.sum() == (4 if (b, t) == (0, 2) else 5)
            assert carried[b, t] == pytest.approx(np.abs(c[ok]).mean(), rel=1e-6)
            assert written[b, t] == pytest.approx(np.abs(w[ok]).mean(), rel=1e-6)


def test_gru_memory_flow_sums_to_h_with_masks():
    mask = _mask(3, 9, np.random.default_rng(10))
    gru = make_gru(mask=mask)
    flow = memory_flow(gru)
    assert flow.state == "h"
    np.testing.assert_allclose(flow.total, gru.h, atol=1e-6)
    z, cand = gru.gates["update"], gru.gates["candidate"]
    direct = gru_memory_flow(gru.h, z, cand, mask=mask)
    np.testing.assert_array_equal(direct.written, flow.written)
    np.testing.assert_allclose(flow.written[mask], ((1 - z) * cand)[mask], rtol=1e-6)
    assert (flow.written[~mask] == 0).all()
    rnn = LayerCapture("rnn", "SimpleRNN", gru.h, gru.inputs, 0.0)
    with pytest.raises(ValueError, match="LSTM or GRU"):
        memory_flow(rnn)
    with pytest.raises(ValueError, match="gated"):
        running_retention(rnn)


# -- drift ----------------------------------------------------------------------------------


def test_drift_matches_loop(small_chunks):
    rng = np.random.default_rng(11)
    b, t, u = 3, 10, 4
    mask = _mask(b, t, rng)
    lc = make_lstm(b, t, u, mask=mask)
    res = drift(lc)
    h = lc.h.astype(np.float64)
    for i in range(b):
        dists = {}
        for s in range(1, t):
            if mask[i, s]:
                dists[s] = float(np.sqrt(sum((h[i, s, j] - h[i, s - 1, j]) ** 2 for j in range(u))))
        vals = np.array(list(dists.values()))
        mu, sd = vals.mean(), vals.std()
        for s in range(t):
            if s in dists:
                assert res.distance[i, s] == pytest.approx(dists[s], rel=1e-5)
                assert res.zscore[i, s] == pytest.approx((dists[s] - mu) / sd, rel=1e-4, abs=1e-6)
            else:
                assert np.isnan(res.distance[i, s])
                assert np.isnan(res.zscore[i, s])
        assert res.center[i] == pytest.approx(mu, rel=1e-6)
        med = np.median(vals)
        robust = drift(lc, robust=True)
        assert robust.scale[i] == pytest.approx(1.4826 * np.median(np.abs(vals - med)), rel=1e-6)

    with_init = step_distance(lc, initial_state=np.zeros(u))
    np.testing.assert_allclose(with_init[:, 0], np.linalg.norm(h[:, 0], axis=1), rtol=1e-6)


def test_drift_flags_a_jump():
    rng = np.random.default_rng(12)
    h = np.cumsum(rng.normal(scale=0.01, size=(2, 50, 8)), axis=1)
    h[1, 30:] += 5.0
    res = drift(h)
    assert res.anomalies(3.0).tolist()[0] == [1, 30]
    assert res.zscore[1, 30] > 5
    const = drift(np.ones((1, 5, 3)))
    np.testing.assert_array_equal(const.zscore[0, 1:], 0.0)


# -- orderings ------------------------------------------------------------------------------


def test_order_by_variance_largest_first_and_masks(small_chunks):
    rng = np.random.default_rng(13)
    b, t, u = 3, 8, 5
    scales = np.array([0.1, 3.0, 1.0, 0.01, 2.0])
    h = rng.normal(size=(b, t, u)) * scales
    mask = np.ones((b, t), bool)
    mask[:, 6:] = False
    h[:, 6:, 3] = 100.0  # unit 3 is loud only on masked steps
    res = order_by_variance(h, mask=mask)
    assert res.order.tolist() == [1, 4, 2, 0, 3]
    rows = _pooled_rows_by_loop(h, mask)
    np.testing.assert_allclose(res.score, rows.var(axis=0), rtol=1e-10)
    assert order_by_variance(h).order[0] == 3  # without the mask it would win
    assert order_by_variance(h, mask=mask, descending=False).order.tolist() == [3, 0, 2, 4, 1]


def test_order_by_activation_at_step():
    h = np.zeros((2, 4, 3))
    h[0, 2] = [0.1, -0.9, 0.5]
    h[1, 2] = [0.3, 0.0, -0.7]
    assert order_by_activation(h, 2, sample=0).order.tolist() == [2, 0, 1]
    assert order_by_activation(h, 2, sample=0, absolute=True).order.tolist() == [1, 2, 0]
    # mean over samples: [0.2, -0.45, -0.1]
    assert order_by_activation(h, 2).order.tolist() == [0, 2, 1]
    mask = np.ones((2, 4), bool)
    mask[1, 2] = False  # only sample 0 counts
    assert order_by_activation(h, 2, mask=mask).order.tolist() == [2, 0, 1]
    assert order_by_activation(h, -2, sample=0).order.tolist() == [2, 0, 1]


def test_order_by_range_is_the_brush_score_mean_inside_minus_outside():
    rng = np.random.default_rng(14)
    h = rng.uniform(-0.1, 0.1, size=(2, 10, 4))
    h[:, 3:6, 2] = 0.9  # unit 2 switches on inside the brush
    h[:, 3:6, 1] = -0.9  # unit 1 switches off there
    h[:, 7:, 0] = -0.95  # unit 0 is low after it: high inside by comparison
    res = order_by_range(h, 3, 6)
    assert res.order[0] == 2
    assert res.order[-1] == 1
    want = h[:, 3:6].mean(axis=(0, 1)) - np.concatenate([h[:, :3], h[:, 6:]], 1).mean(axis=(0, 1))
    np.testing.assert_allclose(res.score, want, rtol=1e-12)
    assert order_by_range(h, 7, 10).order[-1] == 0  # off in [7, 10): last
    one = order_by_range(h, 0, 4, sample=1)
    np.testing.assert_allclose(one.score, h[1, :4].mean(0) - h[1, 4:].mean(0), rtol=1e-12)
    mask = np.ones((2, 10), bool)
    mask[0, 4] = False
    h[0, 4, 3] = 50.0  # an outlier on a masked step inside the brush
    h[1, 8, 3] = np.nan  # a non-finite value outside: left out
    got = order_by_range(h, 3, 6, mask=mask)
    for u in range(4):
        cells = [(b, s) for b in range(2) for s in range(10) if mask[b, s]]
        inside = [h[b, s, u] for b, s in cells if 3 <= s < 6 and np.isfinite(h[b, s, u])]
        outside = [h[b, s, u] for b, s in cells if not 3 <= s < 6 and np.isfinite(h[b, s, u])]
        assert got.score[u] == pytest.approx(np.mean(inside) - np.mean(outside), rel=1e-12)
    mask[:, 3:6] = False  # nothing valid inside: the inside's mean is 0
    empty = order_by_range(h, 3, 6, mask=mask)
    np.testing.assert_allclose(empty.score[:3], -h[:, [0, 1, 2, 6, 7, 8, 9]][..., :3].mean((0, 1)))
    with pytest.raises(ValueError, match="t0"):
        order_by_range(h, 5, 5)


def test_unit_order_is_the_explorers_row_order():
    lc = make_lstm(2, 9, 5, mask=mask_from_lengths([9, 6], 9))
    h = lc.h.astype(np.float64)
    nat = unit_order(lc, "natural")
    assert nat.order.tolist() == [0, 1, 2, 3, 4]
    assert nat.score is None
    # variance: one sample's valid steps, of the quantity shown
    var = unit_order(lc, "variance", sample=1, state="gate:forget")
    np.testing.assert_allclose(var.score, lc.gates["forget"][1, :6].astype(np.float64).var(0))
    assert (
        unit_order(lc, "variance", sample=1).order.tolist()
        == np.argsort(-h[1, :6].var(0), kind="stable").tolist()
    )
    # activation: |value| at the cursor, clipped into the steps
    act = unit_order(lc, "activation", sample=0, timestep=99)
    np.testing.assert_array_equal(act.score, np.abs(h[0, 8]))
    # brush: clipped to the sample's valid steps; without a brush, the natural order
    clipped = unit_order(lc, "brush", sample=1, brush=(4, 9))
    np.testing.assert_allclose(clipped.score, h[1, 4:6].mean(0) - h[1, :4].mean(0), rtol=1e-12)
    assert unit_order(lc, "brush", sample=1).order.tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="mode must be one of"):
        unit_order(lc, "loudness")
    with pytest.raises(ValueError, match="state must be one of"):
        unit_order(lc, "variance", state="gate:nope")
    with pytest.raises(IndexError, match="sample 2 out of range"):
        unit_order(lc, "variance", sample=2)


def test_orders_leave_non_finite_values_out():
    h = np.random.default_rng(16).normal(size=(2, 6, 3))
    h[0, 2, 1] = np.inf
    h[:, :, 2] = np.nan  # no finite value at all: no score, last
    var = order_by_variance(h, sample=0)
    assert var.score[1] == pytest.approx(np.delete(h[0, :, 1], 2).var(), rel=1e-12)
    assert np.isnan(var.score[2])
    assert var.order[-1] == 2
    pooled = order_by_variance(h)
    assert pooled.score[1] == pytest.approx(np.delete(h[:, :, 1].ravel(), 2).var(), rel=1e-12)
    act = order_by_activation(h, 2, sample=0, absolute=True)
    assert np.isnan(act.score[1])  # ±inf counts as no score, as in the explorer
    assert act.order.tolist() == [0, 1, 2]


def _naive_linkage(dist, reduce):
    """O(n³) textbook agglomeration: merge heights in order (reduce = mean, max or min)."""
    clusters = [[i] for i in range(len(dist))]
    heights = []
    while len(clusters) > 1:
        best = None
        for a, b in itertools.combinations(range(len(clusters)), 2):
            d = reduce([dist[i, j] for i in clusters[a] for j in clusters[b]])
            if best is None or d < best[0]:
                best = (d, a, b)
        d, a, b = best
        heights.append(d)
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]
    return np.array(heights)


def test_clustering_puts_correlated_units_together():
    rng = np.random.default_rng(15)
    b, t = 3, 40
    base = rng.normal(size=(3, b, t))
    groups = [[0, 4, 7], [1, 5], [2, 3, 6, 8]]
    u = 9
    h = np.zeros((b, t, u))
    for gi, members in enumerate(groups):
        for j in members:
            h[:, :, j] = base[gi] * rng.uniform(0.5, 2.0) + rng.normal()  # perfect correlation
    h[:, :, 6] = h[:, :, 3]  # exact duplicates: ties at distance 0
    h[:, :, 8] = h[:, :, 3]
    res = order_by_clustering(h, n_clusters=3)
    pos = {unit: p for p, unit in enumerate(res.order.tolist())}
    assert sorted(res.order.tolist()) == list(range(u))
    for members in groups:
        spots = sorted(pos[j] for j in members)
        assert spots[-1] - spots[0] == len(members) - 1, (members, res.order)
        assert len({res.labels[j] for j in members}) == 1
    assert len(set(res.labels.tolist())) == 3
    assert res.labels[res.order[0]] == 0  # labels numbered in display order
    np.testing.assert_allclose(res.linkage[: u - 3, 2], 0.0, atol=1e-12)

    corr = correlation(h)
    np.testing.assert_allclose(corr, np.corrcoef(h.reshape(-1, u), rowvar=False), atol=1e-12)


@pytest.mark.parametrize("seed", [16, 17])
@pytest.mark.parametrize(
    ("method", "reduce"), [("average", np.mean), ("complete", np.max), ("single", np.min)]
)
def test_clustering_merge_heights_match_naive_agglomeration(seed, method, reduce):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(2, 30, 11)) @ rng.normal(size=(11, 11))
    res = order_by_clustering(h, linkage=method)
    dist = 1 - np.corrcoef(h.reshape(-1, 11), rowvar=False)
    np.testing.assert_allclose(res.linkage[:, 2], _naive_linkage(dist, reduce), atol=1e-10)
    assert res.linkage[-1, 3] == 11
    # the leaf order is a permutation in which every merged pair of clusters is contiguous
    pos = np.empty(11, int)
    pos[res.order] = np.arange(11)
    members = {i: [i] for i in range(11)}
    for k, (a, b, _, size) in enumerate(res.linkage):
        merged = members.pop(int(a)) + members.pop(int(b))
        assert len(merged) == size
        assert np.ptp(pos[merged]) == len(merged) - 1
        members[11 + k] = merged


def test_clustering_absolute_groups_anticorrelated_units():
    rng = np.random.default_rng(18)
    s1, s2 = rng.normal(size=(2, 2, 30))
    h = np.stack([s1, s2, -s1, s2 + 0.5 * rng.normal(size=(2, 30))], axis=-1)
    order = order_by_clustering(h, absolute=True).order.tolist()
    assert abs(order.index(0) - order.index(2)) == 1
    signed = order_by_clustering(h, n_clusters=2)
    assert signed.labels[0] != signed.labels[2]
