"""Frontend benchmark: bytes on the wire, first render and scrub frame times in Chromium.

``python bench/frontend.py [--quick]`` prints one table measured in one run, the machine on top:

1. *wire ÷ raw float32*: the explorer's state as ipywidgets sends it (``get_state()`` then
   ``_remove_buffers``: the JSON text plus every binary buffer; the code, ``_esm``/``_css``,
   is reported apart) ÷ the float32 bytes of every array the payload carries (elements × 4,
   whatever dtype the array travels in). Default transport (goal ≤ 1.05) and
   ``transport="float16"`` (goal ≤ 0.55).
2. In headless Chromium (Playwright, ``/usr/bin/chromium``, 1200×900) a page served from
   127.0.0.1 (``bench/page/``) renders a copy of ``lstmviz_widget/static/widget.js`` taken at the
   start, with a fake anywidget model whose state is that same message: the JSON with each
   buffer put back at its path as a ``DataView`` (what anywidget hands a widget). Synthetic
   captures (``bench/synthetic.py``: a real LSTM run in numpy, with gradients, predictions,
   saliency and attention), B = 1, 512 units × 2,000 steps and 256 × 100,000:

   - *first render*: from the ``render()`` call to the end of the first frame after which the
     widget has no animation frame pending (its views have painted, no ``.lstmviz-error``);
     goal ≤ 1.5 s;
   - *scrub frame*: one ArrowRight on the focused ``div.lstmviz`` per measurement; the main
     thread's work that step causes: the key event and its frame's style/layout/paint, plus
     each following frame in which the widget had work queued (from the frame's first
     callback to the end of its rendering, style and layout forced), not the idle time
     between frames. Median (goal ≤ 16 ms) and p95 (goal ≤ 33 ms) at 512 × 2,000; max
     ≤ 33 ms at 100,000 steps. Zoom/pan the same way (Ctrl + wheel, Shift + wheel). Also the
     renderer's CPU time per step (``/proc/<pid>/task/*/schedstat``: main thread and all
     threads), which leaves out time other processes held the CPU;
   - *continuous*: one step per animation frame (a slider drag at the display's rate): the
     intervals between frames and the frames dropped; long animation frames (> 50 ms) from
     ``PerformanceObserver({type: "long-animation-frame"})``;
   - memory: JS heap and array-buffer backing stores (CDP ``Runtime.getHeapUsage`` after a GC)
     and the renderer process's RSS.
3. where the time goes: CDP CPU profiles (on a non-minified build of the same sources: self time
   per function, DOM calls charged to their JS caller, and per source module) of the first
   render and the scrub at 512 × 2,000 and of zoom/pan at 100,000 steps, and Chrome traces of
   the scrub and the zoom/pan (script, style, layout, paint, commit per step).

A screenshot of each case goes to ``artifacts/bench/``. ``--quick`` runs small sizes (a smoke
run, ~1 min). Timings on a shared 2-core VM vary from run to run (the load average is printed);
compare only runs on the same kind of machine.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import gc
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from ipywidgets.widgets.widget import _remove_buffers  # noqa: E402
from synthetic import synthetic_capture  # noqa: E402

from lstmviz_widget import LSTMExplorer  # noqa: E402
from tests.lab import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

STATIC = ROOT / "lstmviz_widget" / "static"
PAGE = HERE / "page"
ARTIFACTS = ROOT / "artifacts" / "bench"
VIEWPORT = {"width": 1200, "height": 900}

GOALS = {
    "wire_f32": 1.05,
    "wire_f16": 0.55,
    "first_render_ms": 1500.0,
    "frame_median_ms": 16.0,
    "frame_p95_ms": 33.0,
    "large_frame_max_ms": 33.0,
}


# ---- machine ---------------------------------------------------------------------------------
def machine() -> str:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as fh:
        cpu = next(x.split(":", 1)[1].strip() for x in fh if x.startswith("model name"))
    mem = ""
    with contextlib.suppress(OSError, StopIteration):
        with open("/proc/meminfo") as fh:
            kib = int(next(x.split()[1] for x in fh if x.startswith("MemTotal")))
        mem = f", {kib / 2**20:.0f} GiB RAM"
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


# ---- bytes on the wire -----------------------------------------------------------------------
def _arrays(obj: Any):
    """Every ``{dtype, shape, data}`` in the payload (data still a buffer)."""
    if isinstance(obj, dict):
        if "shape" in obj and isinstance(obj.get("data"), (bytes, bytearray, memoryview)):
            yield obj
            return
        for v in obj.values():
            yield from _arrays(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _arrays(v)


def _json_bytes(obj: Any) -> bytes:
    """As jupyter_client packs a message (``json.dumps``, ``ensure_ascii=False``)."""
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN/inf: jupyter_client falls back to allowing them
        text = json.dumps(obj, ensure_ascii=False)
    return text.encode("utf8")


def wire(widget: LSTMExplorer) -> dict[str, Any]:
    """The explorer's state as ipywidgets sends it, split into JSON, buffers and code."""
    state = widget.get_state()
    code = {k: len(str(state.pop(k)).encode()) for k in ("_esm", "_css") if k in state}
    arrays = list(_arrays(state.get("_data", {})))
    raw32 = sum(math.prod(a["shape"]) * 4 for a in arrays)
    by_dtype = Counter()
    for a in arrays:
        by_dtype[a["dtype"]] += math.prod(a["shape"]) * 4
    stripped, paths, buffers = _remove_buffers(state)
    js = _json_bytes(stripped)
    buf = sum(memoryview(b).nbytes for b in buffers)
    return {
        "json": len(js),
        "buffers": buf,
        "raw32": raw32,
        "ratio": (len(js) + buf) / raw32,
        "code": code,
        "n_arrays": len(arrays),
        "raw32_by_dtype": dict(by_dtype),
        "stripped": stripped,
        "json_text": js,
        "paths": paths,
        "buffer_list": buffers,
    }


