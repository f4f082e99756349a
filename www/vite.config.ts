// The demo page (www/demo) built into www/dist. The `scenerec` package is the built pkg/;
// its worker and wasm files are served from dist/scenerec/ (copied by scripts/build-demo.sh),
// because a bundler must not inline or rename them.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL("demo", import.meta.url)),
  base: "./",
  publicDir: false,
  resolve: { alias: { scenerec: fileURLToPath(new URL("../pkg/index.js", import.meta.url)) } },
  build: {
    outDir: fileURLToPath(new URL("dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // One small script and one stylesheet, no inline module-preload polyfill (the CSP forbids inline scripts).
    modulePreload: { polyfill: false },
  },
});
