#!/usr/bin/env bash
# Runs every check: ruff (format + lint), mypy (lstmviz_widget/, see [tool.mypy] in
# pyproject.toml), tsc, eslint + prettier (js/), vitest, the mutation check (~1.5 min), pytest
# (unit + browser tests in a real JupyterLab driven through Debian's headless Chromium).
# Assumes scripts/setup.sh ran.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
mkdir -p artifacts

echo "== ruff format --check"; ruff format --check .
echo "== ruff check"; ruff check .
echo "== mypy"; mypy
echo "== tsc"; npm run --silent typecheck
echo "== eslint (js/ shape: import rules, file and function sizes)"; npm run --silent lint
echo "== prettier --check js/"; npm run --silent format:check
echo "== vitest"; npm test --silent
echo "== mutation check (planted bugs in capture() must fail the probe tests)"
python scripts/mutation_check.py
# pytest last: its summary line closes the run
echo "== pytest"; python -m pytest -p no:cacheprovider "$@"
# Keras fixes its backend per process: the backend-agnostic probe tests once more on JAX
# and on PyTorch
# (a plain `make test` only; with pytest arguments, only those run).
if [ $# -eq 0 ]; then
  echo "== pytest (KERAS_BACKEND=jax)"
  KERAS_BACKEND=jax python -m pytest -p no:cacheprovider \
    tests/test_probe_exact.py tests/test_probe_matrix.py tests/test_probe_graphs.py \
    tests/test_probe_independent.py \
    tests/test_probe_models.py tests/test_probe_loss.py tests/test_attention.py \
    tests/test_predictions.py
  echo "== pytest (KERAS_BACKEND=torch)"
  KERAS_BACKEND=torch python -m pytest -p no:cacheprovider \
    tests/test_probe_exact.py tests/test_probe_matrix.py tests/test_probe_graphs.py \
    tests/test_probe_independent.py \
    tests/test_probe_models.py tests/test_probe_loss.py tests/test_attention.py \
    tests/test_predictions.py
fi
