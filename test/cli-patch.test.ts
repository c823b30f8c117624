// `dmalint patch` through the built CLI: series of patches applied to real git repositories.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORK_ITEM_BUG, runCli } from './cli-helpers.js';
import { LIB, RING, WORK, callHelperFromWorkItem, edit, git, gitRepo } from './git-crate.js';

const CRATE = 'drivers/net/nic';

/**
 * A kernel-like tree with a crate that has an old bug (old.rs), and three commits on top: a
 * comment, a work item that now allocates through the ring helper (the bug, reported in ring.rs
 * which the patch does not touch), another comment. Returns the tree (at the third commit) and
 * the base commit.
 */
function seriesRepo(): { dir: string; base: string } {
  const dir = gitRepo({
    [`${CRATE}/lib.rs`]: LIB,
    [`${CRATE}/ring.rs`]: RING,
    [`${CRATE}/work.rs`]: WORK,
    [`${CRATE}/old.rs`]: WORK_ITEM_BUG,
    [`${CRATE}/Makefile`]: 'obj-m += nic.o\n',
    README: 'tree\n',
  });
  const base = git(dir, 'rev-parse', 'HEAD').trim();
  edit(dir, `${CRATE}/lib.rs`, (t) => t.replace('\n', '\n// A network card with one ring.\n'));
  git(dir, 'commit', '-q', '-am', 'rust: nic: describe the driver');
  edit(dir, `${CRATE}/work.rs`, callHelperFromWorkItem);
  git(dir, 'commit', '-q', '-am', 'rust: nic: refill the ring when polling');
  edit(dir, `${CRATE}/work.rs`, (t) => t.replace('struct Poll {', '/// Polls the card.\nstruct Poll {'));
  git(dir, 'commit', '-q', '-am', 'rust: nic: document the poll work');
  return { dir, base };
}

/** The series as `git format-patch` files outside the tree, and the tree reset to its base. */
function formatPatches(): { dir: string; patches: string[] } {
  const { dir, base } = seriesRepo();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-patches-'));
  git(dir, 'format-patch', '-q', '-o', out, `${base}..HEAD`);
  git(dir, 'reset', '-q', '--hard', base);
  return { dir, patches: fs.readdirSync(out).sort().map((f) => path.join(out, f)) };
}

function untouched(dir: string, head: string): void {
  expect(git(dir, 'status', '--porcelain')).toBe('');
  expect(git(dir, 'rev-parse', 'HEAD').trim()).toBe(head);
  expect(git(dir, 'worktree', 'list').trim().split('\n')).toHaveLength(1);
}

