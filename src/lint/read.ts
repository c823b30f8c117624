// Reading a source file: every way it can be unusable becomes a notice, never an exception.
import { isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import { errorText } from './discover.js';
import { MAX_ANALYZED_BYTES, MAX_FILE_BYTES, tooLargeToAnalyze } from './limits.js';

export { MAX_ANALYZED_BYTES, MAX_FILE_BYTES, tooLargeToAnalyze };

export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; kind: 'read-error' | 'binary' | 'too-large'; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Opening without blocking: a FIFO (the path may have changed since discovery) opens at once
 * and is then refused as not a regular file, instead of waiting for a writer.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * A checked file, read and validated, whose text is decoded when first asked for: a run whose
 * findings come from the cache never needs most texts.
 */
export class SourceFile {
  private decoded: string | undefined;
  /** sha256 of the text, filled by the cache the first time it is needed. */
  digest?: string;

  constructor(
    readonly absPath: string,
    /** As shown to the user; findings name files by it. */
    readonly path: string,
    /** The file's bytes, valid UTF-8 without NUL. */
    readonly bytes: Uint8Array,
  ) {}

  get text(): string {
    return (this.decoded ??= decoder.decode(this.bytes));
  }
}

export type FileReadResult = { ok: true; bytes: Buffer } | Extract<ReadResult, { ok: false }>;

export function readSource(absPath: string): ReadResult {
  const r = readSourceBytes(absPath);
  // Already checked as bytes: only decoding is left.
  return r.ok ? { ok: true, text: decoder.decode(r.bytes) } : r;
}

/** Reads and validates a file without decoding it (see `SourceFile`). */
export function readSourceBytes(absPath: string): FileReadResult {
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // One open and one fstat per file; a stat by path first would double the lookups.
    fd = fs.openSync(absPath, OPEN_FLAGS);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, kind: 'read-error', message: 'not a regular file; not checked' };
    const tooLarge = tooLargeToAnalyze(st.size);
    if (tooLarge) return { ok: false, kind: 'too-large', message: tooLarge };
    bytes = readAll(fd, st.size);
    // A file whose size was not known ahead (procfs) or that grew while it was read.
    const grown = tooLargeToAnalyze(bytes.length);
    if (grown) return { ok: false, kind: 'too-large', message: grown };
  } catch (e) {
    return { ok: false, kind: 'read-error', message: `cannot read file: ${errorText(e)}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const unusable = checkBytes(bytes);
  return unusable ?? { ok: true, bytes };
}

/** Why bytes are no source text (NUL bytes, not UTF-8), or undefined when they are. */
function checkBytes(bytes: Uint8Array): Extract<ReadResult, { ok: false }> | undefined {
  if (bytes.indexOf(0) !== -1) return { ok: false, kind: 'binary', message: 'file contains NUL bytes (binary?); not checked' };
  if (!isUtf8(bytes)) return { ok: false, kind: 'read-error', message: 'file is not valid UTF-8; not checked' };
  return undefined;
}

/**
 * The file's `size` bytes (from fstat), as `readFileSync` reads them: a file that grows while it
 * is read is read to the size it had; one that shrinks, to its new end.
 */
function readAll(fd: number, size: number): Buffer {
  // Size 0 may be an empty file or one whose size is not known ahead (procfs): read to the end,
  // or to just past the limit.
  if (size === 0) return readToEnd(fd, MAX_ANALYZED_BYTES + 1);
  const buf = allocate(size);
  let length = 0;
  while (length < size) {
    const n = fs.readSync(fd, buf, length, size - length, null);
    if (n === 0) break;
    length += n;
  }
  return length === size ? buf : buf.subarray(0, length);
}

function readToEnd(fd: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < limit) {
    const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit - length));
    const n = fs.readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) break;
    chunks.push(chunk.subarray(0, n));
    length += n;
  }
  return Buffer.concat(chunks, length);
}

/**
 * Files are read into slices of larger blocks: one allocation per few hundred files instead of
 * one each. Every file's bytes live as long as the run anyway, so nothing is kept alive for long.
 */
const BLOCK_BYTES = 1024 * 1024;
let block: Buffer | undefined;
let blockUsed = 0;

function allocate(size: number): Buffer {
  if (size > BLOCK_BYTES / 4) return Buffer.allocUnsafe(size);
  if (!block || blockUsed + size > block.length) {
    block = Buffer.allocUnsafe(BLOCK_BYTES);
    blockUsed = 0;
  }
  const slice = block.subarray(blockUsed, blockUsed + size);
  blockUsed += size;
  return slice;
}

export function decodeSource(bytes: Uint8Array): ReadResult {
  // The decoder drops a UTF-8 byte order mark, so columns match what editors show.
  return checkBytes(bytes) ?? { ok: true, text: decoder.decode(bytes) };
}
