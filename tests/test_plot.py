"""lstmviz_widget.plot: every figure's drawn data equals the capture (or its min/max
reduction, checked against numpy), axes are labelled, files save as PNG/SVG/PDF headless."""

from __future__ import annotations

import os
import subprocess
import sys

import keras
import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from lstmviz_widget import Capture, LayerCapture, capture, plot
from lstmviz_widget.analysis import memory_flow, pca

from .conftest import ARTIFACTS, ROOT

L = keras.layers
T, D, U, B = 24, 3, 6, 3
TOKENS = [[f"tok{t}" for t in range(T)] for _ in range(B)]


@pytest.fixture(scope="module")
def cap():
    """A real capture: LSTM + self-attention + per-step softmax head, gradients, tokens."""
    keras.utils.set_random_seed(3)
    inp = keras.Input((T, D))
    seq = L.LSTM(U, return_sequences=True, name="lstm")(inp)
    ctx = L.Attention(name="attention")([seq, seq])
    out = L.Dense(3, activation="softmax", name="head")(L.Concatenate()([seq, ctx]))
    model = keras.Model(inp, out, name="tagger")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, D)).astype("float32")
    y = rng.integers(0, 3, size=(B, T))
    return capture(
        model, x, y=y, gradients=True, loss="sparse_categorical_crossentropy", tokens=TOKENS
    )


def _synthetic(t: int, units: int = 4, b: int = 1) -> Capture:
    rng = np.random.default_rng(1)
    h = np.tanh(rng.normal(size=(b, t, units))).astype(np.float32) * 0.5
    lc = LayerCapture(name="rnn", kind="SimpleRNN", h=h, inputs=h[..., :2].copy(), fidelity=0)
    return Capture(layers={"rnn": lc}, lengths=np.full(b, t))


def test_heatmap_image_equals_the_state(cap):
    lc = cap["lstm"]
    _, ax = plot.heatmap(cap, "lstm", "c", sample=1)
    np.testing.assert_array_equal(ax.images[0].get_array(), lc.c[1].T)
    assert ax.get_ylabel() == "unit"
    assert ax.get_xlabel() == "token (timestep)"
    assert next(t.get_text() for t in ax.get_xticklabels()) == "tok0"
    # a window and chosen units: rows in that order
    _fig, ax = plot.heatmap(cap, "lstm", "gate:forget", 0, t0=5, t1=15, units=[4, 0, 2])
    np.testing.assert_array_equal(
        ax.images[0].get_array(), lc.gates["forget"][0, 5:15][:, [4, 0, 2]].T
    )
    assert ax.get_xlim() == (4.5, 14.5)


def test_heatmap_colours_follow_the_widget(cap):
    lc = cap["lstm"]
    _, ax = plot.heatmap(cap, "lstm", "h")
    im = ax.images[0]
    m = min(1.0, float(np.abs(lc.h).max()))
    assert im.norm.vmin == pytest.approx(-m)
    assert im.norm.vmax == pytest.approx(m)
    assert im.get_cmap().name.startswith("RdBu_r")
    _, ax = plot.heatmap(cap, "lstm", "gate:input")
    assert (ax.images[0].norm.vmin, ax.images[0].norm.vmax) == (0.0, 1.0)
    assert ax.images[0].get_cmap().name.startswith("viridis")
    # NaN is magenta, never clamped into the ramp
    assert to_hex(ax.images[0].get_cmap().get_bad()) == "#ff00ff"


def test_heatmap_robust_domain_when_one_unit_dwarfs_the_rest():
    c = _synthetic(50, units=8)
    c["rnn"].h[0, :, 3] *= 400  # one counter-like unit
    c["rnn"].c = c["rnn"].h.copy()
    c["rnn"].kind = "LSTM"
    _, ax = plot.heatmap(c, quantity="c")
    maxima = np.sort(np.abs(c["rnn"].c[0]).max(axis=0))
    p75 = maxima[int(np.floor(0.75 * 7))]
    assert ax.images[0].norm.vmax == pytest.approx(p75)


