// What the language server knows of the user's code: the open documents, the other `.rs` files
// of their crates read from disk, the configs, and the diagnostics of each file.
//
// A *scope* is the folder a document's crate is looked for in: the nearest folder above the
// document that holds dmalint.toml, Cargo.toml, Kbuild or a Makefile, not above the workspace
// folder; a file in no workspace folder and under no such folder is a scope of its own. Its
// `.rs` files are read once, in the background with a bounded walk, and its files are analyzed
// only then (facts cached by content); after that only an edited file is re-extracted, the
// scope's files are grouped into crates (`groupCrates`, as the CLI does) and only the crates
// holding changed files are analyzed again (`analyze`, the CLI's analysis), so the findings are
// those `dmalint check <scope>` reports.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Diagnostic, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { RULES } from '../lint/registry.js';
import { CONFIG_FILE_NAME } from '../config/load.js';
import type { ConfigError } from '../config/types.js';
import { extractFacts } from '../facts/extract.js';
import type { FileFacts } from '../facts/ir.js';
import { analyze } from '../lint/analyze.js';
import { readSource } from '../lint/read.js';
import type { Finding } from '../lint/types.js';
import { groupCrates, type CrateFiles, type InputFile } from '../model/crate-graph.js';
import { ConfigStore, type ConfigEntry } from './config-store.js';
import { findingToDiagnostic, noticeToDiagnostic, tooLargeDiagnostic, type CrateView, type FileView } from './diagnostics.js';
import { splitLines } from './fixes.js';
import { OpenDocument } from './document.js';
import { scanRustFiles } from './scan.js';

/** Files that mark the folder a crate lives in. */
export const SCOPE_MARKERS = [CONFIG_FILE_NAME, 'Cargo.toml', 'Kbuild', 'Makefile'];
/** A scope with more `.rs` files than this is cut down to the document's own folder. */
export const MAX_SCOPE_FILES = 2000;
/** A scope whose walk meets more folder entries than this is cut down the same way. */
export const MAX_SCOPE_ENTRIES = 50_000;
/** Reading a scope's files yields to the server's messages after this many milliseconds. */
const READ_SLICE_MS = 20;
/** Facts kept for contents seen before (a file closed, reverted, or read again unchanged). */
const FACTS_CACHE_SIZE = 4000;

export interface FileResult {
  diagnostics: Diagnostic[];
  /** Changes whenever the diagnostics change (pull diagnostics' `resultId`). */
  resultId: string;
}

interface SourceFile {
  /** Absolute path, or the URI of a document that is not a file. */
  path: string;
  disk?: { text: string; facts: FileFacts };
  open?: OpenDocument;
}

interface Scope {
  /**
   * The folder scanned; undefined for a document that is not a file (`untitled:`) and for a
   * file outside any project (no marker above it, no workspace folder holding it).
   */
  dir?: string;
  files: Set<string>;
  config: ConfigEntry;
  /** Settles when the folder's files are read; its files are not analyzed before. */
  scan?: Promise<void>;
}

export interface FlushResult {
  /** Files whose diagnostics changed. */
  changed: Set<string>;
  /** Files that were edited, opened or read again (their diagnostics are new, maybe equal). */
  touched: Set<string>;
  /** Milliseconds spent parsing edited documents and updating their facts. */
  factsMs: number;
  /** Milliseconds spent in the analysis of crates (and in turning findings into diagnostics). */
  analysisMs: number;
  crates: number;
}

export class Project {
  readonly configs = new ConfigStore();
  private workspaceRoots: string[] = [];
  private readonly files = new Map<string, SourceFile>();
  private readonly uriToKey = new Map<string, string>();
  private readonly scopes: Scope[] = [];
  private readonly results = new Map<string, FileResult & { key: string }>();
  /** Files of the crate each file was in when last analyzed. */
  private readonly crateMembers = new Map<string, string[]>();
  private readonly dirty = new Set<string>();
  private readonly factsCache = new Map<string, FileFacts>();
  private nextResultId = 1;

  /** Whether diagnostics carry their related locations in the message too (see `findingToDiagnostic`). */
  relatedInMessage = false;

  constructor(
    private readonly log: (message: string) => void,
    /** Called when a scope's files are read in and its files wait to be analyzed. */
    private readonly scopeReady: () => void = () => undefined,
  ) {}

