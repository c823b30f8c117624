import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultConfig, findConfigFile, loadConfig, makePathFilter, parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/types.js';

const KNOWN = ['coherent_outside_probe', 'dma_free_without_quiesce', 'revocable_dma_addr'];

const tmpRoots: string[] = [];
function tmpDir(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-config-')));
  tmpRoots.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tmpRoots) fs.rmSync(dir, { recursive: true, force: true });
});

/** Parses `text` and returns the ConfigError it throws. */
function errorOf(text: string, file = '/project/dmalint.toml'): ConfigError {
  try {
    parseConfig(text, file, KNOWN);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaultConfig', () => {
  it('denies the three rules and has empty lists', () => {
    const c = defaultConfig('/p');
    expect(c).toEqual({
      root: '/p',
      rules: { coherent_outside_probe: 'deny', dma_free_without_quiesce: 'deny', revocable_dma_addr: 'deny' },
      api: { quiesceFunctions: [], allocationConstructors: [], dmaBufferTypes: [], boundMethods: [], unboundMethods: [] },
      include: [],
      exclude: [],
    });
    expect(c.source).toBeUndefined();
  });

  it('returns a fresh object each time', () => {
    const a = defaultConfig('/p');
    a.rules.revocable_dma_addr = 'allow';
    a.api.quiesceFunctions.push('x');
    expect(defaultConfig('/p').rules.revocable_dma_addr).toBe('deny');
    expect(defaultConfig('/p').api.quiesceFunctions).toEqual([]);
  });
});

describe('parseConfig: valid files', () => {
  it('reads every table and key', () => {
    const text = [
      '# dmalint settings',
      '[rules]',
      'revocable_dma_addr = "warn"',
      "coherent_outside_probe = 'allow'",
      '',
      '[api]',
      'quiesce-functions = ["stop_engine", "halt_hw"]',
      'allocation-constructors = ["DmaPool::alloc", "kernel::dma::Ring::new"]',
      'dma-buffer-types = ["DmaPool", "my::RingBuf"]',
      'bound-methods = ["Notifier::notify"]',
      'unbound-methods = [',
      '  "WorkItem::run",   # a comment',
      '  "kernel::timer::TimerCallback::run",',
      ']',
      '',
      '[files]',
      'include = ["drivers/**/*.rs"]',
      'exclude = ["drivers/legacy/**", "vendor"]',
    ].join('\n');
    const c = parseConfig(text, '/project/sub/dmalint.toml', KNOWN);
    expect(c.source).toBe(path.resolve('/project/sub/dmalint.toml'));
    expect(c.root).toBe(path.resolve('/project/sub'));
    expect(c.rules).toEqual({
      coherent_outside_probe: 'allow',
      dma_free_without_quiesce: 'deny',
      revocable_dma_addr: 'warn',
    });
    expect(c.api).toEqual({
      quiesceFunctions: ['stop_engine', 'halt_hw'],
      allocationConstructors: ['DmaPool::alloc', 'kernel::dma::Ring::new'],
      dmaBufferTypes: ['DmaPool', 'my::RingBuf'],
      boundMethods: ['Notifier::notify'],
      unboundMethods: ['WorkItem::run', 'kernel::timer::TimerCallback::run'],
    });
    expect(c.include).toEqual(['drivers/**/*.rs']);
    expect(c.exclude).toEqual(['drivers/legacy/**', 'vendor']);
  });

  it('accepts dotted keys, inline tables, a BOM and CRLF line ends', () => {
    const text = '\uFEFFrules.revocable_dma_addr = "warn"\r\napi = { quiesce-functions = ["stop"] }\r\n';
    const c = parseConfig(text, '/project/dmalint.toml', KNOWN);
    expect(c.rules.revocable_dma_addr).toBe('warn');
    expect(c.api.quiesceFunctions).toEqual(['stop']);
  });

  it('accepts an empty file as the defaults', () => {
    const c = parseConfig('', '/project/dmalint.toml', KNOWN);
    expect(c.rules).toEqual(defaultConfig('/project').rules);
    expect(c.source).toBe(path.resolve('/project/dmalint.toml'));
  });
});

