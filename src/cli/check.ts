// `dmalint check`: config, lint, report, exit code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { loadConfig, makePathFilter, findConfigFile } from '../config/load.js';
import { ConfigError, type DmalintConfig } from '../config/types.js';
import { allRuleMetas, RULES, suggestRule } from '../lint/registry.js';
import { CacheDirError } from '../facts/cache.js';
import { createFactsSource, jobLimit, type FactsSource } from '../facts/source.js';
import { hasUncheckedInput, joinSourceTexts, lintPaths, UsageError } from '../lint/run.js';
import type { Finding, FileNotice, LintResult, SourceTexts } from '../lint/types.js';
import { apiWithConfig } from '../model/kernel-api.js';
import { loadFormatter, loadGithubStepSummary } from '../report/load.js';
import type { FormatName, ReportInput } from '../report/types.js';
import { checkOutputPath, OutputError, writeOutputFile } from './output.js';
import { createProgress } from './progress.js';
import type { CiOptions } from '../ci/apply.js';
import type { DriverGraph } from '../lint/graphs.js';
import { repositoryRoot } from '../ci/git.js';
import { gitIgnoredMatcher } from '../ci/gitignore.js';
import { rustProjectCfgs } from '../ci/rust-project.js';

const require = createRequire(import.meta.url);

export interface CheckOptions extends CiOptions {
  format: FormatName;
  output?: string;
  rule?: string[];
  config?: string;
  maxWarnings?: number;
  quiet?: boolean;
  color: 'auto' | 'always' | 'never';
  exitZero?: boolean;
  includeSuppressed?: boolean;
  followSymlinks?: boolean;
  jobs?: number;
  cacheDir?: string;
  cache?: boolean;
  debug?: boolean;
  /** `--no-respect-gitignore`: false. */
  respectGitignore?: boolean;
  /** `--rust-project FILE`: the rust-project.json whose cfgs decide `#[cfg(CONFIG_..)]` items. */
  rustProject?: string;
  /** Print the resolved configuration and where each value came from, and lint nothing. */
  showSettings?: boolean;
  /** Print counts per rule instead of the findings. */
  statistics?: boolean;
  /** Read the source from standard input and report it as this file. */
  stdinFilename?: string;
  /** The folder report paths are relative to (default: the git top level for CI formats). */
  root?: string;
  /** `dmalint baseline`: write this baseline file instead of a report. */
  writeBaseline?: string;
}

/** Exit codes, as documented in the README. */
export const EXIT_OK = 0;
export const EXIT_FINDINGS = 1;
export const EXIT_ERROR = 2;

