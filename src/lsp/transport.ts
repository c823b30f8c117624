// The server's end of the base protocol: `Content-Length` framing over stdio, read here rather
// than by vscode-jsonrpc's reader so that
// - a body that is not JSON is answered with -32700 and the server reads on;
// - framing that cannot be trusted any more (no or a bad `Content-Length`, a length that runs
//   into the next message's header) ends the server with a message on stderr, so the editor
//   restarts it, instead of leaving it waiting for bytes that never come;
// - every message of a chunk reaches the connection's queue at once, so the server knows how
//   many messages wait to be handled (`pending`) and can apply a burst of changes before it
//   analyzes anything.
import {
  AbstractMessageReader,
  ErrorCodes,
  Message,
  StreamMessageWriter,
  type DataCallback,
  type Disposable,
  type MessageReader,
  type MessageStrategy,
  type MessageWriter,
  type NotificationMessage,
  type RequestMessage,
  type ResponseMessage,
} from 'vscode-languageserver/node.js';
import { MAX_FILE_BYTES } from '../lint/limits.js';
import { methodParamsProblem } from './params.js';

/** The longest header block read before the framing is called broken. */
const MAX_HEADER_BYTES = 8 * 1024;
/**
 * The longest message body buffered. A document at the source size limit fits even when JSON
 * escapes much of it; a longer body is skipped unread (see `onOversized`).
 */
export const MAX_MESSAGE_BYTES = 4 * MAX_FILE_BYTES;
/** What of a skipped body is kept to tell what it was. */
const OVERSIZED_PREFIX_BYTES = 64 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');
/** A header inside a body: in JSON, a raw CR LF never follows a number inside or after such a name. */
const HEADER_INSIDE = /Content-Length:[ \t]*\d+\r\n/i;

/** A message whose body was too long to read: what its first bytes tell of it. */
export interface OversizedMessage {
  bytes: number;
  method?: string;
  id?: number | string;
  uri?: string;
  /** The document version, when it comes before the text. */
  version?: number;
}

export interface TransportEvents {
  /** The framing is broken beyond repair: the server must end. */
  broken(reason: string): void;
  /** A message was skipped because of its size. */
  oversized(message: OversizedMessage): void;
  /** A notification whose params have the wrong shape was dropped. */
  dropped(method: string, problem: string): void;
}

