// The native addon's parse and export (native/flat_parse.c) must give the extractor the very
// facts the tree-sitter binding's path gives: compared file by file on every .rs file under
// fixtures/ and test/, and on broken edits of them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module shared with `npm run fuzz`
import { caseArbitrary, loadSeeds, mutate } from '../scripts/fuzz-core.mjs';
import { extractFacts } from '../src/facts/extract.js';
import { getNativeParse, useNativeParse } from '../src/syntax/native-parse.js';

const root = path.resolve(__dirname, '..');
const native = getNativeParse() !== undefined;

function rustFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? rustFilesUnder(full) : e.name.endsWith('.rs') ? [full] : [];
  });
}

/** The facts of `text` through the addon and through the binding. */
function bothWays(text: string): { viaNative: unknown; viaBinding: unknown } {
  useNativeParse(true);
  const viaNative = extractFacts(text);
  useNativeParse(false);
  const viaBinding = extractFacts(text);
  useNativeParse(true);
  return { viaNative, viaBinding };
}

describe.runIf(native)('facts through the native addon', () => {
  afterEach(() => useNativeParse(true));

  it('equal the facts through the binding on every .rs file under fixtures/ and test/', () => {
    const files = [...rustFilesUnder(path.join(root, 'fixtures')), ...rustFilesUnder(path.join(root, 'test'))];
    expect(files.length).toBeGreaterThan(200);
    let suppressions = 0;
    for (const file of files) {
      const { viaNative, viaBinding } = bothWays(fs.readFileSync(file, 'utf8'));
      expect(viaNative, path.relative(root, file)).toStrictEqual(viaBinding);
      suppressions += (viaNative as { suppressions: unknown[] }).suppressions.length;
    }
    // The comparison covers suppression comments (recognised through the tree).
    expect(suppressions).toBeGreaterThan(0);
  }, 240_000);

  it('equal the facts through the binding on broken edits of fixtures', () => {
    const seeds = loadSeeds() as { files: { text: string }[] }[];
    let broken = 0;
    fc.assert(
      fc.property(caseArbitrary(fc, seeds.length, { maxNest: 40 }), (c: { seed: number; file: number; mutations: unknown[] }) => {
        const seed = seeds[c.seed % seeds.length];
        const text = (mutate(seed.files[c.file % seed.files.length].text, c.mutations) as Buffer).toString('utf8');
        const { viaNative, viaBinding } = bothWays(text);
        expect(viaNative).toStrictEqual(viaBinding);
        if ((viaNative as { syntaxErrors: unknown[] }).syntaxErrors.length > 0) broken++;
      }),
      { numRuns: 80, seed: 20_261_126 },
    );
    expect(broken).toBeGreaterThan(20);
  }, 120_000);

  const awkward: Record<string, string> = {
    empty: '',
    CRLF: 'struct S {\r\n    dma: CoherentAllocation<u8>,\r\n}\r\n// dmalint-allow(x): because\r\nfn f() {}\r\n',
    'non-ASCII and surrogate pairs': 'fn f() { let s = "é😀ü"; /* ☃ dmalint-allow(y): z */ g(s); }\nfn h() {}\n',
    'NUL byte': 'fn f() { let a = "\0"; }\0\n',
    'lone surrogate': 'fn f() { let a = "\ud800"; }\n',
    'missing token and unclosed block': 'fn f() { let a = 1 }\nfn g() { if a { b(\n',
    'macro bodies': 'fn f() { dev_info!(d, "{}", x.y()); global_lock! { unsafe(uninit) static X: Mutex<u32> = 0; } }\n',
  };
  for (const [name, text] of Object.entries(awkward)) {
    it(`equal the facts through the binding: ${name}`, () => {
      const { viaNative, viaBinding } = bothWays(text);
      expect(viaNative).toStrictEqual(viaBinding);
    });
  }
});
