// Findings as LSP diagnostics: rule id as `code` with a link to its documentation, the level as
// severity, related locations, and in `data` what the code actions need.
import * as path from 'node:path';
import { DiagnosticSeverity, DiagnosticTag, type Diagnostic } from 'vscode-languageserver';
import type { FileFacts } from '../facts/ir.js';
import { INVALID_SUPPRESSION, UNUSED_SUPPRESSION } from '../lint/builtin-rules.js';
import { tooLargeMessage } from '../lint/limits.js';
import { ruleDocUrl, type FileNotice, type Finding } from '../lint/types.js';
import { removeCommentEdit, ruleEditToLineEdits, suppressionEdit, type LineEdit } from './fixes.js';
import { spanToRange } from './positions.js';

export const SOURCE = 'dmalint';

/** An edit of one file, ready for a WorkspaceEdit. */
export interface FileEdit extends LineEdit {
  uri: string;
  /** The version of the open document the edit was computed on; null when read from disk. */
  version: number | null;
}

export interface FixData {
  title: string;
  /** Whether this is the fix to prefer (`isPreferred`). */
  preferred: boolean;
  edits: FileEdit[];
}

/** `Diagnostic.data` of dmalint's diagnostics. */
export interface DiagnosticData {
  rule: string;
  /** The finding's own message, without notes (the hover leads with it). */
  message: string;
  /** Its `note:` and `help:` lines. */
  notes: string[];
  /** Version of the document the diagnostic was computed on; null when read from disk. */
  version: number | null;
  /** Inserts a `dmalint-allow` comment (absent for dmalint's own suppression diagnostics). */
  suppress?: FileEdit;
  fixes: FixData[];
}

export interface FileView {
  path: string;
  uri: string;
  version: number | null;
  text: string;
  lines(): string[];
  facts: FileFacts;
}

/** What converting one crate's findings needs to know about its files. */
export interface CrateView {
  file(path: string): FileView | undefined;
  uriOf(path: string): string;
  files(): { path: string; facts: FileFacts }[];
}

const SEVERITY = { deny: DiagnosticSeverity.Error, warn: DiagnosticSeverity.Warning } as const;

export interface DiagnosticOptions {
  /**
   * Write the related locations into the message as well, for clients that do not show
   * `relatedInformation` (they do not announce it): `the DMA address is given to the device at nic.rs:25`.
   */
  relatedInMessage: boolean;
}

export function findingToDiagnostic(finding: Finding, crate: CrateView, options: DiagnosticOptions = { relatedInMessage: false }): Diagnostic {
  const file = crate.file(finding.primary.file);
  const notes = [...finding.notes.map((n) => `note: ${n}`), ...(finding.help ? [`help: ${finding.help}`] : [])];
  const related = options.relatedInMessage ? finding.related.map((r) => `note: ${relatedText(r.message, locationText(r.file, r.span.line, finding.primary.file))}`) : [];
  const message = [finding.message, ...related, ...notes].join('\n');
  const diagnostic: Diagnostic = {
    range: spanToRange(finding.primary.span),
    severity: SEVERITY[finding.level],
    code: finding.rule,
    codeDescription: { href: ruleDocUrl(finding.rule) },
    source: SOURCE,
    message,
  };
  if (finding.related.length > 0) {
    diagnostic.relatedInformation = finding.related.map((r) => ({
      location: { uri: crate.uriOf(r.file), range: spanToRange(r.span) },
      message: r.message ?? 'related location',
    }));
  }
  if (finding.rule === UNUSED_SUPPRESSION.id) diagnostic.tags = [DiagnosticTag.Unnecessary];
  if (file) diagnostic.data = diagnosticData(finding, notes, file, crate);
  return diagnostic;
}

/** `nic.rs:25`: the file relative to the folder of the finding's file, and the line. */
export function locationText(file: string, line: number, from: string): string {
  const rel = path.relative(path.dirname(from), file).split(path.sep).join('/');
  return `${rel || path.basename(file)}:${line}`;
}

/** A related location's message with where it is: `here` becomes `at nic.rs:25`. */
export function relatedText(message: string | undefined, where: string): string {
  if (!message) return `related location at ${where}`;
  return /\bhere\b/.test(message) ? message.replace(/\bhere\b/, `at ${where}`) : `${message} (${where})`;
}

/** The one diagnostic of a document too large to be analyzed. */
export function tooLargeDiagnostic(bytes: number): Diagnostic {
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Warning,
    source: SOURCE,
    message: tooLargeMessage(bytes),
  };
}

function diagnosticData(finding: Finding, notes: string[], file: FileView, crate: CrateView): DiagnosticData {
  const data: DiagnosticData = { rule: finding.rule, message: finding.message, notes, version: file.version, fixes: [] };
  const own = (edit: LineEdit): FileEdit => ({ ...edit, uri: file.uri, version: file.version });
  if (finding.rule === UNUSED_SUPPRESSION.id) {
    data.fixes.push({ title: 'Remove the unused dmalint-allow comment', preferred: true, edits: [own(removeCommentEdit(finding.primary.span, file.lines()))] });
    return data;
  }
  if (finding.rule === INVALID_SUPPRESSION.id) return data;
  data.suppress = own(suppressionEdit(finding.rule, finding.primary.span.line, file.facts, file.lines()));
  // The rule's own fixes (never preferred: they change what the driver does).
  for (const fix of finding.fixes ?? []) {
    const edits = fix.edits.flatMap((e) => {
      const target = crate.file(e.file);
      return target ? ruleEditToLineEdits(e, target.lines()).map((edit) => ({ ...edit, uri: target.uri, version: target.version })) : [];
    });
    if (edits.length > 0 && edits.length >= fix.edits.length) data.fixes.push({ title: fix.title, preferred: false, edits });
  }
  return data;
}

/** File notices worth showing in an editor: parts of the file that were not analyzed. */
export function noticeToDiagnostic(notice: FileNotice): Diagnostic | undefined {
  if (notice.kind !== 'truncated') return undefined;
  return {
    range: notice.span ? spanToRange(notice.span) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Information,
    source: SOURCE,
    message: notice.message,
  };
}
