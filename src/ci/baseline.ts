// Baselines: the findings a project has accepted for now, stored as fingerprints that do not
// contain line numbers, so that moving code or editing other lines does not make them new.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_BASELINE_BYTES, readOptionFile } from '../config/option-file.js';
import { UsageError } from '../lint/run.js';
import type { Finding } from '../lint/types.js';
import { normalizeLineText, sha256Hex, sortFindings, splitLines, toPosixPath } from '../report/common.js';

export const BASELINE_VERSION = 1;
export const BASELINE_TOOL = 'dmalint';
export const DEFAULT_BASELINE_FILE = 'dmalint-baseline.json';

export interface BaselineEntry {
  rule: string;
  /** The finding's file, relative to the folder of the baseline file, with forward slashes. */
  file: string;
  /** The item the finding is in (`WorkItem::run for Refill`); empty when the rule names none. */
  item: string;
  /** 16 hex digits of the sha256 of the normalized primary line and its nearest non-blank neighbours. */
  context: string;
  /** 16 hex digits of the sha256 of the normalized primary line alone. */
  line: string;
  /** 1-based, among entries with the same rule, file, item and context. */
  occurrence: number;
  /** The finding's message when the entry was written: for people reading the file, not matched. */
  message: string;
}

export interface Baseline {
  version: typeof BASELINE_VERSION;
  tool: typeof BASELINE_TOOL;
  entries: BaselineEntry[];
}

export class BaselineError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineError';
  }
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

function shortHash(text: string): string {
  return sha256Hex(text).slice(0, 16);
}

/** The normalized primary line and the nearest non-blank lines above and below it. */
export function contextLines(lines: readonly string[], line: number): { above: string; at: string; below: string } {
  const at = normalizeLineText(lines[line - 1] ?? '');
  let above = '';
  for (let i = line - 2; i >= 0 && above === ''; i--) above = normalizeLineText(lines[i]);
  let below = '';
  for (let i = line; i < lines.length && below === ''; i++) below = normalizeLineText(lines[i]);
  return { above, at, below };
}

export interface FingerprintInput {
  /** Source text of a finding's file (as `Finding.primary.file` names it). */
  readSource(file: string): string | undefined;
  /** A finding's file as the baseline stores it. */
  baselinePath(file: string): string;
}

/**
 * One entry per finding. Suppressed findings are skipped: a `dmalint-allow` comment already
 * hides them. Occurrences are counted in file order.
 */
export function fingerprintFindings(findings: readonly Finding[], input: FingerprintInput): Map<Finding, BaselineEntry> {
  const out = new Map<Finding, BaselineEntry>();
  const lineCache = new Map<string, string[] | undefined>();
  const linesOf = (file: string) => {
    if (!lineCache.has(file)) {
      const text = input.readSource(file);
      lineCache.set(file, text === undefined ? undefined : splitLines(text));
    }
    return lineCache.get(file);
  };
  const seen = new Map<string, number>();
  for (const f of sortFindings(findings.filter((x) => !x.suppression))) {
    const lines = linesOf(f.primary.file);
    let line: string;
    let context: string;
    if (lines && f.primary.span.line >= 1 && f.primary.span.line <= lines.length) {
      const c = contextLines(lines, f.primary.span.line);
      line = shortHash(c.at);
      context = shortHash(`${c.above}\n${c.at}\n${c.below}`);
    } else {
      // Without the source, the message is the best stand-in for the code.
      line = context = shortHash(`\u0000${normalizeLineText(f.message)}`);
    }
    const entry: BaselineEntry = {
      rule: f.rule,
      file: input.baselinePath(f.primary.file),
      item: f.item ?? '',
      context,
      line,
      occurrence: 0,
      message: f.message,
    };
    const key = contextKey(entry);
    entry.occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, entry.occurrence);
    out.set(f, entry);
  }
  return out;
}

function contextKey(e: Pick<BaselineEntry, 'rule' | 'file' | 'item' | 'context'>): string {
  return JSON.stringify([e.rule, e.file, e.item, e.context]);
}

function lineKey(e: Pick<BaselineEntry, 'rule' | 'file' | 'item' | 'line'>): string {
  return JSON.stringify([e.rule, e.file, e.item, e.line]);
}

// ---------------------------------------------------------------------------------------------
// Matching

export interface BaselineMatch {
  /** Findings the baseline does not cover: reported. */
  fresh: Finding[];
  /** Findings the baseline covers: not reported. */
  baselined: Finding[];
  /** Entries in scope that no finding matches any more: the bug was fixed or the code is gone. */
  stale: BaselineEntry[];
  /** Entries out of scope (their file or rule was not checked this run): kept as they are. */
  outOfScope: BaselineEntry[];
  /** Current fingerprints of the baselined findings (for rewriting the file). */
  refreshed: BaselineEntry[];
}

/**
 * Pairs findings with baseline entries: first by rule, file, item and the code around the
 * finding; what is left, by rule, file, item and the finding's own line (so that editing the
 * line next to a finding does not make it new). Within a key, pairs go in occurrence order.
 * `inScope` says whether an entry's file and rule were checked in this run.
 */
