"""Drive a real JupyterLab (or Jupyter Notebook 7) from Python, in headless Chromium.

Shared by ``tests/browser``, ``scripts/demo.py --headless`` and the benchmarks::

    from playwright.sync_api import sync_playwright
    import labdriver as ld

    with ld.start_lab(folder) as server, sync_playwright() as pw:
        browser = ld.launch_browser(pw)
        page = ld.new_page(browser)
        ld.open_notebook(page, server, "demo.ipynb")  # returns once the kernel answers
        ld.run_all(page)
        print(ld.kernel_value(page, "explorer.timestep"))

How the pieces fit:

* :func:`start_lab` starts ``python -m jupyter lab|notebook`` as a direct child (its PID is
  the server's own), in a temp folder with its own config, data, runtime, settings and
  workspace dirs, so a run never reads or writes the user's Jupyter state. First-start pop-ups
  (news, update check, toasts) are switched off through user settings written there.
* The server runs with ``expose_app_in_browser``, so the page has ``window.jupyterapp``. Cells
  are edited through the notebook model and run with the app's own commands (as JupyterLab's
  galata test tool does); the command's promise resolves once the kernel has replied *and* gone
  idle, so a finished cell's outputs are complete. No keystrokes into CodeMirror, whose
  auto-indent would mangle multi-line code.
* :func:`open_notebook` waits until the kernel's websocket is connected and a
  ``kernel_info`` request is answered, then runs a throw-away cell printing a unique marker
  (re-running it if the request got lost) and deletes it. Only then is the kernel known to
  execute what the page sends (the idle indicator shows up before that).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import weakref
from pathlib import Path
from typing import Any, Literal

import nbformat

CHROMIUM = os.environ.get("LSTMVIZ_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: User settings written into the server's private settings dir (plugin id → settings).
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # No "would you like to receive Jupyter news?" toast, no update check, no toasts at all.
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    # Keep every cell attached to the DOM so locators and bounding boxes always work.
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MARK = "<<M>>"
_EVAL_TAG = "# lstmviz-labdriver: eval"


class LabError(RuntimeError):
    """The server, the page or the kernel did not do what was asked in time."""


class CellError(LabError):
    """A cell raised in the kernel."""

    def __init__(self, ename: str, evalue: str, traceback: str, code: str) -> None:
        self.ename, self.evalue, self.traceback, self.code = ename, evalue, traceback, code
        super().__init__(f"cell raised {ename}: {evalue}\n--- code ---\n{code}\n{traceback}")


# ---------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------

_LIVE: weakref.WeakSet[LabServer] = weakref.WeakSet()


class LabServer:
    """A running Jupyter server started by :func:`start_lab`. Stop it with :meth:`stop`."""

    def __init__(
        self,
        *,
        proc: subprocess.Popen[bytes],
        app: str,
        port: int,
        token: str,
        root_dir: Path,
        temp_dir: Path,
        log_path: Path,
        cleanup: bool,
    ) -> None:
        self.proc = proc
        self.app = app
        self.port = port
        self.token = token
        self.root_dir = root_dir
        self.temp_dir = temp_dir
        self.log_path = log_path
        self._cleanup = cleanup
        self.base_url = f"http://127.0.0.1:{port}/"

    # -- identity / URLs -------------------------------------------------------------------
    @property
    def pid(self) -> int:
        """PID of the server process itself (no shell in between)."""
        return self.proc.pid

    def url(self, path: str = "") -> str:
        """Absolute URL of ``path`` on this server, with the token."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path.lstrip('/')}{sep}token={self.token}"

    def notebook_url(self, name: str) -> str:
        """URL that opens notebook ``name`` (relative to the root dir) in this app.

        JupyterLab gets a fresh workspace per call, so it never restores notebooks (and
        starts their kernels) left open by an earlier page.
        """
        quoted = urllib.parse.quote(Path(name).as_posix())
        if self.app == "lab":
            return self.url(f"lab/workspaces/w{uuid.uuid4().hex[:10]}/tree/{quoted}")
        return self.url(f"notebooks/{quoted}")

    # -- REST ------------------------------------------------------------------------------
    def api(self, method: str, path: str, body: Any = None, *, timeout: float = 10.0) -> Any:
        """Call the server's REST API (``path`` like ``"api/sessions"``); returns parsed JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base_url + path.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def shutdown_kernels(self) -> int:
        """Shut down every session and kernel of this server; returns how many kernels."""
        n = 0
        with contextlib.suppress(OSError, ValueError):
            for s in self.api("GET", "api/sessions"):
                with contextlib.suppress(OSError):
                    self.api("DELETE", f"api/sessions/{s['id']}", timeout=30)
            for k in self.api("GET", "api/kernels"):
                n += 1
                with contextlib.suppress(OSError):
                    self.api("DELETE", f"api/kernels/{k['id']}", timeout=30)
        return n

    # -- lifecycle -------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the server log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server by its PID: SIGTERM (Jupyter shuts its kernels down), then SIGKILL."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                # Kernels first, so none outlives a server that has to be killed.
                self.shutdown_kernels()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)
        # The server ran in its own process group (pgid == its PID): end any kernel it left.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        _LIVE.discard(self)
        if self._cleanup:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LabServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.proc.returncode}"
        return f"LabServer(app={self.app!r}, url={self.base_url!r}, pid={self.pid}, {state})"


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.stop(timeout=5)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_settings(settings_dir: Path, settings: dict[str, dict[str, Any]]) -> None:
    for plugin_id, values in settings.items():
        package, plugin = plugin_id.split(":")
        path = settings_dir / package / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))


def start_lab(
    notebook_dir: str | os.PathLike[str],
    *,
    app: Literal["lab", "notebook"] = "lab",
    timeout: float = 60.0,
    python: str | None = None,
    extra_args: tuple[str, ...] | list[str] = (),
    env: dict[str, str] | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
    cleanup: bool = True,
) -> LabServer:
    """Start JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) on 127.0.0.1.

    Parameters
    ----------
    notebook_dir : path-like
        The server's root dir; notebooks are opened relative to it.
    timeout : float
        Seconds to wait for ``/api/status`` to answer.
    python : str, optional
        Interpreter to run Jupyter with (default: this one). Its environment's ``python3``
        kernelspec (``<prefix>/share/jupyter/kernels``) is the kernel notebooks get.
    extra_args, env, settings
        More command-line flags, environment variables and JupyterLab user settings.
    cleanup : bool
        Delete the temp dir (config, logs) on :meth:`LabServer.stop`.

    Returns
    -------
    LabServer
        Ready to serve; use as a context manager or call ``stop()``.
    """
    if app not in ("lab", "notebook"):
        raise ValueError(f"app must be 'lab' or 'notebook', got {app!r}")
    root = Path(notebook_dir).resolve()
    if not root.is_dir():
        raise LabError(f"notebook dir {root} does not exist")
    python = python or sys.executable
    temp = Path(tempfile.mkdtemp(prefix=f"lstmviz-{app}-"))
    dirs = {
        name: temp / name
        for name in ("config", "data", "runtime", "settings", "workspaces", "ipython")
    }
    for d in dirs.values():
        d.mkdir()
    _write_settings(dirs["settings"], {**LAB_SETTINGS, **(settings or {})})

    run_env = dict(os.environ)
    run_env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),  # the venv's kernelspec stays on jupyter_path
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        IPYTHONDIR=str(dirs["ipython"]),
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    )
    run_env.pop("JUPYTER_TOKEN", None)
    run_env.update(env or {})

    app_cls = "LabApp" if app == "lab" else "JupyterNotebookApp"
    last_error = ""
    for _attempt in range(3):  # a free port can be taken between probing and binding
        port = _free_port()
        token = secrets.token_hex(16)
        cmd = [
            python,
            "-m",
            "jupyter",
            app,
            "--no-browser",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.terminals_enabled=False",
            f"--{app_cls}.user_settings_dir={dirs['settings']}",
            f"--{app_cls}.workspaces_dir={dirs['workspaces']}",
            f"--{app_cls}.expose_app_in_browser=True",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        cmd += list(extra_args)
        log_path = temp / f"server-{port}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=root,
                env=run_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in the terminal reaches us, not the server
            )
        server = LabServer(
            proc=proc,
            app=app,
            port=port,
            token=token,
            root_dir=root,
            temp_dir=temp,
            log_path=log_path,
            cleanup=cleanup,
        )
        _LIVE.add(server)
        try:
            _wait_ready(server, timeout)
            return server
        except LabError as e:
            last_error = str(e)
            server._cleanup = False
            server.stop(timeout=5)
            if "already in use" not in server.log_tail(200):
                break
    if cleanup:
        shutil.rmtree(temp, ignore_errors=True)
    raise LabError(last_error)


def _wait_ready(server: LabServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise LabError(
                f"jupyter {server.app} exited with code {server.proc.returncode} before it "
                f"answered; log {server.log_path}:\n{server.log_tail()}"
            )
        try:
            server.api("GET", f"api/status?token={server.token}", timeout=5)
            specs = server.api("GET", "api/kernelspecs", timeout=10)
        except (OSError, ValueError) as e:
            last = repr(e)
            time.sleep(0.25)
            continue
        if "python3" not in specs.get("kernelspecs", {}):
            raise LabError(
                f"the server has no 'python3' kernelspec (found {sorted(specs['kernelspecs'])});"
                " install ipykernel into the environment that runs Jupyter"
            )
        return
    raise LabError(
        f"jupyter {server.app} did not answer on {server.base_url}api/status within "
        f"{timeout:.0f} s (last error {last}); log {server.log_path}:\n{server.log_tail()}"
    )


# ---------------------------------------------------------------------------------------------
# Notebooks on disk
# ---------------------------------------------------------------------------------------------


def write_notebook(path: str | os.PathLike[str], cells: list[str | tuple[str, str]]) -> Path:
    """Write a notebook with the python3 kernelspec (so no kernel dialog ever shows).

    ``cells`` holds code strings, or ``("markdown", text)`` / ``("code", text)`` pairs.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for cell in cells:
        kind, src = ("code", cell) if isinstance(cell, str) else cell
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(src))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


