"""Verdicts from measured values only, shared by every benchmark and by ``bench/run.py``.

A goal is *met* only when every value it covers was measured and each one meets it. A value
that is missing (a cell that failed, a figure that was not measured) or not finite makes the
verdict "NOT met" and the result *incomplete*; an incomplete result makes the benchmark exit
non-zero. A measured value that misses its goal is a result, not a failure: "NOT met", exit 0.

Each benchmark prints its headline rows as ``#@ {json}`` lines (``headline``) that
``bench/run.py`` collects into the summary table (``parse_headlines``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

PREFIX = "#@ "


@dataclass(frozen=True)
class Verdict:
    text: str  # "met", "NOT met on 2 of 12 cells", "NOT met: 1 of 12 cells not measured"
    met: bool
    complete: bool  # every value the goal covers was measured


def measured(value: float | None) -> bool:
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def judge(values: Sequence[float | None], goal: float, what: str = "cells") -> Verdict:
    """The verdict on ``values`` (None = not measured) against ``value ≤ goal``."""
    n = len(values)
    if n == 0:
        return Verdict("NOT met: nothing measured", False, False)
    got = [float(v) for v in values if measured(v)]  # type: ignore[arg-type]
    missing = n - len(got)
    over = sum(v > goal for v in got)
    if missing:
        text = f"NOT met: {missing} of {n} {what} not measured"
        if over:
            text += f", {over} over the goal"
        return Verdict(text, False, False)
    if over:
        return Verdict(f"NOT met on {over} of {n} {what}" if n > 1 else "NOT met", False, True)
    return Verdict("met", True, True)


def span(values: Iterable[float | None], unit: str = "x", digits: int = 2) -> str:
    """ "lo–hi" of the measured values (or one value), "n/a" when none was measured."""
    got = [float(v) for v in values if measured(v)]  # type: ignore[arg-type]
    if not got:
        return "n/a"
    lo, hi = min(got), max(got)
    return f"{lo:.{digits}f}{unit}" if lo == hi else f"{lo:.{digits}f}–{hi:.{digits}f}{unit}"


@dataclass(frozen=True)
class Headline:
    what: str
    value: str
    goal: str
    verdict: str
    complete: bool


def headline(
    what: str, values: Sequence[float | None], goal: float | None, *, unit="x", digits=2, label=""
) -> Headline:
    """A summary row: the span of ``values`` and, with a goal, its verdict."""
    if goal is None:
        ok = bool(values) and all(measured(v) for v in values)
        return Headline(what, span(values, unit, digits), "", "" if ok else "NOT measured", ok)
    v = judge(values, goal)
    return Headline(
        what, span(values, unit, digits), label or f"≤ {goal:g}{unit}", v.text, v.complete
    )


def emit(row: Headline) -> str:
    """The ``#@`` line that carries ``row`` to ``bench/run.py``."""
    return PREFIX + json.dumps(asdict(row), ensure_ascii=False)


def parse_headlines(lines: Iterable[str]) -> list[Headline]:
    out = []
    for line in lines:
        if line.startswith(PREFIX):
            out.append(Headline(**json.loads(line[len(PREFIX) :])))
    return out


def table(rows: Sequence[Headline]) -> list[str]:
    if not rows:
        return ["  (no headline figures were reported: every benchmark failed)"]
    width = max(len(r.what) for r in rows)
    return [f"  {r.what:<{width}}  {r.value:>14}  {r.goal:<7} {r.verdict}" for r in rows]
