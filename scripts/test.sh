#!/usr/bin/env bash
# The test command: installs what the tests need, prepares the real data, builds the npm
# package and the demo, then runs the Rust tests (flex and wgpu) and the browser tests
# (headless Chromium: the package on CPU wasm and WebGPU, its IndexedDB store, the demo page, the
# packed tarball installed into fresh Vite, webpack and no-bundler apps, and hostile input).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/install-deps.sh
scripts/prepare-data.sh
cargo test --release --locked
scripts/build-wasm.sh
scripts/build-demo.sh
# The package tests rank with the shipped default model, exported as the browser loads it.
"$SCENEREC_BIN" export --data data/ml-1m --config configs/default.json --weights models/default.weights --out runs/browser-model
(cd www && node --test --test-concurrency=1 tests/package.test.mjs tests/storage.test.mjs tests/demo.test.mjs tests/apps.test.mjs tests/robustness.test.mjs tests/cache.test.mjs)
echo "demo screenshots: runs/test-output/demo-desktop.png, runs/test-output/demo-phone.png"
