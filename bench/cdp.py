"""Debian's headless Chromium driven over the Chrome DevTools Protocol, without Playwright.

Why not Playwright: it enables the browser's Network domain, which copies every websocket
frame (base64) into its driver; large frames slow it and a frame over ~512 MB kills it
(docs: /work/shared/FIELD-NOTES.md). This driver never enables the Network domain: it only
uses ``Page.navigate``, ``Page.addScriptToEvaluateOnNewDocument``, ``Runtime.evaluate``,
``Input.dispatchKeyEvent``, ``HeapProfiler.collectGarbage`` and ``Runtime.getHeapUsage``.

:class:`CdpPage` has the few methods of a Playwright page that ``tests/lab/driver.py`` calls
(``goto``, ``evaluate`` of a function source with one argument, ``wait_for_function``,
``console_log``), so ``open_notebook``, ``run_cell`` and ``kernel_value`` work on it as they
are. The browser is started by :class:`Chromium` (one fresh tab per :meth:`Chromium.new_page`)
and stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket  # websocket-client, a Jupyter dependency

from tests.lab import CHROMIUM, CHROMIUM_ARGS, LabError
from tests.lab.server import _free_port


class CdpError(LabError):
    """The browser answered a command with an error, or a page script threw."""


class CdpPage:
    """One page target, one websocket; commands are sent and answered one at a time."""

    def __init__(self, ws_url: str, *, timeout: float = 30.0) -> None:
        # no size limit on frames, long reads allowed (a cell can run for minutes)
        self._ws = websocket.create_connection(ws_url, timeout=timeout, max_size=None)
        self._ids = itertools.count(1)
        self.console_log: list[str] = []
        self.dialogs: list[str] = []
        self.target_id = ""
        self._timeout = timeout

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._ws.close()

    # -- protocol --------------------------------------------------------------------------
    def send(self, method: str, timeout: float | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and return its ``result`` (events on the way are logged/dropped)."""
        cid = next(self._ids)
        self._ws.send(json.dumps({"id": cid, "method": method, "params": params}))
        self._ws.settimeout(timeout or self._timeout)
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == cid:
                if "error" in msg:
                    raise CdpError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)

    def _event(self, msg: dict[str, Any]) -> None:
        method = msg.get("method", "")
        params = msg.get("params", {})
        if method == "Page.javascriptDialogOpening":
            # JupyterLab's "leave the page?" on navigation (a notebook with changes): accept it
            # without waiting for the answer (Page.navigate is waiting for us meanwhile).
            self.dialogs.append(params.get("message", ""))
            self._ws.send(
                json.dumps(
                    {
                        "id": next(self._ids),
                        "method": "Page.handleJavaScriptDialog",
                        "params": {"accept": True},
                    }
                )
            )
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.console_log.append(f"pageerror: {d.get('exception', {}).get('description', d)}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.console_log.append(f"console.{params['type']}: {text}")

    def expression(self, expr: str, *, timeout: float | None = None) -> Any:
        """``Runtime.evaluate`` of ``expr`` (a promise is awaited); its JSON value."""
        res = self.send(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expr,
            awaitPromise=True,
            returnByValue=True,
            userGesture=True,
        )
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise CdpError(f"page script threw: {d.get('exception', {}).get('description', d)}")
        return res.get("result", {}).get("value")

    # -- the Playwright-like subset tests/lab/driver.py uses ----------------------------------
    def evaluate(self, fn: str, arg: Any = None) -> Any:
        """Call the page function source ``fn`` with ``arg`` (JSON); its value."""
        return self.expression(f"({fn})({json.dumps(arg)})", timeout=max(self._timeout, 900))

    def wait_for_function(
        self, fn: str, arg: Any = None, *, timeout: float = 30_000, polling: float = 100
    ) -> Any:
        """Poll ``fn(arg)`` until truthy (``timeout`` and ``polling`` in ms, as Playwright)."""
        deadline = time.monotonic() + timeout / 1000
        while True:
            value = self.evaluate(fn, arg)
            if value:
                return value
            if time.monotonic() > deadline:
                raise LabError(f"page function not truthy within {timeout / 1000:.0f} s: {fn}")
            time.sleep(polling / 1000)

    def goto(self, url: str, *, wait_until: str = "domcontentloaded", timeout: float = 60_000):
        self.send("Page.navigate", url=url)
        self.wait_for_function(
            "() => document.readyState !== 'loading' && location.href !== 'about:blank'",
            timeout=timeout,
        )

    def locator(self, _selector: str) -> Any:  # only reached inside a suppress() in driver.py
        raise NotImplementedError("CdpPage has no locators")

    # -- what the bench adds -----------------------------------------------------------------
    def add_init_script(self, source: str) -> None:
        self.send("Page.addScriptToEvaluateOnNewDocument", source=source)

    def press(self, key: str) -> None:
        """A real key press (keyDown + keyUp) on the focused element."""
        codes = {"+": ("Equal", 187, 8), "-": ("Minus", 189, 0), "0": ("Digit0", 48, 0)}
        named = {"ArrowRight": 39, "ArrowLeft": 37, "Home": 36, "End": 35}
        if key in named:
            base = {"key": key, "code": key, "windowsVirtualKeyCode": named[key]}
        else:
            code, vk, mods = codes.get(key, (f"Key{key.upper()}", ord(key.upper()), 0))
            base = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "modifiers": mods}
            base["text"] = key
        self.send("Input.dispatchKeyEvent", type="keyDown", **base)
        base.pop("text", None)
        self.send("Input.dispatchKeyEvent", type="keyUp", **base)

    def heap(self) -> dict[str, int]:
        """After a full garbage collection: ``used`` (V8's JS heap), ``buffers`` (array-buffer
        backing stores, where typed arrays keep their data; 0 when this Chromium does not
        report them) and ``total`` (their sum), in bytes."""
        self.send("HeapProfiler.collectGarbage", timeout=120)
        got = self.send("Runtime.getHeapUsage")
        used, buffers = int(got["usedSize"]), int(got.get("backingStorageSize", 0))
        return {"used": used, "buffers": buffers, "total": used + buffers}


