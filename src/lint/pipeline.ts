// Facts to findings, one pre-scan component at a time. A component holds whole crates, so it can
// be analyzed as soon as the facts of its files are in, while workers extract the next ones, and
// its findings can be cached under the contents of its files.
import { createHash } from 'node:crypto';
import type { Finding, Level } from './types.js';
import type { InputFile } from '../model/crate-graph.js';
import type { KernelApi } from '../model/kernel-api.js';
import { digestOf, sha256 } from '../facts/cache.js';
import type { Span } from '../facts/ir.js';
import { FILE_REPORT, FINDING, hasShape, type Shape } from '../facts/shape.js';
import type { Plan } from './prescan.js';
import type { FactsSource } from '../facts/source.js';

export interface PipelineFile {
  absPath: string;
  /** As shown to the user; findings name files by it. */
  path: string;
  text: string;
  /** sha256 of `text`, filled by `digestOf` the first time it is needed. */
  digest?: string;
  /** The file's bytes, when read from disk: the run's key hashes them, so texts stay undecoded. */
  bytes?: Uint8Array;
}


/** What the notices of a file need from its facts. */
export interface FileReport {
  syntaxErrors: Span[];
  truncated: boolean;
}

export interface PipelineOptions {
  source: FactsSource;
  plan: Plan;
  /** Findings of a set of whole crates; pure. */
  analyze(files: InputFile[]): Finding[];
  /**
   * Identifies everything `analyze` depends on besides the files (rules, levels, API). With it
   * and a source that has a results store, component findings are cached.
   */
  analysisKey?: string;
  onProgress?(done: number, total: number): void;
}

export interface PipelineResult {
  /** Each component's findings in turn (each sorted); sort the whole with `compareFindings`. */
  findings: Finding[];
  /** By file index, for the files that were analyzed. */
  reports: Map<number, FileReport>;
  /** Files in components that were analyzed (extracted or from the results cache). */
  analyzedFiles: number;
  /** Components whose findings came from the cache. */
  cachedComponents: number;
}

interface CachedResult {
  findings: Finding[];
  /** [position in the component, report] for files with something to report. */
  reports: [number, FileReport][];
}

export async function checkComponents(files: PipelineFile[], options: PipelineOptions): Promise<PipelineResult> {
  const total = files.length;
  let done = 0;
  const progress = () => options.onProgress?.(done, total);
  const perComponent: Finding[][] = [];
  const reports = new Map<number, FileReport>();
  const store = options.analysisKey !== undefined ? options.source.results : undefined;
  let analyzedFiles = 0;
  let cachedComponents = 0;

  interface Pending {
    slot: number;
    files: number[];
    key?: string;
    left: number;
  }
  const pending: Pending[] = [];
  for (const component of options.plan.components) {
    if (!component.relevant) {
      done += component.files.length;
      continue;
    }
    analyzedFiles += component.files.length;
    const slot = perComponent.push([]) - 1;
    const key = store ? componentKey(options.analysisKey!, component.files.map((i) => files[i])) : undefined;
    const cached = key !== undefined ? store!.read(key, (payload) => parseCachedResult(payload, component.files.length)) : undefined;
    if (cached) {
      perComponent[slot] = cached.findings;
      for (const [pos, report] of cached.reports) reports.set(component.files[pos], report);
      done += component.files.length;
      cachedComponents++;
      continue;
    }
    pending.push({ slot, files: component.files, key, left: component.files.length });
  }
  progress();
  if (pending.length === 0) return { findings: perComponent.flat(), reports, analyzedFiles, cachedComponents };

  // Extract the pending components' files in component order; analyze each when complete.
  const order: number[] = [];
  const owner: Pending[] = [];
  for (const p of pending) {
    for (const i of p.files) {
      order.push(i);
      owner.push(p);
    }
  }
  const facts = new Map<number, InputFile['facts']>();
  const finish = (p: Pending) => {
    const inputs: InputFile[] = p.files.map((i) => ({ path: files[i].path, absPath: files[i].absPath, facts: facts.get(i)! }));
    const findings = options.analyze(inputs);
    const own: [number, FileReport][] = [];
    p.files.forEach((i, pos) => {
      const f = facts.get(i)!;
      if (f.syntaxErrors.length > 0 || f.truncated) own.push([pos, { syntaxErrors: f.syntaxErrors, truncated: f.truncated }]);
      reports.set(i, { syntaxErrors: f.syntaxErrors, truncated: f.truncated });
      facts.delete(i);
    });
    perComponent[p.slot] = findings;
    if (p.key !== undefined) store!.writeJson(p.key, { findings, reports: own } satisfies CachedResult);
  };
  await options.source.extract(order.map((i) => files[i]), {
    discard: true,
    onFacts: (pos, f) => {
      facts.set(order[pos], f);
      done++;
      progress();
      const p = owner[pos];
      if (--p.left === 0) finish(p);
    },
  });
  return { findings: perComponent.flat(), reports, analyzedFiles, cachedComponents };
}

/** The key of a component's findings: the analysis, then each file's names and content. */
function componentKey(analysisKey: string, files: PipelineFile[]): string {
  const lines = [analysisKey];
  for (const f of files) lines.push(`${f.path}\0${f.absPath}\0${digestOf(f)}`);
  return sha256(lines.join('\n'));
}

