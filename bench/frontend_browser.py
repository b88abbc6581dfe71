"""Frontend benchmark, part 2: the page server, the bundles it serves, and the browser page."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATIC = ROOT / "lstmviz_widget" / "static"
VIEWPORT = {"width": 1200, "height": 900}


# ---- the page server -------------------------------------------------------------------------
class _Handler(SimpleHTTPRequestHandler):
    roots: ClassVar[dict[str, Path]] = {}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        if parts and parts[0] in self.roots:
            return str(self.roots[parts[0]].joinpath(*parts[1:]))
        return str(Path("/nonexistent"))

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(roots: dict[str, Path]):
    handler = type("Handler", (_Handler,), {"roots": roots})
    handler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


# ---- bundles ---------------------------------------------------------------------------------
def bundle_staleness() -> str | None:
    js = STATIC / "widget.js"
    if not js.exists():
        return "lstmviz_widget/static/widget.js is missing: run `npm run build`"
    sources = [p for p in (ROOT / "js").rglob("*") if p.suffix in (".ts", ".css")]
    sources = [p for p in sources if not p.name.endswith(".test.ts") and p.name != "testing.ts"]
    newer = [p for p in sources if p.stat().st_mtime > js.stat().st_mtime + 1]
    if newer:
        names = ", ".join(str(p.relative_to(ROOT)) for p in newer[:4])
        return f"WARNING: the bundle is older than {names}{' …' if len(newer) > 4 else ''}"
    return None


def dev_bundle(out: Path) -> Path | None:
    """The same sources bundled without minifying (readable names for the profile)."""
    esbuild = ROOT / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        return None
    done = subprocess.run(
        [
            str(esbuild),
            "js/widget.ts",
            "--bundle",
            "--format=esm",
            f"--outdir={out}",
            "--loader:.css=css",
            "--log-level=error",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return out if done.returncode == 0 and (out / "widget.js").exists() else None


def module_lines(bundle: Path) -> list[tuple[int, str]]:
    """(first line, source module) from esbuild's ``// js/views/x.ts`` markers (0-based)."""
    marks = []
    rx = re.compile(r"^// ((?:js|node_modules)/\S+)$")
    for i, line in enumerate(bundle.read_text().splitlines()):
        m = rx.match(line)
        if m:
            marks.append((i, m.group(1)))
    return marks


# ---- browser ---------------------------------------------------------------------------------
def renderer_rss(pid: int) -> int | None:
    """RSS of the largest Chromium renderer started below this process, in bytes."""
    try:
        import psutil
    except ImportError:
        return None
    best = None
    for proc in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "--type=renderer" in " ".join(proc.cmdline()):
                rss = proc.memory_info().rss
                best = rss if best is None else max(best, rss)
    return best


def page_renderer(pid: int) -> int | None:
    """The pid of the renderer holding the bench page: the largest renderer below us."""
    try:
        import psutil
    except ImportError:
        return None
    best, best_rss = None, -1
    for proc in psutil.Process(pid).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(proc.cmdline())
            if "--type=renderer" in cmd and "--top-chrome-webui" not in cmd:
                rss = proc.memory_info().rss
                if rss > best_rss:
                    best, best_rss = proc.pid, rss
    return best


def cpu_ns(pid: int | None) -> tuple[int, int]:
    """(main thread, all threads) time on a CPU so far, in ns (``/proc/*/schedstat``).

    Unlike wall time it leaves out the time other processes held the CPU, so it stays
    comparable on a busy machine."""
    if pid is None:
        return (0, 0)
    main = total = 0
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                    ns = int(fh.read().split()[0])
                total += ns
                if tid == str(pid):
                    main = ns
    return (main, total)


class Page:
    """One page of the bench site in a fresh browser context."""

    def __init__(self, browser: Any, base: str, bundle: str, timeout_s: float = 240) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(timeout_s * 1000)
        self.errors: list[str] = []
        self.crashed = False
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("crash", lambda *_: setattr(self, "crashed", True))
        self.page.goto(f"{base}/page/index.html")
        self.page.wait_for_function("window.bench !== undefined")
        self.page.evaluate("url => window.bench.init(url)", f"{base}{bundle}")
        self.cdp = self.context.new_cdp_session(self.page)
        self.renderer: int | None = None

    def cpu(self) -> tuple[int, int]:
        """(main thread, all threads) CPU ns of the page's renderer so far."""
        if self.renderer is None:
            self.renderer = page_renderer(os.getpid())
        return cpu_ns(self.renderer)

    def scrub(self, n: int) -> tuple[list[dict], tuple[float, float]]:
        """``n`` measured scrub steps, and the renderer's CPU ms per step (main, all threads)."""
        c0 = self.cpu()
        steps = self.js("n => window.bench.scrub(n)", n)
        c1 = self.cpu()
        return steps, ((c1[0] - c0[0]) / 1e6 / n, (c1[1] - c0[1]) / 1e6 / n)

    def js(self, expr: str, arg: Any = None) -> Any:
        return self.page.evaluate(expr, arg)

    def heap(self) -> dict[str, float]:
        with contextlib.suppress(Exception):
            self.cdp.send("HeapProfiler.collectGarbage")
        return self.cdp.send("Runtime.getHeapUsage")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.context.close()
