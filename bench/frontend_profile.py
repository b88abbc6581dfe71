"""Frontend benchmark, part 3: statistics of the measured frames, CPU profiles and traces."""

from __future__ import annotations

import bisect
import json
import math
import statistics
import time
from collections import Counter, defaultdict
from typing import Any

from frontend_browser import Page


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


STEP_KEYS = (
    "n",
    "median",
    "p95",
    "max",
    "first_median",
    "later_median",
    "worst_frame_p95",
    "frames_per_step",
)


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


def loaf_text(s: dict[str, Any]) -> str:
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
