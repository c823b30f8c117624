// The CLI as users run it: formats, exit codes, config errors, suppressions.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLEAN_DRIVER, WORK_ITEM_BUG, cliPath, repo, runCli, sarifSchemaPath, tempTree } from './cli-helpers.js';

const require = createRequire(import.meta.url);

describe('dmalint check', () => {
  it('prints rustc-style findings and exits 1', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[coherent_outside_probe]: coherent DMA allocation');
    expect(r.stdout).toMatch(/ --> refill\.rs:16:20/);
    expect(r.stdout).toMatch(/16 \|\s+let ring = CoherentAllocation/);
    expect(r.stdout).toMatch(/\^{10,}/);
    expect(r.stdout).toContain('= help:');
    expect(r.stdout).toMatch(/1 finding.*1 file/);
    expect(r.stderr).toBe('');
  });

  it('exits 0 on a clean driver', () => {
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER });
    const r = runCli(['check', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('short format: one line per finding', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^refill\.rs:16:20: error\[coherent_outside_probe\]: /)]);
  });

  it('json format is versioned and complete', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '--format', 'json', '.'], { cwd: dir });
    const doc = JSON.parse(r.stdout);
    expect(doc.version).toBe(1);
    expect(doc.findings).toHaveLength(1);
    expect(doc.findings[0]).toMatchObject({ rule: 'coherent_outside_probe', level: 'error', file: 'refill.rs', line: 16, column: 20 });
    expect(doc.findings[0].endLine).toBe(16);
  });

  it('sarif output validates against the SARIF 2.1.0 schema', () => {
    const r = runCli(['check', '--format', 'sarif', 'fixtures']);
    const log = JSON.parse(r.stdout);
    const schemaPath = sarifSchemaPath();
    const Ajv = require('ajv-draft-04');
    const addFormats = require('ajv-formats');
    const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
    const valid = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const ruleIds = log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id);
    expect(ruleIds).toEqual(expect.arrayContaining(['coherent_outside_probe', 'dma_free_without_quiesce', 'revocable_dma_addr']));
    expect(log.runs[0].results.length).toBeGreaterThan(0);
    for (const res of log.runs[0].results) expect(res.locations[0].physicalLocation.artifactLocation.uri).not.toMatch(/^\//);
  });

  it('--output writes the report to a file and nothing to stdout', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '--format', 'json', '--output', 'report.json', '.'], { cwd: dir });
    expect(r.stdout).toBe('');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).findings).toHaveLength(1);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--exit-zero and --max-warnings', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'dmalint.toml': '[rules]\ncoherent_outside_probe = "warn"\n' });
    expect(runCli(['check', '.'], { cwd: dir }).code).toBe(0);
    expect(runCli(['check', '--max-warnings', '0', '.'], { cwd: dir }).code).toBe(1);
    expect(runCli(['check', '--max-warnings', '1', '.'], { cwd: dir }).code).toBe(0);
    const strict = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    expect(runCli(['check', '--exit-zero', '.'], { cwd: strict }).code).toBe(0);
  });

  it('a rule set to allow reports nothing', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'dmalint.toml': '[rules]\ncoherent_outside_probe = "allow"\n' });
    const r = runCli(['check', '.'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('coherent_outside_probe');
  });

  it('--rule limits the rules run, and an unknown rule is a usage error', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    expect(runCli(['check', '--rule', 'revocable_dma_addr', '.'], { cwd: dir }).code).toBe(0);
    expect(runCli(['check', '--rule', 'coherent_outside_probe', '.'], { cwd: dir }).code).toBe(1);
    const bad = runCli(['check', '--rule', 'coherent_outside_prob', '.'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('did you mean `coherent_outside_probe`');
    expect(bad.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('a missing path exits 2 with a clear message', () => {
    const r = runCli(['check', 'no/such/dir']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no/such/dir: no such file or folder');
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('an invalid config exits 2 naming file, line and key', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'dmalint.toml': '[rules]\ncoherent_outside_probe = "deny"\n\n[api]\nquiesce-function = ["x"]\n' });
    const r = runCli(['check', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/dmalint\.toml:5: `api\.quiesce-function`: unknown key/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
    const syntax = tempTree({ 'a.rs': CLEAN_DRIVER, 'dmalint.toml': '[rules\n' });
    const s = runCli(['check', '.'], { cwd: syntax });
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/dmalint\.toml:1/);
  });

  it('--config with a missing file exits 2', () => {
    const r = runCli(['check', '--config', 'nope.toml', 'fixtures']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.toml');
  });

  it('an unreadable or binary file is reported, the rest still linted, exit 2', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'blob.rs': 'fn a() {}\0\0\0' });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('blob.rs');
    expect(r.stdout).toContain('refill.rs:16:20: error[coherent_outside_probe]');
  });

  it('a reader that stops early (`| head`) gets no stack trace; the exit code stays', async () => {
    // The JSON report of all fixtures is far larger than a pipe buffer: the writes after the
    // reader is gone fail with EPIPE.
    const child = spawn(process.execPath, [cliPath, 'check', path.join(repo, 'fixtures'), '--format', 'json', '--no-cache'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.destroy(); // the reader is gone before the report is written
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(1);
  });
});

describe('suppressions', () => {
  const withComment = (comment: string, where: 'above' | 'trailing' | 'item') => {
    const lines = WORK_ITEM_BUG.split('\n');
    const idx = lines.findIndex((l) => l.includes('alloc_coherent'));
    if (where === 'above') lines.splice(idx, 0, `        ${comment}`);
    else if (where === 'trailing') lines[idx] += ` ${comment}`;
    else lines.splice(lines.findIndex((l) => l.startsWith('impl WorkItem')), 0, comment);
    return lines.join('\n');
  };

  for (const where of ['above', 'trailing', 'item'] as const) {
    it(`a reasoned suppression ${where} silences the finding`, () => {
      const dir = tempTree({ 'refill.rs': withComment('// dmalint-allow(coherent_outside_probe): the work is flushed in unbind()', where) });
      const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
      expect(r.stdout).toBe('');
      expect(r.code).toBe(0);
    });
  }

  it('a suppression without a reason is itself an error and suppresses nothing', () => {
    const dir = tempTree({ 'refill.rs': withComment('// dmalint-allow(coherent_outside_probe)', 'above') });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[invalid_suppression]: suppression comment without a reason');
    expect(r.stdout).toContain('error[coherent_outside_probe]');
  });

  it('a placeholder for a reason is no reason: the finding stays and the comment is an error', () => {
    const placeholders = ['<reason>', 'TODO', 'fixme.', '<why this is safe>', '...', '${1:<reason>}'];
    const dir = tempTree(Object.fromEntries(placeholders.map((p, i) => [`refill${i}.rs`, withComment(`// dmalint-allow(coherent_outside_probe): ${p}`, 'above')])));
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    for (const p of placeholders) expect(r.stdout).toContain(`error[invalid_suppression]: suppression comment with a placeholder for a reason: \`${p}\``);
    expect(r.stdout.match(/error\[coherent_outside_probe\]/g)).toHaveLength(placeholders.length);
    // A reason that starts with such a word but says something is a reason.
    const real = tempTree({ 'refill.rs': withComment('// dmalint-allow(coherent_outside_probe): TODO remove once the work item is flushed in unbind()', 'above') });
    expect(runCli(['check', '--format', 'short', '.'], { cwd: real }).code).toBe(0);
  });

  it('an unknown rule id in a suppression is reported', () => {
    const dir = tempTree({ 'refill.rs': withComment('// dmalint-allow(coherent_outside_prob): typo', 'above') });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.stdout).toContain('error[invalid_suppression]: unknown rule `coherent_outside_prob`');
  });

  it('a suppression that suppresses nothing is a warning', () => {
    const dir = tempTree({ 'ok.rs': CLEAN_DRIVER.replace('let ring', '// dmalint-allow(revocable_dma_addr): old\n        let ring') });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.stdout).toContain('warning[unused_suppression]');
    expect(r.code).toBe(0);
  });

  it('the marker inside a string literal is not a suppression', () => {
    const dir = tempTree({ 'refill.rs': withComment('let _s = "// dmalint-allow(coherent_outside_probe): no";', 'above') });
    const r = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(r.stdout).toContain('error[coherent_outside_probe]');
    expect(r.stdout).not.toContain('suppression');
  });
});

describe('rules, explain, version', () => {
  it('lists the rules', () => {
    const r = runCli(['rules']);
    expect(r.code).toBe(0);
    for (const id of ['coherent_outside_probe', 'dma_free_without_quiesce', 'revocable_dma_addr']) expect(r.stdout).toMatch(new RegExp(`^${id}\\s+deny\\s+\\S`, 'm'));
  });

  it('explains a rule, and rejects an unknown one', () => {
    const r = runCli(['explain', 'revocable_dma_addr']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('WHAT IT DOES');
    expect(r.stdout).toContain('WHY IS THIS BAD');
    expect(r.stdout).toContain('HOW TO FIX');
    const bad = runCli(['explain', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown rule');
  });

  it('prints the version from package.json', () => {
    const r = runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
  });

  it('an unknown option is a usage error (exit 2)', () => {
    const r = runCli(['check', '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
  });
});
