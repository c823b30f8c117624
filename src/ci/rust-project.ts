// rust-project.json, which `make rust-analyzer` writes for a kernel tree: it names every crate's
// root module, so dmalint knows where each kernel crate and Rust module starts.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BuildCfgs } from '../lint/analyze.js';
import { CfgSet } from '../model/cfg.js';

interface RustProjectCrate {
  root_module?: unknown;
  cfg?: unknown;
}

export interface RustProjectCrateInfo {
  /** The folder of the crate's root module, relative to the tree root, with `/`. */
  folder: string;
  /** The `cfg`s rust-analyzer passes for the crate (`CONFIG_PCI`, `feature="x"`). */
  cfg: string[];
}

/** Crates of `<root>/rust-project.json` (or `file`) that lie inside `root`; empty when there is none or it cannot be read. */
export function rustProjectCrates(root: string, file = path.join(root, 'rust-project.json')): RustProjectCrateInfo[] {
  let doc: { crates?: unknown };
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { crates?: unknown };
  } catch {
    return [];
  }
  if (!Array.isArray(doc.crates)) return [];
  const realRoot = realPath(root);
  const base = path.dirname(path.resolve(file));
  const out: RustProjectCrateInfo[] = [];
  for (const crate of doc.crates as RustProjectCrate[]) {
    if (!crate || typeof crate.root_module !== 'string') continue;
    const module = realPath(path.resolve(base, crate.root_module));
    const rel = path.relative(realRoot, path.dirname(module));
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const cfg = Array.isArray(crate.cfg) ? crate.cfg.filter((c): c is string => typeof c === 'string') : [];
    out.push({ folder: rel === '' ? '.' : rel.split(path.sep).join('/'), cfg });
  }
  return out;
}

/** The crate root folders of rust-project.json, for choosing what to lint for a changed file. */
export function rustProjectCrateRoots(root: string, file?: string): string[] {
  return [...new Set(rustProjectCrates(root, file).map((c) => c.folder))];
}

/**
 * The cfgs rust-project.json gives each crate, found by the folder of the crate's root file:
 * `#[cfg(CONFIG_X)]` items of a build without CONFIG_X are left out of the analysis.
 */
export function rustProjectCfgs(root: string, file?: string): BuildCfgs | undefined {
  const crates = rustProjectCrates(root, file);
  if (crates.length === 0) return undefined;
  const byFolder = new Map(crates.map((c) => [c.folder, new CfgSet(c.cfg)]));
  const realRoot = realPath(root);
  const key = createHash('sha256').update(JSON.stringify(crates.map((c) => [c.folder, [...c.cfg].sort()]))).digest('hex');
  return {
    key,
    forRoot(rootAbsPath: string): CfgSet | undefined {
      const rel = path.relative(realRoot, path.dirname(realPath(rootAbsPath))).split(path.sep).join('/');
      return byFolder.get(rel === '' ? '.' : rel);
    },
  };
}

function realPath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
