// The one order of findings: the engine sorts by it and every report prints in it.
import type { Finding } from './types.js';

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Order by file, then line, then column, then rule id and message (deterministic for ties). */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    compareStrings(a.primary.file, b.primary.file) ||
    a.primary.span.line - b.primary.span.line ||
    a.primary.span.col - b.primary.span.col ||
    a.primary.span.endLine - b.primary.span.endLine ||
    a.primary.span.endCol - b.primary.span.endCol ||
    compareStrings(a.rule, b.rule) ||
    compareStrings(a.message, b.message)
  );
}
