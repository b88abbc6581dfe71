"""bench/long_sequences.py's verdicts: a case refused, untiled or not measured never reads "met"."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import long_sequences as ls  # noqa: E402
from verdicts import parse_headlines  # noqa: E402


def measured(steps: int, units: int, **kw) -> ls.Case:
    c = ls.Case(steps, units)
    c.capture = {"capture_s": 1.0, "rss_before": 1 << 30, "rss_peak": 3 << 30, "held": 1 << 30}
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def rows(cases: list[ls.Case], capsys, quick: bool = False):
    complete = ls.report(cases, "auto", quick)
    lines = capsys.readouterr().out.splitlines()
    return complete, {h.what.split(" (")[0]: h for h in parse_headlines(lines)}


def test_every_goal_met_only_with_every_figure_measured(capsys):
    big = {"first_s": 1.2, "bytes_": 4 * ls.MB, "heap": 200 * ls.MB, "tiled": True}
    cases = [
        measured(100_000, 256, zoom_ms=[10.0, 20.0], pan_ms=[9.0], tile_ms=[90.0], **big),
        measured(1_000_000, 256, zoom_ms=[12.0, 30.0], pan_ms=[8.0], tile_ms=[140.0], **big),
    ]
    complete, got = rows(cases, capsys)
    assert complete
    assert {h.verdict for h in got.values()} == {"met"}
    assert got["long: first heatmap"].value == "1.20 s"
    assert got["long: capture peak RSS growth ÷ held"].value == "2.00x"


def test_a_refused_1m_case_is_not_measured_and_incomplete(capsys):
    refused = ls.Case(1_000_000, 256, note="refused: untiled it would send ~5.7 GiB")
    ok = measured(100_000, 256, first_s=14.8, bytes_=600 * ls.MB, heap=850 * ls.MB, tiled=False)
    complete, got = rows([ok, refused], capsys)
    assert not complete
    first = got["long: first heatmap"]
    assert first.verdict == "NOT met: 1 of 2 cells not measured, 1 over the goal"
    assert not first.complete
    # untiled: no drawMs, no tileMs → not measured, never "met"
    for what in ("long: cached zoom drawMs median", "long: fetched tile drawn, worst"):
        assert got[what].verdict.startswith("NOT met: 2 of 2"), got[what]
    heap = got["long: JS heap + buffers after first render"]
    assert heap.verdict == "NOT met: 1 of 1 cells not measured"
    assert got["long: capture peak RSS growth ÷ held"].verdict.startswith("NOT met: 1 of 1")


def test_quick_judges_the_cases_it_ran(capsys):
    small = measured(2_000, 512, first_s=0.5, bytes_=30 * ls.MB, heap=90 * ls.MB, tiled=False)
    complete, got = rows([small], capsys, quick=True)
    assert not complete  # no zoom figures untiled
    assert got["long: first heatmap"].verdict == "met"
    assert got["long: MB before first render"].verdict == "NOT met"


def test_expected_tiling_follows_the_contract_rule():
    def tiled(steps: int, units: int, flag: str, has: bool = True) -> bool:
        return ls.expect_tiled(ls.Case(steps, units), flag, has)

    assert not tiled(2_000, 512, "auto")  # 2000·512·4·6 = 24.6 MB
    assert tiled(20_000, 256, "auto")  # 123 MB > 64 MB
    assert not tiled(20_000, 32, "auto")  # 15 MB, 20,000 steps is not > 20,000
    assert tiled(20_001, 1, "auto")
    assert tiled(2_000, 8, "true")
    assert not tiled(1_000_000, 256, "false")
    assert not tiled(1_000_000, 256, "auto", has=False)  # today's explorer has no tiles=


class FakeTiledPage:
    """The heatmap's dataset as the widget contract says, for a window that halves on "+" and
    doubles on "-" about the cursor; a level drawn before is cached (no new tileMs)."""

    def __init__(self, steps: int, evict: bool = False) -> None:
        self.steps, self.win, self.cursor, self.evict = steps, (0, steps), steps // 3, evict
        self.seen: set[str] = {"9"}
        self.draws = self.fetches = 0
        self.state = {"tiled": "true", "pending": "0", "level": "9", "window": f"0,{steps}"}

    def evaluate(self, fn: str, arg=None):
        if fn == ls.HEATMAP_STATE:
            return dict(self.state)
        if fn == ls.SETTLED:
            return True
        span = self.win[1] - self.win[0]
        if fn == ls.PAN_WHEEL:  # 700 px wide
            t0 = min(max(self.win[0] + round(arg / 700 * span), 0), self.steps - span)
        else:
            assert fn == ls.ZOOM_KEY, fn
            span = {"+": max(span // 2, 1), "-": min(span * 2, self.steps), "0": self.steps}[arg]
            t0 = min(max(self.cursor - span // 2, 0), self.steps - span)
        self.win = (t0, t0 + span)
        self.draws += 1
        self.state.update(window=f"{t0},{t0 + span}", drawMs=str(float(self.draws)))
        self.state["level"] = str(min(9, (span // 1024).bit_length()))
        if self.state["level"] not in self.seen or self.evict:
            self.fetches += 1
            self.state["tileMs"] = str(100.0 + self.fetches)
        self.seen.add(self.state["level"])
        return 5.0


def test_zoom_bookkeeping_separates_fetched_tiles_from_cached_draws():
    page, case = FakeTiledPage(1_000_000), ls.Case(1_000_000, 256)
    presses = ls.zoom_until(page, case, "+", fetched=True, n=None)
    assert presses == 12  # 1,000,000 / 2^12 = 244 ≤ 256 steps
    # presses 1 (level 9, drawn already), 11 and 12 (level 0 again) fetch nothing
    assert case.tile_ms == [101.0 + i for i in range(9)]
    ls.zoom_until(page, case, "-", fetched=False, n=presses)
    ls.zoom_until(page, case, "+", fetched=False, n=presses)
    assert case.zoom_ms == [float(d) for d in range(13, 37)]  # the draws of 24 cached zooms
    assert len(case.tile_ms) == 9
    assert len(case.key_frame_ms) == 36
    assert "fetched" not in case.note
    # pans at the same level: cached pan frames, not zoom frames
    ls.zoom_until(page, case, "pan:150", fetched=None, n=6)
    assert page.win[0] > 1_000_000 // 3 - 122 + 100
    ls.zoom_until(page, case, "pan:-150", fetched=None, n=6)
    assert case.pan_ms == [float(d) for d in range(37, 49)]
    assert len(case.zoom_ms) == 24
    assert len(case.tile_ms) == 9
    # a key that did not move the window drew nothing: its (stale) drawMs is not a frame
    ls.zoom_until(page, case, "0", fetched=False, n=2)
    assert len(case.zoom_ms) == 25
    assert "a '0' did not move the window" in case.note

    # a "cached" zoom that fetched after all counts as a fetch, not as a cached frame
    page, case = FakeTiledPage(1_000_000, evict=True), ls.Case(1_000_000, 256)
    ls.zoom_until(page, case, "+", fetched=True, n=None)
    ls.zoom_until(page, case, "-", fetched=False, n=3)
    assert case.zoom_ms == []
    assert len(case.tile_ms) == 15
    assert "a 'cached' zoom fetched a tile" in case.note
