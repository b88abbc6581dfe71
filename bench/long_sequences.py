"""Long sequences in a real JupyterLab: first heatmap, bytes, heap, zoom and tile latency.

``python bench/long_sequences.py [--quick] [--tiles auto|true|false]`` measures, for a real
``keras.layers.LSTM(U, return_sequences=True)`` on one sequence of 8 features (steps × units:
2,000 × 512, 20,000 × 256, 100,000 × 256, 1,000,000 × 256; ``--quick``: the first two):

- in the kernel, apart: ``capture()`` time, the kernel's RSS before it and its peak RSS
  (``ru_maxrss``), and the bytes the capture holds; peak growth ÷ held (goal ≤ 2 at 1M);
- *first heatmap*: the kernel stamps ``time.time()`` just before ``LSTMExplorer(cap, tiles=…)``
  in the cell; the page stamps ``Date.now()`` at the first animation frame in which the
  explorer's ``canvas.lstmviz-heatmap-canvas`` is painted (tests/lab/canvas.js: at least half
  of its sampled pixels opaque and unlike the background); same machine, same clock. Goal
  ≤ 1.5 s at 100k and 1M;
- *bytes*: what the page's websockets received (every ``message`` event's data size, counted
  by a WebSocket subclass installed before the page's own scripts) from the start of that cell
  to the first painted frame. Goal ≤ 8 MB at 100k and 1M;
- *JS heap*: V8's heap plus the array-buffer backing stores where typed arrays keep their
  data (``Runtime.getHeapUsage``: ``usedSize + backingStorageSize``, after
  ``HeapProfiler.collectGarbage``) after the first render, JupyterLab's own included (the same
  before the cell is printed too; each case runs in a fresh tab). Goal ≤ 300 MB at 1M;
- in tiled mode (``[data-view=heatmap]`` has ``data-tiled="true"``, the widget contract): the
  cursor is put at 0.618·T, then ``+`` pressed on the explorer root until the window is ≤ 256
  steps; each press that fetched tiles gives a *fetched-tile latency* (``dataset.tileMs``,
  request → the frame that drew it; goal ≤ 150 ms). Then ``-`` and ``+`` over the same windows
  (cached): *zoom frame* = ``dataset.drawMs`` (goal ≤ 33 ms), median and worst. At the
  deepest window, six Shift+wheel pans of 150 px right and six back (js/parts/timenav.ts): the
  drawMs of each pan that fetched nothing is a *pan frame* (goal ≤ 33 ms), a pan that fetched
  gives a tileMs. Then ``0``, the cursor at 0.25·T, and the zoom-in again (fresh tiles).
  Untiled there is no ``drawMs``:
  the zoom rows read "not measured" and only *key → frame* (the key event to the end of the
  next animation frame, vsync wait included) is printed, in both modes, as a comparison.

Chromium (Debian's ``/usr/bin/chromium``, ``--headless=new``) is started here and driven over
its debugging protocol (bench/cdp.py), never with the Network domain: Playwright's network
capture copies every websocket frame and dies on frames over 512 MB. JupyterLab comes from
tests/lab (``start_lab``, ``expose_app_in_browser``). One kernel per case, shut down after.

``--tiles`` is passed to ``LSTMExplorer``; today's explorer (before issue 13) has no
``tiles=`` argument, so ``auto``/``false`` then measure the untiled path and ``true`` reports
every case as not attempted. Untiled, a case whose arrays would exceed 2 GB of float32 (the
1M × 256 case: h, c and four gates, ~6.1 GB) is not displayed (reported as refused); its
capture is still measured. Verdicts come only from measured values (bench/verdicts.py): a case
refused, failed or not reached reads "NOT measured"/"NOT met" and the run exits non-zero.
Timings on the shared 2-core VM vary with its load (printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
from cdp import CdpPage, Chromium  # noqa: E402
from verdicts import emit, headline  # noqa: E402

from tests import lab as ld  # noqa: E402

CASES = [(2_000, 512), (20_000, 256), (100_000, 256), (1_000_000, 256)]
QUICK = CASES[:2]
FEATURES = 8
#: Untiled, a case is not displayed when h, c and the gates would exceed this (float32).
UNTILED_LIMIT = 2 * 2**30
#: The issue's goals.
GOAL_FIRST_S, GOAL_MB, GOAL_ZOOM_MS, GOAL_TILE_MS, GOAL_HEAP_MB = 1.5, 8.0, 33.0, 150.0, 300.0
MB = 2**20
TILES_ARG = {"auto": "'auto'", "true": "True", "false": "False"}

CAPTURE_CELL = """\
import os, time, json, resource, inspect
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, keras
from lstmviz_widget import LSTMExplorer, capture
def _rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
keras.utils.set_random_seed(0)
T, U, D = {steps}, {units}, {features}
inp = keras.Input((None, D))
model = keras.Model(inp, keras.layers.LSTM(U, return_sequences=True, name="lstm")(inp))
seq = np.random.default_rng(0).normal(size=(1, T, D)).astype("float32")
_before = _rss()
_t = time.time()
cap = capture(model, seq)
_capture_s = time.time() - _t
_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def _nbytes(o):
    if isinstance(o, np.ndarray):
        return o.nbytes
    return sum(_nbytes(v) for v in o.values()) if isinstance(o, dict) else 0
