#!/usr/bin/env bash
# verl SFT of the meta-agent on an sft export: messages Parquet (multi-turn dataset) or question/answer Parquet (single-turn).
set -euo pipefail
SFT=${SFT:-runs/demo/sft}                                   # the export folder
MODEL=${MODEL:-deepseek-ai/DeepSeek-R1-Distill-Qwen-7B}
NGPU=${NGPU:-8}
MODE=${1:-messages}   # messages | multiturn | single
# An empty validation split has no file (sft never writes 0-row files; stats.json lists it under `skipped`). verl's
# SFT trainer always builds a validation set, so the train file stands in for a missing one.
val_or_train() { if [ -f "$SFT/val.$1" ]; then echo "$SFT/val.$1"; else echo "$SFT/train.$1"; fi; }

common=(
  data.max_length=16896
  data.truncation=error
  data.micro_batch_size_per_gpu=1
  data.train_batch_size=32
  trainer.project_name=flowreasoner
  trainer.total_epochs=3
  "trainer.logger=['console']"
)

case "$MODE" in
  messages | multiturn)
    # verl's SFT trainer with its multi-turn dataset: the `messages` column, list<struct<role, content>>.
    stem=messages
    [ "$MODE" = multiturn ] && stem=multiturn.messages
    torchrun --standalone --nnodes=1 --nproc_per_node="$NGPU" -m verl.trainer.fsdp_sft_trainer \
      data.train_files="$SFT/train.$stem.parquet" \
      data.val_files="$(val_or_train "$stem.parquet")" \
      data.multiturn.enable=true \
      data.multiturn.messages_key=messages \
      model.partial_pretrain="$MODEL" \
      trainer.default_local_dir="checkpoints/flowreasoner-sft-$MODE" \
      trainer.experiment_name="sft-$MODE" \
      "${common[@]}"
    # verl's engine trainer (python -m verl.trainer.sft_trainer) reads the same files with
    #   data.messages_key=messages model.path=$MODEL
    ;;
  single)
    # Plain-string columns `question` (system text + task) and `answer` (<think>…</think> + workflow tags).
    # ++ sets the dict-key options to null whether or not this verl version declares them (some default to ['question']).
    torchrun --standalone --nnodes=1 --nproc_per_node="$NGPU" -m verl.trainer.fsdp_sft_trainer \
      data.train_files="$SFT/train.verl-sft.parquet" \
      data.val_files="$(val_or_train verl-sft.parquet)" \
      data.prompt_key=question \
      data.response_key=answer \
      ++data.prompt_dict_keys=null \
      ++data.response_dict_keys=null \
      model.partial_pretrain="$MODEL" \
      trainer.default_local_dir=checkpoints/flowreasoner-sft-single \
      trainer.experiment_name=sft-single \
      "${common[@]}"
    ;;
  *)
    echo "usage: $0 [messages|multiturn|single]" >&2
    exit 2
    ;;
esac
