// A tree-sitter tree copied into typed arrays, behind the same `SyntaxNode` interface.
//
// Why: in the Node binding every node accessor is a native call and every node handed out is a
// new object registered with the tree through a weak reference. The extractor asks for types,
// fields, children and text about three times per node, which cost several times the parse.
// Two ways to copy, one result:
// - a tree without errors is copied as the extractor reaches it: a node's children come from one
//   native call when they are first needed (it answers all their types and starts at once);
//   ends are derived from the text, and fields from the grammar's node types, asking the binding
//   only where those do not decide. Subtrees the extractor never enters (comments, attributes,
//   macro bodies it re-parses) are never copied;
// - a tree with errors is copied whole by a cursor walk that asks every node's type, field,
//   offsets and error flags, because error recovery breaks what the first way derives.
// Everything else (text, positions, children, siblings) is then answered in JavaScript.
// When the native addon is built (native-parse.ts), `parseFlat` skips both: it parses and gets
// every node's columns, copied in C with the same cursor walk, in one call.
import { getNativeParse, type NativeParse } from './native-parse.js';
import type { FieldName } from './node-kinds.generated.js';
import { getNativeNodes, parseRust, type NativeNodes, type SyntaxNode, type Tree } from './parser.js';

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

/** The per-node arrays. */
export interface Columns {
  type: Uint16Array;
  field: Uint16Array;
  parent: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  prevSibling: Int32Array;
  start: Uint32Array;
  end: Uint32Array;
}

class FlatTree {
  readonly nodes: (FlatNode | undefined)[] = [];
  private lineStarts: number[] | undefined;
  /** Set while nodes are still being copied from the binding's tree. */
  lazy?: LazyCopy;

  constructor(
    readonly text: string,
    public c: Columns,
    /** Per node, or undefined when the tree has no error at all. */
    readonly missing: Uint8Array | undefined,
    readonly error: Uint8Array | undefined,
  ) {}

  node(i: number): FlatNode | null {
    if (i === NONE) return null;
    return (this.nodes[i] ??= new FlatNode(this, i));
  }

  /** Makes sure node `i`'s children are copied. */
  open(i: number): Columns {
    if (this.lazy !== undefined && this.lazy.opened[i] === 0) this.lazy.copyChildren(i);
    return this.c;
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
    return typeNames[this.t.c.type[this.i]];
  }
  get isNamed(): boolean {
    return typeIsNamed[this.t.c.type[this.i]];
  }
  get isMissing(): boolean {
    return this.t.missing !== undefined && this.t.missing[this.i] === 1;
  }
  get hasError(): boolean {
    return this.t.error !== undefined && this.t.error[this.i] === 1;
  }
  get startIndex(): number {
    return this.t.c.start[this.i];
  }
  get endIndex(): number {
    return this.t.c.end[this.i];
  }
  get text(): string {
    return this.t.text.substring(this.t.c.start[this.i], this.t.c.end[this.i]);
  }
  get startPosition(): { row: number; column: number } {
    return this.t.point(this.t.c.start[this.i]);
  }
  get endPosition(): { row: number; column: number } {
    return this.t.point(this.t.c.end[this.i]);
  }
  get parent(): SyntaxNode | null {
    return this.t.node(this.t.c.parent[this.i]);
  }
  get nextSibling(): SyntaxNode | null {
    return this.t.node(this.t.c.nextSibling[this.i]);
  }
  get previousSibling(): SyntaxNode | null {
    return this.t.node(this.t.c.prevSibling[this.i]);
  }
  /**
   * The smallest node that contains code unit `index`, as the binding's
   * `descendantForIndex(index, index + 1)` finds it: tree-sitter descends into the child that
   * contains it, through hidden nodes, whose visible children are the children here.
   */
  nodeAt(index: number): FlatNode {
    let node = this.i;
    for (let descended = true; descended; ) {
      descended = false;
      const c = this.t.open(node);
      for (let k = c.firstChild[node]; k !== NONE; k = c.nextSibling[k]) {
        if (c.end[k] <= index) continue;
        if (index < c.start[k]) break;
        node = k;
        descended = true;
        break;
      }
    }
    return this.t.node(node)!;
  }
  get children(): SyntaxNode[] {
    const c = this.t.open(this.i);
    const out: SyntaxNode[] = [];
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) out.push(this.t.node(k)!);
    return out;
  }
  get namedChildren(): SyntaxNode[] {
    const c = this.t.open(this.i);
    const out: SyntaxNode[] = [];
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) {
      if (typeIsNamed[c.type[k]]) out.push(this.t.node(k)!);
    }
    return out;
  }
  get childCount(): number {
    const c = this.t.open(this.i);
    let n = 0;
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) n++;
    return n;
  }
  get namedChildCount(): number {
    const c = this.t.open(this.i);
    let n = 0;
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) if (typeIsNamed[c.type[k]]) n++;
    return n;
  }
  /**
   * Like the binding, an ERROR node has no child for a field here: the binding looks the field up
   * in the node's production, which an ERROR node lacks, even where a cursor inside it (and so
   * `childrenForFieldName`) still sees the field a child had before error recovery.
   */
  childForFieldName(field: FieldName): SyntaxNode | null {
    const c = this.t.open(this.i);
    if (this.t.lazy?.asks[this.i]) this.t.lazy.decideField(this.i, field);
    const id = typeNames[c.type[this.i]] === 'ERROR' ? undefined : fieldIds.get(field);
    if (id === undefined) return null;
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) if (c.field[k] === id) return this.t.node(k);
    return null;
  }
  childrenForFieldName(field: FieldName): SyntaxNode[] {
    const c = this.t.open(this.i);
    if (this.t.lazy?.asks[this.i]) this.t.lazy.decideField(this.i, field);
    const id = fieldIds.get(field);
    const out: SyntaxNode[] = [];
    if (id === undefined) return out;
    for (let k = c.firstChild[this.i]; k !== NONE; k = c.nextSibling[k]) if (c.field[k] === id) out.push(this.t.node(k)!);
    return out;
  }
}

