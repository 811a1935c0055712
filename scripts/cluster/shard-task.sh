#!/usr/bin/env bash
# One shard of `flowreasoner distill` or `flowreasoner eval`: a Slurm array task (slurm/distill-array.sbatch,
# slurm/eval-array.sbatch) or a pod of a Kubernetes Indexed Job (k8s/distill-indexed-job.yaml). The first run starts the shard; a requeue, a preemption or a resubmission resumes it, and a shard
# that already completed exits 0 at once (the CLI checks its run.json), so the whole array can be resubmitted blindly.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: shard-task.sh distill|eval [EXTRA CLI ARGS...]
Runs inside a Slurm array task (sbatch --array=0-(N-1)%THROTTLE; normally through slurm/distill-array.sbatch or
slurm/eval-array.sbatch), or in a pod of a Kubernetes Indexed Job (JOB_COMPLETION_INDEX; FR_SHARDS must be set).

Task i of the array runs, in FR_REPO:
  first time:  flowreasoner STAGE --config FR_CONFIG --out FR_RUN_DIR/shards/i --shard i/N [EXTRA CLI ARGS...]
  after that:  flowreasoner STAGE --resume FR_RUN_DIR/shards/i --shard i/N
               (resumes an interrupted shard; exits 0 at once when it already completed)
EXTRA CLI ARGS (e.g. --set distill.maxQueries=100) are frozen into the shard's run.json by the first run; a resume reuses them.

Environment:
  FR_REPO     the flowreasoner-ts checkout          (default: SLURM_SUBMIT_DIR, else the current directory)
  FR_CONFIG   the YAML config                        (default: FR_REPO/configs/STAGE.yaml)
  FR_RUN_DIR  the run directory on a shared disk     (default: FR_REPO/runs/slurm-STAGE)
  FR_SHARDS   N, the number of shards                (default: SLURM_ARRAY_TASK_COUNT; set it when resubmitting
              only some tasks, e.g. sbatch --array=2 with FR_SHARDS=4; required under Kubernetes, = completions)
  FR_NODE     the node binary                        (default: node)
Relative FR_CONFIG and FR_RUN_DIR are taken from FR_REPO.
USAGE
}

stage=${1:-}
case "$stage" in
  -h | --help) usage; exit 0 ;;
  distill | eval) shift ;;
  *) usage >&2; exit 2 ;;
esac
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then usage; exit 0; fi

die() { echo "shard-task.sh: $*" >&2; exit 2; }

# The shard index: Slurm's array task id, or the completion index Kubernetes gives each pod of an Indexed Job.
if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
  i=$SLURM_ARRAY_TASK_ID
elif [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
  i=$JOB_COMPLETION_INDEX
  [ -n "${FR_SHARDS:-}" ] || die "JOB_COMPLETION_INDEX is set but FR_SHARDS is not: set FR_SHARDS to the Job's completions"
else
  die "neither a Slurm array task (SLURM_ARRAY_TASK_ID) nor an Indexed Job pod (JOB_COMPLETION_INDEX): submit with sbatch --array=0-(N-1)%THROTTLE, or see scripts/cluster/k8s"
fi
repo=${FR_REPO:-${SLURM_SUBMIT_DIR:-$PWD}}
[ -f "$repo/scripts/flowreasoner.mjs" ] || die "FR_REPO ($repo) is not a flowreasoner-ts checkout: set FR_REPO"
cd "$repo"
config=${FR_CONFIG:-configs/$stage.yaml}
run_dir=${FR_RUN_DIR:-runs/slurm-$stage}
node=${FR_NODE:-node}
if [ -n "${FR_SHARDS:-}" ]; then
  n=$FR_SHARDS
else
  # Without FR_SHARDS the array itself must be 0..N-1, or task ids and the shard count disagree.
  [[ "${SLURM_ARRAY_TASK_COUNT:-}" =~ ^[1-9][0-9]*$ ]] && [ "${SLURM_ARRAY_TASK_MIN:-0}" = 0 ] &&
    [ "${SLURM_ARRAY_TASK_MAX:-}" = "$((SLURM_ARRAY_TASK_COUNT - 1))" ] ||
    die "array ${SLURM_ARRAY_TASK_MIN:-?}-${SLURM_ARRAY_TASK_MAX:-?} is not 0-(N-1): use --array=0-(N-1), or set FR_SHARDS=N"
  n=$SLURM_ARRAY_TASK_COUNT
fi
if ! [[ "$n" =~ ^[1-9][0-9]*$ && "$i" =~ ^[0-9]+$ ]] || [ "$i" -ge "$n" ]; then
  die "task $i is not a shard of $n"
fi

shards=$run_dir/shards
shard_dir=$shards/$i
mkdir -p "$shards"
# Each task writes only its own files, so shards on NFS need no locks: the slice marker is written by rename, and it
# keeps a resubmission with another N from resuming a shard that holds a different slice.
marker=$shards/$i.slice
if [ -f "$marker" ]; then
  [ "$(cat "$marker")" = "$i/$n" ] || die "$shard_dir holds slice $(cat "$marker"), not $i/$n: use the same N, or another FR_RUN_DIR"
else
  printf '%s\n' "$i/$n" >"$marker.tmp.$$"
  mv -f "$marker.tmp.$$" "$marker"
fi

echo "shard $i/$n of $stage on $(hostname) (${SLURM_ARRAY_JOB_ID:+job ${SLURM_ARRAY_JOB_ID}_$i, restart ${SLURM_RESTART_COUNT:-0}}${JOB_COMPLETION_INDEX:+pod ${HOSTNAME:-?}}): $shard_dir" >&2
# exec: the SIGTERM of a preemption, scancel or pod eviction reaches the CLI, which marks the run interrupted for the resume.
if [ -f "$shard_dir/run.json" ]; then
  exec "$node" scripts/flowreasoner.mjs "$stage" --resume "$shard_dir" --shard "$i/$n"
fi
exec "$node" scripts/flowreasoner.mjs "$stage" --config "$config" --out "$shard_dir" --shard "$i/$n" "$@"
