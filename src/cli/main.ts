#!/usr/bin/env node
// dmalint command line. Only commander and the package version load eagerly: `--version` and
// `--help` must not pay for the parser and grammar.
import { createRequire } from 'node:module';
import { Command, InvalidArgumentError, Option } from 'commander';
import { guardStdout } from './output.js';

const require = createRequire(import.meta.url);
const { version } = require('../../../package.json') as { version: string };

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} takes a whole number`);
    return Number(value);
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('dmalint')
    .description('Finds DMA lifecycle bugs in Rust-for-Linux drivers.')
    .version(version, '-V, --version')
    .option('--debug', 'print stack traces of internal errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'error: ')) })
    .exitOverride();

  program
    .command('check')
    .description('lint the Rust files under the given paths (default: the current folder)')
    .argument('[paths...]', 'files or folders to lint', ['.'])
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'short', 'json', 'sarif', 'github', 'gitlab', 'junit', 'html']).default('human'))
    .option('-o, --output <file>', 'write the report to a file (atomically) instead of standard output')
    .option('-r, --rule <id>', 'run only this rule (repeat or separate with commas)', collect)
    .option('-c, --config <file>', 'use this dmalint.toml instead of searching for one')
    .option('--max-warnings <n>', 'exit 1 when there are more warnings than this', positiveInt('--max-warnings'))
    .option('-q, --quiet', 'report errors only; no summary, no progress')
    .addOption(new Option('--color <when>', 'colored output').choices(['auto', 'always', 'never']).default('auto'))
    .option('--exit-zero', 'exit 0 even when there are findings (errors reading input still exit 2)')
    .option('--include-suppressed', 'keep suppressed findings in SARIF and JSON output')
    .option('--show-settings', 'print the configuration for the paths and where each value came from, then exit')
    .option('--statistics', 'print how many findings each rule has instead of the findings')
    .option('--stdin-filename <name>', 'with `-` as the path: read the source from standard input and report it as this file')
    .option('--root <dir>', 'make SARIF, GitLab, GitHub and JUnit paths relative to this folder (default: the git top level)')
    .option('--follow-symlinks', 'follow symbolic links while walking folders')
    .option('--no-respect-gitignore', 'also lint files that git ignores (.gitignore) inside the folders given')
    .option('--rust-project <file>', 'decide #[cfg(CONFIG_..)] items by the cfgs of this rust-project.json (default: the one at the top of the tree, if any)')
    .option('-j, --jobs <n>', 'threads that parse, the main one included (default: number of CPUs)', positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'where to keep the facts cache')
    .option('--no-cache', 'do not read or write the facts cache')
    .option('--baseline <file>', 'do not report findings this baseline has (see `dmalint baseline`)')
    .option('--update-baseline', 'rewrite the --baseline file without the entries that no longer match')
    .addOption(new Option('--changed-since <ref>', 'report only findings on lines changed since this git revision').conflicts('diff'))
    .addOption(new Option('--diff <file>', 'report only findings on lines this unified diff changes (`-`: standard input)').conflicts('changedSince'))
    .action(async (paths: string[], opts) => {
      (await import('./v8-tuning.js')).tuneForBatchRun();
      const { runCheck } = await import('./check.js');
      process.exitCode = await runCheck(paths, { ...opts, debug: program.opts().debug });
    });

  program
    .command('graph')
    .description("draw each driver's DMA lifecycle: device states, buffers, where addresses go, the removal order")
    .argument('[paths...]', 'files or folders of the driver crates', ['.'])
    .addOption(new Option('-f, --format <format>', 'picture format').choices(['mermaid', 'dot', 'svg']).default('mermaid'))
    .option('-o, --output <file>', 'write the picture to a file (atomically) instead of standard output')
    .option('-d, --driver <name>', 'draw only the driver whose driver data type has this name')
    .option('-c, --config <file>', 'use this dmalint.toml instead of searching for one')
    .option('--follow-symlinks', 'follow symbolic links while walking folders')
    .option('--no-respect-gitignore', 'also read files that git ignores (.gitignore) inside the folders given')
    .option('-j, --jobs <n>', 'threads that parse, the main one included (default: number of CPUs)', positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'where to keep the facts cache')
    .option('--no-cache', 'do not read or write the facts cache')
    .action(async (paths: string[], opts) => {
      const { runGraph } = await import('./graph.js');
      process.exitCode = await runGraph(paths, { ...opts, debug: program.opts().debug });
    });

  program
    .command('baseline')
    .description('write a baseline of the current findings, for `check --baseline`')
    .argument('[paths...]', 'files or folders to lint', ['.'])
    .option('-o, --output <file>', 'the baseline file to write (atomically)', 'dmalint-baseline.json')
    .option('-r, --rule <id>', 'baseline only this rule (repeat or separate with commas)', collect)
    .option('-c, --config <file>', 'use this dmalint.toml instead of searching for one')
    .option('--follow-symlinks', 'follow symbolic links while walking folders')
    .option('-j, --jobs <n>', 'threads that parse, the main one included (default: number of CPUs)', positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'where to keep the facts cache')
    .option('--no-cache', 'do not read or write the facts cache')
    .action(async (paths: string[], opts: { output: string }) => {
      (await import('./v8-tuning.js')).tuneForBatchRun();
      const { runCheck } = await import('./check.js');
      const { output, ...rest } = opts;
      process.exitCode = await runCheck(paths, { ...rest, format: 'human', color: 'never', writeBaseline: output, debug: program.opts().debug });
    });

  program
    .command('patch')
    .description('check what each patch of a series introduces, like checkpatch.pl (run inside the git tree it applies to)')
    .argument('[files...]', 'patches from `git format-patch`, or an mbox of several')
    .option('--git <range>', 'check the commits of this range (`A..B`, or one commit) instead of patch files')
    .option('--rust-project <file>', 'take crate roots from this rust-project.json (default: the one at the top of the tree, if any)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['human', 'short', 'json', 'sarif']).default('human'))
    .option('-o, --output <file>', 'write the report to a file (atomically) instead of standard output')
    .option('-r, --rule <id>', 'run only this rule (repeat or separate with commas)', collect)
    .option('-c, --config <file>', 'use this dmalint.toml instead of the one in the tree')
    .addOption(new Option('--color <when>', 'colored output').choices(['auto', 'always', 'never']).default('auto'))
    .option('-j, --jobs <n>', 'threads that parse, the main one included (default: number of CPUs)', positiveInt('--jobs'))
    .option('--cache-dir <dir>', 'where to keep the facts cache')
    .option('--no-cache', 'do not read or write the facts cache')
    .action(async (files: string[], opts) => {
      (await import('./v8-tuning.js')).tuneForBatchRun();
      const { runPatch } = await import('./patch.js');
      process.exitCode = await runPatch(files, { ...opts, debug: program.opts().debug });
    });

  program
    .command('rules')
    .description('list the rules with their default level')
    .action(async () => {
      const { listRules } = await import('./info.js');
      process.stdout.write(listRules());
    });

  program
    .command('explain')
    .description("print a rule's documentation")
    .argument('<rule>', 'rule id')
    .option('--markdown', 'print Markdown')
    .action(async (id: string, opts: { markdown?: boolean }) => {
      const { explainRule } = await import('./info.js');
      const r = explainRule(id, !!opts.markdown);
      if (r.ok) process.stdout.write(r.text);
      else {
        process.stderr.write(`error: ${r.text}\n`);
        process.exitCode = 2;
      }
    });

  program
    .command('lsp')
    .description('run the language server, for editors (LSP over standard input and output)')
    .option('--stdio', 'talk over standard input and output (the only transport; editors pass it)')
    .action(async () => {
      const { runLanguageServer } = await import('../lsp/server.js');
      runLanguageServer();
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  guardStdout();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      // Help and version exit 0; usage errors exit 2 (commander already printed the message).
      process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
      return;
    }
    const debug = argv.includes('--debug');
    process.stderr.write(`error: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (debug && (e as Error)?.stack) process.stderr.write(`${(e as Error).stack}\n`);
    else process.stderr.write('note: run with --debug for details; please report this\n');
    process.exitCode = 2;
  }
}

main(process.argv);
