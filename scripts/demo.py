"""The demo: JupyterLab with notebooks/quickstart.ipynb, or (--headless) files made from it.

``python scripts/demo.py`` starts JupyterLab on 127.0.0.1 with the quickstart notebook open
(stop it with Ctrl-C). ``python scripts/demo.py --headless`` runs the notebook in a private
JupyterLab driven by headless Chromium and scrubs the explorer once. The notebook's export
cell then really draws (the widget is displayed; it is run once more after the slider drag,
when every view has drawn), so its files are copied from the notebook's temp dir into
``artifacts/demo/`` and checked: ``quickstart-explorer.png`` and
``quickstart-heatmap.svg`` (``explorer.export``), ``quickstart-explorer.html``
(``explorer.save_html``). The HTML copy is then opened from ``file://`` in a fresh page that
records every request: it must render the explorer with no request but the file itself
(``data:``/``blob:`` URLs are in memory). Screenshots: ``quickstart-page.png`` (the notebook
page) and ``quickstart-html.png`` (the offline page). Every path is printed; a missing or
broken file fails the demo with a message saying which. Run it through ``make demo`` /
``make demo HEADLESS=1``, which set the machine up first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
OUT = ROOT / "artifacts" / "demo"
#: What the notebook's export cells write into its working dir (see notebooks/quickstart.ipynb).
EXPORTS = ("quickstart-explorer.png", "quickstart-heatmap.svg", "quickstart-explorer.html")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


class DemoError(RuntimeError):
    """The demo did not produce what it promises; the message says what is missing."""


def interactive() -> int:
    args = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        str(NOTEBOOK.relative_to(ROOT)),
        "--ip",
        "127.0.0.1",
        "--ServerApp.root_dir",
        str(ROOT),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    print("Starting JupyterLab on 127.0.0.1 with", NOTEBOOK.relative_to(ROOT), flush=True)
    print("Open the URL it prints below (with its token); stop with Ctrl-C.", flush=True)
    os.execv(sys.executable, args)
    return 0  # pragma: no cover - execv does not return


# ---------------------------------------------------------------------------------------------
# Checking the exported files
# ---------------------------------------------------------------------------------------------


def check_png(path: Path) -> str:
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise DemoError(f"{path} is not a PNG file (no PNG signature / IHDR chunk)")
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if width < 100 or height < 100:
        raise DemoError(f"{path} is only {width}×{height} px: the explorer was not drawn")
    return f"PNG {width}×{height} px"


def check_svg(path: Path) -> str:
    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError as e:
        raise DemoError(f"{path} does not parse as XML: {e}") from e
    if root.tag != f"{SVG_NS}svg":
        raise DemoError(f"{path}: the root element is {root.tag}, not <svg>")
    texts = [t.text for t in root.iter(f"{SVG_NS}text") if t.text and t.text.strip()]
    if not texts:
        raise DemoError(f"{path} has no text: no axes were drawn")
    return f"SVG {root.get('width')}×{root.get('height')}, {len(texts)} text elements"


def check_html(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    for needle, what in (
        ('<script type="application/vnd.jupyter.widget-state+json">', "the widget state"),
        ('<script type="application/vnd.jupyter.widget-view+json">', "the widget view"),
        ("running_sum", "the model's name (from the widget state)"),
    ):
        if needle not in text:
            raise DemoError(f"{path} lacks {what} ({needle!r})")
    return f"HTML {len(text.encode()) / 1e6:.1f} MB with the widget state"


CHECKS = {".png": check_png, ".svg": check_svg, ".html": check_html}


def export_cell_source() -> str:
    """The code of the quickstart cell that calls ``explorer.export``."""
    import nbformat

    cells = [
        c.source
        for c in nbformat.read(NOTEBOOK, as_version=4).cells
        if c.cell_type == "code" and "explorer.export(" in c.source
    ]
    if len(cells) != 1:
        raise DemoError(
            f"{NOTEBOOK.name} should have one cell calling explorer.export, not {len(cells)}"
        )
    return cells[0]


def collect_exports(workdir: Path, cell_outputs: list[str]) -> list[tuple[Path, str]]:
    """Copy the notebook's exported files from ``workdir`` to OUT and check each one."""
    missing = [name for name in EXPORTS if not (workdir / name).is_file()]
    if missing:
        said = [text.strip() for text in cell_outputs if "export" in text.lower()]
        raise DemoError(
            f"the quickstart notebook did not write {', '.join(missing)} in {workdir}; "
            "its export cells printed:\n  " + ("\n  ".join(said) or "(nothing)")
        )
    found = []
    for name in EXPORTS:
        target = OUT / name
        shutil.copyfile(workdir / name, target)
        found.append((target, CHECKS[target.suffix](target)))
    return found


