#!/usr/bin/env bash
# Builds the demo site into www/dist: the page with the npm package, bundled by Vite as an app's
# bundler would (the package's worker and wasm land in dist/assets/), and the default model
# exported with its catalogue and three new arrivals' text embeddings (→ dist/model/). Needs the prepared data
# (scripts/prepare-data.sh) and the CLI; builds the package when pkg/ has no wasm yet.
# SCENEREC_WEIGHTS picks other weights than the shipped models/default.weights.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
[ -f pkg/cpu/scenerec_cpu_bg.wasm ] && [ -f pkg/webgpu/scenerec_webgpu_bg.wasm ] || scripts/build-wasm.sh
(cd www && { [ -x node_modules/.bin/vite ] || npm ci --no-audit --no-fund --silent; } && npx tsc -p demo/tsconfig.json && npx vite build --logLevel warn)
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json \
  --weights "${SCENEREC_WEIGHTS:-models/default.weights}" --out www/dist/model
# New arrivals the model has never seen, with their text embeddings: the page adds them with
# `addItems`, as a shop's server would hand new products to the browser.
"$SCENEREC_BIN" embed-items --items www/demo/new-arrivals.json --out www/dist/model/new-items.json
echo "demo built in www/dist ($(du -sh www/dist | cut -f1))"