export function matchBaseline(
  entries: readonly BaselineEntry[],
  fingerprints: ReadonlyMap<Finding, BaselineEntry>,
  inScope: (entry: BaselineEntry) => boolean,
): BaselineMatch {
  const outOfScope = entries.filter((e) => !inScope(e));
  let openEntries = entries.filter(inScope);
  let openFindings = [...fingerprints.keys()];
  const matched = new Set<Finding>();

  for (const keyOf of [contextKey, lineKey]) {
    const byKey = new Map<string, BaselineEntry[]>();
    for (const e of [...openEntries].sort((a, b) => a.occurrence - b.occurrence)) {
      const k = keyOf(e);
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k)!.push(e);
    }
    const used = new Set<BaselineEntry>();
    for (const f of openFindings) {
      const candidates = byKey.get(keyOf(fingerprints.get(f)!));
      const e = candidates?.shift();
      if (e) {
        used.add(e);
        matched.add(f);
      }
    }
    openEntries = openEntries.filter((e) => !used.has(e));
    openFindings = openFindings.filter((f) => !matched.has(f));
  }

  const all = [...fingerprints.keys()];
  return {
    fresh: all.filter((f) => !matched.has(f)),
    baselined: all.filter((f) => matched.has(f)),
    stale: openEntries,
    outOfScope,
    refreshed: all.filter((f) => matched.has(f)).map((f) => fingerprints.get(f)!),
  };
}

// ---------------------------------------------------------------------------------------------
// The file

function compareEntries(a: BaselineEntry, b: BaselineEntry): number {
  const fields = ['file', 'rule', 'item', 'context', 'line', 'message'] as const;
  for (const k of fields) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return a.occurrence - b.occurrence;
}

/**
 * Sorted entries with occurrences renumbered 1, 2, ... per key, in a fixed key order: the same
 * findings always give the same bytes, so changes to the file read well in review.
 */
export function serializeBaseline(entries: readonly BaselineEntry[]): string {
  const sorted = [...entries].sort(compareEntries);
  const counts = new Map<string, number>();
  const out = sorted.map((e) => {
    const key = contextKey(e);
    const occurrence = (counts.get(key) ?? 0) + 1;
    counts.set(key, occurrence);
    return { rule: e.rule, file: e.file, item: e.item, context: e.context, line: e.line, occurrence, message: e.message };
  });
  const doc: Baseline = { version: BASELINE_VERSION, tool: BASELINE_TOOL, entries: out };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

const HASH = /^[0-9a-f]{16}$/;

/** Checks the shape of a parsed baseline; `name` is the file name used in messages. */
export function parseBaseline(text: string, name: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${name}: not valid JSON: ${(e as Error).message}`);
  }
  const obj = doc as Partial<Baseline> | null;
  if (!obj || typeof obj !== 'object' || Array.isArray(obj) || obj.tool !== BASELINE_TOOL) {
    throw new BaselineError(`${name}: not a dmalint baseline (expected "tool": "${BASELINE_TOOL}"; create one with \`dmalint baseline\`)`);
  }
  if (obj.version !== BASELINE_VERSION) {
    throw new BaselineError(`${name}: baseline version ${JSON.stringify(obj.version)} is not supported (this dmalint reads version ${BASELINE_VERSION})`);
  }
  if (!Array.isArray(obj.entries)) throw new BaselineError(`${name}: "entries" must be a list`);
  const entries = obj.entries.map((raw, i) => checkEntry(raw, `${name}: entry ${i + 1}`));
  return { version: BASELINE_VERSION, tool: BASELINE_TOOL, entries };
}

function checkEntry(raw: unknown, where: string): BaselineEntry {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BaselineError(`${where}: must be an object`);
  const e = raw as Record<string, unknown>;
  for (const k of ['rule', 'file', 'item', 'context', 'line'] as const) {
    if (typeof e[k] !== 'string') throw new BaselineError(`${where}: "${k}" must be a string`);
  }
  for (const k of ['context', 'line'] as const) {
    if (!HASH.test(e[k] as string)) throw new BaselineError(`${where}: "${k}" must be 16 lowercase hex digits`);
  }
  if (e.file === '') throw new BaselineError(`${where}: "file" must not be empty`);
  if (typeof e.occurrence !== 'number' || !Number.isInteger(e.occurrence) || e.occurrence < 1) {
    throw new BaselineError(`${where}: "occurrence" must be a whole number from 1`);
  }
  if (e.message !== undefined && typeof e.message !== 'string') throw new BaselineError(`${where}: "message" must be a string`);
  return {
    rule: e.rule as string,
    file: e.file as string,
    item: e.item as string,
    context: e.context as string,
    line: e.line as string,
    occurrence: e.occurrence,
    message: (e.message as string | undefined) ?? '',
  };
}

export function readBaseline(file: string): Baseline {
  let text: string;
  try {
    text = readOptionFile(file, { maxBytes: MAX_BASELINE_BYTES });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new BaselineError(`${file}: no such baseline file (create it with \`dmalint baseline\`)`);
    throw new BaselineError(`${file}: cannot read the baseline: ${(e as Error).message}`);
  }
  return parseBaseline(text, file);
}

/** `file` (relative to `cwd`, or absolute) as a baseline in `baselineDir` stores it. */
export function baselineRelativePath(file: string, cwd: string, baselineDir: string): string {
  const rel = path.relative(baselineDir, path.resolve(cwd, file));
  return toPosixPath(rel === '' ? path.basename(file) : rel);
}