class Chromium:
    """A headless Chromium started by this process; :meth:`stop` ends it by its PID."""

    def __init__(self, *, width: int = 1280, height: int = 1000) -> None:
        if not Path(CHROMIUM).exists():
            raise LabError(f"no Chromium at {CHROMIUM}: run scripts/setup.sh")
        self.profile = Path(tempfile.mkdtemp(prefix="lstmviz-cdp-"))
        self.port = _free_port()
        cmd = [
            CHROMIUM,
            *CHROMIUM_ARGS,
            "--headless=new",
            f"--remote-debugging-port={self.port}",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: pgid == its PID
        )
        self.pid = self.proc.pid

    def _json(self, path: str, method: str = "GET") -> Any:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/{path}", method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def new_page(self, *, timeout: float = 30.0) -> CdpPage:
        """A new tab (its own renderer, so one case's heap does not carry into the next),
        connected, with Page and Runtime events on (for dialogs and the console log)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise LabError(f"chromium exited with code {self.proc.returncode}")
            try:
                target = self._json("new?about:blank", "PUT")
                page = CdpPage(target["webSocketDebuggerUrl"])
                page.target_id = target["id"]
                page.send("Page.enable")
                page.send("Runtime.enable")
                return page
            except (OSError, ValueError, KeyError) as e:
                last = repr(e)
            time.sleep(0.2)
        raise LabError(f"chromium's debugging port {self.port} did not answer: {last}")

    def close_page(self, page: CdpPage) -> None:
        page.close()
        with contextlib.suppress(OSError, ValueError):
            self._json(f"close/{page.target_id}")

    def renderer_rss(self) -> int | None:
        """RSS of the largest renderer process of this browser (bytes), if psutil is there."""
        try:
            import psutil
        except ImportError:
            return None
        best = None
        with contextlib.suppress(psutil.Error):
            for proc in psutil.Process(self.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    if "--type=renderer" in " ".join(proc.cmdline()):
                        rss = proc.memory_info().rss
                        best = rss if best is None else max(best, rss)
        return best

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)  # the group it leads (its zygote, renderers)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
