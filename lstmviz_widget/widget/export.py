"""`LSTMExplorer.export()`: a PNG or SVG of the explorer, drawn by the browser that shows it.

Only the browser knows what the views look like (canvases, d3 axes, the theme), so the kernel
asks it: a custom message ``{"type": "lstmviz-export", id, format, view, scale}`` goes to every
displayed view; each draws its explorer (js/export/) and replies ``{"type":
"lstmviz-export-result", id, ok, mime | error}`` with the file's bytes as the one buffer. The
first reply wins. Nothing answers when the explorer is not displayed: that is a TimeoutError.

Waiting inside a running cell
-----------------------------
While a cell runs, the kernel's main thread is busy running it, so the reply (a ``comm_msg``
on the shell channel) would only be handled after the cell ends: too late. ipykernel >= 7
receives shell messages on a thread of its own and can route each one to a *subshell* (a
thread with its own event loop); a comm asks for a route through its ``_reply_subshell_for``
hook (ipykernel's own fix for widgets awaited from async cells). So this module

1. creates one subshell per kernel, the first time it is needed, on ipykernel's shell-channel
   thread (where its subshell manager runs);
2. routes this widget's export results to that subshell: the comm's ``_reply_subshell_for``
   is wrapped (on this comm instance only) to answer the subshell's id for messages of type
   ``lstmviz-export-result`` and to defer to ipykernel for everything else;
3. waits on a ``threading.Event`` that the reply handler, running in the subshell, sets.

Execute requests and every other message keep their usual order; nothing is replayed.

ipykernel 6 has no subshells: there the wait pumps the kernel with `jupyter-ui-poll` (a
dependency for that reason), which handles one shell message at a time through
``kernel.do_one_iteration()`` and holds back execute requests until the cell ends. It cannot
serve ipykernel 7, which removed ``do_one_iteration`` (with ipykernel 7.4 its loop processes
nothing and the reply only arrives after the cell has ended), hence the subshell route there.
Checked: ipykernel 7.4 (tests/test_export.py, the browser tests) and, by hand, 6.29.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._files import refuse_existing, write_bytes_atomic

REQUEST_TYPE = "lstmviz-export"
RESULT_TYPE = "lstmviz-export-result"
FORMATS = {".png": ("png", "image/png"), ".svg": ("svg", "image/svg+xml")}
MAX_SCALE = 8.0  # js/export/ refuses more, too
RESEND_S = 1.0  # how often an unanswered request is sent again (same id)

NOT_DISPLAYED = (
    "the explorer is not displayed in a live notebook: display it first (e.g. put `explorer` "
    "at the end of a cell), or use save_html()"
)
NO_KERNEL = (
    "export() draws the figure in the notebook page that shows the explorer, so it needs a "
    "live Jupyter kernel: display the explorer in a notebook first (e.g. put `explorer` at "
    "the end of a cell), or use save_html() for a file that needs no kernel"
)


def export_figure(
    widget: Any,
    path: str | os.PathLike[str],
    *,
    view: str | None = None,
    scale: float = 2,
    timeout: float = 10.0,
    overwrite: bool = False,
) -> Path:
    """Ask the displayed ``widget`` for a PNG or SVG of itself and write it to ``path``.

    See :meth:`LSTMExplorer.export` for the parameters. Raises ``ValueError`` (suffix, scale,
    unknown view), ``FileExistsError``, ``RuntimeError`` (no kernel; the browser failed),
    ``TimeoutError`` (nothing displayed answered).
    """
    path = Path(path)
    fmt, mime = format_for(path)
    scale = _check_scale(scale)
    if view is not None and not isinstance(view, str):
        raise TypeError(f"view must be a view name (str) or None, got {type(view).__name__}")
    timeout = float(timeout)
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
    refuse_existing(path, overwrite=overwrite)
    reply, buffers = _channel(widget).request(
        {"type": REQUEST_TYPE, "format": fmt, "view": view, "scale": scale}, timeout
    )
    if not reply.get("ok"):
        error = str(reply.get("error") or "unknown error")
        if reply.get("code") == "unknown-view":
            raise ValueError(error)
        raise RuntimeError(f"the browser could not draw the explorer: {error}")
    if not buffers:
        raise RuntimeError("the browser's reply carried no file")
    data = bytes(buffers[0])
    if reply.get("mime", mime) != mime:
        raise RuntimeError(f"the browser sent {reply.get('mime')}, not {mime}")
    _check_content(data, fmt)
    return write_bytes_atomic(path, data, overwrite=overwrite)


def format_for(path: Path) -> tuple[str, str]:
    """``("png", "image/png")`` or ``("svg", "image/svg+xml")`` from the suffix of ``path``."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        allowed = ", ".join(FORMATS)
        raise ValueError(
            f"cannot tell the format of {path.name!r}: the file name must end in one of {allowed}"
        )
    return found


def _check_scale(scale: Any) -> float:
    try:
        value = float(scale)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 < value <= MAX_SCALE:
        raise ValueError(f"scale must be a number in (0, {MAX_SCALE:g}], got {scale!r}")
    return value


def _check_content(data: bytes, fmt: str) -> None:
    ok = data.startswith(b"\x89PNG\r\n\x1a\n") if fmt == "png" else b"<svg" in data[:400]
    if not ok:
        raise RuntimeError(f"the browser's reply is not a {fmt.upper()} file")


# ---------------------------------------------------------------------------------------------
# The request/reply channel of one widget
# ---------------------------------------------------------------------------------------------


