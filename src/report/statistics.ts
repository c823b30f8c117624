// `--statistics`: how many findings each rule has, instead of the findings (as ruff prints it).

import { levelWord, reportedFindings, summarize } from './common.js';
import type { ReportInput } from './types.js';

export interface RuleCount {
  rule: string;
  level: 'error' | 'warning';
  count: number;
  summary: string;
}

/** Unsuppressed findings counted per rule and level, most first. */
export function ruleCounts(input: ReportInput): RuleCount[] {
  const counts = new Map<string, RuleCount>();
  const summaries = new Map(input.rules.map((m) => [m.id, m.summary]));
  for (const f of reportedFindings(input, false)) {
    const level = levelWord(f.level);
    const key = `${f.rule}\u0000${level}`;
    const entry = counts.get(key) ?? { rule: f.rule, level, count: 0, summary: summaries.get(f.rule) ?? '' };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) || (a.level < b.level ? -1 : 1));
}

/** Aligned columns: count, rule, level, the rule's summary; then the summary line (human only). */
export function formatStatistics(input: ReportInput, format: 'human' | 'short' | 'json'): string {
  const rows = ruleCounts(input);
  if (format === 'json') return `${JSON.stringify(rows, null, 2)}\n`;
  const countWidth = Math.max(1, ...rows.map((r) => String(r.count).length));
  const ruleWidth = Math.max(0, ...rows.map((r) => r.rule.length));
  const lines = rows.map((r) => `${String(r.count).padStart(countWidth)}  ${r.rule.padEnd(ruleWidth)}  ${r.level.padEnd(7)}  ${r.summary}`.trimEnd());
  if (format === 'human') lines.push(summarize(input).text);
  return lines.map((l) => `${l}\n`).join('');
}
