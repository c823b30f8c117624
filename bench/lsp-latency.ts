// `npm run bench:lsp`: how long the language server takes from a `didChange` to the
// `publishDiagnostics` of that document version, in a 3,000-line and a 12,000-line driver file.
// The server is the real `dmalint lsp --stdio` process; the time includes JSON-RPC both ways,
// the incremental reparse, the fact update and the crate's analysis. The server's own account
// of each change (`$/logTrace` at trace level `verbose`) splits the time into the fact update
// and the analysis.
//
//   npm run bench:lsp -- [--edits N] [--lines N] [--json FILE] [--cli OTHER/dist/src/cli/main.js]
//
// Scenarios, each at places spread over the file:
// - a letter typed inside a function body and deleted, then a newline (which moves every item
//   below it), each change waiting for the diagnostics of the one before;
// - typing: a 47-character line typed one key every 30 ms near the end of the file, as a client
//   without debounce sends it, without waiting for anything: how long after the last key its
//   diagnostics arrive, and how far behind its key the most delayed published version was;
// - an unbalanced delimiter: `(` typed right after the `}` that closes a method, and deleted.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogTraceNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type Position,
} from 'vscode-languageserver-protocol/node.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository: this file runs as dist/bench/lsp-latency.js. */
const repo = path.resolve(here, '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');

interface Options {
  /** Another build's CLI to measure instead, to compare builds side by side. */
  cli: string;
  edits?: number;
  lines: number[];
  json?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { cli, lines: [3000, 12000] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--edits' || flag === '--lines') {
      const n = Number(value);
      if (!Number.isInteger(n) || n <= 0) fail(`${flag} takes a whole number`);
      if (flag === '--edits') o.edits = n;
      else o.lines = [n];
      i++;
    } else if (flag === '--cli') {
      if (!value) fail('--cli takes the path of a built dist/src/cli/main.js');
      o.cli = path.resolve(value);
      i++;
    } else if (flag === '--json') {
      if (!value) fail('--json takes a file name');
      o.json = value;
      i++;
    } else fail(`unknown option ${flag}`);
  }
  return o;
}

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

/** A seeded source of numbers, so every run edits the same places. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEAD = `// SPDX-License-Identifier: GPL-2.0
//! A network driver, grown to benchmark size with register helpers.

use kernel::dma::CoherentAllocation;
use kernel::prelude::*;
use kernel::{device::Core, devres::Devres, pci};

const RING_BASE: usize = 0x10;
const CTRL: usize = 0x00;

#[pin_data]
struct Nic {
    ring: CoherentAllocation<u64>,
    bar: Devres<pci::Bar<0x1000>>,
    stats: [u64; 16],
}

impl pci::Driver for Nic {
    type IdInfo = ();

    fn probe(pdev: &pci::Device<Core>, _info: &Self::IdInfo) -> Result<Pin<KBox<Self>>> {
        let ring = CoherentAllocation::<u64>::alloc_coherent(pdev.as_ref(), 64, GFP_KERNEL)?;
        let bar = pdev.iomap_region_sized::<0x1000>(0, c_str!("nic"))?;
        if let Ok(b) = bar.access(pdev.as_ref()) {
            b.write64(ring.dma_handle(), RING_BASE);
            b.write32(1, CTRL);
        }
        KBox::pin(Nic { ring, bar, stats: [0; 16] }, GFP_KERNEL)
    }
}
`;

/** Methods of a few shapes (register reads, state machines, loops over the ring), or a free function. */
function helper(i: number, rnd: () => number): { method: boolean; text: string } {
  const reg = `0x${(0x40 + 4 * (i % 64)).toString(16)}`;
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return {
        method: true,
        text: `
    /// Reads counter ${i} and folds it into the statistics.
    fn read_counter_${i}(&mut self, pdev: &pci::Device<Core>) -> Result<u64> {
        let bar = self.bar.access(pdev.as_ref())?;
        let value = bar.read32(${reg}) as u64;
        self.stats[${i % 16}] = self.stats[${i % 16}].wrapping_add(value);
        Ok(value)
    }
`,
      };
    case 1:
      return {
        method: true,
        text: `
    fn link_state_${i}(&self, pdev: &pci::Device<Core>) -> Result<u32> {
        let bar = self.bar.access(pdev.as_ref())?;
        let status = bar.read32(${reg});
        let state = match status & 0x3 {
            0 => 10,
            1 => 100,
            2 => 1000,
            _ => return Err(EIO),
        };
        if status & 0x80 != 0 {
            pr_info!("link ${i} up at {} Mb/s\\n", state);
        }
        Ok(state)
    }
`,
      };
    case 2:
      return {
        method: true,
        text: `
    fn ring_sum_${i}(&self, start: usize, count: usize) -> u64 {
        let mut total = 0u64;
        for k in start..start + count {
            let slot = k % 64;
            total = total.wrapping_add((slot as u64) << ${i % 8});
            if total > ${1000 + i} {
                total -= ${i + 1};
            }
        }
        total
    }
`,
      };
    default:
      return {
        method: false,
        text: `
fn decode_${i}(word: u32) -> (u16, u16) {
    let high = (word >> 16) as u16;
    let low = (word & 0xffff) as u16;
    if high == ${i % 1000} {
        (low, high)
    } else {
        (high, low)
    }
}
`,
      };
  }
}

