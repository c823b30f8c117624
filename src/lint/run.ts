// The whole pipeline for the CLI: find files, read them, extract facts, analyze, collect notices.
import * as path from 'node:path';
import { analysisFingerprint, checkRun, WARM_UP_FILES } from './pipeline.js';
import { planComponents, triggerMatcher, triggerNames, wholePlan } from './prescan.js';
import { inlineFactsSource, type FactsSource } from '../facts/source.js';
import type { KernelApi } from '../model/kernel-api.js';
import { analyze, type BuildCfgs } from './analyze.js';
import { compareFindings } from './order.js';
import type { DmaRule } from './context.js';
import { discoverFiles, displayPath } from './discover.js';
import { readSourceBytes, SourceFile } from './read.js';
import type { FileNotice, Level, LintResult, SourceTexts } from './types.js';

export type { FactsSource } from '../facts/source.js';

export interface LintOptions {
  paths: string[];
  cwd: string;
  rules: DmaRule[];
  levels: Record<string, Level>;
  api: KernelApi;
  only?: Set<string>;
  filter?: (absPath: string) => boolean;
  followSymlinks?: boolean;
  factsSource?: FactsSource;
  /** Skip crates that name no DMA API (see src/lint/prescan.ts). Default: true. */
  prescan?: boolean;
  /** The build's cfgs per crate (rust-project.json), when known. */
  buildCfgs?: BuildCfgs;
  /** Called with (done, total) while facts are extracted. */
  onProgress?: (done: number, total: number) => void;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export async function lintPaths(options: LintOptions): Promise<LintResult & { sources: SourceTexts }> {
  const started = performance.now();
  const discovery = discoverFiles(options.paths.map((p) => path.resolve(options.cwd, p)), {
    filter: options.filter,
    followSymlinks: options.followSymlinks,
  });
  if (discovery.missing.length > 0) {
    throw new UsageError(discovery.missing.map((m) => `${displayPath(m.path, options.cwd)}: ${m.message}`).join('\n'));
  }
  const source = options.factsSource ?? inlineFactsSource;
  // Without a cache, every relevant crate is extracted: workers load while the files are read.
  if (!source.results && discovery.files.length >= WARM_UP_FILES) source.warmUp?.();
  const notices: FileNotice[] = discovery.warnings.map((w) => ({ file: displayPath(w.path, options.cwd), kind: 'read-error', message: w.message }));
  for (const l of discovery.skippedLinks) notices.push({ file: displayPath(l.path, options.cwd), kind: 'symlink', message: l.message });
  const files: SourceFile[] = [];
  for (const abs of discovery.files) {
    const r = readSourceBytes(abs);
    if (r.ok) files.push(new SourceFile(abs, displayPath(abs, options.cwd), r.bytes));
    else notices.push({ file: displayPath(abs, options.cwd), kind: r.kind, message: r.message });
  }
  const whole = options.prescan === false;
  const analysis = { rules: options.rules, levels: options.levels, api: options.api, only: options.only, buildCfgs: options.buildCfgs };
  const checked = await checkRun(files, {
    source,
    plan: () => (whole ? wholePlan(files.length) : planComponents(files, triggerMatcher(triggerNames(options.api)))),
    planKind: whole ? 'whole' : 'prescan',
    analyze: (inputs) => analyze(inputs, analysis),
    analysisKey: source.results ? analysisFingerprint(analysis) : undefined,
    onProgress: options.onProgress,
  });
  const findings = checked.findings.sort(compareFindings);
  const byPath = new Map<string, SourceFile>();
  files.forEach((sourceFile, i) => {
    const file = sourceFile.path;
    byPath.set(file, sourceFile);
    const f = checked.reports.get(i);
    if (!f) return;
    if (f.syntaxErrors.length > 0) {
      notices.push({ file, kind: 'syntax-error', span: f.syntaxErrors[0], message: `syntax error${f.syntaxErrors.length > 1 ? `s (${f.syntaxErrors.length})` : ''}: only the parts that parse were checked` });
    }
    if (f.truncated) notices.push({ file, kind: 'truncated', message: 'nesting too deep: parts of this file were not analyzed' });
  });
  return {
    findings,
    notices,
    filesChecked: files.length,
    durationMs: performance.now() - started,
    sources: { get: (file) => byPath.get(file)?.text, keys: () => byPath.keys() },
  };
}

/** The texts of several runs as one; a path checked twice keeps the later run's text. */
export function joinSourceTexts(parts: SourceTexts[]): SourceTexts {
  const owner = new Map<string, SourceTexts>();
  for (const part of parts) for (const file of part.keys()) owner.set(file, part);
  return { get: (file) => owner.get(file)?.get(file), keys: () => owner.keys() };
}

/** Notices that mean some input could not be checked at all (exit code 2). */
export function hasUncheckedInput(notices: FileNotice[]): boolean {
  return notices.some((n) => n.kind === 'read-error' || n.kind === 'binary' || n.kind === 'too-large');
}
