#!/usr/bin/env bash
# Launches verl GRPO (python3 -m verl.trainer.main_ppo, algorithm.adv_estimator=grpo) on an exported RL prompt set,
# scoring through our exchange server (verl_adapter.py compute_score -> POST /v1/score).
#
# data.max_prompt_length comes from the prompts themselves: prompt_lengths.py tokenises every train/val row with the
# model's own tokenizer and chat template (add_generation_prompt=True, as verl does) and rounds the maximum up.
# verl's default of 512 is too small for our ~1,000-token meta-agent prompts: longer prompts are dropped by verl's
# overlong filter (data.filter_overlong_prompts=True) or break the rollout batch.
#
# Usage: scripts/trainers/verl_grpo.sh [--print] [--model PATH] [--run DIR | --prompts DIR] [--group G]
#                                      [--response-length N] [-- extra Hydra overrides...]
#   --print / --dry-run  print the verl command instead of running it
#   --model   MODEL      policy model (HF directory or hub name); its tokenizer sizes the prompts (TOKENIZER overrides)
#   --run     RUN        a run directory: the prompts are in datasets/rl/, sft/rl/ or rl/ under it
#   --prompts PROMPT_DIR the folder holding train.parquet (and val.parquet when the export wrote one)
#   --group   GROUP      completions per prompt (actor_rollout_ref.rollout.n); default: the run's exchange group_size, else 8
#   --response-length MAX_RESPONSE_LENGTH (default 4096)
# Environment: GRPO_EXCHANGE_URL (required; reaches Ray workers via ray_kwargs.ray_init.runtime_env), GRPO_EXCHANGE_TOKEN
#   (never put on the command line: workers inherit it from this environment when main_ppo starts a local Ray),
#   LENGTH_PYTHON (python with transformers+pyarrow for the lengths; default .venv/bin/python, else python3),
#   VERL_PYTHON (default python3), PROMPT_LENGTH_ROUND (64), MAX_PROMPT_LENGTH (a larger limit; a smaller one is refused),
#   CHAT_TEMPLATE_KWARGS (JSON object of scalars, e.g. {"enable_thinking":false}: used for the lengths and passed to verl),
#   TRAIN_BATCH_SIZE (default min(64, train rows)), PPO_MINI_BATCH_SIZE (= TRAIN_BATCH_SIZE), MICRO_BATCH_PER_GPU (2),
#   N_GPUS (1), NNODES (1), TP (1), ROLLOUT (vllm), TOTAL_EPOCHS (1).
# Keys are those of verl 0.8.0.dev (b178a3c); re-check them against the verl you pin.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
die() { echo "verl_grpo.sh: $*" >&2; exit 2; }

print=0
model="${MODEL:-}"; run="${RUN:-}"; prompts="${PROMPT_DIR:-}"; group="${GROUP:-}"
response_len="${MAX_RESPONSE_LENGTH:-4096}"
while [ $# -gt 0 ]; do
  case "$1" in
    --print|--dry-run) print=1 ;;
    --model) model="${2:?--model needs a value}"; shift ;;
    --run) run="${2:?--run needs a value}"; shift ;;
    --prompts) prompts="${2:?--prompts needs a value}"; shift ;;
    --group) group="${2:?--group needs a value}"; shift ;;
    --response-length) response_len="${2:?--response-length needs a value}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    *) die "unknown argument: $1 (Hydra overrides go after --)" ;;
  esac
  shift
done
extra=("$@")

[ -n "$model" ] || die "no model: pass --model PATH or set MODEL"
[ -n "${GRPO_EXCHANGE_URL:-}" ] || die "GRPO_EXCHANGE_URL is not set: compute_score posts each completion to <url>/v1/score"
if [ -z "$prompts" ]; then
  [ -n "$run" ] || die "no prompts: pass --run DIR or --prompts DIR (or set RUN / PROMPT_DIR)"
  for d in "$run/datasets/rl" "$run/sft/rl" "$run/rl" "$run"; do
    if [ -f "$d/train.parquet" ]; then prompts="$d"; break; fi
  done
  [ -n "$prompts" ] || die "no rl/train.parquet under $run (looked in datasets/rl, sft/rl, rl)"
fi
[ -f "$prompts/train.parquet" ] || die "no train.parquet in $prompts"
prompts="$(cd "$prompts" && pwd)"
train="$prompts/train.parquet"
# An empty split is not exported, so val.parquet may be missing; verl still builds a val dataset from data.val_files
# (its default is a gsm8k path), so the train file stands in with validation switched off.
val=""; [ -f "$prompts/val.parquet" ] && val="$prompts/val.parquet"

py="${LENGTH_PYTHON:-}"
if [ -z "$py" ]; then
  if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
fi
tokenizer="${TOKENIZER:-$model}"
tmpl_kwargs="${CHAT_TEMPLATE_KWARGS:-}"; [ -n "$tmpl_kwargs" ] || tmpl_kwargs='{}'
round="${PROMPT_LENGTH_ROUND:-64}"

# HF libraries stay offline here: the tokenizer must be local (or already cached), and sizing never downloads.
lengths_env=(env HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}" TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}" TOKENIZERS_PARALLELISM=false)
files=("$train"); [ -n "$val" ] && files+=("$val")
max_len="$("${lengths_env[@]}" "$py" "$here/prompt_lengths.py" --tokenizer "$tokenizer" --round "$round" \
  --chat-template-kwargs "$tmpl_kwargs" "${files[@]}")" || die "could not measure the prompts with $py (needs transformers and pyarrow)"
