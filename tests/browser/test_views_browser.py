"""Every view of the explorer, linked, in a real JupyterLab in headless Chromium.

One model that gives every view data (a numeric input, stacked LSTMs, self-attention, a
per-step softmax head, labels and gradients). Each action is made in the browser the way a
person would, then the page *and* the kernel are checked; screenshots of every view in the
light and the dark theme are kept in artifacts/screenshots/views/.
"""

from __future__ import annotations

import re
import uuid

from tests import lab as ld

from .conftest import SHOTS, server_for

T = 40
UNITS = 12

MODEL = f"""\
import ipywidgets, keras, numpy as np
from lstmviz_widget import LSTMExplorer, capture
keras.utils.set_random_seed(0)
inp = keras.Input((None, 2))
h = keras.layers.LSTM({UNITS}, return_sequences=True, name="lstm")(inp)
a = keras.layers.Attention(use_scale=True, name="self_attention")([h, h])
h2 = keras.layers.LSTM(8, return_sequences=True, name="lstm_2")(keras.layers.Concatenate()([h, a]))
out = keras.layers.Dense(3, activation="softmax", name="head")(h2)
model = keras.Model(inp, out, name="all_views")
rng = np.random.default_rng(0)
t = np.arange({T})
x = np.stack([np.sin(t / 4), rng.normal(0, 0.3, {T})], -1)[None].astype("float32")
y = (x[..., 0] > 0).astype(int) + (x[..., 1] > 0.2).astype(int)
cap = capture(model, x, y=y, gradients=True, loss="sparse_categorical_crossentropy")
explorer = LSTMExplorer(cap)
explorer
"""

#: The brush ranking computed in the kernel from the capture with numpy, independently of
#: js/math/ordering.ts: per unit, mean over the brushed steps [a, b) minus mean over the sample's
#: other valid steps (finite values only; an empty side counts 0), largest first, ties in
#: unit order.
BRUSH_RANKING = """\
def _brush_ranking(a, b):
    lc, q, s = cap[explorer.layer], explorer.quantity, explorer.sample
    arr = lc.h if q == "h" else lc.c if q == "c" else lc.gates[q.removeprefix("gate:")]
    x = np.asarray(arr[s, : int(cap.lengths[s])], dtype=np.float64)
    inside = np.zeros(x.shape[0], bool)
    inside[a:b] = True
    def mean(rows):
        ok = np.isfinite(rows)
        n = ok.sum(axis=0)
        return np.where(n > 0, np.where(ok, rows, 0).sum(axis=0) / np.maximum(n, 1), 0.0)
    score = mean(x[inside]) - mean(x[~inside])
    order = np.argsort(-score, kind="stable")
    return {"top": order[:10].tolist(), "gap": float(score[order[9]] - score[order[10]])}
"""

VIEWS = {
    "controls",
    "input",
    "heatmap",
    "slider",
    "gatelines",
    "memory",
    "gradients",
    "confidence",
    "gates",
    "vector",
    "attention",
    "trajectory",
    "weights",
    "scatter",
    "health",
}


def _views(root) -> set[str]:
    return set(
        root.evaluate(
            "r => [...r.querySelectorAll('[data-view]')]"
            ".filter((e) => !e.hidden && e.offsetParent !== null).map((e) => e.dataset.view)"
        )
    )


def _cursor_steps(root) -> list[str]:
    """data-timestep of every cursor mark (time tracks, heatmaps, the trajectory's dot)."""
    return root.evaluate(
        "r => [...r.querySelectorAll('.lstmviz-cursor[data-timestep], [data-view=trajectory] "
        "[data-timestep]')].filter((e) => e.closest('[data-view]') && "
        "!e.closest('[data-view]').hidden).map((e) => e.dataset.timestep)"
    )


def _shoot_views(page, root, theme: str) -> None:
    out = SHOTS / "views"
    out.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": 3600})  # the whole widget fits
    page.wait_for_timeout(300)
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(out / f"explorer-{theme}.png"))
    page.set_viewport_size(size)
    page.wait_for_timeout(300)
    for view in sorted(_views(root)):
        root.locator(f"[data-view={view}]").first.screenshot(path=str(out / f"{view}-{theme}.png"))


