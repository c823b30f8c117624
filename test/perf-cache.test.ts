// Cold, warm, serial and parallel runs must report the same; the cache must never be trusted
// when an entry is damaged, must survive concurrent writers, and --no-cache must write nothing.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES } from '../rules/index.js';
import { checkedPayload, defaultCacheDir, encodeEntry, EntryStore, parseFacts, sha256 } from '../src/facts/cache.js';
import { extractFacts } from '../src/facts/extract.js';
import { FACTS_VERSION } from '../src/facts/ir.js';
import { createFactsSource, type FactsSource } from '../src/facts/source.js';
import { lintPaths } from '../src/lint/run.js';
import { apiWithConfig } from '../src/model/kernel-api.js';

const repo = path.resolve(__dirname, '..');
const fixtures = path.join(repo, 'fixtures');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const builtCache = path.join(repo, 'dist', 'src', 'facts', 'cache.js');
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-cache-test-'));
  temps.push(dir);
  return dir;
}

async function lintWith(source: FactsSource, paths = [fixtures]) {
  try {
    const r = await lintPaths({ paths, cwd: repo, rules: RULES, levels: {}, api: apiWithConfig(undefined), factsSource: source });
    return { findings: r.findings, notices: r.notices, filesChecked: r.filesChecked };
  } finally {
    await source.close?.();
  }
}

function entryFiles(dir: string, prefix: string): string[] {
  const out: string[] = [];
  for (const ns of fs.readdirSync(dir).filter((n) => n.startsWith(prefix))) {
    for (const shard of fs.readdirSync(path.join(dir, ns))) {
      for (const f of fs.readdirSync(path.join(dir, ns, shard))) out.push(path.join(dir, ns, shard, f));
    }
  }
  return out;
}

describe('same findings from every facts source', () => {
  it('serial, parallel, cold and warm runs over fixtures/ agree', async () => {
    const serial = await lintWith(await createFactsSource({ jobs: 1, cache: false }));
    expect(serial.findings.length).toBeGreaterThan(0);

    // Three extracting threads: two workers and this one.
    const parallelSource = await createFactsSource({ jobs: 3, cache: false, minPoolBytes: 0 });
    const parallel = await lintWith(parallelSource);
    expect(parallelSource.stats?.workers).toBe(2);
    expect(parallel).toEqual(serial);

    const dir = tempDir();
    const coldSource = await createFactsSource({ jobs: 2, cacheDir: dir, minPoolBytes: 0 });
    const cold = await lintWith(coldSource);
    expect(coldSource.stats?.extracted).toBeGreaterThan(0);
    expect(cold).toEqual(serial);

    const warmSource = await createFactsSource({ jobs: 2, cacheDir: dir, minPoolBytes: 0 });
    const warm = await lintWith(warmSource);
    expect(warmSource.stats?.extracted).toBe(0);
    expect(warmSource.stats?.workers).toBe(0);
    expect(warm).toEqual(serial);

    // Facts cached, per-crate results lost: the findings are recomputed from cached facts.
    for (const f of entryFiles(dir, 'results-')) fs.rmSync(f);
    const factsOnly = await createFactsSource({ jobs: 1, cacheDir: dir });
    expect(await lintWith(factsOnly)).toEqual(serial);
    expect(factsOnly.stats?.extracted).toBe(0);
    expect(factsOnly.stats?.facts?.hits).toBeGreaterThan(0);
  });

  it('a changed file is extracted again; the others come from the cache', async () => {
    const dir = tempDir();
    const tree = tempDir();
    const src = path.join(fixtures, 'drivers', 'ax_capture');
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(tree, f));
    const first = await createFactsSource({ jobs: 1, cacheDir: dir });
    await lintWith(first, [tree]);
    fs.appendFileSync(path.join(tree, 'regs.rs'), '\npub(crate) const EXTRA: usize = 0x200;\n');
    const second = await createFactsSource({ jobs: 1, cacheDir: dir });
    const again = await lintWith(second, [tree]);
    expect(second.stats?.extracted).toBe(1);
    expect(again).toEqual(await lintWith(await createFactsSource({ jobs: 1, cache: false }), [tree]));
  });
});

