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
# llama-cpp-python compiles llama.cpp here. By default it builds for this CPU
# (-march=native); on VMs whose CPU reports AMX / AVX-512 that the kernel does not
# enable, that build dies with SIGILL on its first generation (seen on fresh machines of
# this kind, Dec 2026). Build a portable AVX2 one instead, unless CMAKE_ARGS is set.
if [ "$(uname -m)" = x86_64 ] && [ -z "${CMAKE_ARGS:-}" ]; then
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi
.venv/bin/pip install -q "torch==2.13.0" -e ".[all,dev]"
# the embedded model must run on this CPU: pip may have reused a wheel built elsewhere
smoke='from llama_cpp import Llama
from forgekit.models.local_server import default_model_path
Llama(model_path=str(default_model_path()), n_ctx=64, verbose=False)("1", max_tokens=1)'
if ! .venv/bin/python -c "$smoke" >/dev/null 2>&1; then
  echo "[setup] llama.cpp does not run on this CPU: rebuilding it (~5 min)"
  v=$(.venv/bin/pip show llama-cpp-python | awk '/^Version:/{print $2}')
  .venv/bin/pip install -q --no-deps --force-reinstall --no-cache-dir "llama-cpp-python==$v"
  .venv/bin/python -c "$smoke" >/dev/null
fi
# a python3 kernel inside the venv, for papermill, nbval and JupyterLab
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (forgekit)" >/dev/null
echo "$want" > "$stamp"
echo "[setup] done: $(.venv/bin/forgekit version)"
