"""The benchmarks' verdict logic: a goal is met only by measured values; a failed or missing
figure reads "NOT met" and makes the benchmark (and ``make bench``) exit non-zero."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import probe  # noqa: E402
import run  # noqa: E402
import verdicts  # noqa: E402
from verdicts import Headline, emit, headline, judge, parse_headlines  # noqa: E402


def test_met_only_when_every_value_is_measured_and_meets_the_goal():
    assert judge([1.0, 1.5], 1.5) == verdicts.Verdict("met", True, True)
    v = judge([1.0, 2.0, 3.0], 1.5)
    assert (v.text, v.met, v.complete) == ("NOT met on 2 of 3 cells", False, True)
    assert judge([2.0], 1.5).text == "NOT met"


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_a_missing_or_non_finite_value_is_not_met_and_incomplete(missing):
    v = judge([1.0, missing, 1.2], 1.5)
    assert not v.met
    assert not v.complete
    assert v.text == "NOT met: 1 of 3 cells not measured"


def test_nothing_measured_is_not_met():
    assert judge([], 1.5) == verdicts.Verdict("NOT met: nothing measured", False, False)
    # the old summary printed "n/a ≤ 1.5x met" when every cell had failed
    row = headline("capture ÷ predict", [None, None], 1.5)
    assert (row.value, row.verdict, row.complete) == (
        "n/a",
        "NOT met: 2 of 2 cells not measured",
        False,
    )


def test_a_row_without_goal_still_needs_its_values():
    assert headline("keras bwd", [3.0, 8.0], None).complete
    row = headline("keras bwd", [3.0, None], None)
    assert (row.verdict, row.complete) == ("NOT measured", False)


def test_headlines_round_trip_through_the_output():
    row = Headline("peak ÷ captured", "1.20–1.70x", "≤ 2x", "met", True)
    lines = ["some table line", emit(row), "# a comment"]
    assert parse_headlines(lines) == [row]


def _cell_row(cell, capture_s=0.012, peak=1.5):
    u, t, b = cell
    return {
        "units": u,
        "steps": t,
        "batch": b,
        "predict_s": 0.010,
        "predict_on_batch_s": 0.011,
        "capture_s": capture_s,
        "grad_s": 0.02 if probe.grad_in_scope(*cell) else None,
        "keras_backward_s": 0.04 if probe.grad_in_scope(*cell) else None,
        "naive_s": None,
        "captured_bytes": 1000,
        "peak_bytes": int(1000 * peak),
        "fidelity": 1e-7,
    }


CELLS = [(128, 100, 1), (128, 100, 32), (512, 10000, 32)]


def test_probe_summary_counts_a_failed_cell_as_not_measured():
    rows = {c: _cell_row(c) for c in CELLS}
    full = probe.summary_rows(CELLS, rows)
    assert [r.verdict for r in full] == ["met", "met", "", "met"]
    assert all(r.complete for r in full)
    del rows[CELLS[1]]  # that cell failed
    cut = probe.summary_rows(CELLS, rows)
    assert cut[0].verdict == "NOT met: 1 of 3 cells not measured"
    assert cut[1].verdict == "NOT met: 1 of 2 cells not measured"  # the last is out of scope
    assert not cut[2].complete
    assert cut[3].verdict.startswith("NOT met")
    none = probe.summary_rows(CELLS, {})
    assert all(not r.complete and r.value == "n/a" for r in none)


def test_probe_exits_non_zero_when_a_cell_fails(monkeypatch, capsys):
    def fake(what, cell):
        if cell == (128, 100, 32):
            return None, f"{what}: MemoryError"
        return ({**_cell_row(cell)} if what == "timing" else _cell_row(cell)), ""

    monkeypatch.setattr(probe, "_subprocess", fake)
    code = probe.main(["--units", "128", "--steps", "100", "--batch", "1", "32"])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed: timing: MemoryError" in out
    rows = parse_headlines(out.splitlines())
    assert rows[0].verdict == "NOT met: 1 of 2 cells not measured"


def test_probe_exits_zero_when_every_cell_was_measured(monkeypatch, capsys):
    monkeypatch.setattr(probe, "_subprocess", lambda what, cell: (_cell_row(cell, 0.1), ""))
    code = probe.main(["--units", "128", "--steps", "100", "--batch", "1"])
    rows = parse_headlines(capsys.readouterr().out.splitlines())
    assert code == 0  # a goal missed by a measured value is a result, not a failure
    assert rows[0].verdict == "NOT met"
    assert rows[0].complete


def _fake_runs(monkeypatch, outputs: dict[str, list[str]], codes: dict[str, int]):
    def fake_run(cmd, out):
        name = Path(cmd[1]).stem
        out.extend(outputs.get(name, []))
        return codes.get(name, 0)

    monkeypatch.setattr(run, "_run", fake_run)


def _ok(what):
    return emit(Headline(what, "1.0x", "≤ 2x", "met", True))


def test_run_exits_zero_only_when_every_figure_was_measured(monkeypatch, capsys):
    good = {
        "probe": [_ok("p")],
        "monitor": [_ok("m")],
        "frontend": [_ok("f")],
        "long_sequences": [_ok("l")],
    }
    _fake_runs(monkeypatch, good, {})
    assert run.main([]) == 0
    out = capsys.readouterr().out
    assert "INCOMPLETE" not in out
    assert out.count(" met") >= 4


def test_run_exits_non_zero_on_a_missing_figure(monkeypatch, capsys):
    outputs = {
        "probe": [emit(headline("capture ÷ predict", [None], 1.5))],
        "monitor": [_ok("m")],
        "frontend": [_ok("f")],
        "long_sequences": [_ok("l")],
    }
    _fake_runs(monkeypatch, outputs, {})
    assert run.main([]) == 1
    out = capsys.readouterr().out
    assert "NOT met: 1 of 1 cells not measured" in out
    assert "INCOMPLETE: not measured or failed: probe: capture ÷ predict" in out


def test_run_exits_non_zero_when_a_benchmark_reports_nothing(monkeypatch, capsys):
    _fake_runs(monkeypatch, {"probe": [_ok("p")], "monitor": [_ok("m")]}, {})
    assert run.main([]) == 1
    out = capsys.readouterr().out
    assert "frontend: no figures reported" in out
    assert "long sequences: no figures reported" in out


def test_run_exits_non_zero_when_a_benchmark_fails(monkeypatch, capsys):
    good = {
        "probe": [_ok("p")],
        "monitor": [_ok("m")],
        "frontend": [_ok("f")],
        "long_sequences": [_ok("l")],
    }
    _fake_runs(monkeypatch, good, {"monitor": 1})
    assert run.main([]) != 0
    capsys.readouterr()


# --- the frontend's rows: a scrub that did not move the cursor measures nothing ------------


class _FakePage:
    """Answers the bench page's calls with canned values."""

    def __init__(self, steps, timesteps):
        self.steps = steps
        self.timesteps = list(timesteps)

    def js(self, expr, arg=None):
        if "timestep" in expr:
            return self.timesteps.pop(0)
        if "continuous" in expr:
            return [16.7] * 10
        return []  # takeLoafs

    def scrub(self, n):
        return self.steps, (0.0, 0.0)


