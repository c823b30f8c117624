// A tree-sitter tree copied once into typed arrays, behind the same `SyntaxNode` interface.
//
// Why: in the Node binding every node accessor is a native call and every node handed out is a
// new object registered with the tree through a weak reference. The extractor asks for types,
// fields, children and text about three times per node, which cost several times the parse.
// Two ways to copy, one result:
// - a tree without errors is copied with one native call per node that can have children (it
//   answers all the children's types and starts at once); ends are derived from the text, and
//   fields are asked of the binding when the extractor asks (a few per function, not per node);
// - a tree with errors is copied by a cursor walk that asks every node's type, field, offsets
//   and error flags, because error recovery breaks what the first way derives.
// Everything else (text, positions, children, siblings) is then answered in JavaScript.
import type { FieldName } from './node-kinds.generated.js';
import { getNativeNodes, type NativeNodes, type SyntaxNode, type Tree } from './parser.js';

interface Cursor {
  readonly nodeTypeId: number;
  readonly nodeType: string;
  readonly nodeIsNamed: boolean;
  readonly currentFieldId: number;
  readonly currentFieldName: string | null | undefined;
  readonly currentNode: SyntaxNode;
  readonly startIndex: number;
  readonly endIndex: number;
  gotoFirstChild(): boolean;
  gotoNextSibling(): boolean;
  gotoParent(): boolean;
}

/** Language-wide tables, filled as ids are first met: a symbol's name and whether it is named. */
const typeNames: string[] = [];
const typeIsNamed: boolean[] = [];
const fieldIds = new Map<string, number>();
const fieldSeen: boolean[] = [];

const NONE = -1;

/** For a tree copied without its fields: where to ask for them. */
interface FieldSource {
  tree: Tree;
  native: NativeNodes;
  /** The binding's six words per node, to hand a node back to it. */
  words: Uint32Array;
}

class FlatTree {
  readonly nodes: (FlatNode | undefined)[];
  private lineStarts: number[] | undefined;
  fieldSource?: FieldSource;

  constructor(
    readonly text: string,
    readonly type: Uint16Array,
    readonly field: Uint16Array,
    readonly parent: Int32Array,
    readonly firstChild: Int32Array,
    readonly nextSibling: Int32Array,
    readonly prevSibling: Int32Array,
    readonly start: Uint32Array,
    readonly end: Uint32Array,
    /** Per node, or undefined when the tree has no error at all. */
    readonly missing: Uint8Array | undefined,
    readonly error: Uint8Array | undefined,
    count: number,
  ) {
    this.nodes = new Array(count);
  }

  node(i: number): FlatNode | null {
    if (i === NONE) return null;
    return (this.nodes[i] ??= new FlatNode(this, i));
  }

  /** Row and column (code units) of a code-unit offset, as tree-sitter reports them. */
  point(index: number): { row: number; column: number } {
    const starts = (this.lineStarts ??= lineStartsOf(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: index - starts[lo] };
  }
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

class FlatNode implements SyntaxNode {
  constructor(
    private readonly t: FlatTree,
    private readonly i: number,
  ) {}

  get type(): string {
    return typeNames[this.t.type[this.i]];
  }
  get isNamed(): boolean {
    return typeIsNamed[this.t.type[this.i]];
  }
  get isMissing(): boolean {
    return this.t.missing !== undefined && this.t.missing[this.i] === 1;
  }
  get hasError(): boolean {
    return this.t.error !== undefined && this.t.error[this.i] === 1;
  }
  get startIndex(): number {
    return this.t.start[this.i];
  }
  get endIndex(): number {
    return this.t.end[this.i];
  }
  get text(): string {
    return this.t.text.substring(this.t.start[this.i], this.t.end[this.i]);
  }
  get startPosition(): { row: number; column: number } {
    return this.t.point(this.t.start[this.i]);
  }
  get endPosition(): { row: number; column: number } {
    return this.t.point(this.t.end[this.i]);
  }
  get parent(): SyntaxNode | null {
    return this.t.node(this.t.parent[this.i]);
  }
  get nextSibling(): SyntaxNode | null {
    return this.t.node(this.t.nextSibling[this.i]);
  }
  get previousSibling(): SyntaxNode | null {
    return this.t.node(this.t.prevSibling[this.i]);
  }
  get children(): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) out.push(this.t.node(c)!);
    return out;
  }
  get namedChildren(): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) {
      if (typeIsNamed[this.t.type[c]]) out.push(this.t.node(c)!);
    }
    return out;
  }
  get childCount(): number {
    let n = 0;
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) n++;
    return n;
  }
  get namedChildCount(): number {
    let n = 0;
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) if (typeIsNamed[this.t.type[c]]) n++;
    return n;
  }
  /**
   * Like the binding, an ERROR node has no child for a field here: the binding looks the field up
   * in the node's production, which an ERROR node lacks, even where a cursor inside it (and so
   * `childrenForFieldName`) still sees the field a child had before error recovery.
   */
  childForFieldName(field: FieldName): SyntaxNode | null {
    if (this.t.fieldSource) return this.t.node(nativeFieldChild(this.t, this.i, field));
    const id = typeNames[this.t.type[this.i]] === 'ERROR' ? undefined : fieldIds.get(field);
    if (id === undefined) return null;
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) if (this.t.field[c] === id) return this.t.node(c);
    return null;
  }
  childrenForFieldName(field: FieldName): SyntaxNode[] {
    if (this.t.fieldSource) return nativeFieldChildren(this.t, this.i, field).map((c) => this.t.node(c)!);
    const id = fieldIds.get(field);
    const out: SyntaxNode[] = [];
    if (id === undefined) return out;
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) if (this.t.field[c] === id) out.push(this.t.node(c)!);
    return out;
  }
}

