"""The explorer in a real JupyterLab (and Notebook 7) in headless Chromium.

Every test acts in the browser the way a person would (mouse drag, keys, clicks) and then
asserts the Python state in the kernel, or changes Python state and asserts the page.
"""

from __future__ import annotations

import uuid

import pytest

from tests import lab as ld

from .conftest import SHOTS, server_for

SETUP = """\
import keras, numpy as np
from lstmviz_widget import LSTMExplorer
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
seq = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
"""


def open_with(page, servers, notebook_dir, app: str, cells: list[str]):
    name = f"t-{uuid.uuid4().hex[:8]}.ipynb"
    ld.write_notebook(notebook_dir / name, cells)
    server = server_for(servers, notebook_dir, app)
    ld.open_notebook(page, server, name)
    ld.run_all(page, timeout=240)


def cursor_x(page) -> float:
    box = page.locator(".lstmviz-cursor").first.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_scrubbing_moves_python_and_python_moves_the_cursor(page, servers, notebook_dir, app):
    open_with(
        page, servers, notebook_dir, app, [SETUP + "explorer = LSTMExplorer(model, seq)\nexplorer"]
    )
    root = ld.wait_for_explorer(page)
    assert ld.kernel_value(page, "explorer.timestep") == 0

    # 1. drag the slider with the mouse: Python follows
    ld.drag_slider(page, page.locator("input.lstmviz-slider").first, 0.7)
    t_page = int(root.get_attribute("data-timestep"))
    assert t_page > 10
    assert page.locator(".lstmviz-cursor").first.get_attribute("data-timestep") == str(t_page)
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t_page) == t_page

    # 2. arrow keys on the focused widget
    root.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t_page + 2) == t_page + 2
    root.focus()  # running the poll's cell moved focus to the notebook
    page.keyboard.press("Home")
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == 0) == 0
    root.focus()
    page.keyboard.press("End")
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == 39) == 39

    # 3. click on the heatmap's time axis area (the poll's cell scrolled the notebook down)
    page.locator(".lstmviz-heatmap-canvas").first.scroll_into_view_if_needed()
    plot = page.locator(".lstmviz-heatmap-canvas").first.bounding_box()
    assert plot is not None
    page.mouse.click(plot["x"] + plot["width"] * 0.25, plot["y"] + plot["height"] / 2)
    t_click = int(root.get_attribute("data-timestep"))
    assert 7 <= t_click <= 12  # a quarter of 40 steps
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t_click) == t_click

    # 4. Python sets the trait: the cursor moves in the page
    before = cursor_x(page)
    ld.run_cell(page, "explorer.timestep = 33")
    page.wait_for_function(
        "() => document.querySelector('.lstmviz-cursor')?.dataset.timestep === '33'", timeout=10_000
    )
    assert root.get_attribute("data-timestep") == "33"
    assert cursor_x(page) > before + 50
    ld.run_cell(page, "explorer.timestep = 5")
    page.wait_for_function(
        "() => document.querySelector('.lstmviz-cursor')?.dataset.timestep === '5'", timeout=10_000
    )
    assert cursor_x(page) < before
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.screenshot(path=str(SHOTS / f"explorer-{app}-light.png"))
    if app == "lab":
        page.evaluate(
            "() => window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Dark'})"
        )
        page.wait_for_function(
            "() => document.body.dataset.jpThemeLight === 'false'", timeout=15_000
        )
        page.wait_for_timeout(500)
        # the heatmap keeps its width through the stylesheet swap (it once collapsed to 0)
        width = page.evaluate(
            "() => parseFloat(document.querySelector('.lstmviz-heatmap-canvas').style.width)"
        )
        assert width > 300
        root.screenshot(path=str(SHOTS / "explorer-lab-dark.png"))
        page.evaluate(
            "() => window.jupyterapp.commands.execute('apputils:change-theme', "
            "{theme: 'JupyterLab Light'})"
        )


