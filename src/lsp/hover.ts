// Hovers: over a finding, its evidence first (the finding, where the address reaches the
// device, what was checked, its notes), then one line about the rule and the link to its
// documentation; over a `dmalint-allow` comment, that line for each rule it names.
import type { Diagnostic } from 'vscode-languageserver';
import { fileURLToPath } from 'node:url';
import type { RuleMeta } from '../lint/types.js';
import { ruleDocUrl } from '../lint/types.js';
import type { DiagnosticData } from './diagnostics.js';
import { locationText, relatedText } from './diagnostics.js';

export type HoverFormat = 'markdown' | 'plaintext';

/** The evidence of one diagnostic of dmalint's. */
export function findingHover(d: Diagnostic, documentUri: string, format: HoverFormat): string {
  const data = d.data as DiagnosticData | undefined;
  const headline = data?.message ?? d.message.split('\n')[0];
  const notes = data?.notes ?? [];
  const from = pathOf(documentUri);
  const related = (d.relatedInformation ?? []).map((r) => {
    const file = pathOf(r.location.uri);
    const line = r.location.range.start.line + 1;
    const where = from && file ? locationText(file, line, from) : `${r.location.uri}:${line}`;
    const shown = format === 'markdown' ? `[${where}](${r.location.uri}#L${line})` : where;
    const message = r.message === 'related location' ? undefined : r.message;
    return relatedText(message && format === 'markdown' ? escapeMarkdown(message) : message, shown);
  });
  if (format === 'plaintext') return [headline, ...related.map((r) => `  ${r}`), ...notes].join('\n');
  return [escapeMarkdown(headline), ...(related.length > 0 ? ['', ...related.map((r) => `- ${r}`)] : []), ...(notes.length > 0 ? ['', ...notes.map(escapeMarkdown)] : [])].join('\n');
}

/** One line about a rule and the link to its documentation. */
export function ruleLine(meta: RuleMeta, format: HoverFormat): string {
  if (format === 'plaintext') return `${meta.id}: ${meta.summary}\n${ruleDocUrl(meta.id)}`;
  return `\`${meta.id}\`: ${meta.summary}. [Documentation](${ruleDocUrl(meta.id)})`;
}

function pathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

/** Markdown's own characters in a finding's text, outside its code spans (backticks, as in rustc). */
function escapeMarkdown(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/([\\*_[\]<>#|])/g, '\\$1')))
    .join('');
}
