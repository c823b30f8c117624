// Unified diffs: which lines of which files a change touched, in the coordinates of the tree
// after the change. Reads `git diff` output, patches mailed for review (an mbox with one patch or
// a whole series) and plain `diff -u` output.

export interface Hunk {
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  /** The hunk's body lines with their first character (' ', '-', '+'); `\ No newline` markers dropped. */
  body: string[];
}

export interface FilePatch {
  /** Path before the change, prefix stripped; undefined for a new file. */
  oldPath?: string;
  /** Path after the change, prefix stripped; undefined for a deleted file. */
  newPath?: string;
  hunks: Hunk[];
}

/** Changed lines of one file, 1-based, in the file as it is after the whole diff. */
export interface ChangedLines {
  lines: Set<number>;
  /** Every line counts as changed (an untracked file, for example). */
  all: boolean;
}

export class DiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiffError';
  }
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Parses every file section of a unified diff, in order. Text outside file sections (mail
 * headers, commit messages, diffstats, signatures) is skipped. Hunk bodies are consumed by their
 * line counts, so a removed line whose text starts with `-- ` is not taken for a file header.
 */
export function parseUnifiedDiff(text: string): FilePatch[] {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // The final newline ends the last line; it does not start an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const patches: FilePatch[] = [];
  let git: GitSection | undefined;
  let current: FilePatch | undefined;

  const finishGitSection = () => {
    // A rename or mode change without content has no `---`/`+++` lines: record it from the header.
    if (git && !git.emitted) {
      const oldPath = git.renameFrom ?? git.headerOld;
      const newPath = git.renameTo ?? git.headerNew;
      if (oldPath !== undefined || newPath !== undefined) {
        patches.push({ oldPath: git.isNew ? undefined : oldPath, newPath: git.isDeleted ? undefined : newPath, hunks: [] });
      }
    }
    git = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('diff --git ')) {
      finishGitSection();
      current = undefined;
      const names = splitGitHeaderNames(line.slice('diff --git '.length));
      const stripped = names ? stripPrefixes(names[0], names[1]) : undefined;
      git = { headerOld: stripped?.[0], headerNew: stripped?.[1], isNew: false, isDeleted: false, emitted: false };
      continue;
    }
    if (git && !git.emitted) {
      if (line.startsWith('new file mode')) git.isNew = true;
      else if (line.startsWith('deleted file mode')) git.isDeleted = true;
      else if (/^(rename|copy) from /.test(line)) git.renameFrom = unquotePath(line.replace(/^(rename|copy) from /, ''));
      else if (/^(rename|copy) to /.test(line)) git.renameTo = unquotePath(line.replace(/^(rename|copy) to /, ''));
    }
    if (line.startsWith('--- ') && i + 1 < lines.length && lines[i + 1].startsWith('+++ ')) {
      const oldRaw = headerPath(line.slice(4));
      const newRaw = headerPath(lines[i + 1].slice(4));
      const [oldPath, newPath] = stripPrefixes(oldRaw, newRaw);
      current = {
        oldPath: oldRaw === '/dev/null' ? undefined : (git?.renameFrom ?? oldPath),
        newPath: newRaw === '/dev/null' ? undefined : (git?.renameTo ?? newPath),
        hunks: [],
      };
      patches.push(current);
      if (git) git.emitted = true;
      i++;
      continue;
    }
    const m = HUNK_HEADER.exec(line);
    if (m && current) {
      const hunk: Hunk = {
        oldStart: Number(m[1]),
        oldCount: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newCount: m[4] === undefined ? 1 : Number(m[4]),
        body: [],
      };
      const headerLine = i + 1;
      let oldLeft = hunk.oldCount;
      let newLeft = hunk.newCount;
      while ((oldLeft > 0 || newLeft > 0) && i + 1 < lines.length) {
        const next = lines[i + 1];
        const kind = next[0];
        if (kind === '\\') {
          i++;
          continue;
        }
        // Some mailers strip the single space of an empty context line.
        if (kind === ' ' || next === '') {
          oldLeft--;
          newLeft--;
          hunk.body.push(next === '' ? ' ' : next);
        } else if (kind === '-') {
          oldLeft--;
          hunk.body.push(next);
        } else if (kind === '+') {
          newLeft--;
          hunk.body.push(next);
        } else break;
        i++;
      }
      if (oldLeft !== 0 || newLeft !== 0) {
        throw new DiffError(`line ${headerLine}: the hunk \`${line}\` does not have the lines its header counts (the patch may be damaged)`);
      }
      // A trailing `\ No newline at end of file` belongs to this hunk.
      while (i + 1 < lines.length && lines[i + 1].startsWith('\\')) i++;
      current.hunks.push(hunk);
    }
  }
  finishGitSection();
  return patches;
}

