// What `dmalint check` does with `--baseline`, `--update-baseline`, `--diff` and
// `--changed-since`, and what `dmalint baseline` writes. The analysis always sees every file;
// these options only choose which findings are reported.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_BASELINE_BYTES, readOptionFile } from '../config/option-file.js';
import { hasUncheckedInput, UsageError } from '../lint/run.js';
import type { Finding, LintResult, SourceTexts } from '../lint/types.js';
import { plural } from '../report/common.js';
import {
  baselineRelativePath,
  fingerprintFindings,
  matchBaseline,
  parseBaseline,
  readBaseline,
  serializeBaseline,
  type Baseline,
  type BaselineEntry,
} from './baseline.js';
import { changesFromDiff, changesSince, fileKeyer, findingTouches, gitStartFolder, type ChangeSet } from './changes.js';

export interface CiOptions {
  baseline?: string;
  updateBaseline?: boolean;
  changedSince?: string;
  diff?: string;
}

export interface CiPlan {
  baselineFile?: string;
  baseline?: Baseline;
  update: boolean;
  changes?: ChangeSet;
}

/** Reads the baseline and the change set before the (longer) analysis, so bad input fails fast. */
export function prepareCi(opts: CiOptions, cwd: string, paths: readonly string[], readStdin?: () => string): CiPlan {
  if (opts.updateBaseline && !opts.baseline) throw new UsageError('--update-baseline needs --baseline FILE');
  if (opts.diff !== undefined && opts.changedSince !== undefined) throw new UsageError('use either --diff or --changed-since, not both');
  const plan: CiPlan = { update: !!opts.updateBaseline };
  if (opts.baseline) {
    plan.baselineFile = path.resolve(cwd, opts.baseline);
    plan.baseline = readBaseline(opts.baseline);
  }
  if (opts.diff !== undefined) plan.changes = changesFromDiff(opts.diff, cwd, gitStartFolder(cwd, paths), readStdin);
  else if (opts.changedSince !== undefined) plan.changes = changesSince(opts.changedSince, gitStartFolder(cwd, paths));
  return plan;
}

export interface CheckedRun {
  result: LintResult;
  /** Source texts of the checked files, by the path findings use. */
  sources: SourceTexts;
  /** The rules that ran, when `--rule` limited them. */
  only?: Set<string>;
}

export interface CiOutcome {
  /** The result to report and to compute the exit code from. */
  result: LintResult;
  /** Findings hidden because the baseline has them. */
  baselined: number;
  /** Baseline entries that no finding matches any more. */
  stale: BaselineEntry[];
  /** Findings hidden because they do not touch the change. */
  outsideChange: number;
  /** Some file the change touches was checked (when not, the diff's paths probably do not line up). */
  changeTouchesCheckedFile: boolean;
  /** Set when the baseline file was rewritten. */
  rewrote?: { file: string; entries: number };
  /** `--update-baseline` was given but the run could not read every file, so the file was kept. */
  updateSkipped?: boolean;
}

/** Which baseline entries this run can judge: their file was checked and their rule ran. Entries of deleted files are always judged (stale). */
function scopeOf(run: CheckedRun, cwd: string, baselineDir: string): (e: BaselineEntry) => boolean {
  const checked = new Set([...run.sources.keys()].map((f) => baselineRelativePath(f, cwd, baselineDir)));
  return (e) => {
    if (!fs.existsSync(path.resolve(baselineDir, e.file))) return true;
    return checked.has(e.file) && (!run.only || run.only.has(e.rule));
  };
}

function fingerprintsOf(run: CheckedRun, cwd: string, baselineDir: string): Map<Finding, BaselineEntry> {
  return fingerprintFindings(run.result.findings, {
    readSource: (file) => run.sources.get(file),
    baselinePath: (file) => baselineRelativePath(file, cwd, baselineDir),
  });
}

