"""Debian's Chromium through Playwright: the one argument list every caller uses."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from .errors import LabError

CHROMIUM = os.environ.get("LSTMVIZ_CHROMIUM", "/usr/bin/chromium")
#: Flags for every headless Chromium of the project (browser tests, demo, preview, benchmarks):
#: no sandbox (root in a container), no GPU, nothing phoning home, and no throttling of
#: background tabs or timers (a page measured or waited on must run at full speed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--enable-precise-memory-info",
]


def launch_browser(playwright: Any, *, headless: bool = True, args: list[str] | None = None):
    """Launch Debian's Chromium (``/usr/bin/chromium``) through Playwright."""
    if not Path(CHROMIUM).exists():
        raise LabError(
            f"no Chromium at {CHROMIUM}: run scripts/setup.sh (installs Debian's chromium) "
            "or set LSTMVIZ_CHROMIUM"
        )
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=headless, args=[*CHROMIUM_ARGS, *(args or [])]
    )


def new_page(browser: Any, *, width: int = 1280, height: int = 900, timeout: float = 30.0):
    """A page in a fresh browser context (own cookies/storage); close it with :func:`close_page`.

    ``page.console_log`` collects console errors and uncaught page errors, for reports.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout * 1000)
    log: list[str] = []
    page.console_log = log  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: (
            log.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda e: log.append(f"pageerror: {e}"))
    return page


def close_page(page: Any) -> None:
    """Close a page made by :func:`new_page`, with its browser context."""
    with contextlib.suppress(Exception):
        page.context.close()
