// Writing a report or baseline file so that an interrupted run never leaves half a file behind,
// and standard output whose writes fail.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A report or baseline file that cannot be written; the message says why, in a few words. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** Symbolic links followed to find what an output path names, as the kernel allows (ELOOP). */
const MAX_LINK_HOPS = 40;

/**
 * What `file` names once symbolic links are followed: the path to write, and what is there now
 * (undefined when nothing is). A dangling link names the file it points to, which is created.
 */
export function resolveOutputTarget(file: string): { path: string; stat?: fs.Stats } {
  let target = path.resolve(file);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { path: target };
      throw new OutputError(whyNotWritten(e, file));
    }
    if (!st.isSymbolicLink()) return { path: target, stat: st };
    target = path.resolve(path.dirname(target), fs.readlinkSync(target));
  }
  throw new OutputError('too many levels of symbolic links');
}

/** Why a non-regular `stat` cannot take a report, or undefined when it can (written in place). */
function refusal(stat: fs.Stats): string | undefined {
  if (stat.isDirectory()) return 'it is a folder';
  if (stat.isSocket()) return 'it is a socket';
  if (stat.isBlockDevice()) return 'it is a block device';
  return undefined;
}

/**
 * Writes `text` to `file`. A regular file (or a new path) is replaced whole: the text goes to a
 * temporary file beside it, which is then renamed over it, so readers see the old content or the
 * new, never a part. A symbolic link is followed and its target written the same way; the link
 * stays. A FIFO or a character device (`/dev/stdout`, `/dev/null`) is written in place: renaming
 * over it would replace the node itself with a plain file. Folders, sockets and block devices
 * are refused.
 */
export function writeOutputFile(file: string, text: string): void {
  const target = resolveOutputTarget(file);
  if (target.stat && !target.stat.isFile()) {
    const why = refusal(target.stat);
    if (why) throw new OutputError(why);
    writeInPlace(target.path, text, file);
    return;
  }
  const dir = path.dirname(target.path);
  const tmp = path.join(dir, `.${path.basename(target.path)}.${process.pid}.${Date.now()}.tmp`);
  deferSignals();
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, target.path);
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
 * A FIFO or device: opened for writing without creating or truncating it. Opening a FIFO waits
 * for a reader, as a shell's `>` does; signals keep their default action meanwhile, since there
 * is no temporary file to clean up.
 */
function writeInPlace(target: string, text: string, file: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(target, fs.constants.O_WRONLY);
    // The node may have changed since it was looked at: never write into a folder or a file
    // that appeared in its place (that one would be replaced whole instead).
    if (fs.fstatSync(fd).isFile()) throw new Error('it changed while it was being written');
    fs.writeFileSync(fd, text);
  } catch (e) {
    throw new OutputError(whyNotWritten(e, file));
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
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
 * Fails early, before a long run, when `file` clearly cannot be written: its folder is missing,
 * or it names (through any symbolic links) a folder, a socket or a block device.
 */
export function checkOutputPath(file: string): void {
  const target = resolveOutputTarget(file);
  let dir: fs.Stats;
  try {
    dir = fs.statSync(path.dirname(target.path));
  } catch (e) {
    throw new OutputError(whyNotWritten(e, file));
  }
  if (!dir.isDirectory()) throw new OutputError(`no such folder: ${path.dirname(file)}`);
  const why = target.stat && refusal(target.stat);
  if (why) throw new OutputError(why);
}

/**
 * Standard output that cannot be written (a full disk, `>/dev/full`, an I/O error) ends the run
 * with exit code 2 and one line on standard error, never a stack trace nor an exit code that
 * reads as findings. A reader that stops early (`dmalint check | head`) closes the pipe (EPIPE):
 * the rest of the report has nowhere to go and is dropped quietly, and the exit code stays what
 * the run decided.
 */
export function guardStdout(stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): void {
  let failed = false;
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' || failed) return;
    failed = true;
    stderr.write(`error: cannot write to standard output: ${whyNotWritten(e, 'standard output')}\n`);
    // Set again at exit: the run sets its own exit code after its last write, before the error
    // (which comes asynchronously) is known.
    process.exitCode = 2;
    process.once('exit', () => {
      process.exitCode = 2;
    });
  });
}

function whyNotWritten(e: unknown, file: string): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `no such folder: ${path.dirname(file)}`;
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'ELOOP') return 'too many levels of symbolic links';
  if (code === 'ENXIO') return 'no such device';
  if (code === 'EIO') return 'input/output error';
  return (e as Error | undefined)?.message ?? String(e);
}