class _Pending:
    __slots__ = ("buffers", "event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: dict[str, Any] | None = None
        self.buffers: list[Any] = []


class _Channel:
    """Requests to a widget's frontends and their replies, matched by id.

    The reply handler may run on another thread (the subshell): ``_pending`` is guarded by a
    lock, and the first reply to a request wins.
    """

    def __init__(self, widget: Any) -> None:
        self._widget = weakref.ref(widget)
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}
        widget.on_msg(self._on_msg)

    def _on_msg(self, _widget: Any, content: Any, buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != RESULT_TYPE:
            return
        with self._lock:
            pending = self._pending.get(str(content.get("id")))
            if pending is None or pending.event.is_set():
                return  # a later view's reply, or one that came after the timeout
            pending.reply = content
            pending.buffers = list(buffers or [])
            pending.event.set()

    def request(self, content: dict[str, Any], timeout: float) -> tuple[dict[str, Any], list[Any]]:
        widget = self._widget()
        if widget is None or getattr(widget, "comm", None) is None:
            raise RuntimeError("the explorer was closed")
        kernel = _live_kernel()
        wait = _waiter(kernel, widget.comm)
        request_id = uuid.uuid4().hex
        pending = _Pending()
        with self._lock:
            self._pending[request_id] = pending
        try:
            # Resent every RESEND_S: a view that was still being rendered when the first request
            # came (Run All: the display and export() in quick succession) missed it. The
            # frontend answers each id once.
            deadline = time.monotonic() + timeout
            while True:
                widget.send({**content, "id": request_id})
                left = deadline - time.monotonic()
                if wait(pending.event, max(0.0, min(RESEND_S, left))):
                    break
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"no answer within {timeout:g} s: {NOT_DISPLAYED}")
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        assert pending.reply is not None
        return pending.reply, pending.buffers


_CHANNELS: weakref.WeakKeyDictionary[Any, _Channel] = weakref.WeakKeyDictionary()
_CHANNELS_LOCK = threading.Lock()


def _channel(widget: Any) -> _Channel:
    with _CHANNELS_LOCK:
        channel = _CHANNELS.get(widget)
        if channel is None:
            channel = _CHANNELS[widget] = _Channel(widget)
        return channel


# ---------------------------------------------------------------------------------------------
# Waiting for the reply while the cell runs
# ---------------------------------------------------------------------------------------------

Wait = Callable[[threading.Event, float], bool]


def _live_kernel() -> Any:
    """The running IPython kernel, or RuntimeError (plain Python, a terminal IPython)."""
    from IPython import get_ipython  # a dependency of ipywidgets

    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or getattr(kernel, "session", None) is None:
        raise RuntimeError(NO_KERNEL)
    return kernel


def _waiter(kernel: Any, comm: Any) -> Wait:
    """How to wait for a reply in this kernel: routed to a subshell (ipykernel >= 7), pumped
    with jupyter-ui-poll (older kernels, when installed), or RuntimeError saying what to do."""
    if getattr(kernel, "shell_channel_thread", None) is not None and hasattr(
        comm, "_reply_subshell_for"
    ):
        _route_results(comm, _reply_subshell(kernel))
        return _wait_plain
    if hasattr(kernel, "do_one_iteration"):
        try:
            from jupyter_ui_poll import run_ui_poll_loop
        except ImportError:
            pass
        else:
            return _ui_poll_waiter(run_ui_poll_loop)
    raise RuntimeError(
        "export() cannot receive the browser's reply while a cell runs in this kernel: it "
        "needs ipykernel >= 7 (subshells), or `pip install jupyter-ui-poll` for older "
        "kernels. save_html() works everywhere."
    )


def _wait_plain(event: threading.Event, timeout: float) -> bool:
    return event.wait(timeout)


def _ui_poll_waiter(run_ui_poll_loop: Callable[..., Any]) -> Wait:
    def wait(event: threading.Event, timeout: float) -> bool:
        deadline = time.monotonic() + timeout

        def done() -> bool | None:
            if event.is_set():
                return True
            return False if time.monotonic() > deadline else None

        return bool(run_ui_poll_loop(done, sleep=0.02, n=4))

    return wait


_SUBSHELLS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_SUBSHELL_LOCK = threading.Lock()


def _reply_subshell(kernel: Any) -> str:
    """Id of this kernel's subshell for export replies, created on first use."""
    thread = kernel.shell_channel_thread
    manager = thread.manager
    with _SUBSHELL_LOCK:
        sid = _SUBSHELLS.get(kernel)
        if sid is not None and sid in manager.list_subshell():
            return sid
        done = threading.Event()
        box: dict[str, Any] = {}

        def create() -> None:  # on the shell-channel thread, as ipykernel requires
            try:
                box["id"] = manager._create_subshell()
            except BaseException as e:  # reported in the waiting thread
                box["error"] = e
            finally:
                done.set()

        thread.io_loop.add_callback(create)
        if not done.wait(10):
            raise RuntimeError("ipykernel did not create a subshell for the export reply")
        if "error" in box:
            raise RuntimeError(f"ipykernel could not create a subshell: {box['error']}")
        _SUBSHELLS[kernel] = sid = str(box["id"])
        return sid


def _route_results(comm: Any, subshell_id: str) -> None:
    """Make ipykernel hand this comm's export results to ``subshell_id``."""
    current = comm._reply_subshell_for
    if getattr(current, "_lstmviz_subshell", None) == subshell_id:
        return
    original = getattr(current, "_lstmviz_original", current)

    def route(data: Any, default: Any) -> Any:
        chosen = original(data, default)  # keeps ipykernel's own bookkeeping in step
        content = data.get("content") if isinstance(data, dict) else None
        if isinstance(content, dict) and content.get("type") == RESULT_TYPE:
            return subshell_id
        return chosen

    route._lstmviz_subshell = subshell_id  # type: ignore[attr-defined]
    route._lstmviz_original = original  # type: ignore[attr-defined]
    comm._reply_subshell_for = route
