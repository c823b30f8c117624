// Facts of an edited file without re-walking all of it. Walking a whole syntax tree through the
// tree-sitter binding costs ~80 ms for 3,000 lines, far over a keystroke's budget, while one
// top-level item costs well under a millisecond. So a file is cut into chunks (a top-level item
// with the attributes and comments above it); a chunk whose text is unchanged keeps its facts
// (moved by whole lines when lines were added or removed above it), and only the others are
// extracted again, each by `extractFacts` on a text that holds the chunk at its real line and
// column. A long `impl` block is cut further: its methods are pieces of their own, and the rest
// of the block (its *skeleton*: header, associated items) another, so typing in one method of
// a 1,000-line impl extracts that method only. The result is the same FileFacts that
// `extractFacts` gives for the whole text; the tests hold it to that.
import { emptyFacts, extractFacts } from '../facts/extract.js';
import { type FileFacts, type ItemExtent, type Span } from '../facts/ir.js';
import { parseRust, type SyntaxNode, type Tree } from '../syntax/parser.js';

interface Holders {
  spans: Span[];
  leads: { leadLine: number }[];
}

/** Facts extracted from one piece of text, with the objects that hold its line numbers. */
interface Part {
  row: number;
  col: number;
  facts: FileFacts;
  holders: Holders;
}

/** A method group of a split impl: its text is `[start, end)` of the last update's text. */
interface MethodPart extends Part {
  start: number;
  end: number;
  /**
   * Extracted from the edited lines alone while the file's parse was broken by them (see
   * `updateInsideImpl`): never reused, its facts are not what the whole file's parse gives.
   */
  loose?: boolean;
}

/** A top-level chunk: its text is `[start, end)` of the last update's text. */
interface Chunk {
  row: number;
  col: number;
  start: number;
  end: number;
  /** Facts of the whole chunk; or, for a split impl, of its parts. */
  whole?: Part;
  split?: SplitImpl;
  /**
   * Set on a chunk extracted from the edited lines alone while the file's parse had a syntax
   * error spreading beyond them: the chunks it replaced, with the text they point into, so they
   * are found again (moved, not extracted) once the error is gone. Such a chunk is never reused
   * itself: its facts are not what the whole file's parse gives.
   */
  replaced?: { chunk: Chunk; text: string }[];
}

interface SplitImpl {
  /** The impl's self type as written (methods are named after it). */
  owner: string;
  /** The chunk with its method groups blanked out, and its facts. */
  skeletonText: string;
  skeleton: Part;
  methods: MethodPart[];
  /** The parts' facts joined (kept while the parts are: moving them moves these too). */
  joined?: FileFacts;
}

/** Nodes that go together: attributes and comments with the item after them. */
interface Group {
  nodes: SyntaxNode[];
  startIndex: number;
  /** Through the end of the last node's line. */
  endIndex: number;
  row: number;
  col: number;
  hasError: boolean;
}

/** The parts of FileFacts that are lists of per-item facts, in extraction order. */
const LIST_KEYS = ['structs', 'enums', 'impls', 'traits', 'fns', 'statics', 'typeAliases', 'uses', 'mods', 'macros', 'suppressions', 'items'] as const;

/** The lines an edit touched, widened to whole chunks (see `IncrementalFacts.editRegion`). */
interface EditRegion {
  /** Old chunks `[first, last)` on those lines. */
  first: number;
  last: number;
  /** Their range in the new text. */
  start: number;
  end: number;
  /** New text length minus old. */
  delta: number;
  /** The edited lines in the old text: from the start of the first to the end of the last. */
  oldFrom: number;
  oldTo: number;
}

/**
 * An error within this many characters (beyond twice the edited region) of the edit is
 * extracted as the whole file's parse has it; a larger one is confined to the edited lines.
 */
const LOCAL_ERROR_SLACK = 4000;

/** `extractFacts` keeps at most this many syntax error locations. */
const MAX_SYNTAX_ERRORS = 50;

