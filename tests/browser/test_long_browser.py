"""A 1,000,000-step capture in a real JupyterLab: tiles on demand (issue 13).

A real ``LSTM(4)`` on one feature of small noise with a single-step spike planted at
``SPIKE``; the explorer opens on the spike (``timestep=SPIKE``), tiled (``tiles="auto"`` at
1,000,000 steps). In the browser:

1. it displays: the heatmap canvas painted, ``[data-view=heatmap]`` has ``data-tiled="true"``;
   its health findings (computed after the first render) appear and equal the kernel's;
2. ``+`` about the cursor down to a window of ≤ 128 steps: after every press (tiles settled,
   ``data-pending="0"``) the heatmap is painted and the spike's pixel column differs from the
   background and from the columns just left of it (steps before the spike) — at every level;
3. at full zoom the vector card shows the cursor step, ``data-exact="true"``, and its
   ``data-values`` equal the kernel's ``cap["lstm"].h[0, step]`` (float32, 1e-6), at the spike
   and at the three steps after it (ArrowRight);
4. ``explorer.export(view="heatmap")`` gives a painted PNG of the zoomed tiled heatmap;
5. ``explorer.save_html()`` of it, opened from ``file://`` in a fresh page: no request but the
   page itself, tiled, the note "offline copy: the finest level holds 2^L steps per column"
   with L > 0, and zooming in never goes below level L nor asks for anything.

``save_html(..., tile_budget=8 MB)`` keeps the page small; the default 50 MB would drop level 0
here too (h, c and four gates at level 0 alone are 96 MB).
"""

from __future__ import annotations

import re
import uuid

import numpy as np

from tests import lab as ld

from .conftest import server_for

T, SPIKE = 1_000_000, 654_321
SETUP = f"""\
import os, time
import numpy as np, keras
from lstmviz_widget import LSTMExplorer, capture
keras.utils.set_random_seed(0)
T, SPIKE = {T}, {SPIKE}
inp = keras.Input((None, 1))
model = keras.Model(inp, keras.layers.LSTM(4, return_sequences=True, name="lstm")(inp))
x = (0.3 * np.random.default_rng(0).normal(size=(1, T, 1))).astype("float32")
x[0, SPIKE, 0] = 40.0
_t = time.time()
cap = capture(model, x)
capture_s = time.time() - _t
explorer = LSTMExplorer(cap, timestep=SPIKE)
print(f"capture of {{T:,}} steps, LSTM(4): {{capture_s:.1f}} s")
"""

HEATMAP = "div.lstmviz [data-view=heatmap]"
#: Colour difference (max over rows and RGB channels, 0–255) that counts as distinct. Measured
#: on today's untiled heatmap of the same model at 4,000 steps: the spike's column 238 from its
#: left neighbours and 255 from the background; a noise column 35 and 31.
DISTINCT = 100

