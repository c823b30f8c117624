// Runs the rules over crates built from per-file facts. Pure: no file system, no printing; the
// CLI and the language server both call it.
import { groupCrates, type InputFile } from '../model/crate-graph.js';
import type { CfgSet } from '../model/cfg.js';
import { Crate } from '../model/crate.js';
import type { KernelApi } from '../model/kernel-api.js';
import { BUILTIN_METAS } from './builtin-rules.js';
import type { DmaRule } from './context.js';
import { compareFindings } from './order.js';
import { applySuppressions } from './suppress.js';
import type { Finding, Level } from './types.js';

export interface AnalyzeOptions {
  rules: DmaRule[];
  levels: Record<string, Level>;
  api: KernelApi;
  /** Only these rule ids (the CLI's --rule); undefined for all. */
  only?: Set<string>;
  /** The build's cfgs per crate (rust-project.json), when known. */
  buildCfgs?: BuildCfgs;
}

/** The cfgs a build passes to each crate, by the absolute path of the crate's root file. */
export interface BuildCfgs {
  forRoot(rootAbsPath: string): CfgSet | undefined;
  /** Changes whenever any crate's cfgs change (part of the cached findings' key). */
  key: string;
}

export function analyze(files: InputFile[], options: AnalyzeOptions): Finding[] {
  const active = options.rules.filter((r) => levelOf(r.meta.id, r.meta.defaultLevel, options.levels) !== 'allow' && (!options.only || options.only.has(r.meta.id)));
  const findings: Finding[] = [];
  for (const group of groupCrates(files)) {
    const crate = new Crate(group, options.api, { cfgs: options.buildCfgs?.forRoot(group.root.absPath) });
    for (const rule of active) {
      const level = levelOf(rule.meta.id, rule.meta.defaultLevel, options.levels) as 'warn' | 'deny';
      for (const f of rule.check({ crate, api: options.api })) {
        findings.push({ ...f, rule: rule.meta.id, level, notes: f.notes ?? [] });
      }
    }
  }
  const known = new Set([...options.rules.map((r) => r.meta.id), ...BUILTIN_METAS.map((m) => m.id)]);
  const activeIds = new Set(active.map((r) => r.meta.id));
  const withSuppressions = applySuppressions(
    dedupe(findings),
    files.map((f) => ({ file: f.path, facts: f.facts })),
    options.levels,
    known,
    activeIds,
  );
  return withSuppressions.sort(compareFindings);
}

function levelOf(id: string, fallback: Level, levels: Record<string, Level>): Level {
  return levels[id] ?? fallback;
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.primary.file}|${f.primary.span.line}:${f.primary.span.col}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
