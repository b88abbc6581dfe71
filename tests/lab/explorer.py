"""lstmviz-specific: wait for an explorer to have painted its heatmap, drag its slider."""

from __future__ import annotations

from typing import Any

from .driver import load_js
from .errors import LabError


def heatmap_state(page: Any, root: Any) -> dict[str, Any]:
    """What the explorer ``root``'s heatmap canvas shows (canvas.js): ``painted`` (bool),
    ``fraction`` of sampled pixels painted, and ``why`` in words."""
    return page.evaluate(load_js("canvas.js"), root.element_handle())


def wait_for_explorer(page: Any, *, nth: int = 0, timeout: float = 120.0):
    """Wait until the ``nth`` explorer on the page is visible with its heatmap painted.

    Painted means a 2D context with at least half of the heatmap's pixels opaque and unlike
    the background (canvas.js): a canvas without a 2D context, or blank, never passes.
    Returns the root locator (``div.lstmviz``). Raises :class:`LabError` with what the page
    shows instead (an error panel, the canvas's state, nothing) on timeout.
    """
    root = page.locator("div.lstmviz").nth(nth)
    state: dict[str, Any] | str = "(not checked)"
    try:
        root.wait_for(state="visible", timeout=timeout * 1000)
        root.scroll_into_view_if_needed()
        page.wait_for_function(
            f"(root) => ({load_js('canvas.js')})(root).painted",
            arg=root.element_handle(),
            timeout=timeout * 1000,
            polling=100,
        )
    except Exception as e:
        errors = page.locator(".lstmviz-error")
        shown = errors.first.inner_text() if errors.count() else "(no .lstmviz-error)"
        try:
            state = heatmap_state(page, root)
        except Exception as e2:  # the page may be gone
            state = f"(could not read: {e2})"
        raise LabError(
            f"explorer #{nth} did not render: {e}\nheatmap: {state}\nerror panel: {shown}\n"
            "browser log:\n" + "\n".join(getattr(page, "console_log", [])[-20:])
        ) from e
    return root


def drag_slider(page: Any, slider: Any, fraction: float, *, steps: int = 12) -> None:
    """Drag a range input's thumb with the real mouse, from its current value to ``fraction``.

    The thumb's centre is at ``left + r + (w - 2r)·(v - min)/(max - min)`` with ``r`` about
    half the thumb width.
    """
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    if box is None:
        raise LabError("slider is not visible")
    lo, hi, val = (
        float(slider.get_attribute(a) or d) for a, d in (("min", 0), ("max", 100), ("value", 0))
    )
    val = float(slider.input_value() or val)
    r = min(8.0, box["width"] / 2)
    span = box["width"] - 2 * r

    def x_of(frac: float) -> float:
        return box["x"] + r + span * frac

    y = box["y"] + box["height"] / 2
    x0 = x_of((val - lo) / (hi - lo) if hi > lo else 0.0)
    x1 = x_of(fraction)
    page.mouse.move(x0, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(x0 + (x1 - x0) * i / steps, y)
    page.mouse.up()
