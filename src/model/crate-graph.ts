// Groups files into crates by their `mod` tree, following Rust's path rules.
import * as path from 'node:path';
import type { FileFacts } from '../facts/ir.js';

export interface InputFile {
  /** Path as shown to the user. */
  path: string;
  absPath: string;
  facts: FileFacts;
}

export interface CrateFile extends InputFile {
  /** Module path of the file inside its crate ([] for the root). */
  modPath: string[];
  /** Reached through a `#[cfg(test)]` module: test code, not part of the driver. */
  testOnly?: boolean;
}

export interface CrateFiles {
  root: CrateFile;
  files: CrateFile[];
}

const MOD_RS_NAMES = new Set(['mod.rs', 'lib.rs', 'main.rs']);

/**
 * Candidate files for `mod name;` declared in `file` inside inline modules `inline`.
 * A file named mod.rs/lib.rs/main.rs (or a crate root) keeps its children beside it; another
 * file `foo.rs` keeps them in `foo/`. Which one `file` is is not known before grouping, so both
 * are tried, the likelier first.
 */
export function moduleCandidates(fileAbs: string, inline: string[], name: string, pathAttr?: string): string[] {
  const dir = path.dirname(fileAbs);
  const base = path.basename(fileAbs);
  const stemDir = path.join(dir, base.replace(/\.rs$/, ''));
  const dirs = MOD_RS_NAMES.has(base) ? [dir, stemDir] : [stemDir, dir];
  if (pathAttr !== undefined) {
    // `#[path]` is relative to the directory of the declaring file (or of the inline module).
    return dirs.map((d) => path.resolve(path.join(d, ...inline), pathAttr)).concat(path.resolve(dir, pathAttr));
  }
  const out: string[] = [];
  for (const d of dirs) {
    const sub = path.join(d, ...inline);
    out.push(path.join(sub, `${name}.rs`), path.join(sub, name, 'mod.rs'));
  }
  return out;
}

export function groupCrates(files: InputFile[]): CrateFiles[] {
  const byAbs = new Map(files.map((f) => [f.absPath, f]));
  const parentOf = new Map<string, { parent: string; name: string[] }>();
  const childrenOf = new Map<string, { abs: string; name: string[]; testOnly: boolean }[]>();
  for (const f of files) {
    for (const m of f.facts.mods) {
      if (m.inline) continue;
      const target = moduleCandidates(f.absPath, m.mod, m.name, m.pathAttr).find((c) => byAbs.has(c) && c !== f.absPath);
      if (!target || parentOf.has(target)) continue;
      parentOf.set(target, { parent: f.absPath, name: [...m.mod, m.name] });
      if (!childrenOf.has(f.absPath)) childrenOf.set(f.absPath, []);
      childrenOf.get(f.absPath)!.push({ abs: target, name: [...m.mod, m.name], testOnly: !!m.testOnly });
    }
  }
  const crates: CrateFiles[] = [];
  const assigned = new Set<string>();
  const build = (rootAbs: string): void => {
    const root: CrateFile = { ...byAbs.get(rootAbs)!, modPath: [] };
    const crate: CrateFiles = { root, files: [root] };
    assigned.add(rootAbs);
    const queue: CrateFile[] = [root];
    while (queue.length > 0) {
      const cur = queue.shift()!;
      for (const child of childrenOf.get(cur.absPath) ?? []) {
        if (assigned.has(child.abs)) continue;
        assigned.add(child.abs);
        const cf: CrateFile = { ...byAbs.get(child.abs)!, modPath: [...cur.modPath, ...child.name] };
        if (cur.testOnly || child.testOnly) cf.testOnly = true;
        crate.files.push(cf);
        queue.push(cf);
      }
    }
    crates.push(crate);
  };
  for (const f of files) if (!parentOf.has(f.absPath)) build(f.absPath);
  // Files left over sit in a `mod` cycle: each becomes its own crate rather than being lost.
  for (const f of files) if (!assigned.has(f.absPath)) build(f.absPath);
  return crates;
}