def write_state(w: dict[str, Any], folder: Path) -> int:
    """state.json (the JSON part, paths, buffer file names) and one file per buffer."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i, b in enumerate(w["buffer_list"]):
        name = f"buf{i}.bin"
        with open(folder / name, "wb") as fh:
            fh.write(memoryview(b).cast("B"))
        names.append(name)
    # the same JSON text that was measured, wrapped with the paths of the buffers
    meta = b'{"state": ' + w["json_text"] + b', "paths": ' + json.dumps(w["paths"]).encode()
    meta += b', "buffers": ' + json.dumps(names).encode() + b"}"
    (folder / "state.json").write_bytes(meta)
    return sum(memoryview(b).nbytes for b in w["buffer_list"])


def has_transport() -> bool:
    import inspect

    return "transport" in inspect.signature(LSTMExplorer.__init__).parameters


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


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summarize_steps(steps: list[dict]) -> dict[str, float]:
    totals = [sum(s["frames"]) for s in steps]
    first = [s["frames"][0] for s in steps]
    later = [sum(s["frames"][1:]) for s in steps]
    worst = [max(s["frames"]) for s in steps]
    return {
        "n": len(steps),
        "median": statistics.median(totals),
        "p95": pct(totals, 0.95),
        "max": max(totals),
        "first_median": statistics.median(first),
        "later_median": statistics.median(later),
        "worst_frame_p95": pct(worst, 0.95),
        "frames_per_step": statistics.median(len(s["frames"]) for s in steps),
    }


def summarize_intervals(iv: list[float], refresh: float) -> dict[str, float]:
    dropped = sum(max(0, round(v / refresh) - 1) for v in iv)
    return {
        "n": len(iv),
        "median": statistics.median(iv),
        "p95": pct(iv, 0.95),
        "max": max(iv),
        "dropped": dropped,
        "fps": 1000.0 * len(iv) / sum(iv),
    }


def summarize_loafs(loafs: list[dict]) -> dict[str, Any]:
    if not loafs:
        return {"n": 0, "max": 0.0, "top": ""}
    fns = Counter()
    for e in loafs:
        for s in e["scripts"]:
            fns[s["invoker"] or s["fn"] or "?"] += s["duration"]
    top = ", ".join(f"{k} {v:.0f} ms" for k, v in fns.most_common(2))
    return {"n": len(loafs), "max": max(e["duration"] for e in loafs), "top": top}


BENCH = "bench page"


def profile(pg: Page, expr: str, arg: Any, marks: list[tuple[int, str]]) -> dict[str, Any]:
    """CPU profile of ``pg.js(expr, arg)``; self time per function and per source module."""
    pg.cdp.send("Profiler.enable")
    pg.cdp.send("Profiler.setSamplingInterval", {"interval": 100})
    pg.cdp.send("Profiler.start")
    t0 = time.perf_counter()
    pg.js(expr, arg)
    wall = time.perf_counter() - t0
    prof = pg.cdp.send("Profiler.stop")["profile"]
    pg.cdp.send("Profiler.disable")
    nodes = {n["id"]: n for n in prof["nodes"]}
    parent = {c: n["id"] for n in prof["nodes"] for c in n.get("children", [])}
    self_us: Counter = Counter()
    deltas = prof.get("timeDeltas", [])
    for i, nid in enumerate(prof.get("samples", [])):
        if i + 1 < len(deltas):
            self_us[nid] += deltas[i + 1]
    starts = [m[0] for m in marks]

    def module(cf: dict) -> str:
        url = cf.get("url", "")
        if "/page/" in url:
            return BENCH
        if not url.endswith("/widget.js"):
            return url.rsplit("/", 1)[-1]
        k = bisect.bisect_right(starts, cf.get("lineNumber", 0)) - 1
        return marks[k][1] if k >= 0 else "bundle"

    def caller(nid: int) -> dict | None:
        """The nearest JS frame above a native one (getPropertyValue → who called it)."""
        while nid in parent:
            nid = parent[nid]
            cf = nodes[nid]["callFrame"]
            if cf.get("url"):
                return cf
        return None

    by_fn: Counter = Counter()
    by_mod: Counter = Counter()
    idle = 0
    for nid, us in self_us.items():
        cf = nodes[nid]["callFrame"]
        name = cf.get("functionName") or "(anonymous)"
        if name == "(idle)":
            idle += us
            continue
        if cf.get("url"):
            mod = module(cf)
            key = f"{name} ({mod})"
        elif name.startswith("("):  # (program), (garbage collector): no JS caller
            mod = key = name
        else:  # a DOM/native function: charge it to the JS that called it
            up = caller(nid)
            mod = module(up) if up else "(native)"
            key = f"{name} ← {(up.get('functionName') or '(anonymous)') if up else '?'} ({mod})"
        by_fn[key] += us
        by_mod[mod] += us
    busy = sum(by_fn.values())
    return {
        "busy_ms": busy / 1e3,
        "idle_ms": idle / 1e3,
        "wall_s": wall,
        "by_fn": by_fn,
        "by_mod": by_mod,
    }


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline"]
#: Main-thread trace events → what the time is spent on (self time; nested events subtracted).
TRACE_GROUPS = {
    "FunctionCall": "script",
    "v8.callFunction": "script",
    "FireAnimationFrame": "script",
    "EventDispatch": "script",
    "TimerFire": "script",
    "EvaluateScript": "script",
    "v8.compile": "script",
    "UpdateLayoutTree": "style",
    "Layout": "layout",
    "PrePaint": "paint",
    "Paint": "paint",
    "PaintImage": "paint",
    "Layerize": "paint",
    "UpdateLayer": "paint",
    "Commit": "commit (main thread waits for the compositor)",
    "HitTest": "other",
}


def trace_breakdown(trace: bytes) -> dict[str, float]:
    """Self time (ms) of the renderer main thread's trace events, grouped (TRACE_GROUPS)."""
    data = json.loads(trace)
    events = data["traceEvents"] if isinstance(data, dict) else data
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e.get("args", {}).get("name") == "CrRendererMain"
    }
    per_thread: dict[tuple, list] = defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains and "dur" in e:
            per_thread[(e["pid"], e["tid"])].append(e)
    if not per_thread:
        return {}
    # the busiest renderer main thread is the bench page's
    evs = max(per_thread.values(), key=lambda v: sum(e["dur"] for e in v if e["name"] == "RunTask"))
    evs.sort(key=lambda e: (e["ts"], -e["dur"]))
    out: dict[str, float] = defaultdict(float)
    stack: list[list] = []  # [end, group, duration, time of direct children]
    for e in evs:
        while stack and e["ts"] >= stack[-1][0]:
            _, group, dur, child = stack.pop()
            out[group] += (dur - child) / 1e3
        name = e["name"]
        if name.startswith("V8.GC") or name in ("MinorGC", "MajorGC"):
            group = "GC"
        elif name == "RunTask":
            group = "task overhead"
        else:
            group = TRACE_GROUPS.get(name, "other")
        if stack:
            stack[-1][3] += e["dur"]
        stack.append([e["ts"] + e["dur"], group, e["dur"], 0])
    while stack:
        _, group, dur, child = stack.pop()
        out[group] += (dur - child) / 1e3
    return dict(out)