# The pixel column of `step` in the heatmap canvas (the canvas spans dataset.window across its
# width) against the background and against the columns `gap` pixels to its left (steps before
# the spike: 2 steps' width + 4 px). Differences are the max over rows and channels (0–255).
SPIKE_COLUMN = """(step) => {
  const h = document.querySelector('div.lstmviz [data-view=heatmap]');
  const c = h.querySelector('canvas.lstmviz-heatmap-canvas');
  const [t0, t1] = h.dataset.window.split(',').map(Number);
  const W = c.width, H = c.height;
  const d = c.getContext('2d').getImageData(0, 0, W, H).data;
  const px = W / (t1 - t0);
  const x = Math.min(W - 1, Math.floor((step - t0 + 0.5) * px));
  const gap = Math.ceil(2 * px) + 4;
  const col = (x) => { const o = []; for (let y = 0; y < H; y++) { const i = (y * W + x) * 4;
    o.push(d[i], d[i + 1], d[i + 2]); } return o; };
  const diff = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  const probe = document.createElement('canvas').getContext('2d');
  probe.fillStyle = getComputedStyle(h).getPropertyValue('--lstmviz-bg').trim() || '#ffffff';
  probe.fillRect(0, 0, 1, 1);
  const bg = Array.from(probe.getImageData(0, 0, 1, 1).data.slice(0, 3));
  const bgCol = Array.from({ length: H }, () => bg).flat();
  // the spike's column and its two neighbours (where a bucket's edge falls on a pixel is
  // the drawing's business): the most distinct of them
  const spikes = [x - 1, x, x + 1].filter((v) => v >= 0 && v < W).map(col);
  const lefts = [x - gap, x - gap - 1, x - gap - 2].filter((v) => v >= 0).map(col);
  const nearest = (s) => Math.min(...lefts.map((l) => diff(s, l)));
  const vsLeft = lefts.length ? Math.max(...spikes.map(nearest)) : null;
  const vsBg = Math.max(...spikes.map((s) => diff(s, bgCol)));
  return { x, W, t0, t1, level: h.dataset.level, vsBg, vsLeft };
}"""

SETTLED = """async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const h = document.querySelector('div.lstmviz [data-view=heatmap]');
  const t0 = performance.now();
  await frame();
  while (h.dataset.pending && h.dataset.pending !== '0') {
    if (performance.now() - t0 > 20000) return false;
    await frame();
  }
  await frame();
  return true;
}"""


def window(page) -> tuple[int, int]:
    t0, t1 = page.locator(HEATMAP).first.get_attribute("data-window").split(",")[:2]
    return int(t0), int(t1)


def check_spike(page, where: str) -> dict:
    assert page.evaluate(SETTLED), f"{where}: tiles still pending after 20 s"
    root = page.locator("div.lstmviz").first
    assert ld.heatmap_state(page, root)["painted"], f"{where}: heatmap not painted"
    got = page.evaluate(SPIKE_COLUMN, SPIKE)
    assert got["vsBg"] > DISTINCT, f"{where}: spike column looks like the background: {got}"
    assert got["vsLeft"] is not None, f"{where}: no column left of the spike: {got}"
    assert got["vsLeft"] > DISTINCT, f"{where}: spike not distinct from its left neighbours: {got}"
    return got


def vector_card(page) -> tuple[int, str, list[float]]:
    v = page.locator("div.lstmviz [data-view=vector]").first
    step = int(v.get_attribute("data-step"))
    values = [float(s) for s in v.get_attribute("data-values").split(",")]
    return step, v.get_attribute("data-exact"), values


def close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(
        abs(x - y) <= 1e-6 + 1e-6 * abs(y) for x, y in zip(a, b, strict=True)
    )


