// `dmalint check --stdin-filename NAME -`: the source comes from standard input (an editor's
// unsaved buffer, a pre-commit hook's staged blob) and is reported as NAME, with the dmalint.toml
// that governs NAME.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigFile } from '../config/load.js';
import { displayPath } from '../lint/discover.js';
import { UsageError, type FactsSource } from '../lint/run.js';
import type { Finding, LintResult, Location, SourceTexts } from '../lint/types.js';
import { lintSelection, type SelectionOptions } from './check.js';

/**
 * The name to read standard input as, or undefined when the paths are files and folders.
 * `-` needs `--stdin-filename`; `--stdin-filename` needs `-` (or no path at all).
 */
export function stdinName(paths: readonly string[], name: string | undefined): string | undefined {
  const dash = paths.includes('-');
  if (name === undefined) {
    if (dash) throw new UsageError('`-` reads the source from standard input and needs --stdin-filename NAME (the path it stands for)');
    return undefined;
  }
  const implicit = paths.length === 1 && paths[0] === '.';
  if (!(dash && paths.length === 1) && !implicit) throw new UsageError('--stdin-filename reads standard input: give `-` as the only path');
  if (name === '' || name.endsWith('/') || name.endsWith(path.sep)) throw new UsageError(`--stdin-filename ${name}: not a file name`);
  return name;
}

/** Reads all of standard input. */
export function readStdin(): Buffer {
  try {
    return fs.readFileSync(0);
  } catch (e) {
    throw new UsageError(`cannot read standard input: ${(e as Error).message}`);
  }
}

/** Lints `text` as the file `name` (relative to `cwd`), alone: other files of its crate are not read. */
export async function lintStdin(
  name: string,
  text: Buffer,
  cwd: string,
  opts: SelectionOptions,
  factsSource: FactsSource,
): Promise<LintResult & { sources: SourceTexts }> {
  const holder = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-stdin-'));
  const base = path.basename(name);
  try {
    fs.writeFileSync(path.join(holder, base), text);
    const config = opts.config ?? findConfigFile(path.resolve(cwd, name));
    const run = await lintSelection([base], holder, { ...opts, config }, factsSource);
    const shown = displayPath(path.resolve(cwd, name), cwd);
    return renameFile(run, base, shown);
  } finally {
    fs.rmSync(holder, { recursive: true, force: true });
  }
}

function renameFile(run: LintResult & { sources: SourceTexts }, from: string, to: string): LintResult & { sources: SourceTexts } {
  const file = (f: string) => (f === from ? to : f);
  const loc = (l: Location): Location => ({ ...l, file: file(l.file) });
  const finding = (f: Finding): Finding => ({
    ...f,
    primary: loc(f.primary),
    related: f.related.map(loc),
    ...(f.suppression ? { suppression: { ...f.suppression, location: loc(f.suppression.location) } } : {}),
  });
  return {
    ...run,
    findings: run.findings.map(finding),
    notices: run.notices.map((n) => ({ ...n, file: file(n.file) })),
    sources: {
      get: (f) => run.sources.get(f === to ? from : f),
      keys: () => [...run.sources.keys()].map(file)[Symbol.iterator](),
    },
  };
}
