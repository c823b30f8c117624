// A broken dmalint.toml stops the run with one clear message naming the file, the line and the
// key: exit 2, no report, no stack trace (a stack trace only with --debug).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORK_ITEM_BUG, runCli, tempTree } from './cli-helpers.js';

const STACK_LINE = /^\s+at .*(\.js|\.ts|node:)/m;

const CASES: { name: string; toml: string | Buffer; message: RegExp }[] = [
  { name: 'malformed TOML', toml: '[rules\ncoherent_outside_probe = "warn"\n', message: /^dmalint\.toml:1: invalid TOML: / },
  { name: 'a string that never ends', toml: '[rules]\ncoherent_outside_probe = "warn\n', message: /^dmalint\.toml:2: invalid TOML: / },
  { name: 'an unknown key', toml: '[api]\nquiesce-function = ["halt"]\n', message: /^dmalint\.toml:2: `api\.quiesce-function`: unknown key .*did you mean `quiesce-functions`/ },
  { name: 'an unknown table', toml: '[paths]\ninclude = ["src"]\n', message: /^dmalint\.toml:1: `paths`: unknown table/ },
  { name: 'a wrong type', toml: '[files]\ninclude = "drivers/**"\n', message: /^dmalint\.toml:2: `files\.include`: expected an array/ },
  { name: 'a wrong element type', toml: '[api]\nquiesce-functions = ["halt", 3]\n', message: /^dmalint\.toml:2: `api\.quiesce-functions/ },
  { name: 'an unknown rule id', toml: '[rules]\ncoherent_outside_prob = "deny"\n', message: /^dmalint\.toml:2: `rules\.coherent_outside_prob`: unknown rule .*did you mean `coherent_outside_probe`/ },
  { name: 'an unknown level', toml: '[rules]\nrevocable_dma_addr = "loud"\n', message: /^dmalint\.toml:2: `rules\.revocable_dma_addr`: invalid level `loud`/ },
  { name: 'a file that is not UTF-8 text', toml: Buffer.from([0xff, 0xfe, 0x5b, 0x72, 0x0a, 0x00]), message: /^dmalint\.toml:1: / },
];

describe('a broken dmalint.toml', () => {
  for (const c of CASES) {
    it(`${c.name}: one message with file, line and key; exit 2; no report, no stack`, () => {
      const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
      fs.writeFileSync(path.join(dir, 'dmalint.toml'), c.toml);
      const r = runCli(['check', '--format', 'sarif', '.'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0].startsWith(`error: ${dir}${path.sep}`), r.stderr).toBe(true);
      expect(lines[0].slice(`error: ${dir}${path.sep}`.length)).toMatch(c.message);
      expect(r.stderr).not.toMatch(STACK_LINE);
    });
  }

  it('with --debug, the same message followed by a stack trace', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'dmalint.toml': '[rules]\ncoherent_outside_prob = "deny"\n' });
    const r = runCli(['--debug', 'check', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^error: .*dmalint\.toml:2: `rules\.coherent_outside_prob`: unknown rule/);
    expect(r.stderr).toMatch(STACK_LINE);
  });

  it('an explicit --config that is broken is named as given', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'ci/lint.toml': '[rules]\nrevocable_dma_addr = 1\n' });
    const r = runCli(['check', '--config', 'ci/lint.toml', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*ci\/lint\.toml:2: `rules\.revocable_dma_addr`: expected a string/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
