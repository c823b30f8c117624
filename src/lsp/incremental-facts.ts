// Facts of an edited file without re-walking all of it. Walking a whole syntax tree through the
// tree-sitter binding costs ~80 ms for 3,000 lines, far over a keystroke's budget, while one
// top-level item costs well under a millisecond. So a file is cut into chunks (a top-level item
// with the attributes and comments above it); a chunk whose text is unchanged keeps its facts
// (moved by whole lines when lines were added or removed above it), and only the others are
// extracted again, each by `extractFacts` on a text that holds the chunk at its real line and
// column. The result is the same FileFacts that `extractFacts` gives for the whole text.
import { extractFacts } from '../facts/extract.js';
import { FACTS_VERSION, type FileFacts, type Span } from '../facts/ir.js';
import { parseRust, type SyntaxNode, type Tree } from '../syntax/parser.js';

/** Where a chunk sits and what text it has; its facts are those of a file holding only it. */
interface Chunk {
  /** Row (0-based) and UTF-16 column where the chunk starts. */
  row: number;
  col: number;
  /** Its text is `[start, end)` of the text of the last update. */
  start: number;
  end: number;
  facts: FileFacts;
  holders: { spans: Span[]; leads: { leadLine: number }[] };
}

/** One chunk of the current tree, before its facts are known. */
interface ChunkSpan {
  nodes: SyntaxNode[];
  startIndex: number;
  endIndex: number;
  row: number;
  col: number;
  hasError: boolean;
}

/** The parts of FileFacts that are lists of per-item facts, in extraction order. */
const LIST_KEYS = ['structs', 'enums', 'impls', 'traits', 'fns', 'statics', 'typeAliases', 'uses', 'mods', 'macros', 'suppressions', 'items'] as const;

/** `extractFacts` keeps at most this many syntax error locations. */
const MAX_SYNTAX_ERRORS = 50;

export interface UpdateStats {
  /** Chunks extracted again. */
  extracted: number;
  /** Chunks whose facts were kept. */
  reused: number;
  /** Whether the whole file had to be extracted at once. */
  full: boolean;
}

export class IncrementalFacts {
  private chunks: Chunk[] = [];
  /** The text of the last update; chunks point into it. */
  private text = '';
  lastStats: UpdateStats = { extracted: 0, reused: 0, full: false };

  /** Facts of `text`, whose syntax tree is `tree` (parsed from exactly this text). */
  update(text: string, tree: Tree): FileFacts {
    if (tree.rootNode.type !== 'source_file') return this.full(text, tree); // the whole file is one ERROR
    const spans = chunkSpans(tree.rootNode, text);
    const old = this.chunks;
    const same = (c: Chunk, s: ChunkSpan) =>
      !s.hasError && c.col === s.col && c.end - c.start === s.endIndex - s.startIndex && text.startsWith(this.text.slice(c.start, c.end), s.startIndex);
    // An edit changes the chunks around it: the ones before and after are matched in order,
    // without hashing the whole text.
    let head = 0;
    while (head < spans.length && head < old.length && same(old[head], spans[head])) head++;
    let oldTail = old.length;
    let newTail = spans.length;
    while (newTail > head && oldTail > head && same(old[oldTail - 1], spans[newTail - 1])) {
      oldTail--;
      newTail--;
    }
    // In between, a chunk may still have moved (a block cut and pasted): match by text.
    const middle = new Map<string, Chunk[]>();
    for (let i = head; i < oldTail; i++) {
      const key = chunkKey(old[i].col, this.text.slice(old[i].start, old[i].end));
      const list = middle.get(key);
      if (list) list.push(old[i]);
      else middle.set(key, [old[i]]);
    }
    const next: Chunk[] = [];
    const stats: UpdateStats = { extracted: 0, reused: 0, full: false };
    const reuse = (c: Chunk, s: ChunkSpan) => {
      if (c.row !== s.row) shiftChunk(c, s.row - c.row);
      c.start = s.startIndex;
      c.end = s.endIndex;
      next.push(c);
      stats.reused++;
    };
    for (let i = 0; i < spans.length; i++) {
      const s = spans[i];
      if (i < head) {
        reuse(old[i], s);
        continue;
      }
      if (i >= newTail) {
        reuse(old[oldTail + (i - newTail)], s);
        continue;
      }
      const chunkText = text.slice(s.startIndex, s.endIndex);
      const moved = s.hasError ? undefined : middle.get(chunkKey(s.col, chunkText))?.shift();
      if (moved) {
        reuse(moved, s);
        continue;
      }
      const facts = extractChunk(s, chunkText);
      // The chunk parses differently on its own: take the exact, slow way for this version.
      if (!facts) return this.full(text, tree);
      next.push({ row: s.row, col: s.col, start: s.startIndex, end: s.endIndex, facts, holders: lineHolders(facts) });
      stats.extracted++;
    }
    this.chunks = next;
    this.text = text;
    this.lastStats = stats;
    return assemble(next, text);
  }

  private full(text: string, tree: Tree): FileFacts {
    this.chunks = [];
    this.text = '';
    this.lastStats = { extracted: 0, reused: 0, full: true };
    return extractFacts(text, { tree });
  }
}

