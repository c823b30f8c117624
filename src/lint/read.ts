// Reading a source file: every way it can be unusable becomes a notice, never an exception.
import * as fs from 'node:fs';
import { errorText } from './discover.js';

/** Files larger than this are not linted (generated tables, not driver code). */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

export type ReadResult =
  | { ok: true; text: string }
  | { ok: false; kind: 'read-error' | 'binary' | 'too-large'; message: string };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function readSource(absPath: string): ReadResult {
  let bytes: Buffer;
  try {
    const st = fs.statSync(absPath);
    // Discovery keeps regular files only, but the path may have changed since (a FIFO would block).
    if (!st.isFile()) return { ok: false, kind: 'read-error', message: 'not a regular file; not checked' };
    if (st.size > MAX_FILE_BYTES) return { ok: false, kind: 'too-large', message: `file is ${(st.size / 1048576).toFixed(1)} MiB, over the ${MAX_FILE_BYTES / 1048576} MiB limit; not checked` };
    bytes = fs.readFileSync(absPath);
  } catch (e) {
    return { ok: false, kind: 'read-error', message: `cannot read file: ${errorText(e)}` };
  }
  return decodeSource(bytes);
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
