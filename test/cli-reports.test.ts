// CI report formats through the built CLI: JUnit read back by an XML parser, paths relative to
// the repository root wherever dmalint runs, code scanning's severity, CWE tags and result limit.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/lint/types.js';
import { SARIF_RESULTS_LIMIT, sarifLog } from '../src/report/sarif.js';
import { CLEAN_DRIVER, WORK_ITEM_BUG, runCli, tempTree } from './cli-helpers.js';

function gitTree(files: Record<string, string>): string {
  const dir = tempTree(files);
  execFileSync('git', ['init', '-q'], { cwd: dir, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: os.devNull } });
  return dir;
}

const TWO_BUGS = WORK_ITEM_BUG.replace(
  '        let _ = ring;\n',
  '        let _ = ring;\n        let again = CoherentAllocation::<u64>::alloc_coherent(&this.dev, 8, GFP_KERNEL);\n        let _ = again;\n',
);

function junitCases(xml: string): Record<string, string | object>[] {
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => name === 'testcase' || name === 'failure' });
  const doc = parser.parse(xml, true);
  return doc.testsuites.testsuite.testcase;
}

describe('JUnit', () => {
  it('one test case per finding, named path:line with the rule as classname; clean files pass', () => {
    const dir = gitTree({ 'drivers/a/bug.rs': TWO_BUGS, 'drivers/b/ok.rs': CLEAN_DRIVER });
    const r = runCli(['check', '--format', 'junit', '.'], { cwd: path.join(dir, 'drivers') });
    expect(r.code).toBe(1);
    const cases = junitCases(r.stdout);
    expect(cases.map((c) => [c.classname, c.name, c.file, c.line])).toEqual([
      ['coherent_outside_probe', 'drivers/a/bug.rs:16', 'drivers/a/bug.rs', '16'],
      ['coherent_outside_probe', 'drivers/a/bug.rs:18', 'drivers/a/bug.rs', '18'],
      ['dmalint', 'drivers/b/ok.rs', 'drivers/b/ok.rs', undefined],
    ]);
    // Each failing case carries exactly one failure: Jenkins and Azure DevOps show only the first.
    expect(cases.map((c) => (c.failure as unknown[] | undefined)?.length ?? 0)).toEqual([1, 1, 0]);
  });
});

