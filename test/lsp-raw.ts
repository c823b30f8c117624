// A bare JSON-RPC peer for protocol tests: writes bytes to `dmalint lsp --stdio` exactly as
// given (several messages in one write, broken framing) and parses what comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './cli-helpers.js';
import { WAIT_MS } from './lsp-client.js';

export interface RawMessage {
  id?: number | string | null;
  method?: string;
  params?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export function frame(message: unknown): string {
  const body = JSON.stringify(message);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

export class RawPeer {
  readonly received: RawMessage[] = [];
  stderr = '';
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  private constructor(readonly proc: ChildProcess) {
    proc.stdout!.on('data', (d: Buffer) => this.onData(d));
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.stdin!.on('error', () => undefined); // writing to a server that exited
  }

  static start(cwd: string): RawPeer {
    return new RawPeer(spawn(process.execPath, [cliPath, 'lsp', '--stdio'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Writes the given text in one write. */
  write(text: string): void {
    this.proc.stdin!.write(text);
  }

  send(...messages: unknown[]): void {
    this.write(messages.map(frame).join(''));
  }

  /** Sends `initialize` and `initialized` and waits for the answer. */
  async initialize(rootUri: string, capabilities: unknown, trace = 'off', more: Record<string, unknown> = {}): Promise<void> {
    this.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: { processId: process.pid, rootUri, capabilities, trace, ...more } });
    await this.waitFor('initialize result', (m) => m.id === 'init');
    this.send({ jsonrpc: '2.0', method: 'initialized', params: {} });
  }

  async waitFor(what: string, check: (m: RawMessage) => boolean, ms = WAIT_MS): Promise<RawMessage> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.received.find(check);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstderr:\n${this.stderr}\nreceived:\n${JSON.stringify(this.received, null, 1).slice(0, 4000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForExit(ms = WAIT_MS): Promise<number | null> {
    let timer: NodeJS.Timeout;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the server did not exit\nstderr:\n${this.stderr}`)), ms);
    });
    return Promise.race([this.exited, timeout]).finally(() => clearTimeout(timer));
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private onData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end === -1) break;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
      if (this.buffer.length < end + 4 + length) break;
      this.received.push(JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString()) as RawMessage);
      this.buffer = this.buffer.subarray(end + 4 + length);
    }
    this.wake();
  }
}