# ---- the run ---------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


class Bench:
    """One run: the table (printed as it fills), notes, the browser and the served folders."""

    def __init__(self, browser: Any, base: str, tmp: Path) -> None:
        self.browser = browser
        self.base = base
        self.tmp = tmp
        self.notes: list[str] = []

    def row(self, what: str, value: str, goal: str = "", verdict: str | bool = "") -> None:
        if isinstance(verdict, bool):
            verdict = _verdict(verdict)
        print(f"  {what:<60} {value:>16}  {goal:<8} {verdict}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def page(self, bundle: str = "/bundle/widget.js") -> Page:
        return Page(self.browser, self.base, bundle)

    # -- rows ----------------------------------------------------------------------------------
    def wire_rows(self, w: dict[str, Any], label: str, transport: str) -> None:
        goal = GOALS["wire_f32"] if transport == "float32" else GOALS["wire_f16"]
        self.row(
            f"wire ÷ raw float32, {label}, {transport}",
            f"{w['ratio']:.3f}",
            f"≤ {goal}",
            w["ratio"] <= goal,
        )
        left = w["raw32_by_dtype"].get("float32", 0) if transport != "float32" else 0
        detail = f"{w['json'] / 2**10:.1f} / {w['buffers'] / 2**20:.1f} / {w['raw32'] / 2**20:.1f}"
        self.row("  JSON (KiB) / buffers (MiB) / raw float32 (MiB)", detail)
        if left:
            self.row("  still float32: norms, PCA, weights… (MiB of raw)", f"{left / 2**20:.1f}")

    def render_rows(self, pg: Page, label: str) -> dict[str, Any]:
        r = pg.js("() => window.bench.render()")
        if r["error"]:
            self.row(f"first render, {label}", "ERROR", "≤ 1500", False)
            self.note(f"{label}: the widget showed an error: {r['error'][:300]}")
            return r
        ms = r["firstRenderMs"]
        self.row(
            f"first render, {label}, cold (ms)",
            f"{ms:.0f}",
            f"≤ {GOALS['first_render_ms']:.0f}",
            ms <= GOALS["first_render_ms"],
        )
        self.row(
            "  of which render() itself (ms) / frames until idle",
            f"{r['syncMs']:.0f} / {r['frames']}",
        )
        blank = [c for c in r["canvases"] if c["inked"] < 0.001]
        views = [v["cls"] for v in r["views"] if v["h"] > 0]
        self.note(
            f"{label}: {len(views)} views ({', '.join(views)}), page height {r['height']} px, "
            f"{len(r['canvases'])} canvases; empty ones (overlays stay empty until used): "
            + (", ".join(f"{c['owner']} {c['w']}×{c['h']}" for c in blank) or "none")
        )
        if not r["idle"]:
            self.note(f"{label}: animation frames still pending after {r['frames']} frames")
        if pg.errors:
            self.note(f"{label}: page errors: {pg.errors[:3]}")
        return r

    def scrub_rows(self, pg: Page, label: str, n: int, refresh: float, large: bool) -> None:
        pg.js("() => window.bench.takeLoafs()")
        before = pg.js("() => window.bench.timestep()")
        steps, cpu = pg.scrub(n)
        s = summarize_steps(steps)
        loafs = summarize_loafs(pg.js("() => window.bench.takeLoafs()"))
        moved = pg.js("() => window.bench.timestep()") != before
        if large:
            goal = GOALS["large_frame_max_ms"]
            self.row(
                f"scrub frame, {label}: max of {s['n']} (ms)",
                f"{s['max']:.1f}",
                f"≤ {goal:.0f}",
                s["max"] <= goal,
            )
            self.row("  median / p95 (ms)", f"{s['median']:.1f} / {s['p95']:.1f}")
        else:
            self.row(
                f"scrub frame, {label}: median of {s['n']} (ms)",
                f"{s['median']:.1f}",
                f"≤ {GOALS['frame_median_ms']:.0f}",
                s["median"] <= GOALS["frame_median_ms"],
            )
            self.row(
                "  p95 (ms)",
                f"{s['p95']:.1f}",
                f"≤ {GOALS['frame_p95_ms']:.0f}",
                s["p95"] <= GOALS["frame_p95_ms"],
            )
            self.row("  max (ms)", f"{s['max']:.1f}")
        self.row(
            "  key frame / later frames, medians (ms); frames",
            f"{s['first_median']:.1f} / {s['later_median']:.1f}; {s['frames_per_step']:.0f}",
        )
        self.row("  long animation frames (> 50 ms)", _loaf_text(loafs))
        if cpu[0] > 0:
            self.row(
                "  renderer CPU per step: main thread / all threads (ms)",
                f"{cpu[0]:.1f} / {cpu[1]:.1f}",
            )
        if not moved:
            self.row("  the cursor did not move", "", "", False)
        c = summarize_intervals(pg.js("n => window.bench.continuous(n)", n), refresh)
        loafs = summarize_loafs(pg.js("() => window.bench.takeLoafs()"))
        self.row(
            f"  continuous, 1 step per frame × {c['n']}: fps; dropped",
            f"{c['fps']:.0f}; {c['dropped']}",
            f"{1000 / refresh:.0f} fps",
        )
        self.row(
            "    frame interval median / p95 / max (ms)",
            f"{c['median']:.1f} / {c['p95']:.1f} / {c['max']:.0f}",
        )
        self.row("    long animation frames (> 50 ms)", _loaf_text(loafs))

    def zoom_rows(self, pg: Page, label: str, n: int) -> None:
        """Zoom/pan frames: Ctrl + wheel (zoom) and Shift + wheel (pan) on a time plot."""
        pg.js("() => window.bench.takeLoafs()")
        res = pg.js("n => window.bench.zoomPan(n)", n)
        if res is None:
            self.note(f"{label}: zoom/pan not measured (no time plot takes Ctrl + wheel)")
            return
        loafs = summarize_loafs(pg.js("() => window.bench.takeLoafs()"))
        s = summarize_steps(res["zoomIn"] + res["pan"] + res["zoomOut"])
        goal = GOALS["large_frame_max_ms"]
        self.row(
            f"zoom/pan frame, {label}: max of {s['n']} (ms)",
            f"{s['max']:.1f}",
            f"≤ {goal:.0f}",
            s["max"] <= goal,
        )
        med = [
            statistics.median(sum(x["frames"]) for x in res[k])
            for k in ("zoomIn", "pan", "zoomOut")
        ]
        self.row("  zoom in / pan / zoom out, medians (ms)", " / ".join(f"{m:.1f}" for m in med))
        self.row("  long animation frames (> 50 ms)", _loaf_text(loafs))
        target = res["target"].split()[0] if res["target"] else "?"
        self.note(f"{label}: zoom/pan by {n} wheel events each way on .{target}")

    def memory_rows(self, pg: Page) -> None:
        heap = pg.heap()
        backing = heap.get("backingStorageSize")
        text = f"{heap.get('usedSize', 0) / 2**20:.0f}"
        if backing is not None:
            text += f" + {backing / 2**20:.0f}"
        self.row(
            f"  JS heap{' + array buffers' if backing is not None else ''}, after GC (MiB)", text
        )
        rss = renderer_rss(os.getpid())
        if rss is not None:
            self.row("  renderer process RSS (MiB)", f"{rss / 2**20:.0f}")


def _loaf_text(s: dict[str, Any]) -> str:
    return f"{s['n']}" + (f" (max {s['max']:.0f} ms)" if s["n"] else "")


def print_profile(prof: dict, what: str, label: str, top: int = 14) -> None:
    busy = prof["busy_ms"]
    print(
        f"# CPU profile of {what}, {label} (non-minified build of the same sources, "
        f"100 µs sampling): {busy:.0f} ms busy on the main thread, {prof['idle_ms']:.0f} ms idle",
        flush=True,
    )
    print("#   self time by function (DOM calls: ← the JS function that made them):")
    for name, us in prof["by_fn"].most_common(top):
        print(f"#   {us / 1e3:>8.1f} ms {100 * us / 1e3 / busy:>5.1f}%  {name}")
    print(
        "#   self time by source module (DOM calls charged to their JS caller; (program) = "
        "style, layout, paint, commit outside JS calls):"
    )
    for name, us in prof["by_mod"].most_common(top - 2):
        print(f"#   {us / 1e3:>8.1f} ms {100 * us / 1e3 / busy:>5.1f}%  {name}", flush=True)
    print(
        "#   (bench page = the measuring code: its getBoundingClientRect is the style and layout "
        "that the widget's DOM changes force)"
    )


def print_trace(groups: dict[str, float], n: int, what: str, label: str) -> None:
    total = sum(groups.values())
    print(
        f"# Chrome trace of {what}, {label} (shipped bundle): the renderer main thread "
        f"is busy {total / n:.1f} ms per step (tracing adds overhead):"
    )
    for g, ms in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"#   {ms / n:>6.2f} ms/step {100 * ms / total:>5.1f}%  {g}", flush=True)


