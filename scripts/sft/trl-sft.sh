#!/usr/bin/env bash
# TRL SFT of the meta-agent on an sft export (TRL ≥ 0.20 reads `datasets:` from the YAML; accelerate for several GPUs).
set -euo pipefail
cd "$(dirname "$0")/../.."
NGPU=${NGPU:-8}
# The YAML names runs/demo/sft/train.messages.jsonl; edit data_files there for another export.
accelerate launch --num_processes "$NGPU" -m trl.scripts.sft --config scripts/sft/trl-sft.yaml "$@"
# One GPU, without accelerate:
#   trl sft --config scripts/sft/trl-sft.yaml
