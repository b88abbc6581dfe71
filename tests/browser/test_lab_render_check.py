"""The render check every browser test relies on (tests/lab/canvas.js via wait_for_explorer)
fails when nothing was painted: no 2D context, a blank canvas, a canvas filled with the
background. A plain page in Chromium, no Jupyter server."""

from __future__ import annotations

import pytest

from tests import lab as ld

PAGE = """<div class="lstmviz" style="--lstmviz-bg: #ffffff; background: #fff">
<canvas class="lstmviz-heatmap-canvas" width="200" height="80"
        style="width: 200px; height: 80px"></canvas>
</div>"""
CTX = "const x = c.getContext('2d'); "

PAINT = {
    "blank": "",
    "no 2D context": "c.getContext('webgl')",
    "background colour": CTX + "x.fillStyle = '#fff'; x.fillRect(0, 0, 200, 80)",
    "a thin line only": CTX + "x.fillStyle = '#b2182b'; x.fillRect(0, 0, 200, 8)",
    "half transparent": (CTX + "x.fillStyle = 'rgba(178, 24, 43, 0.5)'; x.fillRect(0, 0, 200, 80)"),
}


@pytest.fixture
def plain_page(browser):
    pg = ld.new_page(browser, width=400, height=300)
    yield pg
    ld.close_page(pg)


def paint(page, js: str):
    page.set_content(PAGE)
    page.evaluate(f"() => {{ const c = document.querySelector('canvas'); {js} }}")
    return page.locator("div.lstmviz")


@pytest.mark.parametrize("case", sorted(PAINT))
def test_nothing_painted_is_not_rendered(plain_page, case):
    root = paint(plain_page, PAINT[case])
    state = ld.heatmap_state(plain_page, root)
    assert state["painted"] is False, state
    with pytest.raises(ld.LabError, match="did not render"):
        ld.wait_for_explorer(plain_page, timeout=1.5)


def test_a_painted_heatmap_is_rendered(plain_page):
    # a 20 × 8 grid of cells in a ramp of colours, over the whole canvas
    root = paint(
        plain_page,
        "const x = c.getContext('2d'); for (let t = 0; t < 20; t++) for (let u = 0; u < 8; u++) "
        "{ x.fillStyle = `rgb(${10 * t}, ${30 * u}, 128)`; x.fillRect(10 * t, 10 * u, 10, 10); }",
    )
    state = ld.heatmap_state(plain_page, root)
    assert state["painted"] is True, state
    assert state["fraction"] == 1.0, state
    assert ld.wait_for_explorer(plain_page, timeout=5) is not None
