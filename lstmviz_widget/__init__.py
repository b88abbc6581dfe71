"""lstmviz-widget: linked, scrubbable, verified views of what a Keras recurrent model does."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ._progress import set_progress
from .data import AttentionCapture, Capture, LayerCapture, Predictions

try:
    __version__ = version("lstmviz-widget")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "AttentionCapture",
    "Capture",
    "LSTMExplorer",
    "LSTMMonitor",
    "LayerCapture",
    "Predictions",
    "__version__",
    "capture",
    "set_progress",
]


def __getattr__(name: str) -> Any:
    # The explorer pulls in ipywidgets/anywidget, `capture` and `LSTMMonitor` pull in Keras:
    # import them on first use, so `import lstmviz_widget` and `from lstmviz_widget import
    # Capture` work on a machine with neither Keras nor a frontend.
    if name == "LSTMExplorer":
        from .widget.explorer import LSTMExplorer

        return LSTMExplorer
    if name == "capture":
        from .probe.capture import capture

        return capture
    if name == "LSTMMonitor":
        from .training.monitor import LSTMMonitor

        return LSTMMonitor
    raise AttributeError(f"module 'lstmviz_widget' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