if [ -n "${MAX_PROMPT_LENGTH:-}" ]; then
  [ "$MAX_PROMPT_LENGTH" -ge "$max_len" ] || die "MAX_PROMPT_LENGTH=$MAX_PROMPT_LENGTH is below the prompts' $max_len tokens"
  max_len="$MAX_PROMPT_LENGTH"
fi
# The template kwargs and the train row count, read with the same python (no jq needed).
read -r train_rows tmpl_overrides < <("$py" - "$train" "$tmpl_kwargs" <<'PY'
import json, sys
import pyarrow.parquet as pq
kw = json.loads(sys.argv[2])
out = []
for k, v in kw.items():
    if isinstance(v, bool):
        v = "true" if v else "false"
    elif isinstance(v, (int, float)):
        v = repr(v)
    elif isinstance(v, str) and '"' not in v and "\\" not in v:
        v = '"' + v + '"'
    else:
        sys.exit("CHAT_TEMPLATE_KWARGS: only scalar values are supported, not " + repr(v))
    out.append("+data.apply_chat_template_kwargs." + k + "=" + v)
print(pq.ParquetFile(sys.argv[1]).metadata.num_rows, " ".join(out))
PY
) || die "could not read $train"

if [ -z "$group" ]; then
  for f in "${run:+$run/exchange/run.json}" "$prompts/../../exchange/run.json"; do
    if [ -n "$f" ] && [ -f "$f" ]; then
      group="$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("group_size") or "")' "$f")"
      [ -n "$group" ] && break
    fi
  done
  group="${group:-8}"
fi
tbs="${TRAIN_BATCH_SIZE:-$(( train_rows < 64 ? train_rows : 64 ))}"
# A data.train_batch_size override also sizes the default mini-batch (verl requires mini <= train batch).
for e in "${extra[@]}"; do case "$e" in data.train_batch_size=*) tbs="${e#*=}" ;; esac; done
[ "$tbs" -ge 1 ] || die "$train has no rows"

# Hydra parses override values: ':' ',' '=' and brackets need quoting (URLs, odd paths).
hq() {
  case "$1" in
    *[!A-Za-z0-9_./-]*|'')
      case "$1" in *'"'*|*\\*|*'$'*) die "cannot pass a value containing \", \\ or \$ to Hydra: $1" ;; esac
      printf '"%s"' "$1" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Quoted up front: a refusal inside hq must stop the script, which it cannot do from within an array literal.
q_train="$(hq "$train")"; q_val="$(hq "${val:-$train}")"; q_model="$(hq "$model")"; q_adapter="$(hq "$here/verl_adapter.py")"
q_url="$(hq "$GRPO_EXCHANGE_URL")"; q_name="$(hq "$(basename "${run:-$prompts}")")"
args=(
  algorithm.adv_estimator=grpo
  "data.train_files=$q_train"
  "data.val_files=$q_val"
  data.prompt_key=prompt
  data.reward_fn_key=data_source
  "data.max_prompt_length=$max_len"
  "data.max_response_length=$response_len"
  "data.train_batch_size=$tbs"
  "actor_rollout_ref.model.path=$q_model"
  "actor_rollout_ref.actor.ppo_mini_batch_size=${PPO_MINI_BATCH_SIZE:-$tbs}"
  "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=${MICRO_BATCH_PER_GPU:-2}"
  "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=${MICRO_BATCH_PER_GPU:-2}"
  "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=${MICRO_BATCH_PER_GPU:-2}"
  "actor_rollout_ref.rollout.name=${ROLLOUT:-vllm}"
  "actor_rollout_ref.rollout.tensor_model_parallel_size=${TP:-1}"
  "actor_rollout_ref.rollout.n=$group"
  "custom_reward_function.path=$q_adapter"
  custom_reward_function.name=compute_score
  "+ray_kwargs.ray_init.runtime_env.env_vars.GRPO_EXCHANGE_URL=$q_url"
  "trainer.logger=[console]"
  trainer.project_name=flowreasoner
  "trainer.experiment_name=$q_name"
  "trainer.n_gpus_per_node=${N_GPUS:-1}"
  "trainer.nnodes=${NNODES:-1}"
  "trainer.total_epochs=${TOTAL_EPOCHS:-1}"
)
if [ -z "$val" ]; then args+=(trainer.val_before_train=False trainer.test_freq=-1); fi
# shellcheck disable=SC2206 # space-separated overrides made above, none with spaces
[ -n "$tmpl_overrides" ] && args+=($tmpl_overrides)

# A user override replaces ours (Hydra rejects a key given twice); a smaller prompt limit is refused.
for e in "${extra[@]}"; do
  key="${e%%=*}"; key="${key#++}"; key="${key#+}"; key="${key#\~}"
  if [ "$key" = data.max_prompt_length ] && [ "${e#*=}" -lt "$max_len" ] 2>/dev/null; then
    die "data.max_prompt_length=${e#*=} is below the prompts' $max_len tokens"
  fi
  kept=()
  for a in "${args[@]}"; do
    k="${a%%=*}"; k="${k#+}"
    [ "$k" = "$key" ] || kept+=("$a")
  done
  args=("${kept[@]}")
done
args+=("${extra[@]}")

cmd=("${VERL_PYTHON:-python3}" -m verl.trainer.main_ppo "${args[@]}")
echo "verl_grpo.sh: $train_rows train rows${val:+, val.parquet}; data.max_prompt_length=$max_len; rollout.n=$group" >&2
if [ "$print" = 1 ]; then
  printf '%q -m verl.trainer.main_ppo' "${cmd[0]}"
  for a in "${args[@]}"; do printf ' \\\n  %q' "$a"; done
  printf '\n'
  exit 0
fi
export GRPO_EXCHANGE_URL
exec "${cmd[@]}"
