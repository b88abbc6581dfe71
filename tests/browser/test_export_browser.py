"""Figures and standalone pages of the explorer, checked in headless Chromium.

1. In a real JupyterLab, ``explorer.export(...)`` in a cell after the explorer is displayed:
   the PNG is the explorer's size × scale, the SVG parses and carries the d3 axes, an unknown
   view names the views there are, and the download buttons hand over the same kind of file.
2. ``save_html()`` opened from ``file://`` in a fresh page: no request but the page itself
   (and in-memory ``data:``/``blob:`` URLs), the explorer renders and scrubs with the keyboard,
   and a token that looks like HTML is shown as text.
"""

from __future__ import annotations

import shutil
import struct
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from tests import lab as ld

from .conftest import SHOTS, server_for

SVG = "{http://www.w3.org/2000/svg}"
EVIL = "<img src=x onerror=alert(1)>"
SETUP = f"""\
import keras, numpy as np
from lstmviz_widget import LSTMExplorer
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(8), keras.layers.Dense(1)])
seq = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
explorer = LSTMExplorer(model, seq, tokens=[{EVIL!r}] * 40)
"""


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_svg(data: bytes) -> ET.Element:
    """Parse an exported SVG; it must have d3 axis groups with tick text and the token as text."""
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    axes = [g for g in root.iter(f"{SVG}g") if "lstmviz-axis" in (g.get("class") or "").split()]
    assert axes, "no <g class='lstmviz-axis …'> in the SVG"
    ticks = [t.text for g in axes for t in g.iter(f"{SVG}text") if t.text]
    assert any(t.strip().lstrip("−-").replace(".", "").isdigit() for t in ticks), ticks[:10]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert EVIL in texts  # the token, as text
    assert not [e for e in root.iter() if e.tag.endswith(("img", "foreignObject", "script"))]
    images = [i.get("href", "") for i in root.iter(f"{SVG}image")]
    assert images
    assert all(h.startswith("data:image/png;base64,") for h in images)
    return root


def close_to(pixels: int, css: float, scale: float) -> bool:
    return abs(pixels - css * scale) <= 1.5


def test_export_from_a_live_notebook(page, servers, notebook_dir):
    name = f"t-{uuid.uuid4().hex[:8]}"
    ld.write_notebook(notebook_dir / f"{name}.ipynb", [SETUP + "explorer"])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), f"{name}.ipynb")
    ld.run_all(page, timeout=240)
    root = ld.wait_for_explorer(page)
    root.focus()
    page.keyboard.press("ArrowRight")  # a cursor away from 0, so the figure shows it
    page.wait_for_function("() => document.querySelector('div.lstmviz').dataset.timestep === '1'")

    out = ld.run_cell(
        page,
        "import time\nt0 = time.monotonic()\n"
        f"png = explorer.export('{name}.png')\n"
        f"svg = explorer.export('{name}.svg')\n"
        "print(png, svg, round(time.monotonic() - t0, 2))",
    )
    png_name, svg_name, seconds = out.split()
    assert (png_name, svg_name) == (f"{name}.png", f"{name}.svg")
    assert float(seconds) < 10
    box = root.bounding_box()
    assert box is not None
    png = (notebook_dir / f"{name}.png").read_bytes()
    width, height = png_size(png)
    assert close_to(width, box["width"], 2), (width, box)
    assert close_to(height, box["height"], 2), (height, box)
    svg = (notebook_dir / f"{name}.svg").read_bytes()
    svg_root = check_svg(svg)
    assert abs(float(svg_root.get("width")) - box["width"]) <= 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook_dir / f"{name}.png", SHOTS / "export-lab.png")
    shutil.copyfile(notebook_dir / f"{name}.svg", SHOTS / "export-lab.svg")

    # one view, at scale 1; an unknown view lists the views there are
    views = page.evaluate(
        "() => [...document.querySelectorAll('div.lstmviz .lstmviz-view[data-view]')]"
        ".map((v) => v.dataset.view)"
    )
    assert views, "no .lstmviz-view[data-view] in the explorer"
    view = "heatmap" if "heatmap" in views else views[0]
    ld.run_cell(page, f"explorer.export('{name}-view.png', view={view!r}, scale=1)")
    vbox = page.locator(f"div.lstmviz .lstmviz-view[data-view='{view}']").first.bounding_box()
    vw, vh = png_size((notebook_dir / f"{name}-view.png").read_bytes())
    assert close_to(vw, vbox["width"], 1), (vw, vbox)
    assert close_to(vh, vbox["height"], 1), (vh, vbox)
    out = ld.run_cell(page, "explorer.export('nope.png', view='nope')", check=False)
    assert 'ValueError: no view named "nope"; available views:' in out
    assert all(f'"{v}"' in out for v in views)
    assert not (notebook_dir / "nope.png").exists()

    # the PNG / SVG buttons download the same figure
    root.scroll_into_view_if_needed()
    for fmt in ("png", "svg"):
        with page.expect_download() as info:
            root.locator(f"button.lstmviz-download[data-format='{fmt}']").click()
        download = info.value
        assert download.suggested_filename.endswith(f"-t1.{fmt}")
        data = Path(download.path()).read_bytes()
        if fmt == "png":
            assert close_to(png_size(data)[0], box["width"], 2)
        else:
            check_svg(data)
    assert page.dialogs == []  # type: ignore[attr-defined]


def test_save_html_renders_offline_from_file(page, tmp_path):
    import keras
    import numpy as np

    from lstmviz_widget import LSTMExplorer

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((None, 3)), keras.layers.LSTM(6), keras.layers.Dense(1)], name="offline"
    )
    seq = np.random.default_rng(0).normal(size=(30, 3)).astype("float32")
    explorer = LSTMExplorer(model, seq, tokens=[EVIL] * 30)
    path = explorer.save_html(tmp_path / "explorer.html")
    url = path.resolve().as_uri()

    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    root = ld.wait_for_explorer(page, timeout=60)
    assert page.locator(".lstmviz-error").count() == 0
    assert root.get_attribute("data-timestep") == "0"
    root.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('div.lstmviz').dataset.timestep === '2'")
    assert root.locator(".lstmviz-token").first.inner_text() == EVIL
    assert root.locator("img").count() == 0
    # a figure from the offline page too (a file:// origin must not taint the canvas)
    with page.expect_download() as info:
        root.locator("button.lstmviz-download[data-format='png']").click()
    box = root.bounding_box()
    assert close_to(png_size(Path(info.value.path()).read_bytes())[0], box["width"], 2)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "save-html-offline.png"), full_page=True)

    # Nothing but the page itself was requested: no CDN, no other file. data: and blob: URLs
    # are in-memory (the anywidget ESM is imported from a blob: URL).
    others = [u for u in requests if not u.startswith(("data:", "blob:"))]
    assert others == [url], others
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert not [m for m in page.console_log if "pageerror" in m]  # type: ignore[attr-defined]