export async function runCheck(paths: string[], opts: CheckOptions): Promise<number> {
  const cwd = process.cwd();
  try {
    const only = selectRules(opts.rule);
    if (opts.showSettings) return await showSettings(paths, opts, cwd);
    if (opts.statistics && !['human', 'short', 'json'].includes(opts.format)) throw new UsageError(`--statistics prints counts in the human, short or json format, not ${opts.format}`);
    const stdin = await stdinInput(paths, opts);
    if (stdin && opts.diff === '-') throw new UsageError('--diff - and --stdin-filename both read standard input; give the diff as a file');
    const root = reportRoot(opts, cwd);
    if (opts.output) writable(opts.output, 'the report');
    if (opts.writeBaseline !== undefined) writable(opts.writeBaseline, 'the baseline');
    // Baselines and change sets load their code only when asked for.
    const usesCi = opts.baseline !== undefined || !!opts.updateBaseline || opts.diff !== undefined || opts.changedSince !== undefined || opts.writeBaseline !== undefined;
    const ciCode = usesCi ? await import('../ci/apply.js') : undefined;
    const ci = ciCode?.prepareCi(opts, cwd, stdin ? [stdin.name] : paths);
    const factsSource = await makeFactsSource(opts);
    const progress = createProgress(process.stderr, { quiet: opts.quiet });
    let merged: LintResult & { sources: SourceTexts };
    // Only the HTML report draws: the pictures' model is not built for other formats.
    const graphs = opts.format === 'html' ? ([] as DriverGraph[]) : undefined;
    try {
      const selection = { config: opts.config, only, followSymlinks: opts.followSymlinks, respectGitignore: opts.respectGitignore, rustProject: opts.rustProject, graphs };
      merged = stdin
        ? await stdin.code.lintStdin(stdin.name, stdin.code.readStdin(), cwd, selection, factsSource)
        : await lintSelection(paths, cwd, selection, factsSource, (done, total) => progress.update(done, total));
    } finally {
      progress.clear();
      await factsSource.close?.();
    }
    // A job pointed at the wrong folder must fail, not pass with nothing checked.
    if (merged.filesChecked === 0 && merged.notices.length === 0) throw new UsageError(noRustFiles(paths));
    if (opts.writeBaseline !== undefined) return writeBaseline(opts.writeBaseline, merged, only, cwd, ciCode!.writeNewBaseline);
    const outcome = ciCode && ci ? ciCode.applyCi(ci, { result: merged, sources: merged.sources, only }, cwd, writeOutputFile) : undefined;
    const result: LintResult = outcome?.result ?? merged;
    const reported = { ...result, sources: merged.sources };
    const shown = opts.quiet ? quietResult(reported) : reported;
    const formatReport = opts.statistics ? await loadStatistics(opts.format) : await loadFormatter(opts.format);
    const text = formatReport({
      result: shown,
      rules: allRuleMetas(),
      cwd,
      root,
      files: [...merged.sources.keys()],
      readSource: (file) => merged.sources.get(file) ?? readQuietly(path.resolve(cwd, file)),
      color: useColor(opts.color, !!opts.output),
      toolVersion: (require('../../../package.json') as { version: string }).version,
      includeSuppressed: opts.includeSuppressed,
      graphs,
    });
    // Baseline and diff notes follow the human report; they would break the other formats.
    const trailer = opts.quiet || !ciCode || !ci || !outcome ? '' : ciCode.ciTrailer(ci, outcome, cwd);
    const inReport = opts.format === 'human' || opts.format === 'short';
    if (opts.output) writeReport(opts.output, inReport ? text + trailer : text, merged.sources, cwd);
    else process.stdout.write(inReport ? text + trailer : text);
    if (!inReport && trailer) process.stderr.write(trailer);
    noteUncheckedInput(result.notices);
    if (opts.format === 'github' && process.env.GITHUB_STEP_SUMMARY) {
      const githubStepSummary = await loadGithubStepSummary();
      fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, githubStepSummary({
        result, rules: allRuleMetas(), cwd, root, readSource: (f) => merged.sources.get(f), color: false, toolVersion: '',
      }));
    }
    return exitCode(result, opts);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (opts.debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
}

/** Formats read by CI systems give paths relative to the repository, wherever dmalint ran. */
const ROOTED_FORMATS = new Set<FormatName>(['sarif', 'gitlab', 'github', 'junit']);

/** `--root`, else the git top level for CI formats, else the working folder. */
function reportRoot(opts: Pick<CheckOptions, 'root' | 'format'>, cwd: string): string {
  if (opts.root !== undefined) {
    const root = path.resolve(cwd, opts.root);
    if (!fs.statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`--root ${opts.root}: no such folder`);
    return root;
  }
  if (!ROOTED_FORMATS.has(opts.format)) return cwd;
  return repositoryRoot(cwd) ?? cwd;
}

export interface SelectionOptions {
  config?: string;
  only?: Set<string>;
  followSymlinks?: boolean;
  /** Skip files git ignores while walking folders (default: true). */
  respectGitignore?: boolean;
  /** rust-project.json to take each crate's cfgs from (default: the one at the top of the tree, if any). */
  rustProject?: string;
  /** Collects the lifecycle pictures of the linted drivers here, without findings marked. */
  graphs?: DriverGraph[];
}

/** Lints `paths` (relative to `cwd`), each group of them with the dmalint.toml that governs it. */
export async function lintSelection(
  paths: string[],
  cwd: string,
  opts: SelectionOptions,
  factsSource: FactsSource,
  onProgress?: (done: number, total: number) => void,
): Promise<LintResult & { sources: SourceTexts }> {
  const merged: LintResult & { sources: SourceTexts } = { findings: [], notices: [], filesChecked: 0, durationMs: 0, sources: joinSourceTexts([]) };
  const texts: SourceTexts[] = [];
  const started = performance.now();
  // Only walked folders are filtered: named files are always linted, and need no git call.
  const walks = paths.some((p) => fs.statSync(path.resolve(cwd, p), { throwIfNoEntry: false })?.isDirectory());
  const ignored = opts.respectGitignore === false || !walks ? undefined : gitIgnoredMatcher(cwd);
  const treeRoot = repositoryRoot(cwd) ?? cwd;
  const buildCfgs = rustProjectCfgs(treeRoot, opts.rustProject ? path.resolve(cwd, opts.rustProject) : undefined);
  for (const group of groupByConfig(paths, opts.config, cwd)) {
    const config = group.config;
    const configFilter = makePathFilter(config);
    const inputs = {
      paths: group.paths,
      cwd,
      api: apiWithConfig(config.api),
      filter: ignored ? (abs: string) => configFilter(abs) && !ignored(abs) : configFilter,
      followSymlinks: opts.followSymlinks,
      factsSource,
      buildCfgs,
    };
    const result = await lintPaths({ ...inputs, rules: RULES, levels: config.rules, only: opts.only, onProgress });
    merged.findings.push(...result.findings);
    merged.notices.push(...result.notices);
    merged.filesChecked += result.filesChecked;
    texts.push(result.sources);
    if (opts.graphs) opts.graphs.push(...(await (await import('../lint/graphs.js')).driverGraphsForPaths(inputs, [])));
  }
  merged.sources = joinSourceTexts(texts);
  merged.durationMs = performance.now() - started;
  return merged;
}

async function showSettings(paths: string[], opts: CheckOptions, cwd: string): Promise<number> {
  const { configSettings, runSettings } = await import('./settings.js');
  const groups = groupByConfig(paths, opts.config, cwd).map((g) => configSettings(g.config, g.paths, cwd, opts.config));
  process.stdout.write([...groups, runSettings(opts, cwd)].join('\n'));
  return EXIT_OK;
}

async function loadStatistics(format: FormatName): Promise<(input: ReportInput) => string> {
  const { formatStatistics } = await import('../report/statistics.js');
  return (input) => formatStatistics(input, format as 'human' | 'short' | 'json');
}

/** With `-` or `--stdin-filename`: the name standard input stands for, and the code that reads it. */
async function stdinInput(paths: string[], opts: CheckOptions): Promise<{ name: string; code: typeof import('./stdin.js') } | undefined> {
  if (opts.stdinFilename === undefined && !paths.includes('-')) return undefined;
  const code = await import('./stdin.js');
  const name = code.stdinName(paths, opts.stdinFilename);
  return name === undefined ? undefined : { name, code };
}

function noRustFiles(paths: string[]): string {
  const list = paths.map((p) => `\`${p}\``).join(', ');
  return `no Rust files to check in ${list}\nnote: dmalint checks \`.rs\` files; dmalint.toml's [files] include and exclude may leave some out`;
}

/**
 * Exit code 2 says why on standard error, where a CI log shows it even when the report goes to a
 * file or into JSON: the report names each file, this line counts them.
 */
function noteUncheckedInput(notices: FileNotice[]): void {
  const unchecked = new Set(notices.filter(isFatalNotice).map((n) => n.file)).size;
  if (unchecked === 0) return;
  process.stderr.write(`error: ${unchecked} ${unchecked === 1 ? 'file' : 'files'} could not be checked (named in the report)\n`);
}

/** Fails before the run when `file` clearly cannot be written (no such folder, a folder). */
function writable(file: string, what: string): void {
  try {
    checkOutputPath(file);
  } catch (e) {
    if (e instanceof OutputError) throw new UsageError(`cannot write ${what} ${file}: ${e.message}`);
    throw e;
  }
}

/** Reports and baselines are never written over one of the files just linted. */
function refuseLintedFile(file: string, linted: SourceTexts, cwd: string): void {
  const target = realPathOf(path.resolve(cwd, file));
  for (const source of linted.keys()) {
    if (realPathOf(path.resolve(cwd, source)) === target) throw new UsageError(`${file} is one of the files being linted; not overwriting it`);
  }
}

/** `--output`: written whole (see `writeOutputFile`). */
function writeReport(file: string, text: string, linted: SourceTexts, cwd: string): void {
  refuseLintedFile(file, linted, cwd);
  try {
    writeOutputFile(file, text);
  } catch (e) {
    if (e instanceof OutputError) throw new UsageError(`cannot write the report ${file}: ${e.message}`);
    throw e;
  }
}

function realPathOf(abs: string): string {
  try {
    return fs.realpathSync(abs);
  } catch {
    return abs;
  }
}

/** `dmalint baseline`: refuses to write from a run that could not read every file. */
function writeBaseline(file: string, run: LintResult & { sources: SourceTexts }, only: Set<string> | undefined, cwd: string, writeNewBaseline: typeof import('../ci/apply.js').writeNewBaseline): number {
  for (const n of run.notices) process.stderr.write(`warning: ${n.file}: ${n.message}\n`);
  if (hasUncheckedInput(run.notices)) {
    process.stderr.write(`error: some files could not be read; ${file} was not written\n`);
    return EXIT_ERROR;
  }
  refuseLintedFile(file, run.sources, cwd);
  const r = writeNewBaseline(file, { result: run, sources: run.sources, only }, cwd, writeOutputFile);
  if (r.warning) process.stderr.write(`warning: ${r.warning}\n`);
  const kept = r.kept > 0 ? ` (${r.kept} kept for files or rules not checked)` : '';
  process.stdout.write(`wrote ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'} to ${file}${kept}\n`);
  return EXIT_OK;
}

export function selectRules(ids: string[] | undefined): Set<string> | undefined {
  if (!ids || ids.length === 0) return undefined;
  const known = new Set(RULES.map((r) => r.meta.id));
  for (const id of ids) {
    if (!known.has(id)) {
      const hint = suggestRule(id);
      throw new UsageError(`unknown rule \`${id}\`${hint ? `; did you mean \`${hint}\`?` : ''} (run \`dmalint rules\` for the list)`);
    }
  }
  return new Set(ids);
}

/** Paths that share a dmalint.toml are linted together with it. */
function groupByConfig(paths: string[], explicit: string | undefined, cwd: string): { config: DmalintConfig; paths: string[] }[] {
  const knownRules = allRuleMetas().map((m) => m.id);
  if (explicit) {
    return [{ config: loadConfig({ explicitFile: explicit, startPath: path.resolve(cwd, paths[0] ?? '.'), knownRules }), paths }];
  }
  const groups = new Map<string, { config: DmalintConfig; paths: string[] }>();
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    const start = fs.existsSync(abs) ? abs : path.dirname(abs);
    const key = findConfigFile(start) ?? '';
    if (!groups.has(key)) groups.set(key, { config: loadConfig({ startPath: start, knownRules }), paths: [] });
    groups.get(key)!.paths.push(p);
  }
  return [...groups.values()];
}

