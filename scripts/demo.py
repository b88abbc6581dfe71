"""The demo: JupyterLab with notebooks/quickstart.ipynb, or (--headless) PNG screenshots of it.

``python scripts/demo.py`` starts JupyterLab on 127.0.0.1 with the quickstart notebook open
(stop it with Ctrl-C). ``python scripts/demo.py --headless`` runs the notebook in a private
JupyterLab driven by headless Chromium, scrubs the explorer once, and writes
``artifacts/demo/quickstart-explorer.png`` (the widget) and ``quickstart-page.png`` (the whole
page), printing their paths. Run it through ``make demo`` / ``make demo HEADLESS=1``, which
set the machine up first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "quickstart.ipynb"
OUT = ROOT / "artifacts" / "demo"


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


def headless() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import labdriver as ld
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lstmviz-demo-") as tmp:
        shutil.copy(NOTEBOOK, Path(tmp) / NOTEBOOK.name)
        with ld.start_lab(tmp) as server, sync_playwright() as pw:
            browser = ld.launch_browser(pw)
            page = ld.new_page(browser, width=1280, height=1000)
            ld.open_notebook(page, server, NOTEBOOK.name)
            ld.run_all(page, timeout=300)
            root = ld.wait_for_explorer(page)
            ld.drag_slider(page, page.locator("input.lstmviz-slider").first, 0.6)
            t = int(root.get_attribute("data-timestep") or -1)
            synced = ld.poll_kernel(page, "explorer.timestep", lambda v: v == t, timeout=15)
            if synced != t:
                print(f"demo: the slider shows t={t} but Python has {synced}", file=sys.stderr)
                return 1
            root.scroll_into_view_if_needed()
            widget_png = OUT / "quickstart-explorer.png"
            page_png = OUT / "quickstart-page.png"
            root.screenshot(path=str(widget_png))
            page.screenshot(path=str(page_png))
            browser.close()
    print(
        f"demo: notebook ran, explorer drawn, slider → t={t} reached Python "
        f"({time.monotonic() - t0:.1f} s)"
    )
    print(widget_png)
    print(page_png)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--headless", action="store_true", help="write PNGs instead of opening Lab")
    args = ap.parse_args(argv)
    return headless() if args.headless else interactive()


if __name__ == "__main__":
    sys.exit(main())
