// `dmalint lsp`: the language server. LSP 3.17 over stdio, incremental text sync, push or pull
// diagnostics (whichever the client supports, never both), code actions, hovers, and config
// reload. Every handler catches what it throws: a bad request gets an LSP error and a log line
// in the client's output, never a dead server.
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  CodeActionKind,
  DiagnosticSeverity,
  DidChangeWatchedFilesNotification,
  DocumentDiagnosticReportKind,
  ErrorCodes,
  FileChangeType,
  LSPErrorCodes,
  MessageType,
  ResponseError,
  ShowMessageNotification,
  TextDocumentSyncKind,
  createConnection,
  type ClientCapabilities,
  type CodeAction,
  type CodeActionParams,
  type Connection,
  type Diagnostic,
  type DocumentDiagnosticParams,
  type DocumentDiagnosticReport,
  type ExecuteCommandParams,
  type FileEvent,
  type Hover,
  type HoverParams,
  type InitializeParams,
  type InitializeResult,
  type Range,
  type TextEdit,
  type WorkspaceDiagnosticParams,
  type WorkspaceDiagnosticReport,
  type WorkspaceDocumentDiagnosticReport,
  type WorkspaceEdit,
} from 'vscode-languageserver/node.js';
import type { ConfigError } from '../config/types.js';
import { findRuleMeta } from '../lint/registry.js';
import { SOURCE, type DiagnosticData, type FileEdit } from './diagnostics.js';
import { rangeContains, rangesOverlap, spanToRange } from './positions.js';
import { isConfigFile, Project, uriToPath, type FlushResult } from './project.js';
import { Transport, type OversizedMessage } from './transport.js';
import { findingHover, ruleLine } from './hover.js';
import { FolderWatcher } from './watcher.js';
import { DRIVER_GRAPH_COMMAND, driverGraphCommand } from './graph-command.js';

const require = createRequire(import.meta.url);

/** Selects a range in a document (the reason placeholder after a plain suppression edit). */
export const SELECT_COMMAND = 'dmalint.selectPlaceholder';

export interface ServerStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Starts the server on the given streams (stdin/stdout by default) and returns its connection. */
export function startServer(streams: ServerStreams = { input: process.stdin, output: process.stdout }): Connection {
  let server: DmalintServer | undefined;
  const transport = new Transport(streams.input, streams.output, {
    broken: (reason) => {
      // The editor restarts a server that exits; one that waits for bytes that never come is lost.
      process.stderr.write(`dmalint lsp: broken message framing: ${reason}; exiting\n`);
      process.exit(1);
    },
    oversized: (m) => server?.oversizedMessage(m),
    dropped: (method, problem) => server?.log(`\`${method}\` ignored: ${problem}`),
  });
  const connection = createConnection(transport.reader, transport.writer, { messageStrategy: transport.messageStrategy });
  server = new DmalintServer(connection, transport);
  server.listen();
  // The editor is gone: nothing will ever be asked again.
  streams.input.on('end', () => process.exit(server?.shutdownReceived ? 0 : 1));
  return connection;
}

/** The `dmalint lsp` command. */
export function runLanguageServer(): void {
  // Every keystroke builds a crate model that dies right after: a larger young generation
  // makes the collections between keystrokes fewer, which halves the slowest latencies.
  v8.setFlagsFromString('--max-semi-space-size=32');
  // Nothing but protocol messages may reach stdout.
  for (const name of ['log', 'info', 'debug', 'warn'] as const) console[name] = (...args: unknown[]) => console.error(...args);
  const connection = startServer();
  const report = (what: string) => (e: unknown) => connection.console.error(`dmalint: ${what}: ${errorText(e, true)}`);
  process.on('uncaughtException', report('internal error'));
  process.on('unhandledRejection', report('internal error (promise)'));
}

type PushOrPull = 'push' | 'pull';

/**
 * How long analysis waits for queued messages to be handled first. A client that sends without
 * pause still gets diagnostics this often.
 */
const MAX_DRAIN_MS = 250;

