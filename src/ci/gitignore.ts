// Files git ignores (.gitignore, .git/info/exclude, core.excludesFile) are not linted when
// dmalint walks a folder: build output, generated code and vendored copies stay out, as in ruff.
import * as path from 'node:path';
import { gitResult, repositoryRoot } from './git.js';

/**
 * A test for absolute paths that git ignores in the repository holding `cwd`; undefined outside
 * a repository or without git. One `git ls-files` call lists every ignored file and folder.
 */
export function gitIgnoredMatcher(cwd: string): ((absPath: string) => boolean) | undefined {
  const root = repositoryRoot(cwd);
  if (!root) return undefined;
  const r = gitResult(['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z'], root);
  if (r.status !== 0) return undefined;
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const entry of r.stdout.split('\0')) {
    if (entry === '') continue;
    if (entry.endsWith('/')) dirs.add(entry.slice(0, -1));
    else files.add(entry);
  }
  if (files.size === 0 && dirs.size === 0) return () => false;
  return (absPath) => {
    const rel = path.relative(root, absPath).split(path.sep).join('/');
    if (rel.startsWith('../') || path.isAbsolute(rel)) return false;
    if (files.has(rel)) return true;
    for (let d = path.posix.dirname(rel); d !== '.' && d !== '/'; d = path.posix.dirname(d)) if (dirs.has(d)) return true;
    return false;
  };
}
