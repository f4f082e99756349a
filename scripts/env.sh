# Sourced by the other scripts: shared paths. The cargo target dir lives outside the clone so
# CI runs and later sessions reuse the (long) Burn build; a fresh machine just builds it once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scenerec/target}"
export SCENEREC_BIN="$CARGO_TARGET_DIR/release/scenerec"
