"""Every benchmark in one run: ``python bench/run.py [--quick]`` (``make bench``).

Prints the machine, then the probe table (capture ÷ predict, naive ÷ capture, peak memory ÷
captured bytes, gradients ÷ predict), the analysis timings and the training monitor's overhead
(fit with ÷ without), then the frontend's bytes on the wire, first render and scrub frame
times in headless Chromium (bench/frontend.py), and at the end one summary table with every
benchmark's headline figure next to its goal. Ratios are measured in one run on one machine;
compare them only with runs on the same kind of machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(next(line.split()[1] for line in fh if line.startswith("MemTotal")))
        mem = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def _run(cmd: list[str], out: list[str]) -> int:
    """Run one benchmark, echoing its output as it comes and keeping it for the summary."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            out.append(line.rstrip("\n"))
    return proc.returncode


def _span(values: list[float], unit: str = "x") -> str:
    if not values:
        return "n/a"
    lo, hi = min(values), max(values)
    return f"{lo:.2f}{unit}" if lo == hi else f"{lo:.2f}–{hi:.2f}{unit}"


def summary(probe: list[str], monitor: list[str], frontend: list[str]) -> list[str]:
    """The whole report in one table: the headline ratio of every benchmark above."""
    cap, grad, peak = [], [], []
    for line in probe:
        cols = [c.strip() for c in line.split("|")]
        if line.startswith("#") or len(cols) < 6 or "failed" in line:
            continue
        cap.append(float(cols[1].split()[-1].rstrip("x")))
        peak.append(float(cols[3].split()[-1].rstrip("x")))
        if "skipped" not in cols[4]:
            grad.append(float(cols[4].split()[-1].rstrip("x")))

    def met(values: list[float], goal: float) -> str:
        ok = sum(v <= goal for v in values)
        return "met" if ok == len(values) else f"met on {ok} of {len(values)} cells"

    rows = [
        (
            "capture ÷ faster of predict/predict_on_batch (grid)",
            _span(cap),
            "≤ 1.5x",
            met(cap, 1.5),
        ),
        ("gradient capture ÷ predict (grid)", _span(grad), "≤ 3x", met(grad, 3.0)),
        ("peak memory ÷ captured bytes (grid)", _span(peak), "≤ 2x", met(peak, 2.0)),
    ]
    for line in monitor:
        m = re.search(r"ratio with ÷ without \(steady state\): median ([\d.]+)", line)
        if m:
            r = float(m.group(1))
            rows.append(
                ("fit with monitor ÷ without (median)", f"{r:.3f}", "≤ 1.05", met([r], 1.05))
            )
        m = re.search(r"one-time cost .*?: ([\d.]+) s", line)
        if m:
            rows.append(("monitor one-time cost (first probe)", f"{m.group(1)} s", "", ""))
    for line in frontend:
        m = re.match(r"^ {2,}(\S.*?)\s{2,}(\S+)\s+(≤ \S+)\s+(met|NOT met)\s*$", line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3), m.group(4)))
    width = max(len(r[0]) for r in rows)
    out = ["# summary: every benchmark's headline figure (details above)"]
    out += [f"  {w:<{width}}  {value:>14}  {goal:<7} {verdict}" for w, value, goal, verdict in rows]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small half of the probe grid")
    args = ap.parse_args(argv)
    print(f"# machine: {_machine()}", flush=True)
    quick = ["--quick"] if args.quick else []
    probe, analysis, monitor, frontend = [], [], [], []
    status = _run([sys.executable, str(HERE / "probe.py"), *quick], probe)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "analysis.py")], analysis)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "monitor.py")], monitor)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "frontend.py"), *quick], frontend)
    print(flush=True)
    print(f"# machine: {_machine()}")
    print("\n".join(summary(probe, monitor, frontend)), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