def run(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    quick = args.quick
    main_u, main_t = (128, 500) if quick else (512, 2000)
    big_u, big_t = (128, 5000) if quick else (256, 100_000)
    n_steps = args.steps or (60 if quick else 300)
    n_big = args.steps or (60 if quick else 150)
    n_prof = 40 if quick else 100
    n_zoom = 15 if quick else 30
    n_zoom_prof = 5 if quick else 10
    t_start = time.perf_counter()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="lstmviz-bench-"))
    status = 0
    try:
        print(f"# machine: {machine()}", flush=True)
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"# load average at the start: {load} (other processes skew the timings)")
        # One bundle for the whole run (lstmviz_widget/static may be rebuilt meanwhile): a copy
        # of the shipped one, and a non-minified build of the same sources for the profile.
        stale = bundle_staleness()
        bundle = tmp / "bundle"
        bundle.mkdir()
        for name in ("widget.js", "widget.css"):
            shutil.copy2(STATIC / name, bundle / name)
        dev = dev_bundle(tmp / "dev")
        marks = module_lines(dev / "widget.js") if dev is not None else []
        zoom_prof = zoom_trace = None

        t0 = time.perf_counter()
        cap = synthetic_capture(main_u, main_t, attention=True)
        build_main = time.perf_counter() - t0
        w32 = wire(LSTMExplorer(cap))
        w16 = wire(LSTMExplorer(cap, transport="float16")) if has_transport() else None
        write_state(w32, tmp / "main")
        code = w32["code"]
        label = f"{main_u} units × {main_t} steps"

        roots = {"page": PAGE, "bundle": bundle, "data": tmp}
        if dev is not None:
            roots["dev"] = dev
        with sync_playwright() as pw, serve(roots) as base:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            b = Bench(browser, base, tmp)
            built = time.strftime(
                "%Y-%m-%d %H:%M", time.localtime((bundle / "widget.js").stat().st_mtime)
            )
            print(
                f"# browser: Chromium {browser.version}, headless, software rendering, "
                f"viewport {VIEWPORT['width']}×{VIEWPORT['height']}\n"
                f"# bundle: lstmviz_widget/static/widget.js built {built}; _esm "
                f"{code.get('_esm', 0) / 1024:.0f} KiB + _css {code.get('_css', 0) / 1024:.0f} KiB "
                f"(the code: sent once per widget, not counted below)"
                + (f"\n# {stale}" if stale else "")
                + f"\n# data: synthetic LSTM captures (bench/synthetic.py), B=1; the {label} one "
                f"built in {build_main:.1f} s",
                flush=True,
            )
            print(f"  {'measure':<60} {'value':>16}  {'goal':<8} verdict", flush=True)

            # ---- 1. bytes on the wire ----------------------------------------------------
            b.wire_rows(w32, label, "float32")
            if w16 is not None:
                b.wire_rows(w16, label, "float16")
            else:
                b.row(f"wire ÷ raw float32, {label}, float16", "no transport=", "≤ 0.55", "n/a")
            del w16

            # ---- 2. first render, scrub, memory ------------------------------------------
            pg = b.page()
            if not pg.js("() => window.bench.loafSupported"):
                b.note("long-animation-frame entries: not supported by this Chromium")
            loaded = pg.js("d => window.bench.load(d)", "main")
            b.note(f"{label}: {loaded['bytes'] / 2**20:.1f} MiB fetched in {loaded['ms']:.0f} ms")
            r = b.render_rows(pg, label)
            ok = not r["error"]
            warm = []
            for _ in range(2):
                pg.js("d => window.bench.load(d)", "main")
                warm.append(pg.js("() => window.bench.render()")["firstRenderMs"])
            b.row(
                f"  warm: median of {len(warm)} re-renders (ms)", f"{statistics.median(warm):.0f}"
            )
            shot = ARTIFACTS / f"frontend-{main_u}x{main_t}.png"
            pg.page.screenshot(path=str(shot), full_page=True)
            b.note(f"screenshot: {shot.relative_to(ROOT)}")
            refresh = statistics.median(pg.js("n => window.bench.idleFrames(n)", 60))
            b.note(f"display refresh interval (idle rAF): {refresh:.2f} ms")
            if ok:
                b.scrub_rows(pg, label, n_steps, refresh, large=False)
                b.zoom_rows(pg, label, n_zoom)
                b.memory_rows(pg)
            else:
                status = 1
            pg.close()
            del w32

            # ---- 3. the long sequence ------------------------------------------------------
            del cap
            gc.collect()
            t0 = time.perf_counter()
            big = synthetic_capture(big_u, big_t, attention=False)
            blabel = f"{big_u} units × {big_t:,} steps"
            b.note(
                f"{blabel}: built in {time.perf_counter() - t0:.1f} s; no attention "
                f"(its B·T² scores would be {big_t**2 * 4 / 2**30:.1f} GiB)"
            )
            transports = ["float32", "float16"] if has_transport() else ["float32"]
            folders = {}
            for tr in transports:
                wb = wire(LSTMExplorer(big, **({"transport": tr} if tr != "float32" else {})))
                b.wire_rows(wb, blabel, tr)
                folders[tr] = f"big-{tr}"
                write_state(wb, tmp / folders[tr])
                del wb
            del big
            gc.collect()
            for tr in transports:  # float16 only when the page cannot hold float32
                pg = b.page()
                try:
                    loaded = pg.js("d => window.bench.load(d)", folders[tr])
                    b.note(
                        f"{blabel}, {tr}: {loaded['bytes'] / 2**20:.0f} MiB fetched in "
                        f"{loaded['ms']:.0f} ms"
                    )
                    r = b.render_rows(pg, f"{blabel}, {tr}")
                except Exception as err:  # a crashed or exhausted page is a result
                    what = "the renderer crashed" if pg.crashed else str(err).splitlines()[0]
                    b.row(f"first render, {blabel}, {tr}", "failed", "≤ 1500", False)
                    b.note(f"{blabel}, {tr}: {what}")
                    pg.close()
                    continue
                pg.page.screenshot(
                    path=str(ARTIFACTS / f"frontend-{big_u}x{big_t}.png"), full_page=True
                )
                if not r["error"]:
                    refresh = statistics.median(pg.js("n => window.bench.idleFrames(n)", 30))
                    b.scrub_rows(pg, f"{blabel}, {tr}", n_big, refresh, large=True)
                    b.zoom_rows(pg, f"{blabel}, {tr}", n_zoom)
                    b.memory_rows(pg)
                    browser.start_tracing(page=pg.page, categories=TRACE_CATEGORIES)
                    pg.js("n => window.bench.zoomPan(n)", n_zoom_prof)
                    zoom_trace = (trace_breakdown(browser.stop_tracing()), f"{blabel}, {tr}")
                pg.close()
                if not r["error"] and dev is not None:  # profile zoom/pan on the dev build
                    pg = b.page("/dev/widget.js")
                    pg.js("d => window.bench.load(d)", folders[tr])
                    pg.js("() => window.bench.render()")
                    zoom_prof = (
                        profile(pg, "n => window.bench.zoomPan(n)", n_zoom_prof, marks),
                        f"{blabel}, {tr}",
                    )
                    pg.close()
                break
            for folder in folders.values():
                shutil.rmtree(tmp / folder, ignore_errors=True)

            # ---- 4. where the time goes -------------------------------------------------------
            if ok and dev is not None:
                pg = b.page("/dev/widget.js")
                pg.js("d => window.bench.load(d)", "main")
                first = profile(pg, "() => window.bench.render()", None, marks)
                prof = profile(pg, "n => window.bench.scrub(n)", n_prof, marks)
                pg.close()
                print_profile(first, "the first render (load excluded)", label, top=10)
                print_profile(prof, f"{n_prof} scrub steps", label)
            if zoom_prof is not None:
                what = f"zoom/pan ({n_zoom_prof} wheel events each way)"
                print_profile(zoom_prof[0], what, zoom_prof[1], top=10)
            elif dev is None:
                b.note("profile: skipped (node_modules/.bin/esbuild missing or the build failed)")
            if ok:
                pg = b.page()
                pg.js("d => window.bench.load(d)", "main")
                pg.js("() => window.bench.render()")
                browser.start_tracing(page=pg.page, categories=TRACE_CATEGORIES)
                pg.js("n => window.bench.scrub(n)", n_prof)
                groups = trace_breakdown(browser.stop_tracing())
                pg.close()
                print_trace(groups, n_prof, f"{n_prof} scrub steps", label)
            if zoom_trace is not None:
                what = f"zoom/pan, {3 * n_zoom_prof} wheel events"
                print_trace(zoom_trace[0], 3 * n_zoom_prof, what, zoom_trace[1])
            browser.close()
        for n in b.notes:
            print(f"# {n}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"# total run time {time.perf_counter() - t_start:.0f} s; load average at the end: {load}"
    )
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--steps", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"# frontend benchmark skipped: no Chromium at {CHROMIUM}")
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