function grow<T extends Uint16Array | Int32Array | Uint32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/** Writes node `i`'s words where the binding reads the node a call is about. */
function handOver(words: Uint32Array, i: number, native: NativeNodes): void {
  const buf = native.transfer();
  const o = i * WORDS;
  for (let k = 0; k < WORDS; k++) buf[k] = words[o + k];
}

/** The binding answers a node as a number (its words are then at `offset` in the buffer), an object it made before, or null. */
type Answer = number | null | Record<number, number>;

/** Which child of `i` the binding's answer is (matched by node id), or NONE. */
function childOf(t: FlatTree, i: number, answer: Answer, buf: Uint32Array, offset: number): number {
  if (answer === null || answer === undefined) return NONE;
  const lo = typeof answer === 'number' ? buf[offset] : answer[0];
  const hi = typeof answer === 'number' ? buf[offset + 1] : answer[1];
  const words = t.fieldSource!.words;
  for (let c = t.firstChild[i]; c !== NONE; c = t.nextSibling[c]) {
    if (words[c * WORDS] === lo && words[c * WORDS + 1] === hi) return c;
  }
  return NONE;
}

function nativeFieldChild(t: FlatTree, i: number, field: FieldName): number {
  const src = t.fieldSource!;
  const id = src.native.fieldIds.get(field);
  if (id === undefined) return NONE;
  handOver(src.words, i, src.native);
  const answer = src.native.methods.childForFieldId(src.tree, id);
  return childOf(t, i, answer, src.native.transfer(), 0);
}

function nativeFieldChildren(t: FlatTree, i: number, field: FieldName): number[] {
  const src = t.fieldSource!;
  const id = src.native.fieldIds.get(field);
  if (id === undefined) return [];
  handOver(src.words, i, src.native);
  const answers = src.native.methods.childrenForFieldId(src.tree, id) ?? [];
  const buf = src.native.transfer();
  const out: number[] = [];
  let offset = 0;
  for (const answer of answers) {
    const c = childOf(t, i, answer, buf, offset);
    if (typeof answer === 'number') offset += WORDS;
    if (c !== NONE) out.push(c);
  }
  return out;
}

/** Words per node in the binding's transfer buffer: id (2), start byte, start row, start column, alias. */
const WORDS = 6;

/**
 * Named leaves whose text may end in whitespace (or a newline), so their end cannot be found by
 * stepping back over the whitespace before the next node; with comments, whose last child may be
 * one. Their ends are asked of the binding.
 */
const END_ASKED = new Set(['string_content', 'escape_sequence', 'doc_comment', 'line_comment', 'block_comment', 'shebang']);
const endAsked: boolean[] = [];

