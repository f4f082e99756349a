#!/usr/bin/env bash
# The test command: prepares the real data the tests read, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
mkdir -p "${XDG_RUNTIME_DIR:=/tmp/scenerec-xdg}" && chmod 700 "$XDG_RUNTIME_DIR" && export XDG_RUNTIME_DIR
cargo test --release --locked
