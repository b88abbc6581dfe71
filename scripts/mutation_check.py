"""Mutation check: plant small bugs in what ``capture()`` returns and show the tests catch each.

Every mutant wraps ``lstmviz_widget.capture`` so that the Capture it returns is wrong in one
way (two gates swapped, one gate / c / h off by 1e-3) for the layers of one cell kind, then
runs the fast probe test files with pytest in this process. A mutant is *killed* when that run
fails. The script first runs the same files unmutated (they must pass, else a kill means
nothing) and exits non-zero if that baseline fails or any mutant survives.

Usage: ``python scripts/mutation_check.py [--list] [MUTANT ...]`` (run by scripts/test.sh).
Models are built once (the test files cache them) and reused by every mutant run, so after
the baseline each mutant costs a few seconds.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The test files every mutant runs against: fast, and they check values, not only shapes.
FILES = ["tests/test_probe_independent.py", "tests/test_probe_exact.py"]
OFFSET = 1e-3

GATES = {"LSTM": ("input", "forget", "cell", "output"), "GRU": ("update", "reset", "candidate")}


def _swap(a: str, b: str):
    def mutate(lc):
        lc.gates[a], lc.gates[b] = lc.gates[b], lc.gates[a]

    return mutate


def _shift_gate(g: str):
    def mutate(lc):
        lc.gates[g] = lc.gates[g] + OFFSET

    return mutate


def _shift(attr: str):
    def mutate(lc):
        setattr(lc, attr, getattr(lc, attr) + OFFSET)

    return mutate


def mutants() -> dict[str, tuple[str, Callable]]:
    """name -> (cell kind it applies to, function that mutates one LayerCapture in place)."""
    out: dict[str, tuple[str, Callable]] = {}
    for kind, gates in GATES.items():
        for a, b in combinations(gates, 2):
            out[f"{kind}: {a} <-> {b}"] = (kind, _swap(a, b))
        for g in gates:
            out[f"{kind}: {g} + {OFFSET:g}"] = (kind, _shift_gate(g))
    out[f"LSTM: c + {OFFSET:g}"] = ("LSTM", _shift("c"))
    for kind in ("LSTM", "GRU", "SimpleRNN"):
        out[f"{kind}: h + {OFFSET:g}"] = (kind, _shift("h"))
    return out


class _Planter:
    """Wraps the real capture(); ``active`` selects the mutant applied to what it returns."""

    def __init__(self, real: Callable):
        self.real = real
        self.active: tuple[str, Callable] | None = None
        self.applied = 0

    def __call__(self, *args, **kwargs):
        cap = self.real(*args, **kwargs)
        if self.active is None:
            return cap
        kind, mutate = self.active
        cap = copy.copy(cap)
        cap.layers = dict(cap.layers)
        for name, lc in cap.layers.items():
            if lc.kind == kind:
                lc = copy.copy(lc)
                lc.gates = dict(lc.gates)
                mutate(lc)
                cap.layers[name] = lc
                self.applied += 1
        return cap


def _install() -> _Planter:
    """Replace capture() where the tests look it up (the package and its defining module)."""
    import lstmviz_widget

    real = lstmviz_widget.capture
    planter = _Planter(real)
    lstmviz_widget.capture = planter
    defining = sys.modules.get(real.__module__)
    if defining is not None and getattr(defining, "capture", None) is real:
        defining.capture = planter
    return planter


class _Outcome:
    """A pytest plugin that notes the first failing test of a run."""

    def __init__(self):
        self.failed: list[str] = []
        self.passed = 0

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid.split("::", 1)[-1])
        elif report.passed and report.when == "call":
            self.passed += 1


def _pytest(args: list[str]) -> tuple[int, _Outcome]:
    import pytest

    outcome = _Outcome()
    code = pytest.main(
        ["-p", "no:cacheprovider", "-q", "--tb=no", "--no-header", "-x", *args, *FILES],
        plugins=[outcome],
    )
    return int(code), outcome


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mutant", nargs="*", help="names to run (default: all)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args(argv)
    table = mutants()
    if args.list:
        print("\n".join(table))
        return 0
    unknown = [m for m in args.mutant if m not in table]
    if unknown:
        print(f"unknown mutants {unknown}; see --list", file=sys.stderr)
        return 2
    chosen = args.mutant or list(table)
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    planter = _install()
    devnull = open(os.devnull, "w")  # noqa: SIM115 - pytest's own report is not wanted here
    t0 = time.perf_counter()
    real_stdout = sys.stdout
    sys.stdout = devnull
    try:
        code, base = _pytest([])
    finally:
        sys.stdout = real_stdout
    print(
        f"# mutation check: {len(chosen)} mutants against {' '.join(FILES)}\n"
        f"baseline (no mutant): pytest exit {code}, {base.passed} passed, "
        f"{len(base.failed)} failed, {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    if code != 0 or base.failed:
        print(f"FAILED: the unmutated suite does not pass ({base.failed[:3]})")
        return 1
    survivors = []
    for name in chosen:
        planter.active, planter.applied = table[name], 0
        t1 = time.perf_counter()
        sys.stdout = devnull
        try:
            code, out = _pytest([])
        finally:
            sys.stdout = real_stdout
            planter.active = None
        killed = code != 0 and bool(out.failed)
        if not killed or planter.applied == 0:
            survivors.append(name)
        by = out.failed[0] if out.failed else "-"
        verdict = "killed" if killed else "SURVIVED"
        print(
            f"  {name:<28} {verdict:<8} by {by}  ({planter.applied} layers mutated, "
            f"{time.perf_counter() - t1:.1f} s)",
            flush=True,
        )
    devnull.close()
    total = time.perf_counter() - t0
    if survivors:
        print(f"FAILED: {len(survivors)} of {len(chosen)} mutants survived: {survivors}")
        return 1
    print(f"all {len(chosen)} mutants killed ({total:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
