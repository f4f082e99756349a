#!/usr/bin/env bash
# The accuracy benchmark: popularity, scenerec, scenerec without LM features, scenerec trained
# per scene, and cold start, on ML-1M with full ranking. Writes bench/results/accuracy.{json,md}.
# Takes about an hour on 2 cores (five trainings); the main model's weights are left in
# runs/bench/scenerec/best.weights (copy them to models/default.weights to ship them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
"$SCENEREC_BIN" bench --data data/ml-1m --config configs/default.json --out bench/results \
  --runs runs/bench --command "scripts/bench-accuracy.sh"
