// JUnit XML, for CI systems that show test reports: one test case per finding, one per clean file.

import type { FileNotice, Finding } from '../lint/types.js';
import { levelWord, oneLine, reportedFindings, rootPath, sortNotices, sourceCache, TOOL_NAME } from './common.js';
import { renderFinding } from './human.js';
import type { ReportInput } from './types.js';

/** Characters XML 1.0 does not allow (lone surrogates included) or discourages (C1 controls); removed. */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text content: `& < >` (and quotes, harmlessly) escaped, invalid characters removed. */
export function escapeXmlText(text: string): string {
  return text
    .replace(INVALID_XML, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Attribute value: as text, plus tab and line breaks as character references so they survive. */
export function escapeXmlAttr(text: string): string {
  return escapeXmlText(text).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
}

function attrs(pairs: [string, string | number][]): string {
  return pairs.map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`).join('');
}

interface Case {
  attrs: [string, string | number][];
  /** The `<failure>` or `<error>` element, or none for a passing test case. */
  body?: string;
  failed: boolean;
  errored: boolean;
}

function findingCase(f: Finding, input: ReportInput, sources: ReturnType<typeof sourceCache>): Case {
  const file = rootPath(input, f.primary.file);
  const message = `${levelWord(f.level)}[${f.rule}]: ${oneLine(f.message)}`;
  const text = renderFinding(f, sources, false).join('\n');
  return {
    attrs: [['classname', f.rule], ['name', `${file}:${f.primary.span.line}`], ['file', file], ['line', f.primary.span.line]],
    body: `<failure${attrs([['message', message], ['type', f.rule]])}>${escapeXmlText(text)}</failure>`,
    failed: true,
    errored: false,
  };
}

function noticeCase(n: FileNotice, input: ReportInput): Case {
  const file = rootPath(input, n.file);
  const where = n.span ? `${file}:${n.span.line}:${n.span.col}` : file;
  const pairs: [string, string | number][] = [['classname', `${TOOL_NAME}.${n.kind}`], ['name', n.span ? `${file}:${n.span.line}` : file], ['file', file]];
  if (n.span) pairs.push(['line', n.span.line]);
  return {
    attrs: pairs,
    body: `<error${attrs([['message', oneLine(n.message)], ['type', n.kind]])}>${escapeXmlText(`${where}: ${n.message}`)}</error>`,
    failed: false,
    errored: true,
  };
}

function cleanCase(file: string): Case {
  return { attrs: [['classname', TOOL_NAME], ['name', file], ['file', file]], failed: false, errored: false };
}

/**
 * `<testsuites>` holding one `<testsuite name="dmalint">` with one test case per finding (the
 * rule as `classname`, `path:line` as `name`, `file` and `line` attributes; a `<failure>` whose
 * text is the rustc-style diagnostic), one per file notice (an `<error>`), and a passing test
 * case per checked file with neither, so that CI dashboards count the clean files too. Jenkins
 * and Azure DevOps show one failure per test case: no finding hides behind another.
 */
export function formatJunit(input: ReportInput): string {
  const sources = sourceCache(input);
  const findings = reportedFindings(input, false);
  const notices = sortNotices(input.result.notices);
  const cases: Case[] = [...findings.map((f) => findingCase(f, input, sources)), ...notices.map((n) => noticeCase(n, input))];
  const flagged = new Set([...findings.map((f) => rootPath(input, f.primary.file)), ...notices.map((n) => rootPath(input, n.file))]);
  const clean = [...new Set((input.files ?? []).map((f) => rootPath(input, f)))].filter((f) => !flagged.has(f)).sort();
  cases.push(...clean.map(cleanCase));
  if (cases.length === 0) cases.push({ attrs: [['classname', TOOL_NAME], ['name', TOOL_NAME]], failed: false, errored: false });

  const time = (Math.max(0, input.result.durationMs) / 1000).toFixed(3);
  const counts: [string, string | number][] = [
    ['tests', cases.length],
    ['failures', cases.filter((c) => c.failed).length],
    ['errors', cases.filter((c) => c.errored).length],
  ];
  const body = cases.map((c) =>
    c.body === undefined ? `    <testcase${attrs(c.attrs)}/>` : `    <testcase${attrs(c.attrs)}>\n      ${c.body}\n    </testcase>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs([['name', TOOL_NAME], ...counts, ['time', time]])}>`,
    `  <testsuite${attrs([['name', TOOL_NAME], ...counts, ['skipped', 0], ['time', time]])}>`,
    ...body,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
