// `npm run bench:growth`: how the time and memory of linting one generated driver file grow with
// its size. Each size is linted by its own process (no cache, JSON report); rounds are
// interleaved so that load from elsewhere spreads over all sizes; the table shows medians and the
// ratio of each size's CPU time to the previous one (2.0 when doubling the input doubles it).
//
//   npm run bench:growth -- [--runs N] [--jobs N] [--sizes 1,2,4,8] [--shape driver|match|modules] [--timeout S] [--out FILE]
//
// Shapes: `driver` is the generator behind the 2 MB test (a struct and an impl per ring, each
// allocating); `match` is one function whose `match` has an allocating arm per unit; `modules`
// is a module per unit, each with a type that allocates.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository: this file runs as dist/bench/growth.js. */
const repo = path.resolve(here, '..', '..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const timeBin = ['/usr/bin/time', '/bin/time'].find((p) => fs.existsSync(p));

type Shape = 'driver' | 'match' | 'modules';

interface Options {
  runs: number;
  jobs: number;
  sizesMb: number[];
  shape: Shape;
  timeoutSeconds: number;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 3, jobs: 1, sizesMb: [1, 2, 4, 8], shape: 'driver', timeoutSeconds: 900 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = argv[++i];
    if (value === undefined) fail(`${a} takes a value`);
    if (a === '--runs') o.runs = Math.max(1, Math.round(Number(value)) || 1);
    else if (a === '--jobs') o.jobs = Math.max(1, Math.round(Number(value)) || 1);
    else if (a === '--sizes') o.sizesMb = value.split(',').map(Number).filter((n) => n > 0);
    else if (a === '--shape' && ['driver', 'match', 'modules'].includes(value)) o.shape = value as Shape;
    else if (a === '--timeout') o.timeoutSeconds = Math.max(1, Number(value) || 1);
    else if (a === '--out') o.out = value;
    else fail(`unknown option ${a} ${value}`);
  }
  if (o.sizesMb.length === 0) fail('--sizes takes sizes in MB, such as 1,2,4,8');
  return o;
}

function fail(message: string): never {
  process.stderr.write(`bench:growth: ${message}\n`);
  process.exit(2);
}

const HEADER = '// SPDX-License-Identifier: GPL-2.0\nuse kernel::dma::CoherentAllocation;\nuse kernel::prelude::*;\n';

/** Units of `unit(i)` after a header until the text has `bytes` bytes, plus a closing text. */
function repeatUnits(bytes: number, head: string, unit: (i: number) => string, tail = ''): string {
  const parts = [head];
  let length = head.length + tail.length;
  for (let i = 0; length < bytes; i++) {
    const u = unit(i);
    parts.push(u);
    length += u.length;
  }
  parts.push(tail);
  return parts.join('');
}

async function generate(shape: Shape, bytes: number): Promise<string> {
  switch (shape) {
    case 'driver': {
      const core = (await import(pathToFileURL(path.join(repo, 'scripts', 'fuzz-core.mjs')).href)) as { generatedDriver(bytes: number): string };
      return core.generatedDriver(bytes);
    }
    case 'match':
      return repeatUnits(
        bytes,
        `${HEADER}${WORK_HEADER}\nstruct Refill {\n    dev: ARef<Device>,\n    which: u32,\n}\n\nimpl WorkItem for Refill {\n    type Pointer = Arc<Refill>;\n\n    fn run(this: Arc<Refill>) {\n        match this.which {\n`,
        (i) => `            ${i} => {\n                let _ring = CoherentAllocation::<u64>::alloc_coherent(&this.dev, ${i + 1}, GFP_KERNEL);\n            }\n`,
        '            _ => {}\n        }\n    }\n}\n',
      );
    case 'modules':
      return repeatUnits(
        bytes,
        `${HEADER}${WORK_HEADER}`,
        (i) =>
          `mod m${i} {\n    use super::*;\n    pub struct Refill${i} {\n        dev: ARef<Device>,\n    }\n    impl WorkItem for Refill${i} {\n        type Pointer = Arc<Refill${i}>;\n` +
          `        fn run(this: Arc<Refill${i}>) {\n            let _ring = CoherentAllocation::<u64>::alloc_coherent(&this.dev, 64, GFP_KERNEL);\n        }\n    }\n}\n\n`,
      );
  }
}

/** What the `match` and `modules` shapes need besides the header: a work item allocates outside probe. */
const WORK_HEADER = 'use kernel::sync::Arc;\nuse kernel::workqueue::{Work, WorkItem};\nuse kernel::{device::Device, types::ARef};\n';

