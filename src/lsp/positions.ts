// Conversions between LSP positions, text offsets, tree-sitter points and fact spans.
//
// LSP positions are 0-based lines and 0-based UTF-16 columns. Fact spans are 1-based lines and
// 1-based UTF-16 columns with an exclusive end column. Tree-sitter's Node binding counts text in
// UTF-16 code units and rows by `\n` only; a lone `\r` (which LSP also takes as a line break) is
// rare enough in Rust sources that spans are mapped line for line.
import type { Range } from 'vscode-languageserver';
import type { Span } from '../facts/ir.js';

export interface Point {
  row: number;
  column: number;
}

/** The argument of tree-sitter's `Tree.edit`. */
export interface TreeEdit {
  startIndex: number;
  oldEndIndex: number;
  newEndIndex: number;
  startPosition: Point;
  oldEndPosition: Point;
  newEndPosition: Point;
}

export function spanToRange(span: Span): Range {
  return {
    start: { line: Math.max(0, span.line - 1), character: Math.max(0, span.col - 1) },
    end: { line: Math.max(0, span.endLine - 1), character: Math.max(0, span.endCol - 1) },
  };
}

/** The tree-sitter point (rows split at `\n`) of a UTF-16 offset in `text`. */
export function pointAt(text: string, offset: number): Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: offset - lineStart };
}

/** The point reached after writing `inserted` at `start`. */
export function pointAfter(start: Point, inserted: string): Point {
  const last = inserted.lastIndexOf('\n');
  if (last === -1) return { row: start.row, column: start.column + inserted.length };
  let rows = 0;
  for (let i = inserted.indexOf('\n'); i !== -1; i = inserted.indexOf('\n', i + 1)) rows++;
  return { row: start.row + rows, column: inserted.length - last - 1 };
}

/** The edit that tells a tree of `oldText` that [start, end) was replaced by `inserted`. */
export function treeEditFor(oldText: string, start: number, end: number, inserted: string): TreeEdit {
  const startPosition = pointAt(oldText, start);
  const oldEndPosition = end === start ? startPosition : pointAt(oldText, end);
  return {
    startIndex: start,
    oldEndIndex: end,
    newEndIndex: start + inserted.length,
    startPosition,
    oldEndPosition,
    newEndPosition: pointAfter(startPosition, inserted),
  };
}

export function rangeContains(range: Range, pos: { line: number; character: number }): boolean {
  const afterStart = pos.line > range.start.line || (pos.line === range.start.line && pos.character >= range.start.character);
  const beforeEnd = pos.line < range.end.line || (pos.line === range.end.line && pos.character <= range.end.character);
  return afterStart && beforeEnd;
}

export function rangesOverlap(a: Range, b: Range): boolean {
  return rangeContains(a, b.start) || rangeContains(a, b.end) || rangeContains(b, a.start);
}