/** Impl blocks of at least this many lines are split into their methods. */
export const SPLIT_IMPL_LINES = 40;

export interface UpdateStats {
  /** Chunks and parts extracted again. */
  extracted: number;
  /** Chunks and parts whose facts were kept. */
  reused: number;
  /** Whether the whole file had to be extracted at once. */
  full: boolean;
  /** Whether the edited lines were extracted alone, the file's parse being broken beyond them. */
  local?: boolean;
}

/** The chunk or part does not parse on its own as it does in the file. */
class NotAlike extends Error {}

export class IncrementalFacts {
  private chunks: Chunk[] = [];
  /** The text of the last update; chunks and method parts point into it. */
  private text = '';
  lastStats: UpdateStats = { extracted: 0, reused: 0, full: false };

  constructor(private readonly splitImplLines = SPLIT_IMPL_LINES) {}

  /** Facts of `text`, whose syntax tree is `tree` (parsed from exactly this text). */
  update(text: string, tree: Tree): FileFacts {
    const root = tree.rootNode;
    // An unclosed delimiter makes the parser's recovery swallow the items after it (often the
    // rest of the file) into an ERROR node; extracting all of them again costs a second per key
    // in a large file, and their facts would be lost while the user types. Then only the edited
    // lines are extracted again, and every other item keeps its last good facts.
    const local = root.hasError && this.chunks.length > 0 ? this.editRegion(text) : undefined;
    const insideImpl = local && this.updateInsideImpl(text, local);
    if (insideImpl) return insideImpl;
    if (local && (root.type !== 'source_file' || errorSpread(root) > 2 * (local.end - local.start) + LOCAL_ERROR_SLACK)) return this.updateAroundEdit(text, local);
    if (root.type !== 'source_file') return this.full(text, tree); // the whole file is one ERROR
    try {
      const facts = this.updateChunks(text, root);
      this.text = text;
      return facts;
    } catch (e) {
      if (!(e instanceof NotAlike)) throw e;
      return local ? this.updateAroundEdit(text, local) : this.full(text, tree);
    }
  }

  /**
   * The lines the edit from the last update's text to `text` touched, widened to the chunks on
   * them: old chunks `[first, last)` and the range `[start, end)` of `text` they now cover.
   */
  private editRegion(text: string): EditRegion {
    const old = this.text;
    const max = Math.min(old.length, text.length);
    let prefix = 0;
    while (prefix < max && old.charCodeAt(prefix) === text.charCodeAt(prefix)) prefix++;
    let suffix = 0;
    while (suffix < max - prefix && old.charCodeAt(old.length - 1 - suffix) === text.charCodeAt(text.length - 1 - suffix)) suffix++;
    const delta = text.length - old.length;
    let start = lineStartOf(old, prefix);
    const editEnd = old.length - suffix;
    const newline = old.indexOf('\n', editEnd);
    let end = newline === -1 ? old.length : newline;
    const oldFrom = start;
    const oldTo = end;
    let first = 0;
    while (first < this.chunks.length && this.chunks[first].end < start) first++;
    let last = first;
    while (last < this.chunks.length && this.chunks[last].start <= end) last++;
    if (last > first) {
      start = Math.min(start, this.chunks[first].start);
      end = Math.max(end, this.chunks[last - 1].end);
    }
    return { first, last, start, end: end + delta, delta, oldFrom, oldTo };
  }

