"""A private JupyterLab / Notebook 7 server on 127.0.0.1, started and stopped by PID."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
import weakref
from pathlib import Path
from typing import Any, Literal

from .errors import LabError

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