def test_a_one_step_spike_in_100000_steps_survives():
    c = _synthetic(100_000)
    c["rnn"].h[0, 61_234, 2] = 0.99  # the states stay within ±0.5 elsewhere
    _fig, ax = plot.heatmap(c, columns=800)
    img = np.asarray(ax.images[0].get_array())
    assert img.shape == (4, 800)  # ⌈100000 / 800⌉ = 125 steps per column
    # against numpy: per column the value farther from 0 of its min and max
    blocks = c["rnn"].h[0].T.reshape(4, 800, 125)
    lo, hi = blocks.min(-1), blocks.max(-1)
    np.testing.assert_array_equal(img, np.where(hi >= -lo, hi, lo))
    assert img[2, 61_234 // 125] == pytest.approx(0.99)
    assert "125 steps/column" in ax.get_title(loc="left")
    # a line track of the same input keeps its spike too: min/max stroke per column
    c["rnn"].inputs[0, 77_777, 1] = 9.0
    _, ax = plot.input(c, columns=800)
    y = ax.lines[1].get_ydata()
    assert y.size == 1600
    assert y.max() == 9.0
    np.testing.assert_array_equal(y[1::2], c["rnn"].inputs[0, :, 1].reshape(800, 125).max(-1))
    # and a NaN anywhere in a column makes the column NaN (magenta), not a clamped colour
    c["rnn"].h[0, 5, 0] = np.nan
    _, ax = plot.heatmap(c, columns=800)
    assert np.ma.getmaskarray(ax.images[0].get_array())[0, 0]


def test_more_units_than_pixel_rows_fold_without_losing_one():
    c = _synthetic(30, units=1000)
    c["rnn"].h[0, 17, 777] = -0.99
    _, ax = plot.heatmap(c, row_pixels=200)
    img = np.asarray(ax.images[0].get_array())
    assert img.shape == (200, 30)  # 5 units per row
    blocks = c["rnn"].h[0].T.reshape(200, 5, 30)
    lo, hi = blocks.min(1), blocks.max(1)
    np.testing.assert_array_equal(img, np.where(hi >= -lo, hi, lo))
    assert img[777 // 5, 17] == pytest.approx(-0.99)
    assert "5 units/row" in ax.get_title(loc="left")
    assert ax.get_ylim() == (999.5, -0.5)


def test_gate_lines_are_the_gate_means(cap):
    lc = cap["lstm"]
    fig, ax = plot.gates(cap, "lstm", sample=2, units=[1])
    axes = [ax, *[a for a in fig.axes if a is not ax and a.bbox.bounds == ax.bbox.bounds]]
    by_label = {str(ln.get_label()): ln for a in axes for ln in a.lines}
    for g in ("input", "forget", "cell", "output"):
        np.testing.assert_allclose(by_label[g].get_ydata(), lc.gates[g][2].mean(-1), rtol=1e-6)
        assert to_hex(by_label[g].get_color()) == plot._style.GATE_COLORS[g]
    np.testing.assert_allclose(by_label["_forget unit 1"].get_ydata(), lc.gates["forget"][2, :, 1])
    assert ax.get_ylabel() == "sigmoid gate (0…1)"


def test_memory_flow_lines_are_the_analysis_split(cap):
    lc = cap["lstm"]
    flow = memory_flow(lc)
    _, ax = plot.memory_flow(cap, "lstm", sample=1)
    lines = {str(ln.get_label()): ln for ln in ax.lines}
    np.testing.assert_allclose(
        lines["carried"].get_ydata(), np.abs(flow.carried[1]).mean(-1), rtol=1e-6
    )
    np.testing.assert_allclose(
        lines["written"].get_ydata(), np.abs(flow.written[1]).mean(-1), rtol=1e-6
    )
    # independent: LSTM written = i ⊙ g
    g = lc.gates
    np.testing.assert_allclose(
        lines["written"].get_ydata(), np.abs(g["input"][1] * g["cell"][1]).mean(-1), rtol=1e-5
    )
    assert ax.get_ylabel() == "|part of c(t)|"


def test_gradient_lines_are_the_norms(cap):
    lc = cap["lstm"]
    _, ax = plot.gradients(cap, "lstm")
    lines = {str(ln.get_label()): ln for ln in ax.lines}
    np.testing.assert_allclose(
        lines["‖∂L/∂h‖"].get_ydata(), np.linalg.norm(lc.grad_h[0], axis=-1), rtol=1e-6
    )
    np.testing.assert_allclose(
        lines["‖∂L/∂c‖"].get_ydata(), np.linalg.norm(lc.grad_c[0], axis=-1), rtol=1e-6
    )
    assert ax.get_yscale() == "log"


def test_attention_image_equals_the_scores(cap):
    a = cap.attention["attention"]
    _, ax = plot.attention(cap, sample=1, cursor=3)
    np.testing.assert_allclose(ax.images[0].get_array(), a.scores[1, 0])
    assert ax.images[0].norm.vmax == pytest.approx(float(a.scores[1, 0].max()))
    assert ax.get_xlabel().startswith("key step")
    assert ax.get_ylabel().startswith("query step")


def test_attention_of_a_big_matrix_is_max_pooled():
    rng = np.random.default_rng(0)
    c = _synthetic(3000)
    s = rng.random((1, 2, 3000, 3000)).astype(np.float32) * 0.1
    s[0, 1, 1234, 2345] = 1.0
    from lstmviz_widget.data import AttentionCapture

    c.attention = {"att": AttentionCapture("att", "MultiHeadAttention", s)}
    _, ax = plot.attention(c, head=1, max_pixels=500)
    img = np.asarray(ax.images[0].get_array())
    assert img.shape == (500, 500)
    np.testing.assert_array_equal(img, s[0, 1].reshape(500, 6, 500, 6).max(axis=(1, 3)))
    assert img.max() == 1.0


def test_trajectory_is_the_pca_projection(cap):
    lc = cap["lstm"]
    res = pca(lc, k=3)
    _, ax = plot.trajectory(cap, "lstm", sample=0, components=(0, 2), cursor=4)
    pts = ax.collections[1].get_offsets()
    np.testing.assert_allclose(pts, res.projection[0][:, [0, 2]], rtol=1e-6)
    assert ax.get_xlabel().startswith("PC1 (")
    assert ax.get_ylabel().startswith("PC3 (")


def test_weights_images_are_the_gate_slices(cap):
    lc = cap["lstm"]
    _, ax = plot.weights(cap, "lstm")
    images = iter(ax.images)
    # drawn part by part (kernel row, recurrent row, bias row), gate by gate within a row
    for part in ("kernel", "recurrent_kernel", "bias"):
        for g in lc.gate_names:
            np.testing.assert_array_equal(
                next(images).get_array(), np.atleast_2d(lc.gate_weights(g)[part])
            )
    _, ax = plot.weights(cap, "lstm", grad=True)
    np.testing.assert_array_equal(
        ax.images[0].get_array(), lc.gate_weights("input", grad=True)["kernel"]
    )


def test_weight_vs_gradient_points(cap):
    lc = cap["lstm"]
    _, ax = plot.weight_vs_gradient(cap, "lstm")
    off = ax.collections[1].get_offsets()  # forget gate
    w, dw = lc.gate_weights("forget"), lc.gate_weights("forget", grad=True)
    parts = ("kernel", "recurrent_kernel", "bias")
    np.testing.assert_array_equal(off[:, 0], np.concatenate([w[p].ravel() for p in parts]))
    np.testing.assert_array_equal(off[:, 1], np.concatenate([dw[p].ravel() for p in parts]))
    assert ax.get_yscale() == "symlog"


def test_confidence_and_input(cap):
    p = cap.predictions
    _, ax = plot.confidence(cap, sample=2)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), p.confidence[2], rtol=1e-6)
    assert ax.get_ylim() == (0.0, 1.08)
    wrong = np.flatnonzero(p.mispredicted[2])
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), wrong)
    _, ax = plot.input(cap, sample=0)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels
    assert all(lab.startswith("tok") for lab in labels)