  /**
   * Facts with the edited lines of one split impl's methods extracted on their own, while the
   * file's parse is broken: an unclosed delimiter in or after a method makes the parser's
   * recovery swallow the methods after it, which would leave the crate for as long as the line
   * is half typed (and change what every kept analysis result depends on). The impl's other
   * methods and its skeleton keep their last facts. Undefined when the edit is not inside the
   * method groups of one split impl, or adds or removes lines (the skeleton would change).
   */
  private updateInsideImpl(text: string, r: EditRegion): FileFacts | undefined {
    if (r.last !== r.first + 1) return undefined;
    const chunk = this.chunks[r.first];
    const split = chunk.split;
    if (!split) return undefined;
    const old = this.text;
    const touched = split.methods.filter((m) => lineStartOf(old, m.start) <= r.oldTo && r.oldFrom <= m.end);
    if (touched.length === 0) return undefined;
    const from = touched[0].start;
    const to = touched[touched.length - 1].end;
    if (r.oldFrom < lineStartOf(old, from) || r.oldTo > to) return undefined;
    if (countNewlines(text, from, to + r.delta) !== countNewlines(old, from, to)) return undefined;
    const row = countNewlines(text, 0, from);
    const col = from - lineStartOf(text, from);
    const part = extractLoose(row, col, text.slice(from, to + r.delta));
    for (const item of part.facts.items) item.name = `${split.owner}::${item.name}`;
    const loose: MethodPart = { ...part, start: from, end: to + r.delta, loose: true };
    const at = split.methods.indexOf(touched[0]);
    const after = split.methods.slice(at + touched.length);
    for (const m of after) {
      m.start += r.delta;
      m.end += r.delta;
    }
    split.methods = [...split.methods.slice(0, at), loose, ...after];
    split.joined = undefined;
    chunk.end += r.delta;
    for (const c of this.chunks.slice(r.last)) moveChunk(c, { row: c.row, startIndex: c.start + r.delta, endIndex: c.end + r.delta });
    this.text = text;
    this.lastStats = { extracted: 1, reused: this.chunks.length - 1 + split.methods.length, full: false, local: true };
    return assemble(this.chunks, text);
  }

  /** Facts with the edited region extracted on its own and every other chunk kept. */
  private updateAroundEdit(text: string, r: EditRegion): FileFacts {
    const old = this.chunks;
    const oldText = this.text;
    const lineStart = lineStartOf(text, r.start);
    const row = countNewlines(text, 0, r.start);
    const col = r.start - lineStart;
    const rows = countNewlines(text, r.start, r.end) - countNewlines(oldText, r.start, r.end - r.delta);
    const replaced = old.slice(r.first, r.last).flatMap((c) => c.replaced ?? [{ chunk: c, text: oldText }]);
    const region: Chunk = { row, col, start: r.start, end: r.end, whole: extractLoose(row, col, text.slice(r.start, r.end)), replaced };
    const after = old.slice(r.last).map((c) => moveChunk(c, { row: c.row + rows, startIndex: c.start + r.delta, endIndex: c.end + r.delta }));
    this.chunks = [...old.slice(0, r.first), region, ...after];
    this.text = text;
    this.lastStats = { extracted: 1, reused: old.length - (r.last - r.first), full: false, local: true };
    return assemble(this.chunks, text);
  }

  private updateChunks(text: string, root: SyntaxNode): FileFacts {
    const groups = groupNodes(root.children, text, true);
    const old = this.chunks;
    const same = (c: Chunk, g: Group) =>
      !g.hasError &&
      !c.replaced && !holdsLooseMethod(c) && c.col === g.col && c.end - c.start === g.endIndex - g.startIndex && text.startsWith(this.text.slice(c.start, c.end), g.startIndex);
    // An edit changes the chunks around it: the ones before and after are matched in order,
    // without hashing the whole text.
    let head = 0;
    while (head < groups.length && head < old.length && same(old[head], groups[head])) head++;
    let oldTail = old.length;
    let newTail = groups.length;
    while (newTail > head && oldTail > head && same(old[oldTail - 1], groups[newTail - 1])) {
      oldTail--;
      newTail--;
    }
    // In between, a chunk may still have moved (a block cut and pasted), and a split impl's
    // skeleton and methods may be unchanged: match those by text.
    const pool = new Pool();
    for (let i = head; i < oldTail; i++) pool.addChunk(old[i], this.text);
    const stats: UpdateStats = { extracted: 0, reused: 0, full: false };
    const next: Chunk[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      const kept = i < head ? old[i] : i >= newTail ? old[oldTail + (i - newTail)] : undefined;
      if (kept) {
        next.push(moveChunk(kept, g));
        stats.reused++;
        continue;
      }
      const chunkText = text.slice(g.startIndex, g.endIndex);
      const moved = g.hasError ? undefined : pool.takeChunk(g.col, chunkText);
      if (moved) {
        next.push(moveChunk(moved, g));
        stats.reused++;
        continue;
      }
      next.push(this.makeChunk(g, chunkText, text, pool, stats));
    }
    this.chunks = next;
    this.lastStats = stats;
    return assemble(next, text);
  }