def test_a_million_steps_display_zoom_exact_and_offline(page, browser, servers, notebook_dir):
    name = f"t-long-{uuid.uuid4().hex[:8]}"
    ld.write_notebook(notebook_dir / f"{name}.ipynb", [])
    ld.open_notebook(page, server_for(servers, notebook_dir, "lab"), f"{name}.ipynb")
    print(ld.run_cell(page, SETUP, timeout=300))  # the capture's time, shown with -s
    assert ld.kernel_value(page, "explorer.tiled") is True
    # the planted spike, in the kernel: its h stands out from every other step's
    spike, rest = ld.kernel_value(
        page,
        "[float(np.abs(cap['lstm'].h[0, SPIKE]).max()),"
        " float(np.abs(np.delete(cap['lstm'].h[0], range(SPIKE, SPIKE + 30), 0)).max())]",
    )
    assert spike > 1.5 * rest, (spike, rest)

    ld.run_cell(page, "explorer", timeout=120)
    root = ld.wait_for_explorer(page, timeout=120)
    heat = page.locator(HEATMAP).first
    assert heat.get_attribute("data-tiled") == "true"
    assert window(page) == (0, T)
    levels = [check_spike(page, "whole sequence")["level"]]

    # health findings: computed in the kernel after the first render, then shown
    health = page.locator("div.lstmviz [data-view=health]").first
    health.wait_for(timeout=60_000)
    findings = ld.kernel_value(
        page,
        "list(__import__('lstmviz_widget.analysis', fromlist=['health_report'])"
        ".health_report(cap['lstm']).findings)",
    )
    text = health.inner_text()
    for f in findings:
        assert f in text, (f, text)
    if not findings:
        assert "no problems" in text.lower(), text

    # zoom about the cursor (on the spike) to a ~100-step window; the spike stays visible
    for press in range(20):
        if window(page)[1] - window(page)[0] <= 128:
            break
        root.focus()
        page.keyboard.type("+")
        got = check_spike(page, f"after {press + 1} × '+' (window {window(page)})")
        levels.append(got["level"])
    t0, t1 = window(page)
    assert t1 - t0 <= 128, (t0, t1)
    assert t0 <= SPIKE < t1, (t0, t1)
    assert heat.get_attribute("data-level") == "0", levels
    # the measure tells the spike from noise: a step before it, in the same window, is not
    calm = page.evaluate(SPIKE_COLUMN, SPIKE - 40)
    assert calm["vsLeft"] is not None, calm
    assert calm["vsLeft"] < DISTINCT, calm
    assert len(set(levels)) >= 3, levels  # levels really changed on the way down

    # exact values at the cursor: the spike and the three steps after it
    for k in range(4):
        if k:
            root.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "(s) => document.querySelector('div.lstmviz [data-view=vector]')"
                "?.dataset.step === s && document.querySelector('div.lstmviz [data-view=vector]')"
                ".dataset.exact === 'true'",
                arg=str(SPIKE + k),
                timeout=20_000,
            )
        step, exact, values = vector_card(page)
        want = ld.kernel_value(page, f"cap['lstm'].h[0, {SPIKE + k}].tolist()")
        assert (step, exact) == (SPIKE + k, "true")
        assert close(values, want), (step, values, want)

    # export() draws the tiled heatmap as shown (the zoomed window, exact steps)
    png = notebook_dir / f"{name}-heatmap.png"
    ld.run_cell(page, f"explorer.export({str(png)!r}, view='heatmap')", timeout=120)
    from PIL import Image  # the file is on this machine: read it here

    with Image.open(png) as im:
        colours = len(np.unique(np.asarray(im.convert("RGB")).reshape(-1, 3), axis=0))
    assert colours > 50, colours  # a painted heatmap, not an empty frame

    # the offline copy
    html = notebook_dir / f"{name}.html"
    ld.run_cell(
        page,
        f"explorer.save_html({str(html)!r}, tile_budget=8 * 2**20)",
        timeout=300,
    )
    off = ld.new_page(browser, width=1280, height=1000)
    try:
        requests: list[str] = []
        off.on("request", lambda r: requests.append(r.url))
        url = html.resolve().as_uri()
        off.goto(url)
        oroot = ld.wait_for_explorer(off, timeout=120)
        oheat = off.locator(HEATMAP).first
        assert oheat.get_attribute("data-tiled") == "true"
        note = re.search(r"offline copy: the finest level holds (\d+) steps per column",
                         oroot.inner_text())  # fmt: skip
        assert note, oroot.inner_text()[:2000]
        per_column = int(note.group(1))
        finest = per_column.bit_length() - 1
        assert per_column == 2**finest, per_column
        assert finest > 0, per_column
        for _ in range(20):
            oroot.focus()
            off.keyboard.type("+")
        assert off.evaluate(SETTLED)
        assert int(oheat.get_attribute("data-level")) >= finest
        others = [u for u in requests if not u.startswith(("data:", "blob:"))]
        assert others == [url], others
        assert not [m for m in off.console_log if "pageerror" in m]
    finally:
        ld.close_page(off)
