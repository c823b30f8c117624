// An open Rust document: its text as the editor has it, its syntax tree and its facts. Edits are
// applied to the tree as they arrive (`Tree.edit`); the reparse with the old tree and the fact
// update happen once, when the facts are next asked for, so a burst of changes costs one parse.
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import type { FileFacts } from '../facts/ir.js';
import { parseRust, type Tree } from '../syntax/parser.js';
import { IncrementalFacts, type UpdateStats } from './incremental-facts.js';
import { treeEditFor } from './positions.js';

export class OpenDocument {
  private doc: TextDocument;
  private tree: Tree | undefined;
  private readonly incremental: IncrementalFacts;
  private current: FileFacts | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    version: number,
    text: string,
    /** Impl blocks of at least this many lines have their methods updated one by one. */
    splitImplLines?: number,
  ) {
    this.doc = TextDocument.create(uri, languageId, version, text);
    this.incremental = new IncrementalFacts(splitImplLines);
  }

  get text(): string {
    return this.doc.getText();
  }

  get version(): number {
    return this.doc.version;
  }

  get textDocument(): TextDocument {
    return this.doc;
  }

  /** Applies the changes of one `didChange`, in order, each to the text left by the previous. */
  applyChanges(changes: TextDocumentContentChangeEvent[], version: number): void {
    for (const change of changes) {
      if ('range' in change && change.range) {
        const before = this.doc.getText();
        // A reversed range is applied as if its ends were swapped, as TextDocument does.
        const a = this.doc.offsetAt(change.range.start);
        const b = this.doc.offsetAt(change.range.end);
        this.tree?.edit(treeEditFor(before, Math.min(a, b), Math.max(a, b), change.text));
      } else {
        // The whole text replaced: nothing of the old tree is worth keeping.
        this.tree = undefined;
      }
      this.doc = TextDocument.update(this.doc, [change], version);
    }
    this.current = undefined;
  }

  /** Facts of the current text, parsing incrementally from the last tree. */
  facts(): FileFacts {
    if (!this.current) {
      const text = this.doc.getText();
      this.tree = parseRust(text, this.tree);
      this.current = this.incremental.update(text, this.tree);
    }
    return this.current;
  }

  get lastUpdate(): UpdateStats {
    return this.incremental.lastStats;
  }
}
