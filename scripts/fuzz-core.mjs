// Fuzzing dmalint: mutations of the fixtures (fast-check arbitraries), and a checker that lints
// each mutated case in a child process with a time bound. Shared by `npm test`
// (test/fuzz.test.ts, few runs, fixed seed) and `npm run fuzz` (scripts/fuzz.mjs, many runs).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fork } from 'node:child_process';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Facts nesting deeper than this (objects and arrays) mean that some extractor walk lost its
 * depth bound: the analysis walks facts recursively. The deepest input known, blocks inside a
 * macro inside blocks, gives about 1,160.
 */
export const FACTS_DEPTH_BOUND = 1500;

/** Where every fuzzed file pretends to live (nothing is written there). */
const VIRTUAL_ROOT = '/fuzz';

/**
 * Every fixture case, as the fixture runner sees them: a `.rs` file directly in a fixtures folder
 * is a crate, a sub-folder is a multi-file crate. `target` is that file or folder, `files` its
 * `.rs` files (sorted).
 * @returns {{ name: string, target: string, files: string[] }[]}
 */
export function fixtureCases(root = path.join(repoRoot, 'fixtures')) {
  const cases = [];
  for (const group of fs.readdirSync(root).sort()) {
    const groupDir = path.join(root, group);
    if (!fs.statSync(groupDir).isDirectory()) continue;
    for (const entry of fs.readdirSync(groupDir).sort()) {
      const full = path.join(groupDir, entry);
      const st = fs.statSync(full);
      if (st.isFile() && entry.endsWith('.rs')) cases.push({ name: `${group}/${entry}`, target: full, files: [full] });
      else if (st.isDirectory()) cases.push({ name: `${group}/${entry}/`, target: full, files: rustFilesUnder(full) });
    }
  }
  return cases;
}

/** The seeds: every fixture case with its files read, paths relative to the fixtures folder. */
export function loadSeeds(root = path.join(repoRoot, 'fixtures')) {
  return fixtureCases(root)
    .map((c) => ({ name: c.name, files: c.files.map((f) => readSeedFile(path.dirname(c.target), f)) }))
    .filter((s) => s.files.length > 0);
}

function readSeedFile(base, file) {
  const rel = path.relative(base, file).split(path.sep).join('/');
  return { path: rel, text: fs.readFileSync(file, 'utf8') };
}

function rustFilesUnder(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...rustFilesUnder(full));
    else if (entry.name.endsWith('.rs')) out.push(full);
  }
  return out.sort();
}

/** Openers (and their closers) that the `nest` mutation repeats to build deep structures. */
export const NESTERS = [
  ['{', '}'],
  ['(', ')'],
  ['[', ']'],
  ['.m()', ''],
  ['.f', ''],
  ['?', ''],
  ['-', ''],
  ['&', ''],
  ['!', ''],
  ['|x| ', ''],
  ['<', '>'],
  ['Box<', '>'],
  ['f(', ')'],
  ['m!(', ')'],
  ['if a { ', ' }'],
  ['match a { _ => ', ' }'],
  ['unsafe { ', ' }'],
  ['mod m { ', ' }'],
  ['fn f() { ', ' }'],
  ['a::{', '}'],
  ['S { a: ', ' }'],
  ['1 + ', ''],
  ['a = ', ''],
  ['/*', '*/'],
];

/** Rust-ish tokens: whitespace, identifiers, numbers, strings, comments, single characters. */
const TOKEN = /\s+|[A-Za-z_][A-Za-z0-9_]*|\d[\w.]*|"(?:[^"\\]|\\.)*"|\/\/[^\n]*|[^]/gu;

export function tokenize(text) {
  return text.match(TOKEN) ?? [];
}

/**
 * A case: which seed, which of its files to mutate, and the mutations, applied in order.
 * Positions are plain numbers taken modulo the length, so one arbitrary fits every file.
 */
export function caseArbitrary(fc, seedCount, { maxNest = 3000 } = {}) {
  const at = fc.nat();
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('delete'), at, len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('duplicate'), at, len: fc.integer({ min: 1, max: 80 }), to: fc.nat() }),
    fc.record({ kind: fc.constant('swap'), at, other: fc.nat() }),
    fc.record({ kind: fc.constant('truncate'), at }),
    fc.record({ kind: fc.constant('bytes'), at, bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant('nest'), at, nester: fc.nat({ max: NESTERS.length - 1 }), count: fc.integer({ min: 1, max: maxNest }), closed: fc.boolean() }),
  );
  return fc.record({
    seed: fc.nat({ max: seedCount - 1 }),
    file: fc.nat(),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
  });
}

/** The files of a case, as bytes, with the chosen file mutated. */
export function applyCase(seeds, c) {
  const seed = seeds[c.seed % seeds.length];
  const target = c.file % seed.files.length;
  return {
    name: seed.name,
    files: seed.files.map((f, i) => ({
      path: f.path,
      absPath: `${VIRTUAL_ROOT}/${f.path}`,
      bytes: i === target ? mutate(f.text, c.mutations) : Buffer.from(f.text, 'utf8'),
    })),
  };
}

