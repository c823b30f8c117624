// What one patch of a series introduces: the findings of the crates it touches after it, less
// those that were already there before it, matched by fingerprint as baselines are (so code the
// patch only moves is not reported again).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Finding, LintResult, SourceTexts } from '../lint/types.js';
import { fingerprintFindings, matchBaseline } from './baseline.js';

export interface TreeRun {
  result: LintResult;
  sources: SourceTexts;
}

/**
 * Findings of `after` that `before` does not have; suppressed ones are never introduced.
 * `renames` maps a file's old path to its new one, so a renamed file's findings are not new.
 */
export function introducedFindings(before: TreeRun, after: TreeRun, renames: ReadonlyMap<string, string> = new Map()): Finding[] {
  const fingerprintsOf = (run: TreeRun, rename: (f: string) => string) =>
    fingerprintFindings(run.result.findings, { readSource: (f) => run.sources.get(f), baselinePath: rename });
  const old = [...fingerprintsOf(before, (f) => renames.get(f) ?? f).values()];
  return matchBaseline(old, fingerprintsOf(after, (f) => f), () => true).fresh;
}

/** Files that mark the folder of a crate or kernel module (Kbuild builds the `.rs` files beside them). */
const CRATE_MARKERS = ['Cargo.toml', 'Kbuild', 'Makefile'];

/**
 * The folder to lint for a changed `.rs` file (relative to `root`): the folder of the crate
 * root that `rust-project.json` lists for it, else the nearest folder with a Cargo.toml, Kbuild
 * or Makefile, else the file's own folder.
 */
export function crateFolderOf(file: string, root: string, crateRoots: readonly string[] = []): string {
  const dir = path.posix.dirname(file);
  let best: string | undefined;
  for (const crateDir of crateRoots) {
    if ((dir === crateDir || dir.startsWith(`${crateDir}/`) || crateDir === '.') && (best === undefined || crateDir.length > best.length)) best = crateDir;
  }
  if (best !== undefined) return best;
  for (let d = dir; ; d = path.posix.dirname(d)) {
    if (CRATE_MARKERS.some((m) => fs.existsSync(path.join(root, d, m)))) return d;
    if (d === '.' || d === '/' || d === '') break;
  }
  return dir;
}

/** Folders to lint for `files` (only `.rs` files count), without one inside another. */
export function crateFolders(files: readonly string[], root: string, crateRoots: readonly string[] = []): string[] {
  const folders = [...new Set(files.filter((f) => f.endsWith('.rs')).map((f) => crateFolderOf(f, root, crateRoots)))].sort();
  return folders.filter((f) => !folders.some((g) => g !== f && (g === '.' || f.startsWith(`${g}/`))));
}