interface GitSection {
  /** Names from the `diff --git` line, prefixes stripped (a best guess when names have spaces). */
  headerOld?: string;
  headerNew?: string;
  /** Exact names from `rename from`/`rename to` (or `copy`) lines. */
  renameFrom?: string;
  renameTo?: string;
  isNew: boolean;
  isDeleted: boolean;
  /** Its `---`/`+++` lines were seen, so the patch is already recorded. */
  emitted: boolean;
}

/** `a/x.rs\t2024-01-01 ...` gives `a/x.rs`; C-quoted names are unquoted. */
function headerPath(raw: string): string {
  if (raw.startsWith('"')) return unquotePath(raw);
  const tab = raw.indexOf('\t');
  return (tab >= 0 ? raw.slice(0, tab) : raw).trimEnd();
}

/** The two names of `diff --git A B`: quoted, or unquoted and split where both halves agree. */
function splitGitHeaderNames(rest: string): [string, string] | undefined {
  if (rest.startsWith('"')) {
    const end = quotedEnd(rest);
    if (end < 0) return undefined;
    const first = unquotePath(rest.slice(0, end + 1));
    const second = rest.slice(end + 1).trim();
    return [first, unquotePath(second)];
  }
  if (rest.endsWith('"')) {
    const start = rest.lastIndexOf(' "');
    if (start < 0) return undefined;
    return [rest.slice(0, start), unquotePath(rest.slice(start + 1))];
  }
  // Unquoted names may contain spaces: `a/x y.rs b/x y.rs`. Without a rename both halves name
  // the same file, so split in the middle; renames also carry `rename from/to` lines.
  const mid = (rest.length - 1) / 2;
  if (Number.isInteger(mid) && rest[mid] === ' ') {
    const a = rest.slice(0, mid);
    const b = rest.slice(mid + 1);
    if (a.replace(/^[^/]*\//, '') === b.replace(/^[^/]*\//, '')) return [a, b];
  }
  const space = rest.indexOf(' ');
  return space < 0 ? undefined : [rest.slice(0, space), rest.slice(space + 1)];
}

function quotedEnd(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/** Git quotes names with unusual bytes as C strings with octal escapes of the UTF-8 bytes. */
export function unquotePath(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  const end = quotedEnd(raw);
  const body = raw.slice(1, end < 0 ? raw.length : end);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = body[i + 1] ?? '';
    const octal = /^[0-7]{3}/.exec(body.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 3;
    } else if (next in C_ESCAPES) {
      bytes.push(C_ESCAPES[next]);
      i += 1;
    } else {
      bytes.push(92);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Git's prefixes: `a/` and `b/`, or the mnemonic ones (`c/` commit, `i/` index, `w/` worktree, `o/` object). */
const GIT_PREFIXES = new Set(['a', 'b', 'c', 'i', 'w', 'o', '1', '2']);

/**
 * Strips the leading folder that diff tools add to both names: `a/` and `b/` from git, or
 * `linux.orig/` and `linux/` from `diff -ru linux.orig linux`. Names that start with the same
 * folder (`git diff --no-prefix`, `diff -u x.rs.orig x.rs`) are kept as they are.
 */
export function stripPrefixes(oldRaw: string, newRaw: string): [string, string] {
  const first = (p: string) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : undefined);
  const rest = (p: string) => p.slice(p.indexOf('/') + 1);
  const oldHead = oldRaw === '/dev/null' ? undefined : first(oldRaw);
  const newHead = newRaw === '/dev/null' ? undefined : first(newRaw);
  if (oldHead !== undefined && newHead !== undefined) {
    return oldHead !== newHead ? [rest(oldRaw), rest(newRaw)] : [oldRaw, newRaw];
  }
  // One side is /dev/null (a new or deleted file): strip only git's own prefixes.
  const strip = (p: string, head: string | undefined) => (head !== undefined && GIT_PREFIXES.has(head) ? rest(p) : p);
  return [strip(oldRaw, oldHead), strip(newRaw, newHead)];
}

/**
 * Where old line `line` is after `hunks` were applied, or undefined if they removed it. Lines
 * outside the hunks move by the lines added and removed above them.
 */
export function mapOldLine(line: number, hunks: readonly Hunk[]): number | undefined {
  let delta = 0;
  for (const h of hunks) {
    // A hunk with no old lines inserts after `oldStart`; otherwise it spans its old lines.
    const lastOld = h.oldCount === 0 ? h.oldStart : h.oldStart + h.oldCount - 1;
    const firstOld = h.oldCount === 0 ? h.oldStart + 1 : h.oldStart;
    if (line < firstOld) return line + delta;
    if (line <= lastOld && h.oldCount > 0) {
      let oldLine = h.oldStart;
      let newLine = h.newStart;
      for (const b of h.body) {
        if (b[0] === ' ') {
          if (oldLine === line) return newLine;
          oldLine++;
          newLine++;
        } else if (b[0] === '-') {
          if (oldLine === line) return undefined;
          oldLine++;
        } else newLine++;
      }
      return undefined;
    }
    delta += h.newCount - h.oldCount;
  }
  return line + delta;
}

/**
 * Lines of the new file that `hunk` touches: added lines, and around a removal that nothing
 * replaces, the line before and the line after it (removing a `dmalint-allow` comment or a
 * call touches the code next to it).
 */
export function touchedNewLines(hunk: Hunk): number[] {
  const out: number[] = [];
  let newLine = hunk.newStart;
  for (let k = 0; k < hunk.body.length; k++) {
    const kind = hunk.body[k][0];
    if (kind === '+') out.push(newLine++);
    else if (kind === ' ') newLine++;
    else if (kind === '-') {
      const next = hunk.body[k + 1]?.[0];
      if (next !== '-' && next !== '+') {
        // With no context lines, git numbers a pure removal by the line before it.
        const after = hunk.newCount === 0 ? hunk.newStart + 1 : newLine;
        if (after - 1 >= 1) out.push(after - 1);
        out.push(after);
      }
    }
  }
  return out;
}

/**
 * Changed lines per file (paths as the diff names them, prefixes stripped) after applying every
 * file patch in order. A series of patches (an mbox) is composed: lines changed by an earlier
 * patch are moved by the later ones, and dropped if a later one removes them.
 */
export function changedLinesByFile(patches: readonly FilePatch[]): Map<string, ChangedLines> {
  const out = new Map<string, ChangedLines>();
  for (const p of patches) {
    if (p.newPath === undefined) {
      if (p.oldPath !== undefined) out.delete(p.oldPath);
      continue;
    }
    const before = p.oldPath !== undefined ? out.get(p.oldPath) : undefined;
    if (p.oldPath !== undefined && p.oldPath !== p.newPath) out.delete(p.oldPath);
    const next: ChangedLines = { lines: new Set(), all: before?.all ?? false };
    if (before && !before.all) {
      for (const line of before.lines) {
        const moved = mapOldLine(line, p.hunks);
        if (moved !== undefined) next.lines.add(moved);
      }
    }
    for (const h of p.hunks) for (const line of touchedNewLines(h)) next.lines.add(line);
    // A rename or mode change alone touches no line, but keep what earlier patches changed.
    if (next.all || next.lines.size > 0) out.set(p.newPath, next);
  }
  return out;
}
