// `dmalint rules` and `dmalint explain`.
import { ruleMarkdown, ruleText } from '../lint/explain.js';
import { allRuleMetas, findRuleMeta, suggestRule } from '../lint/registry.js';

export function listRules(): string {
  const metas = allRuleMetas();
  const idWidth = Math.max(...metas.map((m) => m.id.length), 2);
  const lines = [`${'rule'.padEnd(idWidth)}  level  summary`];
  for (const m of metas) lines.push(`${m.id.padEnd(idWidth)}  ${m.defaultLevel.padEnd(5)}  ${m.summary}`);
  return lines.join('\n') + '\n';
}

export function explainRule(id: string, markdown: boolean): { ok: boolean; text: string } {
  const meta = findRuleMeta(id);
  if (!meta) {
    const hint = suggestRule(id);
    return { ok: false, text: `unknown rule \`${id}\`${hint ? `; did you mean \`${hint}\`?` : ''} (run \`dmalint rules\` for the list)` };
  }
  return { ok: true, text: markdown ? ruleMarkdown(meta) : ruleText(meta) };
}
