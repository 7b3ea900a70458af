#!/usr/bin/env bash
# The test suite: set up .venv, lint, run the tests, then run every notebook with nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
.venv/bin/ruff check forgekit tests benchmarks
.venv/bin/pytest tests -q "$@"
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -gt 0 ]; then
  .venv/bin/pytest --nbval -p no:cacheprovider --sanitize-with notebooks/sanitize.cfg \
    "${notebooks[@]}" -q
fi
