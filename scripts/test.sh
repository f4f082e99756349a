#!/usr/bin/env bash
# The test command: prepares the real data the tests read, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/prepare-data.sh
cargo test --release --locked