interface Sample {
  seconds: number;
  /** User plus system time: on a loaded machine it varies much less than wall time. */
  cpuSeconds?: number;
  rssMb?: number;
  timedOut: boolean;
  findings?: number;
}

function measure(file: string, o: Options): Sample {
  const rssFile = path.join(os.tmpdir(), `dmalint-growth-rss-${process.pid}.txt`);
  fs.rmSync(rssFile, { force: true });
  const argv = [process.execPath, cli, 'check', file, '--no-cache', '--jobs', String(o.jobs), '--format', 'json', '--exit-zero'];
  const full = timeBin ? [timeBin, '-f', '%M %U %S', '-o', rssFile, ...argv] : argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { encoding: 'utf8', maxBuffer: 1 << 30, timeout: o.timeoutSeconds * 1000, env: { ...process.env, NO_COLOR: '1' } });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.signal) return { seconds, timedOut: true };
  if (r.status !== 0) fail(`${argv.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  const [kb, user, sys] = timeBin ? (fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number) : [NaN, NaN, NaN];
  const findings = (JSON.parse(r.stdout) as { findings: unknown[] }).findings.length;
  const cpuSeconds = Number.isFinite(user) && Number.isFinite(sys) ? user + sys : undefined;
  return { seconds, cpuSeconds, rssMb: Number.isFinite(kb) ? kb / 1024 : undefined, timedOut: false, findings };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(cli)) fail('build first (npm run build)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-growth-'));
  const loadBefore = os.loadavg()[0];
  try {
    const files = new Map<number, string>();
    for (const mb of o.sizesMb) {
      const file = path.join(dir, `${o.shape}-${mb}mb.rs`);
      fs.writeFileSync(file, await generate(o.shape, Math.round(mb * 1000 * 1000)));
      files.set(mb, file);
    }
    const samples = new Map<number, Sample[]>(o.sizesMb.map((mb) => [mb, []]));
    // A size that timed out once is not run again: its larger neighbours would only time out too.
    const gaveUp = new Set<number>();
    for (let round = 0; round < o.runs; round++) {
      const order = o.sizesMb.map((_, i) => o.sizesMb[(i + round) % o.sizesMb.length]);
      for (const mb of order) {
        if (gaveUp.has(mb)) continue;
        const s = measure(files.get(mb)!, o);
        samples.get(mb)!.push(s);
        if (s.timedOut) for (const bigger of o.sizesMb.filter((x) => x >= mb)) gaveUp.add(bigger);
        process.stderr.write(`round ${round + 1}: ${mb} MB ${s.timedOut ? `timed out after ${o.timeoutSeconds} s` : `${s.seconds.toFixed(1)} s (CPU ${s.cpuSeconds?.toFixed(1) ?? '?'} s), ${s.rssMb?.toFixed(0) ?? '?'} MB`}\n`);
      }
    }
    const lines = [
      `Shape \`${o.shape}\`, ${o.jobs} thread(s), no cache, JSON report; ${o.runs} interleaved rounds, median wall time per process; peak RSS the largest of the rounds${timeBin ? '' : ' (not measured: no /usr/bin/time)'}. Load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after.`,
      '',
      '| size MB | bytes | median wall s | min–max wall s | median CPU s | CPU ratio to previous size | CPU s per MB | peak RSS MB | findings |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    let previous: { mb: number; cpu: number } | undefined;
    for (const mb of o.sizesMb) {
      const done = samples.get(mb)!.filter((s) => !s.timedOut);
      const bytes = fs.statSync(files.get(mb)!).size;
      if (done.length === 0) {
        lines.push(`| ${mb} | ${bytes} | over ${o.timeoutSeconds} | | | | | | |`);
        previous = undefined;
        continue;
      }
      const secs = done.map((s) => s.seconds);
      const med = median(secs);
      const cpu = median(done.map((s) => s.cpuSeconds ?? NaN));
      const ratio = previous && Number.isFinite(cpu) ? `${(cpu / previous.cpu).toFixed(2)} (size ×${(mb / previous.mb).toFixed(1)})` : '';
      const rss = Math.max(...done.map((s) => s.rssMb ?? NaN));
      const show = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '?');
      lines.push(`| ${mb} | ${bytes} | ${med.toFixed(2)} | ${Math.min(...secs).toFixed(2)}–${Math.max(...secs).toFixed(2)} | ${show(cpu)} | ${ratio} | ${show(cpu / mb)} | ${show(rss, 0)} | ${done[0].findings} |`);
      previous = { mb, cpu };
    }
    const table = `${lines.join('\n')}\n`;
    process.stdout.write(table);
    if (o.out) fs.appendFileSync(o.out, `\n${table}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
