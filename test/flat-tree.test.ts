// The flat copy of a tree must answer every question the extractor asks exactly as the
// tree-sitter binding does: compared node by node on every fixture and on awkward inputs, for
// the three ways of copying (children calls for trees without errors, a cursor walk for any
// tree, and the native addon's parse and export in one call).
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module shared with `npm run fuzz`
import { caseArbitrary, loadSeeds, mutate } from '../scripts/fuzz-core.mjs';
import { flattenTree, nodeAtIndex, parseNative } from '../src/syntax/flat-tree.js';
import { getNativeParse, nativeParseLoadError } from '../src/syntax/native-parse.js';
import type { FieldName } from '../src/syntax/node-kinds.generated.js';
import { parseRust, type SyntaxNode } from '../src/syntax/parser.js';

const FIELDS: FieldName[] = [
  'alias', 'alternative', 'argument', 'arguments', 'body', 'bounds', 'condition', 'consequence', 'default_type', 'doc',
  'element', 'field', 'function', 'inner', 'left', 'length', 'list', 'macro', 'name', 'operator', 'outer', 'parameters',
  'path', 'pattern', 'return_type', 'right', 'trait', 'type', 'type_arguments', 'type_parameters', 'value',
];

/** Identity of a node within one tree, comparable across the two implementations. */
function key(n: SyntaxNode | null): string {
  return n ? `${n.type}@${n.startIndex}-${n.endIndex}` : 'null';
}

