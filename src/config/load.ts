// Loads `dmalint.toml` (see docs/configuration.md). Every problem is a ConfigError that names the
// file, and the line and key when they can be found; this module prints nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type picomatchType from 'picomatch';
import type * as smolToml from 'smol-toml';
import type { Level } from '../rule/api.js';
import { ConfigError, type ApiConfig, type DmalintConfig } from './types.js';
import { editDistance } from './edit-distance.js';
import { MAX_CONFIG_BYTES, readOptionFile } from './option-file.js';

// Loaded when first needed: most runs have no config file and no globs, and start-up counts.
const require = createRequire(import.meta.url);
let toml: typeof smolToml | undefined;
const loadToml = () => (toml ??= require('smol-toml') as typeof smolToml);
let picomatchFn: typeof picomatchType | undefined;
const picomatch = (glob: string, options: { dot: boolean }) => (picomatchFn ??= require('picomatch') as typeof picomatchType)(glob, options);

export const CONFIG_FILE_NAME = 'dmalint.toml';

const LEVELS: readonly Level[] = ['allow', 'warn', 'deny'];

const DEFAULT_RULES: Record<string, Level> = {
  coherent_outside_probe: 'deny',
  dma_free_without_quiesce: 'deny',
  revocable_dma_addr: 'deny',
};

const TABLES = ['rules', 'api', 'files'] as const;

type ApiKey = keyof ApiConfig;

/** How each entry of an `[api]` list must look. */
type EntryShape = 'name' | 'path' | 'type-function' | 'trait-method';

const API_KEYS: Record<string, { field: ApiKey; shape: EntryShape }> = {
  'quiesce-functions': { field: 'quiesceFunctions', shape: 'name' },
  'allocation-constructors': { field: 'allocationConstructors', shape: 'type-function' },
  'dma-buffer-types': { field: 'dmaBufferTypes', shape: 'path' },
  'bound-methods': { field: 'boundMethods', shape: 'trait-method' },
  'unbound-methods': { field: 'unboundMethods', shape: 'trait-method' },
};

const FILES_KEYS = ['include', 'exclude'] as const;

const IDENT = '[A-Za-z_][A-Za-z0-9_]*';
const NAME_RE = new RegExp(`^${IDENT}$`);
const PATH_RE = new RegExp(`^(?:${IDENT}::)*${IDENT}$`);
const QUALIFIED_RE = new RegExp(`^(?:${IDENT}::)+${IDENT}$`);

export function defaultConfig(root: string): DmalintConfig {
  return {
    root,
    rules: { ...DEFAULT_RULES },
    api: {
      quiesceFunctions: [],
      allocationConstructors: [],
      dmaBufferTypes: [],
      boundMethods: [],
      unboundMethods: [],
    },
    include: [],
    exclude: [],
  };
}

/**
 * Parses the text of a `dmalint.toml`. `file` names the file in errors; its folder is the root
 * globs are relative to. Throws ConfigError on any problem.
 */
export function parseConfig(text: string, file: string, knownRules: string[]): DmalintConfig {
  const source = path.resolve(file);
  const config = defaultConfig(path.dirname(source));
  config.source = source;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let doc: Record<string, unknown>;
  try {
    doc = loadToml().parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof loadToml().TomlError) {
      throw new ConfigError(file, `invalid TOML: ${tomlMessage(e)}`, e.line > 0 ? e.line : undefined);
    }
    throw new ConfigError(file, `invalid TOML: ${e instanceof Error ? e.message : String(e)}`);
  }

  const fail = (keyPath: string[], detail: string): never => {
    throw new ConfigError(file, detail, findKeyLine(text, keyPath), displayKey(keyPath));
  };

  for (const [name, value] of Object.entries(doc)) {
    if (!(TABLES as readonly string[]).includes(name)) {
      const kind = isPlainTable(value) ? 'table' : 'key';
      const show = (t: string) => (kind === 'table' ? `\`[${t}]\`` : `\`${t}\``);
      const guess = closest(name, TABLES);
      const hint = guess ? `; did you mean ${show(guess)}?` : `; expected one of ${TABLES.map((t) => `\`[${t}]\``).join(', ')}`;
      fail([name], `unknown ${kind} ${show(displaySegment(name))}${hint}`);
    }
    if (!isPlainTable(value)) fail([name], `expected a table, found ${describe(value)}`);
    const table = value as Record<string, unknown>;
    if (name === 'rules') readRules(table, knownRules, config, fail);
    else if (name === 'api') readApi(table, config, fail);
    else readFiles(table, config, fail);
  }
  return config;
}

type Fail = (keyPath: string[], detail: string) => never;

function readRules(table: Record<string, unknown>, knownRules: string[], config: DmalintConfig, fail: Fail): void {
  for (const [id, value] of Object.entries(table)) {
    const key = ['rules', id];
    if (!knownRules.includes(id)) {
      const guess = closest(id, knownRules);
      const known = knownRules.length > 0 ? `known rules: ${[...knownRules].sort().join(', ')}` : 'no rules are known';
      fail(key, `unknown rule \`${id}\`${guess ? `; did you mean \`${guess}\`?` : ''} (${known})`);
    }
    if (typeof value !== 'string') fail(key, `expected a string (one of ${levelList()}), found ${describe(value)}`);
    const level = value as string;
    if (!(LEVELS as readonly string[]).includes(level)) {
      fail(key, `invalid level \`${level}\`; expected one of ${levelList()}`);
    }
    config.rules[id] = level as Level;
  }
}

