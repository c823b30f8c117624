// `// dmalint-allow(rule_id[, rule_id]): reason` comments.
import type { Span, SuppressionFacts } from './ir.js';

const MARKER = 'dmalint-allow';
const FORM = /^dmalint-allow\s*\(([^)]*)\)\s*(?::\s*(.*))?$/;

/**
 * Finds suppression comments. `isComment(index)` tells whether the code unit at `index` is inside
 * a comment, so the marker in a string literal or a doc comment is not taken for one.
 */
export function extractSuppressions(text: string, isComment: (index: number) => boolean): SuppressionFacts[] {
  const out: SuppressionFacts[] = [];
  let from = 0;
  for (;;) {
    const at = text.indexOf(MARKER, from);
    if (at === -1) break;
    from = at + MARKER.length;
    if (!isComment(at)) continue;
    const lineStart = text.lastIndexOf('\n', at) + 1;
    let lineEnd = text.indexOf('\n', at);
    if (lineEnd === -1) lineEnd = text.length;
    const before = text.slice(lineStart, at);
    const slashes = before.lastIndexOf('//');
    if (slashes === -1 || before.slice(slashes + 2).trim() !== '') continue;
    const body = text.slice(at, lineEnd).replace(/\r$/, '').trim();
    const line = lineNumberAt(text, at);
    const span: Span = { line, col: slashes + 1, endLine: line, endCol: lineEnd - lineStart + 1 - (text[lineEnd - 1] === '\r' ? 1 : 0) };
    const placement = before.slice(0, slashes).trim() === '' ? 'own-line' : 'trailing';
    const m = FORM.exec(body);
    if (!m) {
      out.push({ rules: [], reason: '', span, placement, malformed: 'expected `dmalint-allow(rule_id): reason`' });
      continue;
    }
    const rules = m[1].split(',').map((r) => r.trim()).filter((r) => r.length > 0);
    const reason = (m[2] ?? '').trim();
    const s: SuppressionFacts = { rules, reason, span, placement };
    if (rules.length === 0) s.malformed = 'no rule id between the parentheses';
    out.push(s);
  }
  return out;
}

function lineNumberAt(text: string, index: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