describe('a run over an unchanged tree', () => {
  it('reads its findings and notices from one entry, and any change falls back to crates', async () => {
    const dir = tempDir();
    const tree = tempDir();
    const src = path.join(fixtures, 'drivers', 'ax_capture');
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(tree, f));
    // A syntax error in a file naming the DMA API: its notice must come back from the run's entry too.
    fs.writeFileSync(path.join(tree, 'broken.rs'), 'use kernel::dma::CoherentAllocation;\nfn f( {\n');
    const fresh = async () => lintWith(await createFactsSource({ jobs: 1, cache: false }), [tree]);
    const cold = await lintWith(await createFactsSource({ jobs: 1, cacheDir: dir }), [tree]);
    expect(cold).toEqual(await fresh());
    expect(cold.notices.some((n) => n.kind === 'syntax-error')).toBe(true);

    const warmSource = await createFactsSource({ jobs: 1, cacheDir: dir });
    expect(await lintWith(warmSource, [tree])).toEqual(cold);
    // One entry read: the run's. No facts and no per-crate results.
    expect(warmSource.results?.counters).toMatchObject({ hits: 1, misses: 0 });
    expect(warmSource.stats?.facts).toMatchObject({ hits: 0, misses: 0 });

    // Another file list (a new file) is another run: per-crate results answer.
    fs.writeFileSync(path.join(tree, 'notes.rs'), '// nothing\n');
    const changed = await createFactsSource({ jobs: 1, cacheDir: dir });
    expect(await lintWith(changed, [tree])).toEqual(await fresh());
    expect(changed.results?.counters.hits).toBeGreaterThan(0);
    expect(changed.results?.counters.misses).toBeGreaterThan(0);

    // Edited and checked again, the same files keep one run entry, replaced each time.
    const runEntries = () => entryFiles(dir, 'results-').filter((f) => fs.readFileSync(f, 'utf8').includes('"content":')).length;
    expect(runEntries()).toBe(2);
    for (let i = 0; i < 3; i++) {
      fs.appendFileSync(path.join(tree, 'notes.rs'), `// edit ${i}\n`);
      const edited = await lintWith(await createFactsSource({ jobs: 1, cacheDir: dir }), [tree]);
      expect(edited).toEqual(await fresh());
    }
    expect(runEntries()).toBe(2);
  });
});

describe('damaged cache entries are detected and replaced', () => {
  const text = fs.readFileSync(path.join(fixtures, 'coherent_outside_probe', 'work_item_alloc.rs'), 'utf8');
  const expected = extractFacts(text);
  const damage: Record<string, (raw: string) => string> = {
    truncated: (raw) => raw.slice(0, Math.floor(raw.length / 2)),
    garbage: () => '\u0000\u00ff not an entry at all',
    'flipped payload byte': (raw) => raw.slice(0, -10) + (raw.at(-10) === '1' ? '2' : '1') + raw.slice(-9),
    'other namespace': (raw) => raw.replace(/"tag":"[^"]*"/, '"tag":"facts-v0-0000000000000000"'),
    'older facts version, valid checksum': (raw) => {
      const payload = raw.slice(raw.indexOf('\n') + 1).replace(`"version":${FACTS_VERSION}`, `"version":${FACTS_VERSION - 1}`);
      const header = JSON.parse(raw.slice(0, raw.indexOf('\n')));
      return encodeEntry(header.tag, header.key, payload);
    },
    'empty file': () => '',
  };
  for (const [name, spoil] of Object.entries(damage)) {
    it(name, async () => {
      const dir = tempDir();
      const files = [{ absPath: '/x/a.rs', text }];
      const first = await createFactsSource({ jobs: 1, cacheDir: dir });
      await first.extract(files);
      const [entry] = entryFiles(dir, 'facts-');
      fs.writeFileSync(entry, spoil(fs.readFileSync(entry, 'utf8')));

      const second = await createFactsSource({ jobs: 1, cacheDir: dir });
      const [facts] = await second.extract(files);
      expect(second.stats?.facts?.rejected).toBe(1);
      expect(second.stats?.extracted).toBe(1);
      expect(facts).toEqual(expected);

      const third = await createFactsSource({ jobs: 1, cacheDir: dir });
      expect(await third.extract(files)).toEqual([expected]);
      expect(third.stats?.facts).toMatchObject({ hits: 1, rejected: 0 });
      expect(third.stats?.extracted).toBe(0);
    });
  }

  it('a damaged per-crate result is recomputed', async () => {
    const dir = tempDir();
    const target = path.join(fixtures, 'drivers');
    const clean = await lintWith(await createFactsSource({ jobs: 1, cacheDir: dir }), [target]);
    const results = entryFiles(dir, 'results-');
    expect(results.length).toBeGreaterThan(0);
    // Checksums that hold over payloads that are not results: the shape check must catch them.
    for (const f of results) {
      const raw = fs.readFileSync(f, 'utf8');
      const header = JSON.parse(raw.slice(0, raw.indexOf('\n')));
      fs.writeFileSync(f, encodeEntry(header.tag, header.key, raw.slice(raw.indexOf('\n') + 1).replace('"findings":[', '"findings":[{"rule":1},')));
    }
    const source = await createFactsSource({ jobs: 1, cacheDir: dir });
    expect(await lintWith(source, [target])).toEqual(clean);
    expect(source.results?.counters.rejected).toBe(results.length);
  });

  it('a payload that is not facts is refused', () => {
    expect(parseFacts('{"version":1}')).toBeUndefined();
    expect(parseFacts('[1,2')).toBeUndefined();
    expect(parseFacts(JSON.stringify(expected))).toEqual(expected);
    expect(checkedPayload(encodeEntry('t', 'k', 'payload'), 't', 'other-key')).toBeUndefined();
  });
});

