// Where facts come from: the cache, this thread, or a pool of worker threads. Whatever the
// source, the facts of a text are the same (`extractFacts` is a pure function of the text), so
// cold, warm, serial and parallel runs find the same things.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { nativeAddonDigest } from '../syntax/native-parse.js';
import { codeDigest, defaultCacheDir, prepareCacheDir, digestOf, EntryStore, packageRoot, parseFacts, pruneStaleNamespaces, serializeFacts, sha256, type CacheCounters } from './cache.js';
import { FACTS_VERSION, type FileFacts } from './ir.js';
import { collectAndYield, ParseBudget } from './native-memory.js';
import { STOP_MESSAGE } from './worker-stop.js';
import type { WorkerReply, WorkerSetup, WorkerTask } from './worker.js';

export interface ExtractCallbacks {
  /** Called once per file as soon as its facts are known, in no particular order. */
  onFacts?(index: number, facts: FileFacts): void;
  /**
   * Do not keep the facts for the returned array (it is then empty): for callers that take each
   * file's facts in `onFacts` and let go of them, so memory does not grow with the tree.
   */
  discard?: boolean;
}

export interface FactsSource {
  /** Facts of each file, in the same order. */
  extract(files: { absPath: string; text: string; digest?: string }[], callbacks?: ExtractCallbacks): Promise<FileFacts[]>;
  close?(): Promise<void>;
  /**
   * Starts the worker threads now, for a caller that expects to extract soon: a worker takes
   * about 0.1 s to load the parser, time the caller can spend reading files. Workers that get
   * no work are stopped at `close`.
   */
  warmUp?(): void;
  /** A store for results derived from facts (per-crate findings); absent without a cache. */
  results?: EntryStore;
  /** What the source did so far. */
  stats?: SourceStats;
}

export interface SourceStats {
  /** Files whose facts were extracted (not read from the cache). */
  extracted: number;
  /** Worker threads started. */
  workers: number;
  facts?: CacheCounters;
}

export interface FactsSourceOptions {
  /** Threads that extract, this one included; 1 extracts in this thread only. Default: the number of CPUs. */
  jobs?: number;
  cacheDir?: string;
  /** false with --no-cache */
  cache?: boolean;
  /** Folder the default cache location is looked up from. Default: the working folder. */
  cwd?: string;
  /**
   * Below this many bytes of text to extract, extraction stays in this thread: starting workers
   * (each loads the parser) costs more than it saves.
   */
  minPoolBytes?: number;
}

/** The extractor (with the parser) is loaded once there is something to extract: not on warm runs. */
const loadExtractor = async () => (await import('./extract.js')).extractFacts;

/** Extracts in this thread, no cache. */
export const inlineFactsSource: FactsSource = {
  async extract(files, callbacks) {
    const out: FileFacts[] = [];
    if (files.length === 0) return out;
    const extractFacts = await loadExtractor();
    const budget = new ParseBudget();
    for (const [i, f] of files.entries()) {
      const facts = extractFacts(f.text);
      if (!callbacks?.discard) out.push(facts);
      callbacks?.onFacts?.(i, facts);
      if (budget.add(f.text.length)) await collectAndYield();
    }
    return out;
  },
};

/** About 0.2 s of single-thread extraction: less than that is not worth a worker start. */
export const DEFAULT_MIN_POOL_BYTES = 192 * 1024;

export async function createFactsSource(options: FactsSourceOptions): Promise<FactsSource> {
  const jobs = Math.min(jobLimit(), Math.max(1, options.jobs ?? os.availableParallelism()));
  const stores = options.cache === false ? undefined : openCache(options.cacheDir, options.cwd ?? process.cwd());
  if (jobs === 1 && !stores) return inlineFactsSource;
  return new PooledSource(jobs, stores?.facts, stores?.results, options.minPoolBytes ?? DEFAULT_MIN_POOL_BYTES);
}