_held = sum(_nbytes(v) for v in vars(cap["lstm"]).values())
_has_tiles = "tiles" in inspect.signature(LSTMExplorer.__init__).parameters
print("<<R>>" + json.dumps(dict(capture_s=_capture_s, rss_before=_before, rss_peak=_peak,
      held=int(_held), has_tiles=_has_tiles)) + "<<R>>")
"""

EXPLORER_CELL = """\
import time
_t0 = time.time()
explorer = LSTMExplorer(cap{tiles_kw})
_built_s = time.time() - _t0
explorer
"""

# The heatmap's dataset (docs/widget-contract.md) and whether tiles are in flight.
HEATMAP_STATE = """() => {
  const h = document.querySelector('div.lstmviz [data-view=heatmap]');
  const r = document.querySelector('div.lstmviz');
  return h ? { ...h.dataset, timestep: r && r.dataset.timestep } : null;
}"""

# One zoom key on the explorer root (a keydown as the browser sends it); resolves at the end
# of the next animation frame: the key → frame time (ms).
ZOOM_KEY = """async (key) => {
  const root = document.querySelector('div.lstmviz');
  root.focus();
  const t0 = performance.now();
  root.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  await new Promise((r) => requestAnimationFrame(() => r()));
  return performance.now() - t0;
}"""

# One Shift+wheel pan of `dx` pixels on the heatmap canvas (js/parts/timenav.ts); resolves at
# the end of the next animation frame: the event → frame time (ms).
PAN_WHEEL = """async (dx) => {
  const c = document.querySelector('div.lstmviz canvas.lstmviz-heatmap-canvas');
  const r = c.getBoundingClientRect();
  const t0 = performance.now();
  c.dispatchEvent(new WheelEvent('wheel', { deltaX: dx, deltaY: 0, shiftKey: true, bubbles: true,
    cancelable: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 }));
  await new Promise((r) => requestAnimationFrame(() => r()));
  return performance.now() - t0;
}"""

# Two frames with no tile in flight.
SETTLED = """async (timeoutMs) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const t0 = performance.now();
  const h = () => document.querySelector('div.lstmviz [data-view=heatmap]');
  await frame();
  while (h() && h().dataset.pending && h().dataset.pending !== '0') {
    if (performance.now() - t0 > timeoutMs) return false;
    await frame();
  }
  await frame();
  return true;
}"""


@dataclass
class Case:
    steps: int
    units: int
    capture: dict[str, Any] = field(default_factory=dict)
    first_s: float | None = None
    built_s: float | None = None
    bytes_: int | None = None
    heap: int | None = None
    heap_before: int | None = None
    heap_buffers: int | None = None
    renderer_rss: int | None = None
    tiled: bool | None = None
    zoom_ms: list[float] = field(default_factory=list)  # drawMs, cached
    pan_ms: list[float] = field(default_factory=list)  # drawMs of pans that fetched nothing
    tile_ms: list[float] = field(default_factory=list)  # tileMs after a fetch
    key_frame_ms: list[float] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def name(self) -> str:
        return f"{self.steps:,} × {self.units}"

    @property
    def untiled_bytes(self) -> int:
        return 6 * self.steps * self.units * 4  # h, c, i, f, g, o in float32


def _median(v: list[float]) -> float | None:
    return statistics.median(v) if v else None


def _worst(v: list[float]) -> float | None:
    return max(v) if v else None


def _number(s: Any) -> float | None:
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def expect_tiled(case: Case, flag: str, has_tiles: bool) -> bool:
    """Whether the explorer will tile (the tiles="auto" rule), from the bench's side."""
    if not has_tiles or flag == "false":
        return False
    return flag == "true" or case.steps > 20_000 or case.untiled_bytes > 64 * MB