def test_tokens_are_thinned_when_they_do_not_fit():
    c = _synthetic(400)
    c.tokens = [[f"word{t}" for t in range(400)]]
    _, ax = plot.heatmap(c)
    ticks = ax.get_xticks()
    k = int(ticks[1] - ticks[0])
    assert k > 1
    assert all(t % k == 0 for t in ticks)
    assert ax.get_xticklabels()[1].get_text() == f"word{k}"


def test_bad_arguments_say_what_is_wrong(cap):
    with pytest.raises(ValueError, match="quantity for layer 'lstm' must be one of"):
        plot.heatmap(cap, quantity="q")
    with pytest.raises(IndexError, match=r"sample must be in \[0, 2\]"):
        plot.heatmap(cap, sample=3)
    with pytest.raises(ValueError, match="time window"):
        plot.heatmap(cap, t0=10, t1=5)
    with pytest.raises(TypeError, match="expected a Capture"):
        plot.heatmap(np.zeros(3))
    with pytest.raises(ValueError, match="no gates"):
        plot.gates(_synthetic(10))
    with pytest.raises(ValueError, match="gradients=True"):
        plot.gradients(_synthetic(10))


VIEWS = {
    "heatmap": lambda c: plot.heatmap(c, quantity="c", cursor=5, selected=[1]),
    "gate_heatmaps": lambda c: plot.gate_heatmaps(c, cursor=5),
    "gates": lambda c: plot.gates(c, units=[1]),
    "memory_flow": lambda c: plot.memory_flow(c, units=[1]),
    "gradients": plot.gradients,
    "confidence": plot.confidence,
    "input": plot.input,
    "vector": lambda c: plot.vector(c, timestep=5),
    "attention": lambda c: plot.attention(c, cursor=5),
    "trajectory": lambda c: plot.trajectory(c, cursor=5),
    "weights": plot.weights,
    "weight_vs_gradient": lambda c: plot.weight_vs_gradient(c, highlight=(1,)),
    "dashboard": lambda c: plot.dashboard(c, cursor=5, selected=[1]),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_every_view_saves_png_svg_pdf(cap, name, tmp_path):
    fig, _ = VIEWS[name](cap)
    out = ARTIFACTS / "plot"
    out.mkdir(parents=True, exist_ok=True)
    for ext, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")):
        path = (out if ext == "png" else tmp_path) / f"{name}.{ext}"
        fig.savefig(path, dpi=110)
        assert path.read_bytes().startswith(magic)
    svg = (tmp_path / f"{name}.svg").read_text()
    assert "<text" in svg or "<path" in svg  # text and axes stay vectors


def test_explorer_figure_draws_what_the_explorer_shows(cap):
    from lstmviz_widget import LSTMExplorer

    ex = LSTMExplorer(cap, timestep=7, sample=2, quantity="gate:forget")
    ex.selected_units = [0, 3]
    _, ax = ex.figure("heatmap")
    np.testing.assert_array_equal(ax.images[0].get_array(), cap["lstm"].gates["forget"][2].T)
    cursor = [ln for ln in ax.lines if tuple(ln.get_xdata()) == (7, 7)]
    assert cursor
    assert len(ax.patches) == 2  # the selected units outlined
    _, ax = ex.figure("heatmap", t0=4, t1=12)
    assert ax.get_xlim() == (3.5, 11.5)
    _fig, axes = ex.figure()
    assert {"heatmap", "gatelines", "memory", "gradients", "confidence", "attention"} <= set(axes)
    with pytest.raises(ValueError, match="unknown view 'nope'"):
        ex.figure("nope")


def test_missing_matplotlib_gives_one_clear_error():
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import lstmviz_widget\n"
        "from lstmviz_widget.widget.explorer import LSTMExplorer  # the widget needs none\n"
        "try:\n"
        "    from lstmviz_widget import plot\n"
        "except ImportError as e:\n"
        "    print('ERR', e)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert 'pip install "lstmviz-widget[plot]"' in out.stdout


def test_headless_backend():
    assert matplotlib.get_backend().lower() in ("agg", "module://matplotlib_inline.backend_inline")
