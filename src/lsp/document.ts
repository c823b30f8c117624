// An open Rust document: its text as the editor has it, its syntax tree and its facts. Edits are
// applied to the tree as they arrive (`Tree.edit`); the reparse with the old tree and the fact
// update happen once, when the facts are next asked for, so a burst of changes costs one parse.
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import type { FileFacts } from '../facts/ir.js';
import { MAX_FILE_BYTES } from '../lint/limits.js';
import { parseRust, type Tree } from '../syntax/parser.js';
import { IncrementalFacts, type UpdateStats } from './incremental-facts.js';
import { treeEditFor } from './positions.js';

export class OpenDocument {
  private doc: TextDocument;
  private tree: Tree | undefined;
  private readonly incremental: IncrementalFacts;
  private current: FileFacts | undefined;
  /** UTF-8 size of the text when over the limit (undefined: within it); computed once per version. */
  private oversize: { version: number; bytes: number | undefined } | undefined;
  /** Size of a text that was never read because it is too long. */
  private unreadBytes: number | undefined;

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

  /** The text was too long to be read at all: the document is only a size. */
  markTooLarge(bytes: number): void {
    this.unreadBytes = bytes;
  }

  /** The size in UTF-8 bytes of a text over the limit, which is not parsed; undefined otherwise. */
  tooLargeBytes(): number | undefined {
    if (this.unreadBytes !== undefined) return this.unreadBytes;
    const text = this.doc.getText();
    // A UTF-16 code unit is at most 3 bytes of UTF-8: most texts need no counting.
    if (text.length * 3 <= MAX_FILE_BYTES) return undefined;
    if (this.oversize?.version !== this.doc.version) {
      const bytes = Buffer.byteLength(text, 'utf8');
      this.oversize = { version: this.doc.version, bytes: bytes > MAX_FILE_BYTES ? bytes : undefined };
    }
    return this.oversize.bytes;
  }

  /** Applies the changes of one `didChange`, in order, each to the text left by the previous. */
  applyChanges(changes: TextDocumentContentChangeEvent[], version: number): void {
    if (this.unreadBytes !== undefined) {
      // Edits of a text never read cannot be applied; a whole new text can.
      const whole = changes.filter((c) => !('range' in c && c.range)).pop();
      if (!whole) return;
      this.unreadBytes = undefined;
      changes = [whole];
    }
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