function grow<T extends Uint16Array | Int32Array | Uint32Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * Copies `tree` (parsed from `text`) into arrays and returns its root. `text` must be the text the
 * tree was parsed from, and `tree` must not be edited while the copy is in use (a tree without
 * errors is copied as it is read). `via: 'cursor'` copies any tree the second way (for tests).
 */
export function flattenTree(tree: Tree, text: string, via?: 'cursor'): SyntaxNode {
  const native = via === 'cursor' ? undefined : getNativeNodes();
  if (native && !tree.rootNode.hasError) {
    const flat = new LazyCopy(tree, text, native).flat;
    return flat.node(0)!;
  }
  return flattenByCursor(tree, text);
}

/**
 * Parses `text` and returns the root of its flat copy: in one call to the native addon when it is
 * there, else through the binding (`parseRust` then `flattenTree`). For a tree that is not kept
 * (the language server keeps its trees, to edit them, and copies them with `flattenTree`).
 */
export function parseFlat(text: string): SyntaxNode {
  return parseNative(text) ?? flattenTree(parseRust(text), text);
}

/** The flat copy of `text`'s tree from the native addon, or undefined when it is not there. */
export function parseNative(text: string): SyntaxNode | undefined {
  const native = getNativeParse();
  if (!native) return undefined;
  if (tablesFrom !== native) learnTables(native);
  const c = native.parse(text);
  return new FlatTree(text, c, c.missing, c.error).node(0)!;
}

let tablesFrom: NativeParse | undefined;

/** Fills the language-wide tables from the addon's, all at once. */
function learnTables(native: NativeParse): void {
  native.names.forEach((name, id) => {
    if (typeof name === 'string') learnType(id, name, native.named[id] === 1);
  });
  native.fields.forEach((name, id) => {
    if (name) fieldIds.set(name, id);
  });
  tablesFrom = native;
}

/** The smallest node of `root`'s tree that contains code unit `index`. */
export function nodeAtIndex(root: SyntaxNode, index: number): SyntaxNode {
  if (root instanceof FlatNode) return root.nodeAt(index);
  return (root as unknown as { descendantForIndex(a: number, b: number): SyntaxNode }).descendantForIndex(index, index + 1);
}

/** Words per node in the binding's transfer buffer: id (2), start byte, start row, start column, alias. */
const WORDS = 6;

/**
 * Named nodes whose text may end in whitespace (or a newline), so their end cannot be found by
 * stepping back over the whitespace before the next node, and comments, whose last child may be
 * one. Their ends are asked of the binding.
 */
const END_ASKED = new Set(['string_content', 'escape_sequence', 'doc_comment', 'line_comment', 'block_comment', 'shebang']);
const endAsked: boolean[] = [];