def zoom_until(page: CdpPage, case: Case, key: str, *, fetched: bool | None, n: int | None) -> int:
    """Press ``key`` until the window is ≤ 256 steps (``n=None``) or ``n`` times, recording per
    press: ``fetched=True``: the tileMs of a press that fetched; ``False`` (cached): the drawMs
    (a press that fetched after all goes to tileMs, with a note); ``None`` (a pan, ``key`` =
    ``"pan:<px>"``): tileMs if it fetched, else its drawMs as a cached pan frame. Returns the
    presses made."""
    done = 0
    while n is None or done < n:
        before = page.evaluate(HEATMAP_STATE) or {}
        if key.startswith("pan:"):
            case.key_frame_ms.append(float(page.evaluate(PAN_WHEEL, float(key[4:]))))
        else:
            case.key_frame_ms.append(float(page.evaluate(ZOOM_KEY, key)))
        if not page.evaluate(SETTLED, 30_000):
            case.note += f" tiles still pending 30 s after a '{key}';"
        after = page.evaluate(HEATMAP_STATE) or {}
        done += 1
        case.levels.append(str(after.get("level")))
        new_tile = after.get("tileMs") is not None and after.get("tileMs") != before.get("tileMs")
        tile, draw = _number(after.get("tileMs")), _number(after.get("drawMs"))
        if after.get("window") == before.get("window"):  # nothing drawn: its drawMs is stale
            case.note += f" a '{key}' did not move the window;"
            tile = draw = None
        if new_tile and tile is not None and fetched is False:
            case.note += " a 'cached' zoom fetched a tile;"  # evicted, or a shifted window
        if new_tile and tile is not None:
            case.tile_ms.append(tile)
        elif draw is not None and fetched is not True:
            (case.zoom_ms if fetched is False else case.pan_ms).append(draw)
        w = [int(x) for x in str(after.get("window", "0,0")).split(",")[:2]]
        if n is None and (w[1] - w[0] <= 256 or done >= 20):
            break
    return done


def set_cursor(page: CdpPage, t: int) -> None:
    ld.run_cell(page, f"explorer.timestep = {t}")
    page.wait_for_function(
        "(t) => document.querySelector('div.lstmviz')?.dataset.timestep === t",
        arg=str(t),
        timeout=30_000,
    )


def zoom_checks(page: CdpPage, case: Case) -> None:
    set_cursor(page, int(case.steps * 0.618))
    presses = zoom_until(page, case, "+", fetched=True, n=None)
    zoom_until(page, case, "-", fetched=False, n=presses)
    zoom_until(page, case, "+", fetched=False, n=presses)
    zoom_until(page, case, "pan:150", fetched=None, n=6)  # Shift+wheel: right, then back
    zoom_until(page, case, "pan:-150", fetched=None, n=6)
    zoom_until(page, case, "0", fetched=False, n=1)
    set_cursor(page, int(case.steps * 0.25))
    zoom_until(page, case, "+", fetched=True, n=None)


