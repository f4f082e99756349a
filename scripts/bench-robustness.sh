#!/usr/bin/env bash
# The browser half of the robustness results (www/tests/bench-robustness.mjs), in headless
# Chromium → bench/results/robustness.json: 500 mutated model files and 500 randomly odd calls
# through the npm package ("browser"), then 10,000 recommend calls and 30 fine-tunes on one
# instance, with memory and time per call ("soak"). scripts/fuzz.sh writes the native half.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
scripts/build-wasm.sh
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json --weights models/default.weights --out runs/browser-model
"$SCENEREC_BIN" fuzz --target weights --inputs 500 --seed 6 --data data/ml-1m --write runs/fuzz-browser-bench
(cd www && node tests/bench-robustness.mjs)
