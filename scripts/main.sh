#!/usr/bin/env bash
# The main job: set up .venv, then run the main evaluation on the embedded local model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
if [ -f evals/main.yaml ]; then
  exec .venv/bin/forgekit eval evals/main.yaml "$@"
else
  exec .venv/bin/forgekit prompts datasets/prompts/prompts.jsonl "$@"
fi
