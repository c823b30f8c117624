// One line per diagnostic: `path:line:col: error[rule_id]: message`.

import { levelWord, oneLine, positionText, reportedFindings, sortNotices } from './common.js';
import type { ReportInput } from './types.js';

export function formatShort(input: ReportInput): string {
  const lines: string[] = [];
  for (const n of sortNotices(input.result.notices)) {
    lines.push(`${positionText(n.file, n.span)}: warning: ${oneLine(n.message)}`);
  }
  for (const f of reportedFindings(input)) {
    let line = `${positionText(f.primary.file, f.primary.span)}: ${levelWord(f.level)}[${f.rule}]: ${oneLine(f.message)}`;
    if (f.suppression) line += ` (suppressed: ${oneLine(f.suppression.reason)})`;
    lines.push(line);
  }
  return lines.map((l) => `${l}\n`).join('');
}
