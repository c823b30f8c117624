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
  deferSignals();
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

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
let signalsDeferred = false;

/**
 * Ctrl-C (SIGINT) and SIGTERM keep their default action, which ends the process at once wherever
 * it is, worker threads included. (Stopping the workers from a handler instead, while one is
 * inside the parser, aborts the process.) From the first write on, they go through a handler:
 * JavaScript handlers run only between synchronous steps, so a write and its rename are never
 * cut apart and no temporary file is left behind. The handler then gives the signal its default
 * action, so the process still ends killed by it (exit status 130 or 143 in a shell).
 */
function deferSignals(): void {
  if (signalsDeferred) return;
  signalsDeferred = true;
  const reraise = (signal: NodeJS.Signals) => {
    for (const s of SIGNALS) process.removeListener(s, reraise);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, reraise);
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
  if (fs.statSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new OutputError('it is a folder');
}

function whyNotWritten(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `no such folder: ${path.dirname(file)}`;
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (e as Error | undefined)?.message ?? String(e);
}
