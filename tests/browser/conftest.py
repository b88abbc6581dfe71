"""Fixtures for browser tests: a real JupyterLab / Notebook 7 on 127.0.0.1 and Debian's
Chromium driven by Playwright (tests/lab does the driving)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import sync_playwright

from tests import lab as ld

from ..conftest import ARTIFACTS

SHOTS = ARTIFACTS / "screenshots"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def notebook_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.fixture(scope="session")
def servers(notebook_dir: Path) -> Iterator[dict[str, ld.LabServer]]:
    """Started on first use, one per app ("lab", "notebook"), stopped by PID at the end."""
    started: dict[str, ld.LabServer] = {}
    yield started
    for server in started.values():
        server.stop()


def server_for(servers: dict[str, ld.LabServer], notebook_dir: Path, app: str) -> ld.LabServer:
    if app not in servers:
        servers[app] = ld.start_lab(notebook_dir, app=app)  # type: ignore[arg-type]
    return servers[app]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with sync_playwright() as pw:
        b = ld.launch_browser(pw)
        yield b
        b.close()


@pytest.fixture
def page(
    browser: Any, servers: dict[str, ld.LabServer], request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A fresh page; a screenshot of it is kept in artifacts/screenshots/ when the test ends.

    Afterwards the test's kernels are shut down, so they do not pile up over the session.
    """
    pg = ld.new_page(browser, width=1280, height=1000)
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs  # type: ignore[attr-defined]
    yield pg
    SHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    with contextlib.suppress(Exception):
        pg.screenshot(path=str(SHOTS / f"{name}-end.png"))
    ld.close_page(pg)
    for server in servers.values():
        server.shutdown_kernels()
