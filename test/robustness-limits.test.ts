// Inputs chosen by an attacker or an unlucky user: output targets that are not plain files,
// standard output that cannot be written, option files with no end, cache folders and entries
// that are not what they seem, reports with thousands of findings on one long line.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeEntry, EntryStore, isFileFacts, makeFolders, serializeFacts } from '../src/facts/cache.js';
import { extractFacts } from '../src/facts/extract.js';
import type { FileFacts } from '../src/facts/ir.js';
import { printable } from '../src/lint/discover.js';
import type { Finding, LintResult } from '../src/lint/types.js';
import { lineFingerprints, normalizeLineText, sha256Hex, sortFindings, sourceCache } from '../src/report/common.js';
import { formatHuman, frameLine, frameWholeLine } from '../src/report/human.js';
import { formatJson } from '../src/report/json.js';
import { formatSarif } from '../src/report/sarif.js';
import type { ReportInput } from '../src/report/types.js';
import { CLEAN_DRIVER, WORK_ITEM_BUG, cliPath, runCli, tempTree } from './cli-helpers.js';

const STACK_LINE = /^\s+at .*(\.js|\.ts|node:)/m;

/** Runs the CLI with a time bound generous enough for a loaded machine; a hang fails the test. */
function run(args: string[], cwd: string, timeout = 60_000) {
  const r = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('--output and baseline targets that are not plain files', () => {
  it('/dev/null is written in place and is still a character device afterwards', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = run(['check', '--no-cache', '--output', '/dev/null', '.'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(fs.statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('a FIFO gets the report through it and stays a FIFO', async () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const fifo = path.join(dir, 'report.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const reader = spawn('cat', [fifo]);
    let received = '';
    reader.stdout.on('data', (d) => (received += d));
    // 'close', not 'exit': the reader's output may still be on its way when it exits.
    const readerDone = new Promise((resolve) => reader.on('close', resolve));
    const child = spawn(process.execPath, [cliPath, 'check', '--no-cache', '--format', 'json', '--output', fifo, '.'], { cwd: dir });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    await readerDone;
    expect(code).toBe(1);
    expect(JSON.parse(received).findings).toHaveLength(1);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
  }, 60_000);

  it('a symbolic link is followed: its target is replaced whole, the link stays a link', () => {
    const dir = tempTree({ 'src/refill.rs': WORK_ITEM_BUG, 'reports/real.json': 'old' });
    fs.symlinkSync('reports/real.json', path.join(dir, 'latest.json'));
    fs.symlinkSync('reports/new.json', path.join(dir, 'dangling.json'));
    expect(run(['check', '--no-cache', '--format', 'json', '--output', 'latest.json', 'src'], dir).code).toBe(1);
    expect(fs.lstatSync(path.join(dir, 'latest.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'real.json'), 'utf8')).findings).toHaveLength(1);
    // A dangling link names the file it will point to.
    expect(run(['baseline', '--no-cache', '--output', 'dangling.json', 'src'], dir).code).toBe(0);
    expect(fs.lstatSync(path.join(dir, 'dangling.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'reports', 'new.json'), 'utf8')).entries).toHaveLength(1);
    expect(fs.readdirSync(path.join(dir, 'reports')).sort()).toEqual(['new.json', 'real.json']);
  });

  it('a socket, or a link to a folder, is refused before the run with exit 2 and left alone', async () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'out/keep.txt': 'x' });
    const socket = path.join(dir, 's.sock');
    const server = net.createServer().listen(socket);
    await new Promise((resolve) => server.on('listening', resolve));
    try {
      const r = run(['check', '--no-cache', '--output', socket, 'refill.rs'], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`error: cannot write the report ${socket}: it is a socket\n`);
      expect(fs.lstatSync(socket).isSocket()).toBe(true);
    } finally {
      server.close();
    }
    fs.symlinkSync('out', path.join(dir, 'to-folder'));
    const r = run(['check', '--no-cache', '--output', 'to-folder', 'refill.rs'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: cannot write the report to-folder: it is a folder\n');
    expect(fs.readdirSync(path.join(dir, 'out'))).toEqual(['keep.txt']);
  });
});

describe('standard output', () => {
  it('that cannot be written (/dev/full) is exit 2 with one line on stderr, no stack', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const full = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [cliPath, 'check', '--no-cache', '.'], { cwd: dir, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toBe('error: cannot write to standard output: no space left on the device\n');
    } finally {
      fs.closeSync(full);
    }
  });

  it('closed early by its reader (EPIPE) is quiet, and the exit code is the run’s', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 150; i++) files[`d${i}/refill.rs`] = WORK_ITEM_BUG.replace(/Refill/g, `Refill${i}`);
    const dir = tempTree(files);
    const child = spawn(process.execPath, [cliPath, 'check', '--no-cache', '.'], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(1);
  }, 60_000);
});

describe('option files are read with a bound', () => {
  it('--config /dev/zero, a FIFO or a file over 1 MiB is refused at once, exit 2', () => {
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER, 'big.toml': `# ${'x'.repeat(1024 * 1024)}\n` });
    expect(spawnSync('mkfifo', [path.join(dir, 'f.toml')]).status).toBe(0);
    const cases: [string, string][] = [
      ['/dev/zero', 'error: /dev/zero: cannot read config file: it is a device, not a regular file\n'],
      ['f.toml', 'error: f.toml: cannot read config file: it is a FIFO, not a regular file\n'],
      ['big.toml', 'error: big.toml: cannot read config file: larger than 1 MiB, the limit\n'],
    ];
    for (const [config, message] of cases) {
      const r = run(['check', '--no-cache', '--config', config, '.'], dir, 20_000);
      expect({ config, code: r.code, stderr: r.stderr }).toEqual({ config, code: 2, stderr: message });
    }
  });

  it('--baseline /dev/zero is refused; --diff takes a FIFO, as process substitution gives', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const b = run(['check', '--no-cache', '--baseline', '/dev/zero', '.'], dir, 20_000);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('/dev/zero: cannot read the baseline: it is a device, not a regular file');
    expect(b.stderr).not.toMatch(STACK_LINE);
    const diff = ['--- a/refill.rs', '+++ b/refill.rs', '@@ -16 +16 @@', '-x', `+${WORK_ITEM_BUG.split('\n')[15]}`, ''].join('\n');
    const r = spawnSync('bash', ['-c', `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)} check --no-cache --format json --diff <(printf %s "$DIFF") .`], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, DIFF: diff },
      timeout: 60_000,
    });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(JSON.parse(r.stdout).findings).toHaveLength(1);
    expect(r.status).toBe(1);
  });

  it('a dotted key of 50,000 segments is reported by line without a long wait', () => {
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER, 'dmalint.toml': `[rules]\n${Array(50_000).fill('a').join('.')} = "deny"\n` });
    const r = run(['check', '--no-cache', '.'], dir, 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*dmalint\.toml:2: `rules\.a`: unknown rule `a`/);
  });
});

describe('--jobs and --cache-dir', () => {
  it('-j 100000 is capped with a warning and the run goes on', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = run(['check', '--no-cache', '-j', '100000', '.'], dir);
    expect(r.stderr).toMatch(/^warning: --jobs 100000 is more than this machine can use; using \d+\n$/);
    expect(r.code).toBe(1);
  });

  it('a cache folder that cannot hold a cache (/proc, a file) is exit 2 with the reason, at once', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'plain.txt': 'x' });
    for (const [cacheDir, why] of [['/proc', 'cannot create files there'], ['plain.txt', 'not a folder'], ['plain.txt/sub', 'cannot create files there']]) {
      const r = run(['check', '--cache-dir', cacheDir, '.'], dir, 30_000);
      expect({ cacheDir, code: r.code, stderr: r.stderr }).toEqual({ cacheDir, code: 2, stderr: `error: cannot use the cache folder ${cacheDir}: ${why} (pass another --cache-dir, or --no-cache)\n` });
    }
  });

  it('folders are made one mkdir at a time: under /proc it fails instead of spinning', () => {
    expect(() => makeFolders('/proc/dmalint-test/a/b')).toThrow();
    const dir = tempTree({});
    makeFolders(path.join(dir, 'a', 'b', 'c'));
    expect(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true);
  });
});

