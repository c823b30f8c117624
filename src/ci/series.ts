// A patch series as `dmalint patch` reviews it: the patches of `git format-patch` files or an
// mbox, or the commits of a range, replayed one by one in a temporary worktree so that the
// user's working tree and index are never touched.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../lint/run.js';
import { parseUnifiedDiff } from './diff.js';
import { git, GitError, gitResult, repositoryRoot, resolveCommit } from './git.js';

export interface SeriesPatch {
  /** 1-based position in the series. */
  index: number;
  /** The mail's subject without `[PATCH n/m]`, or the commit's subject. */
  subject: string;
  /** The file it came from, or the commit. */
  origin: string;
  /** The unified diff (mail text around it is kept; git ignores it). */
  diff: string;
  /** Set for commits of a range: the states before and after the patch are these commits. */
  commit?: string;
  parent?: string;
}

/** A patch that git refused, with git's own message. */
export class PatchApplyError extends UsageError {
  constructor(readonly patch: SeriesPatch, readonly gitMessage: string) {
    super(`patch ${patch.index} (${patch.subject}) does not apply:\n${gitMessage.trimEnd()}`);
    this.name = 'PatchApplyError';
  }
}

function usage(e: unknown, what: string): never {
  if (e instanceof GitError) throw new UsageError(`${what}: ${e.message}`);
  throw e;
}

/** An mbox starts with a `From ` separator line; `git format-patch` writes one per patch. */
function isMbox(text: string): boolean {
  return text.startsWith('From ');
}

/** Subject and diff of one mail, as `git am` would read them. */
function readMail(text: string, scratch: string, root: string): { subject: string; diff: string } {
  const msg = path.join(scratch, 'msg');
  const patch = path.join(scratch, 'patch');
  const info = git(['mailinfo', '-u', msg, patch], root, text);
  const subject = /^Subject: (.*)$/m.exec(info)?.[1]?.trim() ?? '';
  return { subject, diff: fs.readFileSync(patch, 'utf8') };
}

/**
 * The patches of `files`, in order: each file is a mail (`git format-patch` output), an mbox of
 * several, or a bare diff. Mails without a diff (a cover letter) are skipped.
 */
export function readPatchFiles(files: readonly string[], root: string): SeriesPatch[] {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-mail-'));
  try {
    const out: SeriesPatch[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      const mails = isMbox(text) ? splitMbox(file, scratch, root) : [text];
      mails.forEach((mail, i) => {
        let parsed: { subject: string; diff: string };
        try {
          parsed = readMail(mail, scratch, root);
        } catch (e) {
          usage(e, `${file}: cannot read the mail`);
        }
        if (parseUnifiedDiff(parsed.diff).length === 0) return;
        const name = mails.length > 1 ? `${file} (mail ${i + 1})` : file;
        out.push({ index: out.length + 1, subject: parsed.subject || path.basename(file), origin: name, diff: parsed.diff });
      });
    }
    if (out.length === 0) throw new UsageError(`no patch found in ${files.join(', ')}`);
    return out;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function splitMbox(file: string, scratch: string, root: string): string[] {
  const dir = path.join(scratch, 'split');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  try {
    git(['mailsplit', '-o' + dir, path.resolve(file)], root);
  } catch (e) {
    usage(e, `${file}: not a readable mbox`);
  }
  return fs.readdirSync(dir).sort().map((name) => fs.readFileSync(path.join(dir, name), 'utf8'));
}

/** The commits of `range` (`A..B`, or one commit), oldest first, without merges. */
export function readCommitRange(range: string, root: string): { base: string; patches: SeriesPatch[] } {
  if (range.startsWith('-')) throw new UsageError(`--git: \`${range}\` is not a revision range`);
  let commits: string[];
  try {
    const args = range.includes('..') ? ['rev-list', '--reverse', '--no-merges', range, '--'] : ['rev-list', '--no-merges', '-1', resolveCommit(range, root), '--'];
    commits = git(args, root).split('\n').filter(Boolean);
  } catch (e) {
    usage(e, `--git ${range}`);
  }
  if (commits.length === 0) throw new UsageError(`--git ${range}: the range has no commits`);
  const patches = commits.map((commit, i): SeriesPatch => {
    const subject = git(['log', '-1', '--format=%s', commit, '--'], root).trim();
    const parent = parentOf(commit, root);
    return { index: i + 1, subject, origin: commit.slice(0, 12), diff: commitDiff(parent, commit, root), commit, parent };
  });
  return { base: patches[0]!.parent!, patches };
}

function parentOf(commit: string, root: string): string {
  const r = gitResult(['rev-parse', '--verify', '--quiet', `${commit}^`], root);
  if (r.status !== 0) throw new UsageError(`--git: ${commit.slice(0, 12)} is a root commit; there is no tree before it to compare with`);
  return r.stdout.trim();
}

function commitDiff(parent: string, commit: string, root: string): string {
  return git(
    ['-c', 'core.quotePath=false', 'diff', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/', '--find-renames', parent, commit, '--'],
    root,
  );
}

/** Files a patch reads or writes, relative to the tree root. */
export function patchFiles(patch: SeriesPatch): { before: string[]; after: string[]; renames: Map<string, string> } {
  const before = new Set<string>();
  const after = new Set<string>();
  const renames = new Map<string, string>();
  for (const p of parseUnifiedDiff(patch.diff)) {
    if (p.oldPath !== undefined) before.add(p.oldPath);
    if (p.newPath !== undefined) after.add(p.newPath);
    if (p.oldPath !== undefined && p.newPath !== undefined && p.oldPath !== p.newPath) renames.set(p.oldPath, p.newPath);
  }
  return { before: [...before], after: [...after], renames };
}

/** A detached worktree of the repository at `start`, removed by `dispose`. */
export class ScratchTree {
  private constructor(readonly repoRoot: string, readonly dir: string, private readonly holder: string) {}

  static open(repoRoot: string, start: string): ScratchTree {
    const holder = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-series-'));
    const dir = path.join(holder, 'tree');
    try {
      git(['worktree', 'add', '--detach', '--quiet', dir, start], repoRoot);
    } catch (e) {
      fs.rmSync(holder, { recursive: true, force: true });
      usage(e, 'cannot create a temporary worktree');
    }
    return new ScratchTree(repoRoot, dir, holder);
  }

  /** Applies `patch` to the files (not the index); git's message when it does not apply. */
  apply(patch: SeriesPatch): void {
    const file = path.join(this.holder, 'current.patch');
    fs.writeFileSync(file, patch.diff);
    const r = gitResult(['apply', '--whitespace=nowarn', file], this.dir);
    if (r.status !== 0) throw new PatchApplyError(patch, r.stderr || r.stdout);
  }

  checkout(commit: string): void {
    try {
      git(['checkout', '--detach', '--quiet', '--force', commit], this.dir);
    } catch (e) {
      usage(e, `cannot check out ${commit.slice(0, 12)}`);
    }
  }

  dispose(): void {
    gitResult(['worktree', 'remove', '--force', this.dir], this.repoRoot);
    fs.rmSync(this.holder, { recursive: true, force: true });
    gitResult(['worktree', 'prune'], this.repoRoot);
  }
}

/** The repository holding `cwd`; `dmalint patch` applies the series to it. */
export function requireTree(cwd: string): string {
  const root = repositoryRoot(cwd);
  if (!root) throw new UsageError('dmalint patch applies the series to a git tree; run it inside one');
  return root;
}

export function headCommit(root: string): string {
  try {
    return resolveCommit('HEAD', root);
  } catch {
    throw new UsageError('the repository has no commit to apply the series onto');
  }
}