  private makeChunk(g: Group, chunkText: string, text: string, pool: Pool, stats: UpdateStats): Chunk {
    const chunk: Chunk = { row: g.row, col: g.col, start: g.startIndex, end: g.endIndex };
    const plan = this.splitPlan(g, text);
    if (plan) {
      try {
        chunk.split = this.splitParts(g, plan, text, pool, stats);
        return chunk;
      } catch (e) {
        if (!(e instanceof NotAlike)) throw e;
        // The impl does not split cleanly: extract it whole.
      }
    }
    chunk.whole = extractPart(g.row, g.col, chunkText, g.nodes, g.hasError);
    stats.extracted++;
    return chunk;
  }

  private splitParts(g: Group, plan: { methods: Group[]; skeletonText: string; kept: SyntaxNode[] }, text: string, pool: Pool, stats: UpdateStats): SplitImpl {
    let skeleton = pool.takeSkeleton(g.col, plan.skeletonText);
    if (skeleton) {
      skeleton = movePart(skeleton, g.row);
      stats.reused++;
    } else {
      skeleton = extractSkeleton(g, plan);
      stats.extracted++;
    }
    const owner = skeleton.facts.impls[0].selfType.text;
    const methods: MethodPart[] = [];
    for (const m of plan.methods) {
      const methodText = text.slice(m.startIndex, m.endIndex);
      const found = m.hasError ? undefined : pool.takeMethod(owner, m.col, methodText);
      if (found) {
        methods.push({ ...movePart(found, m.row), start: m.startIndex, end: m.endIndex });
        stats.reused++;
        continue;
      }
      const part = extractPart(m.row, m.col, methodText, m.nodes, m.hasError);
      for (const item of part.facts.items) item.name = `${owner}::${item.name}`;
      methods.push({ ...part, start: m.startIndex, end: m.endIndex });
      stats.extracted++;
    }
    return { owner, skeletonText: plan.skeletonText, skeleton, methods };
  }

