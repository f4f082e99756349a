#!/usr/bin/env bash
# Builds the npm package into pkg/: two wasm artifacts (cpu: burn's flex backend; webgpu: wgpu only),
# their wasm-bindgen JS glue, the TypeScript layer (www/lib → ESM + .d.ts), package.json, the npm
# README (www/lib/README.md) and the licences.
# Installs what it needs when missing: the wasm32 target, wasm-bindgen-cli (matching the crate's
# wasm-bindgen), and npm's binaryen for wasm-opt (Debian's is too old and breaks the output).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
WASM_BINDGEN_VERSION=0.2.130

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
(cd www && npm ci --no-audit --no-fund --silent)

mkdir -p pkg
rm -rf pkg/cpu pkg/webgpu
for artifact in cpu webgpu; do
  # cpu: flex kernels in wasm, built for speed; webgpu: kernels on the GPU, built for size (Cargo.toml).
  features="wasm,flex,simd" profile=wasm-cpu opt=-O3
  [ "$artifact" = webgpu ] && features="wasm,wgpu" profile=wasm-release opt=-Oz
  echo "building the $artifact artifact (features: $features, profile: $profile)..."
  RUSTFLAGS="-C target-feature=+simd128" cargo build --locked --lib --target wasm32-unknown-unknown \
    --profile "$profile" --no-default-features --features "$features"
  wasm-bindgen --target web --out-dir "pkg/$artifact" --out-name "scenerec_$artifact" \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/scenerec.wasm"
  wasm="pkg/$artifact/scenerec_${artifact}_bg.wasm"
  node --max-old-space-size=8000 www/node_modules/.bin/wasm-opt "$opt" --enable-simd --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals "$wasm" -o "$wasm"
  rm -f "pkg/$artifact/.gitignore" "pkg/$artifact/package.json"
done

rm -f pkg/*.js pkg/*.d.ts
(cd www && npx tsc -p tsconfig.json)
cp www/lib/README.md LICENSE-MIT LICENSE-APACHE pkg/
version=$(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)
cat > pkg/package.json <<JSON
{
  "name": "scenerec",
  "version": "$version",
  "description": "On-device multi-scene recommender: a Burn model in WebAssembly (WebGPU or CPU), in a Web Worker",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "./index.js",
  "types": "./index.d.ts",
  "exports": {
    ".": { "types": "./index.d.ts", "import": "./index.js" },
    "./worker.js": "./worker.js",
    "./cpu/*": "./cpu/*",
    "./webgpu/*": "./webgpu/*",
    "./package.json": "./package.json"
  },
  "files": ["*.js", "*.d.ts", "cpu/", "webgpu/", "LICENSE-MIT", "LICENSE-APACHE"],
  "sideEffects": ["./worker.js"],
  "keywords": ["recommender", "recommendation", "webgpu", "wasm", "on-device", "privacy", "burn"]
}
JSON
for artifact in cpu webgpu; do
  wasm="pkg/$artifact/scenerec_${artifact}_bg.wasm"
  echo "$artifact: $(stat -c %s "$wasm") bytes raw, $(gzip -9 -c "$wasm" | wc -c) gzipped"
done
