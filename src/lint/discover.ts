// Finds the `.rs` files to lint under the paths given on the command line.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Folders never walked into: build output and version control. */
export const SKIP_DIRS = new Set(['target', '.git', 'node_modules', '.hg', '.svn']);
const NOT_REGULAR = 'not a regular file (a FIFO, socket or device); not checked';

export interface Discovery {
  files: string[];
  /** Paths given by the user that do not exist or cannot be read: a usage error. */
  missing: { path: string; message: string }[];
  /** Problems met while walking (unreadable folders, symlink loops): reported, not fatal. */
  warnings: { path: string; message: string }[];
  /** Symbolic links not followed (no `--follow-symlinks`) that could hold code: named, not checked. */
  skippedLinks: { path: string; message: string }[];
}

export interface DiscoverOptions {
  /** Follow symbolic links to folders and files (off: links are skipped). */
  followSymlinks?: boolean;
  /** A path filter from the config (include/exclude globs). */
  filter?: (absPath: string) => boolean;
}

export function discoverFiles(paths: string[], options: DiscoverOptions = {}): Discovery {
  const out: Discovery = { files: [], missing: [], warnings: [], skippedLinks: [] };
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const filter = options.filter ?? (() => true);
  const addFile = (abs: string, explicit: boolean) => {
    if (seen.has(abs)) return;
    if (!explicit && !filter(abs)) return;
    seen.add(abs);
    out.files.push(abs);
  };
  // Depth-first, in sorted order, with an explicit stack: a deep tree must not exhaust the call
  // stack. A folder is known by device and inode (one stat, where a real path costs a lookup per
  // path component), so a symbolic link loop is entered once.
  const walk = (root: string) => {
    const stack: { path: string; dir: boolean }[] = [{ path: root, dir: true }];
    while (stack.length > 0) {
      const item = stack.pop()!;
      if (!item.dir) {
        addFile(item.path, false);
        continue;
      }
      const dir = item.path;
      let id: string;
      try {
        const st = fs.statSync(dir);
        id = `${st.dev}:${st.ino}`;
      } catch (e) {
        out.warnings.push({ path: dir, message: `cannot read folder: ${errorText(e)}` });
        continue;
      }
      if (visitedDirs.has(id)) continue;
      visitedDirs.add(id);
      let entries: fs.Dirent[];
      try {
        entries = fs.readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        out.warnings.push({ path: dir, message: `cannot read folder: ${errorText(e)}` });
        continue;
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const children: { path: string; dir: boolean }[] = [];
      // Entry names hold no separator and `dir` is absolute and normalized: joining is appending.
      const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
      for (const entry of entries) {
        const full = prefix + entry.name;
        const rust = entry.name.endsWith('.rs');
        if (entry.isSymbolicLink()) {
          if (!options.followSymlinks) {
            const skipped = unfollowedLink(full, rust, filter);
            if (skipped) out.skippedLinks.push({ path: full, message: skipped });
            continue;
          }
          let st: fs.Stats;
          try {
            st = fs.statSync(full);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            out.warnings.push({ path: full, message: code === 'ELOOP' ? 'symbolic link loop' : code === 'ENOENT' ? 'broken symbolic link' : errorText(e) });
            continue;
          }
          if (st.isDirectory()) {
            if (!SKIP_DIRS.has(entry.name)) children.push({ path: full, dir: true });
          } else if (st.isFile() && rust) children.push({ path: full, dir: false });
          else if (rust) out.warnings.push({ path: full, message: NOT_REGULAR });
        } else if (entry.isDirectory()) {
          if (!SKIP_DIRS.has(entry.name)) children.push({ path: full, dir: true });
        } else if (entry.isFile()) {
          if (rust) children.push({ path: full, dir: false });
        } else if (rust) {
          // A FIFO would block the read forever; a device or socket is no source file either.
          out.warnings.push({ path: full, message: NOT_REGULAR });
        }
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (e) {
      out.missing.push({ path: p, message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : errorText(e) });
      continue;
    }
    if (st.isDirectory()) walk(abs);
    else if (st.isFile()) addFile(abs, true);
    else out.missing.push({ path: p, message: 'not a file or folder' });
  }
  return out;
}

/**
 * Why a symbolic link that is not followed deserves a word, or undefined: a link named `.rs`, or
 * a link to a folder (its files go unchecked). Links the config excludes, and links to anything
 * else, stay silent.
 */
function unfollowedLink(full: string, rust: boolean, filter: (abs: string) => boolean): string | undefined {
  if (!filter(full)) return undefined;
  if (rust) return 'symbolic link not followed; not checked (pass --follow-symlinks to check it)';
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(full);
  } catch {
    return undefined; // dangling or looping: nothing could be checked there anyway
  }
  if (!st.isDirectory() || SKIP_DIRS.has(path.basename(full))) return undefined;
  return 'symbolic link to a folder not followed; its files are not checked (pass --follow-symlinks to check them)';
}

export function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'EACCES') return 'permission denied';
  if (err && err.code === 'ENOENT') return 'no such file or folder';
  if (err && err.code === 'ELOOP') return 'too many levels of symbolic links';
  if (err && err.code === 'ENAMETOOLONG') return 'path too long';
  return err && err.message ? err.message.replace(/^\w+: /, '') : String(e);
}

/** The path as shown to the user: relative to `cwd` when inside it. */
/** An empty, `.` or `..` segment or a trailing separator (what path.relative normalizes away), or a foreign separator. */
const UNNORMAL = path.sep === '/' ? /\/\/|\/\.\.?(?:\/|$)|\/$/ : /[\\/][\\/]|[\\/]\.\.?(?:[\\/]|$)|[\\/]$|\//;
let plainCwd: { cwd: string; plain: boolean } | undefined;

function isNormal(p: string): boolean {
  return !UNNORMAL.test(p);
}

export function displayPath(abs: string, cwd: string): string {
  return printable(relativeDisplayPath(abs, cwd));
}

/**
 * Control characters (a newline, an escape sequence that recolours or clears a terminal), C1
 * controls and bidirectional overrides in a file name are shown escaped, as Rust's `{:?}` does:
 * a name cannot forge a line of the report or hide what follows it.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

const HAS_UNPRINTABLE = new RegExp(UNPRINTABLE.source);

export function printable(name: string): string {
  if (!HAS_UNPRINTABLE.test(name)) return name;
  return name.replace(UNPRINTABLE, (c) => NAMED_ESCAPES[c] ?? `\\u{${c.charCodeAt(0).toString(16)}}`);
}

function relativeDisplayPath(abs: string, cwd: string): string {
  // The common case, a file below the working folder, without path.relative's normalizing.
  const base = cwd.endsWith(path.sep) ? cwd : cwd + path.sep;
  if (abs.startsWith(base) && abs.length > base.length && path.isAbsolute(cwd) && isNormal(abs) && (plainCwd?.cwd === cwd ? plainCwd.plain : (plainCwd = { cwd, plain: isNormal(cwd) }).plain)) {
    const rel = abs.slice(base.length);
    if (!rel.startsWith('..')) return path.sep === '/' ? rel : rel.split(path.sep).join('/');
  }
  const rel = path.relative(cwd, abs);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return abs;
}