/** Methods in impl blocks of about 250 lines, as drivers grow them, with free functions between. */
export function driverText(lines: number): string {
  const rnd = random(3000);
  let text = HEAD;
  let block: string[] = [];
  const flush = () => {
    if (block.length > 0) text += `\nimpl Nic {${block.join('')}}\n`;
    block = [];
  };
  for (let i = 0; text.split('\n').length + block.join('').split('\n').length < lines; i++) {
    const h = helper(i, rnd);
    if (h.method) block.push(h.text);
    else text += h.text;
    if (block.length >= 20) flush();
  }
  flush();
  return text;
}

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

/** Offsets just after `let ` in function bodies: typing there makes a new name, not a syntax error. */
function editPoints(text: string, count: number): number[] {
  const all: number[] = [];
  for (let i = text.indexOf('        let '); i !== -1; i = text.indexOf('        let ', i + 1)) all.push(i + '        let '.length);
  const rnd = random(7);
  return Array.from({ length: count }, () => all[Math.floor(rnd() * all.length)]);
}

interface Stats {
  scenario: string;
  edits: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(scenario: string, ms: number[]): Stats {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return { scenario, edits: ms.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1], mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

/** Offsets right after the `}` that closes a method: a `(` there leaves a delimiter open. */
function methodEnds(text: string, count: number): number[] {
  const all: number[] = [];
  for (let i = text.indexOf('\n    }\n'); i !== -1; i = text.indexOf('\n    }\n', i + 1)) all.push(i + '\n    }'.length);
  const rnd = random(11);
  return Array.from({ length: count }, () => all[Math.floor(rnd() * all.length)]);
}

/** The typed line: 47 characters after its newline, a statement like any in the file. */
const TYPED_LINE = '\n        let folds = total.wrapping_mul(31) ^ 5;';
const KEY_INTERVAL_MS = 30;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

interface TypingRun {
  /** From the last key to the diagnostics of its version. */
  lastMs: number;
  /** The most a published version was behind its key. */
  worstBehindMs: number;
  /** Versions published of those typed. */
  published: number;
}

interface SizeResult {
  lines: number;
  kib: number;
  openMs: number;
  results: Stats[];
  parts: Stats[];
  typing: { runs: TypingRun[]; last: Stats; behind: Stats };
}

async function benchmarkSize(serverCli: string, lines: number, edits: number): Promise<SizeResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-lsp-bench-'));
  const file = path.join(dir, 'nic.rs');
  let text = driverText(lines);
  fs.writeFileSync(file, text);
  const uri = pathToFileURL(file).href;

  const server = spawn(process.execPath, [serverCli, 'lsp', '--stdio'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
  const waiting = new Map<number, (t: number) => void>();
  const publishedAt = new Map<number, number>();
  let lastTrace = { factsMs: NaN, analysisMs: NaN };
  const traces = new Map<number, { factsMs: number; analysisMs: number }>();
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    const now = performance.now();
    if (p.uri !== uri || p.version === undefined) return;
    publishedAt.set(p.version, now);
    traces.set(p.version, lastTrace);
    waiting.get(p.version)?.(now);
  });
  conn.onNotification(LogTraceNotification.type, (p) => {
    const m = /facts ([\d.]+) ms, analysis ([\d.]+) ms/.exec(p.verbose ?? '');
    if (m) lastTrace = { factsMs: Number(m[1]), analysisMs: Number(m[2]) };
  });
  conn.listen();
  await conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(dir).href,
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'bench' }],
    capabilities: { textDocument: { publishDiagnostics: { versionSupport: true, relatedInformation: true } } },
    trace: 'verbose',
  });
  await conn.sendNotification(InitializedNotification.type, {});

  let version = 1;
  const published = (v: number) => new Promise<number>((resolve) => waiting.set(v, resolve));
  const opened = published(version);
  const openStart = performance.now();
  await conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'rust', version, text } });
  const openMs = (await opened) - openStart;

  const factsMs: number[] = [];
  const analysisMs: number[] = [];
  /** Applies one change here and sends it; returns its version. */
  const send = (offset: number, remove: number, insert: string): number => {
    version++;
    const range = { start: positionAt(text, offset), end: positionAt(text, offset + remove) };
    text = text.slice(0, offset) + insert + text.slice(offset + remove);
    void conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges: [{ range, text: insert }] });
    return version;
  };
  /** Sends one change and returns the milliseconds until its diagnostics arrive. */
  const edit = async (offset: number, remove: number, insert: string): Promise<number> => {
    const done = published(version + 1);
    const start = performance.now();
    const v = send(offset, remove, insert);
    const ms = (await done) - start;
    waiting.delete(v);
    const trace = traces.get(v);
    if (trace) {
      factsMs.push(trace.factsMs);
      analysisMs.push(trace.analysisMs);
    }
    return ms;
  };

  const run = async (insert: string, points: number[]): Promise<number[]> => {
    const out: number[] = [];
    for (const at of points) {
      out.push(await edit(at, 0, insert)); // type it
      out.push(await edit(at, insert.length, '')); // and take it out
    }
    return out;
  };

  /** Types TYPED_LINE key by key before the last method's end, then takes it out again. */
  const typeLine = async (): Promise<TypingRun> => {
    const at = text.lastIndexOf('\n    }\n');
    const keys: { version: number; at: number }[] = [];
    const start = performance.now();
    for (let i = 0; i < TYPED_LINE.length; i++) {
      await sleep(start + i * KEY_INTERVAL_MS - performance.now());
      keys.push({ version: send(at + i, 0, TYPED_LINE[i]), at: performance.now() });
    }
    const last = keys[keys.length - 1];
    const lastDone = publishedAt.has(last.version) ? publishedAt.get(last.version)! : await published(last.version);
    const behind = keys.filter((k) => publishedAt.has(k.version)).map((k) => publishedAt.get(k.version)! - k.at);
    await edit(at, TYPED_LINE.length, '');
    return { lastMs: lastDone - last.at, worstBehindMs: Math.max(...behind), published: behind.length };
  };

  const half = Math.max(1, Math.floor(edits / 4));
  await run('q', editPoints(text, 20)); // warm up the JIT
  factsMs.length = 0;
  analysisMs.length = 0;
  const letters = await run('q', editPoints(text, half));
  const newlines = await run('\n', editPoints(text, half));
  const parts = [stats('  of which: reparse + facts', factsMs.filter(Number.isFinite)), stats('  of which: crate analysis', analysisMs.filter(Number.isFinite))];
  const unbalanced = await run('(', methodEnds(text, Math.max(1, Math.floor(half / 4))));
  const typingRuns: TypingRun[] = [];
  for (let i = 0; i < 5; i++) typingRuns.push(await typeLine());
  const results = [
    stats('letter typed and deleted', letters),
    stats('newline typed and deleted', newlines),
    stats('all single-character edits', [...letters, ...newlines]),
    stats('`(` after a `}`, and deleted', unbalanced),
  ];

  await conn.sendRequest(ShutdownRequest.type);
  await conn.sendNotification(ExitNotification.type);
  conn.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  return {
    lines: text.split('\n').length,
    kib: text.length / 1024,
    openMs,
    results,
    parts,
    typing: { runs: typingRuns, last: stats('typing: last key', typingRuns.map((r) => r.lastMs)), behind: stats('typing: most behind', typingRuns.map((r) => r.worstBehindMs)) },
  };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(options.cli)) fail(`${options.cli} is missing: run \`npm run build\` first`);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`dmalint lsp: didChange to publishDiagnostics (${path.relative(process.cwd(), options.cli) || options.cli})\n`);
  process.stdout.write(`machine: ${cpu}, ${os.availableParallelism()} CPUs, Node ${process.version}, load average ${os.loadavg()[0].toFixed(2)}\n`);
  const sizes: SizeResult[] = [];
  for (const lines of options.lines) {
    // The larger file gets fewer edits: each costs more, and the shape of the numbers is the same.
    const edits = options.edits ?? (lines > 6000 ? 100 : 300);
    const r = await benchmarkSize(options.cli, lines, edits);
    sizes.push(r);
    process.stdout.write(`\n${r.lines}-line file (${r.kib.toFixed(0)} KiB); open (first parse, extraction and analysis): ${r.openMs.toFixed(1)} ms\n\n`);
    const row = (cells: string[]) => `${cells[0].padEnd(30)}${cells.slice(1).map((c) => c.padStart(9)).join('')}\n`;
    process.stdout.write(row(['scenario', 'edits', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'mean ms']));
    for (const st of [...r.results, ...r.parts, r.typing.last, r.typing.behind]) process.stdout.write(row([st.scenario, String(st.edits), ...[st.p50, st.p95, st.p99, st.max, st.mean].map((n) => n.toFixed(2))]));
    process.stdout.write(`typing runs (last key ms / most behind ms / versions published of ${TYPED_LINE.length}): ${r.typing.runs.map((t) => `${t.lastMs.toFixed(0)}/${t.worstBehindMs.toFixed(0)}/${t.published}`).join(', ')}\n`);
  }
  process.stdout.write('\ntargets:\n');
  const check = (what: string, value: number | undefined, limit: number) => {
    if (value === undefined) return;
    process.stdout.write(`  ${what} <= ${limit} ms: ${value <= limit ? 'met' : 'NOT met'} (${value.toFixed(2)} ms)\n`);
  };
  const small = sizes.find((r) => r.lines <= 6000);
  const large = sizes.find((r) => r.lines > 6000);
  check('single-character edits p95, 3,000 lines', small?.results[2].p95, 15);
  check('typing: last key to its diagnostics (median), 3,000 lines', small?.typing.last.p50, 150);
  check('typing: most behind a key (max), 3,000 lines', small?.typing.behind.max, 300);
  check('unbalanced delimiter p95, 3,000 lines', small?.results[3].p95, 50);
  check('single-character edits p95, 12,000 lines', large?.results[2].p95, 50);
  if (options.json) fs.writeFileSync(options.json, JSON.stringify({ cpu, node: process.version, sizes }, null, 2) + '\n');
}

// Run only as a script, so other benchmarks can reuse driverText.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
}