  /**
   * How to split a chunk that is a long impl block: its method groups, and the chunk's text
   * with them blanked. Undefined when the chunk is kept whole: not an impl, short, or with
   * something a method group would not see the same on its own (a syntax error outside the
   * methods, code sharing a line with a method group).
   */
  private splitPlan(g: Group, text: string): { methods: Group[]; skeletonText: string; kept: SyntaxNode[] } | undefined {
    const impl = g.nodes[g.nodes.length - 1];
    if (impl.type !== 'impl_item' || !g.nodes.slice(0, -1).every(isTrivia)) return undefined;
    if (impl.endPosition.row - impl.startPosition.row + 1 < this.splitImplLines) return undefined;
    const body = impl.childForFieldName('body');
    if (!body || body.type !== 'declaration_list') return undefined;
    if (impl.hasError && impl.children.some((c) => c !== body && (c.hasError || c.isMissing))) return undefined;
    const members = body.children;
    const open = members[0];
    const close = members[members.length - 1];
    if (open?.type !== '{' || close?.type !== '}' || open.isMissing || close.isMissing) return undefined;
    const inner = members.slice(1, -1);
    if (inner.some((n) => !n.isNamed || n.isMissing)) return undefined;
    const methods: Group[] = [];
    const kept: SyntaxNode[] = [];
    for (const m of groupNodes(inner, text, false)) {
      const isMethods = m.nodes.some((n) => n.type === 'function_item') && m.nodes.every((n) => n.type === 'function_item' || isTrivia(n));
      if (!isMethods) {
        if (m.hasError) return undefined;
        kept.push(...m.nodes);
        continue;
      }
      // Alone on its lines, as it will be in its own text, which runs to the end of its line.
      const lineStart = text.lastIndexOf('\n', m.startIndex - 1) + 1;
      if (text.slice(lineStart, m.startIndex).trim() !== '') return undefined;
      const newline = text.indexOf('\n', m.endIndex);
      const lineEnd = newline === -1 ? text.length : newline;
      if (text.slice(m.endIndex, lineEnd).trim() !== '') return undefined;
      methods.push({ ...m, endIndex: lineEnd });
    }
    if (methods.length === 0) return undefined;
    let skeletonText = '';
    let at = g.startIndex;
    for (const m of methods) {
      skeletonText += text.slice(at, m.startIndex) + blank(text.slice(m.startIndex, m.endIndex));
      at = m.endIndex;
    }
    skeletonText += text.slice(at, g.endIndex);
    return { methods, skeletonText, kept };
  }

  private full(text: string, tree: Tree): FileFacts {
    this.chunks = [];
    this.text = '';
    this.lastStats = { extracted: 0, reused: 0, full: true };
    return extractFacts(text, { tree });
  }
}

/**
 * Unchanged chunks and parts of the edited region, found again by their text. A part is used
 * once: a chunk taken whole takes its parts, and a chunk whose part was taken is not taken.
 */
class Pool {
  private readonly chunks = new Map<string, Chunk[]>();
  private readonly skeletons = new Map<string, Part[]>();
  private readonly methods = new Map<string, MethodPart[]>();
  private readonly chunkOf = new Map<Part, Chunk>();
  /** Chunks taken whole, and chunks some part of which was taken. */
  private readonly takenWhole = new Set<Chunk>();
  private readonly takenFrom = new Set<Chunk>();

  addChunk(c: Chunk, text: string): void {
    if (c.replaced) {
      for (const r of c.replaced) this.addChunk(r.chunk, r.text);
      return;
    }
    if (!holdsLooseMethod(c)) push(this.chunks, `${c.col}:${text.slice(c.start, c.end)}`, c);
    if (!c.split) return;
    push(this.skeletons, `${c.col}:${c.split.skeletonText}`, c.split.skeleton);
    this.chunkOf.set(c.split.skeleton, c);
    for (const m of c.split.methods) {
      if (m.loose) continue;
      push(this.methods, `${c.split.owner}:${m.col}:${text.slice(m.start, m.end)}`, m);
      this.chunkOf.set(m, c);
    }
  }

  takeChunk(col: number, text: string): Chunk | undefined {
    const list = this.chunks.get(`${col}:${text}`);
    const i = list?.findIndex((c) => !this.takenFrom.has(c)) ?? -1;
    if (i < 0) return undefined;
    const [c] = list!.splice(i, 1);
    this.takenWhole.add(c);
    return c;
  }

  takeSkeleton(col: number, skeletonText: string): Part | undefined {
    return this.takePart(this.skeletons.get(`${col}:${skeletonText}`));
  }

  takeMethod(owner: string, col: number, text: string): MethodPart | undefined {
    return this.takePart(this.methods.get(`${owner}:${col}:${text}`));
  }

