// The edits behind dmalint's code actions, computed from facts and text. Pure: the server turns
// them into LSP code actions.
import type { FileFacts, ImplFacts, ItemExtent, Span } from '../facts/ir.js';
import type { Finding } from '../lint/types.js';

export interface LineEdit {
  /** 0-based line and UTF-16 character range to replace. */
  start: { line: number; character: number };
  end: { line: number; character: number };
  newText: string;
  /** The same edit as a snippet (`${1:...}` placeholders), for clients that take snippets. */
  snippet?: string;
  /** What to select after a plain edit is applied (the placeholder), in the edited text. */
  select?: { line: number; start: number; end: number };
}

export const REASON_PLACEHOLDER = '<reason>';

/** Lines of a text without their end-of-line characters. */
export function splitLines(text: string): string[] {
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function indentOf(line: string | undefined): string {
  return /^[ \t]*/.exec(line ?? '')![0];
}

/** A line holding only attributes or comments (what may stand between an item and its lead). */
function isTriviaLine(line: string): boolean {
  const t = line.trim();
  return t.startsWith('#') || t.startsWith('//') || t.startsWith('/*') || t.startsWith('*');
}

/** The innermost item (function, impl, struct...) whose extent holds `line`. */
export function innermostItem(facts: FileFacts, line: number): ItemExtent | undefined {
  let best: ItemExtent | undefined;
  for (const item of facts.items) {
    if (item.span.line > line || line > item.span.endLine) continue;
    if (!best || item.span.endLine - item.span.line < best.span.endLine - best.span.line) best = item;
  }
  return best;
}

/**
 * A `// dmalint-allow(rule): <reason>` line above the item holding the finding (above its
 * attributes and doc comments), or above the finding's line when no item holds it.
 */
export function suppressionEdit(rule: string, findingLine: number, facts: FileFacts, lines: string[]): LineEdit {
  const item = innermostItem(facts, findingLine);
  let at = findingLine; // 1-based line the comment goes above
  if (item) {
    // Up through the attribute and comment lines; not onto a line of code that ends with a
    // comment (the attribute walk counts that comment as the item's lead too).
    at = item.span.line;
    while (at - 1 >= item.leadLine && isTriviaLine(lines[at - 2] ?? '')) at--;
  }
  const indent = indentOf(lines[(item ? item.span.line : findingLine) - 1]);
  const head = `${indent}// dmalint-allow(${rule}): `;
  const line = Math.max(0, at - 1);
  return {
    start: { line, character: 0 },
    end: { line, character: 0 },
    newText: `${head}${REASON_PLACEHOLDER}\n`,
    snippet: `${escapeSnippet(head)}\${1:${escapeSnippet(REASON_PLACEHOLDER)}}\n`,
    select: { line, start: head.length, end: head.length + REASON_PLACEHOLDER.length },
  };
}

/** Deletes an unused suppression comment: its whole line, or the comment at the end of a line of code. */
export function removeCommentEdit(span: Span, lines: string[]): LineEdit {
  const lineText = lines[span.line - 1] ?? '';
  const before = lineText.slice(0, Math.max(0, span.col - 1));
  const line = span.line - 1;
  if (before.trim() === '') return { start: { line, character: 0 }, end: { line: line + 1, character: 0 }, newText: '' };
  return { start: { line, character: before.trimEnd().length }, end: { line, character: lineText.length }, newText: '' };
}

export interface UnbindTarget {
  path: string;
  impl: ImplFacts;
}

/**
 * The bus driver impl of the struct a `dma_free_without_quiesce` finding is about, when that
 * impl has no `unbind()` (or `remove()`): adding one is where the device gets stopped.
 */
export function unbindTarget(finding: Finding, files: { path: string; facts: FileFacts }[]): UnbindTarget | undefined {
  if (finding.rule !== 'dma_free_without_quiesce') return undefined;
  const structName = /^struct (\w+)$/.exec(finding.item ?? '')?.[1];
  if (!structName) return undefined;
  for (const f of files) {
    for (const impl of f.facts.impls) {
      const trait = impl.trait?.path;
      const self = impl.selfType.path;
      if (!trait || trait[trait.length - 1] !== 'Driver' || !self || self[self.length - 1] !== structName) continue;
      if (impl.fns.some((fn) => fn.name === 'unbind' || fn.name === 'remove')) continue;
      return { path: f.path, impl };
    }
  }
  return undefined;
}

/** An `unbind()` skeleton at the end of the driver impl, with the device type of its `probe()`. */
export function unbindEdit(target: UnbindTarget, lines: string[]): LineEdit {
  const { impl } = target;
  const probe = impl.fns.find((f) => f.name === 'probe');
  const first = probe?.params[0];
  const bus = impl.trait?.path && impl.trait.path.length > 1 ? `${impl.trait.path[impl.trait.path.length - 2]}::` : '';
  const devName = first?.name ?? 'dev';
  const devType = first?.type.text ?? `&${bus}Device<Core>`;
  const indent = probe ? indentOf(lines[probe.span.line - 1]) : `${indentOf(lines[impl.span.line - 1])}    `;
  const signature = `${indent}fn unbind(${devName}: ${devType}, this: Pin<&Self>) {`;
  const comment = [
    `${indent}    // Stop the device before its DMA buffers are dropped: disable the DMA engine,`,
    `${indent}    // clear the address registers or reset the function, through \`this\`.`,
  ];
  const closeLine = impl.span.endLine - 1;
  const closeChar = Math.max(0, impl.span.endCol - 2); // the impl's closing `}`
  const closeText = lines[closeLine] ?? '';
  const aloneOnLine = closeText.slice(0, closeChar).trim() === '';
  const body = [signature, ...comment].join('\n');
  const plain = `${body}\n${indent}}\n`;
  const snippet = `${escapeSnippet(body)}\n${escapeSnippet(indent)}    $0\n${escapeSnippet(indent)}}\n`;
  if (aloneOnLine) {
    const lead = impl.fns.length > 0 ? '\n' : '';
    return { start: { line: closeLine, character: 0 }, end: { line: closeLine, character: 0 }, newText: lead + plain, snippet: lead + snippet };
  }
  return { start: { line: closeLine, character: closeChar }, end: { line: closeLine, character: closeChar }, newText: `\n${plain}`, snippet: `\n${snippet}` };
}

/** Escapes text for the literal parts of an LSP snippet. */
export function escapeSnippet(text: string): string {
  return text.replace(/[\\$}]/g, (c) => `\\${c}`);
}