# ---------------------------------------------------------------------------------------------
# The saved page, from file://
# ---------------------------------------------------------------------------------------------


def open_offline(ld, browser, html: Path, shot: Path) -> tuple[list[str], int]:
    """Open ``html`` from file:// in a fresh page; returns (other requests, timestep reached).

    Every request the page makes is recorded; ``data:`` and ``blob:`` URLs are in memory
    (anywidget imports the widget's ESM from a blob: URL) and the file itself is expected.
    """
    url = html.resolve().as_uri()
    page = ld.new_page(browser, width=1280, height=1000)
    try:
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        root = ld.wait_for_explorer(page, timeout=60)
        if page.locator(".lstmviz-error").count():
            raise DemoError(f"{html} shows an error: {page.locator('.lstmviz-error').inner_text()}")
        start = int(root.get_attribute("data-timestep") or 0)
        root.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(t) => document.querySelector('div.lstmviz').dataset.timestep === String(t)",
            arg=start + 1,
            timeout=10_000,
        )
        page.screenshot(path=str(shot), full_page=True)
        others = [u for u in requests if u != url and not u.startswith(("data:", "blob:"))]
        return others, start + 1
    finally:
        ld.close_page(page)


def headless() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from playwright.sync_api import sync_playwright

    from tests import lab as ld

    OUT.mkdir(parents=True, exist_ok=True)
    for name in (*EXPORTS, "quickstart-page.png", "quickstart-html.png"):
        (OUT / name).unlink(missing_ok=True)  # never report a file left by an earlier run
    t0 = time.monotonic()
    page_png = OUT / "quickstart-page.png"
    html_png = OUT / "quickstart-html.png"
    try:
        with tempfile.TemporaryDirectory(prefix="lstmviz-demo-") as tmp:
            workdir = Path(tmp)
            shutil.copy(NOTEBOOK, workdir / NOTEBOOK.name)
            with ld.start_lab(tmp) as server, sync_playwright() as pw:
                browser = ld.launch_browser(pw)
                page = ld.new_page(browser, width=1280, height=1000)
                ld.open_notebook(page, server, NOTEBOOK.name)
                outputs = ld.run_all(page, timeout=300)
                root = ld.wait_for_explorer(page)
                ld.drag_slider(page, page.locator("input.lstmviz-slider").first, 0.6)
                t = int(root.get_attribute("data-timestep") or -1)
                synced = ld.poll_kernel(page, "explorer.timestep", lambda v: v == t, timeout=15)
                if synced != t:
                    raise DemoError(f"the slider shows t={t} but Python has {synced}")
                # Run All sends the export requests moments after the explorer appears, when
                # some views have not drawn their first frame (the figure then shows them
                # stale); run the export cell again now that everything is drawn, as a person
                # running the notebook cell by cell would.
                printed = ld.run_cell(page, export_cell_source(), timeout=60)
                if "wrote" not in printed:
                    raise DemoError(f"the export cell, run again, printed: {printed.strip()}")
                root.scroll_into_view_if_needed()
                page.screenshot(path=str(page_png))
                exported = collect_exports(workdir, [*outputs, printed])
                others, scrubbed = open_offline(ld, browser, OUT / EXPORTS[2], html_png)
                browser.close()
    except (DemoError, ld.LabError) as e:
        print(f"demo failed: {e}", file=sys.stderr)
        return 1
    if others:
        print(
            f"demo failed: the saved page made {len(others)} network request(s) besides "
            f"itself: {others}",
            file=sys.stderr,
        )
        return 1
    print(
        f"demo: notebook ran in JupyterLab, explorer drawn, slider → t={t} reached Python "
        f"({time.monotonic() - t0:.1f} s)"
    )
    print("demo: files exported by the notebook (explorer.export / save_html):")
    for path, what in exported:
        print(f"  {path}  ({what})")
    print(
        f"demo: {EXPORTS[2]} from file:// rendered the explorer and scrubbed to t={scrubbed}; "
        f"network requests besides the file itself: {len(others)}"
    )
    print("demo: screenshots:")
    print(f"  {page_png}  (the notebook page)")
    print(f"  {html_png}  (the saved page, offline)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--headless", action="store_true", help="write files instead of opening Lab")
    args = ap.parse_args(argv)
    return headless() if args.headless else interactive()


if __name__ == "__main__":
    sys.exit(main())
