// `npm run bench`: dmalint against the parse-only floor and ast-grep, on a generated corpus of
// driver crates (and on any folder given, such as a kernel checkout).
//
//   npm run bench -- [--runs N] [--jobs N] [--dma-share F] [--large-crates N] [--min-files N] [--min-mb N] [--out FILE] [dir...]
//
// Every measured run is its own process, timed from spawn to exit. Runs are interleaved (each
// round runs every tool on every size, in a rotating order) so load from elsewhere on the
// machine spreads over all tools; the table shows medians.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { triggerMatcher, triggerNames } from '../src/lint/prescan.js';
import { defaultApi } from '../src/model/kernel-api.js';
import { buildCorpus, LARGE_CRATE_FILES, type CorpusManifest } from './corpus.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository: this file runs as dist/bench/run.js. */
const repo = path.resolve(here, '..', '..');
// Outside the repository: the corpus must not sit under a `.gitignore` that dmalint (and
// ast-grep) respect, or both would find nothing to check.
const outRoot = path.join(os.tmpdir(), 'dmalint-bench');

interface Options {
  runs: number;
  jobs: number;
  dmaShare: number;
  minFiles: number;
  minBytes: number;
  seed: number;
  largeCrates: number;
  out?: string;
  dirs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { runs: 5, jobs: os.availableParallelism(), dmaShare: 0.25, minFiles: 2000, minBytes: 10 * 1024 * 1024, seed: 20250701, largeCrates: 0, dirs: [] };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) fail(`${flag} takes a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Math.max(1, Math.round(num(a, argv[++i])));
    else if (a === '--jobs') o.jobs = Math.max(1, Math.round(num(a, argv[++i])));
    else if (a === '--dma-share') o.dmaShare = Math.min(1, num(a, argv[++i]));
    else if (a === '--min-files') o.minFiles = Math.round(num(a, argv[++i]));
    else if (a === '--min-mb') o.minBytes = Math.round(num(a, argv[++i]) * 1024 * 1024);
    else if (a === '--large-crates') o.largeCrates = Math.round(num(a, argv[++i]));
    else if (a === '--seed') o.seed = Math.round(num(a, argv[++i]));
    else if (a === '--out') o.out = argv[++i] ?? fail('--out takes a file');
    else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else if (!fs.existsSync(a) || !fs.statSync(a).isDirectory()) fail(`${a}: not a folder`);
    else o.dirs.push(path.resolve(a));
  }
  return o;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

type Tool = 'parse-only' | 'dmalint cold' | 'dmalint warm' | 'ast-grep';
const TOOLS: Tool[] = ['parse-only', 'dmalint cold', 'dmalint warm', 'ast-grep'];

interface Sample {
  seconds: number;
  rssMb?: number;
  /** User plus system CPU time of the process and its threads. */
  cpuSeconds?: number;
}

const node = process.execPath;
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
const parseOnly = path.join(repo, 'dist', 'bench', 'parse-only.js');
const astGrep = path.join(repo, 'node_modules', '.bin', 'ast-grep');
const sgConfig = path.join(repo, 'bench', 'ast-grep', 'sgconfig.yml');
const timeBin = ['/usr/bin/time', '/bin/time'].find((p) => fs.existsSync(p));

function command(tool: Tool, dir: string, jobs: number, cacheDir: string): string[] {
  switch (tool) {
    case 'parse-only':
      return [node, parseOnly, '--jobs', String(jobs), dir];
    case 'dmalint cold':
      return [node, cli, 'check', dir, '--no-cache', '--jobs', String(jobs), '--format', 'json', '--exit-zero'];
    case 'dmalint warm':
      return [node, cli, 'check', dir, '--cache-dir', cacheDir, '--jobs', String(jobs), '--format', 'json', '--exit-zero'];
    case 'ast-grep':
      return [astGrep, 'scan', '--config', sgConfig, '--threads', String(jobs), '--report-style', 'short', dir];
  }
}

/** Runs one command as a child process: wall time from spawn to exit, peak RSS, output. */
function measure(argv: string[]): Sample & { stdout: string } {
  const rssFile = path.join(outRoot, `rss-${process.pid}.txt`);
  fs.rmSync(rssFile, { force: true });
  const full = timeBin ? [timeBin, '-f', '%M %U %S', '-o', rssFile, ...argv] : argv;
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  const start = process.hrtime.bigint();
  const r = spawnSync(full[0], full.slice(1), { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.error) fail(`cannot run ${argv[0]}: ${r.error.message}`);
  // ast-grep exits 1 when its rules match; anything else non-zero is a failure.
  if (r.status !== 0 && !(argv[0] === astGrep && r.status === 1)) fail(`${argv.join(' ')} exited with ${r.status}:\n${r.stderr}`);
  let rssMb: number | undefined;
  let cpuSeconds: number | undefined;
  if (timeBin) {
    const [kb, user, sys] = (fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (Number.isFinite(kb)) rssMb = kb / 1024;
    if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
  }
  return { seconds, rssMb, cpuSeconds, stdout: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Target {
  label: string;
  dir: string;
}

/** Checks, once per target, that cached and uncached runs report the same and ast-grep matches something. */
function sanityCheck(target: Target, jobs: number, cacheDir: string): string[] {
  const notes: string[] = [];
  const cold = JSON.parse(measure(command('dmalint cold', target.dir, jobs, cacheDir)).stdout) as { findings: unknown[] };
  measure(command('dmalint warm', target.dir, jobs, cacheDir)); // fills the cache
  const warm = JSON.parse(measure(command('dmalint warm', target.dir, jobs, cacheDir)).stdout) as { findings: unknown[] };
  if (JSON.stringify(cold.findings) !== JSON.stringify(warm.findings)) fail(`${target.label}: warm and cold runs report different findings`);
  const sg = measure(command('ast-grep', target.dir, jobs, cacheDir)).stdout.split('\n').filter((l) => /error\[/.test(l)).length;
  // Which files ast-grep looks at (it skips ignored and hidden files; dmalint does not).
  const everyFile = 'id: every-file\nlanguage: Rust\nrule:\n  kind: source_file\n';
  const sgFiles = measure([astGrep, 'scan', '--inline-rules', everyFile, '--report-style', 'short', target.dir]).stdout.split('\n').filter((l) => l.includes('every-file')).length;
  const checked = (cold as { summary?: { filesChecked?: number } }).summary?.filesChecked;
  notes.push(`${target.label}: dmalint reports ${cold.findings.length} findings (identical cold and warm) in ${checked ?? '?'} files; ast-grep reports ${sg} matches in ${sgFiles} files.`);
  return notes;
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.availableParallelism()} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${sha} (with uncommitted changes)` : sha;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function astGrepVersion(): string {
  try {
    return execFileSync(astGrep, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'ast-grep (version unknown)';
  }
}

function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  for (const [what, file] of [['dmalint build', cli], ['parse-only build', parseOnly], ['ast-grep (npm install)', astGrep]] as const) {
    if (!fs.existsSync(file)) fail(`${what} missing: ${file}`);
  }
  fs.mkdirSync(outRoot, { recursive: true });
  const api = defaultApi();
  const mentionsDma = triggerMatcher(triggerNames(api));
  const apiNames = new Set(Object.values(api).flatMap((v) => (v instanceof Set ? [...v] : v instanceof Map ? [...v.keys()] : [])).filter((x): x is string => typeof x === 'string'));
  const corpusDir = path.join(outRoot, 'corpus');
  const t0 = performance.now();
  const manifest: CorpusManifest = buildCorpus(
    { fixtures: path.join(repo, 'fixtures'), outDir: corpusDir, dmaShare: o.dmaShare, minFiles: o.minFiles, minBytes: o.minBytes, shards: 4, seed: o.seed, mentionsDma, largeCrates: o.largeCrates },
    apiNames,
  );
  process.stderr.write(`corpus: ${manifest.files} files, ${(manifest.bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  const targets: Target[] = [
    { label: 'corpus/4', dir: manifest.shards[0] },
    { label: 'corpus', dir: corpusDir },
    ...o.dirs.map((d) => ({ label: path.basename(d), dir: d })),
  ];
  const cacheDirs = new Map(targets.map((t, i) => [t.label, path.join(outRoot, `cache-${i}`)]));
  for (const dir of cacheDirs.values()) fs.rmSync(dir, { recursive: true, force: true });

  const notes: string[] = [];
  for (const t of targets) {
    process.stderr.write(`warm-up and sanity check: ${t.label}\n`);
    notes.push(...sanityCheck(t, o.jobs, cacheDirs.get(t.label)!));
  }

  const loadBefore = os.loadavg()[0];
  const samples = new Map<string, Sample[]>();
  for (let round = 0; round < o.runs; round++) {
    for (const t of targets) {
      for (let k = 0; k < TOOLS.length; k++) {
        const tool = TOOLS[(k + round) % TOOLS.length];
        const s = measure(command(tool, t.dir, o.jobs, cacheDirs.get(t.label)!));
        const key = `${t.label}|${tool}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key)!.push({ seconds: s.seconds, rssMb: s.rssMb, cpuSeconds: s.cpuSeconds });
      }
    }
    process.stderr.write(`round ${round + 1}/${o.runs} done\n`);
  }

  const med = (label: string, tool: Tool) => median(samples.get(`${label}|${tool}`)!.map((s) => s.seconds));
  const peak = (label: string, tool: Tool) => {
    const xs = samples.get(`${label}|${tool}`)!.map((s) => s.rssMb).filter((x): x is number => x !== undefined);
    return xs.length ? Math.max(...xs) : undefined;
  };
  const cpu = (label: string, tool: Tool) => {
    const xs = samples.get(`${label}|${tool}`)!.map((s) => s.cpuSeconds).filter((x): x is number => x !== undefined);
    return xs.length ? median(xs) : undefined;
  };
  const range = (label: string, tool: Tool) => {
    const xs = samples.get(`${label}|${tool}`)!.map((s) => s.seconds);
    return `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`;
  };

  const lines: string[] = [];
  lines.push(`Date: ${new Date().toISOString().slice(0, 10)}  `);
  lines.push(`Machine: ${machine()}  `);
  lines.push(`Commit: ${commit()}  `);
  lines.push(`Peer: ${astGrepVersion()}, 3 rules (bench/ast-grep/rules)  `);
  lines.push(`Settings: ${o.jobs} threads for every tool, ${o.runs} interleaved rounds after one warm-up, median wall time per process (spawn to exit), CPU time and peak RSS${timeBin ? ' from GNU time, peak RSS the largest of the rounds' : ' not measured (no /usr/bin/time)'}; 1-minute load average ${loadBefore.toFixed(1)} before the rounds and ${os.loadavg()[0].toFixed(1)} after.  `);
  lines.push(`Corpus: ${manifest.files} files, ${(manifest.bytes / 2 ** 20).toFixed(1)} MiB, ${manifest.crates} crates from ${manifest.fixtureCases} fixture cases (digest ${manifest.digest}); ${manifest.dmaFiles} files (${pct(manifest.dmaFiles, manifest.files)}) and ${pct(manifest.dmaBytes, manifest.bytes)} of the bytes in ${manifest.dmaCrates} crates that name DMA APIs (--dma-share ${o.dmaShare}${o.largeCrates ? `, --large-crates ${o.largeCrates}: ${o.largeCrates} of them with ${LARGE_CRATE_FILES} files` : ''}). corpus/4 is one of its four shards.`);
  lines.push('');
  lines.push('| target | tool | median wall s | min–max wall s | median CPU s | peak RSS MB |');
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const t of targets) for (const tool of TOOLS) lines.push(`| ${t.label} | ${tool} | ${fmt(med(t.label, tool))} | ${range(t.label, tool)} | ${fmt(cpu(t.label, tool))} | ${fmt(peak(t.label, tool), 0)} |`);
  lines.push('');
  lines.push('| ratio (corpus) | value | target | |');
  lines.push('|---|---:|---:|---|');
  const full = 'corpus';
  const quarter = 'corpus/4';
  const check = (label: string, value: number | undefined, limit: number) => lines.push(`| ${label} | ${fmt(value)} | ≤ ${limit} | ${value !== undefined && value <= limit ? 'met' : '**not met**'} |`);
  // A folder where every crate uses the DMA API must all be extracted and analyzed: its target is looser.
  check('cold / parse-only', med(full, 'dmalint cold') / med(full, 'parse-only'), o.dmaShare >= 1 ? 1.5 : 1.3);
  check('cold / ast-grep', med(full, 'dmalint cold') / med(full, 'ast-grep'), 1.0);
  check('warm / cold', med(full, 'dmalint warm') / med(full, 'dmalint cold'), 0.15);
  const rss = Math.max(peak(full, 'dmalint cold') ?? NaN, peak(full, 'dmalint warm') ?? NaN);
  check('peak RSS of dmalint, MB', Number.isFinite(rss) ? rss : undefined, 400);
  check('growth, cold: full / quarter', med(full, 'dmalint cold') / med(quarter, 'dmalint cold'), 4.4);
  check('growth, warm: full / quarter', med(full, 'dmalint warm') / med(quarter, 'dmalint warm'), 4.4);
  lines.push('');
  const cpuRatio = (a: Tool, b: Tool) => (cpu(full, a) ?? NaN) / (cpu(full, b) ?? NaN);
  lines.push(`The same ratios in CPU time (user + system, all threads; less sensitive to other load on the machine): cold / parse-only ${fmt(cpuRatio('dmalint cold', 'parse-only'))}, cold / ast-grep ${fmt(cpuRatio('dmalint cold', 'ast-grep'))}, warm / cold ${fmt(cpuRatio('dmalint warm', 'dmalint cold'))}.`);
  lines.push('');
  lines.push(`Growth of the others, full / quarter: parse-only ${fmt(med(full, 'parse-only') / med(quarter, 'parse-only'))}, ast-grep ${fmt(med(full, 'ast-grep') / med(quarter, 'ast-grep'))}.`);
  for (const t of targets.slice(2)) {
    lines.push(`${t.label}: cold / parse-only ${fmt(med(t.label, 'dmalint cold') / med(t.label, 'parse-only'))}, cold / ast-grep ${fmt(med(t.label, 'dmalint cold') / med(t.label, 'ast-grep'))}, warm / cold ${fmt(med(t.label, 'dmalint warm') / med(t.label, 'dmalint cold'))}.`);
  }
  lines.push('');
  for (const n of notes) lines.push(`- ${n}`);
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (o.out) fs.writeFileSync(o.out, text);
}

function pct(a: number, b: number): string {
  return `${((100 * a) / Math.max(1, b)).toFixed(1)}%`;
}

main();