  setWorkspaceRoots(roots: string[]): void {
    this.workspaceRoots = roots.map((r) => path.resolve(r));
  }

  /** The key a document is known by: its path for `file:` URIs, else the URI. */
  keyOf(uri: string): string {
    return this.uriToKey.get(uri) ?? uriToPath(uri) ?? uri;
  }

  document(uri: string): OpenDocument | undefined {
    return this.files.get(this.keyOf(uri))?.open;
  }

  documentByKey(key: string): OpenDocument | undefined {
    return this.files.get(key)?.open;
  }

  /** Folders whose `.rs` files the server reads (recursively), and folders of config files. */
  watchedFolders(): { recursive: string[]; configDirs: string[] } {
    return {
      recursive: this.scopes.map((s) => s.dir).filter((d): d is string => d !== undefined),
      configDirs: [...new Set(this.configs.files().map((c) => path.dirname(c.file)))],
    };
  }

  /** The URI diagnostics of `key` are published under: the client's own for open documents. */
  uriOf(key: string): string {
    const open = this.files.get(key)?.open;
    if (open) return open.uri;
    return path.isAbsolute(key) ? pathToFileURL(key).href : key;
  }

  hasPendingWork(): boolean {
    return this.dirty.size > 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Documents and files

  open(uri: string, languageId: string, version: number, text: string): void {
    const key = uriToPath(uri) ?? uri;
    this.uriToKey.set(uri, key);
    const file = this.files.get(key) ?? { path: key };
    file.open = new OpenDocument(uri, languageId, version, text);
    this.files.set(key, file);
    this.ensureScope(key);
    this.dirty.add(key);
  }

  /** A document whose text was too long to read: it gets only a diagnostic saying so. */
  openTooLarge(uri: string, bytes: number, version: number | undefined): void {
    // Without a version from the message, one after the last known keeps the diagnostic current.
    this.open(uri, 'rust', version ?? (this.document(uri)?.version ?? -1) + 1, '');
    this.files.get(this.keyOf(uri))!.open!.markTooLarge(bytes);
  }

  change(uri: string, changes: TextDocumentContentChangeEvent[], version: number): void {
    const key = this.keyOf(uri);
    const doc = this.files.get(key)?.open;
    if (!doc) {
      this.log(`change for a document that is not open: ${uri}`);
      return;
    }
    doc.applyChanges(changes, version);
    this.dirty.add(key);
  }

  /** Settles when the scope of `uri` (or of every document) has its files read. */
  async scanned(uri?: string): Promise<void> {
    const key = uri === undefined ? undefined : this.keyOf(uri);
    const scopes = key === undefined ? this.scopes : this.scopes.filter((s) => s.files.has(key));
    await Promise.all(scopes.map((s) => s.scan));
  }

  /** The facts of a file, when it is open or read and small enough to be analyzed. */
  facts(key: string): FileFacts | undefined {
    return this.factsOf(key);
  }

  close(uri: string): void {
    const key = this.keyOf(uri);
    this.uriToKey.delete(uri);
    const file = this.files.get(key);
    if (!file?.open) return;
    file.open = undefined;
    // Unsaved changes are gone: the file is what the disk says again, if anything.
    if (path.isAbsolute(key) && this.readDisk(file)) {
      this.dirty.add(key);
      return;
    }
    this.forgetFile(key);
  }

  /** A `.rs` file changed on disk (`workspace/didChangeWatchedFiles` or the folder watcher). */
  diskChanged(absPath: string, deleted: boolean): void {
    const file = this.files.get(absPath);
    if (deleted) {
      if (!file) return;
      file.disk = undefined;
      if (!file.open) this.forgetFile(absPath);
      return;
    }
    if (file?.open) {
      // The editor's text wins over the disk; keep the disk text for when it is closed.
      this.readDisk(file);
      return;
    }
    const scope = this.enclosingScope(absPath);
    if (!scope) return; // not in any folder the server looks at
    if (!scope.config.filter(absPath)) return;
    const known = file ?? { path: absPath };
    if (!this.readDisk(known)) return;
    this.files.set(absPath, known);
    scope.files.add(absPath);
    this.dirty.add(absPath);
  }

  /**
   * A `dmalint.toml` was created, changed or deleted. Scopes whose config changed are scanned
   * again (its `[files]` globs may differ) and all their crates analyzed again.
   */
  configChanged(file: string, deleted: boolean): void {
    if (deleted) this.configs.forget(file);
    else this.configs.reload(file);
    for (const scope of this.scopes) {
      if (!scope.dir) continue;
      const entry = this.configs.forDir(scope.dir);
      if (entry === scope.config) continue;
      scope.config = entry;
      this.rescan(scope);
    }
  }

  /** Known config files and the current problem of each. */
  configProblems(): { file: string; error?: ConfigError }[] {
    return this.configs.files();
  }

  // ---------------------------------------------------------------------------------------------
  // Results

  result(key: string): FileResult {
    return this.results.get(key) ?? { diagnostics: [], resultId: 'empty' };
  }

  /** Every file of every scope with its diagnostics, analyzing crates not analyzed yet. */
  allResults(): Map<string, FileResult> {
    for (const scope of this.scopes) for (const f of scope.files) if (!this.results.has(f)) this.dirty.add(f);
    this.flush();
    const out = new Map<string, FileResult>();
    for (const scope of this.scopes) for (const f of scope.files) out.set(f, this.result(f));
    return out;
  }

  /** Parses what was edited and analyzes the crates of changed files. */
  flush(): FlushResult {
    const touched = new Set(this.dirty);
    const changed = new Set<string>();
    this.dirty.clear();
    const started = performance.now();
    for (const key of touched) this.factsOf(key); // parse the edited documents
    const parsed = performance.now();
    const byScope = new Map<Scope, string[]>();
    for (const key of touched) {
      const scope = this.scopeHolding(key);
      if (scope?.scan) {
        // Its crate is not known until the folder is read; analyzed when it is.
        this.dirty.add(key);
        touched.delete(key);
        continue;
      }
      if (!scope) {
        // Not analyzed (excluded by the config, or gone): no diagnostics.
        this.setResult(key, [], changed);
        this.crateMembers.delete(key);
        continue;
      }
      const list = byScope.get(scope);
      if (list) list.push(key);
      else byScope.set(scope, [key]);
    }
    let crates = 0;
    for (const [scope, keys] of byScope) crates += this.analyzeScope(scope, keys, changed);
    for (const key of touched) {
      const tooLarge = this.files.get(key)?.open?.tooLargeBytes();
      if (tooLarge !== undefined) this.setResult(key, [tooLargeDiagnostic(tooLarge)], changed);
    }
    return { changed, touched, factsMs: parsed - started, analysisMs: performance.now() - parsed, crates };
  }

  /** Analyzes the crates holding `keys` (now or before); returns how many. */
  private analyzeScope(scope: Scope, keys: string[], changed: Set<string>): number {
    const inputs: InputFile[] = [];
    for (const key of scope.files) {
      const facts = this.factsOf(key);
      if (facts) inputs.push({ path: key, absPath: key, facts });
    }
    const crates = groupCrates(inputs);
    const crateOf = new Map<string, CrateFiles>();
    for (const c of crates) for (const f of c.files) crateOf.set(f.absPath, c);
    const targets = new Set<CrateFiles>();
    for (const key of keys) {
      const now = crateOf.get(key);
      if (now) targets.add(now);
      // Files that shared its crate before (a `mod` line removed) need their new crate's results.
      for (const mate of this.crateMembers.get(key) ?? []) {
        const c = crateOf.get(mate);
        if (c) targets.add(c);
      }
    }
    for (const crate of targets) this.analyzeCrate(crate, scope, changed);
    return targets.size;
  }

  private analyzeCrate(crate: CrateFiles, scope: Scope, changed: Set<string>): void {
    const inputs: InputFile[] = crate.files.map((f) => ({ path: f.path, absPath: f.absPath, facts: f.facts }));
    const members = inputs.map((f) => f.path);
    for (const m of members) this.crateMembers.set(m, members);
    let findings: Finding[];
    try {
      findings = analyze(inputs, { rules: RULES, levels: scope.config.config.rules, api: scope.config.api });
    } catch (e) {
      // A rule that throws on some input must not take the server down; the crate gets no
      // findings until the next change.
      this.log(`analysis failed for the crate of ${crate.root.path}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      findings = [];
    }
    const byFile = new Map<string, Finding[]>(members.map((m) => [m, []]));
    for (const f of findings) if (!f.suppression) byFile.get(f.primary.file)?.push(f);
    const view = this.crateView(inputs);
    const factsByKey = new Map(inputs.map((i) => [i.path, i.facts]));
    for (const [key, list] of byFile) {
      const diagnostics = list.map((f) => findingToDiagnostic(f, view, { relatedInMessage: this.relatedInMessage }));
      if (factsByKey.get(key)?.truncated) diagnostics.push(noticeToDiagnostic({ file: key, kind: 'truncated', message: 'nesting too deep: parts of this file were not analyzed' })!);
      this.setResult(key, diagnostics, changed);
    }
  }

  private setResult(key: string, diagnostics: Diagnostic[], changed: Set<string>): void {
    // `data` holds document versions; the diagnostics a user sees are the rest.
    const shown = JSON.stringify(diagnostics.map((d) => ({ ...d, data: undefined })));
    const old = this.results.get(key);
    if (old && old.key === shown) {
      old.diagnostics = diagnostics; // fresher `data`, same diagnostics
      return;
    }
    if (!old && diagnostics.length === 0) {
      this.results.set(key, { diagnostics, key: shown, resultId: String(this.nextResultId++) });
      return;
    }
    this.results.set(key, { diagnostics, key: shown, resultId: String(this.nextResultId++) });
    changed.add(key);
  }

  private crateView(inputs: InputFile[]): CrateView {
    const views = new Map<string, FileView>();
    const factsByKey = new Map(inputs.map((i) => [i.path, i.facts]));
    return {
      file: (key) => {
        let v = views.get(key);
        if (v) return v;
        const source = this.files.get(key);
        const text = source?.open?.text ?? source?.disk?.text;
        const facts = factsByKey.get(key);
        if (text === undefined || !facts) return undefined;
        let lines: string[] | undefined;
        v = { path: key, uri: this.uriOf(key), version: source?.open?.version ?? null, text, facts, lines: () => (lines ??= splitLines(text)) };
        views.set(key, v);
        return v;
      },
      uriOf: (key) => this.uriOf(key),
      files: () => inputs.map((i) => ({ path: i.path, facts: i.facts })),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Scopes

  private scopeHolding(key: string): Scope | undefined {
    return this.scopes.find((s) => s.files.has(key));
  }

  private enclosingScope(absPath: string): Scope | undefined {
    return this.scopes.find((s) => s.dir !== undefined && isInside(absPath, s.dir));
  }

  /** Finds or makes the scope of an opened document; undefined when the config excludes it. */
  private ensureScope(key: string): Scope | undefined {
    const holding = this.scopeHolding(key);
    if (holding) return holding;
    if (!path.isAbsolute(key)) {
      // An unsaved buffer (`untitled:`) is a crate of its own, with the workspace's config.
      const scope: Scope = { files: new Set([key]), config: this.configs.forDir(this.workspaceRoots[0] ?? process.cwd()) };
      this.scopes.push(scope);
      return scope;
    }
    const enclosing = this.enclosingScope(key);
    if (enclosing) {
      if (!enclosing.config.filter(key)) return undefined;
      enclosing.files.add(key);
      return enclosing;
    }
    const dir = this.scopeDirFor(key);
    if (dir === undefined) {
      // A file outside any project (`/tmp/x.rs`): a crate of its own, with its folder's config.
      const config = this.configs.forDir(path.dirname(key));
      if (!config.filter(key)) return undefined;
      const scope: Scope = { files: new Set([key]), config };
      this.scopes.push(scope);
      return scope;
    }
    const config = this.configs.forDir(dir);
    if (!config.filter(key)) return undefined;
    const scope: Scope = { dir, files: new Set([key]), config };
    // Scopes inside the new one become part of it; their files may now share crates with others.
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const inner = this.scopes[i].dir;
      if (inner === undefined || !isInside(inner, dir)) continue;
      for (const f of this.scopes[i].files) {
        scope.files.add(f);
        this.dirty.add(f);
      }
      this.scopes.splice(i, 1);
    }
    this.scopes.push(scope);
    this.startScan(scope, key);
    return scope;
  }

  /**
   * The folder to look for a file's crate in: the nearest above it with a marker, not above the
   * workspace folder holding it; that workspace folder when none has one; undefined when the
   * file is in no workspace folder and no folder above it has a marker.
   */
  scopeDirFor(absPath: string): string | undefined {
    let dir = path.dirname(absPath);
    const root = this.workspaceRoots.filter((r) => isInside(absPath, r)).sort((a, b) => b.length - a.length)[0];
    for (;;) {
      if (SCOPE_MARKERS.some((m) => isFile(path.join(dir, m)))) return dir;
      if (root !== undefined && dir === root) return dir;
      const parent = path.dirname(dir);
      if (parent === dir) return undefined;
      dir = parent;
    }
  }

  /** Reads a scope's `.rs` files in the background; `near` is the file that caused the scan. */
  private startScan(scope: Scope, near?: string): void {
    const scan = this.fillScope(scope, near)
      .catch((e) => this.log(`cannot read the files of ${scope.dir}: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        if (scope.scan !== scan) return; // a newer scan replaced this one
        scope.scan = undefined;
        for (const f of scope.files) this.dirty.add(f);
        this.scopeReady();
      });
    scope.scan = scan;
  }

  private async fillScope(scope: Scope, near?: string): Promise<void> {
    const dir = scope.dir!;
    const limits = { maxFiles: MAX_SCOPE_FILES, maxEntries: MAX_SCOPE_ENTRIES };
    let found = await scanRustFiles(dir, scope.config.filter, limits);
    if (found.cut && near && path.dirname(near) !== dir) {
      const own = path.dirname(near);
      this.log(`${dir} holds ${found.cut}; only ${own} is read for crates`);
      found = await scanRustFiles(own, scope.config.filter, limits);
    }
    if (found.cut) this.log(`${near ? path.dirname(near) : dir} holds ${found.cut}; only the first ${found.files.length} .rs files are read for crates`);
    let slice = performance.now();
    for (const abs of found.files.slice(0, MAX_SCOPE_FILES)) {
      if (!this.scopes.includes(scope)) return; // merged into a larger scope meanwhile
      const file = this.files.get(abs) ?? { path: abs };
      if (!file.open && !file.disk && !this.readDisk(file)) continue;
      this.files.set(abs, file);
      scope.files.add(abs);
      if (performance.now() - slice > READ_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
  }

  private rescan(scope: Scope): void {
    const before = [...scope.files];
    scope.files.clear();
    // Open documents stay, unless the config now excludes them.
    for (const key of before) {
      const open = this.files.get(key)?.open;
      if (open && scope.config.filter(key)) scope.files.add(key);
    }
    for (const key of before) this.dirty.add(key);
    this.startScan(scope);
  }

  private forgetFile(key: string): void {
    for (const mate of this.crateMembers.get(key) ?? []) if (mate !== key) this.dirty.add(mate);
    this.files.delete(key);
    for (const s of this.scopes) s.files.delete(key);
    this.crateMembers.delete(key);
    this.dirty.add(key);
  }

  private factsOf(key: string): FileFacts | undefined {
    const file = this.files.get(key);
    if (file?.open) {
      if (file.open.tooLargeBytes() !== undefined) return undefined;
      try {
        return file.open.facts();
      } catch (e) {
        this.log(`cannot parse ${key}: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }
    return file?.disk?.facts;
  }

  /** Reads a file's disk text and facts; false when it cannot be read as a source file. */
  private readDisk(file: SourceFile): boolean {
    const r = readSource(file.path);
    if (!r.ok) {
      file.disk = undefined;
      return false;
    }
    if (file.disk?.text === r.text) return true;
    file.disk = { text: r.text, facts: this.cachedFacts(r.text) };
    return true;
  }

  private cachedFacts(text: string): FileFacts {
    const hash = createHash('sha1').update(text).digest('base64');
    const hit = this.factsCache.get(hash);
    if (hit) return hit;
    const facts = extractFacts(text);
    if (this.factsCache.size >= FACTS_CACHE_SIZE) this.factsCache.delete(this.factsCache.keys().next().value!);
    this.factsCache.set(hash, facts);
    return facts;
  }
}

export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return path.resolve(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}

export function isConfigFile(p: string): boolean {
  return path.basename(p) === CONFIG_FILE_NAME;
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