class DmalintServer {
  private readonly project: Project;
  shutdownReceived = false;
  /** When the queued flush was asked for. */
  private flushAskedAt = 0;
  /** The newest version published per URI: an older one is never published after it. */
  private readonly publishedVersions = new Map<string, number>();
  private caps: ClientCapabilities = {};
  private mode: PushOrPull = 'push';
  private flushQueued = false;
  /** Documents the client itself changed since the last flush: it re-pulls those unasked. */
  private clientEdited = new Set<string>();
  /** Config files (path) to their open document's URI, when open. */
  private readonly configDocs = new Map<string, string>();
  /** Last config problem published or shown, per config file. */
  private readonly configShown = new Map<string, string>();
  private watcher: FolderWatcher | undefined;
  private watcherEvents = new Set<string>();
  private watcherTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly transport: Transport,
  ) {
    this.project = new Project((m) => this.log(m), () => this.queueFlush());
  }

  log(message: string): void {
    this.connection.console.log(`dmalint: ${message}`);
  }

  /** A message too long to read: a document gets a diagnostic that says so. */
  oversizedMessage(m: OversizedMessage): void {
    this.log(`a ${m.method ?? 'message'} of ${(m.bytes / 1048576).toFixed(1)} MiB was not read`);
    if (!m.uri || (m.method !== 'textDocument/didOpen' && m.method !== 'textDocument/didChange')) return;
    this.project.openTooLarge(m.uri, m.bytes, m.version);
    this.clientEdited.add(this.project.keyOf(m.uri));
    this.queueFlush();
  }

  listen(): void {
    const c = this.connection;
    c.onInitialize(this.request('initialize', (p: InitializeParams) => this.initialize(p)));
    c.onInitialized(this.notification('initialized', () => this.initialized()));
    c.onDidOpenTextDocument(this.notification('didOpen', (p) => this.didOpen(p.textDocument.uri, p.textDocument.languageId, p.textDocument.version, p.textDocument.text)));
    c.onDidChangeTextDocument(this.notification('didChange', (p) => {
      this.project.change(p.textDocument.uri, p.contentChanges, p.textDocument.version ?? 0);
      this.clientEdited.add(this.project.keyOf(p.textDocument.uri));
      this.queueFlush();
    }));
    c.onDidCloseTextDocument(this.notification('didClose', (p) => this.didClose(p.textDocument.uri)));
    c.onDidSaveTextDocument(this.notification('didSave', (p) => {
      const file = uriToPath(p.textDocument.uri);
      if (file && isConfigFile(file)) this.configChanged([{ file, deleted: false }]);
    }));
    c.onDidChangeWatchedFiles(this.notification('didChangeWatchedFiles', (p) => this.watchedFilesChanged(p.changes)));
    c.onCodeAction(this.request('codeAction', (p: CodeActionParams) => this.codeActions(p)));
    c.onHover(this.request('hover', (p: HoverParams) => this.hover(p)));
    c.onExecuteCommand(this.request('executeCommand', (p: ExecuteCommandParams) => this.executeCommand(p)));
    c.languages.diagnostics.on(this.request('textDocument/diagnostic', (p: DocumentDiagnosticParams) => this.documentDiagnostics(p)));
    c.languages.diagnostics.onWorkspace(this.request('workspace/diagnostic', (p: WorkspaceDiagnosticParams) => this.workspaceDiagnostics(p)));
    c.onShutdown(() => {
      this.shutdownReceived = true;
      this.watcher?.close();
    });
    c.listen();
  }

  // ---------------------------------------------------------------------------------------------
  // Handler wrappers: log and answer with an error, never throw into the connection.

  private request<P, R>(name: string, handler: (params: P) => R | Promise<R>): (params: P) => Promise<R | ResponseError<never>> {
    return async (params: P) => {
      try {
        return await handler(params);
      } catch (e) {
        if (e instanceof ResponseError) return e as ResponseError<never>;
        this.connection.console.error(`dmalint: ${name} failed: ${errorText(e, true)}`);
        return new ResponseError(ErrorCodes.InternalError, `dmalint: ${name} failed: ${errorText(e, false)}`);
      }
    };
  }

  private notification<P>(name: string, handler: (params: P) => void): (params: P) => void {
    return (params: P) => {
      try {
        handler(params);
      } catch (e) {
        this.connection.console.error(`dmalint: ${name} failed: ${errorText(e, true)}`);
      }
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  private initialize(params: InitializeParams): InitializeResult {
    this.caps = params.capabilities ?? {};
    this.mode = this.caps.textDocument?.diagnostic ? 'pull' : 'push';
    this.project.relatedInMessage = relatedInMessage(params);
    const roots = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p);
    const legacyRoot = params.rootUri ? uriToPath(params.rootUri) : params.rootPath ?? undefined;
    this.project.setWorkspaceRoots(roots.length > 0 ? roots : legacyRoot ? [legacyRoot] : []);
    const version = (require('../../../package.json') as { version: string }).version;
    return {
      capabilities: {
        positionEncoding: 'utf-16',
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        hoverProvider: true,
        executeCommandProvider: { commands: [SELECT_COMMAND, DRIVER_GRAPH_COMMAND] },
        ...(this.mode === 'pull' ? { diagnosticProvider: { identifier: 'dmalint', interFileDependencies: true, workspaceDiagnostics: true } } : {}),
        workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
      },
      serverInfo: { name: 'dmalint', version },
    };
  }

  private initialized(): void {
    if (this.caps.workspace?.didChangeWatchedFiles?.dynamicRegistration) {
      void this.connection.client
        .register(DidChangeWatchedFilesNotification.type, { watchers: [{ globPattern: '**/*.rs' }, { globPattern: `**/dmalint.toml` }] })
        .catch((e) => this.connection.console.error(`dmalint: cannot register file watchers: ${errorText(e, false)}`));
    } else {
      // The client does not watch files for servers: watch the folders read from disk here.
      this.watcher = new FolderWatcher((file) => this.watcherEvent(file), (m) => this.connection.console.log(`dmalint: ${m}`));
    }
    if (this.caps.workspace?.workspaceFolders) {
      this.connection.workspace.onDidChangeWorkspaceFolders(this.notification('didChangeWorkspaceFolders', () => {
        void this.connection.workspace.getWorkspaceFolders().then((folders) => {
          this.project.setWorkspaceRoots((folders ?? []).map((f) => uriToPath(f.uri)).filter((p): p is string => !!p));
        }).catch(() => undefined);
      }));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Documents and files

  private didOpen(uri: string, languageId: string, version: number, text: string): void {
    const file = uriToPath(uri);
    if (file && isConfigFile(file)) {
      this.configDocs.set(file, uri);
      this.publishConfigDiagnostics(true);
      return;
    }
    if (languageId !== 'rust' && !(file ?? uri).endsWith('.rs')) return;
    this.project.open(uri, languageId, version, text);
    this.clientEdited.add(this.project.keyOf(uri));
    // Opening may have read a config for the first time, and it may be broken.
    this.publishConfigDiagnostics(false);
    this.syncWatcher();
    this.queueFlush();
  }

  private didClose(uri: string): void {
    const file = uriToPath(uri);
    if (file && isConfigFile(file)) {
      this.configDocs.delete(file);
      return;
    }
    const wasOpen = !!this.project.document(uri);
    this.project.close(uri);
    this.publishedVersions.delete(uri);
    if (wasOpen && this.mode === 'push') this.connection.sendDiagnostics({ uri, diagnostics: [] });
    this.queueFlush();
  }

  private watchedFilesChanged(changes: FileEvent[]): void {
    const configs: { file: string; deleted: boolean }[] = [];
    for (const change of changes ?? []) {
      const file = uriToPath(change.uri);
      if (!file) continue;
      const deleted = change.type === FileChangeType.Deleted;
      if (isConfigFile(file)) configs.push({ file, deleted });
      else if (file.endsWith('.rs')) this.project.diskChanged(file, deleted);
    }
    if (configs.length > 0) this.configChanged(configs);
    this.queueFlush();
  }

  private watcherEvent(file: string): void {
    this.watcherEvents.add(file);
    // Editors write a file in several steps; take the events of a short burst together.
    clearTimeout(this.watcherTimer);
    this.watcherTimer = setTimeout(() => {
      const files = [...this.watcherEvents];
      this.watcherEvents.clear();
      this.watchedFilesChanged(files.map((f) => ({ uri: pathToFileURL(f).href, type: fs.existsSync(f) ? FileChangeType.Changed : FileChangeType.Deleted })));
    }, 50);
  }

  private syncWatcher(): void {
    this.watcher?.watch(this.project.watchedFolders());
  }

  private configChanged(changes: { file: string; deleted: boolean }[]): void {
    for (const { file, deleted } of changes) this.project.configChanged(file, deleted);
    this.publishConfigDiagnostics(false);
    this.syncWatcher();
    this.queueFlush();
  }

  // ---------------------------------------------------------------------------------------------
  // Analysis and diagnostics

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.flushAskedAt = performance.now();
    setImmediate(() => this.flushWhenDrained());
  }

  /**
   * Not a timer: analysis waits only for the messages already read (the connection handles one
   * per turn of the event loop), so a burst of changes is analyzed once, at its newest version,
   * and a single change is analyzed at once.
   */
  private flushWhenDrained(): void {
    if (this.transport.pending() > 0 && performance.now() - this.flushAskedAt < MAX_DRAIN_MS) {
      setImmediate(() => this.flushWhenDrained());
      return;
    }
    this.flushQueued = false;
    try {
      this.flush();
    } catch (e) {
      this.connection.console.error(`dmalint: analysis failed: ${errorText(e, true)}`);
    }
  }

  private flush(): void {
    if (!this.project.hasPendingWork()) return;
    const result = this.project.flush();
    // Shown with the client's trace setting at `verbose` (`$/logTrace`); the latency benchmark reads it.
    this.connection.tracer.log(
      `analyzed ${result.crates} crate(s) for ${result.touched.size} changed file(s)`,
      `facts ${result.factsMs.toFixed(2)} ms, analysis ${result.analysisMs.toFixed(2)} ms`,
    );
    const edited = this.clientEdited;
    this.clientEdited = new Set();
    if (this.mode === 'push') this.publish(result);
    else this.refreshIfNeeded(result, edited);
  }

  private publish(result: FlushResult): void {
    for (const key of new Set([...result.changed, ...result.touched])) {
      const doc = this.project.documentByKey(key);
      if (!doc) continue;
      const newest = this.publishedVersions.get(doc.uri);
      if (newest !== undefined && doc.version < newest) continue;
      this.publishedVersions.set(doc.uri, doc.version);
      this.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: this.project.result(key).diagnostics });
    }
  }

  /** Pull clients re-pull documents they edit; other changes need `workspace/diagnostic/refresh`. */
  private refreshIfNeeded(result: FlushResult, edited: Set<string>): void {
    const elsewhere = [...result.changed].some((k) => !edited.has(k));
    if (elsewhere) this.refresh();
  }

  private refresh(): void {
    if (this.mode !== 'pull' || !this.caps.workspace?.diagnostics?.refreshSupport) return;
    this.connection.languages.diagnostics.refresh();
  }

  private async documentDiagnostics(params: DocumentDiagnosticParams): Promise<DocumentDiagnosticReport> {
    const file = uriToPath(params.textDocument.uri);
    if (file && isConfigFile(file)) {
      const items = this.configDiagnostics(file);
      return { kind: DocumentDiagnosticReportKind.Full, resultId: configResultId(items), items };
    }
    await this.project.scanned(params.textDocument.uri);
    // An answer for a version that is already replaced would be thrown away: the client asks again.
    if (this.transport.hasChangeAhead(params.textDocument.uri)) {
      throw new ResponseError(LSPErrorCodes.ServerCancelled, 'dmalint: a newer version of the document is on its way', { retriggerRequest: true });
    }
    this.flush();
    const result = this.project.result(this.project.keyOf(params.textDocument.uri));
    if (params.previousResultId === result.resultId) return { kind: DocumentDiagnosticReportKind.Unchanged, resultId: result.resultId };
    return { kind: DocumentDiagnosticReportKind.Full, resultId: result.resultId, items: result.diagnostics };
  }

  private async workspaceDiagnostics(params: WorkspaceDiagnosticParams): Promise<WorkspaceDiagnosticReport> {
    await this.project.scanned();
    this.flush();
    const previous = new Map((params.previousResultIds ?? []).map((p) => [p.uri, p.value]));
    const items: WorkspaceDocumentDiagnosticReport[] = [];
    const add = (uri: string, version: number | null, resultId: string, diagnostics: Diagnostic[]) => {
      if (previous.get(uri) === resultId) items.push({ kind: DocumentDiagnosticReportKind.Unchanged, uri, version, resultId });
      else items.push({ kind: DocumentDiagnosticReportKind.Full, uri, version, resultId, items: diagnostics });
    };
    for (const [key, result] of this.project.allResults()) {
      add(this.project.uriOf(key), this.project.documentByKey(key)?.version ?? null, result.resultId, result.diagnostics);
    }
    for (const { file } of this.project.configProblems()) {
      const diagnostics = this.configDiagnostics(file);
      add(this.configUri(file), null, configResultId(diagnostics), diagnostics);
    }
    return { items };
  }

  // ---------------------------------------------------------------------------------------------
  // Config problems

  private configUri(file: string): string {
    return this.configDocs.get(file) ?? pathToFileURL(file).href;
  }

  private configDiagnostics(file: string): Diagnostic[] {
    const error = this.project.configProblems().find((p) => p.file === file)?.error;
    return error ? [configErrorDiagnostic(error, file)] : [];
  }

  /** Publishes (push) or refreshes (pull) config diagnostics, and shows each new problem once. */
  private publishConfigDiagnostics(force: boolean): void {
    let changed = false;
    for (const { file, error } of this.project.configProblems()) {
      const shown = error ? error.message : '';
      if (!force && this.configShown.get(file) === shown) continue;
      const wasShown = this.configShown.get(file);
      this.configShown.set(file, shown);
      changed = true;
      if (this.mode === 'push') this.connection.sendDiagnostics({ uri: this.configUri(file), diagnostics: this.configDiagnostics(file) });
      if (error && wasShown !== shown) {
        this.connection.sendNotification(ShowMessageNotification.type, {
          type: MessageType.Error,
          message: `dmalint: ${error.message} (the previous settings stay in use until this is fixed)`,
        });
      }
    }
    if (changed) this.refresh();
  }

  // ---------------------------------------------------------------------------------------------
  // Code actions, hover, commands

  private codeActions(params: CodeActionParams): CodeAction[] {
    if (params.context.only && !params.context.only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`))) return [];
    this.flush();
    const key = this.project.keyOf(params.textDocument.uri);
    const current = this.project.result(key).diagnostics.filter((d) => d.source === SOURCE && rangesOverlap(d.range, params.range));
    const asked = (params.context.diagnostics ?? []).filter((d) => d.source === SOURCE);
    // Actions for the diagnostics the client asks about, as they are now (the client's copy
    // may predate the last change); with none named, for those under the range.
    const chosen = asked.length > 0 ? current.filter((d) => asked.some((a) => a.code === d.code && sameRange(a.range, d.range))) : current;
    const actions: CodeAction[] = [];
    for (const diagnostic of chosen) {
      const data = diagnostic.data as DiagnosticData | undefined;
      if (!data) continue;
      for (const fix of data.fixes) {
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: fix.preferred, ...this.editAndSelection(fix.edits) });
      }
      if (data.suppress) {
        actions.push({
          title: `Suppress \`${data.rule}\` here with a dmalint-allow comment`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diagnostic],
          ...this.editAndSelection([data.suppress]),
        });
      }
    }
    return actions;
  }

  /** A workspace edit, as snippets when the client takes them, else plain with a selection command. */
  private editAndSelection(edits: FileEdit[]): { edit: WorkspaceEdit; command?: CodeAction['command'] } {
    const snippets = this.caps.workspace?.workspaceEdit && (this.caps.workspace.workspaceEdit as { snippetEditSupport?: boolean }).snippetEditSupport
      ? 'lsp'
      : (this.caps.experimental as { snippetTextEdit?: boolean } | undefined)?.snippetTextEdit
        ? 'experimental'
        : undefined;
    const toEdit = (e: FileEdit): TextEdit => {
      const range: Range = { start: e.start, end: e.end };
      if (e.snippet && snippets === 'lsp') return { range, snippet: { kind: 'snippet', value: e.snippet } } as unknown as TextEdit;
      if (e.snippet && snippets === 'experimental') return { range, newText: e.snippet, insertTextFormat: 2 } as TextEdit;
      return { range, newText: e.newText };
    };
    const byUri = new Map<string, FileEdit[]>();
    for (const e of edits) byUri.set(e.uri, [...(byUri.get(e.uri) ?? []), e]);
    const edit: WorkspaceEdit = this.caps.workspace?.workspaceEdit?.documentChanges
      ? { documentChanges: [...byUri].map(([uri, list]) => ({ textDocument: { uri, version: list[0].version }, edits: list.map(toEdit) })) }
      : { changes: Object.fromEntries([...byUri].map(([uri, list]) => [uri, list.map(toEdit)])) };
    const select = edits.find((e) => e.select);
    if (snippets || !select?.select || !this.caps.window?.showDocument?.support) return { edit };
    const s = select.select;
    const range: Range = { start: { line: s.line, character: s.start }, end: { line: s.line, character: s.end } };
    return { edit, command: { title: 'Select the reason', command: SELECT_COMMAND, arguments: [select.uri, range] } };
  }

  private async executeCommand(params: ExecuteCommandParams): Promise<unknown> {
    if (params.command === DRIVER_GRAPH_COMMAND) {
      const openExternal = async (uri: string) => !!this.caps.window?.showDocument?.support && (await this.connection.window.showDocument({ uri, external: true })).success;
      return driverGraphCommand(params.arguments ?? [], { project: this.project, openExternal });
    }
    if (params.command !== SELECT_COMMAND) throw new ResponseError(ErrorCodes.InvalidParams, `unknown command ${params.command}`);
    const [uri, range] = (params.arguments ?? []) as [unknown, unknown];
    if (typeof uri !== 'string' || !isRange(range)) throw new ResponseError(ErrorCodes.InvalidParams, `${SELECT_COMMAND} takes a URI and a range`);
    await this.connection.window.showDocument({ uri, takeFocus: true, selection: range });
    return null;
  }

  private hover(params: HoverParams): Hover | null {
    this.flush();
    const key = this.project.keyOf(params.textDocument.uri);
    const pos = params.position;
    const format = (this.caps.textDocument?.hover?.contentFormat?.includes('markdown') ?? true) ? 'markdown' : 'plaintext';
    const parts: string[] = [];
    const rules: string[] = [];
    let range: Range | undefined;
    for (const d of this.project.result(key).diagnostics) {
      if (d.source !== SOURCE || typeof d.code !== 'string' || !rangeContains(d.range, pos)) continue;
      parts.push(findingHover(d, params.textDocument.uri, format));
      if (!rules.includes(d.code)) rules.push(d.code);
      range ??= d.range;
    }
    // A `dmalint-allow(rule)` comment names the rules it is about.
    for (const s of this.project.facts(key)?.suppressions ?? []) {
      const r = spanToRange(s.span);
      if (!rangeContains(r, pos)) continue;
      for (const id of s.rules) if (findRuleMeta(id) && !rules.includes(id)) rules.push(id);
      range ??= r;
    }
    const about = rules.map((id) => findRuleMeta(id)).filter((m) => m !== undefined).map((m) => ruleLine(m, format));
    if (parts.length === 0 && about.length === 0) return null;
    const rule = format === 'markdown' ? '\n\n---\n\n' : '\n\n';
    return { contents: { kind: format, value: [...parts, ...about].join(rule) }, range };
  }
}