function chunkKey(col: number, text: string): string {
  return `${col}:${text}`;
}

/**
 * Cuts the file's top-level nodes into chunks of whole lines. Attributes and comments go with
 * the item after them, as `extractFacts` reads them; a node that starts on the line where the
 * chunk ends joins it (a trailing comment, `struct A; struct B;`), and so does everything after
 * a chunk that ends in a comment, since the attribute walk above an item goes through comments
 * up to the previous item. So a chunk starts after an item's line, and what `extractFacts` sees
 * of a chunk's surroundings (nothing but whitespace before it on its line, an item or the file
 * start before its first node) is the same in the chunk's own text.
 */
function chunkSpans(root: SyntaxNode, text: string): ChunkSpan[] {
  const out: ChunkSpan[] = [];
  let cur: SyntaxNode[] = [];
  let curEndRow = -1;
  const close = () => {
    const first = cur[0];
    const last = cur[cur.length - 1];
    // Through the end of the last line, so trailing blanks and `\r` are part of the chunk.
    const newline = text.indexOf('\n', last.endIndex);
    out.push({
      nodes: cur,
      startIndex: first.startIndex,
      endIndex: newline === -1 ? text.length : newline,
      row: first.startPosition.row,
      col: first.startPosition.column,
      hasError: cur.some((n) => n.hasError),
    });
  };
  for (const node of root.children) {
    if (cur.length > 0 && node.startPosition.row > curEndRow && !isTrivia(cur[cur.length - 1])) {
      close();
      cur = [];
    }
    cur.push(node);
    curEndRow = node.endPosition.row;
  }
  if (cur.length > 0) close();
  return out;
}

function isTrivia(node: SyntaxNode): boolean {
  const t = node.type;
  return t === 'line_comment' || t === 'block_comment' || t === 'attribute_item';
}

/**
 * Facts of one chunk, extracted from a text where it sits at its real row and column.
 * Undefined when the chunk does not parse on its own as it does in the file.
 */
function extractChunk(s: ChunkSpan, chunkText: string): FileFacts | undefined {
  const text = '\n'.repeat(s.row) + ' '.repeat(s.col) + chunkText;
  const tree = parseRust(text);
  if (!sameStructure(tree.rootNode, s)) return undefined;
  return extractFacts(text, { tree });
}

/** Whether the chunk's own parse has the same nodes as the chunk in the whole file. */
function sameStructure(root: SyntaxNode, s: ChunkSpan): boolean {
  const children = root.children;
  if (children.length !== s.nodes.length) return false;
  if (!s.hasError && !root.hasError) return children.every((c, i) => c.type === s.nodes[i].type);
  // With syntax errors, recovery could depend on what follows the chunk: compare whole trees.
  return children.every((c, i) => c.toString() === s.nodes[i].toString());
}

/**
 * The objects of a chunk's facts that hold line numbers: spans, and item extents (`leadLine`).
 * Collected once when the chunk is extracted, so moving the chunk is a loop over them. The
 * extractor may share one span between several facts (the `use` items of one declaration);
 * each object is listed once.
 */
function lineHolders(facts: FileFacts): { spans: Span[]; leads: { leadLine: number }[] } {
  const spans = new Set<Span>();
  const leads = new Set<{ leadLine: number }>();
  const stack: unknown[] = [facts];
  while (stack.length > 0) {
    const value = stack.pop();
    if (Array.isArray(value)) {
      for (const v of value) if (typeof v === 'object' && v !== null) stack.push(v);
      continue;
    }
    const obj = value as Record<string, unknown>;
    if (typeof obj.line === 'number' && typeof obj.endLine === 'number') spans.add(obj as unknown as Span);
    if (typeof obj.leadLine === 'number') leads.add(obj as unknown as { leadLine: number });
    for (const key in obj) {
      const v = obj[key];
      if (typeof v === 'object' && v !== null) stack.push(v);
    }
  }
  return { spans: [...spans], leads: [...leads] };
}

/** Moves a chunk's facts by `delta` lines, in place: the chunk owns them. */
function shiftChunk(chunk: Chunk, delta: number): void {
  for (const s of chunk.holders.spans) {
    s.line += delta;
    s.endLine += delta;
  }
  for (const l of chunk.holders.leads) l.leadLine += delta;
  chunk.row += delta;
}

function assemble(chunks: Chunk[], text: string): FileFacts {
  const facts: FileFacts = {
    version: FACTS_VERSION,
    lineCount: countLines(text),
    structs: [],
    enums: [],
    impls: [],
    traits: [],
    fns: [],
    statics: [],
    typeAliases: [],
    uses: [],
    mods: [],
    macros: [],
    suppressions: [],
    items: [],
    syntaxErrors: [],
    truncated: false,
  };
  const errors: Span[] = [];
  for (const c of chunks) {
    for (const key of LIST_KEYS) (facts[key] as unknown[]).push(...(c.facts[key] as unknown[]));
    if (errors.length < MAX_SYNTAX_ERRORS) errors.push(...c.facts.syntaxErrors);
    if (c.facts.truncated) facts.truncated = true;
  }
  facts.syntaxErrors = errors.slice(0, MAX_SYNTAX_ERRORS);
  return facts;
}

function countLines(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
