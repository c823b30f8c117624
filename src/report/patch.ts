// Reports of `dmalint patch`: the findings each patch of a series introduces, under its subject,
// with a line per patch and a total.

import type { FileNotice, Finding, RuleMeta, SourceTexts } from '../lint/types.js';
import { countFindings, plural, sortFindings, SourceCache, TOOL_NAME } from './common.js';
import { formatShort } from './short.js';
import { renderFinding, renderNotice, style } from './human.js';
import { jsonReport, type JsonFinding, type JsonNotice } from './json.js';
import { sarifLog } from './sarif.js';
import type { ReportInput } from './types.js';

export type PatchFormat = 'human' | 'short' | 'json' | 'sarif';

export interface PatchOutcome {
  patch: { index: number; subject: string; origin: string; commit?: string };
  /** Findings the patch introduces, paths relative to the tree root. */
  findings: Finding[];
  /** Notices about the files the patch leaves (syntax errors, unreadable files). */
  notices: FileNotice[];
  /** Files linted after the patch. */
  filesChecked: number;
  /** `.rs` files the patch adds or changes. */
  rustFiles: number;
  /** Texts after the patch. */
  sources: SourceTexts;
}

export interface PatchReviewInput {
  patches: PatchOutcome[];
  /** The commit the series was applied onto. */
  base: string;
  rules: RuleMeta[];
  /** Repository root; finding paths are relative to it. */
  root: string;
  color: boolean;
  toolVersion: string;
}

export const PATCH_JSON_VERSION = 1;

export function formatPatchReview(format: PatchFormat, input: PatchReviewInput): string {
  switch (format) {
    case 'human':
      return formatPatchHuman(input);
    case 'short':
      return formatPatchShort(input);
    case 'json':
      return `${JSON.stringify(patchJson(input), null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(patchSarif(input), null, 2)}\n`;
  }
}

function label(o: PatchOutcome, total: number): string {
  return `[${o.patch.index}/${total}]`;
}

/** `1 error, 0 warnings introduced` or `no findings introduced`; what was linted when nothing was. */
function patchSummary(o: PatchOutcome): string {
  const c = countFindings(o.findings);
  if (o.rustFiles === 0 && o.filesChecked === 0) return 'touches no Rust file';
  if (c.errors + c.warnings === 0) return `no findings introduced (${plural(o.filesChecked, 'file')} checked)`;
  return `${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')} introduced (${plural(o.filesChecked, 'file')} checked)`;
}

function totals(input: PatchReviewInput): { errors: number; warnings: number; withFindings: number } {
  let errors = 0;
  let warnings = 0;
  let withFindings = 0;
  for (const o of input.patches) {
    const c = countFindings(o.findings);
    errors += c.errors;
    warnings += c.warnings;
    if (c.errors + c.warnings > 0) withFindings++;
  }
  return { errors, warnings, withFindings };
}

function totalLine(input: PatchReviewInput): { text: string; level: 'error' | 'warning' | undefined } {
  const t = totals(input);
  const n = input.patches.length;
  const text =
    t.errors + t.warnings === 0
      ? `total: no findings introduced by ${plural(n, 'patch', 'patches')}`
      : `total: ${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')} introduced by ${t.withFindings} of ${plural(n, 'patch', 'patches')}`;
  return { text, level: t.errors > 0 ? 'error' : t.warnings > 0 ? 'warning' : undefined };
}

function readerOf(o: PatchOutcome): SourceCache {
  return new SourceCache((file) => o.sources.get(file));
}

/** Per patch: its subject, the rustc-style diagnostics it introduces, its summary; then the total. */
export function formatPatchHuman(input: PatchReviewInput): string {
  const s = style(input.color);
  const n = input.patches.length;
  const out: string[] = [];
  for (const o of input.patches) {
    out.push(`${s.bold(`${label(o, n)} ${o.patch.subject}`)}\n`);
    const sources = readerOf(o);
    for (const notice of o.notices) out.push(`${renderNotice(notice, input.color, sources).join('\n')}\n\n`);
    for (const f of sortFindings(o.findings)) out.push(`${renderFinding(f, sources, input.color).join('\n')}\n\n`);
    out.push(`${label(o, n)} ${patchSummary(o)}\n\n`);
  }
  const total = totalLine(input);
  out.push(`${total.level ? s.level(total.level, total.text) : s.bold(total.text)}\n`);
  return out.join('');
}

/** `path:line:col: error[rule]: message` per finding, a `[i/n] subject: summary` line per patch, the total. */
export function formatPatchShort(input: PatchReviewInput): string {
  const n = input.patches.length;
  const out: string[] = [];
  for (const o of input.patches) {
    out.push(formatShort(reportInput(input, o)));
    out.push(`${label(o, n)} ${o.patch.subject}: ${patchSummary(o)}\n`);
  }
  out.push(`${totalLine(input).text}\n`);
  return out.join('');
}

function reportInput(input: PatchReviewInput, o: PatchOutcome): ReportInput {
  return {
    result: { findings: o.findings, notices: o.notices, filesChecked: o.filesChecked, durationMs: 0 },
    rules: input.rules,
    cwd: input.root,
    readSource: (file) => o.sources.get(file),
    color: false,
    toolVersion: input.toolVersion,
  };
}

export interface PatchJson {
  version: number;
  tool: string;
  toolVersion: string;
  base: string;
  patches: {
    index: number;
    subject: string;
    origin: string;
    commit: string | null;
    findings: JsonFinding[];
    notices: JsonNotice[];
    summary: { errors: number; warnings: number; filesChecked: number };
  }[];
  summary: { patches: number; patchesWithFindings: number; errors: number; warnings: number };
}

export function patchJson(input: PatchReviewInput): PatchJson {
  const t = totals(input);
  return {
    version: PATCH_JSON_VERSION,
    tool: TOOL_NAME,
    toolVersion: input.toolVersion,
    base: input.base,
    patches: input.patches.map((o) => {
      const report = jsonReport(reportInput(input, o));
      return {
        index: o.patch.index,
        subject: o.patch.subject,
        origin: o.patch.origin,
        commit: o.patch.commit ?? null,
        findings: report.findings,
        notices: report.notices,
        summary: { errors: report.summary.errors, warnings: report.summary.warnings, filesChecked: o.filesChecked },
      };
    }),
    summary: { patches: input.patches.length, patchesWithFindings: t.withFindings, errors: t.errors, warnings: t.warnings },
  };
}

/**
 * One SARIF run with every introduced finding; each result names its patch in `properties`.
 * Each patch's findings are fingerprinted against the files as that patch left them.
 */
export function patchSarif(input: PatchReviewInput): Record<string, unknown> {
  const logs = input.patches.map((o) => ({ o, log: sarifLog(reportInput(input, o)) as { runs: { results: Record<string, unknown>[]; invocations: { toolExecutionNotifications: unknown[] }[] }[] } }));
  const merged = sarifLog({ ...reportInput(input, { ...input.patches[0]!, findings: [], notices: [] }) }) as { runs: { results: unknown[]; invocations: { toolExecutionNotifications: unknown[] }[] }[] };
  const run = merged.runs[0]!;
  for (const { o, log } of logs) {
    for (const r of log.runs[0]!.results) {
      r.properties = { ...(r.properties as object | undefined), patch: o.patch.index, patchSubject: o.patch.subject, ...(o.patch.commit ? { commit: o.patch.commit } : {}) };
      run.results.push(r);
    }
    run.invocations[0]!.toolExecutionNotifications.push(...log.runs[0]!.invocations[0]!.toolExecutionNotifications);
  }
  return merged;
}
