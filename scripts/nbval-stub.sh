#!/usr/bin/env bash
# Check that the notebooks' nbval-compared outputs do not depend on what the model says:
# run them with nbval while the `local` alias points at forgekit's stub server, which
# answers "stub: <last user message>" instead of SmolLM2's text. Both this and the plain
# nbval run of scripts/test.sh must pass. Extra arguments go to pytest.
#   bash scripts/nbval-stub.sh                      # every notebook
#   bash scripts/nbval-stub.sh notebooks/evals.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log=$(mktemp)
.venv/bin/python -m forgekit.models.stub_server --port 0 --latency-ms 0 >"$log" 2>&1 &
stub=$!
# notebooks write to the project store; here a throwaway folder
FORGEKIT_HOME="$(mktemp -d -t forgekit-nbval-XXXXXX)"
export FORGEKIT_HOME
export FORGEKIT_PROGRESS=0  # as scripts/test.sh: no speed-dependent progress output
trap 'kill $stub 2>/dev/null || true; rm -f "$log"; rm -rf "$FORGEKIT_HOME"' EXIT
for _ in $(seq 100); do grep -q READY "$log" && break; sleep 0.1; done
url=$(sed -n 's/^READY //p' "$log")
[ -n "$url" ] || { echo "stub server did not start:"; cat "$log"; exit 1; }
echo "[nbval-stub] local alias -> $url"
export FORGEKIT_API_BASE__LOCAL="$url"
export OPENAI_API_KEY=sk-stub   # litellm wants a key for an openai/ model with an api_base
args=("$@")
if [ ${#args[@]} -eq 0 ]; then args=(notebooks/*.ipynb); fi
.venv/bin/pytest --nbval -p no:cacheprovider --nbval-sanitize-with notebooks/sanitize.cfg -q "${args[@]}"
