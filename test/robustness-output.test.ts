// What dmalint writes: the report (--output), the baseline and the cache, whole and only where
// the user said; never the linted sources. Ctrl-C stops a run with no partial output.
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputPath, OutputError, writeOutputFile } from '../src/cli/output.js';
import { CLEAN_DRIVER, WORK_ITEM_BUG, cliPath, repo, runCli, tempTree } from './cli-helpers.js';

const STACK_LINE = /^\s+at .*(\.js|\.ts|node:)/m;

/** Every entry under `dir`: kind, mode, size, modification time and a digest of the content. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const stack = [dir];
  while (stack.length > 0) {
    const cur = stack.pop()!;
    for (const name of fs.readdirSync(cur)) {
      const full = path.join(cur, name);
      const st = fs.lstatSync(full);
      let what = `${st.mode.toString(8)} ${st.mtimeMs}`;
      if (st.isDirectory()) stack.push(full);
      else if (st.isSymbolicLink()) what += ` -> ${fs.readlinkSync(full)}`;
      else if (st.isFile()) what += ` ${st.size} ${crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
      out.set(path.relative(dir, full), what);
    }
  }
  return out;
}

function files(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort() : [];
}

/** A tree with every kind of input: clean, buggy, broken, binary, deep, CRLF, BOM, a link, a config. */
function mixedTree(): string {
  const dir = tempTree({
    'refill.rs': WORK_ITEM_BUG,
    'ok.rs': CLEAN_DRIVER,
    'dos.rs': WORK_ITEM_BUG.replace(/\n/g, '\r\n').replace(/Refill/g, 'Dos'),
    'bom.rs': `\uFEFF${CLEAN_DRIVER}`,
    'broken.rs': 'use kernel::dma::CoherentAllocation;\nfn f( {\n',
    'deep.rs': `use kernel::dma::CoherentAllocation;\nfn f() ${'{'.repeat(5000)}${'}'.repeat(5000)}\n`,
    'blob.rs': 'fn a() {}\0',
    'sub/mod.rs': CLEAN_DRIVER,
    'dmalint.toml': '[rules]\nrevocable_dma_addr = "warn"\n',
  });
  fs.symlinkSync('ok.rs', path.join(dir, 'link.rs'));
  return dir;
}