/**
 * Whether related locations go into the message too: when the client says so in
 * `initializationOptions.relatedInMessage`; else when it does not announce them (Eglot), or is
 * Neovim, which announces them but shows none in its diagnostic float.
 */
function relatedInMessage(params: InitializeParams): boolean {
  const option = (params.initializationOptions as { relatedInMessage?: unknown } | null | undefined)?.relatedInMessage;
  if (typeof option === 'boolean') return option;
  const caps = params.capabilities?.textDocument;
  const announced = caps?.publishDiagnostics?.relatedInformation || (caps?.diagnostic as { relatedInformation?: boolean } | undefined)?.relatedInformation;
  return !announced || params.clientInfo?.name === 'Neovim';
}

function configErrorDiagnostic(error: ConfigError, file: string): Diagnostic {
  const line = error.line !== undefined ? error.line - 1 : 0;
  let length = 0;
  try {
    length = fs.readFileSync(file, 'utf8').split('\n')[line]?.replace(/\r$/, '').length ?? 0;
  } catch {
    // Gone or unreadable: the diagnostic still names the problem.
  }
  return {
    range: { start: { line, character: 0 }, end: { line, character: length } },
    severity: DiagnosticSeverity.Error,
    source: SOURCE,
    message: `${error.key ? `\`${error.key}\`: ` : ''}${error.detail}`,
  };
}

function configResultId(items: Diagnostic[]): string {
  return `config:${items.map((d) => `${d.range.start.line}:${d.message}`).join('|')}`;
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character && a.end.line === b.end.line && a.end.character === b.end.character;
}

function isRange(v: unknown): v is Range {
  const r = v as Range;
  const isPos = (p: unknown) => typeof p === 'object' && p !== null && Number.isInteger((p as { line: unknown }).line) && Number.isInteger((p as { character: unknown }).character);
  return typeof r === 'object' && r !== null && isPos(r.start) && isPos(r.end);
}

function errorText(e: unknown, stack: boolean): string {
  if (e instanceof Error) return stack && e.stack ? e.stack : e.message;
  return String(e);
}
