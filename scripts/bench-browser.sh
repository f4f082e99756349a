#!/usr/bin/env bash
# The browser benchmark (www/tests/bench-browser.mjs) → bench/results/browser.json.
# Builds what it measures: the npm package, the demo, the exported default model, synthetic models
# of 1k to 1M items, and the default model's ML-1M accuracy with f32, int6, int8 and int4 item vectors.
#
#   scripts/bench-browser.sh               everything
#   scripts/bench-browser.sh quantisation  only the accuracy per encoding (after shipping new
#                                          default weights; the speed and size figures are kept)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
# The default model evaluated natively with each item-vector encoding.
quantisation() {
  mkdir -p runs/quantisation
  local q flag
  for q in f32 int6 int8 int4; do
    flag=(); [ "$q" = f32 ] || flag=(--quantised "$q")
    "$SCENEREC_BIN" eval --data data/ml-1m --config configs/default.json --weights models/default.weights \
      --track all "${flag[@]}" --json "runs/quantisation/$q.json" > /dev/null
  done
}
if [ "${1:-}" = quantisation ]; then
  quantisation
  (cd www && node tests/bench-browser.mjs --quantisation-only)
  exit 0
fi
scripts/install-deps.sh
scripts/build-wasm.sh
scripts/build-demo.sh
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json --weights models/default.weights --out runs/browser-model
# Made again when missing or from an older export format (no catalog.bin).
for n in 1000 10000 100000 1000000; do
  [ -s "runs/synth-$n/catalog.bin" ] || "$SCENEREC_BIN" synth --items "$n" --out "runs/synth-$n"
done
for encoding in int8 int4; do
  [ -s "runs/synth-1000000-$encoding/catalog.bin" ] ||
    "$SCENEREC_BIN" synth --items 1000000 --encoding "$encoding" --out "runs/synth-1000000-$encoding"
done
for n in 1000 10000; do
  # The same weights by name, for the TensorFlow.js peer.
  "$SCENEREC_BIN" tensors --weights "runs/synth-$n/model.weights" --out "runs/synth-$n"
done
quantisation
(cd www && node tests/bench-browser.mjs)