def test_every_view_is_linked_to_one_cursor_and_to_python(page, servers, notebook_dir):
    name = f"views-{uuid.uuid4().hex[:8]}.ipynb"
    ld.write_notebook(notebook_dir / name, [MODEL])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), name)
    ld.run_all(page, timeout=240)
    root = ld.wait_for_explorer(page)
    page.wait_for_timeout(300)

    # every view has data here, and is drawn
    assert _views(root) >= VIEWS, VIEWS - _views(root)

    # 1. keys: every view's cursor follows, and Python does
    root.focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    want = str(T - 3)
    page.wait_for_function(
        "(w) => document.querySelector('div.lstmviz').dataset.timestep === w", arg=want
    )
    steps = _cursor_steps(root)
    assert len(steps) >= 8, steps
    assert set(steps) == {want}, steps
    assert root.locator("[data-view=attention]").get_attribute("data-row") == want
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == T - 3) == T - 3

    # 2. a click on another view's time axis (the gradient norms) scrubs everything
    grad_canvas = root.locator("[data-view=gradients] canvas").first
    grad_canvas.scroll_into_view_if_needed()
    box = grad_canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.25 + 1, box["y"] + box["height"] / 2)
    t_click = int(root.get_attribute("data-timestep"))
    assert abs(t_click - T // 4) <= 1
    assert set(_cursor_steps(root)) == {str(t_click)}
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t_click) == t_click

    # 3. hover a unit row on the heatmap: the unit lights up in the other views
    unit = 5
    root.locator(".lstmviz-heatmap-canvas").first.scroll_into_view_if_needed()
    canvas = root.locator(".lstmviz-heatmap-canvas").first.bounding_box()
    assert canvas is not None
    y = canvas["y"] + (unit + 0.5) * canvas["height"] / UNITS
    page.mouse.move(canvas["x"] + canvas["width"] * 0.6, y)
    page.wait_for_timeout(200)
    hover_rows = root.locator("[data-view=gates] .lstmviz-hover-row[visibility=visible]")
    assert hover_rows.count() == 4  # one per gate panel
    assert f"unit {unit}" in root.locator(".lstmviz-vector-hover").inner_text()
    assert root.locator("[data-view=vector] rect.lstmviz-bar.hover").count() == 1
    assert root.locator("[data-view=weights] .lstmviz-weights-hover *").count() > 0

    # 4. Shift-click selects the unit in Python
    page.keyboard.down("Shift")
    page.mouse.click(canvas["x"] + canvas["width"] * 0.6, y)
    page.keyboard.up("Shift")
    assert ld.poll_kernel(page, "explorer.selected_units", lambda v: v == [unit]) == [unit]

    _shoot_views(page, root, "light")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Dark'})"
    )
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=15_000)
    page.wait_for_timeout(800)
    assert _views(root) >= VIEWS
    _shoot_views(page, root, "dark")
    page.evaluate(
        "() => window.jupyterapp.commands.execute('apputils:change-theme', "
        "{theme: 'JupyterLab Light'})"
    )


def test_brush_zoom_play_and_jslink(page, servers, notebook_dir):
    name = f"interact-{uuid.uuid4().hex[:8]}.ipynb"
    link = (
        "play = ipywidgets.IntSlider(min=0, max=explorer.capture.n_steps - 1)\n"
        "ipywidgets.jslink((play, 'value'), (explorer, 'timestep'))\nplay"
    )
    ld.write_notebook(notebook_dir / name, [MODEL, link])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), name)
    ld.run_all(page, timeout=240)
    root = ld.wait_for_explorer(page)

    # brush a time range with Alt-drag on the heatmap: rows are re-ranked, top 10 selectable
    root.locator(".lstmviz-heatmap-canvas").first.scroll_into_view_if_needed()
    canvas = root.locator(".lstmviz-heatmap-canvas").first.bounding_box()
    assert canvas is not None
    x0, x1 = canvas["x"] + canvas["width"] * 0.2, canvas["x"] + canvas["width"] * 0.5
    ym = canvas["y"] + canvas["height"] / 2
    page.keyboard.down("Alt")
    page.mouse.move(x0, ym)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, ym, steps=4)
    page.mouse.move(x1, ym, steps=4)
    page.mouse.up()
    page.keyboard.up("Alt")
    assert root.locator("select.lstmviz-sort").input_value() == "brush"
    brushed = root.locator(".lstmviz-brush-readout").text_content() or ""
    found = re.fullmatch(r"brushed t (\d+)–(\d+)", brushed.strip())
    assert found, brushed
    a, b = int(found.group(1)), int(found.group(2)) + 1  # the readout shows the last step
    assert 0 < a < b < T
    root.locator("button.lstmviz-top10").click()
    selected = ld.poll_kernel(page, "explorer.selected_units", lambda v: len(v) == 10)
    # the same ranking computed here from the capture with numpy: mean over the brushed steps
    # minus mean over the other valid steps, per unit, of the shown layer/quantity/sample
    ld.run_cell(page, BRUSH_RANKING)
    ranking = ld.kernel_value(page, f"_brush_ranking({a}, {b})")
    assert ranking["gap"] > 1e-6, ranking  # the 10th and 11th are told apart
    assert selected == ranking["top"], (brushed, ranking)

    # zoom with the keyboard: the time axis shows fewer steps, 0 resets it
    def last_tick() -> int:
        return int(
            root.locator("[data-view=heatmap] .lstmviz-axis-x .tick text").last.text_content()
        )

    full = last_tick()
    root.focus()
    page.keyboard.press("+")
    page.keyboard.press("+")
    page.wait_for_timeout(200)
    assert last_tick() < full
    root.focus()
    page.keyboard.press("0")
    page.wait_for_timeout(200)
    assert last_tick() == full

    # play, then pause: the cursor moved on its own, and Python followed
    root.focus()
    page.keyboard.press("Home")
    root.locator("button.lstmviz-play").click()
    page.wait_for_timeout(1200)
    root.locator("button.lstmviz-play").click()
    t_played = int(root.get_attribute("data-timestep"))
    assert t_played > 0
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t_played) == t_played

    # ipywidgets.jslink: an IntSlider set from Python drives the explorer, in the page
    ld.run_cell(page, "play.value = 7")
    page.wait_for_function(
        "() => document.querySelector('div.lstmviz').dataset.timestep === '7'", timeout=10_000
    )
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == 7) == 7