describe('--output', () => {
  it('replaces the previous report whole and leaves no temporary file', () => {
    const dir = tempTree({ 'src/refill.rs': WORK_ITEM_BUG, 'out/report.sarif': 'previous report\n' });
    const r = runCli(['check', '--no-cache', '--format', 'sarif', '--output', 'out/report.sarif', 'src'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.sarif'), 'utf8')).runs[0].results).toHaveLength(1);
    expect(files(path.join(dir, 'out'))).toEqual(['report.sarif']);
  });

  it('a path that cannot be written fails before the run, with a clear message and no stack', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'reports/.keep': '' });
    const missing = runCli(['check', '--no-cache', '--output', 'no/such/report.json', '.'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: cannot write the report no/such/report.json: no such folder: no/such\n');
    const folder = runCli(['check', '--no-cache', '--output', 'reports', '.'], { cwd: dir });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe('error: cannot write the report reports: it is a folder\n');
    expect(folder.stderr).not.toMatch(STACK_LINE);
    expect(files(path.join(dir, 'reports'))).toEqual(['.keep']);
  });

  it('never overwrites a linted source file, whatever it is called', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    for (const args of [['check', '--output', 'refill.rs', '.'], ['check', '--output', './refill.rs', 'refill.rs'], ['baseline', '--output', 'refill.rs', '.']]) {
      const r = runCli([...args, '--no-cache'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('is one of the files being linted; not overwriting it');
    }
    expect(fs.readFileSync(path.join(dir, 'refill.rs'), 'utf8')).toBe(WORK_ITEM_BUG);
  });
});

describe('writeOutputFile', () => {
  it('a failed rename leaves the target as it was and no temporary file', () => {
    const dir = tempTree({ 'target/inside.txt': 'kept\n' });
    expect(() => writeOutputFile(path.join(dir, 'target'), 'new')).toThrow(OutputError);
    expect(() => writeOutputFile(path.join(dir, 'target'), 'new')).toThrow('it is a folder');
    expect(files(dir)).toEqual(['target', path.join('target', 'inside.txt')]);
  });

  it('a missing folder is named', () => {
    const dir = tempTree({});
    expect(() => writeOutputFile(path.join(dir, 'gone', 'r.json'), '{}')).toThrow(`no such folder: ${path.join(dir, 'gone')}`);
    expect(() => checkOutputPath(path.join(dir, 'gone', 'r.json'))).toThrow(OutputError);
    expect(files(dir)).toEqual([]);
  });
});

describe('Ctrl-C', () => {
  it('during a write, waits until the file is whole and renamed, then ends the process', async () => {
    const dir = tempTree({});
    const size = 64 << 20;
    // As in a run, a first write (the baseline) comes before the report. The child says when it
    // starts writing the report; the signal then arrives while that synchronous write runs.
    const script = [
      `import { writeOutputFile } from ${JSON.stringify(path.join(repo, 'dist', 'src', 'cli', 'output.js'))};`,
      `const text = 'x'.repeat(${size});`,
      `writeOutputFile('baseline.json', '{}');`,
      `process.stdout.write('writing\\n');`,
      `writeOutputFile('report.txt', text);`,
      `setTimeout(() => console.log('still running'), 5000);`,
    ].join('\n');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout === 'writing\n') child.kill('SIGINT');
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    expect({ code, signal, stdout }).toEqual({ code: null, signal: 'SIGINT', stdout: 'writing\n' });
    expect(fs.readdirSync(dir).sort()).toEqual(['baseline.json', 'report.txt']);
    expect(fs.statSync(path.join(dir, 'report.txt')).size).toBe(size);
  });

  /** Enough code that linting it with two workers takes seconds. */
  function bigTree(): string {
    const unit = WORK_ITEM_BUG.replace(/^use .*$/gm, '');
    const body = Array.from({ length: 25 }, (_, k) => unit.replace(/Refill/g, `Refill${k}`)).join('\n');
    const tree: Record<string, string> = {};
    for (let i = 0; i < 300; i++) tree[`drv/f${i}.rs`] = `use kernel::dma::CoherentAllocation;\nuse kernel::sync::Arc;\nuse kernel::workqueue::WorkItem;\n${body}`;
    return tempTree(tree);
  }

  /** Starts `dmalint check`, sends SIGINT once facts are being cached (the run is under way). */
  async function interrupt(dir: string, args: string[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    const cache = path.join(dir, 'cache');
    const child = spawn(process.execPath, [cliPath, 'check', '--jobs', '2', '--cache-dir', cache, ...args, 'drv'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', GITHUB_STEP_SUMMARY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let running = true;
    void exited.then(() => (running = false));
    // A cache entry is named by a SHA-256: once one exists, workers are extracting.
    while (running && !files(cache).some((f) => /^[0-9a-f]{64}$/.test(path.basename(f)))) await new Promise((r) => setTimeout(r, 20));
    expect(running, `the run ended before it could be interrupted:\n${stderr}`).toBe(true);
    child.kill('SIGINT');
    const result = await exited;
    await new Promise((r) => setImmediate(r));
    return { ...result, stdout, stderr };
  }

  it('ends the run and its workers at once; the previous --output file stays as it was, no temporary file', async () => {
    const dir = bigTree();
    fs.writeFileSync(path.join(dir, 'report.sarif'), 'previous report\n');
    const r = await interrupt(dir, ['--format', 'sarif', '--output', 'report.sarif']);
    // Killed by the signal, as Ctrl-C should (shells report exit status 130), not aborted.
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: null, signal: 'SIGINT' });
    expect(r.stdout).toBe('');
    expect(fs.readFileSync(path.join(dir, 'report.sarif'), 'utf8')).toBe('previous report\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['cache', 'drv', 'report.sarif']);
  }, 60_000);

  it('prints no partial report on standard output', async () => {
    const dir = bigTree();
    const r = await interrupt(dir, ['--format', 'json']);
    // Killed by the signal, as Ctrl-C should (shells report exit status 130), not aborted.
    expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: null, signal: 'SIGINT' });
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(STACK_LINE);
  }, 60_000);
});

describe('what a run writes', () => {
  it('never the linted sources: only the report, the baseline and the cache, where asked', () => {
    const tree = mixedTree();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-out-'));
    const before = snapshot(tree);
    const baseline = runCli(['baseline', '--cache-dir', path.join(out, 'cache'), '--output', path.join(out, 'baseline.json'), '.'], { cwd: tree });
    // blob.rs cannot be read, so no baseline is written: the run says so and exits 2.
    expect(baseline.code).toBe(2);
    fs.rmSync(path.join(tree, 'blob.rs'));
    before.delete('blob.rs');
    expect(runCli(['baseline', '--cache-dir', path.join(out, 'cache'), '--output', path.join(out, 'baseline.json'), '.'], { cwd: tree }).code).toBe(0);
    for (const format of ['human', 'json', 'sarif', 'github', 'gitlab', 'junit']) {
      const r = runCli(['check', '--format', format, '--cache-dir', path.join(out, 'cache'), '--output', path.join(out, `report.${format}`), '--baseline', path.join(out, 'baseline.json'), '--update-baseline', '--follow-symlinks', '.'], { cwd: tree });
      expect([0, 1]).toContain(r.code);
    }
    expect(snapshot(tree)).toEqual(before);
    const written = fs.readdirSync(out).sort();
    expect(written).toEqual(['baseline.json', 'cache', 'report.github', 'report.gitlab', 'report.human', 'report.json', 'report.junit', 'report.sarif']);
    expect(files(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('without --cache-dir, the cache goes to the user cache folder, not into the linted tree', () => {
    const tree = mixedTree();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-home-'));
    const before = snapshot(tree);
    const r = runCli(['check', '.'], { cwd: tree, env: { HOME: home, XDG_CACHE_HOME: path.join(home, 'xdg') } });
    expect(r.code).toBe(2);
    expect(snapshot(tree)).toEqual(before);
    expect(files(path.join(home, 'xdg', 'dmalint')).length).toBeGreaterThan(0);
  });
});
