#!/usr/bin/env bash
# Submits a sharded distill or eval run to Slurm: the job array, then the merge job that runs once every task succeeded.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/cluster/slurm/submit.sh [options] distill|eval [-- EXTRA CLI ARGS...]
Submits STAGE-array.sbatch as --array=0-(N-1)%THROTTLE and merge.sbatch with --dependency=afterok:<array job id>,
and prints both job ids. Shards go to OUT/shards/i, the merged run to OUT/merged.

Options:
  -n, --shards N        number of shards (array tasks)                       (default 4)
  -t, --throttle T      at most T tasks at once                               (default N)
  -c, --config FILE     the YAML config                                       (default configs/STAGE.yaml)
  -o, --out DIR         run directory on a disk every node shares             (default runs/slurm-STAGE)
      --dated           append -YYYYMMDD to the run directory (for scheduled runs: one per day; a rerun the same
                        day resumes it)
  -s, --sbatch ARG      an extra sbatch option for both jobs, e.g. -s --partition=gpu -s --time=12:00:00 (repeatable)
  -h, --help            this help
EXTRA CLI ARGS after -- go to each shard's first run (e.g. -- --set distill.maxQueries=200).
Relative paths are taken from the current directory. Submitting again with the same OUT and N resumes: unfinished
shards go on, finished ones exit at once, and an existing merge is kept.

Output: two lines, "array job: ID" and "merge job: ID"; job logs in OUT/logs/.
Example:
  scripts/cluster/slurm/submit.sh -n 8 -t 4 -c configs/distill.yaml -o /shared/runs/distill-r1 distill
USAGE
}

die() { echo "submit.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
shards=4
throttle=
config=
out=
dated=0
stage=
sbatch_args=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    -n | --shards) [ $# -ge 2 ] || die "$1 needs a value"; shards=$2; shift 2 ;;
    -t | --throttle) [ $# -ge 2 ] || die "$1 needs a value"; throttle=$2; shift 2 ;;
    -c | --config) [ $# -ge 2 ] || die "$1 needs a value"; config=$2; shift 2 ;;
    -o | --out) [ $# -ge 2 ] || die "$1 needs a value"; out=$2; shift 2 ;;
    --dated) dated=1; shift ;;
    -s | --sbatch) [ $# -ge 2 ] || die "$1 needs a value"; sbatch_args+=("$2"); shift 2 ;;
    --) shift; extra=("$@"); break ;;
    distill | eval) [ -z "$stage" ] || die "one stage only"; stage=$1; shift ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[ -n "$stage" ] || { usage >&2; die "name a stage: distill or eval"; }
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a positive integer, got '$shards'"
throttle=${throttle:-$shards}
[[ "$throttle" =~ ^[1-9][0-9]*$ ]] || die "--throttle must be a positive integer, got '$throttle'"
command -v sbatch >/dev/null 2>&1 || die "sbatch not found: run this on a Slurm login node"

# Jobs run from FR_REPO, so every path they get is absolute.
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
config=$(abs "${config:-$repo/configs/$stage.yaml}")
[ -f "$config" ] || die "no config $config"
out=$(abs "${out:-$repo/runs/slurm-$stage}")
[ "$dated" = 1 ] && out=$out-$(date +%Y%m%d)
mkdir -p "$out/logs"

# sbatch passes this environment to both jobs (--export=ALL, Slurm's default).
export FR_REPO=$repo FR_CONFIG=$config FR_RUN_DIR=$out FR_SHARDS=$shards FR_STAGE=$stage
array_id=$(sbatch --parsable "${sbatch_args[@]}" --job-name="fr-$stage" --array="0-$((shards - 1))%$throttle" \
  --output="$out/logs/%x-%A_%a.out" --chdir="$repo" "$here/$stage-array.sbatch" "${extra[@]}")
array_id=${array_id%%;*} # --parsable prints "id;cluster" on multi-cluster setups
# kill-on-invalid-dep: when a shard fails the merge is cancelled instead of pending forever; resubmit to resume.
merge_id=$(sbatch --parsable "${sbatch_args[@]}" --job-name="fr-$stage-merge" --dependency="afterok:$array_id" --kill-on-invalid-dep=yes \
  --output="$out/logs/%x-%j.out" --chdir="$repo" "$here/merge.sbatch" "$stage")
merge_id=${merge_id%%;*}
echo "array job: $array_id"
echo "merge job: $merge_id"
echo "run dir: $out (shards/0..$((shards - 1)), merged/, logs/)" >&2
