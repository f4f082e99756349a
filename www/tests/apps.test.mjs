// The npm package as a user meets it: `npm pack` of pkg/, the tarball installed into fresh apps
// (www/tests/apps/: Vite, webpack 5, a page with no bundler, each with the entry script
// apps/main.js), each built by its own bundler with its default config, served, and asked to
// rank in headless Chromium; plus Vite's dev server, the package served from another origin (a
// CDN), and the files hosted elsewhere (`assetBase`).
//
// Needs pkg/ (scripts/build-wasm.sh), an exported model in runs/browser-model and the npm
// registry (the apps install their bundlers); scripts/test.sh provides all three.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { CSP, serve } from "../serve.mjs";
import { launch } from "./browser.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const TEMPLATES = new URL("apps", import.meta.url).pathname;
const WORK = join(ROOT, "runs/test-apps");
const MODEL = join(ROOT, "runs/browser-model");
const mounts = { "/model/": MODEL };

let browser, tarball;
const servers = [];
/** The ranked item ids of every setup that ranked, to check they all agree. */
const rankings = new Map();

const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const npm = (args, cwd) => run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], cwd);

/** Where each app keeps its entry script (the same for all: apps/main.js). */
const ENTRY = { vite: "main.js", webpack: "src/index.js", esm: "main.js" };

/** A fresh copy of app `name` with its locked bundler and the packed tarball installed. */
function install(name) {
  const dir = join(WORK, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(TEMPLATES, name), dir, { recursive: true });
  mkdirSync(dirname(join(dir, ENTRY[name])), { recursive: true });
  cpSync(join(TEMPLATES, "main.js"), join(dir, ENTRY[name]));
  if (existsSync(join(dir, "package-lock.json"))) npm(["ci"], dir);
  npm(["install", "--no-save", tarball], dir);
  return dir;
}

async function start(root, options = {}) {
  const server = await serve(root, { mounts, ...options });
  servers.push(server);
  return server.url;
}

/** Opens `url` and waits for the app's verdict: `{ state: "ranked" | "failed", text }`. */
async function visit(url) {
  const page = await browser.newPage();
  // An error outside the app's try (its script did not even load) ends the wait at once.
  const crashed = new Promise((_, fail) => page.on("pageerror", (e) => fail(new Error(`${url}: ${e.message}`))));
  const blocked = [];
  page.on("console", (m) => m.type() === "error" && blocked.push(m.text()));
  try {
    await Promise.race([page.waitForSelector("body[data-state]", { timeout: 60_000 }), crashed, page.goto(url).then(() => crashed)]);
  } catch (e) {
    if (!(await page.getAttribute("body", "data-state").catch(() => null))) {
      throw new Error(`${e.message}; console errors: ${blocked.join(" | ") || "none"}`);
    }
  }
  try {
    return { state: await page.getAttribute("body", "data-state"), text: await page.textContent("#out") };
  } finally {
    await page.close();
  }
}

/** Asserts the app at `url` ranked, and records its list. */
async function ranks(setup, url) {
  const { state, text } = await visit(url);
  assert.equal(state, "ranked", `${setup}: ${text}`);
  const result = JSON.parse(text);
  assert.equal(result.backend, "cpu");
  assert.equal(result.items.length, 5);
  rankings.set(setup, result.items);
}

/** Bytes of the JavaScript files directly in `dir` whose names match `pattern`. */
const jsBytes = (dir, pattern) =>
  readdirSync(dir).filter((f) => pattern.test(f)).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