/** The whitespace tree-sitter-rust skips between tokens. */
function isSkipped(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/**
 * Copies `tree` (parsed from `text`) into arrays and returns its root. `text` must be the text the
 * tree was parsed from. `via` forces one way of copying (for tests).
 */
export function flattenTree(tree: Tree, text: string, via?: 'children' | 'cursor'): SyntaxNode {
  const native = via === 'cursor' ? undefined : getNativeNodes();
  if (native && (via === 'children' || !tree.rootNode.hasError)) return flattenByChildren(tree, text, native);
  return flattenByCursor(tree, text);
}

/** Learns a symbol's name and named-ness from the binding, once per process. */
function learnType(typeId: number, tree: Tree, native: NativeNodes, words: Uint32Array, i: number): void {
  handOver(words, i, native);
  typeNames[typeId] = native.methods.type(tree);
  handOver(words, i, native);
  typeIsNamed[typeId] = native.methods.isNamed(tree);
  endAsked[typeId] = END_ASKED.has(typeNames[typeId]);
}

/**
 * The copy of a tree without errors. Children come from one `children` call per named node
 * (anonymous nodes are tokens, never parents). A node's end is where the text before the next
 * node (its next sibling's start, else its parent's end) stops being skipped whitespace: between
 * two tokens there is only whitespace and comments, which are nodes; a non-root node never ends
 * with a comment (tree-sitter leaves trailing extras to the parent). Exceptions ask the binding:
 * the root, tokens whose text may end in whitespace (END_ASKED), an anonymous token whose text is
 * not its name, and non-ASCII whitespace before the next node.
 */
function flattenByChildren(tree: Tree, text: string, native: NativeNodes): SyntaxNode {
  const root = tree.rootNode as unknown as SyntaxNode & Record<number, number> & { typeId: number };
  let cap = Math.max(64, text.length >> 2);
  let type = new Uint16Array(cap);
  let parent = new Int32Array(cap);
  let firstChild = new Int32Array(cap);
  let lastChild = new Int32Array(cap);
  let nextSibling = new Int32Array(cap);
  let prevSibling = new Int32Array(cap);
  let start = new Uint32Array(cap);
  let end = new Uint32Array(cap);
  /** Where the next node after this one's subtree starts (its parent's end for the last node). */
  let follows = new Uint32Array(cap);
  let words = new Uint32Array(cap * WORDS);

  for (let k = 0; k < WORDS; k++) words[k] = root[k];
  const rootType = root.typeId;
  if (typeNames[rootType] === undefined) learnType(rootType, tree, native, words, 0);
  type[0] = rootType;
  parent[0] = firstChild[0] = lastChild[0] = nextSibling[0] = prevSibling[0] = NONE;
  start[0] = root.startIndex;
  const rootEnd = root.endIndex;
  follows[0] = rootEnd;
  let n = 1;

  const pending = [0];
  while (pending.length > 0) {
    const i = pending.pop()!;
    handOver(words, i, native);
    const kids = native.methods.children(tree) ?? [];
    const m = kids.length;
    if (m === 0) continue;
    if (n + m > cap) {
      cap = Math.max(cap * 2, n + m);
      type = grow(type, cap);
      parent = grow(parent, cap);
      firstChild = grow(firstChild, cap);
      lastChild = grow(lastChild, cap);
      nextSibling = grow(nextSibling, cap);
      prevSibling = grow(prevSibling, cap);
      start = grow(start, cap);
      end = grow(end, cap);
      follows = grow(follows, cap);
      words = grow(words, cap * WORDS);
    }
    const buf = native.transfer();
    const first = n;
    let offset = 0;
    for (let k = 0; k < m; k++) {
      const c = n++;
      const kid = kids[k];
      const o = c * WORDS;
      if (typeof kid === 'number') {
        for (let w = 0; w < WORDS; w++) words[o + w] = buf[offset + w];
        offset += WORDS;
        type[c] = kid;
      } else {
        // A node the binding handed out before (the caller asked the binding directly).
        const made = kid as unknown as Record<number, number> & { typeId: number };
        for (let w = 0; w < WORDS; w++) words[o + w] = made[w];
        type[c] = made.typeId;
      }
      start[c] = words[o + 2] >>> 1; // UTF-16: two bytes per code unit
      parent[c] = i;
      prevSibling[c] = k === 0 ? NONE : c - 1;
      nextSibling[c] = k === m - 1 ? NONE : c + 1;
      firstChild[c] = lastChild[c] = NONE;
    }
    for (let c = first; c < n; c++) if (typeNames[type[c]] === undefined) learnType(type[c], tree, native, words, c);
    firstChild[i] = first;
    lastChild[i] = n - 1;
    for (let c = first; c < n - 1; c++) follows[c] = start[c + 1];
    follows[n - 1] = follows[i];
    for (let c = n - 1; c >= first; c--) if (typeIsNamed[type[c]]) pending.push(c);
  }

  // Children have larger numbers than their parent: last to first, a parent's children are done.
  for (let i = n - 1; i >= 0; i--) {
    const t = type[i];
    const s = start[i];
    let e = -1;
    if (i === 0) e = rootEnd;
    else if (!typeIsNamed[t]) {
      const name = typeNames[t];
      if (text.startsWith(name, s)) e = s + name.length;
    } else if (!endAsked[t]) {
      e = follows[i];
      while (e > s && isSkipped(text.charCodeAt(e - 1))) e--;
      if (e > s && text.charCodeAt(e - 1) > 127 && /\s/.test(text[e - 1])) e = -1;
      else if (lastChild[i] !== NONE && end[lastChild[i]] > e) e = end[lastChild[i]];
    }
    if (e === -1) {
      handOver(words, i, native);
      e = native.methods.endIndex(tree);
    }
    end[i] = e;
  }

  const flat = new FlatTree(text, type, new Uint16Array(0), parent, firstChild, nextSibling, prevSibling, start, end, undefined, undefined, n);
  flat.fieldSource = { tree, native, words };
  return flat.node(0)!;
}

function flattenByCursor(tree: Tree, text: string): SyntaxNode {
  const cursor = (tree as unknown as { walk(): Cursor }).walk();
  const withErrors = tree.rootNode.hasError;
  // Rust has about one node per four code units; grown when short.
  let cap = Math.max(64, text.length >> 2);
  let type = new Uint16Array(cap);
  let field = new Uint16Array(cap);
  let parent = new Int32Array(cap);
  let firstChild = new Int32Array(cap);
  let nextSibling = new Int32Array(cap);
  let prevSibling = new Int32Array(cap);
  let start = new Uint32Array(cap);
  let end = new Uint32Array(cap);
  // Only a tree with errors has MISSING nodes or nodes with errors inside. Both are asked of
  // the binding node by node: its notion of "has an error" is the parser's error cost, which is
  // zero for some ERROR nodes (an unexpected NUL, for one), so it cannot be derived here.
  let missing = withErrors ? new Uint8Array(cap) : undefined;
  let error = withErrors ? new Uint8Array(cap) : undefined;

  const stack: number[] = [];
  let n = 0;
  let prev = NONE; // the previous sibling of the node about to be visited
  for (;;) {
    if (n === cap) {
      cap *= 2;
      type = grow(type, cap);
      field = grow(field, cap);
      parent = grow(parent, cap);
      firstChild = grow(firstChild, cap);
      nextSibling = grow(nextSibling, cap);
      prevSibling = grow(prevSibling, cap);
      start = grow(start, cap);
      end = grow(end, cap);
      if (missing) missing = grow(missing, cap);
      if (error) error = grow(error, cap);
    }
    const i = n++;
    const typeId = cursor.nodeTypeId;
    if (typeNames[typeId] === undefined) {
      typeNames[typeId] = cursor.nodeType;
      typeIsNamed[typeId] = cursor.nodeIsNamed;
      endAsked[typeId] = END_ASKED.has(typeNames[typeId]);
    }
    type[i] = typeId;
    const fieldId = cursor.currentFieldId;
    if (fieldId !== 0 && !fieldSeen[fieldId]) {
      fieldSeen[fieldId] = true;
      const name = cursor.currentFieldName;
      if (name) fieldIds.set(name, fieldId);
    }
    field[i] = fieldId;
    const up = stack.length > 0 ? stack[stack.length - 1] : NONE;
    parent[i] = up;
    prevSibling[i] = prev;
    nextSibling[i] = NONE;
    firstChild[i] = NONE;
    if (prev !== NONE) nextSibling[prev] = i;
    else if (up !== NONE) firstChild[up] = i;
    // Asked of every node: an inner node's hidden children (the delimiters of a raw string,
    // trailing trivia of the file) make its extent wider than its visible children's.
    start[i] = cursor.startIndex;
    end[i] = cursor.endIndex;
    if (missing && error) {
      const node = cursor.currentNode;
      missing[i] = node.isMissing ? 1 : 0;
      error[i] = node.hasError ? 1 : 0;
    }

    if (cursor.gotoFirstChild()) {
      stack.push(i);
      prev = NONE;
      continue;
    }
    prev = i;
    while (!cursor.gotoNextSibling()) {
      if (stack.length === 0) return finish();
      const done = stack.pop()!;
      cursor.gotoParent();
      prev = done;
    }
  }

  function finish(): SyntaxNode {
    const flat = new FlatTree(text, type, field, parent, firstChild, nextSibling, prevSibling, start, end, missing, error, n);
    return flat.node(0)!;
  }
}
