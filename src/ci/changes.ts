// The lines a change touched (`--diff FILE|-`, `--changed-since REF`) and whether a finding
// touches them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_DIFF_BYTES, readOptionFile } from '../config/option-file.js';
import type { Finding, Location } from '../lint/types.js';
import { changedLinesByFile, DiffError, parseUnifiedDiff, type ChangedLines, type FilePatch, type Hunk } from './diff.js';
import { diffSince, GitError, repositoryRoot, requireRepositoryRoot, resolveCommit, untrackedFiles } from './git.js';
import { UsageError } from '../lint/run.js';

export interface ChangeSet {
  /** `the diff in patch.mbox`, `changes since origin/main`: for messages. */
  description: string;
  /** The folder the diff's paths are relative to. */
  root: string;
  /** Changed lines by real absolute path. */
  files: Map<string, ChangedLines>;
}

/** Absolute path with symbolic links resolved where the file exists, so paths compare equal. */
export function canonicalPath(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // A file that is gone: resolve its folder, which may still exist.
    try {
      return path.join(fs.realpathSync(path.dirname(file)), path.basename(file));
    } catch {
      return path.resolve(file);
    }
  }
}

function keyByAbsolutePath(byRelative: Map<string, ChangedLines>, root: string): Map<string, ChangedLines> {
  const out = new Map<string, ChangedLines>();
  for (const [rel, lines] of byRelative) out.set(canonicalPath(path.resolve(root, rel)), lines);
  return out;
}

/**
 * The folder git commands run in: the working directory, or when it is not in a repository, the
 * first linted path that is (`dmalint check --changed-since main ~/linux/drivers/foo`).
 */
export function gitStartFolder(cwd: string, paths: readonly string[]): string {
  if (repositoryRoot(cwd)) return cwd;
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const dir = fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs : path.dirname(abs);
    if (fs.existsSync(dir) && repositoryRoot(dir)) return dir;
  }
  return cwd;
}

/**
 * Reads a unified diff (`-` for standard input). Its paths are relative to the top of the
 * repository that holds `gitStart`, or to `cwd` outside a repository (or without git).
 */
export function changesFromDiff(file: string, cwd: string, gitStart: string, readStdin: () => string = () => readOptionFile(0, { maxBytes: MAX_DIFF_BYTES })): ChangeSet {
  let text: string;
  try {
    text = file === '-' ? readStdin() : readOptionFile(path.resolve(cwd, file), { maxBytes: MAX_DIFF_BYTES, streams: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${file}: no such diff file` : `${file === '-' ? 'standard input' : file}: cannot read the diff: ${(e as Error).message}`);
  }
  const name = file === '-' ? 'standard input' : file;
  const patches = parseDiffOrThrow(text, name);
  if (patches.length === 0 && text.trim() !== '') throw new UsageError(`${name}: no unified diff found (expected \`---\`/\`+++\` file headers and \`@@\` hunks)`);
  const root = canonicalPath(repositoryRoot(gitStart) ?? cwd);
  const unapplied = notAppliedAt(patches, root);
  if (unapplied) {
    throw new UsageError(
      `the diff in ${name} is not applied here: ${unapplied} still has the lines it removes\n` +
        `help: apply it first (\`git am\`, \`git apply\`), or check it before applying with \`dmalint patch ${file === '-' ? 'FILE' : file}\``,
    );
  }
  return { description: `the diff in ${name}`, root, files: keyByAbsolutePath(changedLinesByFile(patches), root) };
}

/** The lines a hunk expects before it (context and `-`) and after it (context and `+`), numbered. */
function hunkSides(h: Hunk): { before: [number, string][]; after: [number, string][] } {
  const before: [number, string][] = [];
  const after: [number, string][] = [];
  let oldLine = h.oldStart;
  let newLine = h.newStart;
  for (const b of h.body) {
    if (b[0] !== '+') before.push([oldLine++, b.slice(1)]);
    if (b[0] !== '-') after.push([newLine++, b.slice(1)]);
  }
  return { before, after };
}

function linesMatch(lines: readonly string[], expected: readonly [number, string][]): boolean {
  return expected.every(([n, text]) => lines[n - 1] === text);
}

/**
 * `file:line` when the diff is clearly not applied to the files under `root`: no hunk has its
 * new lines where the diff puts them, and some hunk still has its old lines where they were.
 * Only the last patch of each file is looked at (in a series, its line numbers are the final
 * ones); new and missing files prove nothing either way.
 */
export function notAppliedAt(patches: readonly FilePatch[], root: string): string | undefined {
  const last = new Map<string, FilePatch>();
  for (const p of patches) if (p.newPath !== undefined && p.oldPath !== undefined) last.set(p.newPath, p);
  let evidence: string | undefined;
  for (const [file, p] of last) {
    let text: string;
    try {
      text = fs.readFileSync(path.resolve(root, file), 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    for (const h of p.hunks) {
      const { before, after } = hunkSides(h);
      if (after.length > 0 && linesMatch(lines, after)) return undefined;
      // Blank lines and braces may well be found again by chance; code with substance is not.
      const substantial = before.some(([, t]) => t.trim().length > 3);
      if (evidence === undefined && substantial && linesMatch(lines, before)) evidence = `${file}:${h.oldStart}`;
    }
  }
  return evidence;
}

function parseDiffOrThrow(text: string, name: string) {
  try {
    return parseUnifiedDiff(text);
  } catch (e) {
    if (e instanceof DiffError) throw new UsageError(`${name}: ${e.message}`);
    throw e;
  }
}

/**
 * `git diff REF` against the working tree (staged and unstaged changes), plus the files git
 * does not track yet (all their lines count as changed): a new driver file is checked before it
 * is added.
 */
export function changesSince(ref: string, cwd: string): ChangeSet {
  try {
    const root = requireRepositoryRoot(cwd);
    const commit = resolveCommit(ref, root);
    const byRelative = changedLinesByFile(parseDiffOrThrow(diffSince(commit, root), `git diff ${ref}`));
    for (const f of untrackedFiles(root)) byRelative.set(f, { lines: new Set(), all: true });
    const canonicalRoot = canonicalPath(root);
    return { description: `changes since ${ref}`, root: canonicalRoot, files: keyByAbsolutePath(byRelative, canonicalRoot) };
  } catch (e) {
    if (e instanceof GitError) throw new UsageError(`--changed-since: ${e.message}`);
    throw e;
  }
}

export function locationTouches(loc: Location, changes: ChangeSet, keyOf: (file: string) => string): boolean {
  const changed = changes.files.get(keyOf(loc.file));
  if (!changed) return false;
  if (changed.all) return true;
  const last = Math.max(loc.span.line, loc.span.endLine);
  for (let line = loc.span.line; line <= last; line++) if (changed.lines.has(line)) return true;
  return false;
}

/** The finding's primary location or one of its related locations is on a changed line. */
export function findingTouches(f: Finding, changes: ChangeSet, keyOf: (file: string) => string): boolean {
  return locationTouches(f.primary, changes, keyOf) || f.related.some((r) => locationTouches(r, changes, keyOf));
}

/** Maps a finding's file (relative to `cwd` or absolute) to a change set key, caching realpath calls. */
export function fileKeyer(cwd: string): (file: string) => string {
  const cache = new Map<string, string>();
  return (file) => {
    let key = cache.get(file);
    if (key === undefined) {
      key = canonicalPath(path.resolve(cwd, file));
      cache.set(file, key);
    }
    return key;
  };
}
