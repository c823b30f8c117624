// Files git ignores (.gitignore, .git/info/exclude, core.excludesFile) are not linted when
// dmalint walks a folder: build output, generated code and vendored copies stay out, as in ruff.
import * as path from 'node:path';
import { gitResult } from './git.js';

/**
 * A test for absolute paths that git ignores in the repository holding `cwd`; undefined outside
 * a repository or without git. One `git ls-files` call (over the whole repository, `:/`) lists
 * every ignored file and folder, relative to `cwd`.
 */
export function gitIgnoredMatcher(cwd: string): ((absPath: string) => boolean) | undefined {
  let r: ReturnType<typeof gitResult>;
  try {
    r = gitResult(['ls-files', '--others', '--ignored', '--exclude-standard', '--directory', '-z', '--', ':/'], cwd);
  } catch {
    return undefined;
  }
  if (r.status !== 0) return undefined;
  const files = new Set<string>();
  const dirs = new Set<string>();
  for (const entry of r.stdout.split('\0')) {
    if (entry === '') continue;
    if (entry.endsWith('/')) dirs.add(path.resolve(cwd, entry.slice(0, -1)));
    else files.add(path.resolve(cwd, entry));
  }
  if (files.size === 0 && dirs.size === 0) return () => false;
  return (absPath) => {
    if (files.has(absPath)) return true;
    for (let d = path.dirname(absPath); d !== path.dirname(d); d = path.dirname(d)) if (dirs.has(d)) return true;
    return false;
  };
}
