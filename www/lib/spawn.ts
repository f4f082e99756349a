/**
 * Starting the engine's Web Worker wherever the package is served from.
 *
 * - Bundled (Vite, webpack, …): the worker is created with the literal
 *   `new Worker(new URL("./worker.js", import.meta.url), { type: "module" })`, the one form
 *   bundlers recognise, so they bundle `worker.js` and emit the wasm files it points at. Where a
 *   URL must be known at run time, it comes from `import.meta.resolve`, which bundlers rewrite
 *   too (a bare `import.meta.url` would be the build machine's path under webpack).
 * - `assetBase` given: the site hosts the package's files itself (a copy of `worker.js`, `cpu/`
 *   and `webgpu/`); the URL is resolved against the page, so no bundler rewrites it.
 * - Cross-origin (the package from a CDN, or `assetBase` on another origin): browsers only
 *   start a worker script of the page's own origin, so a same-origin bootstrap (a `blob:` module)
 *   imports the real `worker.js`, which must then be served with CORS (CDNs do).
 */

/** The Content-Security-Policy a page needs for the package (see the README). */
const CSP_HINT = "script-src 'self' 'wasm-unsafe-eval'; worker-src 'self', plus blob: and the files' origin when they come from another origin";

/**
 * The URL of the `worker.js` next to this module, or `null` in a browser without
 * `import.meta.resolve`. (Not `import.meta.url`: webpack would put the build machine's path there;
 * it rewrites `import.meta.resolve` to the emitted file, as Vite leaves it to the browser.)
 */
function ownWorkerUrl(): string | null {
  try {
    return import.meta.resolve("./worker.js");
  } catch {
    return null;
  }
}

/** A worker of the page's origin that runs the module at `url`. */
function workerAt(url: URL): Worker {
  if (url.origin === globalThis.location?.origin) return new Worker(url, { type: "module" });
  const bootstrap = new Blob([`import ${JSON.stringify(url.href)};`], { type: "text/javascript" });
  return new Worker(URL.createObjectURL(bootstrap), { type: "module" });
}

/**
 * Starts the worker, from `assetBase` if given. Returns the worker and the URL its script
 * comes from (for error messages; `null` where a bundler chose it).
 */
export function spawnWorker(assetBase: URL | null): { worker: Worker; url: string | null } {
  if (assetBase) return started(new URL("worker.js", assetBase));
  const own = ownWorkerUrl();
  try {
    // Vite's dev server pre-bundles this module into node_modules/.vite/deps/, away from the
    // worker file; by the package's own name Vite finds the worker where it really is.
    if (own?.includes("/.vite/deps/")) {
      return { worker: new Worker(new URL("scenerec/worker.js", import.meta.url), { type: "module" }), url: null };
    }
    return { worker: new Worker(new URL("./worker.js", import.meta.url), { type: "module" }), url: null };
  } catch (e) {
    // A SecurityError: this module came from another origin (a CDN).
    if (!own) throw new Error(`cannot start the scenerec worker: ${(e as Error)?.message ?? e}; host the package's worker.js, cpu/ and webgpu/ on this site and pass \`assetBase\``);
    return started(new URL(own));
  }
}

function started(url: URL): { worker: Worker; url: string } {
  try {
    return { worker: workerAt(url), url: url.href };
  } catch (e) {
    throw new Error(`cannot start the scenerec worker from ${url.href}: ${(e as Error)?.message ?? e} (${CSP_HINT})`);
  }
}

/** What to tell the user when the worker script at `url` did not load or start. */
export function workerFailure(url: string | null, message: string | undefined): Error {
  const where = url ?? ownWorkerUrl() ?? "the worker.js next to the package's index.js";
  const hints = [
    `check that ${where} is served (with a JavaScript MIME type) and allowed by the page's CSP (${CSP_HINT})`,
    "to serve the package's files from elsewhere, copy worker.js, cpu/ and webgpu/ there and pass `assetBase`",
  ];
  return new Error(`the scenerec worker failed to start${message ? ` (${message})` : ""}: ${hints.join("; ")}`);
}
