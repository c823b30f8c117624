// Giving parse trees' memory back. The tree-sitter binding frees a tree's native memory only
// after V8 has collected its JavaScript wrapper and, on a later turn of the event loop, run the
// finalizer that collection queued. Parsing allocates little JavaScript memory, so V8 seldom
// collects on its own, and native memory would grow with every file parsed. So whoever parses
// in a loop asks for a collection every so many bytes of text and lets the event loop turn.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Text parsed between two collections. */
const BYTES_PER_COLLECTION = 1024 * 1024;

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

  /** Records `length` code units parsed; true when it is time to collect. */
  add(length: number): boolean {
    this.bytes += length;
    if (this.bytes < BYTES_PER_COLLECTION) return false;
    this.bytes = 0;
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
