#!/usr/bin/env bash
# The test suite: set up .venv, lint, type-check, run the tests, then run every notebook with nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
.venv/bin/ruff check forgekit tests benchmarks
# the type checker over the layers listed in [tool.mypy] files (pyproject.toml)
.venv/bin/mypy
.venv/bin/pytest tests -q "$@"
shopt -s nullglob
notebooks=(notebooks/*.ipynb)
if [ ${#notebooks[@]} -gt 0 ]; then
  # notebooks write to the project store; under test that is a throwaway folder
  FORGEKIT_HOME="$(mktemp -d -t forgekit-nbval-XXXXXX)"
  export FORGEKIT_HOME
  # progress bars appear only when a wait is long (starting the local model): output
  # that depends on the machine's speed has no place in a compared cell
  export FORGEKIT_PROGRESS=0
  trap 'rm -rf "$FORGEKIT_HOME"' EXIT
  .venv/bin/pytest --nbval -p no:cacheprovider --nbval-sanitize-with notebooks/sanitize.cfg \
    "${notebooks[@]}" -q
fi
