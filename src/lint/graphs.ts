// The lifecycle pictures' data for the crates under some paths: the same files, crates and
// configured API as a lint run, with that run's findings marked on them. Only the commands that
// draw (`dmalint graph`, `check --format html`, the language server's picture) pay for it.
import * as path from 'node:path';
import { inlineFactsSource, type FactsSource } from '../facts/source.js';
import { groupCrates, type InputFile } from '../model/crate-graph.js';
import { Crate } from '../model/crate.js';
import type { KernelApi } from '../model/kernel-api.js';
import { lifecycleGraphs, type DriverGraph, type GraphFinding } from '../model/lifecycle-graph.js';
import { discoverFiles, displayPath } from './discover.js';
import { planComponents, triggerMatcher, triggerNames } from './prescan.js';
import { readSourceBytes, SourceFile } from './read.js';
import type { Finding } from './types.js';

export type { DriverGraph } from '../model/lifecycle-graph.js';

export interface GraphInputOptions {
  paths: string[];
  cwd: string;
  api: KernelApi;
  filter?: (absPath: string) => boolean;
  followSymlinks?: boolean;
  factsSource?: FactsSource;
}

/** The pictures of every driver under `paths`; unreadable files are left out (the lint run reports them). */
export async function driverGraphsForPaths(options: GraphInputOptions, findings: readonly Finding[]): Promise<DriverGraph[]> {
  const discovery = discoverFiles(options.paths.map((p) => path.resolve(options.cwd, p)), { filter: options.filter, followSymlinks: options.followSymlinks });
  const files: SourceFile[] = [];
  for (const abs of discovery.files) {
    const r = readSourceBytes(abs);
    if (r.ok) files.push(new SourceFile(abs, displayPath(abs, options.cwd), r.bytes));
  }
  // As in a lint run, crates that name no DMA API are not parsed: they have nothing to draw.
  const plan = planComponents(files, triggerMatcher(triggerNames(options.api)));
  const relevant = plan.components.filter((c) => c.relevant).flatMap((c) => c.files.map((i) => files[i]));
  const source = options.factsSource ?? inlineFactsSource;
  const facts = await source.extract(relevant.map((f) => ({ absPath: f.absPath, text: f.text, digest: f.digest })));
  return driverGraphsOf(relevant.map((f, i) => ({ path: f.path, absPath: f.absPath, facts: facts[i] })), options.api, findings);
}

/** The pictures of every driver in these files' crates. */
export function driverGraphsOf(inputs: InputFile[], api: KernelApi, findings: readonly Finding[]): DriverGraph[] {
  const marked = findings.filter((f) => !f.suppression).map(graphFinding);
  const out: DriverGraph[] = [];
  for (const group of groupCrates(inputs)) {
    const crate = new Crate(group, api);
    if (crate.drivers.length > 0) out.push(...lifecycleGraphs(crate, marked));
  }
  return out;
}

export function graphFinding(f: Finding): GraphFinding {
  return { rule: f.rule, level: f.level, message: f.message, file: f.primary.file, line: f.primary.span.line, col: f.primary.span.col };
}