function readApi(table: Record<string, unknown>, config: DmalintConfig, fail: Fail): void {
  for (const [name, value] of Object.entries(table)) {
    const key = ['api', name];
    const spec = API_KEYS[name];
    if (!spec) unknownKey(key, name, Object.keys(API_KEYS), fail);
    const entries = stringArray(value, key, fail);
    entries.forEach((entry, index) => {
      const problem = entryProblem(entry, spec.shape);
      if (problem) fail(key, `${problem} (element ${index + 1}: \`${entry}\`)`);
    });
    config.api[spec.field] = entries;
  }
}

function readFiles(table: Record<string, unknown>, config: DmalintConfig, fail: Fail): void {
  for (const [name, value] of Object.entries(table)) {
    const key = ['files', name];
    if (!(FILES_KEYS as readonly string[]).includes(name)) unknownKey(key, name, FILES_KEYS, fail);
    const globs = stringArray(value, key, fail);
    globs.forEach((glob, index) => {
      const where = `(element ${index + 1})`;
      if (glob.trim() === '') fail(key, `empty glob ${where}`);
      if (glob.startsWith('/') || /^[A-Za-z]:[\\/]/.test(glob)) {
        fail(key, `glob \`${glob}\` is absolute; globs are relative to the folder of ${CONFIG_FILE_NAME} ${where}`);
      }
      if (normalizeGlob(glob).split('/').includes('..')) {
        fail(key, `glob \`${glob}\` reaches outside the folder of ${CONFIG_FILE_NAME}; globs match only files under it ${where}`);
      }
      try {
        picomatch(normalizeGlob(glob), { dot: true });
      } catch (e) {
        fail(key, `invalid glob \`${glob}\`: ${e instanceof Error ? e.message : String(e)} ${where}`);
      }
    });
    if (name === 'include') config.include = globs;
    else config.exclude = globs;
  }
}

function unknownKey(key: string[], name: string, known: readonly string[], fail: Fail): never {
  const guess = closest(name, known);
  return fail(
    key,
    `unknown key \`${name}\`` + (guess ? `; did you mean \`${guess}\`?` : `; known keys: ${known.join(', ')}`),
  );
}

function stringArray(value: unknown, key: string[], fail: Fail): string[] {
  if (!Array.isArray(value)) return fail(key, `expected an array of strings, found ${describe(value)}`);
  value.forEach((item, index) => {
    if (typeof item !== 'string') {
      fail(key, `expected an array of strings, found ${describe(item)} (element ${index + 1})`);
    }
  });
  return [...(value as string[])];
}

function entryProblem(entry: string, shape: EntryShape): string | undefined {
  switch (shape) {
    case 'name':
      return NAME_RE.test(entry) ? undefined : 'expected a function name such as `stop_device`';
    case 'path':
      return PATH_RE.test(entry) ? undefined : 'expected a type name or path such as `DmaPool`';
    case 'type-function':
      return QUALIFIED_RE.test(entry) ? undefined : 'expected "Type::function", such as `DmaPool::alloc`';
    case 'trait-method':
      return QUALIFIED_RE.test(entry) ? undefined : 'expected "Trait::method", such as `WorkItem::run`';
  }
}

function levelList(): string {
  return LEVELS.map((l) => `"${l}"`).join(', ');
}

