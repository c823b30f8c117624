// `dmalint check --show-settings`: the configuration a run would use, value by value, with where
// each value came from (the default, a dmalint.toml line, the command line). Nothing is linted.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DmalintConfig } from '../config/types.js';
import { defaultCacheDir } from '../facts/cache.js';
import { repositoryRoot } from '../ci/git.js';
import type { CheckOptions } from './check.js';

/** TOML keys of `[api]`, in the order docs/configuration.md lists them. */
const API_KEYS: [string, keyof DmalintConfig['api']][] = [
  ['quiesce-functions', 'quiesceFunctions'],
  ['allocation-constructors', 'allocationConstructors'],
  ['dma-buffer-types', 'dmaBufferTypes'],
  ['bound-methods', 'boundMethods'],
  ['unbound-methods', 'unboundMethods'],
];

/** Where `key` is set in `section` of the config text: `file:line`, or undefined when it is not. */
function keyOrigin(text: string | undefined, file: string, section: string, key: string): string | undefined {
  if (text === undefined) return undefined;
  let current = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) current = header[1]!;
    else if (current === section && new RegExp(`^["']?${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']?\\s*=`).test(line)) return `${file}:${i + 1}`;
    // Dotted keys at the top level: `rules.coherent_outside_probe = "warn"`.
    else if (current === '' && line.startsWith(`${section}.${key}`) && /^[^=]*=/.test(line)) return `${file}:${i + 1}`;
  }
  return undefined;
}

function tomlValue(value: string | string[]): string {
  return Array.isArray(value) ? `[${value.map((v) => JSON.stringify(v)).join(', ')}]` : JSON.stringify(value);
}

function rows(entries: [string, string | string[], string][]): string[] {
  const left = entries.map(([k, v]) => `${k} = ${tomlValue(v)}`);
  const width = Math.max(0, ...left.map((l) => l.length));
  return left.map((l, i) => `${l.padEnd(width)}  # ${entries[i]![2]}`);
}

/** The settings of one group of paths that share a configuration. */
export function configSettings(config: DmalintConfig, paths: string[], cwd: string, explicit: string | undefined): string {
  const shown = config.source ? path.relative(cwd, config.source) || config.source : undefined;
  const text = config.source ? fs.readFileSync(config.source, 'utf8') : undefined;
  const name = shown ?? '';
  const origin = (section: string, key: string) => keyOrigin(text, explicit ? `--config ${name}` : name, section, key) ?? 'default';
  const out = [
    `# ${paths.map((p) => `\`${p}\``).join(', ')}: ${config.source ? `configured by ${shown}${explicit ? ' (--config)' : ''}` : 'no dmalint.toml found; defaults'}`,
    '[rules]',
    ...rows(Object.entries(config.rules).sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, level]) => [id, level, origin('rules', id)])),
    '',
    '[api]',
    ...rows(API_KEYS.map(([key, field]) => [key, config.api[field], origin('api', key)])),
    '',
    '[files]',
    ...rows([
      ['include', config.include, origin('files', 'include')],
      ['exclude', config.exclude, origin('files', 'exclude')],
    ]),
    `# globs are relative to ${path.relative(cwd, config.root) || '.'}`,
  ];
  return `${out.join('\n')}\n`;
}

/** Settings that come from the command line and the environment. */
export function runSettings(opts: CheckOptions, cwd: string): string {
  const given = (value: unknown, flag: string, fallback: string): [string, string] => (value === undefined ? [fallback, 'default'] : [String(value), flag]);
  const entries: [string, string | string[], string][] = [];
  const [format, formatFrom] = given(opts.format === 'human' ? undefined : opts.format, '--format', 'human');
  entries.push(['format', format, formatFrom]);
  entries.push(['rules-run', opts.rule && opts.rule.length > 0 ? opts.rule : ['all enabled'], opts.rule?.length ? '--rule' : 'default']);
  const [jobs, jobsFrom] = given(opts.jobs, '--jobs', String(os.availableParallelism()));
  entries.push(['jobs', jobs, jobsFrom === 'default' ? 'default: the number of CPUs' : jobsFrom]);
  if (opts.cache === false) entries.push(['cache', 'off', '--no-cache']);
  else entries.push(['cache-dir', opts.cacheDir ?? defaultCacheDir(cwd), opts.cacheDir ? '--cache-dir' : 'default']);
  const root = opts.root ? path.resolve(cwd, opts.root) : (repositoryRoot(cwd) ?? cwd);
  entries.push(['report-root', root, opts.root ? '--root' : 'default: the git top level, else the working folder']);
  return `# command line\n${rows(entries).join('\n')}\n`;
}
