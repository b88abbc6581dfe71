"""Every benchmark in one run: ``python bench/run.py [--quick]`` (``make bench``).

Prints the machine, then the probe table (capture ÷ predict, naive ÷ capture, peak memory ÷
captured bytes, gradients ÷ predict), the analysis timings and the training monitor's overhead
(fit with ÷ without), then the frontend's bytes on the wire, first render and scrub frame
times in headless Chromium (bench/frontend.py), long sequences in a real JupyterLab (first
heatmap, bytes before it, JS heap, zoom and tile latency: bench/long_sequences.py), and at the
end one summary table with every benchmark's headline figure next to its goal. Ratios are
measured in one run on one machine; compare them only with runs on the same kind of machine.

Verdicts come only from measured values (bench/verdicts.py): a figure that was not measured
(a failed cell, a page that did not render, a scrub that did not move the cursor) reads
"NOT met", and the run exits non-zero. The start and end lines give the date and load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from verdicts import parse_headlines, table  # noqa: E402


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


def _stamp() -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average {load}"


def _run(cmd: list[str], out: list[str]) -> int:
    """Run one benchmark, echoing its output as it comes and keeping it for the summary."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            out.append(line.rstrip("\n"))
    return proc.returncode


def summary(*outputs: list[str]) -> list[str]:
    """The whole report in one table: the headline rows every benchmark emitted (``#@``)."""
    rows = [h for out in outputs for h in parse_headlines(out)]
    return ["# summary: every benchmark's headline figure (details above)", *table(rows)]


def incomplete(outputs: dict[str, list[str]]) -> list[str]:
    """What was not measured: headline rows with a missing figure, and benchmarks (other than
    the analysis timings, which have no goal) that reported no headline at all."""
    out = []
    for name, lines in outputs.items():
        rows = parse_headlines(lines)
        if not rows and name != "analysis":
            out.append(f"{name}: no figures reported")
        out += [f"{name}: {h.what}" for h in rows if not h.complete]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small half of the probe grid")
    args = ap.parse_args(argv)
    print(f"# machine: {_machine()}", flush=True)
    print(f"# started {_stamp()}", flush=True)
    quick = ["--quick"] if args.quick else []
    probe, analysis, monitor, frontend, long = [], [], [], [], []
    status = _run([sys.executable, str(HERE / "probe.py"), *quick], probe)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "analysis.py")], analysis)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "monitor.py")], monitor)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "frontend.py"), *quick], frontend)
    print(flush=True)
    status |= _run([sys.executable, str(HERE / "long_sequences.py"), *quick], long)
    print(flush=True)
    print(f"# machine: {_machine()}")
    print(f"# finished {_stamp()}")
    print("\n".join(summary(probe, analysis, monitor, frontend, long)), flush=True)
    missing = incomplete(
        {
            "probe": probe,
            "analysis": analysis,
            "monitor": monitor,
            "frontend": frontend,
            "long sequences": long,
        }
    )
    if missing:
        print(f"# INCOMPLETE: not measured or failed: {'; '.join(missing)}")
        status = status or 1
    if status:
        print(f"# exit status {status}: a benchmark failed or a figure was not measured")
    return status


if __name__ == "__main__":
    sys.exit(main())
