// Baselines and diff-aware runs through the built CLI, in real git repositories.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORK_ITEM_BUG, runCli, tempTree } from './cli-helpers.js';
import { NEW_BUG, OLD_BUG, callHelperFromWorkItem, crateRepo, edit, git } from './git-crate.js';

/** `file:line` of each finding in a `--format short` report. */
function shortFindings(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => /^(\S+:\d+):\d+: (?:error|warning)\[/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

// ---------------------------------------------------------------------------------------------

describe('dmalint check --diff and --changed-since', () => {
  it('the crate has the old bug, and the change adds one in a file it does not touch', () => {
    const dir = crateRepo();
    expect(shortFindings(runCli(['check', '--format', 'short', '.'], { cwd: dir }).stdout)).toEqual([OLD_BUG]);
    edit(dir, 'work.rs', callHelperFromWorkItem);
    const r = runCli(['check', '.'], { cwd: dir });
    expect(r.stdout).toMatch(/--> ring\.rs:7:\d+[\s\S]*--> work\.rs:16:\d+/);
    expect(shortFindings(runCli(['check', '--format', 'short', '.'], { cwd: dir }).stdout)).toEqual([OLD_BUG, NEW_BUG]);
  });

  it('--diff with a patch made by git diff reports only the findings that touch it', () => {
    const dir = crateRepo();
    edit(dir, 'work.rs', callHelperFromWorkItem);
    fs.writeFileSync(path.join(dir, 'change.patch'), git(dir, 'diff'));
    const r = runCli(['check', '--format', 'short', '--diff', 'change.patch', '.'], { cwd: dir });
    expect(shortFindings(r.stdout)).toEqual([NEW_BUG]);
    expect(r.stdout).toContain('only findings that touch the diff in change.patch are shown: 1 other finding not shown');
    expect(r.code).toBe(1);
    // Without the whole crate the helper's finding cannot be seen: the analysis is not limited to the diff.
    expect(shortFindings(runCli(['check', '--format', 'short', 'work.rs'], { cwd: dir }).stdout)).toEqual([]);
  });

  it('--diff - reads the patch from standard input; CRLF patches work too', () => {
    const dir = crateRepo();
    edit(dir, 'work.rs', callHelperFromWorkItem);
    const patch = git(dir, 'diff');
    const stdin = runCli(['check', '--format', 'short', '--diff', '-', '.'], { cwd: dir, input: patch });
    expect(shortFindings(stdin.stdout)).toEqual([NEW_BUG]);
    const crlf = runCli(['check', '--format', 'short', '--diff', '-', '.'], { cwd: dir, input: patch.replace(/\n/g, '\r\n') });
    expect(shortFindings(crlf.stdout)).toEqual([NEW_BUG]);
  });

  it('--diff with a mailed series from git format-patch, checked after git am', () => {
    const dir = crateRepo();
    edit(dir, 'work.rs', callHelperFromWorkItem);
    git(dir, 'commit', '-q', '-am', 'work: allocate the ring when polling');
    edit(dir, 'work.rs', (t) => t.replace('struct Poll {', '/// Polls the rings.\nstruct Poll {'));
    git(dir, 'commit', '-q', '-am', 'work: document Poll');
    const mbox = git(dir, 'format-patch', '-2', '--stdout');
    expect(mbox).toContain('Subject: [PATCH 1/2]');
    fs.writeFileSync(path.join(dir, 'series.mbox'), mbox);
    const r = runCli(['check', '--format', 'short', '--diff', 'series.mbox', '.'], { cwd: dir });
    // Patch 2 moved the call of patch 1 down a line; the finding is still on the change.
    expect(shortFindings(r.stdout)).toEqual([NEW_BUG]);
    expect(r.stdout).toContain('1 other finding not shown');
  });

  it('a change that touches only lines away from every finding reports nothing and exits 0', () => {
    const dir = crateRepo();
    edit(dir, 'lib.rs', (t) => t.replace('struct Nic {', '/// The device.\nstruct Nic {'));
    const r = runCli(['check', '--format', 'short', '--changed-since', 'HEAD', '.'], { cwd: dir });
    expect(shortFindings(r.stdout)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 other finding not shown');
  });

  it('--changed-since REF diffs the working tree and counts untracked files as changed', () => {
    const dir = crateRepo();
    edit(dir, 'work.rs', callHelperFromWorkItem);
    expect(shortFindings(runCli(['check', '--format', 'short', '--changed-since', 'HEAD', '.'], { cwd: dir }).stdout)).toEqual([NEW_BUG]);
    git(dir, 'add', 'work.rs');
    git(dir, 'commit', '-q', '-m', 'change');
    expect(shortFindings(runCli(['check', '--format', 'short', '--changed-since', 'HEAD~1', '.'], { cwd: dir }).stdout)).toEqual([NEW_BUG]);
    expect(shortFindings(runCli(['check', '--format', 'short', '--changed-since', 'HEAD', '.'], { cwd: dir }).stdout)).toEqual([]);
    // A new file not yet added to git.
    fs.writeFileSync(path.join(dir, 'fresh.rs'), WORK_ITEM_BUG);
    expect(shortFindings(runCli(['check', '--format', 'short', '--changed-since', 'HEAD', '.'], { cwd: dir }).stdout)).toEqual(['fresh.rs:16']);
  });

  it('maps the repository-relative paths of the diff when run from a subfolder', () => {
    const dir = crateRepo('drivers/net/nic/');
    edit(dir, 'drivers/net/nic/work.rs', callHelperFromWorkItem);
    const patch = path.join(dir, 'change.patch');
    fs.writeFileSync(patch, git(dir, 'diff'));
    const sub = path.join(dir, 'drivers', 'net');
    expect(shortFindings(runCli(['check', '--format', 'short', '--diff', patch, 'nic'], { cwd: sub }).stdout)).toEqual([`nic/${NEW_BUG}`]);
    expect(shortFindings(runCli(['check', '--format', 'short', '--changed-since', 'HEAD', 'nic'], { cwd: sub }).stdout)).toEqual([`nic/${NEW_BUG}`]);
    // From outside the repository, git is asked about the linted folder.
    const outside = runCli(['check', '--format', 'short', '--changed-since', 'HEAD', path.join(sub, 'nic')], { cwd: os.tmpdir() });
    expect(outside.stderr).not.toContain('error');
    expect(outside.code).toBe(1);
    expect(outside.stdout).toMatch(/nic\/ring\.rs:7:/);
  });

  it('clear errors (exit 2) for an unknown revision, no repository, no git, and a missing or damaged patch', () => {
    const dir = crateRepo();
    const unknown = runCli(['check', '--changed-since', 'no-such-branch', '.'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('error: --changed-since: unknown revision `no-such-branch` (is it fetched? shallow clones need `fetch-depth: 0` or a fetch of the base)\n');

    const plain = tempTree({ 'x.rs': WORK_ITEM_BUG });
    const noRepo = runCli(['check', '--changed-since', 'HEAD', '.'], { cwd: plain });
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toMatch(/^error: --changed-since: .* is not inside a git repository\n$/);

    const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-nogit-'));
    const noGit = runCli(['check', '--changed-since', 'HEAD', '.'], { cwd: dir, env: { PATH: emptyPath } });
    expect(noGit.code).toBe(2);
    expect(noGit.stderr).toBe('error: --changed-since: git was not found on PATH (use `--diff FILE` with a patch instead)\n');

    const missing = runCli(['check', '--diff', 'nope.patch', '.'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: nope.patch: no such diff file\n');

    fs.writeFileSync(path.join(dir, 'bad.patch'), '--- a/work.rs\n+++ b/work.rs\n@@ -1,3 +1,3 @@\n a\n');
    const damaged = runCli(['check', '--diff', 'bad.patch', '.'], { cwd: dir });
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toMatch(/^error: bad\.patch: line 3: the hunk `@@ -1,3 \+1,3 @@` does not have the lines its header counts/);

    fs.writeFileSync(path.join(dir, 'words.txt'), 'not a diff\n');
    expect(runCli(['check', '--diff', 'words.txt', '.'], { cwd: dir }).stderr).toMatch(/no unified diff found/);

    const both = runCli(['check', '--diff', 'a', '--changed-since', 'HEAD', '.'], { cwd: dir });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with/);
  });
});

// ---------------------------------------------------------------------------------------------

const BUG_LINE = '        let ring = CoherentAllocation::<u64>::alloc_coherent(&this.dev, 64, GFP_KERNEL);\n';

const SECOND_BUG = `
struct Flush {
    dev: ARef<Device>,
}

impl WorkItem for Flush {
    type Pointer = Arc<Flush>;

    fn run(this: Arc<Flush>) {
        let buf = CoherentAllocation::<u8>::alloc_coherent(&this.dev, 4096, GFP_KERNEL);
        let _ = buf;
    }
}
`;

function readBaseline(dir: string, name = 'dmalint-baseline.json') {
  return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { version: number; tool: string; entries: Record<string, unknown>[] };
}

describe('dmalint baseline and check --baseline', () => {
  it('round trip: a line added above is still baselined, a new bug is reported, a fixed bug is stale', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    const written = runCli(['baseline'], { cwd: dir });
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('wrote 1 entry to dmalint-baseline.json\n');
    const doc = readBaseline(dir);
    expect(doc.version).toBe(1);
    expect(doc.tool).toBe('dmalint');
    expect(doc.entries).toEqual([
      expect.objectContaining({ rule: 'coherent_outside_probe', file: 'refill.rs', item: expect.stringContaining('run'), occurrence: 1 }),
    ]);

    const clean = runCli(['check', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^no findings in 1 file checked in [\d.]+s\nbaseline dmalint-baseline\.json: 1 finding not shown\n$/);

    // Add a line right above the finding and more at the top of the file.
    edit(dir, 'refill.rs', (t) => `// Ring refill.\n\n${t.replace(BUG_LINE, `        pr_info!("refilling\\n");\n${BUG_LINE}`)}`);
    const moved = runCli(['check', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('1 finding not shown');

    // A new bug in another item is reported, the old one still is not.
    edit(dir, 'refill.rs', (t) => t + SECOND_BUG);
    const added = runCli(['check', '--format', 'short', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(added.code).toBe(1);
    expect(shortFindings(added.stdout)).toEqual(['refill.rs:32']);
    expect(added.stdout).toContain('baseline dmalint-baseline.json: 1 finding not shown\n');

    // Fix the old bug: its entry is stale, reported as a note; it does not fail the run.
    edit(dir, 'refill.rs', (t) => t.replace(BUG_LINE, '        let _ = &this.dev;\n').replace(SECOND_BUG, ''));
    const fixed = runCli(['check', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toMatch(/^note: baseline entry no longer matches a finding: coherent_outside_probe at refill\.rs in `[^`]*run[^`]*`: /m);
    expect(fixed.stdout).toContain('baseline dmalint-baseline.json: 0 findings not shown; 1 entry no longer matches (remove with --update-baseline)\n');
    expect(readBaseline(dir).entries).toHaveLength(1);

    // --update-baseline drops it, atomically (no temporary file left behind).
    const updated = runCli(['check', '--baseline', 'dmalint-baseline.json', '--update-baseline'], { cwd: dir });
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain('1 entry no longer matched and was removed; rewrote it with 0 entries');
    expect(readBaseline(dir).entries).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['dmalint-baseline.json', 'refill.rs']);
    expect(runCli(['check', '--baseline', 'dmalint-baseline.json'], { cwd: dir }).stdout).not.toContain('no longer');
  });

  it('--update-baseline never adds new findings; `dmalint baseline` accepts them', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    runCli(['baseline'], { cwd: dir });
    edit(dir, 'refill.rs', (t) => `// moved\n${t}${SECOND_BUG}`);
    const before = fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8');
    const r = runCli(['check', '--format', 'short', '--baseline', 'dmalint-baseline.json', '--update-baseline'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(shortFindings(r.stdout)).toEqual(['refill.rs:30']);
    expect(fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8')).toBe(before);
    expect(runCli(['baseline'], { cwd: dir }).stdout).toBe('wrote 2 entries to dmalint-baseline.json\n');
    expect(runCli(['check', '--baseline', 'dmalint-baseline.json'], { cwd: dir }).code).toBe(0);
  });

  it('a run that could not read every file neither writes nor shrinks a baseline', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    runCli(['baseline'], { cwd: dir });
    const before = fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8');
    edit(dir, 'refill.rs', (t) => t.replace(BUG_LINE, '        let _ = &this.dev;\n'));
    fs.writeFileSync(path.join(dir, 'blob.rs'), Buffer.from([0x66, 0x6e, 0x00, 0x01, 0x02]));
    const update = runCli(['check', '--baseline', 'dmalint-baseline.json', '--update-baseline'], { cwd: dir });
    expect(update.code).toBe(2);
    expect(update.stdout).toContain('1 entry no longer matches (remove with --update-baseline); not rewritten because some files could not be checked');
    expect(fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8')).toBe(before);
    const write = runCli(['baseline'], { cwd: dir });
    expect(write.code).toBe(2);
    expect(write.stderr).toContain('dmalint-baseline.json was not written');
    expect(fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8')).toBe(before);
  });

  it('the file is byte-stable and its paths are relative to it, wherever dmalint runs', () => {
    const dir = tempTree({ 'drivers/a/refill.rs': WORK_ITEM_BUG, 'drivers/b/flush.rs': WORK_ITEM_BUG + SECOND_BUG });
    runCli(['baseline', 'drivers'], { cwd: dir });
    const first = fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8');
    expect(readBaseline(dir).entries.map((e) => e.file)).toEqual(['drivers/a/refill.rs', 'drivers/b/flush.rs', 'drivers/b/flush.rs']);
    runCli(['baseline', '.', '-o', '../../dmalint-baseline.json'], { cwd: path.join(dir, 'drivers', 'a') });
    runCli(['baseline', 'drivers'], { cwd: dir });
    expect(fs.readFileSync(path.join(dir, 'dmalint-baseline.json'), 'utf8')).toBe(first);
    const fromSub = runCli(['check', '--baseline', '../../dmalint-baseline.json', '.'], { cwd: path.join(dir, 'drivers', 'b') });
    expect(fromSub.code).toBe(0);
    expect(fromSub.stdout).toContain('2 findings not shown');
  });

  it('entries of files and rules not checked in this run are kept, not stale', () => {
    const dir = tempTree({ 'drivers/a/refill.rs': WORK_ITEM_BUG, 'drivers/b/flush.rs': WORK_ITEM_BUG });
    runCli(['baseline', 'drivers'], { cwd: dir });
    edit(dir, 'drivers/a/refill.rs', (t) => t.replace(BUG_LINE, '        let _ = &this.dev;\n'));
    const r = runCli(['check', '--baseline', 'dmalint-baseline.json', '--update-baseline', 'drivers/a'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('1 entry no longer matched and was removed; rewrote it with 1 entry');
    expect(readBaseline(dir).entries.map((e) => e.file)).toEqual(['drivers/b/flush.rs']);
    // A run limited to another rule judges no entry.
    const other = runCli(['check', '--rule', 'revocable_dma_addr', '--baseline', 'dmalint-baseline.json', 'drivers'], { cwd: dir });
    expect(other.stdout).not.toContain('no longer');
    // The entries of a deleted file are stale.
    fs.rmSync(path.join(dir, 'drivers', 'b'), { recursive: true });
    expect(runCli(['check', '--baseline', 'dmalint-baseline.json', 'drivers'], { cwd: dir }).stdout).toContain('1 entry no longer matches');
  });

  it('machine formats stay clean: baseline notes go to standard error', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG });
    runCli(['baseline'], { cwd: dir });
    edit(dir, 'refill.rs', (t) => t + SECOND_BUG);
    const json = runCli(['check', '--format', 'json', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    const doc = JSON.parse(json.stdout);
    expect(doc.findings.map((f: { line: number }) => f.line)).toEqual([29]);
    expect(json.stderr).toBe('baseline dmalint-baseline.json: 1 finding not shown\n');
    const github = runCli(['check', '--format', 'github', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(github.stdout.match(/^::error /gm)).toHaveLength(1);
    expect(github.stdout).toContain('line=29');
    const quiet = runCli(['check', '--quiet', '--format', 'json', '--baseline', 'dmalint-baseline.json'], { cwd: dir });
    expect(quiet.stderr).toBe('');
  });

  it('baseline and diff together: only new findings on the change', () => {
    const dir = crateRepo();
    runCli(['baseline'], { cwd: dir });
    edit(dir, 'work.rs', callHelperFromWorkItem);
    edit(dir, 'old.rs', (t) => t + SECOND_BUG);
    const r = runCli(['check', '--format', 'short', '--baseline', 'dmalint-baseline.json', '--changed-since', 'HEAD', '.'], { cwd: dir });
    expect(shortFindings(r.stdout)).toEqual(['old.rs:29', NEW_BUG]);
    expect(r.stdout).toContain('1 finding not shown');
  });

  it('bad baselines and options are clear errors (exit 2)', () => {
    const dir = tempTree({ 'refill.rs': WORK_ITEM_BUG, 'bad.json': '{"tool": "dmalint", "version": 9, "entries": []}', 'junk.json': '{' });
    const missing = runCli(['check', '--baseline', 'none.json'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('error: none.json: no such baseline file (create it with `dmalint baseline`)\n');
    const version = runCli(['check', '--baseline', 'bad.json'], { cwd: dir });
    expect(version.code).toBe(2);
    expect(version.stderr).toBe('error: bad.json: baseline version 9 is not supported (this dmalint reads version 1)\n');
    const junk = runCli(['check', '--baseline', 'junk.json'], { cwd: dir });
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/^error: junk\.json: not valid JSON: /);
    expect(junk.stderr).not.toMatch(/\n\s+at /);
    const noFile = runCli(['check', '--update-baseline'], { cwd: dir });
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe('error: --update-baseline needs --baseline FILE\n');
  });
});