/** Fills the language-wide tables for a symbol the first time either copy meets it. */
function learnType(typeId: number, name: string, named: boolean): void {
  typeNames[typeId] = name;
  typeIsNamed[typeId] = named;
  endAsked[typeId] = END_ASKED.has(name);
}

/** The whitespace tree-sitter-rust skips between tokens. */
function isSkipped(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** The binding answers a node as a number (its words are then in the transfer buffer), an object it made before, or null. */
type Answer = number | null | Record<number, number>;

/**
 * The copy of a tree without errors, made as it is read. Children come from one `children` call
 * per node (anonymous nodes are tokens, never parents). A node's end is where the text before
 * the next node (its next sibling's start, else its parent's end) stops being skipped
 * whitespace: between two tokens there is only whitespace and comments, which are nodes, and a
 * node other than the root never ends with a comment (tree-sitter leaves trailing extras to the
 * parent) nor, outside comments, with a token that can end in whitespace. Exceptions ask the
 * binding: the root, END_ASKED types, an anonymous token whose text is not its name, and
 * non-ASCII whitespace before the next node.
 */
class LazyCopy {
  readonly flat: FlatTree;
  private cap: number;
  private n = 1;
  /** The binding's six words per node, to hand a node back to it. */
  private words: Uint32Array;
  /** Where the next node after this one's subtree starts (its parent's end for the last child). */
  private follows: Uint32Array;
  /** Per node: 1 once its children are copied. */
  opened: Uint8Array;
  /** Per node: 1 while the field of some child is undecided (see `decideField`). */
  asks: Uint8Array;
  /** Per node: 0 when its field is decided, else the id of its list of possible fields (`fieldLists`). */
  private undecided: Uint32Array;

  constructor(
    private readonly tree: Tree,
    private readonly text: string,
    private readonly native: NativeNodes,
  ) {
    if (fieldIds.size < native.fieldIds.size) for (const [name, id] of native.fieldIds) fieldIds.set(name, id);
    // Rust has about one node per four code units. The extractor reads fewer, but starting
    // with room for all of them spares most trees a second allocation of every column.
    this.cap = Math.max(64, text.length >> 2);
    const cap = this.cap;
    this.words = new Uint32Array(cap * WORDS);
    this.follows = new Uint32Array(cap);
    this.opened = new Uint8Array(cap);
    this.asks = new Uint8Array(cap);
    this.undecided = new Uint32Array(cap);
    const c: Columns = {
      type: new Uint16Array(cap),
      field: new Uint16Array(cap),
      parent: new Int32Array(cap),
      firstChild: new Int32Array(cap),
      nextSibling: new Int32Array(cap),
      prevSibling: new Int32Array(cap),
      start: new Uint32Array(cap),
      end: new Uint32Array(cap),
    };
    this.flat = new FlatTree(text, c, undefined, undefined);
    this.flat.lazy = this;

    const root = tree.rootNode as unknown as SyntaxNode & Record<number, number> & { typeId: number };
    for (let k = 0; k < WORDS; k++) this.words[k] = root[k];
    c.type[0] = root.typeId;
    if (typeNames[c.type[0]] === undefined) this.learnTypeOf(0);
    c.parent[0] = c.firstChild[0] = c.nextSibling[0] = c.prevSibling[0] = NONE;
    c.start[0] = root.startIndex;
    c.end[0] = root.endIndex;
    this.follows[0] = c.end[0];
  }

  /** Writes node `i`'s words where the binding reads the node a call is about. */
  private handOver(i: number): void {
    const buf = this.native.transfer();
    const o = i * WORDS;
    for (let k = 0; k < WORDS; k++) buf[k] = this.words[o + k];
  }

  /** Learns a symbol's name and named-ness from the binding, once per process. */
  private learnTypeOf(i: number): void {
    const typeId = this.flat.c.type[i];
    this.handOver(i);
    const name = this.native.methods.type(this.tree);
    this.handOver(i);
    learnType(typeId, name, this.native.methods.isNamed(this.tree));
  }

  private ensureRoom(m: number): void {
    if (this.n + m <= this.cap) return;
    const cap = (this.cap = Math.max(this.cap * 2, this.n + m));
    const c = this.flat.c;
    this.flat.c = {
      type: grow(c.type, cap),
      field: grow(c.field, cap),
      parent: grow(c.parent, cap),
      firstChild: grow(c.firstChild, cap),
      nextSibling: grow(c.nextSibling, cap),
      prevSibling: grow(c.prevSibling, cap),
      start: grow(c.start, cap),
      end: grow(c.end, cap),
    };
    this.words = grow(this.words, cap * WORDS);
    this.follows = grow(this.follows, cap);
    this.opened = grow(this.opened, cap);
    this.asks = grow(this.asks, cap);
    this.undecided = grow(this.undecided, cap);
  }

  copyChildren(i: number): void {
    this.opened[i] = 1;
    let c = this.flat.c;
    c.firstChild[i] = NONE;
    if (!typeIsNamed[c.type[i]]) return;
    this.handOver(i);
    const kids = this.native.methods.children(this.tree) ?? [];
    const m = kids.length;
    if (m === 0) return;
    this.ensureRoom(m);
    c = this.flat.c;
    const words = this.words;
    const buf = this.native.transfer();
    const first = this.n;
    let offset = 0;
    for (let k = 0; k < m; k++) {
      const child = this.n++;
      const kid = kids[k];
      const o = child * WORDS;
      if (typeof kid === 'number') {
        for (let w = 0; w < WORDS; w++) words[o + w] = buf[offset + w];
        offset += WORDS;
        c.type[child] = kid;
      } else {
        // A node the binding handed out before (someone asked the binding directly).
        const made = kid as unknown as Record<number, number> & { typeId: number };
        for (let w = 0; w < WORDS; w++) words[o + w] = made[w];
        c.type[child] = made.typeId;
      }
      c.start[child] = words[o + 2] >>> 1; // UTF-16: two bytes per code unit
      c.parent[child] = i;
      c.prevSibling[child] = k === 0 ? NONE : child - 1;
      c.nextSibling[child] = k === m - 1 ? NONE : child + 1;
      c.firstChild[child] = NONE;
    }
    const last = this.n - 1;
    c.firstChild[i] = first;
    for (let child = first; child <= last; child++) {
      if (typeNames[c.type[child]] === undefined) this.learnTypeOf(child);
      this.follows[child] = child < last ? c.start[child + 1] : this.follows[i];
      c.end[child] = this.endOf(child);
      const list = possibleFields(this.native, c.type[i], c.type[child]);
      const fields = fieldLists[list];
      if (fields.length === 1) c.field[child] = fields[0];
      else {
        this.asks[i] = 1;
        this.undecided[child] = list;
      }
    }
  }

  private endOf(i: number): number {
    const c = this.flat.c;
    const t = c.type[i];
    const s = c.start[i];
    if (!typeIsNamed[t]) {
      const name = typeNames[t];
      if (this.text.startsWith(name, s)) return s + name.length;
    } else if (!endAsked[t]) {
      let e = this.follows[i];
      while (e > s && isSkipped(this.text.charCodeAt(e - 1))) e--;
      if (!(e > s && this.text.charCodeAt(e - 1) > 127 && /\s/.test(this.text[e - 1]))) return e;
    }
    this.handOver(i);
    return this.native.methods.endIndex(this.tree);
  }

  /** Which child of `i` the binding's answer is (matched by node id), or NONE. */
  private childOf(i: number, answer: Answer, buf: Uint32Array, offset: number): number {
    if (answer === null || answer === undefined) return NONE;
    const lo = typeof answer === 'number' ? buf[offset] : answer[0];
    const hi = typeof answer === 'number' ? buf[offset + 1] : answer[1];
    const c = this.flat.c;
    for (let k = c.firstChild[i]; k !== NONE; k = c.nextSibling[k]) {
      if (this.words[k * WORDS] === lo && this.words[k * WORDS + 1] === hi) return k;
    }
    return NONE;
  }

  /**
   * Makes the `field` of node `i`'s children known, before it is answered from the copy: if some
   * undecided child could have it, one `childrenForFieldId` call tells which children do, and
   * the others lose it from their possibilities; a child left with one possibility is decided
   * (`const A: T = B;`: once `A` is the name, `B`, name or value by type, is the value).
   */
  decideField(i: number, field: FieldName): void {
    const id = this.native.fieldIds.get(field);
    if (id === undefined) return;
    const c = this.flat.c;
    let possible = false;
    for (let k = c.firstChild[i]; k !== NONE && !possible; k = c.nextSibling[k]) {
      possible = this.undecided[k] !== 0 && fieldLists[this.undecided[k]].includes(id);
    }
    if (!possible) return;
    this.handOver(i);
    const answers = this.native.methods.childrenForFieldId(this.tree, id) ?? [];
    const buf = this.native.transfer();
    let offset = 0;
    for (const answer of answers) {
      const k = this.childOf(i, answer, buf, offset);
      if (typeof answer === 'number') offset += WORDS;
      if (k === NONE) continue;
      c.field[k] = id;
      this.undecided[k] = 0;
    }
    let open = false;
    for (let k = c.firstChild[i]; k !== NONE; k = c.nextSibling[k]) {
      if (this.undecided[k] === 0) continue;
      const fields = fieldLists[this.undecided[k]];
      const rest = fields.includes(id) ? fields.filter((f) => f !== id) : fields;
      if (rest.length === 1) {
        c.field[k] = rest[0];
        this.undecided[k] = 0;
      } else {
        this.undecided[k] = fieldListId(rest);
        open = true;
      }
    }
    if (!open) this.asks[i] = 0;
  }
}

/**
 * The fields a child of type `child` can have under a parent of type `parent`, from the grammar's
 * node types: the parent's fields that list the child's type and 0 when its field-less children
 * do, where supertypes such as `_expression` stand for all their subtypes. node-types.json lists
 * every type a field can hold, so for a tree without errors one possibility is the answer. Not
 * listed: an anonymous token is no field's (fields list theirs), comments are extras and never a
 * field's, a parent without fields has none, and anything else could be any of the parent's.
 * Answered as the id of the list in `fieldLists`.
 */
function possibleFields(native: NativeNodes, parent: number, child: number): number {
  const key = parent * 65536 + child;
  let list = fieldMemo.get(key);
  if (list === undefined) {
    const byChild = fieldPlaces(native).get(typeNames[parent]);
    const listed = byChild?.get(`${typeIsNamed[child] ? 'named' : 'anonymous'} ${typeNames[child]}`);
    let fields: readonly number[];
    if (listed) fields = listed;
    else if (!byChild || !typeIsNamed[child] || typeNames[child] === 'line_comment' || typeNames[child] === 'block_comment') fields = [0];
    else fields = [...new Set([...byChild.values()].flat()), 0];
    list = fieldListId(fields);
    fieldMemo.set(key, list);
  }
  return list;
}

/** Lists of possible fields, each stored once, by id; id 0 is no list (a decided field). */
const fieldLists: (readonly number[])[] = [[]];
const fieldListIds = new Map<string, number>();
const fieldMemo = new Map<number, number>();

function fieldListId(fields: readonly number[]): number {
  const key = fields.join(',');
  let id = fieldListIds.get(key);
  if (id === undefined) {
    id = fieldLists.push(fields) - 1;
    fieldListIds.set(key, id);
  }
  return id;
}

let places: Map<string, Map<string, number[]>> | undefined;

/** Per parent type name: child type key to the field ids that list it (0 for field-less children). */
function fieldPlaces(native: NativeNodes): Map<string, Map<string, number[]>> {
  if (places) return places;
  places = new Map();
  const subtypes = new Map(native.nodeTypes.filter((t) => t.subtypes).map((t) => [t.type, t.subtypes!]));
  const expand = (types: { type: string; named: boolean }[], out: Set<string>): Set<string> => {
    for (const t of types) {
      const sub = t.named ? subtypes.get(t.type) : undefined;
      if (sub) expand(sub, out);
      else out.add(`${t.named ? 'named' : 'anonymous'} ${t.type}`);
    }
    return out;
  };
  for (const info of native.nodeTypes) {
    if (!info.named || (!info.fields && !info.children)) continue;
    const byChild = new Map<string, number[]>();
    const place = (key: string, field: number) => {
      const fields = byChild.get(key);
      if (!fields) byChild.set(key, [field]);
      else if (!fields.includes(field)) fields.push(field);
    };
    for (const [name, spec] of Object.entries(info.fields ?? {})) {
      const id = native.fieldIds.get(name);
      if (id === undefined) continue;
      for (const key of expand(spec.types, new Set())) place(key, id);
    }
    if (info.children) for (const key of expand(info.children.types, new Set())) place(key, 0);
    places.set(info.type, byChild);
  }
  return places;
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
    if (typeNames[typeId] === undefined) learnType(typeId, cursor.nodeType, cursor.nodeIsNamed);
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
    const flat = new FlatTree(text, { type, field, parent, firstChild, nextSibling, prevSibling, start, end }, missing, error);
    return flat.node(0)!;
  }
}
