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
# enable, that build dies with SIGILL on its first real generation (seen on fresh
# machines of this kind, Dec 2026). Build a portable AVX2 one instead, unless CMAKE_ARGS
# is set. pip's wheel cache does not key on CMAKE_ARGS (a native wheel built earlier on
# this machine would be reused), so portable wheels live in a cache of our own.
portable=
if [ "$(uname -m)" = x86_64 ] && [ -z "${CMAKE_ARGS:-}" ]; then
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
  portable=1
fi
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/forgekit/wheels/$(echo "${CMAKE_ARGS:-default}" | sha256sum | cut -c1-12)"
cached=$(ls -t "$wheels"/llama_cpp_python-*.whl 2>/dev/null | head -1 || true)
if [ -n "$cached" ]; then
  .venv/bin/pip install -q --no-deps "$cached"
fi
.venv/bin/pip install -q "torch==2.13.0" -e ".[all,dev,ray]"
# the embedded model must run on this CPU: a real generation (a prompt long enough for the
# batched matrix kernels, where a native build's AMX / AVX-512 code runs), in a child process
smoke='import llama_cpp, sys
from forgekit.models.local_server import PROBE_PROMPT, default_model_path
info = llama_cpp.llama_print_system_info().decode()
if sys.argv[1:] == ["portable"] and ("AVX512 = 1" in info or "AMX" in info):
    sys.exit("built for this CPU (" + info.strip() + "), not portable")
llm = llama_cpp.Llama(model_path=str(default_model_path()), n_ctx=512, verbose=False)
llm(PROBE_PROMPT, max_tokens=2)'
if ! .venv/bin/python -c "$smoke" ${portable:+portable} >/dev/null 2>&1; then
  echo "[setup] llama.cpp does not run on this CPU (or is not the portable build): rebuilding it (~5 min)"
  v=$(.venv/bin/pip show llama-cpp-python | awk '/^Version:/{print $2}')
  mkdir -p "$wheels"
  .venv/bin/pip wheel -q --no-deps --no-cache-dir -w "$wheels" "llama-cpp-python==$v"
  .venv/bin/pip install -q --no-deps --force-reinstall "$wheels"/llama_cpp_python-"$v"-*.whl
  .venv/bin/python -c "$smoke" ${portable:+portable}
fi
# a python3 kernel inside the venv, for papermill, nbval and JupyterLab
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (forgekit)" >/dev/null
echo "$want" > "$stamp"
echo "[setup] done: $(.venv/bin/forgekit version)"