export async function makeFactsSource(opts: Pick<CheckOptions, 'jobs' | 'cacheDir' | 'cache'>): Promise<FactsSource> {
  let jobs = opts.jobs;
  if (jobs !== undefined && jobs > jobLimit()) {
    process.stderr.write(`warning: --jobs ${jobs} is more than this machine can use; using ${jobLimit()}\n`);
    jobs = jobLimit();
  }
  try {
    return await createFactsSource({ jobs, cacheDir: opts.cacheDir, cache: opts.cache });
  } catch (e) {
    if (e instanceof CacheDirError) throw new UsageError(`cannot use the cache folder ${opts.cacheDir}: ${e.message} (pass another --cache-dir, or --no-cache)`);
    throw e;
  }
}

function quietResult<T extends LintResult>(r: T): T {
  return { ...r, findings: r.findings.filter((f) => f.level === 'deny'), notices: r.notices.filter(isFatalNotice) };
}

function isFatalNotice(n: FileNotice): boolean {
  return hasUncheckedInput([n]);
}

export function useColor(when: CheckOptions['color'], toFile: boolean): boolean {
  if (when === 'always') return true;
  if (when === 'never' || toFile) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return !!process.stdout.isTTY;
}

function readQuietly(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function exitCode(result: LintResult, opts: { maxWarnings?: number; exitZero?: boolean }): number {
  if (hasUncheckedInput(result.notices)) return EXIT_ERROR;
  if (opts.exitZero) return EXIT_OK;
  const active = result.findings.filter((f: Finding) => !f.suppression);
  if (active.some((f) => f.level === 'deny')) return EXIT_FINDINGS;
  const warnings = active.filter((f) => f.level === 'warn').length;
  if (opts.maxWarnings !== undefined && warnings > opts.maxWarnings) return EXIT_FINDINGS;
  return EXIT_OK;
}
