// Start-up loads only what a command needs, and the progress line appears only on a terminal.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgress } from '../src/cli/progress.js';
import { createFactsSource } from '../src/facts/source.js';

const repo = path.resolve(__dirname, '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-startup-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Prints, at exit, which tree-sitter modules the process loaded. */
const preload = path.join(dir, 'report-loaded.mjs');
fs.writeFileSync(
  preload,
  `import { createRequire } from 'node:module';
const Module = createRequire(import.meta.url)('node:module');
process.on('exit', () => {
  const loaded = Object.keys(Module._cache).filter((k) => /tree-sitter/.test(k));
  process.stderr.write('\\nLOADED ' + JSON.stringify(loaded) + '\\n');
});
`,
);

function loadedBy(args: string[]): { loaded: string[]; status: number | null } {
  const r = spawnSync(process.execPath, ['--import', preload, cli, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no report from the preload: ${r.stderr}`);
  return { loaded: JSON.parse(line.slice('LOADED '.length)) as string[], status: r.status };
}

describe('start-up', () => {
  it('--version loads no parser or grammar', () => {
    expect(loadedBy(['--version'])).toEqual({ loaded: [], status: 0 });
  });

  it('a small file without DMA code is checked without loading the parser', () => {
    fs.writeFileSync(path.join(dir, 'gpio.rs'), 'fn set_level(bank: &mut [u32; 4], pin: usize) { bank[pin / 32] |= 1 << (pin % 32); }\n');
    expect(loadedBy(['check', 'gpio.rs', '--no-cache'])).toEqual({ loaded: [], status: 0 });
  });

  it('a small file with DMA code loads the parser', () => {
    fs.writeFileSync(path.join(dir, 'ring.rs'), 'use kernel::dma::CoherentAllocation;\nstruct Ring { buf: CoherentAllocation<u64> }\n');
    const r = loadedBy(['check', 'ring.rs', '--no-cache']);
    expect(r.loaded.some((m) => /tree-sitter-rust/.test(m))).toBe(true);
  });

  it('workers started ahead of a run that then has nothing to extract are stopped', async () => {
    // 80 files, none naming a DMA API: the run warms up its workers, and extracts nothing.
    const tree = fs.mkdtempSync(path.join(dir, 'plain-'));
    for (let i = 0; i < 80; i++) fs.writeFileSync(path.join(tree, `m${i}.rs`), `pub fn f${i}() -> u32 { ${i} }\n`);
    const r = spawnSync(process.execPath, [cli, 'check', tree, '--no-cache', '--jobs', '2', '--format', 'json'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).summary.filesChecked).toBe(80);

    const source = await createFactsSource({ jobs: 3, cache: false });
    source.warmUp?.();
    expect(source.stats?.workers).toBe(2);
    await source.close?.();
  });

  it('a few small files are extracted without starting worker threads', async () => {
    const source = await createFactsSource({ jobs: 4, cache: false });
    await source.extract([{ absPath: '/a.rs', text: 'fn a() {}\n' }, { absPath: '/b.rs', text: 'fn b() {}\n' }]);
    expect(source.stats?.workers).toBe(0);
    await source.close?.();
  });
});

describe('progress', () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    return { isTTY, writes, write: (t: string) => writes.push(t) };
  }

  it('redraws one line on a terminal, only for runs longer than a moment, and erases it', () => {
    let now = 0;
    const s = fakeStream(true);
    const p = createProgress(s, { now: () => now });
    p.update(1, 500);
    expect(s.writes).toEqual([]);
    now = 1000;
    p.update(120, 500);
    now = 1010;
    p.update(121, 500); // too soon to redraw
    now = 1200;
    p.update(9, 10);
    expect(s.writes).toEqual(['\rdmalint: 120/500 files', '\rdmalint: 9/10 files   ']);
    p.clear();
    expect(s.writes.at(-1)).toBe(`\r${' '.repeat('dmalint: 9/10 files'.length)}\r`);
  });

  it('is silent when stderr is not a terminal, and with --quiet', () => {
    for (const [tty, quiet] of [[false, false], [true, true]] as const) {
      let now = 0;
      const s = fakeStream(tty);
      const p = createProgress(s, { quiet, now: () => now });
      now = 5000;
      p.update(1, 2);
      p.clear();
      expect(s.writes).toEqual([]);
    }
  });

  it('the CLI writes no progress to a pipe', () => {
    const r = spawnSync(process.execPath, [cli, 'check', path.join(repo, 'fixtures'), '--no-cache', '--exit-zero'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain('\r');
  });
});
