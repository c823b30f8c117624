// Writing a report file so that an interrupted run never leaves half a file behind.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A report or baseline file that cannot be written; the message says why, in a few words. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/**
 * Writes `text` to a temporary file beside `file`, then renames it over `file`: readers see the
 * old content or the new, never a part. The temporary file is removed when anything fails.
 */
export function writeFileAtomic(file: string, text: string): void {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // nothing left to clean
    }
    throw new OutputError(whyNotWritten(e, file));
  }
}

/**
 * Fails early, before a long run, when `file` clearly cannot be written: its folder is missing
 * or it names a folder.
 */
export function checkOutputPath(file: string): void {
  const abs = path.resolve(file);
  let dir: fs.Stats;
  try {
    dir = fs.statSync(path.dirname(abs));
  } catch (e) {
    throw new OutputError(whyNotWritten(e, file));
  }
  if (!dir.isDirectory()) throw new OutputError(`no such folder: ${path.dirname(file)}`);
  if (fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new OutputError(`${file} is a folder`);
}

function whyNotWritten(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `no such folder: ${path.dirname(file)}`;
  if (code === 'EISDIR') return `${file} is a folder`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied: ${file}`;
  if (code === 'EROFS') return `read-only file system: ${file}`;
  if (code === 'ENOSPC') return `no space left on the device: ${file}`;
  return `${file}: ${(e as Error | undefined)?.message ?? String(e)}`;
}