describe('concurrent writers', () => {
  it('never leave a corrupt entry, while a reader only ever sees whole ones', async () => {
    const dir = tempDir();
    const key = sha256('concurrent');
    const payload = `{"fill":"${'x'.repeat(200_000)}"}`;
    const writer = `
      const { EntryStore } = await import(${JSON.stringify(pathToUrl(builtCache))});
      const store = new EntryStore(${JSON.stringify(dir)}, 'ns');
      const payload = '{"fill":"' + 'x'.repeat(200000) + '"}';
      for (let i = 0; i < 60; i++) store.write(${JSON.stringify(key)}, payload);
      if (store.counters.writeErrors > 0) process.exit(3);`;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', writer], { stdio: 'ignore' }));
    const exits = children.map((c) => new Promise<number | null>((resolve) => c.on('exit', resolve)));
    const reader = new EntryStore(dir, 'ns');
    let running = true;
    void Promise.all(exits).then(() => (running = false));
    let seen = 0;
    while (running) {
      if (reader.read(key, (p) => p) !== undefined) seen++;
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(exits)).toEqual([0, 0, 0, 0]);
    expect(reader.counters.rejected).toBe(0);
    expect(reader.read(key, (p) => p)).toBe(payload);
    expect(seen).toBeGreaterThan(0);
    // No temporary files left behind.
    expect(fs.readdirSync(path.dirname(reader.entryPath(key)))).toEqual([key]);
  });

  it('parallel CLI runs sharing a cache agree and leave valid entries', async () => {
    const dir = tempDir();
    const args = [cli, 'check', fixtures, '--cache-dir', dir, '--format', 'json', '--exit-zero', '--jobs', '2'];
    const outs = await Promise.all(Array.from({ length: 3 }, () => run(args)));
    const warm = spawnSync(process.execPath, args, { cwd: repo, encoding: 'utf8' });
    for (const o of outs) expect(JSON.parse(o).findings).toEqual(JSON.parse(warm.stdout).findings);
    for (const f of [...entryFiles(dir, 'facts-'), ...entryFiles(dir, 'results-')]) {
      const raw = fs.readFileSync(f, 'utf8');
      const header = JSON.parse(raw.slice(0, raw.indexOf('\n')));
      expect(checkedPayload(raw, header.tag, path.basename(f)), f).toBeDefined();
    }
  });
});

