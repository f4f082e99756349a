#!/usr/bin/env bash
# The accuracy benchmark on ML-1M (see README "Accuracy"): every model and peer in three tracks,
# cold start and on-device fine-tuning. Writes bench/results/accuracy.{json,md}.
#
#   scripts/bench-accuracy.sh                 every part, then the merge (about 11 hours on 2 cores)
#   scripts/bench-accuracy.sh sasrec,peers    only these parts (the others' last results are kept)
#   DATASET=ml-100k scripts/bench-accuracy.sh the same on MovieLens-100k (about 1½ hours):
#                                             bench/results/ml-100k/, runs/bench-ml-100k/
#
#   JOBS=2 scripts/bench-accuracy.sh per-scene  the per-scene part's six scene models trained
#                                             two processes at a time (for a part run alone;
#                                             likewise cold-start's two models and each seeds
#                                             part's two seeds)
#
# A training interrupted mid-part resumes from its last epoch when the part runs again with the
# same config (delete runs/bench/ to start afresh).
#
# Parts: peers, sasrec, scenerec, no-lm, per-scene, cold-start, fine-tune-sweep (the default
# pull of fine-tuning toward the shared weights, chosen on validation: about 40 minutes),
# fine-tune (both need scenerec's model), fine-tune-unseen (the same users with a model
# pretrained without them, scenerec's schedule; about 1½ hours), sasrec-seeds and
# scenerec-seeds (training variance: each model retrained with two more seeds and the schedule
# its main part chose, about 3 hours each).
# Each part runs in its own single-threaded process (on these 2 cores two one-thread trainings
# side by side finish sooner than one after the other with two threads each), in two lanes;
# each leaves its results in runs/bench/parts/ and its log in runs/bench/logs/. The main model's weights are left in
# runs/bench/scenerec.weights (copy them to models/default.weights to ship them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
export RAYON_NUM_THREADS=1
dataset="${DATASET:-ml-1m}"
if [ "$dataset" = ml-1m ]; then runs=runs/bench out=bench/results; else runs="runs/bench-$dataset" out="bench/results/$dataset"; fi
[ -s "data/$dataset/embeddings.bin" ] || { echo "no prepared data/$dataset (ml-1m or ml-100k)" >&2; exit 1; }
command="scripts/bench-accuracy.sh"
[ "$dataset" = ml-1m ] || command="DATASET=$dataset $command"
mkdir -p "$runs/logs"
jobs="${JOBS:-1}"
# The benchmark CLI on this data set; the first argument names the parts (none: merge only),
# the rest are passed on. With JOBS=N the parts that train several models (per-scene,
# cold-start, the seeds parts) train them in N processes side by side (`bench --jobs`).
bench() {
  "$SCENEREC_BIN" bench --data "data/$dataset" --config configs/default.json --out "$out" \
    --runs "$runs" --command "$command" --jobs "$jobs" --parts "$@"
}
wanted=",${1:-peers,sasrec,scenerec,no-lm,per-scene,cold-start,fine-tune-sweep,fine-tune,fine-tune-unseen,sasrec-seeds,scenerec-seeds},"
part() {
  [[ "$wanted" == *",$1,"* ]] || return 0
  echo "$(date +%T) part $1 (log: $runs/logs/$1.log)"
  bench "$1" > "$runs/logs/$1.log" 2>&1 || { echo "part $1 failed: see $runs/logs/$1.log" >&2; return 1; }
}
# Two lanes of about equal length; the fine-tuning parts follow the scenerec part, whose model
# and kept schedule they read (lane b reaches fine-tune-unseen long after lane a has it).
(part scenerec && part fine-tune-sweep && part fine-tune && part no-lm && part cold-start && part scenerec-seeds) & lane_a=$!
(part peers && part sasrec && part per-scene && part sasrec-seeds && part fine-tune-unseen) & lane_b=$!
status=0
wait "$lane_a" || status=1
wait "$lane_b" || status=1
bench none
exit "$status"