/** Every difference between the two trees, as readable lines (empty when they agree). */
function differences(text: string, via?: 'cursor' | 'native', fields: readonly FieldName[] = FIELDS): string[] {
  const tree = parseRust(text);
  const flat = via === 'native' ? parseNative(text)! : flattenTree(tree, text, via);
  const out: string[] = [];
  if (via === 'native') {
    // The node holding a code unit, as suppression comments are recognised: every '/' and some
    // other code units.
    for (let i = 0; i < text.length && out.length < 10; i++) {
      if (text[i] !== '/' && i % 5 !== 0) continue;
      const a = key(nodeAtIndex(tree.rootNode, i));
      const b = key(nodeAtIndex(flat, i));
      if (a !== b) out.push(`node at ${i}: native ${a}, flat ${b}`);
    }
  }
  const stack: [SyntaxNode, SyntaxNode][] = [[tree.rootNode, flat]];
  while (stack.length > 0 && out.length < 10) {
    const [a, b] = stack.pop()!;
    const where = key(a);
    const same = (what: string, x: unknown, y: unknown) => {
      if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${where} ${what}: native ${JSON.stringify(x)}, flat ${JSON.stringify(y)}`);
    };
    same('type', a.type, b.type);
    same('isNamed', a.isNamed, b.isNamed);
    same('isMissing', a.isMissing, b.isMissing);
    same('hasError', a.hasError, b.hasError);
    same('startIndex', a.startIndex, b.startIndex);
    same('endIndex', a.endIndex, b.endIndex);
    same('startPosition', a.startPosition, b.startPosition);
    same('endPosition', a.endPosition, b.endPosition);
    same('text', a.text, b.text);
    // The binding finds a node's parent and siblings by position from the root, which goes wrong
    // for a zero-width (MISSING) node where another node ends: it answers a node that merely
    // touches it. The flat copy follows the tree's real links, as a cursor does.
    if (a.startIndex !== a.endIndex) {
      same('parent', key(a.parent), key(b.parent));
      same('previousSibling', key(a.previousSibling), key(b.previousSibling));
      same('nextSibling', key(a.nextSibling), key(b.nextSibling));
    }
    same('childCount', a.childCount, b.childCount);
    same('namedChildCount', a.namedChildCount, b.namedChildCount);
    same('namedChildren', a.namedChildren.map(key), b.namedChildren.map(key));
    for (const f of fields) {
      same(`field ${f}`, key(a.childForFieldName(f)), key(b.childForFieldName(f)));
      same(`fields ${f}`, a.childrenForFieldName(f).map(key), b.childrenForFieldName(f).map(key));
    }
    const ac = a.children;
    const bc = b.children;
    same('children', ac.map(key), bc.map(key));
    if (ac.length === bc.length) for (let i = 0; i < ac.length; i++) stack.push([ac[i], bc[i]]);
  }
  return out;
}

interface Seed {
  name: string;
  files: { path: string; text: string }[];
}

const seeds = loadSeeds() as Seed[];

/** Whether the native addon must be there: set DMALINT_NATIVE_ABSENT=1 where it is not built on purpose. */
const nativeExpected = process.env.DMALINT_NATIVE_ABSENT !== '1' && process.env.DMALINT_NATIVE !== '0';
const native = getNativeParse() !== undefined;

function rustFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? rustFilesUnder(full) : e.name.endsWith('.rs') ? [full] : [];
  });
}

/**
 * Compares a copy with the binding on texts broken by the fuzzer's mutations (deleted,
 * duplicated and swapped tokens, a cut, stray bytes, some nesting), so error recovery, MISSING
 * and ERROR nodes are compared too; fixed seed. Returns how many texts had a syntax error.
 */
function brokenEditsCompared(via: 'native' | undefined, numRuns: number, seed: number): number {
  let broken = 0;
  fc.assert(
    fc.property(caseArbitrary(fc, seeds.length, { maxNest: 40 }), (c: { seed: number; file: number; mutations: unknown[] }) => {
      const source = seeds[c.seed % seeds.length];
      const text = (mutate(source.files[c.file % source.files.length].text, c.mutations) as Buffer).toString('utf8');
      if (parseRust(text).rootNode.hasError) broken++;
      expect(differences(text, via)).toEqual([]);
    }),
    { numRuns, seed },
  );
  return broken;
}

describe('native parse and export', () => {
  it('is built and loads (set DMALINT_NATIVE_ABSENT=1 where it is not built)', () => {
    if (nativeExpected) expect(nativeParseLoadError()).toBeUndefined();
    expect(native).toBe(nativeExpected);
  });

  it.runIf(native)('answers like the binding on every .rs file under fixtures/ and test/', () => {
    const root = path.resolve(__dirname, '..');
    const files = [...rustFilesUnder(path.join(root, 'fixtures')), ...rustFilesUnder(path.join(root, 'test'))];
    expect(files.length).toBeGreaterThan(200);
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      expect(differences(text, 'native'), path.relative(root, file)).toEqual([]);
    }
  }, 240_000);

  it.runIf(native)('answers like the binding on broken edits of fixtures', () => {
    expect(brokenEditsCompared('native', 100, 20_261_125)).toBeGreaterThan(30);
  }, 120_000);

  it.runIf(native)('answers like the binding on random text', () => {
    // Any code units at all, lone surrogates included: the binding and the addon read the same UTF-16.
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom(...'fn(){}[];:<>&*\'"/ \n\r\t#!0a_é'.split('')), fc.integer({ min: 0, max: 0xffff }).map((u) => String.fromCharCode(u))), maxLength: 200 }), (text: string) => {
        expect(differences(text, 'native')).toEqual([]);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});

describe('flat tree', () => {
  it('answers like the binding on every fixture', () => {
    const files = seeds.flatMap((seed) => seed.files.map((f) => ({ name: `${seed.name} ${f.path}`, text: f.text })));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      expect(differences(file.text), file.name).toEqual([]);
      expect(differences(file.text, 'cursor'), `${file.name}, by cursor`).toEqual([]);
    }
    // Every fixture twice, node by node: a hang guard, generous for a loaded machine.
  }, 240_000);

  it('answers fields alike whatever order they are asked in', () => {
    // A field several children could hold by type is decided when first asked, and the answer
    // settles the others by elimination: asking in reverse order takes other paths.
    const reversed = [...FIELDS].reverse();
    const files = seeds.flatMap((seed) => seed.files.map((f) => ({ name: `${seed.name} ${f.path}`, text: f.text })));
    for (const file of files.filter((_, i) => i % 3 === 0)) {
      expect(differences(file.text, undefined, reversed), file.name).toEqual([]);
    }
  });

  it('answers like the binding on broken edits of fixtures', () => {
    expect(brokenEditsCompared(undefined, 60, 20_261_124)).toBeGreaterThan(20);
  });

  const awkward: Record<string, string> = {
    empty: '',
    'only a comment': '// nothing here\n',
    'leading blank lines': '\n\n\n  fn f() {}\n',
    CRLF: 'fn f() {\r\n    let a = 1;\r\n}\r\n',
    'non-ASCII and surrogate pairs': 'fn f() { let s = "é😀ü"; /* ☃ */ g(s); }\nfn h() {}\n',
    BOM: '\uFEFFfn f() {}\n',
    'NUL bytes': 'fn f() { let a = "\0"; }\0\n',
    'missing token': 'fn f() { let a = 1 }\n',
    'unclosed block': 'fn f() { if a { b(\n',
    'stray tokens': 'struct S { a: u32,, } ) ] fn g() -> { }\n',
    'error at the start': '}}} fn f() {}\n',
    'fields of children of an ERROR node': 'struct n(d,t',
    'macro and attributes': '#[cfg(test)]\n#[derive(Debug)]\nstruct S(u32);\nfn f() { dev_info!(d, "{}", x.y()); try_pin_init!(Self { a <- b, c: d }) }\n',
    'raw strings and lifetimes': "fn f<'a>(x: &'a str) -> &'a str { r#\"a\"b\"#; x }\n",
    // Tokens whose text ends in whitespace, where an end cannot be found from the next token.
    'strings ending in whitespace': 'fn f() { let a = "x  "; let b = "y\\\n   z"; let c = r#"  "#; let d = b"  "; let e = \' \'; }\n',
    'doc comments ending in whitespace': '/// doc   \n//! inner  \n/** block  */\n// plain   \nfn f() {} // end   ',
    shebang: '#!/usr/bin/env run-cargo-script   \nfn main() {}\n',
    'no newline at the end, trailing blanks': 'fn f() {}   \t ',
    'tabs, form feeds and vertical tabs between tokens': 'fn\tf()\x0c{\x0ba\t}\n',
    'operators that share a prefix': 'fn f() { a >>= b >> c >= d; x::<Vec<Vec<u8>>>(); }\n',
  };
  for (const [name, text] of Object.entries(awkward)) {
    it(`answers like the binding: ${name}`, () => {
      expect(differences(text)).toEqual([]);
      expect(differences(text, 'cursor')).toEqual([]);
      if (native) expect(differences(text, 'native')).toEqual([]);
    });
  }
});