/**
 * Threads beyond twice the CPUs cannot make extraction faster (it is CPU-bound), and each loads
 * its own parser: `-j 100000` would exhaust memory before anything is linted.
 */
export function jobLimit(): number {
  return Math.max(4, 2 * os.availableParallelism());
}

/**
 * The cache's stores. A `--cache-dir` that cannot hold a cache is an error (CacheDirError); an
 * unusable default location means a run without a cache, as before there was one.
 */
function openCache(explicitDir: string | undefined, cwd: string): ReturnType<typeof openStores> | undefined {
  const dir = explicitDir ?? defaultCacheDir(cwd);
  try {
    prepareCacheDir(dir);
  } catch (e) {
    if (explicitDir !== undefined) throw e;
    return undefined;
  }
  return openStores(dir);
}

/**
 * The two namespaces of the cache. Facts depend on the extractor's code and the parser and
 * grammar versions; results depend on all the analysis code as well.
 */
function openStores(dir: string): { facts: EntryStore; results: EntryStore } {
  const require = createRequire(import.meta.url);
  const packages = ['tree-sitter', 'tree-sitter-rust'].map((p) => `${p}@${(require(`${p}/package.json`) as { version: string }).version}`).join(',');
  // The native addon's build too: its C is not among the code digested below.
  const versions = `${packages},native@${nativeAddonDigest().slice(0, 16)}`;
  const factsCode = codeDigest(['src/facts/extract', 'src/facts/suppressions', 'src/facts/ir', 'src/syntax']);
  const factsTag = `facts-v${FACTS_VERSION}-${sha256(`${versions}\n${factsCode}`).slice(0, 16)}`;
  const resultsCode = codeDigest(['src/facts', 'src/syntax', 'src/model', 'src/lint', 'rules']);
  const resultsTag = `results-${sha256(`${versions}\n${resultsCode}`).slice(0, 16)}`;
  pruneStaleNamespaces(dir, [factsTag, resultsTag]);
  return { facts: new EntryStore(dir, factsTag), results: new EntryStore(dir, resultsTag) };
}

interface Job {
  index: number;
  key?: string;
  text: string;
}

class PooledSource implements FactsSource {
  readonly stats: SourceStats;
  private pool?: WorkerPool;

  constructor(
    private readonly jobs: number,
    private readonly facts: EntryStore | undefined,
    readonly results: EntryStore | undefined,
    private readonly minPoolBytes: number,
  ) {
    this.stats = { extracted: 0, workers: 0, facts: facts?.counters };
  }

  async extract(files: { absPath: string; text: string; digest?: string }[], callbacks: ExtractCallbacks = {}): Promise<FileFacts[]> {
    const out: FileFacts[] = callbacks.discard ? [] : new Array(files.length);
    const deliver = (index: number, facts: FileFacts) => {
      if (!callbacks.discard) out[index] = facts;
      callbacks.onFacts?.(index, facts);
    };
    const todo: Job[] = [];
    let todoBytes = 0;
    files.forEach((f, index) => {
      const key = this.facts ? digestOf(f) : undefined;
      const cached = key !== undefined ? this.facts!.read(key, parseFacts) : undefined;
      if (cached) deliver(index, cached);
      else {
        todo.push({ index, key, text: f.text });
        todoBytes += f.text.length;
      }
    });
    if (todo.length === 0) return out;
    this.stats.extracted += todo.length;
    // `jobs` threads extract, this one included: it takes batches from the same queue as the
    // workers between handling their replies, which saves a thread start and the JSON round
    // trip of the facts it extracts itself.
    const threads = this.jobs > 1 && todo.length > 1 && todoBytes >= this.minPoolBytes ? Math.min(this.jobs, todo.length) : 1;
    const pool = threads > 1 ? this.startPool(threads - 1) : undefined;
    const extractFacts = await loadExtractor();
    const extractHere = (job: Job) => {
      const facts = extractFacts(job.text);
      if (job.key !== undefined) {
        const json = serializeFacts(facts);
        if (json !== undefined) this.facts!.write(job.key, json);
        else this.facts!.counters.writeErrors++;
      }
      deliver(job.index, facts);
    };
    // Facts a worker could not send (too large for one string) are extracted again here.
    const fromWorker = (job: Job, json: string | null) => {
      const facts = json === null ? undefined : parseWorkerFacts(json);
      if (facts) deliver(job.index, facts);
      else extractHere(job);
    };
    if (pool) {
      await pool.run(todo, fromWorker, extractHere);
    } else {
      const budget = new ParseBudget();
      for (const job of todo) {
        extractHere(job);
        if (budget.add(job.text.length)) await collectAndYield();
      }
    }
    return out;
  }