def run_case(page: CdpPage, server: ld.LabServer, folder: Path, case: Case, flag: str) -> None:
    name = f"long-{case.steps}-{case.units}-{uuid.uuid4().hex[:6]}.ipynb"
    ld.write_notebook(folder / name, [])
    ld.open_notebook(page, server, name, timeout=180)
    out = ld.run_cell(
        page,
        CAPTURE_CELL.format(steps=case.steps, units=case.units, features=FEATURES),
        timeout=900,
    )
    case.capture = json.loads(out.split("<<R>>")[1])
    has_tiles = bool(case.capture["has_tiles"])
    if flag == "true" and not has_tiles:
        case.note = "not attempted: LSTMExplorer has no tiles= (tiled side not merged)"
        return
    tiled = expect_tiled(case, flag, has_tiles)
    if not tiled and case.untiled_bytes > UNTILED_LIMIT:
        case.note = (
            f"refused: untiled it would send ~{case.untiled_bytes / 2**30:.1f} GiB of float32 "
            "(not attempted)"
        )
        return
    case.heap_before = page.heap()["total"]
    page.evaluate("(src) => window.__bench.arm(src)", ld.load_js("canvas.js"))
    kw = f", tiles={TILES_ARG[flag]}" if has_tiles else ""
    ld.run_cell(page, EXPLORER_CELL.format(tiles_kw=kw), timeout=900)
    page.wait_for_function("() => window.__bench.paint", timeout=600_000, polling=100)
    paint = page.evaluate("() => window.__bench.paint")
    t0, built, tiled_py = ld.kernel_value(
        page, "[_t0, _built_s, bool(getattr(explorer, 'tiled', False))]"
    )
    case.first_s = paint["at"] / 1000 - t0
    case.built_s = built
    case.bytes_ = int(paint["bytes"])
    heap = page.heap()
    case.heap, case.heap_buffers = heap["total"], heap["buffers"]
    state = page.evaluate(HEATMAP_STATE) or {}
    case.tiled = state.get("tiled") == "true"
    if case.tiled != tiled_py:
        case.note += f" page tiled={case.tiled} but explorer.tiled={tiled_py};"
    zoom_checks(page, case) if case.tiled else untiled_zoom(page, case)


def untiled_zoom(page: CdpPage, case: Case) -> None:
    """Event → frame of zooms and pans untiled (no drawMs there): 6 presses in, 3 pans right,
    3 back, 6 presses out."""
    for key in ["+"] * 6 + [150.0] * 3 + [-150.0] * 3 + ["-"] * 6:
        fn = ZOOM_KEY if isinstance(key, str) else PAN_WHEEL
        case.key_frame_ms.append(float(page.evaluate(fn, key)))
        page.evaluate(SETTLED, 30_000)


def fmt(v: float | None, unit: str = "", digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}{unit}"


