// The floor of the benchmark: find and read the `.rs` files as dmalint does, then parse each
// once with tree-sitter (dmalint's parser module, same grammar and buffer size) in the same
// number of worker threads, and nothing else.
//
//   node dist/bench/parse-only.js [--jobs N] <dir>...
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { discoverFiles } from '../src/lint/discover.js';
import { parseRust } from '../src/syntax/parser.js';

const BATCH_BYTES = 48 * 1024;

if (!isMainThread) {
  parentPort!.on('message', (texts: string[]) => {
    let nodes = 0;
    for (const t of texts) nodes += parseRust(t).rootNode.namedChildCount;
    parentPort!.postMessage(nodes);
  });
} else {
  await main(process.argv.slice(2));
}

async function main(args: string[]): Promise<void> {
  let jobs = os.availableParallelism();
  const dirs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--jobs') jobs = Number(args[++i]);
    else dirs.push(args[i]);
  }
  const files = discoverFiles(dirs.map((d) => path.resolve(d))).files;
  const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
  let nodes = 0;
  if (jobs <= 1) {
    for (const t of texts) nodes += parseRust(t).rootNode.namedChildCount;
  } else {
    nodes = await parseInWorkers(texts, jobs);
  }
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  process.stdout.write(`${texts.length} files, ${bytes} bytes, ${nodes} top-level items\n`);
}

async function parseInWorkers(texts: string[], jobs: number): Promise<number> {
  const batches: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const t of texts) {
    cur.push(t);
    size += t.length;
    if (size >= BATCH_BYTES) {
      batches.push(cur);
      cur = [];
      size = 0;
    }
  }
  if (cur.length > 0) batches.push(cur);
  const script = fileURLToPath(import.meta.url);
  let nodes = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, batches.length) }, () => {
      const worker = new Worker(script);
      return new Promise<void>((resolve, reject) => {
        let inFlight = 0;
        const send = () => {
          const batch = batches.shift();
          if (!batch) return;
          inFlight++;
          worker.postMessage(batch);
        };
        worker.on('message', (n: number) => {
          nodes += n;
          inFlight--;
          send();
          if (inFlight === 0) void worker.terminate().then(() => resolve());
        });
        worker.on('error', reject);
        // Two batches ahead, as dmalint's pool does, so a worker never waits for the next.
        send();
        send();
        if (inFlight === 0) void worker.terminate().then(() => resolve());
      });
    }),
  );
  return nodes;
}