  warmUp(): void {
    if (this.jobs > 1) this.startPool(this.jobs - 1);
  }

  private startPool(size: number): WorkerPool | undefined {
    if (this.pool && this.pool.size >= size) return this.pool;
    const script = workerScript();
    if (!script) return undefined;
    void this.pool?.close();
    const setup: WorkerSetup = { cache: this.facts ? { dir: this.facts.dir, tag: this.facts.tag } : undefined };
    this.pool = new WorkerPool(script, size, setup, this.facts?.counters);
    this.stats.workers += size;
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }
}

function parseWorkerFacts(json: string): FileFacts | undefined {
  try {
    return JSON.parse(json) as FileFacts;
  } catch {
    return undefined;
  }
}

/**
 * The compiled worker next to this module; when dmalint runs from its TypeScript sources (the
 * tests), the compiled copy under `dist/`. Without either, extraction stays in this thread.
 */
function workerScript(): string | undefined {
  const here = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.js');
  if (fs.existsSync(here)) return here;
  const built = path.join(packageRoot(), 'dist', 'src', 'facts', 'worker.js');
  return fs.existsSync(built) ? built : undefined;
}

/** Work is sent in batches of about this much text, three batches ahead per worker. */
const BATCH_BYTES = 48 * 1024;
const BATCH_FILES = 24;
const AHEAD = 3;

interface Batch {
  id: number;
  jobs: Job[];
}

/**
 * A fixed set of workers fed from one queue. Results arrive in any order and are delivered by
 * job, so the caller's ordering never depends on scheduling.
 */
class WorkerPool {
  private readonly workers: { worker: Worker; busy: number; exited: boolean; used: boolean }[] = [];
  private queue: Batch[] = [];
  private readonly pending = new Map<number, { batch: Batch; worker: number }>();
  private nextId = 0;
  private onDone?: (job: Job, json: string | null) => void;
  private settle?: { resolve: () => void; reject: (e: Error) => void };
  private failed?: Error;

  constructor(
    script: string,
    readonly size: number,
    setup: WorkerSetup,
    private readonly counters?: CacheCounters,
  ) {
    // Created at once, not after an await: the caller may keep this thread busy (reading files)
    // while the workers load.
    const { Worker: WorkerClass } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
    for (let i = 0; i < size; i++) {
      const worker = new WorkerClass(script, { workerData: setup });
      worker.on('message', (reply: WorkerReply) => this.receive(i, reply));
      worker.on('error', (e) => this.fail(new Error(`extraction worker failed: ${e.message}`)));
      const entry = { worker, busy: 0, exited: false, used: false };
      worker.on('exit', (code) => {
        entry.exited = true;
        if (!this.closing) this.fail(new Error(`extraction worker stopped (exit code ${code})`));
      });
      worker.unref();
      this.workers.push(entry);
    }
  }

  private closing = false;

