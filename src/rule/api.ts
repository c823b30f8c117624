// The contract between the engine and a rule: what a rule is given (one crate's model and the
// kernel API), what it returns (findings without levels), and the metadata that documents it.
// Below the rules and above the model, so that rules, config and the engine all import it.
import type { Span } from '../facts/ir.js';
import type { Crate } from '../model/crate.js';
import type { KernelApi } from '../model/kernel-api.js';

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

/**
 * An edit of whole lines, so that a rule can suggest code without the file's text: the lines are
 * indented like line `indentOf` (plus `indentExtra` levels) by whoever applies the edit.
 */
export type RuleEdit =
  | { kind: 'insert'; file: string; /** 1-based: the lines go before this line. */ before: number; lines: string[]; indentOf: number; indentExtra: number }
  | { kind: 'move'; file: string; /** 1-based, inclusive. */ from: number; to: number; /** The lines go after this line. */ after: number };

/** A fix a rule knows for its finding; offered as a quick fix, never applied without asking. */
export interface RuleFix {
  title: string;
  edits: RuleEdit[];
}

/** What a rule returns; the engine adds the level and the suppression state. */
export interface RuleFinding {
  rule: string;
  /** Lowercase, the fact first (rustc's voice). */
  message: string;
  primary: Location;
  related: Location[];
  /** Extra `= note:` lines that have no location. */
  notes?: string[];
  help?: string;
  /** The item the primary location is in (`impl Driver for Foo`, `fn probe`), for fingerprints. */
  item?: string;
  /** Fixes the rule can suggest (quick fixes in the language server). */
  fixes?: RuleFix[];
}

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

/** What a rule's check receives: one crate's model and the kernel API knowledge. */
export interface RuleContext {
  crate: Crate;
  api: KernelApi;
}

export type DmaRule = Rule<RuleContext>;
