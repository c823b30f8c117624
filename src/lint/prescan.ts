// The pre-scan: a text-only pass that finds the files whose facts cannot change any finding, so
// they are neither parsed nor analyzed.
//
// Findings are computed per crate, and every rule needs, in the crate it reports on, a type,
// method or macro of the DMA API (a coherent allocation, an SG table, a DMA address, ...): the
// crate model only knows the names written in the crate's own files. So a crate none of whose
// files contains such a name, or a `dmalint-allow` comment, yields nothing. The pre-scan groups
// files the way `groupCrates` can group them, over-approximated from the text (two files that
// could be parent and child module are put together), and keeps every group in which some
// file contains one of the names. It never decides by parsing, so it cannot be wrong where the
// parser would be right; when in doubt it keeps the files.
import * as path from 'node:path';
import type { KernelApi } from '../model/kernel-api.js';

/**
 * Names whose absence from a crate proves that no rule reports in it: every name of the kernel
 * API tables about DMA (those whose key mentions DMA or coherent memory, and the types of the
 * allocation constructors), and the suppression marker (a `dmalint-allow` comment in any file
 * must be checked). A rule that can report in a crate naming none of these must add its names
 * here; `test/perf-prescan.test.ts` checks, over every fixture, that skipping changes nothing.
 */
export function triggerNames(api: KernelApi): string[] {
  const names = new Set<string>(['dmalint-allow', 'dma']);
  for (const [key, value] of Object.entries(api) as [string, unknown][]) {
    if (!/dma|coherent/i.test(key)) continue;
    for (const name of namesIn(value)) names.add(name);
  }
  for (const type of api.allocationConstructors.keys()) names.add(type);
  return [...names].filter((n) => n.length > 0).sort();
}

function namesIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value instanceof Map) return [...value.keys()].filter((k): k is string => typeof k === 'string');
  if (value instanceof Set || Array.isArray(value)) return [...value].filter((k): k is string => typeof k === 'string');
  if (value && typeof value === 'object') return Object.values(value).flatMap(namesIn);
  return [];
}

/**
 * A test for "the text contains one of `names`". Case-insensitive on purpose: it only makes the
 * test true more often (`dma` also covers every `dma_*` and `Dma*` name).
 */
export function triggerMatcher(names: string[]): (text: string) => boolean {
  // A name that contains another is implied by it: fewer alternatives, a faster scan.
  const lower = [...new Set(names.map((n) => n.toLowerCase()))];
  const needed = lower.filter((n) => !lower.some((o) => o !== n && n.includes(o)));
  const re = new RegExp(needed.map(escapeRegExp).join('|'), 'i');
  return (text) => re.test(text);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface PlanFile {
  absPath: string;
  text: string;
}

export interface Component {
  /** Indexes into the planned files, ascending. */
  files: number[];
  /** Whether some file names a DMA API (or holds a suppression comment): it must be analyzed. */
  relevant: boolean;
}

export interface Plan {
  /** Every file in exactly one component; components ordered by their first file. */
  components: Component[];
  /** Why the pre-scan analyzes everything, when it does. */
  fallback?: string;
}

/** A plan without the pre-scan: one component holding every file, analyzed whole. */
export function wholePlan(count: number, fallback = 'pre-scan off'): Plan {
  return { components: count === 0 ? [] : [{ files: [...Array(count).keys()], relevant: true }], fallback };
}

/**
 * Groups `files` into components that contain whole crates and marks those that must be
 * analyzed. Every parent/child edge `groupCrates` can draw is an edge here:
 *
 * - `mod name;` in F loads `<dir>/[<stem>/][<inline mods>/]name.rs` or `.../name/mod.rs`, with
 *   `<dir>` the folder of F: so a file G below `<dir>` whose module name (its stem, or its
 *   folder's name for `mod.rs`) is an identifier of F's text is linked to F. Only files whose
 *   text has the keyword `mod` can declare modules.
 * - `#[path = "p"] mod name;` loads `p` resolved against one of those folders: its base name is
 *   that of `p` whatever the folder, so F is linked to every file with that base name. A path
 *   whose base name depends on the folder (`..`, `.`) makes the pre-scan give up.
 */
export function planComponents(files: PlanFile[], mentionsTrigger: (text: string) => boolean): Plan {
  const n = files.length;
  const parent = [...Array(n).keys()];
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  const union = (a: number, b: number) => {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  };

  // Files by module name, each list sorted by path, so the files below a folder are a range.
  const byModuleName = new Map<string, number[]>();
  const byBaseName = new Map<string, number[]>();
  files.forEach((f, i) => {
    for (const name of moduleNamesOf(f.absPath)) push(byModuleName, name, i);
    push(byBaseName, path.basename(f.absPath), i);
  });
  for (const list of byModuleName.values()) list.sort((a, b) => (files[a].absPath < files[b].absPath ? -1 : files[a].absPath > files[b].absPath ? 1 : 0));

  for (let i = 0; i < n; i++) {
    const { absPath, text } = files[i];
    if (!MOD_KEYWORD.test(text)) continue;
    const dir = path.dirname(absPath);
    const below = dir.endsWith(path.sep) ? dir : dir + path.sep;
    for (const word of moduleNamesIn(text)) {
      const list = byModuleName.get(word);
      if (!list) continue;
      for (let k = firstAtOrAfter(list, files, below); k < list.length && files[list[k]].absPath.startsWith(below); k++) {
        if (list[k] !== i) union(i, list[k]);
      }
    }
    for (const m of text.matchAll(PATH_ATTR)) {
      const base = path.basename(path.normalize(m[1]));
      if (base === '' || base === '.' || base === '..') return wholePlan(n, `#[path = "${m[1]}"] in ${absPath}`);
      for (const j of byBaseName.get(base) ?? []) if (j !== i) union(i, j);
    }
  }

  const byRoot = new Map<number, Component>();
  const components: Component[] = [];
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let c = byRoot.get(root);
    if (!c) {
      c = { files: [], relevant: false };
      byRoot.set(root, c);
      components.push(c);
    }
    c.files.push(i);
    if (!c.relevant && mentionsTrigger(files[i].text)) c.relevant = true;
  }
  return { components };
}

