// GitHub Actions workflow commands (annotations) and the Markdown job summary.

import type { FileNotice, Finding } from '../lint/types.js';
import {
  levelWord,
  plural,
  reportedFindings,
  rootPath,
  sortNotices,
  summarize,
  TOOL_NAME,
} from './common.js';
import type { ReportInput } from './types.js';

/** GitHub shows at most this many annotations of each level (error, warning, notice) per step. */
export const GITHUB_ANNOTATION_LIMIT = 10;
/** Rows of the findings table in the step summary. */
export const STEP_SUMMARY_ROWS = 200;

/** Escaping of a command's message, as in `@actions/core`. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escaping of a command's property value, as in `@actions/core`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function command(name: string, props: [string, string | number | undefined][], message: string): string {
  const list = props
    .filter((p): p is [string, string | number] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${name}${list === '' ? '' : ` ${list}`}::${escapeData(message)}`;
}

function findingCommand(f: Finding, input: ReportInput): string {
  const { span } = f.primary;
  // GitHub only honours columns when the annotation starts and ends on the same line.
  const sameLine = span.endLine === span.line;
  const message = f.help ? `${f.message}\nhelp: ${f.help}` : f.message;
  return command(
    levelWord(f.level),
    [
      ['file', rootPath(input, f.primary.file)],
      ['line', span.line],
      ['endLine', span.endLine],
      ['col', sameLine ? span.col : undefined],
      ['endColumn', sameLine ? span.endCol : undefined],
      ['title', `${TOOL_NAME}(${f.rule})`],
    ],
    message,
  );
}

function noticeCommand(n: FileNotice, input: ReportInput): string {
  return command(
    'warning',
    [
      ['file', rootPath(input, n.file)],
      ['line', n.span?.line],
      ['col', n.span?.col],
      ['title', `${TOOL_NAME}(${n.kind})`],
    ],
    n.message,
  );
}

/**
 * One `::error`/`::warning` command per finding, at most 10 of each level (file notices are
 * warnings and come after the warn-level findings), then a `::notice::` about the rest.
 */
export function formatGithub(input: ReportInput): string {
  const findings = reportedFindings(input, false);
  const notices = sortNotices(input.result.notices);
  const errors = findings.filter((f) => f.level === 'deny');
  const warnings = findings.filter((f) => f.level !== 'deny');

  const shownErrors = new Set(errors.slice(0, GITHUB_ANNOTATION_LIMIT));
  const shownWarnings = new Set(warnings.slice(0, GITHUB_ANNOTATION_LIMIT));
  const noticeBudget = Math.max(0, GITHUB_ANNOTATION_LIMIT - shownWarnings.size);
  const shownNotices = notices.slice(0, noticeBudget);

  const lines: string[] = [];
  for (const f of findings) {
    if (shownErrors.has(f) || shownWarnings.has(f)) lines.push(findingCommand(f, input));
  }
  for (const n of shownNotices) lines.push(noticeCommand(n, input));

  const moreErrors = errors.length - shownErrors.size;
  const moreWarnings = warnings.length - shownWarnings.size;
  const moreNotices = notices.length - shownNotices.length;
  if (moreErrors + moreWarnings + moreNotices > 0) {
    const parts: string[] = [];
    if (moreErrors > 0) parts.push(plural(moreErrors, 'error'));
    if (moreWarnings > 0) parts.push(plural(moreWarnings, 'warning'));
    if (moreNotices > 0) parts.push(plural(moreNotices, 'file notice'));
    const list = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts[0];
    const verb = moreErrors + moreWarnings + moreNotices === 1 ? 'was' : 'were';
    lines.push(
      command(
        'notice',
        [],
        `${TOOL_NAME}: ${list} ${verb} not annotated because GitHub shows at most ` +
          `${GITHUB_ANNOTATION_LIMIT} errors and ${GITHUB_ANNOTATION_LIMIT} warnings per step; ` +
          `run \`dmalint check --format human\` or look at the SARIF upload to see them all`,
      ),
    );
  }
  return lines.map((l) => `${l}\n`).join('');
}

// ---------------------------------------------------------------------------------------------
// Step summary

/** A Markdown code span that holds `text` verbatim (pipes escaped for tables). */
function codeSpan(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  const pad = longest > 0 ? ' ' : '';
  return `${ticks}${pad}${text}${pad}${ticks}`.replace(/\|/g, '\\|');
}

/**
 * Text for a table cell: one line, `|` escaped, `<` escaped outside code spans so that it is not
 * taken for HTML (inside code spans it is shown as written).
 */
export function tableCell(text: string): string {
  const flat = text.replace(/\s*(?:\r\n|\r|\n)\s*/g, ' ');
  const parts = flat.split(/(`+[^`]*?`+)/);
  return parts
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('')
    .replace(/\|/g, '\\|');
}

/** Markdown for `$GITHUB_STEP_SUMMARY`: totals, counts per rule, and the findings (at most 200 rows). */
export function githubStepSummary(input: ReportInput): string {
  const findings = reportedFindings(input, false);
  const summary = summarize(input);
  const out: string[] = [`## ${TOOL_NAME}`, '', `${summary.text[0]!.toUpperCase()}${summary.text.slice(1)}.`];

  if (findings.length > 0) {
    const perRule = new Map<string, { errors: number; warnings: number }>();
    for (const f of findings) {
      const entry = perRule.get(f.rule) ?? { errors: 0, warnings: 0 };
      if (f.level === 'deny') entry.errors++;
      else entry.warnings++;
      perRule.set(f.rule, entry);
    }
    const rows = [...perRule].sort(
      ([a, x], [b, y]) => y.errors + y.warnings - (x.errors + x.warnings) || (a < b ? -1 : a > b ? 1 : 0),
    );
    out.push('', '| Rule | Errors | Warnings |', '| --- | ---: | ---: |');
    for (const [rule, c] of rows) out.push(`| ${codeSpan(rule)} | ${c.errors} | ${c.warnings} |`);

    out.push('', '### Findings', '', '| Level | Rule | Location | Message |', '| --- | --- | --- | --- |');
    for (const f of findings.slice(0, STEP_SUMMARY_ROWS)) {
      const where = `${rootPath(input, f.primary.file)}:${f.primary.span.line}`;
      out.push(`| ${levelWord(f.level)} | ${codeSpan(f.rule)} | ${codeSpan(where)} | ${tableCell(f.message)} |`);
    }
    if (findings.length > STEP_SUMMARY_ROWS) {
      out.push(
        '',
        `_... and ${findings.length - STEP_SUMMARY_ROWS} more; run \`dmalint check --format human\` to see them all._`,
      );
    }
  }

  const notices = sortNotices(input.result.notices);
  if (notices.length > 0) {
    out.push('', '### Files not fully checked', '');
    for (const n of notices.slice(0, STEP_SUMMARY_ROWS)) {
      const where = n.span ? `${rootPath(input, n.file)}:${n.span.line}` : rootPath(input, n.file);
      out.push(`- ${codeSpan(where)}: ${tableCell(n.message)}`);
    }
    if (notices.length > STEP_SUMMARY_ROWS) out.push(`- ... and ${notices.length - STEP_SUMMARY_ROWS} more`);
  }
  return `${out.join('\n')}\n`;
}
