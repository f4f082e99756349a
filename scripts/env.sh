# Sourced by the other scripts: shared paths. The cargo target dir lives outside the clone so
# CI runs and later sessions reuse the (long) Burn build; a fresh machine just builds it once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/scenerec/target}"
export SCENEREC_BIN="$CARGO_TARGET_DIR/release/scenerec"
# Mesa's Vulkan driver (wgpu's adapter on a machine without a GPU) wants a runtime directory and
# prints an error on every start without one; headless machines and CI have none.
mkdir -p "${XDG_RUNTIME_DIR:=/tmp/scenerec-xdg-$(id -u)}" && chmod 700 "$XDG_RUNTIME_DIR" && export XDG_RUNTIME_DIR
