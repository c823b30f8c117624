// Helpers shared by the report formatters: counting, ordering, reading source lines, paths and
// the line-based fingerprints that survive unrelated edits above a finding.

import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import type { FileNotice, Finding, Severity } from '../lint/types.js';
import type { ReportInput } from './types.js';
import { compareFindings, compareStrings } from '../lint/order.js';

export const TOOL_NAME = 'dmalint';
export const TOOL_URI = 'https://github.com/dmalint/dmalint';

// ---------------------------------------------------------------------------------------------
// Counting and wording

export interface Counts {
  /** Unsuppressed deny-level findings. */
  errors: number;
  /** Unsuppressed warn-level findings. */
  warnings: number;
  /** Findings covered by a `dmalint-allow` comment, whatever their level. */
  suppressed: number;
}

export function countFindings(findings: readonly Finding[]): Counts {
  const counts: Counts = { errors: 0, warnings: 0, suppressed: 0 };
  for (const f of findings) {
    if (f.suppression) counts.suppressed++;
    else if (f.level === 'deny') counts.errors++;
    else counts.warnings++;
  }
  return counts;
}

/** The word the formats use for a finding's level. */
export function levelWord(level: Severity): 'error' | 'warning' {
  return level === 'deny' ? 'error' : 'warning';
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** `410` gives `0.41s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  return `${seconds.toFixed(2)}s`;
}

export interface SummaryParts {
  counts: Counts;
  /** `error` when there is an unsuppressed error, `warning` when only warnings, else undefined. */
  level: 'error' | 'warning' | undefined;
  /** `3 findings (2 errors, 1 warning) in 12 files checked in 0.41s; 2 suppressed` or `no findings in ...`. */
  text: string;
}

/** The closing summary, shared by the human output and the GitHub step summary. */
export function summarize(input: ReportInput): SummaryParts {
  const { result } = input;
  const counts = countFindings(result.findings);
  const shown = counts.errors + counts.warnings;
  const where = `in ${plural(result.filesChecked, 'file')} checked in ${formatDuration(result.durationMs)}`;
  let text =
    shown === 0
      ? `no findings ${where}`
      : `${plural(shown, 'finding')} (${plural(counts.errors, 'error')}, ${plural(counts.warnings, 'warning')}) ${where}`;
  if (counts.suppressed > 0) text += `; ${counts.suppressed} suppressed`;
  const level = counts.errors > 0 ? 'error' : counts.warnings > 0 ? 'warning' : undefined;
  return { counts, level, text };
}

// ---------------------------------------------------------------------------------------------
// Ordering and selection

export { compareFindings };

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}

export function sortNotices(notices: readonly FileNotice[]): FileNotice[] {
  return [...notices].sort(
    (a, b) =>
      compareStrings(a.file, b.file) ||
      (a.span?.line ?? 0) - (b.span?.line ?? 0) ||
      (a.span?.col ?? 0) - (b.span?.col ?? 0) ||
      compareStrings(a.message, b.message),
  );
}

/**
 * The findings a format shows, sorted: suppressed ones only when `includeSuppressed` is set and
 * the format supports them (`allowSuppressed`).
 */
export function reportedFindings(input: ReportInput, allowSuppressed = true): Finding[] {
  const keep = allowSuppressed && input.includeSuppressed === true;
  return sortFindings(input.result.findings.filter((f) => keep || !f.suppression));
}

// ---------------------------------------------------------------------------------------------
// Source text

/** Lines as the parser counts them: split on `\n`, a trailing `\r` (CRLF files) removed. */
export function splitLines(text: string): string[] {
  return text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** Reads each file at most once per report. */
export class SourceCache {
  private readonly files = new Map<string, string[] | undefined>();

  constructor(private readonly read: (file: string) => string | undefined) {}

  lines(file: string): string[] | undefined {
    if (!this.files.has(file)) {
      let text: string | undefined;
      try {
        text = this.read(file);
      } catch {
        text = undefined;
      }
      this.files.set(file, text === undefined ? undefined : splitLines(text));
    }
    return this.files.get(file);
  }

  /** The 1-based line `line` of `file`, without its line terminator; undefined if unavailable. */
  line(file: string, line: number): string | undefined {
    const lines = this.lines(file);
    if (!lines || line < 1 || line > lines.length) return undefined;
    return lines[line - 1];
  }
}

export function sourceCache(input: ReportInput): SourceCache {
  return new SourceCache((file) => input.readSource(file));
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/** Trimmed, with every run of whitespace collapsed to one space. */
export function normalizeLineText(text: string): string {
  return text.trim().replace(/\s+/g, ' ');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface LineFingerprint {
  /** Normalized text of the primary line (or, if the source is unreadable, of the item and message). */
  text: string;
  /** 1-based index among the findings of the same file with the same rule and normalized text. */
  occurrence: number;
  /** SARIF `primaryLocationLineHash`: 16 hex digits of sha256(rule, text), `:` and the occurrence. */
  lineHash: string;
  /** GitLab fingerprint: sha256 hex of rule, file, text and occurrence. */
  full: string;
}

/**
 * Fingerprints that do not contain line numbers, so they stay the same when lines are inserted
 * or removed elsewhere in the file. Computed over every finding of the result (suppressed ones
 * included) in file order, so that showing or hiding suppressed findings does not renumber the
 * occurrences.
 */
export function lineFingerprints(input: ReportInput, sources: SourceCache): Map<Finding, LineFingerprint> {
  const out = new Map<Finding, LineFingerprint>();
  // Each line's text is normalized and hashed once, however many findings it has: four thousand
  // findings on one long generated line must not cost four thousand passes over it.
  const normalized = new Map<string, string>();
  const groups = new Map<string, Map<string, Map<string, { seen: number; lineHash: string; prefix: Hash }>>>();
  for (const f of sortFindings(input.result.findings)) {
    const where = `${f.primary.file}\u0000${f.primary.span.line}`;
    let text = normalized.get(where);
    if (text === undefined) {
      const line = sources.line(f.primary.file, f.primary.span.line);
      text = line !== undefined ? normalizeLineText(line) : undefined;
      if (text !== undefined) normalized.set(where, text);
    }
    text ??= `\u0000${f.item ?? ''}\u0000${normalizeLineText(f.message)}`;
    // Nested maps keyed by the text itself: the same string object comes back for each finding
    // on a line, and V8 hashes a string once.
    let byText = groups.get(f.primary.file)?.get(f.rule);
    if (!byText) {
      if (!groups.has(f.primary.file)) groups.set(f.primary.file, new Map());
      byText = new Map();
      groups.get(f.primary.file)!.set(f.rule, byText);
    }
    let group = byText.get(text);
    if (!group) {
      group = {
        seen: 0,
        lineHash: sha256Hex(`${f.rule}\u0000${text}`).slice(0, 16),
        // The full fingerprint hashes the text and then the occurrence: the state after the text
        // is kept and copied for each occurrence.
        prefix: createHash('sha256').update(`${f.rule}\u0000${rootPath(input, f.primary.file)}\u0000${text}\u0000`, 'utf8'),
      };
      byText.set(text, group);
    }
    const occurrence = ++group.seen;
    out.set(f, {
      text,
      occurrence,
      lineHash: `${group.lineHash}:${occurrence}`,
      full: group.prefix.copy().update(String(occurrence), 'utf8').digest('hex'),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Paths and text

export function toPosixPath(file: string): string {
  return file.replace(/\\/g, '/');
}

/**
 * `file` relative to `cwd` with forward slashes, or undefined when it lies outside `cwd`.
 * Relative paths are taken as already relative to `cwd`.
 */
export function relativeToCwd(file: string, cwd: string): string | undefined {
  const isAbs = path.isAbsolute(file) || path.win32.isAbsolute(file);
  if (!isAbs) {
    const posix = toPosixPath(file).replace(/^(\.\/)+/, '');
    return posix.startsWith('../') || posix === '..' ? undefined : posix;
  }
  const rel = path.relative(cwd, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return toPosixPath(rel);
}

/** Path for CI systems that expect repository-relative paths: relative when possible. */
export function displayPath(file: string, cwd: string): string {
  return relativeToCwd(file, cwd) ?? toPosixPath(file);
}

/**
 * `file` (as findings name it, relative to `cwd` or absolute) relative to the report's root, with
 * forward slashes; absolute when it lies outside the root.
 */
export function rootPath(input: Pick<ReportInput, 'cwd' | 'root'>, file: string): string {
  if (input.root === undefined || input.root === input.cwd) return displayPath(file, input.cwd);
  return displayPath(path.resolve(input.cwd, file), input.root);
}

/** Joins the lines of a message with spaces, for one-line formats. */
export function oneLine(text: string): string {
  return text.replace(/\s*(?:\r\n|\r|\n)\s*/g, ' ');
}

/** The `file:line:col` of a location, or just the file. */
export function positionText(file: string, span: { line: number; col: number } | undefined): string {
  return span ? `${file}:${span.line}:${span.col}` : file;
}

/**
 * Spans count columns in UTF-16 code units (as LSP and SARIF do); rustc counts characters.
 * The character column of `utf16Col` on `lineText`; unchanged when the line is unknown.
 */
export function characterColumn(lineText: string | undefined, utf16Col: number): number {
  if (lineText === undefined || utf16Col <= 1) return utf16Col;
  const prefix = lineText.slice(0, utf16Col - 1);
  let chars = 0;
  for (const _ of prefix) chars++;
  // A column past the end of the line (an end of file) keeps its distance from the end.
  return chars + 1 + (utf16Col - 1 - prefix.length);
}

/** `positionText` with the column counted in characters, as rustc and clippy print it. */
export function charPositionText(file: string, span: { line: number; col: number } | undefined, sources: SourceCache | undefined): string {
  if (!span || !sources) return positionText(file, span);
  return `${file}:${span.line}:${characterColumn(sources.line(file, span.line), span.col)}`;
}