describe('cache location and --no-cache', () => {
  it('--no-cache reads and writes nothing, wherever the cache would be', () => {
    const project = tempDir();
    fs.writeFileSync(path.join(project, 'package.json'), '{}');
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.copyFileSync(path.join(fixtures, 'coherent_outside_probe', 'work_item_alloc.rs'), path.join(project, 'a.rs'));
    const xdg = tempDir();
    const home = tempDir();
    const explicit = path.join(tempDir(), 'never');
    const env = { ...process.env, XDG_CACHE_HOME: xdg, HOME: home };
    const r = spawnSync(process.execPath, [cli, 'check', '.', '--no-cache', '--exit-zero'], { cwd: project, env, encoding: 'utf8' });
    expect(r.status).toBe(0);
    const r2 = spawnSync(process.execPath, [cli, 'check', '.', '--no-cache', '--cache-dir', explicit, '--exit-zero'], { cwd: project, env, encoding: 'utf8' });
    expect(r2.status).toBe(0);
    expect(fs.readdirSync(path.join(project, 'node_modules'))).toEqual([]);
    expect(fs.readdirSync(xdg)).toEqual([]);
    expect(fs.readdirSync(home)).toEqual([]);
    expect(fs.existsSync(explicit)).toBe(false);
    expect(fs.readdirSync(project).sort()).toEqual(['a.rs', 'node_modules', 'package.json']);

    // Without --no-cache the same run does write, into the project's node_modules.
    spawnSync(process.execPath, [cli, 'check', '.', '--exit-zero'], { cwd: project, env, encoding: 'utf8' });
    expect(fs.readdirSync(path.join(project, 'node_modules', '.cache', 'dmalint')).length).toBeGreaterThan(0);
  });

  it('defaults to node_modules/.cache of the project, then XDG_CACHE_HOME, then ~/.cache', () => {
    const project = tempDir();
    fs.writeFileSync(path.join(project, 'package.json'), '{}');
    fs.mkdirSync(path.join(project, 'src'));
    expect(defaultCacheDir(path.join(project, 'src'), { XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe(path.join('/xdg', 'dmalint'));
    fs.mkdirSync(path.join(project, 'node_modules'));
    expect(defaultCacheDir(path.join(project, 'src'), { XDG_CACHE_HOME: '/xdg' }, '/home/u')).toBe(path.join(project, 'node_modules', '.cache', 'dmalint'));
    const bare = tempDir();
    expect(defaultCacheDir(bare, {}, '/home/u')).toBe(path.join('/home/u', '.cache', 'dmalint'));
    expect(defaultCacheDir(bare, { XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe(path.join('/home/u', '.cache', 'dmalint'));
  });

  it("deletes other versions' namespaces, and nothing else", async () => {
    const dir = tempDir();
    const old = ['facts-v0-0123456789abcdef', 'results-fedcba9876543210'];
    for (const ns of old) {
      fs.mkdirSync(path.join(dir, ns, 'ab'), { recursive: true });
      fs.writeFileSync(path.join(dir, ns, 'ab', 'ab12'), 'an old entry');
    }
    const unrelated = ['notes', 'facts-backup', 'results-of-last-week', 'facts-v1-0123456789ABCDEF'];
    for (const name of unrelated) fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');

    const first = await lintWith(await createFactsSource({ jobs: 1, cacheDir: dir }));
    const current = fs.readdirSync(dir).filter((n) => /^(facts-v\d+|results)-[0-9a-f]{16}$/.test(n)).sort();
    expect(current).toHaveLength(2);
    expect(current.some((n) => old.includes(n))).toBe(false);
    for (const name of [...unrelated, 'keep.txt']) expect(fs.existsSync(path.join(dir, name))).toBe(true);

    // The current namespaces are kept and read by the next run.
    const second = await createFactsSource({ jobs: 1, cacheDir: dir });
    expect(await lintWith(second)).toEqual(first);
    expect(second.stats?.extracted).toBe(0);
    expect(fs.readdirSync(dir).filter((n) => current.includes(n))).toHaveLength(2);
  });
});

function pathToUrl(p: string): string {
  return new URL(`file://${p}`).href;
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repo });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}