def test_layer_sample_and_quantity_selects_reach_python(page, servers, notebook_dir):
    cell = (
        SETUP
        + "inp = keras.Input((None, 3))\n"
        + "lstm = keras.layers.LSTM(4, return_sequences=True)\n"
        + "h = keras.layers.Bidirectional(lstm, name='bi')(inp)\n"
        + "m2 = keras.Model(inp, keras.layers.GRU(3, name='gru')(h))\n"
        + "batch = np.random.default_rng(1).normal(size=(3, 20, 3)).astype('float32')\n"
        + "explorer = LSTMExplorer(m2, batch)\nexplorer"
    )
    open_with(page, servers, notebook_dir, "lab", [cell])
    ld.wait_for_explorer(page)
    assert ld.kernel_value(page, "explorer.layer") == "bi/forward"
    page.locator("select.lstmviz-layer").select_option("gru")
    assert ld.poll_kernel(page, "explorer.layer", lambda v: v == "gru") == "gru"
    page.locator("select.lstmviz-sample").select_option("2")
    assert ld.poll_kernel(page, "explorer.sample", lambda v: v == 2) == 2
    page.locator("select.lstmviz-quantity").select_option("gate:update")
    assert ld.poll_kernel(page, "explorer.quantity", lambda v: v == "gate:update") == "gate:update"
    # and back from Python
    ld.run_cell(page, "explorer.layer = 'bi/backward'")
    page.wait_for_function(
        "() => document.querySelector('select.lstmviz-layer').value === 'bi/backward'",
        timeout=10_000,
    )


def test_tokens_are_text_and_a_broken_payload_shows_an_error_panel(page, servers, notebook_dir):
    evil = "<img src=x onerror=alert(1)>"
    cells = [
        SETUP
        + f"tokens = [{evil!r}] * 40\n"
        + "explorer = LSTMExplorer(model, seq, tokens=tokens)\nexplorer",
        "broken = LSTMExplorer(explorer.capture)\n"
        "broken._data = {**broken._data, 'layers': 'garbage'}\nbroken",
    ]
    open_with(page, servers, notebook_dir, "lab", cells)
    root = ld.wait_for_explorer(page)
    token = root.locator(".lstmviz-token")
    assert token.inner_text() == evil
    assert root.locator("img").count() == 0
    error = page.locator(".lstmviz-error").first
    error.wait_for(state="visible", timeout=30_000)
    assert "layers" in error.inner_text()
    assert page.dialogs == []  # type: ignore[attr-defined]


MONITOR = """\
import keras, numpy as np
from lstmviz_widget.training import LSTMMonitor
keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
x = rng.normal(size=(256, 12, 2)).astype("float32")
y = (x.sum(axis=(1, 2)) > 0).astype("float32")
model = keras.Sequential([keras.Input((None, 2)), keras.layers.LSTM(8, name="lstm"),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy")
monitor = LSTMMonitor(probe_seq=x[:3], probe_y=y[:3], every_n_batches=4)
monitor
"""


def _line_points(page) -> int:
    """Points drawn by all bqplot line marks on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.bqplot path.line')]
                 .map((p) => (p.getAttribute('d') || '').split(/[ML]/).length - 1)
                 .reduce((a, b) => a + b, 0)"""
    )


def test_training_dashboard_grows_and_the_explorer_scrubs_epochs(page, servers, notebook_dir):
    open_with(page, servers, notebook_dir, "lab", [MONITOR])
    page.locator(".bqplot").first.wait_for(state="visible", timeout=60_000)
    before = _line_points(page)
    ld.run_cell(page, "model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[monitor])")
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.bqplot path.line')]"
        ".map((p) => (p.getAttribute('d') || '').split(/[ML]/).length - 1)"
        ".reduce((a, b) => a + b, 0) > n + 20",
        arg=before,
        timeout=30_000,
    )
    assert _line_points(page) > before + 20
    assert ld.kernel_value(page, "len(monitor.snapshots)") == 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".bqplot").first.locator(
        "xpath=ancestor::div[contains(@class,'widget-vbox')][1]"
    ).first.screenshot(path=str(SHOTS / "monitor-dashboard.png"))
    ld.run_cell(page, "explorer = monitor.explorer()\nexplorer")
    root = ld.wait_for_explorer(page)
    epoch = root.locator("input.lstmviz-epoch")
    assert ld.kernel_value(page, "explorer.epoch") == 2
    ld.drag_slider(page, epoch, 0.0)
    assert ld.poll_kernel(page, "explorer.epoch", lambda v: v == 0) == 0
    assert ld.kernel_value(page, "explorer.capture is monitor.snapshots[0][1]") is True
    root = ld.wait_for_explorer(page)  # the new epoch's data rebuilt the views
    assert root.locator(".lstmviz-epoch-label").inner_text().startswith("1 / 3")
    root.screenshot(path=str(SHOTS / "monitor-explorer-epoch.png"))