@pytest.fixture
def frontend():
    import frontend  # bench/frontend.py (imports the widget: needs the built bundle)

    return frontend


def _step(ms):
    return {"frames": [ms, 1.0]}


def test_a_scrub_that_moves_the_cursor_is_judged(frontend, capsys):
    b = frontend.Bench(None, "", Path("."))
    b.scrub_rows(_FakePage([_step(5.0)] * 20, [3, 23]), "x", 20, 16.7, large=False)
    capsys.readouterr()
    assert [h.verdict for h in b.headlines] == ["met", "met"]
    assert b.complete


@pytest.mark.parametrize(
    ("steps", "why"), [([_step(5.0)] * 20, "the cursor did not move"), ([], "no step measured")]
)
def test_a_scrub_that_did_not_move_is_not_met(frontend, capsys, steps, why):
    b = frontend.Bench(None, "", Path("."))
    b.scrub_rows(_FakePage(steps, [3, 3]), "x", 20, 16.7, large=True)
    capsys.readouterr()
    assert [h.verdict for h in b.headlines] == [f"NOT met ({why})"]
    assert not b.complete


def test_zoom_with_nothing_to_zoom_is_not_met(frontend, capsys):
    class NoZoom(_FakePage):
        def js(self, expr, arg=None):
            return None if "zoomPan" in expr else []

    b = frontend.Bench(None, "", Path("."))
    b.zoom_rows(NoZoom([], []), "x", 10)
    capsys.readouterr()
    assert b.headlines[0].verdict == "NOT met (no time plot takes Ctrl + wheel)"
    assert not b.complete
