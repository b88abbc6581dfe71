"""The page side: open a notebook, run cells and read values from its kernel.

The page helpers (``window.__lstmviz``) are in helpers.js beside this file.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from .errors import CellError, LabError
from .server import LabServer

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MARK = "<<M>>"
_EVAL_TAG = "# lstmviz-labdriver: eval"


@cache
def load_js(name: str) -> str:
    """A page function from the .js file ``name`` beside this module (its ``//`` header
    comment dropped), for ``page.evaluate`` / ``page.wait_for_function``."""
    text = (Path(__file__).parent / name).read_text()
    return "\n".join(line for line in text.splitlines() if not line.startswith("//")).strip()


def _helpers(page: Any) -> None:
    page.evaluate(load_js("helpers.js"))


def _outputs_text(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append(text if isinstance(text, str) else "".join(text))
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain", "")
            parts.append((text if isinstance(text, str) else "".join(text)) + "\n")
        elif kind == "error":
            parts.append(_ANSI.sub("", "\n".join(out.get("traceback", []))) + "\n")
    return "".join(parts)


def _raise_for_error(result: dict[str, Any], code: str) -> None:
    for out in result.get("outputs", []):
        if out.get("output_type") == "error":
            tb = _ANSI.sub("", "\n".join(out.get("traceback", [])))
            raise CellError(out.get("ename", "?"), out.get("evalue", ""), tb, code)


def open_notebook(page: Any, server: LabServer, name: str, *, timeout: float = 120.0) -> None:
    """Open notebook ``name`` and return once its kernel runs code sent from the page.

    Steps: load the app; wait for the notebook panel and its context; wait for the kernel's
    websocket to be connected and answer ``kernel_info``; run a cell printing a unique marker
    until the marker comes back (a request sent too early can be dropped), then delete that cell.
    """
    deadline = time.monotonic() + timeout

    def left_ms() -> float:
        rest = deadline - time.monotonic()
        if rest <= 0:
            raise LabError(
                f"notebook {name} not ready within {timeout:.0f} s; server log:\n"
                f"{server.log_tail()}\nbrowser log:\n" + "\n".join(page.console_log[-20:])
            )
        return rest * 1000

    page.goto(server.notebook_url(name), wait_until="domcontentloaded", timeout=left_ms())
    page.wait_for_function(
        "() => !!(window.jupyterapp && window.jupyterapp.shell)", timeout=left_ms(), polling=200
    )
    _helpers(page)
    page.evaluate("(path) => { window.__lstmviz.path = path; }", Path(name).as_posix())
    _dismiss_kernel_dialog(page)
    page.wait_for_function("() => window.__lstmviz.loaded()", timeout=left_ms(), polling=200)
    state = page.evaluate("(ms) => window.__lstmviz.kernelReady(ms)", min(left_ms(), 90_000))
    if state != "ok":
        raise LabError(
            f"kernel of {name} never connected ({state}); server log:\n{server.log_tail()}"
        )
    marker = f"<<lstmviz-ready-{uuid.uuid4().hex}>>"
    code = f"print({marker!r})"
    result = page.evaluate(
        "([c, ms]) => window.__lstmviz.runCell(c, true, ms)", [code, min(left_ms(), 20_000)]
    )
    while marker not in _outputs_text(result.get("outputs", [])):
        # Lost (sent before the kernel listened) or slow: run the same cell again.
        result = page.evaluate(
            "([i, ms]) => window.__lstmviz.runIndex(i, ms)",
            [result["index"], min(left_ms(), 20_000)],
        )
    page.evaluate("(i) => window.__lstmviz.deleteCell(i)", result["index"])


def _dismiss_kernel_dialog(page: Any) -> None:
    """Accept a 'Select Kernel' dialog if one shows (notebooks without a kernelspec)."""
    with contextlib.suppress(Exception):
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and "kernel" in dialog.first.inner_text().lower():
            dialog.locator(".jp-mod-accept").first.click()


def run_cell(
    page: Any, code: str, *, timeout: float = 120.0, new_cell: bool = True, check: bool = True
) -> str:
    """Run ``code`` in a new cell at the end (or in the last cell, ``new_cell=False``).

    Returns the text of the cell's outputs once the kernel has replied and gone idle. Raises
    :class:`CellError` if the cell raised (unless ``check=False``), :class:`LabError` on timeout.
    """
    _helpers(page)
    result = page.evaluate(
        "([c, n, ms]) => window.__lstmviz.runCell(c, n, ms)", [code, new_cell, timeout * 1000]
    )
    if result.get("timedOut"):
        raise LabError(f"cell did not finish within {timeout:.0f} s: {result.get('error')}\n{code}")
    if check:
        _raise_for_error(result, code)
    return _outputs_text(result["outputs"])


def run_all(page: Any, *, timeout: float = 300.0, check: bool = True) -> list[str]:
    """Run every cell (Run All); returns each cell's output text once all have finished."""
    _helpers(page)
    result = page.evaluate("(ms) => window.__lstmviz.runAll(ms)", timeout * 1000)
    if result.get("timedOut"):
        raise LabError(f"Run All did not finish within {timeout:.0f} s: {result.get('error')}")
    if check:
        for cell in result["cells"]:
            _raise_for_error(cell, f"(cell {cell['index']})")
    return [_outputs_text(cell["outputs"]) for cell in result["cells"]]


def kernel_eval(page: Any, expr: str, *, timeout: float = 60.0) -> str:
    """Evaluate Python ``expr`` in the kernel; returns ``json.dumps`` of its value (a str).

    Reuses one scratch cell at the end of the notebook, so repeated calls do not grow it.
    """
    code = (
        f"{_EVAL_TAG}\nimport json as _lstmviz_json\n"
        f"print({_MARK!r} + _lstmviz_json.dumps({expr}) + {_MARK!r})"
    )
    _helpers(page)
    last_is_eval = page.evaluate(
        """(tag) => { const nb = window.__lstmviz.mustPanel().content;
             const c = nb.widgets[nb.widgets.length - 1];
             return !!c && c.model.sharedModel.getSource().startsWith(tag); }""",
        _EVAL_TAG,
    )
    text = run_cell(page, code, timeout=timeout, new_cell=not last_is_eval)
    found = re.search(re.escape(_MARK) + r"(.*?)" + re.escape(_MARK), text, re.S)
    if not found:
        raise LabError(f"no value printed for {expr!r}; cell output:\n{text}")
    return found.group(1)


def kernel_value(page: Any, expr: str, *, timeout: float = 60.0) -> Any:
    """:func:`kernel_eval`, parsed: the value of ``expr`` as JSON-decoded Python."""
    return json.loads(kernel_eval(page, expr, timeout=timeout))


def poll_kernel(
    page: Any, expr: str, predicate: Any, *, timeout: float = 10.0, interval: float = 0.2
) -> Any:
    """Evaluate ``expr`` until ``predicate(value)`` holds; returns the last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = kernel_value(page, expr)
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)
