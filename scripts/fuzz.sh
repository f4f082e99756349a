#!/usr/bin/env bash
# The long fuzz run (the test command runs a short one, tests/fuzz.rs): every target of
# `scenerec fuzz` (weights files, catalogues, histories, RecBole files) with many mutated inputs,
# each target in its own process under a time limit, so an abort or a hang is counted too.
# Writes the tallies to bench/results/robustness.json ("native").
#
#   scripts/fuzz.sh            200,000 inputs per target (20,000 for RecBole files), a few minutes
#   scripts/fuzz.sh 1000       another count
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
inputs=${1:-200000}
mkdir -p runs/fuzz
for target in weights vectors catalog history recbole; do
  n=$inputs
  [ "$target" = recbole ] && n=$((inputs / 10))
  status=0
  rm -f "runs/fuzz/$target.json"
  timeout 1800 "$SCENEREC_BIN" fuzz --target "$target" --inputs "$n" --seed 2 --data data/ml-1m \
    --json "runs/fuzz/$target.json" || status=$?
  echo "$status" > "runs/fuzz/$target.status"
done
python3 - "$inputs" <<'PY'
import json, sys
inputs = int(sys.argv[1])
native = {}
for target in ["weights", "vectors", "catalog", "history", "recbole"]:
    status = int(open(f"runs/fuzz/{target}.status").read())
    try:
        tally = json.load(open(f"runs/fuzz/{target}.json"))
    except (OSError, ValueError):
        tally = {"inputs": inputs // 10 if target == "recbole" else inputs, "clean_error": 0, "accepted": 0, "panic": 0}
    tally["hang"] = int(status == 124)
    tally["abort"] = int(status >= 128 or (status not in (0, 1, 124)))
    native[target] = tally
path = "bench/results/robustness.json"
try:
    results = json.load(open(path))
except (OSError, ValueError):
    results = {}
results["native"] = native
results["native_command"] = "scripts/fuzz.sh" + ("" if inputs == 200000 else f" {inputs}")
json.dump(results, open(path, "w"), indent=2)
print(json.dumps(native, indent=2))
PY
