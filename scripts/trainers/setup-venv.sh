#!/usr/bin/env bash
# Builds .venv (ignored) with the trainers' readers of scripts/trainers/requirements.txt, offline, from this machine's
# local package mirror: pip must not wait on an unreachable public index, so the mirror is its only index.
# Usage: bash scripts/trainers/setup-venv.sh [VENV_DIR]   (default .venv at the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-.venv}"
req=scripts/trainers/requirements.txt
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "trainer venv $venv is up to date"
  exit 0
fi
# The mirror: pip's configured index pages and wheel folder (`pip config list`), used as the only sources.
index="${PIP_MIRROR_INDEX:-file:///opt/pypi/simple}"
extra="${PIP_MIRROR_EXTRA_INDEX:-file:///opt/pypi-more/simple}"
wheels="${PIP_MIRROR_WHEELS:-/opt/wheels}"
if [ ! -d "${index#file://}" ]; then
  echo "error: no local package mirror at ${index#file://} (set PIP_MIRROR_INDEX); the trainer checks need pyarrow, datasets, transformers, trl and CPU torch from it" >&2
  exit 3
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --index-url "$index" --extra-index-url "$extra" --find-links "$wheels" -r "$req"
echo "$want" > "$stamp"
echo "trainer venv $venv ready"
