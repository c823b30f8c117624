// Machine-readable report; the format is documented in docs/json-format.md.

import type { FileNotice, Finding, Location } from '../lint/types.js';
import {
  countFindings,
  levelWord,
  lineFingerprints,
  reportedFindings,
  sortNotices,
  sourceCache,
  TOOL_NAME,
} from './common.js';
import type { ReportInput } from './types.js';

/** Bump on incompatible changes; see docs/json-format.md. */
export const JSON_FORMAT_VERSION = 1;

export interface JsonLocation {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface JsonRelated extends JsonLocation {
  message: string | null;
}

export interface JsonFinding extends JsonLocation {
  rule: string;
  level: 'error' | 'warning';
  message: string;
  related: JsonRelated[];
  notes: string[];
  help: string | null;
  item: string | null;
  fingerprint: string;
  suppressed: { reason: string } | null;
}

export interface JsonNotice {
  file: string;
  kind: FileNotice['kind'];
  message: string;
  line: number | null;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
}

export interface JsonReport {
  version: number;
  tool: string;
  toolVersion: string;
  findings: JsonFinding[];
  notices: JsonNotice[];
  summary: {
    errors: number;
    warnings: number;
    suppressed: number;
    filesChecked: number;
    durationMs: number;
  };
}

function location(loc: Location): JsonLocation {
  return {
    file: loc.file,
    line: loc.span.line,
    column: loc.span.col,
    endLine: loc.span.endLine,
    endColumn: loc.span.endCol,
  };
}

export function jsonReport(input: ReportInput): JsonReport {
  const fingerprints = lineFingerprints(input, sourceCache(input));
  const counts = countFindings(input.result.findings);
  const findings = reportedFindings(input).map(
    (f: Finding): JsonFinding => ({
      rule: f.rule,
      level: levelWord(f.level),
      message: f.message,
      ...location(f.primary),
      related: f.related.map((r) => ({ ...location(r), message: r.message ?? null })),
      notes: [...f.notes],
      help: f.help ?? null,
      item: f.item ?? null,
      fingerprint: fingerprints.get(f)?.lineHash ?? '',
      suppressed: f.suppression ? { reason: f.suppression.reason } : null,
    }),
  );
  const notices = sortNotices(input.result.notices).map(
    (n): JsonNotice => ({
      file: n.file,
      kind: n.kind,
      message: n.message,
      line: n.span?.line ?? null,
      column: n.span?.col ?? null,
      endLine: n.span?.endLine ?? null,
      endColumn: n.span?.endCol ?? null,
    }),
  );
  return {
    version: JSON_FORMAT_VERSION,
    tool: TOOL_NAME,
    toolVersion: input.toolVersion,
    findings,
    notices,
    summary: {
      errors: counts.errors,
      warnings: counts.warnings,
      suppressed: counts.suppressed,
      filesChecked: input.result.filesChecked,
      durationMs: input.result.durationMs,
    },
  };
}

export function formatJson(input: ReportInput): string {
  return `${JSON.stringify(jsonReport(input), null, 2)}\n`;
}
