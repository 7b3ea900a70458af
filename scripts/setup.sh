#!/usr/bin/env bash
# Create (or refresh) .venv in the repository root with forgekit and all its extras.
# Idempotent: skips the install when pyproject.toml has not changed since the last one.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.forgekit-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x .venv/bin/forgekit ]; then
  exit 0
fi
echo "[setup] creating .venv (first run: ~10 min, llama-cpp-python compiles from source)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/pip install -q --upgrade pip
# torch first, pinned: any other torch requirement pulls several GB of CUDA wheels
.venv/bin/pip install -q "torch==2.13.0"
.venv/bin/pip install -q "torch==2.13.0" -e ".[all,dev]"
# a python3 kernel inside the venv, for papermill, nbval and JupyterLab
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (forgekit)" >/dev/null
echo "$want" > "$stamp"
echo "[setup] done: $(.venv/bin/forgekit version)"
