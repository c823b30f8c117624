// A language client for tests: spawns the built `dmalint lsp --stdio` and talks JSON-RPC to it
// through vscode-languageserver-protocol's connection, recording what the server sends.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  RegistrationRequest,
  ShowDocumentRequest,
  ShowMessageNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type ClientCapabilities,
  type InitializeResult,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  type Registration,
  type ShowDocumentParams,
  type ShowMessageParams,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol/node.js';

import { cliPath, repo } from './cli-helpers.js';

export { cliPath, repo };

/** Long enough for a loaded machine; the tests never wait this long when things work. */
export const WAIT_MS = 15_000;

export interface StartOptions {
  root: string;
  capabilities: ClientCapabilities;
  /** `processId` sent in initialize (default: this process). */
  processId?: number | null;
}

export class TestClient {
  readonly published: PublishDiagnosticsParams[] = [];
  readonly messages: ShowMessageParams[] = [];
  readonly logs: string[] = [];
  readonly registrations: Registration[] = [];
  readonly shown: ShowDocumentParams[] = [];
  refreshes = 0;
  initializeResult!: InitializeResult;
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private readonly exited: Promise<number | null>;
  private stderr = '';

  private constructor(
    readonly proc: ChildProcess,
    readonly conn: ProtocolConnection,
  ) {
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    conn.onNotification(PublishDiagnosticsNotification.type, (p) => this.record(() => this.published.push(p)));
    conn.onNotification(ShowMessageNotification.type, (p) => this.record(() => this.messages.push(p)));
    conn.onNotification(LogMessageNotification.type, (p) => this.record(() => this.logs.push(p.message)));
    conn.onRequest(RegistrationRequest.type, (p) => {
      this.record(() => this.registrations.push(...p.registrations));
      return null;
    });
    conn.onRequest(ShowDocumentRequest.type, (p) => {
      this.record(() => this.shown.push(p));
      return { success: true };
    });
    conn.onRequest('workspace/diagnostic/refresh', () => {
      this.record(() => this.refreshes++);
      return null;
    });
    conn.listen();
  }

  static async start(options: StartOptions): Promise<TestClient> {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
    const proc = spawn(process.execPath, [cliPath, 'lsp', '--stdio'], { cwd: options.root, stdio: ['pipe', 'pipe', 'pipe'] });
    const conn = createProtocolConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new TestClient(proc, conn);
    client.initializeResult = await client.withTimeout(
      conn.sendRequest(InitializeRequest.type, {
        processId: options.processId === undefined ? process.pid : options.processId,
        rootUri: uriOf(options.root),
        workspaceFolders: [{ uri: uriOf(options.root), name: 'test' }],
        capabilities: options.capabilities,
      }),
      'initialize',
    );
    await conn.sendNotification(InitializedNotification.type, {});
    return client;
  }

  private record(action: () => void): void {
    action();
    this.waiters = this.waiters.filter((w) => {
      if (!w.check()) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `check` holds (checked now and after every message from the server). */
  waitUntil(what: string, check: () => boolean, ms = WAIT_MS): Promise<void> {
    if (check()) return Promise.resolve();
    return this.withTimeout(new Promise<void>((resolve) => this.waiters.push({ check, resolve })), what, ms);
  }

  /** The first diagnostics published for `uri` after `after` that satisfy `check`. */
  async diagnosticsFor(uri: string, check: (p: PublishDiagnosticsParams) => boolean, after = 0): Promise<PublishDiagnosticsParams> {
    const find = () => this.published.slice(after).find((p) => p.uri === uri && check(p));
    await this.waitUntil(`diagnostics for ${uri}`, () => !!find());
    return find()!;
  }

  withTimeout<T>(promise: Promise<T> | Thenable<T>, what: string, ms = WAIT_MS): Promise<T> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\nserver stderr:\n${this.stderr}\nserver log:\n${this.logs.join('\n')}`)), ms);
    });
    return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
  }

  open(uri: string, text: string, version = 1, languageId = 'rust'): Promise<void> {
    return this.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version, text } });
  }

  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): Promise<void> {
    return this.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: changes });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.withTimeout(this.conn.sendRequest(method, params) as Promise<R>, method);
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.conn.sendNotification(method, params);
  }

  /** shutdown, exit, and the exit code of the server. */
  async shutdown(): Promise<number | null> {
    await this.withTimeout(this.conn.sendRequest(ShutdownRequest.type), 'shutdown');
    await this.conn.sendNotification(ExitNotification.type);
    return this.withTimeout(this.exited, 'exit');
  }

  waitForExit(ms = WAIT_MS): Promise<number | null> {
    return this.withTimeout(this.exited, 'the server to exit', ms);
  }

  kill(): void {
    this.conn.dispose();
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

export function uriOf(file: string): string {
  return pathToFileURL(file).href;
}

/** A temporary folder with the given files; returns its path. */
export function tempProject(files: Record<string, string>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-lsp-')));
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, text);
  }
  return dir;
}

/** The LSP range of the first occurrence of `needle` in `text`. */
export function rangeOf(text: string, needle: string, from = 0): { start: { line: number; character: number }; end: { line: number; character: number } } {
  const at = text.indexOf(needle, from);
  if (at === -1) throw new Error(`\`${needle}\` not in text`);
  return { start: positionAt(text, at), end: positionAt(text, at + needle.length) };
}

export function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** A driver whose ring address is handed to the device in probe and never taken back. */
export const NIC_MAIN = `// SPDX-License-Identifier: GPL-2.0
//! A NIC driver whose ring is handed to the device in probe.

use kernel::dma::CoherentAllocation;
use kernel::prelude::*;
use kernel::{device::Core, devres::Devres, pci};

mod hw;

const RING_BASE: usize = 0x10;

#[pin_data]
struct Nic {
    ring: CoherentAllocation<u64>,
    bar: Devres<pci::Bar<0x1000>>,
}

impl pci::Driver for Nic {
    type IdInfo = ();

    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 64, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x1000>(0, c_str!("nic"))?;
        if let Ok(b) = bar.access(pdev.as_ref()) {
            b.write64(ring.dma_handle(), RING_BASE);
        }
        KBox::pin(Nic { ring, bar }, GFP_KERNEL)
    }
}
`;

/** The second file of the crate: helpers, and no Drop for the driver data. */
export const NIC_HW = `// Hardware helpers of the NIC driver.

use super::Nic;

impl Nic {
    fn ring_len(&self) -> usize {
        64
    }
}
`;

/** What makes hw.rs stop the device when the driver data is dropped. */
export const NIC_HW_DROP = `
impl Drop for Nic {
    fn drop(&mut self) {
        self.halt_engine();
    }
}
`;
