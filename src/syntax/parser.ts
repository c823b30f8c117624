// The one place that loads tree-sitter and the Rust grammar.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { FieldName, NodeKind } from './node-kinds.generated.js';

const require = createRequire(import.meta.url);

/** The subset of tree-sitter's node API the extractor uses, typed with the grammar's kinds. */
export interface SyntaxNode {
  readonly type: string;
  readonly text: string;
  readonly isNamed: boolean;
  readonly hasError: boolean;
  readonly isMissing: boolean;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: { row: number; column: number };
  readonly endPosition: { row: number; column: number };
  readonly children: SyntaxNode[];
  readonly namedChildren: SyntaxNode[];
  readonly namedChildCount: number;
  readonly childCount: number;
  readonly parent: SyntaxNode | null;
  readonly previousSibling: SyntaxNode | null;
  readonly nextSibling: SyntaxNode | null;
  childForFieldName(field: FieldName): SyntaxNode | null;
  childrenForFieldName(field: FieldName): SyntaxNode[];
}

export interface Tree {
  readonly rootNode: SyntaxNode;
  edit(edit: {
    startIndex: number;
    oldEndIndex: number;
    newEndIndex: number;
    startPosition: { row: number; column: number };
    oldEndPosition: { row: number; column: number };
    newEndPosition: { row: number; column: number };
  }): void;
}

interface TreeSitterParser {
  setLanguage(language: unknown): void;
  parse(input: string, oldTree?: Tree | null, options?: { bufferSize?: number }): Tree;
}

export type Kind = NodeKind | 'ERROR';

/** Compile-time checked node kind comparison. */
export function is(node: SyntaxNode | null | undefined, kind: Kind): node is SyntaxNode {
  return node !== null && node !== undefined && node.type === kind;
}

let parser: TreeSitterParser | undefined;

function getParser(): TreeSitterParser {
  if (!parser) {
    const Parser = require('tree-sitter') as new () => TreeSitterParser;
    const Rust = require('tree-sitter-rust');
    parser = new Parser();
    parser.setLanguage(Rust);
  }
  return parser;
}

/**
 * Parses Rust source. The Node binding reads the input through a buffer of `bufferSize`
 * code units; a buffer at least as large as the text avoids many small callbacks.
 */
export function parseRust(text: string, oldTree?: Tree): Tree {
  const bufferSize = Math.max(32 * 1024, text.length + 1);
  return getParser().parse(text, oldTree ?? null, { bufferSize });
}

/**
 * The binding's own node methods and transfer buffer (tree-sitter 0.22's `index.js` is a thin
 * layer over them): a node is six 32-bit words (id, start byte, start row and column, alias)
 * written to the buffer before a call; nodes a call returns are written back to it. Used to copy
 * a tree with one native call per node that has children instead of several per node
 * (see flat-tree.ts). Undefined when the installed binding is not laid out as expected, and
 * callers then use the public API.
 */
export interface NativeNodes {
  methods: {
    children(tree: Tree): (number | null | Record<number, number>)[];
    type(tree: Tree): string;
    isNamed(tree: Tree): boolean;
    endIndex(tree: Tree): number;
    childrenForFieldId(tree: Tree, field: number): (number | null | Record<number, number>)[];
  };
  /** The current transfer buffer; the binding replaces it when it needs a larger one. */
  transfer(): Uint32Array;
  /** Field name to the grammar's field id. */
  fieldIds: Map<string, number>;
  /**
   * The grammar's node types (its node-types.json): per node type, the types each field and the
   * field-less children can have.
   */
  nodeTypes: NodeTypeInfo[];
}

export interface NodeTypeInfo {
  type: string;
  named: boolean;
  fields?: Record<string, { types: { type: string; named: boolean }[] }>;
  children?: { types: { type: string; named: boolean }[] };
  subtypes?: { type: string; named: boolean }[];
}

let nativeNodes: NativeNodes | null | undefined;

export function getNativeNodes(): NativeNodes | undefined {
  if (nativeNodes === undefined) nativeNodes = loadNativeNodes();
  return nativeNodes ?? undefined;
}

function loadNativeNodes(): NativeNodes | null {
  try {
    getParser();
    const main = require.resolve('tree-sitter');
    const fromBinding = createRequire(main);
    const binding = (fromBinding('node-gyp-build') as (dir: string) => Record<string, unknown>)(path.dirname(main));
    const methods = binding.NodeMethods as NativeNodes['methods'] | undefined;
    // The same loaded addon as the one `require('tree-sitter')` wraps, with the expected methods.
    if (binding.Parser !== require('tree-sitter') || !methods || !(binding.nodeTransferArray instanceof Uint32Array)) return null;
    for (const m of ['children', 'type', 'isNamed', 'endIndex', 'childrenForFieldId'] as const) {
      if (typeof methods[m] !== 'function') return null;
    }
    const language = require('tree-sitter-rust') as { nodeTypeInfo?: NodeTypeInfo[] };
    if (!Array.isArray(language.nodeTypeInfo)) return null;
    const names = (binding.getNodeFieldNamesById as (language: unknown) => (string | null)[])(language);
    const fieldIds = new Map<string, number>();
    names.forEach((name, id) => {
      if (name) fieldIds.set(name, id);
    });
    return { methods, transfer: () => binding.nodeTransferArray as Uint32Array, fieldIds, nodeTypes: language.nodeTypeInfo };
  } catch {
    return null;
  }
}

/** Versions that change what the parser produces; part of every cache key. */
export function parserVersions(): { treeSitter: string; grammar: string } {
  const treeSitter = (require('tree-sitter/package.json') as { version: string }).version;
  const grammar = (require('tree-sitter-rust/package.json') as { version: string }).version;
  return { treeSitter, grammar };
}
