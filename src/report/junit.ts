// JUnit XML, for CI systems that show test reports: one test case per file with findings.

import type { FileNotice, Finding } from '../lint/types.js';
import { levelWord, oneLine, reportedFindings, sortNotices, sourceCache, TOOL_NAME } from './common.js';
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
  file: string;
  findings: Finding[];
  notices: FileNotice[];
}

/**
 * `<testsuites>` holding one `<testsuite name="dmalint">`; `tests` counts test cases and
 * `failures`/`errors` count the test cases that have a failure (finding) or an error (a file
 * notice). Each finding is a `<failure>` whose text is the rustc-style diagnostic.
 */
export function formatJunit(input: ReportInput): string {
  const sources = sourceCache(input);
  const cases = new Map<string, Case>();
  const entry = (file: string): Case => {
    let c = cases.get(file);
    if (!c) {
      c = { file, findings: [], notices: [] };
      cases.set(file, c);
    }
    return c;
  };
  for (const f of reportedFindings(input, false)) entry(f.primary.file).findings.push(f);
  for (const n of sortNotices(input.result.notices)) entry(n.file).notices.push(n);

  const sorted = [...cases.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const failures = sorted.filter((c) => c.findings.length > 0).length;
  const errors = sorted.filter((c) => c.notices.length > 0).length;
  const tests = Math.max(1, sorted.length);
  const time = (Math.max(0, input.result.durationMs) / 1000).toFixed(3);

  const body: string[] = [];
  if (sorted.length === 0) {
    body.push(`    <testcase${attrs([['classname', TOOL_NAME], ['name', TOOL_NAME]])}/>`);
  }
  for (const c of sorted) {
    body.push(`    <testcase${attrs([['classname', c.file], ['name', c.file]])}>`);
    for (const f of c.findings) {
      const message = `${levelWord(f.level)}[${f.rule}]: ${oneLine(f.message)}`;
      const text = renderFinding(f, sources, false).join('\n');
      body.push(`      <failure${attrs([['message', message], ['type', f.rule]])}>${escapeXmlText(text)}</failure>`);
    }
    for (const n of c.notices) {
      const where = n.span ? `${n.file}:${n.span.line}:${n.span.col}` : n.file;
      body.push(
        `      <error${attrs([['message', oneLine(n.message)], ['type', n.kind]])}>${escapeXmlText(`${where}: ${n.message}`)}</error>`,
      );
    }
    body.push('    </testcase>');
  }

  const counts: [string, string | number][] = [
    ['tests', tests],
    ['failures', failures],
    ['errors', errors],
  ];
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