  /** Each list entry is a distinct part, so taking it out of the list uses it once. */
  private takePart<P extends Part>(list: P[] | undefined): P | undefined {
    const i = list?.findIndex((p) => !this.takenWhole.has(this.chunkOf.get(p)!)) ?? -1;
    if (i < 0) return undefined;
    const [p] = list!.splice(i, 1);
    this.takenFrom.add(this.chunkOf.get(p)!);
    return p;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Only the line breaks of a method group. The group runs to the end of its last line, so
 * nothing after it moves; and typing inside a method leaves the skeleton as it was.
 */
function blank(text: string): string {
  return text.replace(/[^\r\n]+/g, '');
}

/**
 * Cuts nodes into groups of whole lines. Attributes and comments go with the item after them,
 * as `extractFacts` reads them; a node that starts on the line where the group ends joins it (a
 * trailing comment, `struct A; struct B;`), and so does everything after a group that ends in a
 * comment, since the attribute walk above an item goes through comments up to the previous
 * item. So a group starts after an item's line, and what `extractFacts` sees of a group's
 * surroundings (nothing but whitespace before it on its line, an item or nothing before its
 * first node) is the same in the group's own text. With `toLineEnd`, a group runs through the
 * end of its last line (the whole file is cut so); else it ends with its last node.
 */
function groupNodes(nodes: SyntaxNode[], text: string, toLineEnd: boolean): Group[] {
  const out: Group[] = [];
  let cur: SyntaxNode[] = [];
  let curEndRow = -1;
  const close = () => {
    const first = cur[0];
    const last = cur[cur.length - 1];
    let endIndex = last.endIndex;
    if (toLineEnd) {
      const newline = text.indexOf('\n', endIndex);
      endIndex = newline === -1 ? text.length : newline;
    }
    out.push({ nodes: cur, startIndex: first.startIndex, endIndex, row: first.startPosition.row, col: first.startPosition.column, hasError: cur.some((n) => n.hasError) });
  };
  for (const node of nodes) {
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
 * Facts of `partText` placed at (row, col) in a text of its own; its nodes must parse alike.
 * The part is parsed at row 0 and its facts moved down: padding it with `row` newlines would
 * make opening a file cost lines times parts.
 */
function extractPart(row: number, col: number, partText: string, nodes: SyntaxNode[], hasError: boolean): Part {
  const text = ' '.repeat(col) + partText;
  const tree = parseRust(text);
  const root = tree.rootNode;
  const children = root.children;
  if (children.length !== nodes.length) throw new NotAlike();
  if (!hasError && !root.hasError) {
    if (children.some((c, i) => c.type !== nodes[i].type)) throw new NotAlike();
  } else if (children.some((c, i) => c.toString() !== nodes[i].toString())) {
    // With syntax errors, recovery could depend on what follows: compare whole trees.
    throw new NotAlike();
  }
  const facts = extractFacts(text, { tree });
  return movePart({ row: 0, col, facts, holders: lineHolders(facts) }, row);
}

/** Facts of `partText` at (row, col) as it parses alone: for text whose file-wide parse is broken. */
function extractLoose(row: number, col: number, partText: string): Part {
  const text = ' '.repeat(col) + partText;
  const facts = extractFacts(text, { tree: parseRust(text) });
  return movePart({ row: 0, col, facts, holders: lineHolders(facts) }, row);
}

/** Characters of the top-level nodes that hold a syntax error. */
function errorSpread(root: SyntaxNode): number {
  let n = 0;
  for (const c of root.children) if (c.hasError) n += c.endIndex - c.startIndex;
  return n;
}

/** Where the line holding offset `at` starts (`lastIndexOf` reads a negative start as 0). */
function lineStartOf(text: string, at: number): number {
  return at === 0 ? 0 : text.lastIndexOf('\n', at - 1) + 1;
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Facts of a split impl's skeleton: the chunk with its method groups blanked. */
function extractSkeleton(g: Group, plan: { skeletonText: string; kept: SyntaxNode[] }): Part {
  const text = ' '.repeat(g.col) + plan.skeletonText;
  const tree = parseRust(text);
  const root = tree.rootNode;
  if (root.hasError || root.children.length !== g.nodes.length || root.children.some((c, i) => c.type !== g.nodes[i].type)) throw new NotAlike();
  const body = root.children[root.children.length - 1].childForFieldName('body');
  const members = body?.namedChildren ?? [];
  if (members.length !== plan.kept.length || members.some((m, i) => m.type !== plan.kept[i].type)) throw new NotAlike();
  const facts = extractFacts(text, { tree });
  if (facts.impls.length !== 1) throw new NotAlike();
  return movePart({ row: 0, col: g.col, facts, holders: lineHolders(facts) }, g.row);
}

/** A split impl with a method extracted loose: never found again or kept as it is. */
function holdsLooseMethod(c: Chunk): boolean {
  return c.split?.methods.some((m) => m.loose) ?? false;
}

/** A kept chunk at its new place: moved by whole lines, pointing into the new text. */
function moveChunk(c: Chunk, g: Pick<Group, 'row' | 'startIndex' | 'endIndex'>): Chunk {
  const delta = g.row - c.row;
  const offset = g.startIndex - c.start;
  if (c.whole) movePart(c.whole, g.row);
  if (c.split) {
    movePart(c.split.skeleton, c.split.skeleton.row + delta);
    for (const m of c.split.methods) {
      movePart(m, m.row + delta);
      m.start += offset;
      m.end += offset;
    }
  }
  c.row = g.row;
  c.start = g.startIndex;
  c.end = g.endIndex;
  return c;
}

/** Moves a part's facts to start at `row`, in place: the part owns them. */
function movePart<P extends Part>(p: P, row: number): P {
  const delta = row - p.row;
  if (delta === 0) return p;
  for (const s of p.holders.spans) {
    s.line += delta;
    s.endLine += delta;
  }
  for (const l of p.holders.leads) l.leadLine += delta;
  p.row = row;
  return p;
}

/**
 * The objects of a part's facts that hold line numbers: spans, and item extents (`leadLine`).
 * Collected once when the part is extracted, so moving it is a loop over them. The extractor
 * may share one span between several facts (the `use` items of one declaration); each object
 * is listed once.
 */
function lineHolders(facts: FileFacts): Holders {
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

function assemble(chunks: Chunk[], text: string): FileFacts {
  const facts = emptyFacts(text);

  const errors: Span[] = [];
  for (const c of chunks) {
    const f = c.whole ? c.whole.facts : (c.split!.joined ??= joinSplit(c.split!));
    for (const key of LIST_KEYS) (facts[key] as unknown[]).push(...(f[key] as unknown[]));
    if (errors.length < MAX_SYNTAX_ERRORS) errors.push(...f.syntaxErrors);
    if (f.truncated) facts.truncated = true;
  }
  facts.syntaxErrors = errors.slice(0, MAX_SYNTAX_ERRORS);
  return facts;
}

/** A split impl's facts as one chunk's: its methods back in the impl, everything in text order. */
function joinSplit(split: SplitImpl): FileFacts {
  const skeleton = split.skeleton.facts;
  const parts = split.methods.map((m) => m.facts);
  const impl = { ...skeleton.impls[0], fns: byPosition([...skeleton.impls[0].fns, ...parts.flatMap((p) => p.fns)], (f) => f.span) };
  return {
    ...skeleton,
    impls: [impl],
    items: byPosition([...skeleton.items, ...parts.flatMap((p) => p.items)], (i: ItemExtent) => i.span),
    suppressions: byPosition([...skeleton.suppressions, ...parts.flatMap((p) => p.suppressions)], (s) => s.span),
    syntaxErrors: byPosition([...skeleton.syntaxErrors, ...parts.flatMap((p) => p.syntaxErrors)], (s) => s).slice(0, MAX_SYNTAX_ERRORS),
    truncated: skeleton.truncated || parts.some((p) => p.truncated),
  };
}

function byPosition<T>(list: T[], span: (t: T) => Span): T[] {
  return list.sort((a, b) => span(a).line - span(b).line || span(a).col - span(b).col);
}