/**
 * The content key of a run: like a component's key, but all text goes through one hash, with
 * each file's names and length before its bytes so that no two file lists run together the same
 * way.
 */
function runKey(prefix: string, files: PipelineFile[]): string {
  const hash = createHash('sha256').update(prefix);
  for (const f of files) {
    const content = f.bytes ?? f.text;
    hash.update(`\n${f.path}\0${f.absPath}\0${f.bytes ? 'b' : 't'}${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/**
 * From this many files on, a run that has to extract starts its workers early: with fewer, the
 * text to extract is likely below what a worker is worth (see `minPoolBytes`).
 */
export const WARM_UP_FILES = 64;

export interface RunOptions extends Omit<PipelineOptions, 'plan'> {
  /** The pre-scan's plan, made only when the run's findings are not in the cache. */
  plan(): Plan;
  /** What kind of plan `plan` makes ('prescan' or 'whole'): notices depend on it. */
  planKind: string;
}

interface CachedRun {
  /** The run's content key: the slot holds the last run over its files, whatever their content. */
  content: string;
  findings: Finding[];
  /** [file index, report] for files with something to report. */
  reports: [number, FileReport][];
  analyzedFiles: number;
}

/**
 * `checkComponents` behind one cache entry for the whole run: a run over an unchanged tree reads
 * its findings from that entry and skips the pre-scan and the per-component lookups. The entry
 * is a slot per analysis, plan kind and list of files (names only), holding the last run's
 * findings with the key of its content (every file's bytes): a run whose content key differs
 * falls back to components, most of them still cached, and replaces the slot, so editing and
 * checking again does not add an entry per run.
 */
export async function checkRun(files: PipelineFile[], options: RunOptions): Promise<PipelineResult> {
  const store = options.analysisKey !== undefined ? options.source.results : undefined;
  const prefix = `run\0${options.analysisKey}\0${options.planKind}`;
  const slot = store ? sha256(`${prefix}\n${files.map((f) => `${f.path}\0${f.absPath}`).join('\n')}`) : undefined;
  const content = store ? runKey(prefix, files) : undefined;
  const last = slot !== undefined ? store!.read(slot, (payload) => parseCachedRun(payload, files.length)) : undefined;
  const cached = last?.content === content ? last : undefined;
  if (cached) {
    options.onProgress?.(files.length, files.length);
    return { findings: cached.findings, reports: new Map(cached.reports), analyzedFiles: cached.analyzedFiles, cachedComponents: 0 };
  }
  // Not cached: crates will probably be extracted, and the workers can load while the plan is made.
  if (slot !== undefined && files.length >= WARM_UP_FILES) options.source.warmUp?.();
  const result = await checkComponents(files, { ...options, plan: options.plan() });
  if (slot !== undefined) {
    const reports = [...result.reports].filter(([, r]) => r.syntaxErrors.length > 0 || r.truncated);
    store!.writeJson(slot, { content: content!, findings: result.findings, reports, analyzedFiles: result.analyzedFiles } satisfies CachedRun);
  }
  return result;
}

function parseCachedResult(payload: string, fileCount: number): CachedResult | undefined {
  const r = parseFindingsAndReports(payload);
  return r && r.reports.every(([i]) => i >= 0 && i < fileCount) ? r : undefined;
}

function parseCachedRun(payload: string, fileCount: number): CachedRun | undefined {
  const r = parseFindingsAndReports(payload) as Partial<CachedRun> | undefined;
  if (!r || typeof r.content !== 'string' || typeof r.analyzedFiles !== 'number' || !r.reports!.every(([i]) => Number.isInteger(i) && i >= 0 && i < fileCount)) return undefined;
  return r as CachedRun;
}

/** A cached `{ findings, reports }` object, validated, or undefined when it is not one. */
function parseFindingsAndReports(payload: string): { findings: Finding[]; reports: [number, FileReport][] } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  return hasShape(value, CACHED_RESULT) ? (value as CachedResult) : undefined;
}

/** `{ findings, reports }`, every finding and report whole. */
const CACHED_RESULT: Shape = {
  fields: {
    findings: { array: FINDING },
    reports: { array: { tuple: ['int', FILE_REPORT] } },
  },
};

/**
 * A digest of the analysis configuration: the rules (their code included, for rules passed in
 * by a caller), the levels, the selection and the kernel API tables.
 */
export function analysisFingerprint(options: {
  rules: { meta: { id: string; defaultLevel: Level }; check: unknown }[];
  levels: Record<string, Level>;
  only?: Set<string>;
  api: KernelApi;
  buildCfgs?: { key: string };
}): string {
  const rules = options.rules.map((r) => [r.meta.id, r.meta.defaultLevel, String(r.check)]);
  const levels = Object.entries(options.levels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const only = options.only ? [...options.only].sort() : null;
  const cfgs = options.buildCfgs?.key ?? null;
  return sha256(JSON.stringify({ rules, levels, only, api: options.api, cfgs }, canonical));
}

/** JSON replacer that writes Sets and Maps as sorted arrays, so equal tables give equal text. */
function canonical(_key: string, value: unknown): unknown {
  if (value instanceof Set) return [...value].map(String).sort();
  if (value instanceof Map) return [...value.entries()].map(([k, v]) => [String(k), v]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return value;
}
