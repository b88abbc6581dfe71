#!/usr/bin/env bash
# Sets up everything lstmviz-widget needs on a brand-new Debian machine, idempotently:
# Debian's chromium (for browser tests and the headless demo), node modules (npm ci),
# the JS bundle, and a virtual environment in .venv with the package installed editable.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== setup: %s\n' "$*"; }

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium (apt-get)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

log "building the JS bundle (esbuild)"
npm run --silent build

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.lstmviz-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  # jax and torch: make test runs the backend-agnostic probe tests on JAX and PyTorch too
  # (PyPI's Linux torch wheel pulls the CUDA stack: ~60 s and ~5.3 GB on disk)
  log "pip install -e .[tensorflow-cpu,jax,torch,plot,wandb,store,dev]"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[tensorflow-cpu,jax,torch,plot,wandb,store,dev]"
  touch "$stamp"
fi
log "ready"
