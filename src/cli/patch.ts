// `dmalint patch`: reviews a patch series the way checkpatch.pl does. Each patch is applied in
// turn to a temporary worktree; the crates it touches are linted before and after it, and the
// findings it introduces are reported under its subject.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError } from '../config/types.js';
import { crateFolders, introducedFindings, type TreeRun } from '../ci/review.js';
import { rustProjectCrateRoots } from '../ci/rust-project.js';
import { headCommit, readCommitRange, readPatchFiles, requireTree, ScratchTree, type SeriesPatch, patchFiles } from '../ci/series.js';
import { allRuleMetas } from '../lint/registry.js';
import { hasUncheckedInput, joinSourceTexts, UsageError } from '../lint/run.js';
import type { FileNotice } from '../lint/types.js';
import { formatPatchReview, type PatchFormat, type PatchOutcome } from '../report/patch.js';
import { EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, lintSelection, makeFactsSource, selectRules, useColor } from './check.js';
import { checkOutputPath, OutputError, writeOutputFile } from './output.js';

const require = createRequire(import.meta.url);

export interface PatchOptions {
  git?: string;
  /** rust-project.json to take crate roots from (default: the one at the tree's top, if any). */
  rustProject?: string;
  format: PatchFormat;
  output?: string;
  rule?: string[];
  config?: string;
  color: 'auto' | 'always' | 'never';
  jobs?: number;
  cacheDir?: string;
  cache?: boolean;
  debug?: boolean;
}

export async function runPatch(files: string[], opts: PatchOptions): Promise<number> {
  try {
    if (files.length > 0 && opts.git !== undefined) throw new UsageError('give patch files or --git RANGE, not both');
    if (files.length === 0 && opts.git === undefined) throw new UsageError('give the patch files to check (or --git RANGE for commits)');
    if (opts.output) {
      try {
        checkOutputPath(opts.output);
      } catch (e) {
        if (e instanceof OutputError) throw new UsageError(`cannot write the report ${opts.output}: ${e.message}`);
        throw e;
      }
    }
    const only = selectRules(opts.rule);
    if (opts.rustProject && !fs.existsSync(opts.rustProject)) throw new UsageError(`--rust-project ${opts.rustProject}: no such file (\`make rust-analyzer\` writes it to the build folder)`);
    const root = requireTree(process.cwd());
    const series = opts.git !== undefined ? readCommitRange(opts.git, root) : { base: headCommit(root), patches: readPatchFiles(files, root) };
    const outcomes = await reviewSeries(series.patches, series.base, root, { ...opts, only });
    const text = formatPatchReview(opts.format, {
      patches: outcomes,
      base: series.base,
      rules: allRuleMetas(),
      root,
      color: useColor(opts.color, !!opts.output),
      toolVersion: (require('../../../package.json') as { version: string }).version,
    });
    if (opts.output) writeOutputFile(opts.output, text);
    else process.stdout.write(text);
    if (outcomes.some((o) => hasUncheckedInput(o.notices))) return EXIT_ERROR;
    return outcomes.some((o) => o.findings.some((f) => f.level === 'deny')) ? EXIT_FINDINGS : EXIT_OK;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof UsageError || e instanceof OutputError) {
      process.stderr.write(`error: ${e.message}\n`);
      if (opts.debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
}

/**
 * Replays the series onto `base` in a temporary worktree. Every patch is applied before any is
 * reported, so a series that does not apply fails with git's message and no partial report.
 */
async function reviewSeries(
  patches: SeriesPatch[],
  base: string,
  root: string,
  opts: PatchOptions & { only?: Set<string> },
): Promise<PatchOutcome[]> {
  const tree = ScratchTree.open(root, base);
  const factsSource = await makeFactsSource(opts);
  // `make rust-analyzer` writes rust-project.json into the build tree, untracked: read it from the
  // user's tree, with its paths made relative to the repository.
  const crateRoots = rustProjectCrateRoots(root, opts.rustProject && path.resolve(opts.rustProject));
  // Ctrl-C removes the worktree first, then ends the process the way the signal would have.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  const onSignal = (signal: NodeJS.Signals) => {
    for (const s of signals) process.removeListener(s, onSignal);
    tree.dispose();
    process.kill(process.pid, signal);
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    const out: PatchOutcome[] = [];
    for (const patch of patches) {
      if (patch.parent) tree.checkout(patch.parent);
      const touched = patchFiles(patch);
      const lint = async (files: string[]): Promise<TreeRun & { files: string[] }> => {
        const folders = crateFolders(files, tree.dir, crateRoots).filter((f) => fs.existsSync(path.join(tree.dir, f)));
        if (folders.length === 0) return { result: { findings: [], notices: [], filesChecked: 0, durationMs: 0 }, sources: joinSourceTexts([]), files: [] };
        const run = await lintSelection(folders.map((f) => path.join(tree.dir, f)), tree.dir, { config: opts.config, only: opts.only }, factsSource);
        return { result: run, sources: run.sources, files: folders };
      };
      const before = await lint([...touched.before, ...touched.after]);
      if (patch.commit) tree.checkout(patch.commit);
      else tree.apply(patch);
      const after = await lint([...touched.before, ...touched.after]);
      const changed = new Set(touched.after);
      out.push({
        patch,
        findings: introducedFindings(before, after, touched.renames),
        notices: after.result.notices.filter((n: FileNotice) => changed.has(n.file)),
        filesChecked: after.result.filesChecked,
        rustFiles: [...changed].filter((f) => f.endsWith('.rs')).length,
        sources: after.sources,
      });
    }
    return out;
  } finally {
    for (const s of signals) process.removeListener(s, onSignal);
    await factsSource.close?.();
    tree.dispose();
  }
}
