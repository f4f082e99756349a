#!/usr/bin/env bash
# System packages the tests need: Mesa's lavapipe Vulkan driver, so burn's wgpu backend runs
# natively on machines without a GPU. Installs only what is missing (needs root or sudo).
set -euo pipefail
if ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing mesa-vulkan-drivers (lavapipe)..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
