// A worker thread of the extraction pool: texts in, facts (as JSON) out. Each worker loads the
// parser once; trees live only while one file is extracted. With a cache, the worker also
// writes each entry, so serializing and writing happen in parallel too.
import { parentPort, workerData } from 'node:worker_threads';
import { EntryStore } from './cache.js';
import { extractFacts } from './extract.js';

export interface WorkerSetup {
  /** Where to write fresh facts, when the cache is on. */
  cache?: { dir: string; tag: string };
}

export interface WorkerTask {
  id: number;
  files: { key?: string; text: string }[];
}

export type WorkerReply = { id: number; json: string[]; writeErrors: number } | { id: number; error: string };

const setup = (workerData ?? {}) as WorkerSetup;
const store = setup.cache ? new EntryStore(setup.cache.dir, setup.cache.tag) : undefined;

parentPort?.on('message', (task: WorkerTask) => {
  try {
    const json: string[] = [];
    const errorsBefore = store?.counters.writeErrors ?? 0;
    for (const file of task.files) {
      const text = JSON.stringify(extractFacts(file.text));
      if (store && file.key) store.write(file.key, text);
      json.push(text);
    }
    parentPort!.postMessage({ id: task.id, json, writeErrors: (store?.counters.writeErrors ?? 0) - errorsBefore } satisfies WorkerReply);
  } catch (e) {
    const err = e as Error;
    parentPort!.postMessage({ id: task.id, error: err?.stack ?? String(e) } satisfies WorkerReply);
  }
});
