#!/usr/bin/env bash
# Joins the shards of a distill or eval run (FR_RUN_DIR/shards/0..N-1) into one run directory:
#   flowreasoner STAGE merge FR_RUN_DIR/shards/0 … FR_RUN_DIR/shards/N-1 --out FR_MERGED_DIR
# Run by slurm/merge.sbatch (after the array, --dependency=afterok) and by k8s/merge-job.yaml (after the Indexed Job).
# Help: bash merge-shards.sh --help
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: merge-shards.sh [distill|eval]   (Slurm: sbatch [--dependency=afterok:ARRAY_JOB_ID] slurm/merge.sbatch [distill|eval])
Merges FR_RUN_DIR/shards/0..N-1 (every one must have completed) into FR_MERGED_DIR with `flowreasoner STAGE merge`.
The merge writes into a temporary directory beside FR_MERGED_DIR and renames it into place, so readers never see a
half-merged directory, and a rerun (requeue) after a finished merge exits 0 at once.

Environment:
  FR_STAGE       distill or eval (or the first argument)
  FR_REPO        the flowreasoner-ts checkout      (default: SLURM_SUBMIT_DIR)
  FR_RUN_DIR     the array's run directory         (default: FR_REPO/runs/slurm-STAGE)
  FR_MERGED_DIR  the merged run directory          (default: FR_RUN_DIR/merged)
  FR_SHARDS      N                                 (default: read from FR_RUN_DIR/shards/0.slice)
  FR_NODE        the node binary                   (default: node)
Exit: 0 merged (or already merged); 1 the merge failed (eval: some samples still owed); 2 shards missing or unfinished.
USAGE
}

case "${1:-}" in -h | --help) usage; exit 0 ;; esac
die() { echo "merge-shards.sh: $*" >&2; exit 2; }
stage=${FR_STAGE:-${1:-}}
case "$stage" in distill | eval) ;; *) usage >&2; exit 2 ;; esac
repo=${FR_REPO:-${SLURM_SUBMIT_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}
[ -f "$repo/scripts/flowreasoner.mjs" ] || die "$repo is not a flowreasoner-ts checkout: set FR_REPO, or submit from the checkout"
cd "$repo"
run_dir=${FR_RUN_DIR:-runs/slurm-$stage}
merged=${FR_MERGED_DIR:-$run_dir/merged}
node=${FR_NODE:-node}

if [ -f "$merged/merge.json" ]; then
  echo "merge-shards.sh: $merged is already merged; nothing to do" >&2
  exit 0
fi
n=${FR_SHARDS:-}
if [ -z "$n" ]; then
  [ -f "$run_dir/shards/0.slice" ] || die "no $run_dir/shards/0.slice: set FR_SHARDS, or check FR_RUN_DIR"
  n=$(cut -d/ -f2 "$run_dir/shards/0.slice")
fi
[[ "$n" =~ ^[1-9][0-9]*$ ]] || die "FR_SHARDS must be a positive integer, got '$n'"

dirs=()
for ((i = 0; i < n; i++)); do
  d=$run_dir/shards/$i
  # afterok (Slurm) or kubectl wait (Kubernetes) already means every shard exited 0; this also holds for a merge started by hand.
  status=$("$node" -e 'try { process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).status) } catch { process.stdout.write("missing") }' "$d/run.json")
  [ "$status" = completed ] || die "shard $d is $status, not completed: resubmit the array (finished shards exit at once), then merge"
  dirs+=("$d")
done

# A unique temporary name per attempt, renamed into place: shards stay untouched, and a merge that died leaves only
# a temporary directory, which the next attempt replaces.
tmp=$(dirname "$merged")/.$(basename "$merged").tmp-${SLURM_JOB_ID:-$$}
rm -rf "$tmp"
"$node" scripts/flowreasoner.mjs "$stage" merge "${dirs[@]}" --out "$tmp"
mv -T "$tmp" "$merged"
echo "merge-shards.sh: merged $n shards into $merged" >&2
