// Headless Chromium (Debian's, driven by playwright-core) for the browser tests and benchmarks.
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox", "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--enable-unsafe-webgpu",
];

/** `extraArgs`: more Chromium flags (e.g. `--js-flags=--expose-gc` for the soak benchmark). */
export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: [...CHROMIUM_ARGS, ...extraArgs] });
}
