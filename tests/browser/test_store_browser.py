"""A store-backed explorer in a real JupyterLab: the sample selector spans the store, and
"find similar" on a brushed range lists matches across the store; a click moves the explorer
(sample, cursor, zoom window, brush), asserted in the page and in the kernel."""

from __future__ import annotations

import uuid

from tests import lab as ld

from .conftest import SHOTS, server_for

N = 300


def test_find_similar_moves_the_explorer(page, servers, notebook_dir):
    store = f"run-{uuid.uuid4().hex[:8]}.zarr"
    setup = f"""\
import keras, numpy as np
from lstmviz_widget import Capture, LSTMExplorer, capture
keras.utils.set_random_seed(0)
inp = keras.Input((None,), dtype="int32")
h = keras.layers.LSTM(12, return_sequences=True, name="lstm")(keras.layers.Embedding(40, 6)(inp))
model = keras.Model(inp, h, name="words")
ids = np.random.default_rng(0).integers(0, 40, size=({N}, 30)).astype("int32")
capture(model, ids, tokens=[f"w{{i}}" for i in range(40)], store={store!r}, batch_size=50,
        progress=False)
explorer = LSTMExplorer(Capture.open({store!r}), sample=7)
explorer.selected_units = [0, 1, 2]
explorer
"""
    name = f"store-{uuid.uuid4().hex[:8]}.ipynb"
    ld.write_notebook(notebook_dir / name, [setup])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), name)
    ld.run_all(page, timeout=240)
    root = ld.wait_for_explorer(page)
    view = root.locator("[data-view=matches]")
    sample_input = view.locator("input.lstmviz-store-sample-input")
    assert sample_input.input_value() == "7"
    assert f"of {N}" in view.text_content()
    find = view.locator("button.lstmviz-find-similar")
    assert find.is_disabled()  # nothing brushed yet

    # the sample selector spans the store: type a sample far beyond one batch
    sample_input.fill("250")
    sample_input.press("Enter")
    assert ld.poll_kernel(page, "explorer.store_sample", lambda v: v == 250) == 250
    root = ld.wait_for_explorer(page)
    view = root.locator("[data-view=matches]")
    assert view.locator("input.lstmviz-store-sample-input").input_value() == "250"

    # brush a range with Alt-drag on the heatmap, then find similar (threshold 0)
    root.locator(".lstmviz-heatmap-canvas").first.scroll_into_view_if_needed()
    canvas = root.locator(".lstmviz-heatmap-canvas").first.bounding_box()
    assert canvas is not None
    x0, x1 = canvas["x"] + canvas["width"] * 0.3, canvas["x"] + canvas["width"] * 0.45
    ym = canvas["y"] + canvas["height"] / 2
    page.keyboard.down("Alt")
    page.mouse.move(x0, ym)
    page.mouse.down()
    page.mouse.move(x1, ym, steps=6)
    page.mouse.up()
    page.keyboard.up("Alt")
    view.locator("input.lstmviz-match-threshold").fill("0")
    view.locator("button.lstmviz-find-similar").click()
    rows = view.locator("button.lstmviz-match")
    rows.first.wait_for(timeout=60_000)
    assert rows.count() == 20
    first = rows.first
    sample, t0, t1 = (int(first.get_attribute(f"data-{k}")) for k in ("sample", "t0", "t1"))
    # the list is what the analysis computes in the kernel for the brushed range
    query = ld.kernel_value(page, "explorer.last_query")
    assert query["sample"] == 250
    assert query["units"] == [0, 1, 2]
    assert query["t1"] > query["t0"]
    want = ld.kernel_value(
        page,
        "[[m.sample, m.t0, m.t1] for m in __import__('lstmviz_widget').analysis.match("
        f"explorer.store, [0, 1, 2], threshold=0.0, sample=250, t0={query['t0']}, "
        f"t1={query['t1']}, k=20)]",
    )
    shown = [
        [int(r.get_attribute(f"data-{k}")) for k in ("sample", "t0", "t1")] for r in rows.all()
    ]
    assert shown == want
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.locator(".lstmviz-toolbar").evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(SHOTS / "store-find-similar.png"))

    first.click()
    assert ld.poll_kernel(page, "explorer.store_sample", lambda v: v == sample) == sample
    assert ld.poll_kernel(page, "explorer.timestep", lambda v: v == t0) == t0
    root = ld.wait_for_explorer(page)
    page.wait_for_function(
        "([t]) => document.querySelector('div.lstmviz')?.dataset.timestep === String(t)", arg=[t0]
    )
    view = root.locator("[data-view=matches]")
    assert view.locator("input.lstmviz-store-sample-input").input_value() == str(sample)
    # the list and the threshold survive the jump, and the status names the range
    assert view.locator("input.lstmviz-match-threshold").input_value() == "0"
    assert view.locator("button.lstmviz-match").count() == 20
    assert f"steps {t0}–{t1 - 1}" in view.locator(".lstmviz-matches-status").text_content()
    root.locator(".lstmviz-toolbar").evaluate("e => e.scrollIntoView()")
    page.screenshot(path=str(SHOTS / "store-after-jump.png"))
