import type { Span } from '../facts/ir.js';

/** Configured level of a rule. `allow` turns it off. */
export type Level = 'allow' | 'warn' | 'deny';
/** Level of a reported finding. */
export type Severity = 'warn' | 'deny';

export interface Location {
  /** Path as shown to the user: relative to the working directory when inside it, else absolute. */
  file: string;
  span: Span;
  message?: string;
}

export interface Finding {
  rule: string;
  level: Severity;
  /** Lowercase, the fact first (rustc's voice). */
  message: string;
  primary: Location;
  related: Location[];
  /** Extra `= note:` lines that have no location. */
  notes: string[];
  help?: string;
  /** The item the primary location is in (`impl Driver for Foo`, `fn probe`), for fingerprints. */
  item?: string;
  /** Present when a `dmalint-allow` comment covers this finding. */
  suppression?: { reason: string; location: Location };
}

/** What a rule returns; the engine adds the level and the suppression state. */
export type RuleFinding = Omit<Finding, 'level' | 'suppression' | 'notes'> & { notes?: string[] };

export interface RuleExample {
  title: string;
  code: string;
}

export interface RuleMeta {
  id: string;
  defaultLevel: Level;
  /** One line, lowercase, no final period. */
  summary: string;
  /** Markdown: what it does. */
  whatItDoes: string;
  /** Markdown: why it is a bug. */
  whyBad: string;
  /** Code that the rule reports. */
  badExamples: RuleExample[];
  /** The fixed code. */
  goodExamples: RuleExample[];
  /** Markdown: how to fix. */
  howToFix: string;
  /** Markdown: what the rule does not see. */
  limits: string;
  tags: string[];
  links: { title: string; url: string }[];
}

export interface Rule<Ctx = unknown> {
  meta: RuleMeta;
  check(ctx: Ctx): RuleFinding[];
}

/** Where the rule documentation lives in the repository (SARIF helpUri, LSP codeDescription). */
export const DOCS_BASE_URL = 'https://github.com/dmalint/dmalint/blob/main/docs/rules/';

export function ruleDocUrl(id: string): string {
  return `${DOCS_BASE_URL}${id}.md`;
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