describe('parseConfig: errors name the file, line and key', () => {
  it('malformed TOML uses the parser line', () => {
    const e = errorOf('[rules]\nrevocable_dma_addr = "warn"\ncoherent_outside_probe = \n');
    expect(e.file).toBe('/project/dmalint.toml');
    expect(e.line).toBe(3);
    expect(e.key).toBeUndefined();
    expect(e.detail).toMatch(/^invalid TOML: /);
    expect(e.message).toMatch(/^\/project\/dmalint\.toml:3: invalid TOML: /);
    expect(e.message).not.toContain('\n');
  });

  it('unknown key with a close match suggests it', () => {
    const e = errorOf('# comment\n[api]\n\nquiesce-function = ["stop"]\n');
    expect(e.line).toBe(4);
    expect(e.key).toBe('api.quiesce-function');
    expect(e.detail).toBe('unknown key `quiesce-function`; did you mean `quiesce-functions`?');
    expect(e.message).toBe(
      '/project/dmalint.toml:4: `api.quiesce-function`: unknown key `quiesce-function`; did you mean `quiesce-functions`?',
    );
  });

  it('snake_case spelling of a kebab-case key suggests the kebab-case one', () => {
    const e = errorOf('[api]\ndma_buffer_types = []\n');
    expect(e.line).toBe(2);
    expect(e.detail).toBe('unknown key `dma_buffer_types`; did you mean `dma-buffer-types`?');
  });

  it('unknown key with no close match lists the known keys', () => {
    const e = errorOf('[files]\ninclude = []\nsomething = []\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('files.something');
    expect(e.detail).toBe('unknown key `something`; known keys: include, exclude');
  });

  it('unknown top-level table', () => {
    const e = errorOf('[rules]\n\n[rule]\nrevocable_dma_addr = "warn"\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('rule');
    expect(e.detail).toBe('unknown table `[rule]`; did you mean `[rules]`?');
  });

  it('unknown top-level key', () => {
    const e = errorOf('verbose = true\n');
    expect(e.line).toBe(1);
    expect(e.key).toBe('verbose');
    expect(e.detail).toBe('unknown key `verbose`; expected one of `[rules]`, `[api]`, `[files]`');
  });

  it('wrong type: a string where an array is expected', () => {
    const e = errorOf('[files]\ninclude = ["a/**"]\nexclude = "vendor"\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('files.exclude');
    expect(e.detail).toBe('expected an array of strings, found string');
  });

  it('wrong type: an integer in an inline table', () => {
    const e = errorOf('api = { bound-methods = ["A::b"],\n  quiesce-functions = 3 }\n');
    expect(e.line).toBe(2);
    expect(e.key).toBe('api.quiesce-functions');
    expect(e.detail).toBe('expected an array of strings, found integer');
  });

  it('wrong type: an element that is not a string', () => {
    const e = errorOf('[api]\ndma-buffer-types = ["Pool", 7]\n');
    expect(e.line).toBe(2);
    expect(e.detail).toBe('expected an array of strings, found integer (element 2)');
  });

  it('wrong type: a table that is not a table', () => {
    const e = errorOf('rules = "deny"\n');
    expect(e.line).toBe(1);
    expect(e.key).toBe('rules');
    expect(e.detail).toBe('expected a table, found string');
  });

  it('unknown rule id lists the known ids', () => {
    const e = errorOf('[rules]\nrevocable_dma_addr = "warn"\nno_such_rule = "deny"\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('rules.no_such_rule');
    expect(e.detail).toBe(
      'unknown rule `no_such_rule` (known rules: coherent_outside_probe, dma_free_without_quiesce, revocable_dma_addr)',
    );
  });

  it('unknown rule id in a top-level dotted key, with a suggestion', () => {
    const e = errorOf('# settings\n\nrules.revocable_dma_adr = "warn"\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('rules.revocable_dma_adr');
    expect(e.detail).toMatch(/^unknown rule `revocable_dma_adr`; did you mean `revocable_dma_addr`\? \(known rules: /);
  });

  it('bad level lists the allowed ones', () => {
    const e = errorOf('[rules]\ncoherent_outside_probe = "allow"\ndma_free_without_quiesce = "error"\n');
    expect(e.line).toBe(3);
    expect(e.key).toBe('rules.dma_free_without_quiesce');
    expect(e.detail).toBe('invalid level `error`; expected one of "allow", "warn", "deny"');
  });

  it('a level that is not a string', () => {
    const e = errorOf('[rules]\nrevocable_dma_addr = false\n');
    expect(e.line).toBe(2);
    expect(e.detail).toBe('expected a string (one of "allow", "warn", "deny"), found boolean');
  });

  it('malformed "Type::function" entry', () => {
    const e = errorOf('[api]\nallocation-constructors = [\n  "DmaPool::alloc",\n  "alloc_ring",\n]\n');
    expect(e.line).toBe(2);
    expect(e.key).toBe('api.allocation-constructors');
    expect(e.detail).toBe('expected "Type::function", such as `DmaPool::alloc` (element 2: `alloc_ring`)');
  });

  it('malformed "Trait::method" entry', () => {
    const e = errorOf('[api]\nunbound-methods = ["WorkItem::"]\n');
    expect(e.line).toBe(2);
    expect(e.key).toBe('api.unbound-methods');
    expect(e.detail).toBe('expected "Trait::method", such as `WorkItem::run` (element 1: `WorkItem::`)');
  });

  it('finds the line past multi-line strings and arrays that look like headers', () => {
    const text = [
      '[files]',
      'include = [',
      '  "a/**", # not a ] bracket',
      "  '''b",
      "[api]''',",
      ']',
      'exclud = []',
    ].join('\n');
    const e = errorOf(text);
    expect(e.line).toBe(7);
    expect(e.key).toBe('files.exclud');
    expect(e.detail).toBe('unknown key `exclud`; did you mean `exclude`?');
  });

  it('an empty glob is rejected', () => {
    const e = errorOf('[files]\nexclude = [""]\n');
    expect(e.line).toBe(2);
    expect(e.detail).toBe('empty glob (element 1)');
  });
});

describe('findConfigFile', () => {
  it('walks up two levels from a file and from a folder', () => {
    const root = tmpDir();
    const deep = path.join(root, 'drivers', 'gpu');
    fs.mkdirSync(deep, { recursive: true });
    const src = path.join(deep, 'main.rs');
    fs.writeFileSync(src, '');
    fs.writeFileSync(path.join(root, 'dmalint.toml'), '');
    expect(findConfigFile(src)).toBe(path.join(root, 'dmalint.toml'));
    expect(findConfigFile(deep)).toBe(path.join(root, 'dmalint.toml'));
  });

  it('takes the nearest file and ignores a folder named dmalint.toml', () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'a', 'dmalint.toml'), { recursive: true });
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dmalint.toml'), '');
    expect(findConfigFile(path.join(root, 'a', 'b'))).toBe(path.join(root, 'dmalint.toml'));
    fs.writeFileSync(path.join(root, 'a', 'b', 'dmalint.toml'), '');
    expect(findConfigFile(path.join(root, 'a', 'b'))).toBe(path.join(root, 'a', 'b', 'dmalint.toml'));
  });
});

describe('loadConfig', () => {
  it('loads the file found walking up', () => {
    const root = tmpDir();
    fs.mkdirSync(path.join(root, 'src'));
    fs.writeFileSync(path.join(root, 'src', 'lib.rs'), '');
    fs.writeFileSync(path.join(root, 'dmalint.toml'), '[rules]\nrevocable_dma_addr = "allow"\n');
    const c = loadConfig({ startPath: path.join(root, 'src', 'lib.rs'), knownRules: KNOWN });
    expect(c.source).toBe(path.join(root, 'dmalint.toml'));
    expect(c.root).toBe(root);
    expect(c.rules.revocable_dma_addr).toBe('allow');
  });

  it('reads the disk on each call (no cache)', () => {
    const root = tmpDir();
    const file = path.join(root, 'dmalint.toml');
    fs.writeFileSync(file, '[rules]\nrevocable_dma_addr = "allow"\n');
    expect(loadConfig({ startPath: root, knownRules: KNOWN }).rules.revocable_dma_addr).toBe('allow');
    fs.writeFileSync(file, '[rules]\nrevocable_dma_addr = "warn"\n');
    expect(loadConfig({ startPath: root, knownRules: KNOWN }).rules.revocable_dma_addr).toBe('warn');
  });

  it('uses an explicit file over the found one, with errors naming it', () => {
    const root = tmpDir();
    fs.writeFileSync(path.join(root, 'dmalint.toml'), '[rules]\nrevocable_dma_addr = "allow"\n');
    const other = path.join(root, 'ci.toml');
    fs.writeFileSync(other, '[rules]\nrevocable_dma_addr = "warn"\n');
    const c = loadConfig({ explicitFile: other, startPath: root, knownRules: KNOWN });
    expect(c.source).toBe(other);
    expect(c.rules.revocable_dma_addr).toBe('warn');

    fs.writeFileSync(other, '[rules]\n\nbogus = "warn"\n');
    expect(() => loadConfig({ explicitFile: other, startPath: root, knownRules: KNOWN })).toThrow(
      expect.objectContaining({ file: other, line: 3, key: 'rules.bogus' }),
    );
  });

  it('a missing explicit file is a ConfigError naming it', () => {
    const root = tmpDir();
    const missing = path.join(root, 'nope.toml');
    let err: unknown;
    try {
      loadConfig({ explicitFile: missing, startPath: root, knownRules: KNOWN });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.file).toBe(missing);
    expect(ce.line).toBeUndefined();
    expect(ce.detail).toBe('cannot read config file: no such file');
    expect(ce.message).toBe(`${missing}: cannot read config file: no such file`);
  });

  it('an explicit folder is a ConfigError', () => {
    const root = tmpDir();
    expect(() => loadConfig({ explicitFile: root, startPath: root, knownRules: KNOWN })).toThrow(ConfigError);
  });

  it('falls back to the defaults rooted at the start folder', () => {
    const root = tmpDir();
    // The temporary folder may itself sit under a dmalint.toml; only check when none is found.
    if (findConfigFile(root) !== undefined) return;
    const file = path.join(root, 'x.rs');
    fs.writeFileSync(file, '');
    expect(loadConfig({ startPath: root, knownRules: KNOWN })).toEqual(defaultConfig(root));
    expect(loadConfig({ startPath: file, knownRules: KNOWN })).toEqual(defaultConfig(root));
  });
});

describe('makePathFilter', () => {
  const root = path.resolve('/project');
  const at = (...parts: string[]) => path.join(root, ...parts);
  const config = (include: string[], exclude: string[]) => ({ ...defaultConfig(root), include, exclude });

  it('passes everything with no globs', () => {
    const f = makePathFilter(config([], []));
    expect(f(at('a.rs'))).toBe(true);
    expect(f(at('deep', 'x', 'b.rs'))).toBe(true);
    expect(f(path.resolve('/elsewhere/c.rs'))).toBe(true);
  });

  it('include limits, exclude removes, dot files match', () => {
    const f = makePathFilter(config(['drivers/**/*.rs', './samples/*.rs'], ['drivers/legacy/**', '**/*_test.rs']));
    expect(f(at('drivers', 'gpu', 'main.rs'))).toBe(true);
    expect(f(at('drivers', '.hidden', 'x.rs'))).toBe(true);
    expect(f(at('samples', 'a.rs'))).toBe(true);
    expect(f(at('samples', 'deep', 'a.rs'))).toBe(false);
    expect(f(at('lib', 'a.rs'))).toBe(false);
    expect(f(at('drivers', 'legacy', 'old.rs'))).toBe(false);
    expect(f(at('drivers', 'gpu', 'ring_test.rs'))).toBe(false);
    expect(f(path.resolve('/elsewhere/drivers/a.rs'))).toBe(false);
  });

  it('exclude alone; a glob naming a folder covers what is under it', () => {
    const f = makePathFilter(config([], ['vendor', 'gen/']));
    expect(f(at('src', 'a.rs'))).toBe(true);
    expect(f(at('vendor', 'x', 'y.rs'))).toBe(false);
    expect(f(at('gen', 'z.rs'))).toBe(false);
    expect(f(at('src', 'vendor.rs'))).toBe(true);
  });
});
