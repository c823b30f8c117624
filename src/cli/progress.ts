// A one-line progress indicator on stderr for long runs: `files done/total`, redrawn in place
// with `\r` and erased at the end. Only on a terminal: piped or redirected stderr gets nothing.

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface Progress {
  update(done: number, total: number): void;
  /** Erases the line (call before anything else is written). */
  clear(): void;
}

const SILENT: Progress = { update() {}, clear() {} };

/** Nothing is drawn before this: a shorter run is over before a counter could be read. */
export const DELAY_MS = 300;
/** Redraw at most this often. */
const INTERVAL_MS = 100;

export function createProgress(stream: ProgressStream, options: { quiet?: boolean; now?: () => number } = {}): Progress {
  if (options.quiet || !stream.isTTY) return SILENT;
  const now = options.now ?? (() => performance.now());
  const start = now();
  let shown = '';
  let last = -Infinity;
  return {
    update(done, total) {
      const t = now();
      if (t - start < DELAY_MS || t - last < INTERVAL_MS) return;
      last = t;
      const line = `dmalint: ${done}/${total} files`;
      if (line === shown) return;
      stream.write(`\r${line}${' '.repeat(Math.max(0, shown.length - line.length))}`);
      shown = line;
    },
    clear() {
      if (shown === '') return;
      stream.write(`\r${' '.repeat(shown.length)}\r`);
      shown = '';
    },
  };
}
