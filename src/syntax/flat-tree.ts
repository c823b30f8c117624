// A tree-sitter tree copied once into typed arrays, behind the same `SyntaxNode` interface.
//
// Why: in the Node binding every node accessor is a native call and every node handed out is a
// new object registered with the tree through a weak reference. The extractor asks for types,
// fields, children and text about three times per node, which cost several times the parse.
// One cursor walk asks the binding each node's type, field id and offsets; everything else —
// text, positions, children, siblings, fields, errors — is then answered in JavaScript.
import type { FieldName } from './node-kinds.generated.js';
import type { SyntaxNode, Tree } from './parser.js';

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

class FlatTree {
  readonly nodes: (FlatNode | undefined)[];
  private lineStarts: number[] | undefined;

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
    const id = typeNames[this.t.type[this.i]] === 'ERROR' ? undefined : fieldIds.get(field);
    if (id === undefined) return null;
    for (let c = this.t.firstChild[this.i]; c !== NONE; c = this.t.nextSibling[c]) if (this.t.field[c] === id) return this.t.node(c);
    return null;
  }
  childrenForFieldName(field: FieldName): SyntaxNode[] {
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

/**
 * Copies `tree` (parsed from `text`) into arrays and returns its root. `text` must be the text the
 * tree was parsed from.
 */
export function flattenTree(tree: Tree, text: string): SyntaxNode {
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