  /**
   * Extracts `jobs` in the workers and, with `extractHere`, in this thread too, one batch at a
   * time between the workers' replies.
   */
  async run(jobs: Job[], onDone: (job: Job, json: string | null) => void, extractHere?: (job: Job) => void): Promise<void> {
    if (this.failed) throw this.failed;
    this.onDone = onDone;
    this.queue = batches(jobs, this.size + (extractHere ? 1 : 0), () => this.nextId++);
    const done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    for (const w of this.workers) w.worker.ref();
    this.feed();
    try {
      await Promise.all([done, extractHere ? this.workHere(extractHere) : undefined]);
    } finally {
      for (const w of this.workers) w.worker.unref();
      this.settle = undefined;
      this.onDone = undefined;
    }
  }

  private async workHere(extract: (job: Job) => void): Promise<void> {
    const budget = new ParseBudget();
    for (let batch = this.queue.shift(); batch && !this.failed; batch = this.queue.shift()) {
      try {
        for (const job of batch.jobs) {
          extract(job);
          if (budget.add(job.text.length)) await collectAndYield();
        }
      } catch (e) {
        this.fail(e as Error);
        throw e;
      }
      // Lets the workers' replies in: their facts are delivered and they get more work.
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.feed();
    }
  }

  private feed(): void {
    this.workers.forEach((w, i) => {
      while (w.busy < AHEAD && this.queue.length > 0) {
        const batch = this.queue.shift()!;
        this.pending.set(batch.id, { batch, worker: i });
        w.busy++;
        w.used = true;
        const task: WorkerTask = { id: batch.id, files: batch.jobs.map((j) => ({ key: j.key, text: j.text })) };
        w.worker.postMessage(task);
      }
    });
    if (this.queue.length === 0 && this.pending.size === 0) this.settle?.resolve();
  }

  private receive(worker: number, reply: WorkerReply): void {
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    this.workers[worker].busy--;
    if ('error' in reply) {
      this.fail(new Error(`extraction failed in a worker thread: ${reply.error}`));
      return;
    }
    if (this.counters) {
      this.counters.writes += reply.json.length - reply.writeErrors;
      this.counters.writeErrors += reply.writeErrors;
    }
    try {
      entry.batch.jobs.forEach((job, k) => this.onDone?.(job, reply.json[k]));
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.feed();
  }

  private fail(e: Error): void {
    if (this.failed) return;
    this.failed = e;
    this.queue = [];
    this.settle?.reject(e);
  }

  /**
   * Ends the workers between files. `terminate()` while a worker is inside the native parser
   * aborts the whole process, so it is only the fallback for a worker that does not stop, and
   * the way to end one that never got work (it may still be loading; it never parsed).
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            if (!w.used) return void w.worker.terminate().then(() => resolve(), () => resolve());
            const fallback = setTimeout(() => void w.worker.terminate().then(() => resolve(), () => resolve()), STOP_GRACE_MS);
            w.worker.once('exit', () => {
              clearTimeout(fallback);
              resolve();
            });
            w.worker.postMessage(STOP_MESSAGE);
          }),
      ),
    );
  }
}

/**
 * Cuts the jobs, in order, into batches small enough that the last ones even out the workers'
 * loads and large enough that messages stay few.
 */
/** How long a worker may take to finish its current batch after being asked to stop. */
const STOP_GRACE_MS = 30_000;

function batches(jobs: Job[], workers: number, nextId: () => number): Batch[] {
  const total = jobs.reduce((n, j) => n + j.text.length, 0);
  const target = Math.max(4 * 1024, Math.min(BATCH_BYTES, Math.ceil(total / (workers * 8))));
  const out: Batch[] = [];
  let cur: Job[] = [];
  let bytes = 0;
  for (const job of jobs) {
    cur.push(job);
    bytes += job.text.length;
    if (bytes >= target || cur.length >= BATCH_FILES) {
      out.push({ id: nextId(), jobs: cur });
      cur = [];
      bytes = 0;
    }
  }
  if (cur.length > 0) out.push({ id: nextId(), jobs: cur });
  return out;
}
