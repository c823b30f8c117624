// rustc-style diagnostics with code frames.

import type { FileNotice, Finding, Location } from '../lint/types.js';
import {
  levelWord,
  charPositionText,
  reportedFindings,
  sortNotices,
  sourceCache,
  summarize,
  type SourceCache,
} from './common.js';
import type { ReportInput } from './types.js';

/** Tabs are shown as this many spaces, in the code and when placing carets. */
export const TAB_WIDTH = 4;

// ---------------------------------------------------------------------------------------------
// Styles

interface Style {
  level(level: 'error' | 'warning', text: string): string;
  /** Headline message and summary text. */
  bold(text: string): string;
  /** Line numbers, `|`, `-->`, `=`, related carets (rustc's bold blue). */
  gutter(text: string): string;
  note(text: string): string;
  help(text: string): string;
}

function sgr(codes: string): (text: string) => string {
  return (text) => (text === '' ? '' : `\x1b[${codes}m${text}\x1b[0m`);
}

const COLOR: Style = {
  level: (level, text) => (level === 'error' ? sgr('1;31') : sgr('1;33'))(text),
  bold: sgr('1'),
  gutter: sgr('1;34'),
  note: sgr('1;32'),
  help: sgr('1;36'),
};

const identity = (text: string): string => text;
const PLAIN: Style = { level: (_l, text) => text, bold: identity, gutter: identity, note: identity, help: identity };

export function style(color: boolean): Style {
  return color ? COLOR : PLAIN;
}

// ---------------------------------------------------------------------------------------------
// Display width

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for wide (CJK, emoji). */
function codePointWidth(cp: number): number {
  if (cp === 0x09) return TAB_WIDTH;
  if (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xfe20 && cp <= 0xfe2f)
  )
    return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** Terminal columns of `text` with tabs expanded (a lone surrogate counts as one column). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += codePointWidth(ch.codePointAt(0) ?? 0);
  return width;
}

export function expandTabs(text: string): string {
  return text.replace(/\t/g, ' '.repeat(TAB_WIDTH));
}

/** Source as shown: tabs expanded, other control characters (a stray `\r`, escapes) made visible. */
function displayCode(text: string): string {
  return expandTabs(text).replace(/[\u0000-\u0008\u000A-\u001F\u007F]/g, '\uFFFD');
}

// ---------------------------------------------------------------------------------------------
// Code frames

interface FrameLine {
  /** The source line with tabs expanded and trailing whitespace removed. */
  code: string;
  /** Spaces before the carets. */
  indent: number;
  carets: number;
  /** The span continues on later lines. */
  continues: boolean;
}

/** Source lines wider than this are shown as a window around the span, cut with `...`. */
const MAX_FRAME_COLUMNS = 120;
/** Columns kept before the span when a line is cut. */
const FRAME_CONTEXT = 40;

/**
 * Where the carets of `span` go on its first line; columns are 1-based UTF-16 code units. A line
 * wider than the frame (generated code, a minified table) is cut to a window around the span,
 * as rustc does, so one finding never prints megabytes.
 */
export function frameLine(text: string, span: Location['span']): FrameLine {
  if (text.length <= LONG_LINE) return frameWholeLine(text, span);
  // Only the part around the span is measured: a finding on a megabyte-long line costs what one
  // on a short line does, and thousands of findings on it stay linear.
  const start = Math.min(Math.max(span.col, 1), text.length + 1) - 1;
  let from = Math.max(0, start - 2 * MAX_FRAME_COLUMNS);
  let to = Math.min(text.length, start + 4 * MAX_FRAME_COLUMNS);
  if (from > 0 && isLowSurrogate(text.charCodeAt(from))) from--;
  if (to < text.length && isLowSurrogate(text.charCodeAt(to))) to++;
  const continues = span.endLine > span.line || (to < text.length && span.endCol - 1 > to);
  const endCol = continues ? to - from + 1 : span.endCol - from;
  const frame = frameWholeLine(text.slice(from, to), { line: span.line, col: start - from + 1, endLine: span.line, endCol });
  let code = frame.code;
  let indent = frame.indent;
  if (from > 0 && !code.startsWith('...')) {
    code = `...${code}`;
    indent += 3;
  }
  if (to < text.length && !code.endsWith('...')) code += '...';
  return { code, indent, carets: frame.carets, continues: frame.continues || continues };
}

/** Lines longer than this (in UTF-16 code units) are cut to the span's surroundings first. */
const LONG_LINE = 8 * MAX_FRAME_COLUMNS;

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** The frame measured over the whole line, however long: `frameLine` for short lines. */
export function frameWholeLine(text: string, span: Location['span']): FrameLine {
  const start = Math.min(Math.max(span.col, 1), text.length + 1) - 1;
  const continues = span.endLine > span.line;
  const end = continues ? text.length : Math.min(Math.max(span.endCol - 1, start), text.length);
  const code = displayCode(text).trimEnd();
  const indent = displayWidth(text.slice(0, start));
  const carets = Math.max(1, displayWidth(text.slice(start, end)));
  const width = displayWidth(code);
  if (width <= MAX_FRAME_COLUMNS) return { code, indent, carets, continues };
  const window = sliceColumns(code, Math.max(0, Math.min(indent - FRAME_CONTEXT, width - MAX_FRAME_COLUMNS)), MAX_FRAME_COLUMNS);
  const cutLeft = window.from > 0;
  const cutRight = window.to < width;
  const shownIndent = indent - window.from + (cutLeft ? 3 : 0);
  return {
    code: `${cutLeft ? '...' : ''}${window.text}${cutRight ? '...' : ''}`,
    indent: shownIndent,
    carets: Math.max(1, Math.min(carets, window.to - indent)),
    continues: continues || indent + carets > window.to,
  };
}

