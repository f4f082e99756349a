#!/usr/bin/env bash
# System packages the tests need, installed only when missing (needs root or sudo):
#   mesa-vulkan-drivers  Mesa's lavapipe Vulkan driver, so burn's wgpu backend runs natively
#                        on machines without a GPU;
#   chromium             Debian's headless browser for the browser tests (Playwright drives it;
#                        it cannot download a browser of its own here).
set -euo pipefail
missing=()
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers libvulkan1)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing ${missing[*]}..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