describe('cache entries are checked by shape', () => {
  it('facts of every fixture pass; a null, a wrong type or a missing field anywhere fails', () => {
    const fixtures = path.resolve(__dirname, '..', 'fixtures');
    const names = fs.readdirSync(fixtures, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.rs'));
    expect(names.length).toBeGreaterThan(20);
    let checked = 0;
    for (const name of names) {
      const facts = JSON.parse(JSON.stringify(extractFacts(fs.readFileSync(path.join(fixtures, name), 'utf8')))) as FileFacts;
      expect({ name, ok: isFileFacts(facts) }).toEqual({ name, ok: true });
      checked++;
    }
    expect(checked).toBe(names.length);
    const facts = JSON.parse(JSON.stringify(extractFacts(WORK_ITEM_BUG))) as FileFacts;
    const spoil: ((f: FileFacts & Record<string, any>) => void)[] = [
      (f) => ((f.impls[0] as any).fns[0].body.stmts[0] = null),
      (f) => ((f.impls[0] as any).fns[0].span.line = '16'),
      (f) => delete (f.structs[0] as any).fields,
      (f) => ((f.impls[0] as any).fns[0].body.k = 'no-such-kind'),
      (f) => (f.uses = [null as any]),
      (f) => ((f as any).syntaxErrors = {}),
    ];
    for (const [i, damage] of spoil.entries()) {
      const copy = structuredClone(facts);
      damage(copy);
      expect({ i, ok: isFileFacts(copy) }).toEqual({ i, ok: false });
    }
  });

  it('an entry with a valid checksum but `related: [null]` (or broken facts) is a miss, not a crash', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const cache = path.join(dir, '.cache');
    const args = ['check', '--cache-dir', cache, '--format', 'json', '.'];
    const first = run(args, dir);
    expect(first.code).toBe(1);
    let spoiled = 0;
    for (const entry of fs.readdirSync(cache, { recursive: true, encoding: 'utf8' })) {
      const file = path.join(cache, entry);
      if (!fs.statSync(file).isFile() || entry.includes('.probe')) continue;
      const raw = fs.readFileSync(file, 'utf8');
      const nl = raw.indexOf('\n');
      const header = JSON.parse(raw.slice(0, nl));
      const payload = raw.slice(nl + 1).replace('"related":[', '"related":[null,').replace('"stmts":[', '"stmts":[null,');
      fs.writeFileSync(file, encodeEntry(header.tag, header.key, payload));
      spoiled++;
    }
    expect(spoiled).toBeGreaterThanOrEqual(2);
    const second = run(args, dir);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(1);
    expect(JSON.parse(second.stdout).findings).toEqual(JSON.parse(first.stdout).findings);
  });
});

