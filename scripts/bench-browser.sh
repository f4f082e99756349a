#!/usr/bin/env bash
# The browser benchmark (www/tests/bench-browser.mjs) → bench/results/browser.json.
# Builds what it measures: the npm package, the demo, the exported default model, two synthetic models.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
scripts/build-wasm.sh
scripts/build-demo.sh
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json --weights models/default.weights --out runs/browser-model
for n in 1000 10000; do
  [ -s "runs/synth-$n/model.weights" ] || "$SCENEREC_BIN" synth --items "$n" --out "runs/synth-$n"
  # The same weights by name, for the TensorFlow.js peer.
  "$SCENEREC_BIN" tensors --weights "runs/synth-$n/model.weights" --out "runs/synth-$n"
done
(cd www && node tests/bench-browser.mjs)