/** Reads framed JSON-RPC messages from a stream. */
export class FramedMessageReader extends AbstractMessageReader implements MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the message being read; -1 while reading headers. */
  private bodyLength = -1;
  /** Bytes still to drop of an oversized body, and what was kept of it. */
  private skipping = 0;
  private skippedPrefix: Buffer[] = [];
  private skippedTotal = 0;
  private callback: DataCallback | undefined;
  private ended = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly events: TransportEvents,
    /** Answers a message that cannot be handled (invalid JSON, not a JSON-RPC message). */
    private readonly reject: (response: ResponseMessage) => void,
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (data: Buffer | string) => this.onData(typeof data === 'string' ? Buffer.from(data) : data);
    const onEnd = () => this.fireClose();
    const onError = (e: Error) => this.fireError(e);
    this.input.on('data', onData);
    this.input.on('end', onEnd);
    this.input.on('error', onError);
    return {
      dispose: () => {
        this.input.off('data', onData);
        this.input.off('end', onEnd);
        this.input.off('error', onError);
      },
    };
  }

  private onData(data: Buffer): void {
    if (this.ended) return;
    if (this.skipping > 0) data = this.skip(data);
    if (data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
    for (;;) {
      if (this.ended || this.skipping > 0) return;
      if (this.bodyLength < 0) {
        if (!this.readHeaders()) return;
        continue;
      }
      if (this.buffered < this.bodyLength) {
        this.checkPartialBody();
        return;
      }
      const body = this.take(this.bodyLength);
      this.bodyLength = -1;
      this.deliver(body);
    }
  }

  /**
   * A body still incomplete that holds a header has a Content-Length too large for it: the
   * bytes it waits for would be the following messages. Only the newest chunk (with the end of
   * the one before) is looked at, so a long body is scanned once.
   */
  private checkPartialBody(): void {
    const last = this.chunks[this.chunks.length - 1];
    if (!last) return;
    const before = this.chunks.length > 1 ? this.chunks[this.chunks.length - 2] : undefined;
    const text = (before ? before.subarray(Math.max(0, before.length - 64)).toString('latin1') : '') + last.toString('latin1');
    if (HEADER_INSIDE.test(text)) this.fail(`a message's Content-Length (${this.bodyLength} bytes) runs into the header of the next message`);
  }

  /** Reads a header block; false when it is not complete yet (or the framing failed). */
  private readHeaders(): boolean {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [all];
    const end = all.indexOf(HEADER_END);
    if (end === -1) {
      if (all.length > MAX_HEADER_BYTES) this.fail(`no end of headers in the first ${MAX_HEADER_BYTES} bytes of a message`);
      return false;
    }
    const headers = all.subarray(0, end).toString('ascii').split('\r\n');
    let length: string | undefined;
    for (const line of headers) {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.fail(`malformed header line ${JSON.stringify(line)}`);
      if (line.slice(0, colon).trim().toLowerCase() === 'content-length') length = line.slice(colon + 1).trim();
    }
    if (length === undefined) return this.fail('a message without a Content-Length header');
    if (!/^\d+$/.test(length)) return this.fail(`Content-Length ${JSON.stringify(length)} is not a byte count`);
    this.drop(end + HEADER_END.length);
    const n = Number(length);
    if (n > MAX_MESSAGE_BYTES) {
      this.startSkipping(n);
      return true;
    }
    this.bodyLength = n;
    return true;
  }

  private startSkipping(n: number): void {
    this.skipping = n;
    this.skippedTotal = n;
    this.skippedPrefix = [];
    const after = this.skip(this.take(this.buffered));
    if (after.length > 0) {
      this.chunks = [after];
      this.buffered = after.length;
    }
  }

  /** Drops the bytes of an oversized body; returns what follows it in `data`. */
  private skip(data: Buffer): Buffer {
    const n = Math.min(this.skipping, data.length);
    const kept = this.skippedPrefix.reduce((a, b) => a + b.length, 0);
    if (kept < OVERSIZED_PREFIX_BYTES) this.skippedPrefix.push(data.subarray(0, Math.min(n, OVERSIZED_PREFIX_BYTES - kept)));
    this.skipping -= n;
    if (this.skipping === 0) {
      this.events.oversized(describeOversized(Buffer.concat(this.skippedPrefix).toString('utf8'), this.skippedTotal));
      this.skippedPrefix = [];
    }
    return data.subarray(n);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered = all.length - n;
    return out;
  }

  private drop(n: number): void {
    this.take(n);
  }

  private deliver(body: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch (e) {
      this.reject(errorResponse(null, ErrorCodes.ParseError, `dmalint: the message is not valid JSON: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    const m = message as Partial<RequestMessage & ResponseMessage>;
    const valid = typeof m === 'object' && m !== null && !Array.isArray(m) && (typeof m.method === 'string' || 'result' in m || 'error' in m);
    if (!valid) {
      const id = typeof m === 'object' && m !== null && (typeof m.id === 'number' || typeof m.id === 'string') ? m.id : null;
      this.reject(errorResponse(id, ErrorCodes.InvalidRequest, 'dmalint: not a JSON-RPC request, notification or response'));
      return;
    }
    this.callback?.(message as Message);
  }

  private fail(reason: string): false {
    this.ended = true;
    this.chunks = [];
    this.events.broken(reason);
    return false;
  }
}

function errorResponse(id: number | string | null, code: number, message: string): ResponseMessage {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** The method, id and document URI at the start of a body (clients write them first). */
export function describeOversized(prefix: string, bytes: number): OversizedMessage {
  const out: OversizedMessage = { bytes };
  const method = /"method"\s*:\s*"([^"\\]+)"/.exec(prefix);
  if (method) out.method = method[1];
  const id = /"id"\s*:\s*(\d+|"[^"\\]*")/.exec(prefix);
  if (id) out.id = id[1].startsWith('"') ? id[1].slice(1, -1) : Number(id[1]);
  const version = /"version"\s*:\s*(\d+)/.exec(prefix);
  if (version) out.version = Number(version[1]);
  const uri = /"uri"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(prefix);
  if (uri) {
    try {
      out.uri = JSON.parse(`"${uri[1]}"`) as string;
    } catch {
      // Cut inside an escape: no URI.
    }
  }
  return out;
}

/**
 * The reader and writer of a connection, and how many messages wait in its queue. Requests sent
 * before `initialize` are answered with -32002 and notifications dropped, as the protocol says.
 */
export class Transport {
  readonly reader: FramedMessageReader;
  readonly writer: MessageWriter;
  private received = 0;
  private handled = 0;
  /** Changes read but not yet applied, per document URI. */
  private readonly changesAhead = new Map<string, number>();
  private initialized = false;

  constructor(
    input: NodeJS.ReadableStream,
    output: NodeJS.WritableStream,
    private readonly events: TransportEvents,
  ) {
    this.writer = new StreamMessageWriter(output);
    this.reader = new FramedMessageReader(input, events, (response) => void this.writer.write(response));
    const listen = this.reader.listen.bind(this.reader);
    // Count what enters the connection's queue; cancellations may never reach it, so they do not count.
    this.reader.listen = (callback: DataCallback) =>
      listen((message) => {
        if (counted(message)) {
          this.received++;
          const uri = changedUri(message);
          if (uri) this.changesAhead.set(uri, (this.changesAhead.get(uri) ?? 0) + 1);
        }
        callback(message);
      });
  }

  /** Messages read and queued but not handled yet. */
  pending(): number {
    return this.received - this.handled;
  }

  /** Whether a change of `uri` is read but not applied yet: what is known of it is already stale. */
  hasChangeAhead(uri: string): boolean {
    return (this.changesAhead.get(uri) ?? 0) > 0;
  }

  readonly messageStrategy: MessageStrategy = {
    handleMessage: (message, next) => {
      if (counted(message)) {
        this.handled++;
        const uri = changedUri(message);
        if (uri) {
          const left = (this.changesAhead.get(uri) ?? 1) - 1;
          if (left > 0) this.changesAhead.set(uri, left);
          else this.changesAhead.delete(uri);
        }
      }
      if (!this.initialized && Message.isRequest(message)) {
        if (message.method !== 'initialize') {
          void this.writer.write(errorResponse(message.id, ErrorCodes.ServerNotInitialized, `dmalint: \`${message.method}\` before \`initialize\``));
          return;
        }
        this.initialized = true;
      } else if (!this.initialized && Message.isNotification(message) && message.method !== 'exit') {
        return; // the protocol drops notifications before `initialize`
      }
      if (Message.isRequest(message) || Message.isNotification(message)) {
        const problem = methodParamsProblem(message.method, message.params);
        if (problem && Message.isRequest(message)) {
          void this.writer.write(errorResponse(message.id, ErrorCodes.InvalidParams, `dmalint: \`${message.method}\`: ${problem}`));
          return;
        }
        if (problem) {
          this.events.dropped(message.method, problem);
          return;
        }
      }
      next(message);
    },
  };
}

function counted(message: Message): boolean {
  return !(Message.isNotification(message) && message.method === '$/cancelRequest');
}

function changedUri(message: Message): string | undefined {
  if (!Message.isNotification(message) || message.method !== 'textDocument/didChange') return undefined;
  const uri = ((message as NotificationMessage).params as { textDocument?: { uri?: unknown } } | undefined)?.textDocument?.uri;
  return typeof uri === 'string' ? uri : undefined;
}