describe('facts that cannot be serialized', () => {
  it('are not cached and do not fail the run', () => {
    const tooLong = { toJSON: () => { throw new RangeError('Invalid string length'); } };
    expect(serializeFacts(tooLong as unknown as FileFacts)).toBeUndefined();
    const dir = tempTree({});
    const store = new EntryStore(dir, 'ns');
    store.writeJson('ab12', tooLong);
    expect(store.counters.writeErrors).toBe(1);
    store.writeJson('cd34', { fine: true });
    expect(store.counters.writes).toBe(1);
  });
});

describe('file names', () => {
  it('with newlines, escapes or bidirectional overrides are printed escaped', () => {
    expect(printable('src/a.rs')).toBe('src/a.rs');
    expect(printable('a\nb\x1b[31m\u202e.rs')).toBe('a\\nb\\u{1b}[31m\\u{202e}.rs');
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER });
    fs.writeFileSync(path.join(dir, 'evil\nerror: forged\x1b[2J.rs'), 'fn a() {}\0');
    const r = run(['check', '--no-cache', '.'], dir);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(' --> evil\\nerror: forged\\u{1b}[2J.rs\n');
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout.split('\n').filter((l) => l.startsWith('error: forged'))).toEqual([]);
  });

  it('include globs that reach outside the config folder are a config error, not 0 files checked', () => {
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER, 'dmalint.toml': '[files]\ninclude = ["../../**"]\n' });
    const r = run(['check', '--no-cache', '.'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dmalint\.toml:2: `files\.include`: glob `\.\.\/\.\.\/\*\*` reaches outside the folder of dmalint\.toml/);
  });
});

