// Finds the `.rs` files to lint under the paths given on the command line.
import * as fs from 'node:fs';
import * as path from 'node:path';

const SKIP_DIRS = new Set(['target', '.git', 'node_modules', '.hg', '.svn']);

export interface Discovery {
  files: string[];
  /** Paths given by the user that do not exist or cannot be read: a usage error. */
  missing: { path: string; message: string }[];
  /** Problems met while walking (unreadable folders, symlink loops): reported, not fatal. */
  warnings: { path: string; message: string }[];
}

export interface DiscoverOptions {
  /** Follow symbolic links to folders and files (off: links are skipped). */
  followSymlinks?: boolean;
  /** A path filter from the config (include/exclude globs). */
  filter?: (absPath: string) => boolean;
}

export function discoverFiles(paths: string[], options: DiscoverOptions = {}): Discovery {
  const out: Discovery = { files: [], missing: [], warnings: [] };
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const filter = options.filter ?? (() => true);
  const addFile = (abs: string, explicit: boolean) => {
    if (seen.has(abs)) return;
    if (!explicit && !filter(abs)) return;
    seen.add(abs);
    out.files.push(abs);
  };
  const walk = (dir: string) => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch (e) {
      out.warnings.push({ path: dir, message: errorText(e) });
      return;
    }
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      out.warnings.push({ path: dir, message: `cannot read folder: ${errorText(e)}` });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        if (!options.followSymlinks) continue;
        let st: fs.Stats;
        try {
          st = fs.statSync(full);
        } catch {
          out.warnings.push({ path: full, message: 'broken symbolic link' });
          continue;
        }
        if (st.isDirectory()) {
          if (!SKIP_DIRS.has(entry.name)) walk(full);
        } else if (st.isFile() && entry.name.endsWith('.rs')) addFile(full, false);
        continue;
      }
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(full);
      } else if (entry.isFile() && entry.name.endsWith('.rs')) {
        addFile(full, false);
      }
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

export function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'EACCES') return 'permission denied';
  if (err && err.code === 'ENOENT') return 'no such file or folder';
  if (err && err.code === 'ELOOP') return 'too many levels of symbolic links';
  return err && err.message ? err.message.replace(/^\w+: /, '') : String(e);
}

/** The path as shown to the user: relative to `cwd` when inside it. */
export function displayPath(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return abs;
}
