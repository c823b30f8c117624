// The edits behind dmalint's code actions, computed from facts and text. Pure: the server turns
// them into LSP code actions.
import type { FileFacts, ItemExtent, Span } from '../facts/ir.js';
import type { RuleEdit } from '../rule/api.js';

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

/**
 * A rule's line edit as text edits of the file: inserted lines take the indentation of the line
 * the rule names; a move becomes an insertion after the target line and a deletion, which do
 * not overlap.
 */
export function ruleEditToLineEdits(edit: RuleEdit, lines: string[]): LineEdit[] {
  if (edit.kind === 'insert') {
    const indent = indentOf(lines[edit.indentOf - 1]) + '    '.repeat(edit.indentExtra);
    const text = edit.lines.map((l) => (l === '' ? '' : indent + l)).join('\n') + '\n';
    const at = { line: edit.before - 1, character: 0 };
    return [{ start: at, end: at, newText: text }];
  }
  if (edit.after <= edit.to || edit.from < 1 || edit.after > lines.length) return [];
  const moved = lines.slice(edit.from - 1, edit.to).join('\n') + '\n';
  const at = { line: edit.after, character: 0 };
  return [
    { start: at, end: at, newText: moved },
    { start: { line: edit.from - 1, character: 0 }, end: { line: edit.to, character: 0 }, newText: '' },
  ];
}

/** Escapes text for the literal parts of an LSP snippet. */
export function escapeSnippet(text: string): string {
  return text.replace(/[\\$}]/g, (c) => `\\${c}`);
}
