// The one place that imports the rules: their checks for the engine, their metadata for the
// CLI, reports and the language server.
import { RULES } from '../../rules/index.js';
import { BUILTIN_METAS } from './builtin-rules.js';
import { editDistance } from '../config/edit-distance.js';
import type { RuleMeta } from './types.js';

export { RULES };

export function allRuleMetas(): RuleMeta[] {
  return [...RULES.map((r) => r.meta), ...BUILTIN_METAS];
}

export function findRuleMeta(id: string): RuleMeta | undefined {
  return allRuleMetas().find((m) => m.id === id);
}

/** The closest rule id to a misspelled one, if close enough to be a typo. */
export function suggestRule(id: string): string | undefined {
  let best: { id: string; d: number } | undefined;
  for (const m of allRuleMetas()) {
    const d = editDistance(id, m.id);
    if (!best || d < best.d) best = { id: m.id, d };
  }
  return best && best.d <= Math.max(2, Math.floor(id.length / 4)) ? best.id : undefined;
}