describe('dmalint patch', () => {
  it('reports the finding the second of three patches introduces, under its subject', () => {
    const { dir, patches } = formatPatches();
    expect(patches).toHaveLength(3);
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    const r = runCli(['patch', ...patches], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const sections = r.stdout.split(/^(?=\[\d\/3\] rust)/m);
    expect(sections).toHaveLength(3);
    expect(sections[0]).toMatch(/^\[1\/3\] rust: nic: describe the driver\n\[1\/3\] no findings introduced/);
    expect(sections[1]).toMatch(/^\[2\/3\] rust: nic: refill the ring when polling\nerror\[coherent_outside_probe\]/);
    expect(sections[1]).toContain(`--> ${CRATE}/ring.rs:7:5`);
    expect(sections[1]).toContain('[2/3] 1 error, 0 warnings introduced');
    // The bug is still there after the third patch, but that patch did not introduce it.
    expect(sections[2]).toMatch(/^\[3\/3\] rust: nic: document the poll work\n\[3\/3\] no findings introduced/);
    expect(sections[2]).toContain('total: 1 error, 0 warnings introduced by 1 of 3 patches');
    untouched(dir, head);
  });

  it('reads an mbox of several patches, from a subfolder of the tree, as JSON', () => {
    const { dir, patches } = formatPatches();
    const mbox = path.join(path.dirname(patches[0]!), 'series.mbox');
    fs.writeFileSync(mbox, patches.map((p) => fs.readFileSync(p, 'utf8')).join(''));
    const r = runCli(['patch', '--format', 'json', mbox], { cwd: path.join(dir, CRATE) });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.patches.map((p: { subject: string }) => p.subject)).toEqual([
      'rust: nic: describe the driver',
      'rust: nic: refill the ring when polling',
      'rust: nic: document the poll work',
    ]);
    expect(report.patches.map((p: { findings: unknown[] }) => p.findings.length)).toEqual([0, 1, 0]);
    expect(report.patches[1].findings[0]).toMatchObject({ rule: 'coherent_outside_probe', file: `${CRATE}/ring.rs`, line: 7 });
    expect(report.summary).toEqual({ patches: 3, patchesWithFindings: 1, errors: 1, warnings: 0 });
  });

  it('--git A..B checks the commits of a range; SARIF names the patch of each result', () => {
    const { dir, base } = seriesRepo();
    const r = runCli(['patch', '--git', `${base}..HEAD`, '--format', 'sarif'], { cwd: dir });
    expect(r.code).toBe(1);
    const results = JSON.parse(r.stdout).runs[0].results;
    expect(results).toHaveLength(1);
    expect(results[0].properties).toMatchObject({ patch: 2, patchSubject: 'rust: nic: refill the ring when polling' });
    expect(results[0].locations[0].physicalLocation.artifactLocation.uri).toBe(`${CRATE}/ring.rs`);
    const short = runCli(['patch', '--git', 'HEAD', '--format', 'short'], { cwd: dir });
    expect(short.code).toBe(0);
    expect(short.stdout).toBe('[1/1] rust: nic: document the poll work: no findings introduced (4 files checked)\ntotal: no findings introduced by 1 patch\n');
  });

  it('a patch that does not apply exits 2 with git\'s message, leaving the tree as it was', () => {
    const { dir, patches } = formatPatches();
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    // A patch made against a tree where the poll work printed something else.
    const stale = path.join(path.dirname(patches[1]!), 'stale.patch');
    const text = fs.readFileSync(patches[1]!, 'utf8');
    fs.writeFileSync(stale, text.replace(/^ {9}pr_info!\("poll/m, '         pr_info!("ping'));
    expect(fs.readFileSync(stale, 'utf8')).not.toBe(text);
    const r = runCli(['patch', patches[0]!, stale], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error: patch 2 (rust: nic: refill the ring when polling) does not apply:');
    expect(r.stderr).toContain(`error: ${CRATE}/work.rs: patch does not apply`);
    untouched(dir, head);
  });

  it('check --diff refuses a patch that is not applied, and points at dmalint patch', () => {
    const { dir, patches } = formatPatches();
    const r = runCli(['check', '--diff', patches[1]!, CRATE], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: the diff in ${patches[1]} is not applied here: ${CRATE}/work.rs:`);
    expect(r.stderr).toContain(`help: apply it first (\`git am\`, \`git apply\`), or check it before applying with \`dmalint patch ${patches[1]}\``);
    git(dir, 'am', '-q', patches[0]!, patches[1]!);
    const applied = runCli(['check', '--format', 'short', '--diff', patches[1]!, CRATE], { cwd: dir });
    expect(applied.code).toBe(1);
    expect(applied.stdout).toMatch(new RegExp(`^${CRATE}/ring\\.rs:7:5: error\\[coherent_outside_probe\\]`));
  });

  it('a patch that touches no Rust file, and usage errors', () => {
    const { dir } = seriesRepo();
    fs.writeFileSync(path.join(dir, 'README'), 'tree, described\n');
    const patch = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-patches-')), 'readme.patch');
    fs.writeFileSync(patch, git(dir, 'diff'));
    git(dir, 'checkout', '-q', '--', 'README');
    const r = runCli(['patch', patch], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[1/1] touches no Rust file');
    expect(runCli(['patch'], { cwd: dir }).stderr).toContain('error: give the patch files to check');
    const outside = runCli(['patch', patch], { cwd: fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-nogit-')) });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toBe('error: dmalint patch applies the series to a git tree; run it inside one\n');
    expect(runCli(['patch', path.join(dir, 'missing.patch')], { cwd: dir }).stderr).toMatch(/error: cannot read .*missing\.patch: no such file/);
  });
});