describe('reports with thousands of findings on one long line', () => {
  const line = Array.from({ length: 4000 }, (_, i) => `alloc_coherent(d, ${i}, GFP_KERNEL);`).join(' ');
  const starts: number[] = [];
  for (let at = line.indexOf('alloc'); at !== -1; at = line.indexOf('alloc', at + 1)) starts.push(at + 1);
  const findings: Finding[] = starts.map((col) => ({
    rule: 'coherent_outside_probe',
    level: 'deny',
    message: 'coherent DMA allocation outside probe',
    primary: { file: 'gen.rs', span: { line: 1, col, endLine: 1, endCol: col + 14 } },
    related: [{ file: 'gen.rs', span: { line: 1, col: 1, endLine: 1, endCol: 5 }, message: 'here' }],
    notes: [],
  }));
  const result: LintResult = { findings, notices: [], filesChecked: 1, durationMs: 0 };
  const input: ReportInput = { result, rules: [], cwd: '/', readSource: () => `${line}\n`, color: false, toolVersion: '0' };

  it('human, json and sarif finish within a generous bound', () => {
    // Before, human took minutes for 4,000 findings on one line; a hang here fails the test.
    const human = formatHuman(input);
    expect(human.match(/^error\[coherent_outside_probe\]/gm)).toHaveLength(4000);
    expect(JSON.parse(formatJson(input)).findings).toHaveLength(4000);
    const sarif = JSON.parse(formatSarif(input));
    const hashes = sarif.runs[0].results.map((r: { partialFingerprints: Record<string, string> }) => Object.values(r.partialFingerprints)[0]);
    expect(new Set(hashes).size).toBe(4000);
  }, 60_000);

  it('fingerprints are those of the plain definition: per file, rule and line text, numbered in order', () => {
    const text = ['  let a = alloc();', 'let a   = alloc();', '', 'other();', line].join('\n');
    const lines = text.split('\n');
    const mixed: Finding[] = [];
    for (let i = 0; i < 300; i++) {
      const lineNo = 1 + ((i * 7) % (lines.length + 1)); // one past the end: no source line
      mixed.push({ ...findings[i], rule: i % 3 ? 'coherent_outside_probe' : 'revocable_dma_addr', primary: { file: i % 5 ? 'a.rs' : 'b.rs', span: { line: lineNo, col: 1, endLine: lineNo, endCol: 2 } }, item: `fn f${i % 2}` });
    }
    const mixedInput: ReportInput = { ...input, result: { ...result, findings: mixed }, readSource: () => text };
    const got = lineFingerprints(mixedInput, sourceCache(mixedInput));
    // The definition, one finding at a time.
    const seen = new Map<string, number>();
    for (const f of sortFindings(mixed)) {
      const source = lines[f.primary.span.line - 1];
      const t = source !== undefined ? normalizeLineText(source) : `\u0000${f.item ?? ''}\u0000${normalizeLineText(f.message)}`;
      const key = JSON.stringify([f.primary.file, f.rule, t]);
      const occurrence = (seen.get(key) ?? 0) + 1;
      seen.set(key, occurrence);
      expect(got.get(f)).toEqual({
        text: t,
        occurrence,
        lineHash: `${sha256Hex(`${f.rule}\u0000${t}`).slice(0, 16)}:${occurrence}`,
        full: sha256Hex(`${f.rule}\u0000${f.primary.file}\u0000${t}\u0000${occurrence}`),
      });
    }
  });

  it('a frame on a long line is the frame measured over the whole line', () => {
    const wide = `\t中😀 ${line.slice(0, 3000)}`;
    for (let col = 1; col <= wide.length + 2; col += 37) {
      for (const len of [0, 3, 200]) {
        const span = { line: 1, col, endLine: 1, endCol: col + len };
        expect(frameLine(wide, span)).toEqual(frameWholeLine(wide, span));
      }
    }
  });
});
