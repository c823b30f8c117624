// Hostile shapes at 10,000 levels: no walker of ours may overflow the stack or take exponential
// time. Each input is linted in a child process with a time bound (see scripts/fuzz-core.mjs),
// so a regression fails the test instead of hanging it.
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WORK_ITEM_BUG, runCli, tempTree } from './cli-helpers.js';
// @ts-expect-error: a plain JavaScript module shared with `npm run fuzz`
import { Checker, FACTS_DEPTH_BOUND } from '../scripts/fuzz-core.mjs';

const N = 10_000;
const rep = (s: string, n = N) => s.repeat(n);

/**
 * Each shape, and whether its nesting is cut (so the file gets the "nesting too deep" notice)
 * rather than parsed flat or bounded quietly (type depth, paths).
 */
const SHAPES: Record<string, { text: string; truncated?: boolean }> = {
  'nested blocks': { text: `fn f() ${rep('{')}x${rep('}')}`, truncated: true },
  'nested parentheses': { text: `fn f() { let a = ${rep('(')}1${rep(')')}; }`, truncated: true },
  'chained method calls': { text: `fn f() { x${rep('.m()')}; }`, truncated: true },
  'chained fields': { text: `fn f() { x${rep('.f')}; }`, truncated: true },
  'chained calls on a known type': {
    text: `struct S; impl S { fn m(&self) -> S { S } }\nfn f(s: S) { s${rep('.m()')}; }`,
    truncated: true,
  },
  'let chain through methods': { text: `fn f() { let a0 = x;\n${Array.from({ length: N }, (_, i) => `let a${i + 1} = a${i}.m();`).join('\n')}\n}` },
  'binary operators': { text: `fn f() { let a = 1${rep(' + 1')}; }`, truncated: true },
  'unary operators': { text: `fn f() { let a = ${rep('-')}1; }`, truncated: true },
  'references': { text: `fn f() { let a = ${rep('&')}x; }`, truncated: true },
  'try operators': { text: `fn f() { x${rep('?')}; }`, truncated: true },
  'closures': { text: `fn f() { let a = ${rep('|x| ')}1; }`, truncated: true },
  'if expressions': { text: `fn f() { ${rep('if a { ')}1${rep(' }')} }`, truncated: true },
  'else-if chain': { text: `fn f() { if a {1}${rep(' else if a {1}')} }`, truncated: true },
  'match expressions': { text: `fn f() { ${rep('match a { _ => ')}1${rep(' }')} }`, truncated: true },
  'struct literals': { text: `fn f() { ${rep('S { a: ')}1${rep(' }')}; }`, truncated: true },
  'calls': { text: `fn f() { ${rep('f(')}${rep(')')}; }`, truncated: true },
  'macro calls': { text: `fn f() { ${rep('m!(')}${rep(')')}; }` },
  'blocks inside a macro inside blocks': { text: `fn f() { ${rep('{ ', 120)}m!(${rep('{ ')}1${rep(' }')})${rep(' }', 120)} }`, truncated: true },
  'modules': { text: `${rep('mod m { ')}fn f() {}${rep(' }')}`, truncated: true },
  'functions in functions': { text: `${rep('fn f() { ')}${rep(' }')}` },
  'generic types': { text: `struct S { a: ${rep('Box<')}u8${rep('>')} }` },
  'type alias': { text: `type T = ${rep('Box<')}u8${rep('>')};` },
  'reference types': { text: `struct S { a: ${rep('&')}u8 }` },
  'tuple types': { text: `struct S(${rep('(')}u8${rep(',)')});` },
  'qualified paths': { text: `type X = ${rep('<')}T${rep(' as A>::B')};` },
  'turbofish': { text: `fn f() { g::<${rep('Box<')}u8${rep('>')}>(); }` },
  'impl trait bounds': { text: `fn f() -> ${rep('impl A<')}u8${rep('>')} {}` },
  'use lists': { text: `use a::${rep('{a::')}b${rep('}')};`, truncated: true },
  'long path': { text: `use ${rep('a::')}b;` },
  'tuple patterns': { text: `fn f() { let ${rep('(')}a${rep(',)')} = 1; }` },
  'block comments': { text: `${rep('/*')}${rep('*/')}` },
  'unclosed braces': { text: `fn f() ${rep('{')}` },
  'stray closing braces': { text: rep('}') },
  'attributes': { text: `${rep('#[a]\n')}fn f() {}` },
  'a call chain through 10,000 functions': {
    text: `${Array.from({ length: N }, (_, i) => `fn f${i}() { f${i + 1}(); }`).join('\n')}\nstruct W;\nimpl WorkItem for W { fn run(this: Arc<W>) { f0(); } }`,
  },
  'a very long line': { text: `fn f() { let a = [${rep('1, ', 100_000)}]; }` },
};

/** Every shape also names the DMA API, so that the CLI's pre-scan analyzes it. */
const withDma = (text: string) => `use kernel::dma::CoherentAllocation;\n${text}\n`;

const checker = new Checker({ timeoutMs: 30_000 });
afterAll(() => checker.close());

interface CheckResult {
  ok: boolean;
  stage?: string;
  error?: string;
  stack?: string;
  truncated?: boolean;
  depth?: number;
}

describe('10,000 levels deep', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    it(name, async () => {
      const r = (await checker.check([{ path: 'deep.rs', absPath: '/fuzz/deep.rs', bytes: Buffer.from(withDma(shape.text)) }])) as CheckResult;
      expect(r.ok, `${r.stage}: ${r.error}\n${r.stack ?? ''}`).toBe(true);
      expect(r.depth).toBeLessThanOrEqual(FACTS_DEPTH_BOUND);
      expect(r.truncated).toBe(!!shape.truncated);
    });
  }

  it('through the CLI: every deep file is linted or noted, and a bug beside them is still found', () => {
    const files: Record<string, string> = { 'refill.rs': WORK_ITEM_BUG };
    for (const [name, shape] of Object.entries(SHAPES)) files[`${name.replace(/[^a-z0-9]+/gi, '_')}.rs`] = withDma(shape.text);
    const dir = tempTree(files);
    const r = runCli(['check', '--format', 'json', '--no-cache', '.'], { cwd: dir });
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout) as { findings: { file: string; rule: string }[]; notices: { file: string; kind: string }[]; summary: { filesChecked: number } };
    expect(report.summary.filesChecked).toBe(Object.keys(files).length);
    expect(report.findings.map((f) => `${f.file}: ${f.rule}`)).toEqual(['refill.rs: coherent_outside_probe']);
    const truncated = report.notices.filter((n) => n.kind === 'truncated').map((n) => n.file).sort();
    const expected = Object.entries(SHAPES).filter(([, s]) => s.truncated).map(([name]) => `${name.replace(/[^a-z0-9]+/gi, '_')}.rs`).sort();
    expect(truncated).toEqual(expected);
    expect(report.notices.every((n) => n.kind === 'truncated' || n.kind === 'syntax-error')).toBe(true);
    expect(r.code).toBe(1);
    // Nothing was written into the linted tree.
    expect(fs.readdirSync(dir).sort()).toEqual(Object.keys(files).sort());
  });
});