function tomlMessage(e: smolToml.TomlError): string {
  // smol-toml appends a code excerpt after a blank line; the location is reported separately.
  const first = e.message.split('\n')[0].trim();
  return first.replace(/^Invalid TOML document:\s*/, '') || 'syntax error';
}

function isPlainTable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** TOML type name of a parsed value, for "expected X, found Y". */
function describe(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date-time';
  if (typeof value === 'object' && value !== null) return 'table';
  return typeof value;
}

/** The closest candidate when it is a plausible typo, else undefined. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  for (const c of candidates) {
    const d = norm(c) === norm(name) ? 0 : editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(best.length / 3)));
  return bestDistance <= limit ? best : undefined;
}

function displaySegment(s: string): string {
  return /^[A-Za-z0-9_-]+$/.test(s) ? s : JSON.stringify(s);
}

function displayKey(segments: string[]): string {
  return segments.map(displaySegment).join('.');
}

/**
 * The line (1-based) where the key path `wanted` is first written: in a `[table]` header, an
 * `a.b = ...` dotted key or a key of an inline table, as the path itself or as a prefix of a
 * longer one. Run on text smol-toml accepted, so it can be lenient; it always advances, so it
 * ends on any input. Paths are only ever compared on their first `wanted.length` segments, so a
 * key of 50,000 segments costs no more than its text.
 */
function findKeyLine(text: string, wanted: string[]): number | undefined {
  const depth = wanted.length;
  let found: number | undefined;
  const n = text.length;
  let i = 0;
  let line = 1;

  /** The first `depth` segments of `a` followed by `b`. */
  const head = (a: string[], b: string[]): string[] => [...a.slice(0, depth), ...b.slice(0, depth)].slice(0, depth);
  const record = (segments: string[], at: number) => {
    if (found === undefined && segments.length >= depth && wanted.every((w, k) => segments[k] === w)) found = at;
  };
  const skipBlank = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  /** Whitespace, newlines and comments. */
  const skipSpace = () => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\r') i++;
      else if (c === '\n') {
        line++;
        i++;
      } else if (c === '#') {
        while (i < n && text[i] !== '\n') i++;
      } else break;
    }
  };
  const skipLine = () => {
    while (i < n && text[i] !== '\n') i++;
  };
  /** A string at `i` (any of the four kinds); returns its value (escapes decoded for basic strings). */
  const readString = (): string => {
    const q = text[i];
    const multi = text.startsWith(q.repeat(3), i);
    i += multi ? 3 : 1;
    let value = '';
    while (i < n) {
      const c = text[i];
      if (multi && text.startsWith(q.repeat(3), i)) {
        i += 3;
        // Up to two more quotes belong to the content: `""""" ` ends with `""`.
        for (let extra = 0; extra < 2 && text[i] === q; extra++) i++;
        return value;
      }
      if (!multi && c === q) {
        i++;
        return value;
      }
      if (!multi && c === '\n') return value; // unterminated: stop at the line end
      if (c === '\n') line++;
      if (c === '\\' && q === '"') {
        const esc = text[i + 1];
        const simple: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', e: '\x1b', '"': '"', '\\': '\\' };
        if (esc !== undefined && esc in simple) {
          value += simple[esc];
          i += 2;
        } else if (esc === 'u' || esc === 'U' || esc === 'x') {
          const len = esc === 'u' ? 4 : esc === 'U' ? 8 : 2;
          const hex = text.slice(i + 2, i + 2 + len);
          const code = parseInt(hex, 16);
          value += Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : '';
          i += 2 + len;
        } else {
          // Line-ending backslash or an unknown escape: skip the backslash only; newlines are
          // counted by the loop.
          i++;
        }
        continue;
      }
      value += c;
      i++;
    }
    return value;
  };
  /** A dotted key at `i`; empty when there is none. */
  const readKey = (): string[] => {
    const segments: string[] = [];
    for (;;) {
      skipBlank();
      const c = text[i];
      if (c === '"' || c === "'") segments.push(readString());
      else {
        const start = i;
        while (i < n && /[A-Za-z0-9_-]/.test(text[i])) i++;
        if (i === start) break;
        segments.push(text.slice(start, i));
      }
      skipBlank();
      if (text[i] !== '.') break;
      i++;
    }
    return segments;
  };
  /** A value at `i`; keys of inline tables are recorded under `prefix`. */
  const skipValue = (prefix: string[] | undefined) => {
    skipBlank();
    const c = text[i];
    if (c === '"' || c === "'") {
      readString();
    } else if (c === '[') {
      i++;
      while (i < n) {
        skipSpace();
        if (text[i] === ']') {
          i++;
          break;
        }
        const before = i;
        skipValue(undefined);
        skipSpace();
        if (text[i] === ',') i++;
        if (i === before) i++;
      }
    } else if (c === '{') {
      i++;
      while (i < n) {
        skipSpace();
        if (text[i] === '}') {
          i++;
          break;
        }
        const before = i;
        const at = line;
        const key = readKey();
        if (key.length > 0) {
          const full = prefix ? head(prefix, key) : undefined;
          if (full) record(full, at);
          skipBlank();
          if (text[i] === '=') i++;
          skipValue(full);
        }
        skipSpace();
        if (text[i] === ',') i++;
        if (i === before) i++;
      }
    } else {
      // Numbers, booleans, dates (which may hold a space): up to a delimiter.
      while (i < n && !',]}#\r\n'.includes(text[i])) i++;
    }
  };

  let table: string[] = [];
  while (i < n) {
    skipSpace();
    if (i >= n) break;
    const at = line;
    if (text[i] === '[') {
      const arrayOfTables = text[i + 1] === '[';
      i += arrayOfTables ? 2 : 1;
      table = readKey().slice(0, depth);
      record(table, at);
      skipLine();
      continue;
    }
    const key = readKey();
    if (key.length === 0) {
      skipLine();
      continue;
    }
    const full = head(table, key);
    record(full, at);
    skipBlank();
    if (text[i] === '=') i++;
    skipValue(full);
  }
  return found;
}

