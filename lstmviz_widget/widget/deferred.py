"""Health findings of a tiled (long) explorer, computed after the first render (numpy only).

``analysis.health_report`` reads every array of a layer: 2 s at 1,000,000 × 256, more than
the whole first render may take. A tiled explorer therefore starts it on one background
thread when it is built and answers the browser's ``{"type": "lstmviz-health"}`` requests
with ``ready: false`` until it is done, then with the same per-layer entries the untiled
payload carries (``payload._health``). numpy releases the GIL in its reductions, so tile
requests are still answered meanwhile. ``save_html`` waits for it and embeds it.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ..data import Capture
from .payload import _health

MESSAGE_TYPE = "lstmviz-health"


def _compute(cap: Capture) -> dict[str, Any]:
    # numpy's floating-point warnings from this thread would print into whatever cell runs
    with np.errstate(all="ignore"):
        return {lc.name: _health(lc) for lc in cap}


class DeferredHealth:
    """``health_report`` of every layer of ``cap`` on a background thread."""

    def __init__(self, cap: Capture) -> None:
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstmviz-health")
        self._future: Future[dict[str, Any]] = pool.submit(_compute, cap)
        pool.shutdown(wait=False)

    def result(self, timeout: float | None = 0) -> dict[str, Any] | None:
        """Layer name → health entry; None while still running (``timeout`` s waited; None
        waits until done). Re-raises what the computation raised."""
        if timeout is not None and not self._future.done():
            try:
                return self._future.result(timeout=timeout) if timeout > 0 else None
            except TimeoutError:
                return None
        return self._future.result()

    def reply(self, content: Any) -> dict[str, Any]:
        """The answer to a ``lstmviz-health`` request."""
        out: dict[str, Any] = {"type": MESSAGE_TYPE, "id": content.get("id"), "error": None}
        try:
            layers = self.result()
        except Exception as err:  # shown in the widget as text
            return {**out, "ready": True, "layers": None, "error": f"{type(err).__name__}: {err}"}
        return {**out, "ready": layers is not None, "layers": layers}
