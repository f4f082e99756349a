// The demo page (www/demo) built into www/dist. The `scenerec` package is the built pkg/, which
// Vite bundles as it would from node_modules: the worker and the wasm files go to dist/assets/.
import { defineConfig } from "vite";
import { fileURLToPath } from "node:url";

export default defineConfig({
  root: fileURLToPath(new URL("demo", import.meta.url)),
  base: "./",
  publicDir: false,
  // `scenerec` and its subpaths (the package names its own worker file) from pkg/.
  resolve: {
    alias: [
      { find: /^scenerec$/, replacement: fileURLToPath(new URL("../pkg/index.js", import.meta.url)) },
      { find: /^scenerec\/(.*)$/, replacement: fileURLToPath(new URL("../pkg/", import.meta.url)) + "$1" },
    ],
  },
  build: {
    outDir: fileURLToPath(new URL("dist", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // One small script and one stylesheet, no inline module-preload polyfill (the CSP forbids inline scripts).
    modulePreload: { polyfill: false },
  },
});
