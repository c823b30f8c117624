import type { Span } from '../facts/ir.js';
import type { Level, Location, RuleFinding, Severity } from '../rule/api.js';

export type { Level, Location, Rule, RuleContext, DmaRule, RuleExample, RuleFinding, RuleMeta, Severity } from '../rule/api.js';
export { DOCS_BASE_URL, ruleDocUrl } from '../rule/api.js';

/** A rule's finding with its level and suppression state, as the engine reports it. */
export interface Finding extends RuleFinding {
  level: Severity;
  /** Extra `= note:` lines that have no location. */
  notes: string[];
  /** Present when a `dmalint-allow` comment covers this finding. */
  suppression?: { reason: string; location: Location };
}

/** Diagnostics that are not findings of a rule: unreadable files, syntax errors, bad suppressions. */
export interface FileNotice {
  file: string;
  /** `symlink`: a link not followed (without `--follow-symlinks`); does not change the exit code. */
  kind: 'read-error' | 'syntax-error' | 'truncated' | 'binary' | 'too-large' | 'symlink';
  message: string;
  span?: Span;
}

/** The checked files' texts by the path findings use; a text is decoded when first asked for. */
export interface SourceTexts {
  get(file: string): string | undefined;
  keys(): IterableIterator<string>;
}

export interface LintResult {
  findings: Finding[];
  notices: FileNotice[];
  filesChecked: number;
  durationMs: number;
}
