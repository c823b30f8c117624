// Reading a file named by an option (`--config`, `--baseline`, `--diff`) with a bound on its
// size, so that `/dev/zero`, a huge file or a FIFO nobody writes to cannot exhaust memory or
// hang the run.
import * as fs from 'node:fs';

/** A `dmalint.toml` is a few lines; anything near this is not one. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Baselines and diffs grow with the tree; this is far beyond any real one. */
export const MAX_BASELINE_BYTES = 256 * 1024 * 1024;
export const MAX_DIFF_BYTES = 256 * 1024 * 1024;

export interface OptionFileLimits {
  maxBytes: number;
  /**
   * Accept a FIFO, a character device or standard input (`--diff <(git diff)`): read to its end,
   * within the bound. Otherwise only a regular file is read: a FIFO given as a config would block.
   */
  streams?: boolean;
}

/** An option file that cannot be used; `code` is the system's error code when there is one. */
export class OptionFileError extends Error {
  override name = 'OptionFileError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The text of `file` (a path, or the descriptor 0 for standard input), decoded as UTF-8. Throws
 * OptionFileError with a short reason ("no such file", "it is a FIFO", "larger than 1 MiB").
 */
export function readOptionFile(file: string | 0, limits: OptionFileLimits): string {
  if (file === 0) return readBounded(0, limits.maxBytes);
  let kind: string | undefined;
  try {
    kind = refusedKind(fs.statSync(file), !!limits.streams);
  } catch (e) {
    throw new OptionFileError(errorReason(e), (e as NodeJS.ErrnoException).code);
  }
  if (kind) throw new OptionFileError(`it is ${kind}`);
  let fd: number | undefined;
  try {
    // Without `streams`, the node was a regular file when looked at; opening without blocking
    // keeps a FIFO swapped in since from hanging the open, and fstat then refuses it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (limits.streams ? 0 : fs.constants.O_NONBLOCK ?? 0));
    const swapped = refusedKind(fs.fstatSync(fd), !!limits.streams);
    if (swapped) throw new OptionFileError(`it is ${swapped}`);
    return readBounded(fd, limits.maxBytes);
  } catch (e) {
    if (e instanceof OptionFileError) throw e;
    throw new OptionFileError(errorReason(e), (e as NodeJS.ErrnoException).code);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** What kind of node `st` is when it may not be read as an option file ("a folder"). */
function refusedKind(st: fs.Stats, streams: boolean): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a folder';
  if (streams && (st.isFIFO() || st.isCharacterDevice())) return undefined;
  if (st.isFIFO()) return 'a FIFO, not a regular file';
  if (st.isSocket()) return 'a socket, not a regular file';
  return 'a device, not a regular file';
}

/** Reads `fd` to its end, or fails once more than `maxBytes` came. */
function readBounded(fd: number, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
    let n: number;
    try {
      n = fs.readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      // Standard input left non-blocking by whoever started us: wait a little and try again.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw e;
    }
    if (n === 0) break;
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    total += n;
    if (total > maxBytes) throw new OptionFileError(`larger than ${sizeText(maxBytes)}, the limit`);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

export function sizeText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function errorReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a folder';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENXIO':
      return 'no such device';
  }
  return err?.message ? err.message.replace(/^\w+: /, '') : String(e);
}