/** Token mutations on the text, then byte insertions on its UTF-8 encoding. */
export function mutate(text, mutations) {
  let tokens = tokenize(text);
  for (const m of mutations) {
    const n = tokens.length;
    const i = n === 0 ? 0 : m.at % n;
    switch (m.kind) {
      case 'delete':
        tokens.splice(i, m.len);
        break;
      case 'duplicate':
        tokens.splice(n === 0 ? 0 : m.to % (n + 1), 0, ...tokens.slice(i, i + m.len));
        break;
      case 'swap':
        if (n > 1) {
          const j = m.other % n;
          [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
        }
        break;
      case 'truncate':
        tokens = tokens.slice(0, i);
        break;
      case 'nest': {
        const [open, close] = NESTERS[m.nester];
        tokens.splice(i, 0, open.repeat(m.count) + (m.closed ? close.repeat(m.count) : ''));
        break;
      }
      default:
        break;
    }
  }
  let bytes = Buffer.from(tokens.join(''), 'utf8');
  for (const m of mutations) {
    if (m.kind !== 'bytes') continue;
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
  }
  return bytes;
}

/**
 * Lints cases in a child process, one at a time. A case that gives no answer within `timeoutMs`
 * is a failure, as is a crash: the child is killed and a fresh one serves the next case.
 */
export class Checker {
  constructor({ timeoutMs = 10_000 } = {}) {
    this.timeoutMs = timeoutMs;
    this.child = undefined;
    this.ready = undefined;
    this.nextId = 0;
  }

  start() {
    const child = fork(fileURLToPath(new URL('./fuzz-worker.mjs', import.meta.url)), [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    this.ready = new Promise((resolve, reject) => {
      const onMessage = (m) => {
        if (m.type !== 'ready') return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve();
      };
      const onExit = (code) => reject(new Error(`the fuzzing child exited with code ${code} while starting`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
    return this.ready;
  }

  /** `{ ok, ms, ... }`: on failure `stage` and `error` say what broke. */
  async check(files) {
    if (!this.child) await this.start();
    else await this.ready;
    const child = this.child;
    const id = this.nextId++;
    const started = performance.now();
    const result = await new Promise((resolve) => {
      const done = (r) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(r);
      };
      const onMessage = (m) => {
        if (m.type === 'result' && m.id === id) done(m);
      };
      const onExit = (code, signal) => done({ ok: false, stage: 'process', error: `the linting process died (${signal ?? `exit code ${code}`})` });
      const timer = setTimeout(() => done({ ok: false, stage: 'time bound', error: `no result after ${this.timeoutMs} ms` }), this.timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'check', id, files: files.map((f) => ({ path: f.path, absPath: f.absPath, bytes: new Uint8Array(f.bytes) })) });
    });
    if (!result.ok) this.stop();
    return { ...result, ms: performance.now() - started };
  }

  /** Kills the child (a stuck one too); the next check starts a fresh one. */
  stop() {
    const child = this.child;
    this.child = undefined;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  async close() {
    const child = this.child;
    if (!child) return;
    await this.ready.catch(() => undefined);
    const closed = new Promise((resolve) => {
      child.on('message', (m) => m.type === 'closed' && resolve());
      child.on('exit', resolve);
      setTimeout(resolve, 2000).unref();
    });
    child.send({ type: 'close' });
    await closed;
    this.stop();
  }
}

/** One line describing a case, for logs and the comment of a saved regression input. */
export function describeCase(c, seeds) {
  const seed = seeds[c.seed % seeds.length];
  const target = seed.files[c.file % seed.files.length].path;
  const ops = c.mutations.map((m) => (m.kind === 'nest' ? `nest ${JSON.stringify(NESTERS[m.nester][0])}x${m.count}${m.closed ? ' closed' : ''}` : m.kind)).join(', ');
  return `${seed.name} (${target}): ${ops}`;
}

/**
 * Saves the files of a failing case under `dir/<name>/` as they were linted, so the regression
 * test replays them. Returns the folder.
 */
export function saveRegression(dir, name, files, note) {
  const out = path.join(dir, name);
  for (const f of files) {
    const full = path.join(out, f.path);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, f.bytes);
  }
  fs.writeFileSync(path.join(out, 'CASE.txt'), `${note}\n`);
  return out;
}

/** The saved regression cases: each folder under `dir` is one case (its `.rs` files). */
export function loadRegressions(dir = path.join(repoRoot, 'test', 'regressions')) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const base = path.join(dir, name);
      return {
        name,
        files: rustFilesUnder(base).map((full) => {
          const rel = path.relative(base, full).split(path.sep).join('/');
          return { path: rel, absPath: `${VIRTUAL_ROOT}/${name}/${rel}`, bytes: fs.readFileSync(full) };
        }),
      };
    });
}

/** Repetitive driver-like code with DMA allocations, about `bytes` long. */
export function generatedDriver(bytes) {
  const parts = ['// SPDX-License-Identifier: GPL-2.0\nuse kernel::dma::CoherentAllocation;\nuse kernel::prelude::*;\n'];
  let length = parts[0].length;
  for (let i = 0; length < bytes; i++) {
    const unit = `struct Ring${i} {\n    mem: CoherentAllocation<u64>,\n    len: usize,\n}\n\nimpl Ring${i} {\n    fn new(dev: &Device<Bound>, n: usize) -> Result<Self> {\n        let mem = CoherentAllocation::alloc_coherent(dev, n, GFP_KERNEL)?;\n        Ok(Ring${i} { mem, len: n })\n    }\n\n    fn addr(&self) -> u64 {\n        self.mem.dma_handle() + (self.len as u64) * 8\n    }\n}\n\n`;
    parts.push(unit);
    length += unit.length;
  }
  return parts.join('');
}
