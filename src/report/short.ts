// One line per diagnostic: `path:line:col: error[rule_id]: message`.

import { charPositionText, levelWord, oneLine, reportedFindings, sortNotices, sourceCache } from './common.js';
import type { ReportInput } from './types.js';

/** Columns are counted in characters, as rustc counts them. */
export function formatShort(input: ReportInput): string {
  const sources = sourceCache(input);
  const lines: string[] = [];
  for (const n of sortNotices(input.result.notices)) {
    lines.push(`${charPositionText(n.file, n.span, sources)}: warning: ${oneLine(n.message)}`);
  }
  for (const f of reportedFindings(input)) {
    let line = `${charPositionText(f.primary.file, f.primary.span, sources)}: ${levelWord(f.level)}[${f.rule}]: ${oneLine(f.message)}`;
    if (f.suppression) line += ` (suppressed: ${oneLine(f.suppression.reason)})`;
    lines.push(line);
  }
  return lines.map((l) => `${l}\n`).join('');
}
