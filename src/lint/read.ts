// Reading a source file: every way it can be unusable becomes a notice, never an exception.
import * as fs from 'node:fs';
import { errorText } from './discover.js';

/** Files larger than this are not linted (generated tables, not driver code). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; kind: 'read-error' | 'binary' | 'too-large'; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Opening without blocking: a FIFO (the path may have changed since discovery) opens at once
 * and is then refused as not a regular file, instead of waiting for a writer.
 */
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

export function readSource(absPath: string): ReadResult {
  let bytes: Buffer;
  let fd: number | undefined;
  try {
    // One open and one fstat per file; a stat by path first would double the lookups.
    fd = fs.openSync(absPath, OPEN_FLAGS);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, kind: 'read-error', message: 'not a regular file; not checked' };
    if (st.size > MAX_FILE_BYTES) return { ok: false, kind: 'too-large', message: `file is ${(st.size / 1048576).toFixed(1)} MiB, over the ${MAX_FILE_BYTES / 1048576} MiB limit; not checked` };
    bytes = readAll(fd, st.size);
  } catch (e) {
    return { ok: false, kind: 'read-error', message: `cannot read file: ${errorText(e)}` };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return decodeSource(bytes);
}

/**
 * The file's `size` bytes (from fstat), as `readFileSync` reads them: a file that grows while it
 * is read is read to the size it had; one that shrinks, to its new end.
 */
function readAll(fd: number, size: number): Buffer {
  // Size 0 may be an empty file or one whose size is not known ahead (procfs): read to the end.
  if (size === 0) return fs.readFileSync(fd);
  const buf = Buffer.allocUnsafe(size);
  let length = 0;
  while (length < size) {
    const n = fs.readSync(fd, buf, length, size - length, null);
    if (n === 0) break;
    length += n;
  }
  return length === size ? buf : buf.subarray(0, length);
}

export function decodeSource(bytes: Uint8Array): ReadResult {
  if (bytes.indexOf(0) !== -1) return { ok: false, kind: 'binary', message: 'file contains NUL bytes (binary?); not checked' };
  try {
    // The decoder drops a UTF-8 byte order mark, so columns match what editors show.
    return { ok: true, text: decoder.decode(bytes) };
  } catch {
    return { ok: false, kind: 'read-error', message: 'file is not valid UTF-8; not checked' };
  }
}
