#!/usr/bin/env bash
# Runs every check: ruff (format + lint), tsc, vitest, pytest (unit + browser tests in a real
# JupyterLab driven through Debian's headless Chromium), then the mutation check (~1.5 min).
# Assumes scripts/setup.sh ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p artifacts

echo "== ruff format --check"; ruff format --check .
echo "== ruff check"; ruff check .
echo "== tsc"; npm run --silent typecheck
echo "== vitest"; npm test --silent
echo "== pytest"; python -m pytest -p no:cacheprovider "$@"
echo "== mutation check (planted bugs in capture() must fail the probe tests)"
python scripts/mutation_check.py