/**
 * The characters of `text` (no tabs) that fit in `columns` display columns from column `from`,
 * and the columns they really start and end at (a wide character is never cut in half).
 */
function sliceColumns(text: string, from: number, columns: number): { text: string; from: number; to: number } {
  let col = 0;
  let begin = -1;
  let realFrom = 0;
  let realTo = 0;
  let index = 0;
  let endIndex = text.length;
  for (const ch of text) {
    const w = codePointWidth(ch.codePointAt(0) ?? 0);
    if (begin === -1 && col >= from) {
      begin = index;
      realFrom = col;
    }
    if (begin !== -1 && col + w > realFrom + columns) {
      endIndex = index;
      break;
    }
    col += w;
    index += ch.length;
    realTo = col;
  }
  if (begin === -1) return { text: '', from: col, to: col };
  return { text: text.slice(begin, endIndex), from: realFrom, to: realTo };
}

function digits(n: number): number {
  return String(Math.max(1, n)).length;
}

/**
 * The `--> file:line:col` line and, when the source line is available, the frame with carets.
 * `width` is the gutter width (digits of the largest line number in the diagnostic).
 */
function renderFrame(
  loc: Location,
  sources: SourceCache,
  width: number,
  s: Style,
  caret: (text: string) => string,
  label: string | undefined,
): { lines: string[]; framed: boolean } {
  const pad = ' '.repeat(width);
  const lines = [`${pad}${s.gutter('-->')} ${charPositionText(loc.file, loc.span, sources)}`];
  const text = sources.line(loc.file, loc.span.line);
  if (text === undefined) return { lines, framed: false };
  const frame = frameLine(text, loc.span);
  const bar = s.gutter('|');
  const lineNo = s.gutter(String(loc.span.line).padEnd(width));
  let marks = caret('^'.repeat(frame.carets));
  if (frame.continues) marks += ` ${caret('...')}`;
  if (label) marks += ` ${caret(label)}`;
  lines.push(`${pad} ${bar}`);
  lines.push(frame.code === '' ? `${lineNo} ${bar}` : `${lineNo} ${bar} ${frame.code}`);
  lines.push(`${pad} ${bar} ${' '.repeat(frame.indent)}${marks}`);
  return { lines, framed: true };
}

/** The lines of one finding, without the blank line that separates diagnostics. */
export function renderFinding(f: Finding, sources: SourceCache, color: boolean): string[] {
  const s = style(color);
  const word = levelWord(f.level);
  const width = Math.max(digits(f.primary.span.line), ...f.related.map((r) => digits(r.span.line)));
  const pad = ' '.repeat(width);
  const bar = s.gutter('|');
  const primaryCaret = (text: string): string => s.level(word, text);

  const out: string[] = [`${s.level(word, `${word}[${f.rule}]`)}${s.bold(`: ${f.message}`)}`];
  out.push(...renderFrame(f.primary, sources, width, s, primaryCaret, f.primary.message).lines);

  for (const r of f.related) {
    out.push(`${pad} ${bar}`);
    const header = out.length;
    // rustc's span_note: the related message is the note's title, the frame shows where.
    const frame = renderFrame(r, sources, width, s, s.gutter, undefined);
    const title = r.message ?? 'related location';
    out.splice(header, 0, `${s.note('note')}${s.bold(`: ${title}`)}`);
    out.push(...frame.lines);
  }

  const tail: string[] = [];
  for (const note of f.notes) tail.push(`${pad} ${s.gutter('=')} ${s.bold('note')}: ${note}`);
  if (f.help) tail.push(`${pad} ${s.gutter('=')} ${s.help('help')}: ${f.help}`);
  if (f.suppression) {
    const at = charPositionText(f.suppression.location.file, f.suppression.location.span, sources);
    tail.push(`${pad} ${s.gutter('=')} ${s.bold('note')}: suppressed by \`dmalint-allow\` at ${at}: ${f.suppression.reason}`);
  }
  if (tail.length > 0) out.push(`${pad} ${bar}`, ...tail);
  return out;
}

export function renderNotice(n: FileNotice, color: boolean, sources?: SourceCache): string[] {
  const s = style(color);
  const pad = ' '.repeat(n.span ? digits(n.span.line) : 1);
  return [`${s.level('warning', 'warning')}${s.bold(`: ${n.message}`)}`, `${pad}${s.gutter('-->')} ${charPositionText(n.file, n.span, sources)}`];
}

/** rustc-style report: notices, then findings in file order, then a summary line. */
export function formatHuman(input: ReportInput): string {
  const sources = sourceCache(input);
  const s = style(input.color);
  const blocks: string[][] = [];
  for (const n of sortNotices(input.result.notices)) blocks.push(renderNotice(n, input.color, sources));
  for (const f of reportedFindings(input)) blocks.push(renderFinding(f, sources, input.color));

  const summary = summarize(input);
  const last = summary.level ? `${s.level(summary.level, summary.level)}${s.bold(`: ${summary.text}`)}` : s.bold(summary.text);
  return [...blocks.map((b) => `${b.join('\n')}\n\n`), `${last}\n`].join('');
}
