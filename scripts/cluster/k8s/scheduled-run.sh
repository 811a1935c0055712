#!/bin/sh
# The body of cronjob.yaml: creates one distill Indexed Job under a fresh RUN_ID, waits for it, then creates the merge
# Job and waits for that. Runs in a kubectl image, with the templates mounted from the fr-cluster ConfigMap.
#   FR_TEMPLATES  directory with distill-indexed-job.yaml and merge-job.yaml (default: the script's directory)
#   FR_RUN_ID     the run's name (default: UTC date and time, e.g. 20261206-0200)
#   FR_TIMEOUT    how long to wait for each Job (default: 24h)
set -eu
case "${1:-}" in
  -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
esac
templates=${FR_TEMPLATES:-$(dirname "$0")}
run_id=${FR_RUN_ID:-$(date -u +%Y%m%d-%H%M)}
timeout=${FR_TIMEOUT:-24h}
# Kubernetes names: lower case, digits and '-'.
case "$run_id" in
  *[!a-z0-9-]* | "") echo "scheduled-run.sh: FR_RUN_ID '$run_id' must be lower-case letters, digits and '-'" >&2; exit 2 ;;
esac

render() { sed "s/RUN_ID/$run_id/g" "$templates/$1"; }

echo "run $run_id: creating fr-distill-$run_id"
render distill-indexed-job.yaml | kubectl create -f -
# A Job that fails never becomes complete: the wait times out and this CronJob run fails, visibly.
kubectl wait --for=condition=complete "job/fr-distill-$run_id" --timeout="$timeout"
echo "run $run_id: shards complete, merging"
render merge-job.yaml | kubectl create -f -
kubectl wait --for=condition=complete "job/fr-distill-merge-$run_id" --timeout="$timeout"
echo "run $run_id: merged into /runs/$run_id/merged"
