// The one place that loads tree-sitter and the Rust grammar.
import { createRequire } from 'node:module';
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

/** Versions that change what the parser produces; part of every cache key. */
export function parserVersions(): { treeSitter: string; grammar: string } {
  const treeSitter = (require('tree-sitter/package.json') as { version: string }).version;
  const grammar = (require('tree-sitter-rust/package.json') as { version: string }).version;
  return { treeSitter, grammar };
}
