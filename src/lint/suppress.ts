// Applies `dmalint-allow` comments to findings and reports the comments that are wrong.
import type { FileFacts, SuppressionFacts } from '../facts/ir.js';
import { INVALID_SUPPRESSION, UNUSED_SUPPRESSION } from './builtin-rules.js';
import type { Finding, Level } from './types.js';

export interface SuppressionInput {
  file: string;
  facts: FileFacts;
}

/**
 * Reasons that only hold a place: what an editor inserts for the user to replace (`<reason>`,
 * a snippet written out literally) and the words written to come back later.
 */
const PLACEHOLDER_REASON = /^(?:<[^<>]*>|\$\{\d+(?::[^}]*)?\}|\$\d+|todo|fixme|xxx|tbd|reason|why|placeholder|none|n\/?a|\.{2,}|…|-+|\?+)[.:!?]*$/i;

/** Whether a suppression's reason says something: not empty and not a placeholder. */
export function isRealReason(reason: string): boolean {
  return reason.trim() !== '' && !PLACEHOLDER_REASON.test(reason.trim());
}

/** Whether `s` covers a finding of `rule` whose primary location starts on `line`. */
function covers(s: SuppressionFacts, all: SuppressionFacts[], facts: FileFacts, rule: string, line: number): boolean {
  if (!s.rules.includes(rule) || s.malformed || !isRealReason(s.reason)) return false;
  const at = s.span.line;
  if (s.placement === 'trailing') return at === line;
  if (at === line - 1) return true;
  // Several suppression comments stacked above the line.
  if (at < line && all.some((o) => o.placement === 'own-line' && o.span.line === line - 1)) {
    let l = line - 1;
    while (l > at && all.some((o) => o.placement === 'own-line' && o.span.line === l)) l--;
    if (l === at) return true;
  }
  // Above an item (among its attributes and comments): covers the whole item.
  return facts.items.some((item) => item.leadLine <= at && at < item.span.line && item.span.line <= line && line <= item.span.endLine);
}

export function applySuppressions(
  findings: Finding[],
  files: SuppressionInput[],
  levels: Record<string, Level>,
  knownRules: Set<string>,
  activeRules: Set<string>,
): Finding[] {
  const out: Finding[] = [];
  const byFile = new Map(files.map((f) => [f.file, f]));
  const used = new Set<SuppressionFacts>();
  for (const finding of findings) {
    const file = byFile.get(finding.primary.file);
    const s = file?.facts.suppressions.find((x) => covers(x, file.facts.suppressions, file.facts, finding.rule, finding.primary.span.line));
    if (s && file) {
      used.add(s);
      out.push({ ...finding, suppression: { reason: s.reason, location: { file: file.file, span: s.span } } });
    } else out.push(finding);
  }
  const invalidLevel = levels[INVALID_SUPPRESSION.id] ?? INVALID_SUPPRESSION.defaultLevel;
  const unusedLevel = levels[UNUSED_SUPPRESSION.id] ?? UNUSED_SUPPRESSION.defaultLevel;
  for (const { file, facts } of files) {
    for (const s of facts.suppressions) {
      const problem = suppressionProblem(s, knownRules);
      if (problem && invalidLevel !== 'allow') {
        out.push({
          rule: INVALID_SUPPRESSION.id,
          level: invalidLevel,
          message: problem.message,
          primary: { file, span: s.span },
          related: [],
          notes: [],
          help: problem.help,
        });
      } else if (!problem && !used.has(s) && unusedLevel !== 'allow' && s.rules.every((r) => activeRules.has(r))) {
        out.push({
          rule: UNUSED_SUPPRESSION.id,
          level: unusedLevel,
          message: `this \`dmalint-allow(${s.rules.join(', ')})\` suppresses nothing`,
          primary: { file, span: s.span },
          related: [],
          notes: [],
          help: 'remove the comment, or move it to the line above the finding or above its item',
        });
      }
    }
  }
  return out;
}

function suppressionProblem(s: SuppressionFacts, known: Set<string>): { message: string; help: string } | undefined {
  if (s.malformed) return { message: `malformed suppression comment: ${s.malformed}`, help: 'write `// dmalint-allow(rule_id): reason`' };
  const unknown = s.rules.filter((r) => !known.has(r));
  if (unknown.length > 0) {
    return {
      message: `unknown rule ${unknown.map((r) => `\`${r}\``).join(', ')} in suppression comment`,
      help: `known rules: ${[...known].sort().join(', ')}`,
    };
  }
  if (!isRealReason(s.reason)) {
    return {
      message: s.reason === '' ? 'suppression comment without a reason' : `suppression comment with a placeholder for a reason: \`${s.reason}\``,
      help: s.reason === '' ? `say why the finding is wrong or acceptable: \`// dmalint-allow(${s.rules.join(', ')}): <reason>\`` : 'write in place of the placeholder why the finding is wrong or acceptable',
    };
  }
  return undefined;
}
