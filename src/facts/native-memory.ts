// Giving parse trees' memory back. The tree-sitter binding frees a tree's native memory only
// after V8 has collected its JavaScript wrapper and, on a later turn of the event loop, run the
// finalizer that collection queued. Parsing allocates little JavaScript memory, so V8 seldom
// collects on its own, and native memory would grow with every file parsed. So whoever parses
// in a loop checks, every so many bytes of text, how far the process has grown since the last
// collection, and asks for one (and lets the event loop turn) only when that is large. Extracting
// facts allocates plenty of JavaScript memory, so V8 usually collects the trees on its own and a
// forced full collection, which walks the whole heap, is rarely needed.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Text parsed between two looks at the process's size. */
const BYTES_PER_CHECK = 1024 * 1024;
/** Growth of the resident set since the last collection that makes the next one due. */
const GROWTH_PER_COLLECTION = 256 * 1024 * 1024;

let gc: (() => void) | undefined;

function collector(): () => void {
  if (!gc) {
    // `--expose-gc` only takes effect in contexts created after it is set.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  return gc;
}

/** Counts parsed text; says when a collection is due. */
export class ParseBudget {
  private bytes = 0;
  private base = process.memoryUsage.rss();

  /** Records `length` code units parsed; true when it is time to collect. */
  add(length: number): boolean {
    this.bytes += length;
    if (this.bytes < BYTES_PER_CHECK) return false;
    this.bytes = 0;
    const rss = process.memoryUsage.rss();
    if (rss - this.base < GROWTH_PER_COLLECTION) {
      // Memory given back since (by V8's own collections) lowers the mark.
      this.base = Math.min(this.base, rss);
      return false;
    }
    // Measured after the collection, on the next check.
    this.base = Infinity;
    return true;
  }
}

/** A full collection. The freed trees' finalizers run once the caller yields to the event loop. */
export function collectGarbage(): void {
  collector()();
}

/** Collects, then yields so that the finalizers run. */
export async function collectAndYield(): Promise<void> {
  collectGarbage();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
