#!/usr/bin/env bash
# The soak benchmark (www/tests/bench-soak.mjs): 10,000 recommend calls and 30 fine-tunes on one
# instance in headless Chromium; memory and time per call → bench/results/robustness.json ("soak").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
scripts/build-wasm.sh
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json --weights models/default.weights --out runs/browser-model
(cd www && node tests/bench-soak.mjs)
