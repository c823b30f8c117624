// A worker thread of the extraction pool: texts in, facts (as JSON) out. Each worker loads the
// parser once; trees live only while one file is extracted. With a cache, the worker also
// writes each entry, so serializing and writing happen in parallel too.
import { parentPort, workerData } from 'node:worker_threads';
import { EntryStore, serializeFacts } from './cache.js';
import { extractFacts } from './extract.js';
import { STOP_MESSAGE } from './worker-stop.js';
import { collectGarbage, ParseBudget } from './native-memory.js';

export interface WorkerSetup {
  /** Where to write fresh facts, when the cache is on. */
  cache?: { dir: string; tag: string };
}

export interface WorkerTask {
  id: number;
  files: { key?: string; text: string }[];
}

/**
 * Each file's facts as JSON, or null for facts too large to serialize (this thread cannot send
 * them; the main thread extracts that file itself).
 */
export type WorkerReply = { id: number; json: (string | null)[]; writeErrors: number } | { id: number; error: string };

const setup = (workerData ?? {}) as WorkerSetup;
const store = setup.cache ? new EntryStore(setup.cache.dir, setup.cache.tag) : undefined;
const budget = new ParseBudget();

// Tasks are queued and run one per turn of the event loop: messages arrive while a task runs, and
// handling them back to back would starve the finalizers that free the trees' memory.
const queue: WorkerTask[] = [];
let scheduled = false;

parentPort?.on('message', (task: WorkerTask | typeof STOP_MESSAGE) => {
  if (task === STOP_MESSAGE) {
    // Messages are handled between tasks, never during a parse: dropping the rest and closing
    // the port lets the thread end on its own.
    queue.length = 0;
    parentPort!.close();
    return;
  }
  queue.push(task);
  schedule();
});

function schedule(): void {
  if (scheduled || queue.length === 0) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    run(queue.shift()!);
    schedule();
  });
}

function run(task: WorkerTask): void {
  try {
    const json: (string | null)[] = [];
    const errorsBefore = store?.counters.writeErrors ?? 0;
    for (const file of task.files) {
      const text = serializeFacts(extractFacts(file.text));
      if (store && file.key) {
        if (text !== undefined) store.write(file.key, text);
        else store.counters.writeErrors++;
      }
      json.push(text ?? null);
    }
    parentPort!.postMessage({ id: task.id, json, writeErrors: (store?.counters.writeErrors ?? 0) - errorsBefore } satisfies WorkerReply);
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ id: task.id, error: err?.stack ?? String(e) } satisfies WorkerReply);
  }
  // The trees of this task are garbage now; the finalizers this queues run before the next task.
  if (budget.add(task.files.reduce((n, f) => n + f.text.length, 0))) collectGarbage();
}