export function applyCi(plan: CiPlan, run: CheckedRun, cwd: string, writeFile: (file: string, text: string) => void): CiOutcome {
  let findings = run.result.findings;
  let notices = run.result.notices;
  const outcome: CiOutcome = { result: run.result, baselined: 0, stale: [], outsideChange: 0, changeTouchesCheckedFile: false };

  if (plan.baseline && plan.baselineFile) {
    const dir = path.dirname(plan.baselineFile);
    const match = matchBaseline(plan.baseline.entries, fingerprintsOf(run, cwd, dir), scopeOf(run, cwd, dir));
    const hidden = new Set(match.baselined);
    findings = findings.filter((f) => !hidden.has(f));
    outcome.baselined = match.baselined.length;
    outcome.stale = match.stale;
    // Rewriting drops stale entries and refreshes matched ones; it never adds new findings (that
    // is `dmalint baseline`). An incomplete run must not shrink the file.
    if (plan.update && !hasUncheckedInput(run.result.notices)) {
      const entries = [...match.outOfScope, ...match.refreshed];
      writeOrThrow(writeFile, plan.baselineFile, serializeBaseline(entries));
      outcome.rewrote = { file: plan.baselineFile, entries: entries.length };
    } else if (plan.update) outcome.updateSkipped = true;
  }

  if (plan.changes) {
    const changes = plan.changes;
    const keyOf = fileKeyer(cwd);
    const before = findings.filter((f) => !f.suppression).length;
    findings = findings.filter((f) => findingTouches(f, changes, keyOf));
    outcome.outsideChange = before - findings.filter((f) => !f.suppression).length;
    notices = notices.filter((n) => hasUncheckedInput([n]) || changes.files.has(keyOf(n.file)));
    outcome.changeTouchesCheckedFile = [...run.sources.keys()].some((f) => changes.files.has(keyOf(f)));
  }

  outcome.result = { ...run.result, findings, notices };
  return outcome;
}

/**
 * `dmalint baseline`: every unsuppressed finding of this run, plus the entries of an existing
 * baseline for files or rules this run did not check.
 */
export function writeNewBaseline(file: string, run: CheckedRun, cwd: string, writeFile: (file: string, text: string) => void): { entries: number; kept: number; warning?: string } {
  const abs = path.resolve(cwd, file);
  const dir = path.dirname(abs);
  let kept: BaselineEntry[] = [];
  let warning: string | undefined;
  if (fs.existsSync(abs)) {
    try {
      const old = parseBaseline(readOptionFile(abs, { maxBytes: MAX_BASELINE_BYTES }), file);
      const inScope = scopeOf(run, cwd, dir);
      kept = old.entries.filter((e) => !inScope(e));
    } catch (e) {
      warning = `${(e as Error).message}; writing a new baseline over it`;
    }
  }
  const current = [...fingerprintsOf(run, cwd, dir).values()];
  const entries = [...kept, ...current];
  writeOrThrow(writeFile, abs, serializeBaseline(entries));
  return { entries: entries.length, kept: kept.length, warning };
}

function writeOrThrow(writeFile: (file: string, text: string) => void, file: string, text: string): void {
  try {
    writeFile(file, text);
  } catch (e) {
    throw new UsageError(`cannot write the baseline ${file}: ${(e as Error).message}`);
  }
}

function displayFile(abs: string, cwd: string): string {
  const rel = path.relative(cwd, abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : abs;
}

/** Lines added after the report: stale baseline entries as notes, then what was hidden. */
export function ciTrailer(plan: CiPlan, outcome: CiOutcome, cwd: string): string {
  const lines: string[] = [];
  if (plan.baselineFile) {
    const name = displayFile(plan.baselineFile, cwd);
    const dir = path.dirname(plan.baselineFile);
    for (const e of outcome.stale) {
      const where = displayFile(path.resolve(dir, e.file), cwd);
      const item = e.item ? ` in \`${e.item}\`` : '';
      lines.push(`note: baseline entry no longer matches a finding: ${e.rule} at ${where}${item}${e.message ? `: ${e.message}` : ''}`);
    }
    let text = `baseline ${name}: ${plural(outcome.baselined, 'finding')} not shown`;
    if (outcome.stale.length > 0) {
      text += outcome.rewrote
        ? `; ${plural(outcome.stale.length, 'entry', 'entries')} no longer matched and ${outcome.stale.length === 1 ? 'was' : 'were'} removed`
        : `; ${plural(outcome.stale.length, 'entry', 'entries')} no longer ${outcome.stale.length === 1 ? 'matches' : 'match'} (remove with --update-baseline)`;
    }
    if (outcome.rewrote) text += `; rewrote it with ${plural(outcome.rewrote.entries, 'entry', 'entries')}`;
    if (outcome.updateSkipped) text += '; not rewritten because some files could not be checked';
    lines.push(text);
  }
  if (plan.changes) {
    let text = `only findings that touch ${plan.changes.description} are shown: ${plural(outcome.outsideChange, 'other finding')} not shown`;
    if (plan.changes.files.size === 0) text += '; the change touches no file';
    else if (!outcome.changeTouchesCheckedFile) text += `; no changed file was checked (paths in the diff are read relative to ${plan.changes.root})`;
    lines.push(text);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

