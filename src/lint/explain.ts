// Renders a rule's metadata as documentation. The same text serves `dmalint explain`,
// docs/rules/<id>.md and SARIF `help`.
import { ruleDocUrl, type RuleMeta } from './types.js';

const LEVEL_WORDS = { deny: 'deny (error)', warn: 'warn (warning)', allow: 'allow (off)' } as const;

/** Full Markdown documentation of a rule. */
export function ruleMarkdown(meta: RuleMeta): string {
  const out: string[] = [];
  out.push(`# ${meta.id}`, '', `${capitalize(meta.summary)}.`, '', `Default level: \`${meta.defaultLevel}\`.`, '');
  out.push('## What it does', '', meta.whatItDoes, '');
  out.push('## Why is this bad', '', meta.whyBad, '');
  out.push('## Example', '');
  for (const ex of meta.badExamples) out.push(`Reported (${ex.title}):`, '', codeBlock(ex.code), '');
  for (const ex of meta.goodExamples) out.push(`Correct (${ex.title}):`, '', codeBlock(ex.code), '');
  out.push('## How to fix', '', meta.howToFix, '');
  out.push('## Suppressing', '', `When a finding is wrong or accepted, say why next to it:`, '', '```rust', `// dmalint-allow(${meta.id}): <why this is safe>`, '```', '',
    'on the line before the finding, at the end of its line, or before the item (function, impl, struct) that contains it. A reason is required.', '');
  out.push('## Limits', '', meta.limits, '');
  if (meta.links.length > 0) {
    out.push('## See also', '');
    for (const l of meta.links) out.push(`- [${l.title}](${l.url})`);
    out.push('');
  }
  return out.join('\n');
}

/** Plain text for a terminal: the Markdown without its markup noise. */
export function ruleText(meta: RuleMeta): string {
  const md = ruleMarkdown(meta);
  const lines: string[] = [];
  let fence = '';
  for (const line of md.split('\n')) {
    const open = /^(`{3,})\w*$/.exec(line);
    if (fence === '' && open) {
      fence = open[1];
      continue;
    }
    if (fence !== '' && line === fence) {
      fence = '';
      continue;
    }
    if (fence !== '') lines.push(`    ${line}`);
    else if (line.startsWith('# ')) lines.push(`${line.slice(2)}  [${LEVEL_WORDS[meta.defaultLevel]}]`);
    else if (line.startsWith('## ')) lines.push(line.slice(3).toUpperCase());
    else if (line.startsWith('Default level:')) continue;
    else lines.push(line.replace(/`([^`]*)`/g, '$1').replace(/\*([^*]+)\*/g, '$1').replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 <$2>'));
  }
  lines.push(`Documentation: ${ruleDocUrl(meta.id)}`);
  return lines.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

/** A fenced Rust block; the fence is longer than any run of backticks in the code. */
function codeBlock(code: string): string {
  const body = code.replace(/^(?:[ \t]*\r?\n)+/, '').replace(/\s+$/, '');
  const longest = Math.max(0, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}rust\n${body}\n${fence}`;
}

function capitalize(s: string): string {
  return s.length > 0 ? s[0].toUpperCase() + s.slice(1) : s;
}
