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
import contextlib
import gc
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (ROOT, HERE):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from frontend_browser import (  # noqa: E402
    STATIC,
    VIEWPORT,
    Page,
    bundle_staleness,
    dev_bundle,
    module_lines,
    renderer_rss,
    serve,
)
from frontend_profile import (  # noqa: E402
    STEP_KEYS,
    TRACE_CATEGORIES,
    loaf_text,
    print_profile,
    print_trace,
    profile,
    summarize_intervals,
    summarize_loafs,
    summarize_steps,
    trace_breakdown,
)
from frontend_wire import has_transport, wire, write_state  # noqa: E402
from synthetic import synthetic_capture  # noqa: E402
from verdicts import Headline, emit  # noqa: E402

from lstmviz_widget import LSTMExplorer  # noqa: E402
from tests.lab import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

PAGE = HERE / "page"
ARTIFACTS = ROOT / "artifacts" / "bench"
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


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


class Bench:
    """One run: the table (printed as it fills), notes, the browser and the served folders.

    Every row with a verdict is a headline for ``bench/run.py``'s summary; a goal whose figure
    was not measured (a failed page, a scrub that did not move the cursor, nothing to zoom)
    is "NOT met" and makes the run incomplete (exit status 1).
    """

    def __init__(self, browser: Any, base: str, tmp: Path) -> None:
        self.browser = browser
        self.base = base
        self.tmp = tmp
        self.notes: list[str] = []
        self.headlines: list[Headline] = []

    def row(
        self, what: str, value: str, goal: str = "", verdict: str | bool = "", complete=True
    ) -> None:
        if isinstance(verdict, bool):
            verdict = _verdict(verdict)
        print(f"  {what:<60} {value:>16}  {goal:<8} {verdict}", flush=True)
        if verdict:
            self.headlines.append(Headline(what.strip(), value, goal, verdict, complete))

    def measure(
        self, what: str, value: float | None, goal: float, fmt: str, why: str | None = None
    ) -> None:
        """A goal row from a measured ``value`` (``why`` says why it does not count)."""
        shown = "n/a" if value is None else fmt.format(value)
        goal_text = f"≤ {goal:g}"
        if value is None or not math.isfinite(value) or why is not None:
            self.row(what, shown, goal_text, f"NOT met ({why or 'not measured'})", False)
        else:
            self.row(what, shown, goal_text, value <= goal)

    def failed(self, what: str, goal: float, why: str) -> None:
        self.measure(what, None, goal, "", why)

    @property
    def complete(self) -> bool:
        return all(h.complete for h in self.headlines)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def page(self, bundle: str = "/bundle/widget.js") -> Page:
        return Page(self.browser, self.base, bundle)

    # -- rows ----------------------------------------------------------------------------------
    def wire_rows(self, w: dict[str, Any], label: str, transport: str) -> None:
        goal = GOALS["wire_f32"] if transport == "float32" else GOALS["wire_f16"]
        self.measure(f"wire ÷ raw float32, {label}, {transport}", w["ratio"], goal, "{:.3f}")
        left = w["raw32_by_dtype"].get("float32", 0) if transport != "float32" else 0
        detail = f"{w['json'] / 2**10:.1f} / {w['buffers'] / 2**20:.1f} / {w['raw32'] / 2**20:.1f}"
        self.row("  JSON (KiB) / buffers (MiB) / raw float32 (MiB)", detail)
        if left:
            self.row("  still float32: norms, PCA, weights… (MiB of raw)", f"{left / 2**20:.1f}")

    def render_rows(self, pg: Page, label: str) -> dict[str, Any]:
        r = pg.js("() => window.bench.render()")
        if r["error"]:
            self.failed(f"first render, {label}", GOALS["first_render_ms"], "the widget erred")
            self.note(f"{label}: the widget showed an error: {r['error'][:300]}")
            return r
        self.measure(
            f"first render, {label}, cold (ms)",
            r["firstRenderMs"],
            GOALS["first_render_ms"],
            "{:.0f}",
            None if r["idle"] else "frames still pending",
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
        loafs = summarize_loafs(pg.js("() => window.bench.takeLoafs()"))
        after = pg.js("() => window.bench.timestep()")
        # a frame time counts only when the scrub did what it measures: moved the cursor
        why = None
        if not steps:
            why = "no step measured"
        elif after == before:
            why = "the cursor did not move"
        s = summarize_steps(steps) if steps else dict.fromkeys(STEP_KEYS, None)
        if large:
            goal = GOALS["large_frame_max_ms"]
            self.measure(f"scrub frame, {label}: max of {n} (ms)", s["max"], goal, "{:.1f}", why)
            if steps:
                self.row("  median / p95 (ms)", f"{s['median']:.1f} / {s['p95']:.1f}")
        else:
            self.measure(
                f"scrub frame, {label}: median of {n} (ms)",
                s["median"],
                GOALS["frame_median_ms"],
                "{:.1f}",
                why,
            )
            self.measure("  p95 (ms)", s["p95"], GOALS["frame_p95_ms"], "{:.1f}", why)
            if steps:
                self.row("  max (ms)", f"{s['max']:.1f}")
        self.note(f"{label}: scrub moved the cursor from {before} to {after} in {len(steps)} steps")
        if not steps:
            return
        self.row(
            "  key frame / later frames, medians (ms); frames",
            f"{s['first_median']:.1f} / {s['later_median']:.1f}; {s['frames_per_step']:.0f}",
        )
        self.row("  long animation frames (> 50 ms)", loaf_text(loafs))
        if cpu[0] > 0:
            self.row(
                "  renderer CPU per step: main thread / all threads (ms)",
                f"{cpu[0]:.1f} / {cpu[1]:.1f}",
            )
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
        self.row("    long animation frames (> 50 ms)", loaf_text(loafs))

    def zoom_rows(self, pg: Page, label: str, n: int) -> None:
        """Zoom/pan frames: Ctrl + wheel (zoom) and Shift + wheel (pan) on a time plot."""
        pg.js("() => window.bench.takeLoafs()")
        res = pg.js("n => window.bench.zoomPan(n)", n)
        goal = GOALS["large_frame_max_ms"]
        if res is None:
            self.failed(
                f"zoom/pan frame, {label}: max (ms)", goal, "no time plot takes Ctrl + wheel"
            )
            return
        loafs = summarize_loafs(pg.js("() => window.bench.takeLoafs()"))
        events = res["zoomIn"] + res["pan"] + res["zoomOut"]
        what = f"zoom/pan frame, {label}: max of {len(events)} (ms)"
        if not events:
            self.failed(what, goal, "no wheel event measured")
            return
        s = summarize_steps(events)
        self.measure(what, s["max"], goal, "{:.1f}")
        med = [
            statistics.median(sum(x["frames"]) for x in res[k]) if res[k] else float("nan")
            for k in ("zoomIn", "pan", "zoomOut")
        ]
        self.row("  zoom in / pan / zoom out, medians (ms)", " / ".join(f"{m:.1f}" for m in med))
        self.row("  long animation frames (> 50 ms)", loaf_text(loafs))
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
                b.failed(
                    f"wire ÷ raw float32, {label}, float16", GOALS["wire_f16"], "no transport="
                )
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
            else:  # nothing to scrub: those goals were not measured
                b.failed(
                    f"scrub frame, {label}: median (ms)", GOALS["frame_median_ms"], "no render"
                )
                b.failed("  p95 (ms)", GOALS["frame_p95_ms"], "no render")
                b.failed(
                    f"zoom/pan frame, {label}: max (ms)", GOALS["large_frame_max_ms"], "no render"
                )
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
            scrubbed_big = False
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
                    b.failed(f"first render, {blabel}, {tr}", GOALS["first_render_ms"], "failed")
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
                    scrubbed_big = True
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
            if not scrubbed_big:
                goal = GOALS["large_frame_max_ms"]
                b.failed(f"scrub frame, {blabel}: max (ms)", goal, "no render")
                b.failed(f"zoom/pan frame, {blabel}: max (ms)", goal, "no render")
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
        for h in b.headlines:
            print(emit(h))
        if not b.complete:
            status = 1
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
        print(f"# frontend benchmark NOT measured: no Chromium at {CHROMIUM}")
        print(emit(Headline("frontend (every figure)", "n/a", "", "NOT measured", False)))
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
