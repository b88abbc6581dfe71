"""Every benchmark in one run: ``python bench/run.py [--quick]`` (``make bench``).

Prints the machine, then the probe table (capture ÷ predict, naive ÷ capture, peak memory ÷
captured bytes, gradients ÷ predict), the analysis timings and the training monitor's overhead
(fit with ÷ without), then the frontend's bytes on the wire, first render and scrub frame
times in headless Chromium (bench/frontend.py). Ratios are measured in one
run on one machine; compare them only with runs on the same kind of machine.
"""

from __future__ import annotations

import argparse
import os
import platform
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the small half of the probe grid")
    args = ap.parse_args(argv)
    print(f"# machine: {_machine()}", flush=True)
    probe = [sys.executable, str(HERE / "probe.py")] + (["--quick"] if args.quick else [])
    status = subprocess.call(probe)
    print(flush=True)
    status |= subprocess.call([sys.executable, str(HERE / "analysis.py")])
    print(flush=True)
    status |= subprocess.call([sys.executable, str(HERE / "monitor.py")])
    print(flush=True)
    frontend = [sys.executable, str(HERE / "frontend.py")] + (["--quick"] if args.quick else [])
    status |= subprocess.call(frontend)
    return status


if __name__ == "__main__":
    sys.exit(main())