# ---------------------------------------------------------------------------------------------
# The browser
# ---------------------------------------------------------------------------------------------


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


# JS helpers installed into the page as window.__lstmviz (idempotent; lost on navigation).
_JS_HELPERS = r"""
() => {
  if (window.__lstmviz) return true;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const withTimeout = (p, ms) =>
    Promise.race([p, sleep(ms).then(() => { throw new Error(`timed out after ${ms} ms`); })]);
  const H = { path: null };
  H.isNotebookPanel = (w) =>
    !!(w && w.content && w.context && w.sessionContext && w.content.model &&
       typeof w.content.activeCellIndex === 'number');
  H.panel = () => {
    const app = window.jupyterapp;
    if (!app || !app.shell) return null;
    const ok = (w) => H.isNotebookPanel(w) && (!H.path || w.context.path === H.path);
    if (ok(app.shell.currentWidget)) return app.shell.currentWidget;
    if (typeof app.shell.widgets === 'function') {
      for (const w of app.shell.widgets('main')) if (ok(w)) return w;
    }
    return null;
  };
  H.mustPanel = () => {
    const p = H.panel();
    if (!p) throw new Error(`no notebook panel for ${H.path}`);
    const app = window.jupyterapp;
    if (app.shell.currentWidget !== p && app.shell.activateById) app.shell.activateById(p.id);
    return p;
  };
  H.loaded = () => {
    const p = H.panel();
    return !!(p && p.context.isReady && p.content.model);
  };
  H.kernelReady = async (timeoutMs) => {
    const t0 = Date.now();
    const p = H.mustPanel();
    await withTimeout(p.sessionContext.ready, timeoutMs);
    let last = 'no kernel';
    while (Date.now() - t0 < timeoutMs) {
      const k = p.sessionContext.session && p.sessionContext.session.kernel;
      if (k) {
        last = `connection ${k.connectionStatus}, status ${k.status}`;
        if (k.connectionStatus === 'connected' && k.status !== 'starting' &&
            k.status !== 'unknown' && k.status !== 'dead') {
          try { await withTimeout(k.requestKernelInfo(), 5000); return 'ok'; }
          catch (e) { last = `kernel_info: ${e}`; }
        }
      }
      await sleep(200);
    }
    return last;
  };
  H.summary = (cell) => ({
    index: H.mustPanel().content.widgets.indexOf(cell),
    executionCount: cell.model.executionCount,
    outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : [],
  });
  H.runCell = async (code, newCell, timeoutMs) => {
    const p = H.mustPanel();
    const nb = p.content;
    const n = nb.widgets.length;
    const last = n ? nb.widgets[n - 1] : null;
    let index = n - 1;
    if (newCell || !last || last.model.type !== 'code') {
      index = n;
      nb.model.sharedModel.insertCell(index, { cell_type: 'code', source: code, metadata: {} });
    } else {
      last.model.sharedModel.setSource(code);
    }
    return H.runIndex(index, timeoutMs);
  };
  H.runIndex = async (index, timeoutMs) => {
    const p = H.mustPanel();
    const nb = p.content;
    nb.activeCellIndex = index;
    nb.deselectAll();
    nb.mode = 'command';
    const cell = nb.widgets[index];
    let result;
    try {
      const run = window.jupyterapp.commands.execute('notebook:run-cell');
      result = await withTimeout(run, timeoutMs);
    } catch (e) {
      return { timedOut: true, error: String(e), ...H.summary(cell) };
    }
    return { timedOut: false, ok: result !== false, ...H.summary(cell) };
  };
  H.runAll = async (timeoutMs) => {
    const p = H.mustPanel();
    try {
      await withTimeout(window.jupyterapp.commands.execute('notebook:run-all-cells'), timeoutMs);
    } catch (e) {
      return { timedOut: true, error: String(e) };
    }
    return { timedOut: false, cells: p.content.widgets.map((c) => H.summary(c)) };
  };
  H.deleteCell = (index) => { H.mustPanel().content.model.sharedModel.deleteCell(index); };
  H.cellCount = () => H.mustPanel().content.widgets.length;
  window.__lstmviz = H;
  return true;
}
"""