/** `mod` as a word: the keyword cannot appear otherwise (`\b` also breaks at non-ASCII). */
const MOD_KEYWORD = /\bmod\b/;
const MOD_KEYWORDS = /\bmod\b/g;
/** The same pattern the extractor applies to an attribute's text, here anywhere in the file. */
const PATH_ATTR = /path\s*=\s*"([^"]*)"/g;
/** Maximal runs of identifier characters: tree-sitter lexes an identifier as one such run (`#` for `r#`). */
const IDENTIFIER_RUN = /[\p{XID_Continue}#]+/gu;
const IDENTIFIER = /(?:r#)?[\p{XID_Start}_][\p{XID_Continue}]*/uy;
/** Rust's whitespace (Pattern_White_Space). */
const WHITESPACE = /[\t\n\v\f\r \u0085\u200e\u200f\u2028\u2029]+/y;

/**
 * The names that can follow the keyword `mod` in `text`: the identifier after each `mod`, past
 * whitespace and comments. Where something else follows a `mod` (prose in a comment, or code
 * the parser would have to recover from), every identifier of the file is taken instead.
 */
export function moduleNamesIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(MOD_KEYWORDS)) {
    const name = identifierAt(text, skipTrivia(text, m.index! + 3));
    if (name === undefined) return identifiersIn(text);
    out.add(name);
    if (name.startsWith('r#')) out.add(name.slice(2));
  }
  return out;
}

/** The index after whitespace and comments (nested block comments included) from `i`. */
function skipTrivia(text: string, i: number): number {
  for (;;) {
    WHITESPACE.lastIndex = i;
    if (WHITESPACE.test(text)) i = WHITESPACE.lastIndex;
    if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i);
      if (nl === -1) return text.length;
      i = nl + 1;
    } else if (text.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < text.length);
    } else return i;
  }
}

function identifierAt(text: string, i: number): string | undefined {
  IDENTIFIER.lastIndex = i;
  const m = IDENTIFIER.exec(text);
  return m ? m[0] : undefined;
}

function identifiersIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(IDENTIFIER_RUN)) {
    const run = m[0];
    out.add(run);
    if (run.includes('#')) for (const part of run.split('#')) out.add(part);
  }
  return out;
}

/** The names a `mod` item can have to load this file: `x` for `x.rs`; `dir` or `mod` for `dir/mod.rs`. */
function moduleNamesOf(absPath: string): string[] {
  const base = path.basename(absPath);
  if (!base.endsWith('.rs')) return [];
  const stem = base.slice(0, -3);
  return base === 'mod.rs' ? [path.basename(path.dirname(absPath)), stem] : [stem];
}

/** Index of the first entry of `list` (sorted by path) whose path is not before `prefix`. */
function firstAtOrAfter(list: number[], files: PlanFile[], prefix: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (files[list[mid]].absPath < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
