"""Counterfactual edits in a real JupyterLab: edit a token in the page, see it in the kernel and
in the difference heatmap; undo; explorer.edit() from Python moves the page; bad input shows
a message and changes nothing."""

from __future__ import annotations

import uuid

from tests import lab as ld

from .conftest import SHOTS, server_for

T = 30
SETUP = f"""\
import keras, numpy as np
from lstmviz_widget import LSTMExplorer
keras.utils.set_random_seed(0)
VOCAB = ["<pad>", "the", "cat", "dog", "sat", "on", "mat", "ran"]
inp = keras.Input((None,), dtype="int32")
e = keras.layers.Embedding(len(VOCAB), 4)(inp)
h = keras.layers.LSTM(6, return_sequences=True, name="lstm")(e)
model = keras.Model(inp, keras.layers.Dense(len(VOCAB), activation="softmax")(h))
ids = np.random.default_rng(0).integers(1, len(VOCAB), size=(1, {T})).astype("int32")
ids[0, 12] = 2  # "cat"
explorer = LSTMExplorer(model, ids, tokens=VOCAB)
explorer
"""

# Per time column of the heatmap canvas (sampled at each step's centre): the largest distance of
# any pixel from the colour of the top-left pixel (step 0, unit 0). A column of steps where
# nothing changed is one uniform colour, the diverging scale's zero.
COLUMN_DISTANCE = """
([T]) => {
  const c = document.querySelector('.lstmviz-heatmap-canvas');
  const ctx = c.getContext('2d');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  const x0 = Math.floor(0.5 / T * c.width);
  const ref = [d[x0 * 4], d[x0 * 4 + 1], d[x0 * 4 + 2]];
  const out = [];
  for (let t = 0; t < T; t++) {
    const x = Math.floor((t + 0.5) / T * c.width);
    let m = 0;
    for (let y = 0; y < c.height; y++) {
      const i = (y * c.width + x) * 4;
      for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(d[i + k] - ref[k]));
    }
    out.push(m);
  }
  return { ref, out };
}
"""


def _mode(page) -> str:
    return page.locator("[data-view=edit]").first.get_attribute("data-mode")


def _wait_mode(page, mode: str) -> None:
    page.wait_for_function(
        "(m) => document.querySelector('[data-view=edit]')?.dataset.mode === m",
        arg=mode,
        timeout=30_000,
    )


def test_edit_in_the_page_difference_undo_and_python_edit(page, servers, notebook_dir):
    name = f"cf-{uuid.uuid4().hex[:8]}.ipynb"
    ld.write_notebook(notebook_dir / name, [SETUP])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), name)
    ld.run_all(page, timeout=240)
    root = ld.wait_for_explorer(page)
    editor = root.locator("[data-view=edit]")
    assert _mode(page) == "original"

    # 1. select step 12 on the input track (a click on its time axis), type another token
    track = root.locator("[data-view=input] canvas").first
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 12.5 / T, box["y"] + box["height"] / 2)
    assert root.get_attribute("data-timestep") == "12"
    assert editor.locator(".lstmviz-edit-where").inner_text() == "step 12 (cat)"
    field = editor.locator("input.lstmviz-edit-input")
    field.fill("dog")
    field.press("Enter")
    _wait_mode(page, "edited")
    edits = ld.kernel_value(page, "[(e.kind, e.t, e.value) for e in explorer.edits]")
    assert edits == [["token", 12, 3]]
    assert "'cat' → 'dog'" in root.locator("[data-view=edit] .lstmviz-edit-list").inner_text()

    # 2. difference mode: the heatmap is white (zero) before the step and coloured at it
    root.locator("[data-view=edit] button[data-mode=difference]").click()
    _wait_mode(page, "difference")
    assert ld.kernel_value(page, "explorer.mode") == "difference"
    root = ld.wait_for_explorer(page)
    page.wait_for_timeout(300)
    found = page.evaluate(COLUMN_DISTANCE, [T])
    dist, ref_rgb = found["out"], found["ref"]
    assert min(ref_rgb) > 225, ref_rgb  # the zero colour: near white
    assert max(dist[:12]) == 0, dist  # unchanged before the edit: every pixel the zero colour
    assert dist[12] > 20, dist  # changed at it
    ref = ld.kernel_value(
        page,
        "[float(abs(explorer.capture['lstm'].h[0, t]).max()) for t in range(12)]"
        " + [float(abs(explorer.capture['lstm'].h[0, 12]).max())]",
    )
    assert max(ref[:12]) == 0.0
    assert ref[12] > 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    root.locator("[data-view=edit]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "counterfactual-difference.png"))

    # 3. bad input: a message in the widget (text), nothing changed in the kernel
    field = root.locator("[data-view=edit] input.lstmviz-edit-input")
    field.fill("<b>dgo</b>")
    field.press("Enter")
    err = root.locator("[data-view=edit] .lstmviz-edit-error")
    err.wait_for(state="visible", timeout=30_000)
    assert "not in the vocabulary" in err.inner_text()
    assert err.locator("b").count() == 0
    assert ld.kernel_value(page, "len(explorer.edits)") == 1

    # 4. undo in the page: back to the original
    root.locator("[data-view=edit] button.lstmviz-edit-undo").click()
    _wait_mode(page, "original")
    assert ld.kernel_value(page, "(len(explorer.edits), explorer.mode)") == [0, "original"]
    assert (
        ld.kernel_value(
            page, "bool((explorer.capture['lstm'].h == explorer.baseline['lstm'].h).all())"
        )
        is True
    )

    # 5. explorer.edit() from Python moves the page into the edited state
    ld.run_cell(page, "explorer.edit(20, token='mat');")
    _wait_mode(page, "edited")
    root = ld.wait_for_explorer(page)
    assert "step 20" in root.locator("[data-view=edit] .lstmviz-edit-list").inner_text()
    root.locator("[data-view=edit]").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "counterfactual-edited.png"))
