// Hostile files and careless calls through the npm package in headless Chromium: mutated model
// files (written by `scenerec fuzz --target weights --write`) and randomly odd arguments must
// each reject with an Error or give a sane answer (finite scores, at most k items), never a
// trap that leaves the page stuck; afterwards a model still loads and ranks.
//
// Needs pkg/ (scripts/build-wasm.sh) and the CLI (SCENEREC_BIN); scripts/test.sh provides both.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { serve } from "../serve.mjs";
import { launch } from "./browser.mjs";
import { loadMutatedFiles, oddCalls } from "./robustness.mjs";

const ROOT = new URL("../..", import.meta.url).pathname;
const FILES = "runs/fuzz-browser";
const MUTATED = 200;
const CALLS = 300;

let server, browser, page;

before(async () => {
  execFileSync(process.env.SCENEREC_BIN, ["fuzz", "--target", "weights", "--inputs", String(MUTATED), "--seed", "5",
    "--data", join(ROOT, "data/ml-1m"), "--write", join(ROOT, FILES)], { stdio: "ignore" });
  server = await serve(ROOT);
  browser = await launch();
  page = await browser.newPage({ bypassCSP: true });
  await page.goto(`${server.url}/www/tests/blank.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("mutated model files reject with an Error or rank sanely", async () => {
  const names = readdirSync(join(ROOT, FILES)).filter((f) => f.startsWith("mutated-"));
  assert.equal(names.length, MUTATED);
  const tally = await loadMutatedFiles(page, `/${FILES}/`, names);
  console.log(`browser loads: ${tally.inputs} files, ${tally.rejected} rejected, ${tally.accepted} accepted`);
  assert.deepEqual(tally.notErrors, [], "every rejection is an Error");
  assert.deepEqual(tally.insane, [], "every accepted file ranks sanely");
  assert.equal(tally.rejected + tally.accepted, MUTATED);
  assert.ok(tally.rejected > MUTATED / 10 && tally.accepted > 0, JSON.stringify(tally));
  assert.equal(tally.afterwards, 5, "a good model loads and ranks afterwards");
});

test("odd arguments reject with an Error naming them, and the instance keeps ranking", async () => {
  const tally = await oddCalls(page, `/${FILES}/`, CALLS);
  console.log(`browser calls: ${tally.inputs} calls, ${tally.rejected} rejected, ${tally.accepted} accepted`);
  assert.deepEqual(tally.notErrors, [], "every rejection is an Error with a message");
  assert.deepEqual(tally.insane, []);
  assert.ok(tally.rejected > 100 && tally.accepted > 10, JSON.stringify(tally));
  assert.equal(tally.afterwards, 5);
});