describe('paths relative to the repository root', () => {
  it('SARIF and GitLab give the same paths and fingerprints from the root and from a subfolder', () => {
    const dir = gitTree({ 'drivers/net/nic/bug.rs': WORK_ITEM_BUG });
    const sub = path.join(dir, 'drivers', 'net');
    const fromRoot = runCli(['check', '--format', 'sarif', 'drivers'], { cwd: dir });
    const fromSub = runCli(['check', '--format', 'sarif', 'nic'], { cwd: sub });
    const location = (out: string) => {
      const run = JSON.parse(out).runs[0];
      return { base: run.originalUriBaseIds['%SRCROOT%'].uri, uri: run.results[0].locations[0].physicalLocation.artifactLocation.uri };
    };
    expect(location(fromSub.stdout)).toEqual(location(fromRoot.stdout));
    expect(location(fromSub.stdout).uri).toBe('drivers/net/nic/bug.rs');
    const gitlab = (cwd: string, p: string) => JSON.parse(runCli(['check', '--format', 'gitlab', p], { cwd }).stdout)[0];
    const a = gitlab(dir, 'drivers');
    const b = gitlab(sub, 'nic');
    expect(b.location.path).toBe('drivers/net/nic/bug.rs');
    expect(b.fingerprint).toBe(a.fingerprint);
  });

  it('--root chooses the folder; outside a repository the working folder is the root', () => {
    const dir = gitTree({ 'drivers/net/nic/bug.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '--format', 'gitlab', '--root', 'drivers', 'drivers/net'], { cwd: dir });
    expect(JSON.parse(r.stdout)[0].location.path).toBe('net/nic/bug.rs');
    expect(runCli(['check', '--root', 'nowhere', 'drivers'], { cwd: dir }).stderr).toBe('error: --root nowhere: no such folder\n');
    const plain = tempTree({ 'x/bug.rs': WORK_ITEM_BUG });
    expect(JSON.parse(runCli(['check', '--format', 'gitlab', '.'], { cwd: path.join(plain, 'x') }).stdout)[0].location.path).toBe('bug.rs');
  });
});

describe('SARIF for code scanning', () => {
  it('rules carry security-severity and CWE tags; a device use after free is CWE-416', () => {
    const dir = gitTree({ 'a.rs': CLEAN_DRIVER });
    const rules = JSON.parse(runCli(['check', '--format', 'sarif', '.'], { cwd: dir }).stdout).runs[0].tool.driver.rules;
    const byId = new Map(rules.map((r: { id: string; properties: object }) => [r.id, r.properties]));
    expect(byId.get('dma_free_without_quiesce')).toMatchObject({ 'security-severity': '8.1' });
    expect((byId.get('dma_free_without_quiesce') as { tags: string[] }).tags).toEqual(expect.arrayContaining(['security', 'external/cwe/cwe-416']));
    expect((byId.get('unused_suppression') as { tags: string[] }).tags).not.toContain('security');
  });

  it(`keeps at most ${SARIF_RESULTS_LIMIT} results in a run, errors first, and says how many were left out`, () => {
    const finding = (i: number, level: Finding['level']): Finding => ({
      rule: 'coherent_outside_probe',
      level,
      message: 'm',
      primary: { file: 'a.rs', span: { line: i + 1, col: 1, endLine: i + 1, endCol: 2 } },
      related: [],
      notes: [],
    });
    const findings = [...Array.from({ length: 10 }, (_, i) => finding(i, 'warn')), ...Array.from({ length: SARIF_RESULTS_LIMIT }, (_, i) => finding(i + 10, 'deny'))];
    const log = sarifLog({
      result: { findings, notices: [], filesChecked: 1, durationMs: 0 },
      rules: [],
      cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-sarif-')),
      readSource: () => undefined,
      color: false,
      toolVersion: '0',
    }) as { runs: { results: { level: string }[]; invocations: { toolExecutionNotifications: { message: { text: string } }[] }[] }[] };
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(SARIF_RESULTS_LIMIT);
    expect(run.results.every((r) => r.level === 'error')).toBe(true);
    expect(run.invocations[0]!.toolExecutionNotifications.at(-1)!.message.text).toMatch(/^10 more results were left out: code scanning accepts at most 25000 results per run/);
  });
});

describe('command line habits', () => {
  it('a selection with no Rust file is an error naming the paths', () => {
    const dir = tempTree({ 'docs/readme.txt': 'no code\n', 'src/empty/.keep': '' });
    const r = runCli(['check', 'docs', 'src'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: no Rust files to check in `docs`, `src`\n/);
  });

  it('--stdin-filename with `-` lints standard input as that file, with its folder\'s dmalint.toml', () => {
    const dir = tempTree({ 'drivers/dmalint.toml': '[rules]\ncoherent_outside_probe = "warn"\n' });
    const r = runCli(['check', '--format', 'short', '--stdin-filename', 'drivers/nic.rs', '-'], { cwd: dir, input: WORK_ITEM_BUG });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'drivers/nic.rs:16:20: warning[coherent_outside_probe]: coherent DMA allocation (`CoherentAllocation::alloc_coherent`) in `WorkItem::run for Refill`, which can run after the driver is unbound (Zombie state); the DMA API may only be used while a driver is bound to the device\n',
    );
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'drivers', 'nic.rs'))).toBe(false);
    const clean = runCli(['check', '--stdin-filename', 'ok.rs', '-'], { cwd: dir, input: CLEAN_DRIVER });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^no findings in 1 file checked/);
    expect(runCli(['check', '-'], { cwd: dir, input: '' }).stderr).toContain('error: `-` reads the source from standard input and needs --stdin-filename NAME');
    expect(runCli(['check', '--stdin-filename', 'a.rs', 'drivers'], { cwd: dir, input: '' }).stderr).toContain('give `-` as the only path');
  });

  it('human and short columns count characters, as rustc does; SARIF keeps UTF-16 code units', () => {
    const wide = WORK_ITEM_BUG.replace('        let ring =', '        /* 𝔪é */ let ring =');
    const dir = gitTree({ 'w.rs': wide });
    const short = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    // `        /* 𝔪é */ ` is 17 characters, 18 UTF-16 code units.
    expect(short.stdout).toMatch(/^w\.rs:16:29: error\[coherent_outside_probe\]/);
    expect(runCli(['check', '.'], { cwd: dir }).stdout).toContain('--> w.rs:16:29');
    const sarif = JSON.parse(runCli(['check', '--format', 'sarif', '.'], { cwd: dir }).stdout).runs[0];
    expect(sarif.columnKind).toBe('utf16CodeUnits');
    expect(sarif.results[0].locations[0].physicalLocation.region.startColumn).toBe(30);
  });
});

