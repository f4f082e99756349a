// A static file server on 127.0.0.1 for the demo (www/dist) and the browser tests (the repository
// root). Every response carries the demo's Content-Security-Policy, so what passes here passes
// under the policy a real deployment should send.
//
//   node www/serve.mjs www/dist --port 8080     serves until Ctrl-C and prints the URL
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CSP = [
  "default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "connect-src 'self'",
  "img-src 'self' data: blob:", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
  ".wasm": "application/wasm", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".map": "application/json",
};

/**
 * Serves `root`; resolves once listening, with the base URL and a `close`. `mounts` serves other
 * directories under URL prefixes (`{ "/model/": dir }`), `csp` replaces the policy, and `cors`
 * lets pages of any origin load the files (as a CDN does).
 */
export async function serve(root, { port = 0, host = "127.0.0.1", mounts = {}, csp = CSP, cors = false } = {}) {
  const server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path.includes("..")) return res.writeHead(403).end();
    if (path.endsWith("/")) path += "index.html";
    try {
      const mount = Object.keys(mounts).find((prefix) => path.startsWith(prefix));
      const file = mount ? join(mounts[mount], path.slice(mount.length)) : join(root, path);
      const info = await stat(file);
      // Revalidated on every load (no-cache + ETag): a rebuilt model or package is never stale.
      const etag = `"${info.size}-${info.mtimeMs}"`;
      const headers = { "content-security-policy": csp, "x-content-type-options": "nosniff", "cache-control": "no-cache", etag };
      if (cors) headers["access-control-allow-origin"] = "*";
      if (req.headers["if-none-match"] === etag) return res.writeHead(304, headers).end();
      const body = await readFile(file);
      res.writeHead(200, { ...headers, "content-type": TYPES[extname(path)] ?? "application/octet-stream", "content-length": body.length });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-security-policy": csp }).end();
    }
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(port, host, ok));
  return { url: `http://${host}:${server.address().port}`, close: () => server.close() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] ?? "dist";
  const at = process.argv.indexOf("--port");
  const port = at > 0 ? Number(process.argv[at + 1]) : 8080;
  try {
    const { url } = await serve(root, { port });
    console.log(`scenerec demo: ${url}/   (serving ${root}; Ctrl-C stops it)`);
  } catch (e) {
    console.error(`cannot serve on port ${port}: ${e.message}. Set another with SCENEREC_PORT=...`);
    process.exit(1);
  }
}