before(async () => {
  mkdirSync(WORK, { recursive: true });
  const name = run("npm", ["pack", join(ROOT, "pkg"), "--pack-destination", WORK, "--loglevel=error"], ROOT).trim().split("\n").pop();
  tarball = join(WORK, name);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

test("the tarball holds the package a user needs, and no test hooks in its types", () => {
  const files = run("tar", ["-tzf", tarball], WORK).split("\n").map((f) => f.replace(/^package\//, ""));
  for (const f of ["package.json", "README.md", "LICENSE-MIT", "LICENSE-APACHE", "index.js", "index.d.ts", "worker.js",
    "cpu/scenerec_cpu.js", "cpu/scenerec_cpu_bg.wasm", "webgpu/scenerec_webgpu.js", "webgpu/scenerec_webgpu_bg.wasm"]) {
    assert.ok(files.includes(f), `the tarball lacks ${f}`);
  }
  const dir = install("esm");
  const pkg = join(dir, "node_modules/scenerec");
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
  for (const subpath of [".", "./worker.js", "./cpu/*", "./webgpu/*", "./package.json"]) {
    assert.ok(subpath in manifest.exports, `exports lacks ${subpath}`);
  }
  assert.match(readFileSync(join(pkg, "README.md"), "utf8"), /npm install scenerec/);
  // The public API: what index.d.ts declares and re-exports.
  const types = ["index.d.ts", "types.d.ts", "storage.d.ts"].map((f) => readFileSync(join(pkg, f), "utf8")).join("\n");
  assert.match(types, /class Recommender/);
  assert.doesNotMatch(types, /trapForTests|stallForTests/);
});

test("Vite build: the app's bundle carries the worker and wasm, and ranks", async () => {
  const dir = install("vite");
  const log = run("npx", ["vite", "build"], dir);
  assert.doesNotMatch(log, /warn|error/i, log);
  const assets = join(dir, "dist/assets");
  assert.ok(readdirSync(assets).some((f) => /^scenerec_cpu_bg-.*\.wasm$/.test(f)), "Vite emitted the CPU wasm");
  await ranks("vite build", `${await start(join(dir, "dist"))}/`);

  // What the package adds to the page's own bundle (the worker and the wasm load on demand).
  const entry = /^index-.*\.js$/;
  const withPackage = jsBytes(assets, entry);
  writeFileSync(join(dir, "main.js"), 'document.querySelector("#out").textContent = "no scenerec";\n');
  run("npx", ["vite", "build", "--outDir", "dist-baseline"], dir);
  const growth = withPackage - jsBytes(join(dir, "dist-baseline/assets"), entry);
  console.log(`Vite: the package adds ${growth} bytes to the page's bundle`);
  assert.ok(growth < 15_000, `the package adds ${growth} bytes to the app's bundle`);
});

test("Vite dev server, default config: ranks", async () => {
  const dir = install("vite");
  mkdirSync(join(dir, "public"));
  symlinkSync(MODEL, join(dir, "public/model"));
  const port = await freePort();
  const dev = spawn("npx", ["vite", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], { cwd: dir, detached: true });
  let log = "";
  dev.stdout.on("data", (d) => (log += d));
  dev.stderr.on("data", (d) => (log += d));
  try {
    // Ask the port rather than read the banner: Vite colours it (and splits the port with escape
    // codes) whenever `CI` or `FORCE_COLOR` is set, as on many CI machines.
    const deadline = Date.now() + 60_000;
    let up = false;
    while (!up && dev.exitCode === null && Date.now() < deadline) {
      up = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(up, `the dev server did not start: ${log}`);
    await ranks("vite dev", `http://127.0.0.1:${port}/`);
    assert.doesNotMatch(log, /does not exist|incompatible/i, log);
  } finally {
    process.kill(-dev.pid);
  }
});

test("webpack 5 production build: ranks, and no build path leaks into the bundle", async () => {
  const dir = install("webpack");
  const log = run("npx", ["webpack", "--mode", "production"], dir);
  assert.doesNotMatch(log, /ERROR/, log);
  const dist = join(dir, "dist");
  const js = readdirSync(dist).filter((f) => f.endsWith(".js"));
  assert.ok(readdirSync(dist).filter((f) => f.endsWith(".wasm")).length === 2, "webpack emitted both wasm files");
  for (const f of js) assert.doesNotMatch(readFileSync(join(dist, f), "utf8"), /file:\/\//, `${f} holds a build path`);
  cpSync(join(dir, "index.html"), join(dist, "index.html"));
  await ranks("webpack", `${await start(dist)}/`);

  writeFileSync(join(dir, "src/index.js"), 'document.querySelector("#out").textContent = "no scenerec";\n');
  run("npx", ["webpack", "--mode", "production", "--output-path", "dist-baseline"], dir);
  const growth = statSync(join(dist, "main.js")).size - statSync(join(dir, "dist-baseline/main.js")).size;
  console.log(`webpack: the package adds ${growth} bytes to the page's bundle`);
  assert.ok(growth < 15_000, `the package adds ${growth} bytes to the app's bundle`);
});

/**
 * The no-bundler page with its import map pointing at `packageUrl`, written as `file`, and the
 * CSP source that allows its inline import map (a strict CSP needs the map's hash).
 */
function esmPage(dir, file, packageUrl) {
  const html = readFileSync(join(TEMPLATES, "esm/index.html"), "utf8").replace("PACKAGE", packageUrl);
  writeFileSync(join(dir, file), html);
  const map = html.match(/<script type="importmap">([^<]*)<\/script>/)[1];
  return { file, hash: `'sha256-${createHash("sha256").update(map).digest("base64")}'` };
}

/** The demo's strict CSP with the import map's hash and `extra` sources added. */
const strictCsp = (hash, { script = "", worker = "", connect = "" } = {}) =>
  CSP.replace("script-src 'self'", `script-src 'self' ${hash} ${script}`)
    .replace("worker-src 'self'", `worker-src 'self' ${worker}`)
    .replace("connect-src 'self'", `connect-src 'self' ${connect}`);

test("no bundler: an import map on the page's origin, under the demo's strict CSP", async () => {
  const dir = install("esm");
  const { file, hash } = esmPage(dir, "index.html", "/node_modules/scenerec");
  await ranks("import map", `${await start(dir, { csp: strictCsp(hash) })}/${file}`);
});

test("no bundler: the package from another origin (a CDN with CORS) starts its worker", async () => {
  const dir = install("esm");
  const cdn = await start(join(dir, "node_modules"), { cors: true });
  const { file, hash } = esmPage(dir, "cdn.html", `${cdn}/scenerec`);
  // The worker is a same-origin blob: whose imports (the worker's module graph) come from the CDN.
  const csp = strictCsp(hash, { script: cdn, worker: `blob: ${cdn}`, connect: cdn });
  await ranks("cdn", `${await start(dir, { csp })}/${file}`);
});

test("assetBase: the package's files hosted elsewhere on the site", async () => {
  const dir = install("esm");
  const hosted = join(dir, "hosted");
  for (const f of ["worker.js", "cpu", "webgpu"]) cpSync(join(dir, "node_modules/scenerec", f), join(hosted, f), { recursive: true });
  const { file, hash } = esmPage(dir, "index.html", "/node_modules/scenerec");
  // The package's own wasm is removed, so only the hosted copy can work.
  rmSync(join(dir, "node_modules/scenerec/cpu"), { recursive: true });
  await ranks("assetBase", `${await start(dir, { csp: strictCsp(hash) })}/${file}?assetBase=/hosted/`);
});

test("assetBase on another origin without CORS: load rejects naming the URL and what to set", async () => {
  const dir = install("esm");
  const other = await start(join(dir, "node_modules")); // no CORS headers
  const { file, hash } = esmPage(dir, "index.html", "/node_modules/scenerec");
  const csp = strictCsp(hash, { script: other, worker: `blob: ${other}`, connect: other });
  const { state, text } = await visit(`${await start(dir, { csp })}/${file}?assetBase=${other}/scenerec/`);
  assert.equal(state, "failed");
  assert.match(text, new RegExp(`${other}/scenerec/worker\\.js`));
  assert.match(text, /assetBase/);
});

test("every setup ranks the same items", () => {
  const lists = [...rankings.values()].map((l) => JSON.stringify(l));
  assert.ok(rankings.size >= 2, `only ${rankings.size} setups ranked`);
  assert.equal(new Set(lists).size, 1, JSON.stringify(Object.fromEntries(rankings)));
});
