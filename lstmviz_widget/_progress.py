"""Progress bars on long work (tqdm.auto: a widget in notebooks, text in terminals).

Nothing is shown for work that ends within :data:`MIN_SECONDS`. Turn bars off everywhere with
``lstmviz_widget.set_progress(False)`` or the environment variable ``LSTMVIZ_PROGRESS=0``;
functions that take ``progress=`` override the default for one call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: A bar appears only once work has run this long (tqdm's ``delay``).
MIN_SECONDS = 1.0

_enabled: bool | None = None


def set_progress(enabled: bool) -> None:
    """Show progress bars on long work (True) or never (False), for this process."""
    global _enabled
    _enabled = bool(enabled)


def progress_enabled(override: bool | None = None) -> bool:
    """Whether to show a bar: ``override`` when given, else :func:`set_progress`'s choice,
    else the ``LSTMVIZ_PROGRESS`` environment variable (``0``/``false``/``no`` turn it off)."""
    if override is not None:
        return bool(override)
    if _enabled is not None:
        return _enabled
    return os.environ.get("LSTMVIZ_PROGRESS", "1").strip().lower() not in ("0", "false", "no")


def _tqdm(**kwargs: Any) -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; stay silent without it
        return None
    return tqdm(delay=MIN_SECONDS, leave=False, disable=False, **kwargs)


def progress(
    iterable: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    enabled: bool | None = None,
) -> Iterable[T]:
    """``iterable``, with a progress bar named ``desc`` when enabled and the work is long."""
    if not progress_enabled(enabled):
        return iterable
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    bar = _tqdm(desc=desc, total=total)
    if bar is None:
        return iterable
    return _ticking(iterable, bar)


def _ticking(iterable: Iterable[T], bar: Any) -> Iterator[T]:
    try:
        for item in iterable:
            yield item
            bar.update(1)
    finally:
        bar.close()


class _NoBar:
    def update(self, n: int = 1) -> None:
        """Nothing to show."""


@contextmanager
def progress_bar(
    *, desc: str, total: int, unit: str = "it", enabled: bool | None = None
) -> Iterator[Any]:
    """A bar to ``update(n)`` by hand (e.g. bytes written); a no-op when disabled."""
    bar = (
        _tqdm(desc=desc, total=total, unit=unit, unit_scale=unit == "B")
        if (progress_enabled(enabled))
        else None
    )
    try:
        yield bar if bar is not None else _NoBar()
    finally:
        if bar is not None:
            bar.close()