def report(cases: list[Case], flag: str, quick: bool) -> bool:
    print(f"\n## long sequences in JupyterLab (--tiles {flag})\n")
    print(
        "| steps × units | capture s | RSS before → peak GiB | held GiB | peak growth ÷ held "
        "| explorer built s | first heatmap s | MB before render "
        "| JS heap + buffers MB (buffers; before the cell) | renderer RSS MB "
        "| tiled | zoom drawMs med / worst | pan drawMs med / worst | tileMs med / worst "
        "| key/wheel→frame med ms | note |"
    )
    print("|" + "---|" * 16)
    for c in cases:
        cap = c.capture
        growth = None
        if cap:
            growth = (cap["rss_peak"] - cap["rss_before"]) / max(cap["held"], 1)
        print(
            f"| {c.name} | {fmt(cap.get('capture_s'))} "
            f"| {fmt(cap.get('rss_before', 0) / 2**30 if cap else None)} → "
            f"{fmt(cap.get('rss_peak', 0) / 2**30 if cap else None)} "
            f"| {fmt(cap.get('held', 0) / 2**30 if cap else None, digits=3)} | {fmt(growth)} "
            f"| {fmt(c.built_s)} | {fmt(c.first_s)} "
            f"| {fmt(None if c.bytes_ is None else c.bytes_ / MB, digits=1)} "
            f"| {fmt(None if c.heap is None else c.heap / MB, digits=0)} "
            f"({fmt(None if c.heap_buffers is None else c.heap_buffers / MB, digits=0)}; "
            f"{fmt(None if c.heap_before is None else c.heap_before / MB, digits=0)}) "
            f"| {fmt(None if c.renderer_rss is None else c.renderer_rss / MB, digits=0)} "
            f"| {c.tiled} "
            f"| {fmt(_median(c.zoom_ms), digits=1)} / {fmt(_worst(c.zoom_ms), digits=1)} "
            f"| {fmt(_median(c.pan_ms), digits=1)} / {fmt(_worst(c.pan_ms), digits=1)} "
            f"| {fmt(_median(c.tile_ms), digits=1)} / {fmt(_worst(c.tile_ms), digits=1)} "
            f"| {fmt(_median(c.key_frame_ms), digits=1)} | {c.note.strip()} |"
        )
    for c in cases:
        if c.levels:
            print(f"levels drawn after each key, {c.name}: {' '.join(c.levels)}")
    big = [c for c in cases if c.steps >= 100_000] or cases  # --quick: the cases it ran
    at_1m = [c for c in cases if c.steps >= 1_000_000] or big[-1:]
    tag = ", ".join(f"{c.steps // 1000}k" for c in big)
    tag1 = ", ".join(f"{c.steps // 1000}k" for c in at_1m)
    q = " (quick)" if quick else ""
    rows = [
        headline(f"long: first heatmap{q} ({tag})", [c.first_s for c in big], GOAL_FIRST_S,
                 unit=" s"),
        headline(f"long: MB before first render{q} ({tag})",
                 [None if c.bytes_ is None else c.bytes_ / MB for c in big], GOAL_MB, unit=" MB",
                 digits=1),
        headline(f"long: cached zoom drawMs median{q} ({tag})",
                 [_median(c.zoom_ms) for c in big], GOAL_ZOOM_MS, unit=" ms", digits=1),
        headline(f"long: cached zoom drawMs worst{q} ({tag})",
                 [_worst(c.zoom_ms) for c in big], GOAL_ZOOM_MS, unit=" ms", digits=1),
        headline(f"long: cached pan drawMs worst{q} ({tag})",
                 [_worst(c.pan_ms) for c in big], GOAL_ZOOM_MS, unit=" ms", digits=1),
        headline(f"long: fetched tile drawn, worst{q} ({tag})",
                 [_worst(c.tile_ms) for c in big], GOAL_TILE_MS, unit=" ms", digits=0),
        headline(f"long: JS heap + buffers after first render{q} ({tag1})",
                 [None if c.heap is None else c.heap / MB for c in at_1m], GOAL_HEAP_MB,
                 unit=" MB", digits=0),
        headline(f"long: capture peak RSS growth ÷ held{q} ({tag1})",
                 [(c.capture["rss_peak"] - c.capture["rss_before"]) / c.capture["held"]
                  if c.capture else None for c in at_1m], 2.0, unit="x"),
    ]  # fmt: skip
    print()
    for r in rows:
        print(f"{r.what}: {r.value} (goal {r.goal}) → {r.verdict}")
    for r in rows:
        print(emit(r))
    return all(r.complete for r in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2,000 × 512 and 20,000 × 256 only")
    ap.add_argument("--tiles", choices=("auto", "true", "false"), default="auto")
    ap.add_argument("--cases", help="e.g. 2000x512,100000x256 (overrides the list)")
    args = ap.parse_args(argv)
    cases = QUICK if args.quick else CASES
    if args.cases:
        cases = [tuple(int(x) for x in c.split("x")) for c in args.cases.split(",")]  # type: ignore[misc]
    print(
        f"# long sequences: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load "
        f"average {os.getloadavg()[0]:.2f}, {os.cpu_count()} cores; LSTM on 1 sequence × "
        f"{FEATURES} features; --tiles {args.tiles}",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="lstmviz-bench-long-"))
    results = [Case(s, u) for s, u in cases]
    server = ld.start_lab(folder, app="lab", env={"PYTHONPATH": str(ROOT)})
    try:
        with Chromium() as chrome:
            for case in results:
                t = time.monotonic()
                page = chrome.new_page()  # a fresh tab per case
                try:
                    page.add_init_script((HERE / "page" / "long_hooks.js").read_text())
                    run_case(page, server, folder, case, args.tiles)
                    case.renderer_rss = chrome.renderer_rss()
                except Exception as e:  # a case that fails is reported, the others still run
                    case.note += f" FAILED: {type(e).__name__}: {str(e)[:300]}"
                    traceback.print_exc()
                finally:
                    chrome.close_page(page)
                    server.shutdown_kernels()
                print(f"# {case.name}: {time.monotonic() - t:.0f} s {case.note}", flush=True)
    finally:
        server.stop()
    complete = report(results, args.tiles, args.quick)
    print(f"# finished, load average {os.getloadavg()[0]:.2f}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
