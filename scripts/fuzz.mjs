// `npm run fuzz`: the long fuzzing run. Mutates the fixtures many times over (see
// scripts/fuzz-core.mjs) and lints each case serially and in parallel; any case that throws,
// disagrees between serial and parallel, nests its facts too deeply or takes longer than the
// time bound is shrunk to a small input and saved under test/regressions/, which `npm test`
// replays. Then lints a generated 8 MB file through the CLI (too slow for `npm test`, which
// uses 2 MB).
//
//   node scripts/fuzz.mjs [--runs N] [--seed S] [--timeout MS] [--max-nest N] [--no-big]
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { applyCase, caseArbitrary, Checker, describeCase, FACTS_DEPTH_BOUND, generatedDriver, loadSeeds, repoRoot, saveRegression } from './fuzz-core.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    timeout: { type: 'string', default: '30000' },
    'max-nest': { type: 'string', default: '10000' },
    'no-big': { type: 'boolean', default: false },
  },
});
const totalRuns = Number(values.runs);
const timeoutMs = Number(values.timeout);
const maxNest = Number(values['max-nest']);
let seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2 ** 31;
const regressions = path.join(repoRoot, 'test', 'regressions');

const seeds = loadSeeds();
const checker = new Checker({ timeoutMs });
const arbitrary = caseArbitrary(fc, seeds.length, { maxNest });
console.log(`fuzz: ${totalRuns} cases from ${seeds.length} fixture crates, time bound ${timeoutMs} ms, nesting up to ${maxNest}`);

let done = 0;
let slowest = { ms: 0, what: '' };
const saved = [];
const started = performance.now();
while (done < totalRuns) {
  const numRuns = Math.min(1000, totalRuns - done);
  // Why each failing case failed (shrinking tries many), by the case.
  const failures = new Map();
  const property = fc.asyncProperty(arbitrary, async (c) => {
    const r = await checker.check(applyCase(seeds, c).files);
    if (r.ok && r.ms > slowest.ms) slowest = { ms: r.ms, what: describeCase(c, seeds) };
    const reason = !r.ok ? `${r.stage}: ${r.error}` : r.depth > FACTS_DEPTH_BOUND ? `facts nest ${r.depth} levels (bound ${FACTS_DEPTH_BOUND})` : undefined;
    if (reason) failures.set(caseKey(c), { reason, stack: r.stack });
    return reason === undefined;
  });
  const details = await fc.check(property, { numRuns, seed });
  if (details.failed && details.counterexample) {
    const c = details.counterexample[0];
    const files = applyCase(seeds, c).files;
    const what = describeCase(c, seeds);
    const { reason, stack } = failures.get(caseKey(c)) ?? { reason: 'failed (no reason recorded)' };
    const r = { stack };
    const name = `fuzz-${crypto.createHash('sha256').update(files.map((f) => f.bytes.toString('base64')).join('\n')).digest('hex').slice(0, 12)}`;
    const dir = saveRegression(regressions, name, files, `${what}\n${reason}\nfast-check seed ${seed}, path ${details.counterexamplePath}`);
    saved.push(dir);
    console.log(`FAIL ${what}\n  ${reason}\n  saved to ${path.relative(repoRoot, dir)}`);
    if (r.stack) console.log(r.stack.split('\n').slice(0, 8).map((l) => `  ${l}`).join('\n'));
  }
  done += Math.max(details.numRuns, 1);
  seed = (seed + 1) % 2 ** 31;
  console.log(`  ${done}/${totalRuns} cases, ${((performance.now() - started) / 1000).toFixed(0)} s, slowest ${slowest.ms.toFixed(0)} ms (${slowest.what})`);
}
await checker.close();

if (!values['no-big']) bigFile();

console.log(saved.length === 0 ? 'fuzz: no failure' : `fuzz: ${saved.length} failing case(s) saved under test/regressions/; npm test replays them`);
process.exitCode = saved.length === 0 ? 0 : 1;

function caseKey(c) {
  return JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? [...v] : v));
}

/** A generated file of repetitive driver code just under the 8 MiB analysis limit, through the CLI: linted. */
function bigFile() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-fuzz-'));
  try {
    const file = path.join(dir, 'big.rs');
    fs.writeFileSync(file, generatedDriver(8 * 1000 * 1000));
    const t = performance.now();
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'check', '--no-cache', '--format', 'json', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const seconds = ((performance.now() - t) / 1000).toFixed(1);
    const report = r.status === 0 || r.status === 1 ? JSON.parse(r.stdout) : undefined;
    const ok = report?.summary?.filesChecked === 1;
    console.log(`big file: 8 MB linted in ${seconds} s, exit ${r.status}${ok ? '' : ` (unexpected: ${r.stderr.slice(0, 300)})`}`);
    if (!ok) saved.push('big file');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