describe('--statistics and --show-settings', () => {
  it('--statistics counts findings per rule, most first', () => {
    const dir = tempTree({ 'a.rs': TWO_BUGS, 'b.rs': WORK_ITEM_BUG });
    const r = runCli(['check', '--statistics', '.'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('3  coherent_outside_probe  error    coherent DMA memory allocated or kept where no driver is bound');
    expect(r.stdout).toMatch(/\n3 findings \(3 errors, 0 warnings\) in 2 files checked/);
    const json = JSON.parse(runCli(['check', '--statistics', '--format', 'json', '.'], { cwd: dir }).stdout);
    expect(json).toEqual([{ rule: 'coherent_outside_probe', level: 'error', count: 3, summary: expect.any(String) }]);
    expect(runCli(['check', '--statistics', '--format', 'sarif', '.'], { cwd: dir }).code).toBe(2);
  });

  it('--show-settings prints each value with where it came from, and lints nothing', () => {
    const dir = tempTree({ 'd/a.rs': WORK_ITEM_BUG, 'dmalint.toml': '[rules]\nunused_suppression = "allow"\n\n[files]\nexclude = ["vendor/**"]\n' });
    const r = runCli(['check', '--show-settings', '--jobs', '3', 'd'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# `d`: configured by dmalint\.toml\n\[rules\]\n/);
    expect(r.stdout).toMatch(/^coherent_outside_probe = "deny" +# default$/m);
    expect(r.stdout).toMatch(/^unused_suppression = "allow" +# dmalint\.toml:2$/m);
    expect(r.stdout).toMatch(/^exclude = \["vendor\/\*\*"\] +# dmalint\.toml:5$/m);
    expect(r.stdout).toMatch(/^jobs = "3" +# --jobs$/m);
    expect(r.stdout).not.toContain('coherent DMA allocation');
  });
});

describe('kernel trees', () => {
  it('files git ignores are not linted when walking folders; named files and --no-respect-gitignore still are', () => {
    const dir = gitTree({ '.gitignore': 'generated/\n*.gen.rs\n', 'generated/x.rs': WORK_ITEM_BUG, 'drv/a.gen.rs': WORK_ITEM_BUG, 'drv/ok.rs': CLEAN_DRIVER });
    const walked = runCli(['check', '--format', 'short', '.'], { cwd: dir });
    expect(walked).toMatchObject({ code: 0, stdout: '' });
    const all = runCli(['check', '--format', 'short', '--no-respect-gitignore', '.'], { cwd: dir });
    expect(all.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['drv/a.gen.rs', 'generated/x.rs']);
    expect(runCli(['check', '--format', 'short', 'generated/x.rs'], { cwd: dir }).code).toBe(1);
  });
});