/** Walks up from a file or folder to the filesystem root; the first `dmalint.toml` found. */
export function findConfigFile(startPath: string): string | undefined {
  const start = path.resolve(startPath);
  let dir = isDirectory(start) ? start : path.dirname(start);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (isFile(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The configuration for a run: the explicit file when given (it must be readable), else the
 * `dmalint.toml` found walking up from `startPath`, else the defaults rooted at `startPath`'s
 * folder. Reads the disk on every call.
 */
export function loadConfig(opts: { explicitFile?: string; startPath: string; knownRules: string[] }): DmalintConfig {
  if (opts.explicitFile !== undefined) {
    return parseConfig(readConfigText(opts.explicitFile), opts.explicitFile, opts.knownRules);
  }
  const found = findConfigFile(opts.startPath);
  if (found) return parseConfig(readConfigText(found), found, opts.knownRules);
  const start = path.resolve(opts.startPath);
  return defaultConfig(isDirectory(start) ? start : path.dirname(start));
}

/** Read with a size bound: `--config /dev/zero` fails at once, a FIFO is refused (it could block). */
function readConfigText(file: string): string {
  try {
    return readOptionFile(path.resolve(file), { maxBytes: MAX_CONFIG_BYTES });
  } catch (e) {
    throw new ConfigError(file, `cannot read config file: ${(e as Error).message}`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function normalizeGlob(glob: string): string {
  let g = glob.trim();
  while (g.startsWith('./')) g = g.slice(2);
  while (g.length > 1 && g.endsWith('/')) g = g.slice(0, -1);
  return g;
}

/**
 * Whether a file takes part in the run, by the `[files]` globs. The path is taken relative to
 * `config.root` with forward slashes. A glob that matches a folder covers everything under it
 * (`exclude = ["vendor"]`). A path outside the root passes only when there are no include globs.
 */
export function makePathFilter(config: DmalintConfig): (absPath: string) => boolean {
  const compile = (globs: string[]) => globs.map((g) => picomatch(normalizeGlob(g), { dot: true }));
  const include = compile(config.include);
  const exclude = compile(config.exclude);
  if (include.length === 0 && exclude.length === 0) return () => true;
  return (absPath: string) => {
    const rel = path.relative(config.root, path.resolve(absPath));
    if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return include.length === 0;
    const relPosix = rel.split(path.sep).join('/');
    // The path itself and each folder above it, inside the root.
    const candidates = [relPosix];
    for (let k = relPosix.lastIndexOf('/'); k > 0; k = relPosix.lastIndexOf('/', k - 1)) {
      candidates.push(relPosix.slice(0, k));
    }
    const matches = (m: (s: string) => boolean) => candidates.some((c) => m(c));
    if (include.length > 0 && !include.some(matches)) return false;
    return !exclude.some(matches);
  };
}