def _helpers(page: Any) -> None:
    page.evaluate(_JS_HELPERS)


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


# ---------------------------------------------------------------------------------------------
# lstmviz-specific
# ---------------------------------------------------------------------------------------------

_CANVAS_DRAWN = """
(root) => {
  const c = root.querySelector('canvas');
  if (!c || !c.width || !c.height || !c.getBoundingClientRect().width) return false;
  let ctx = null;
  try { ctx = c.getContext('2d'); } catch (e) { return true; }
  if (!ctx) return true;  // a WebGL canvas: being laid out is all we can check
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4 * 7) if (d[i] !== 0) return true;
  return false;
}
"""


def wait_for_explorer(page: Any, *, nth: int = 0, timeout: float = 120.0):
    """Wait until the ``nth`` explorer on the page is visible with its heatmap drawn.

    Returns the root locator (``div.lstmviz``). Raises :class:`LabError` with what the page
    shows instead (an error panel, nothing) on timeout.
    """
    root = page.locator("div.lstmviz").nth(nth)
    try:
        root.wait_for(state="visible", timeout=timeout * 1000)
        root.scroll_into_view_if_needed()
        page.wait_for_function(
            _CANVAS_DRAWN, arg=root.element_handle(), timeout=timeout * 1000, polling=100
        )
    except Exception as e:
        errors = page.locator(".lstmviz-error")
        shown = errors.first.inner_text() if errors.count() else "(no .lstmviz-error)"
        raise LabError(
            f"explorer #{nth} did not render: {e}\nerror panel: {shown}\nbrowser log:\n"
            + "\n".join(getattr(page, "console_log", [])[-20:])
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
