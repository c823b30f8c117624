// The flat copy of a tree must answer every question the extractor asks exactly as the
// tree-sitter binding does: compared node by node on every fixture and on awkward inputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { flattenTree } from '../src/syntax/flat-tree.js';
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
function differences(text: string): string[] {
  const tree = parseRust(text);
  const flat = flattenTree(tree, text);
  const out: string[] = [];
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
    for (const f of FIELDS) {
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

function rustFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.rs'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

describe('flat tree', () => {
  it('answers like the binding on every fixture', () => {
    const files = rustFiles(path.resolve('fixtures'));
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      expect(differences(fs.readFileSync(file, 'utf8')), file).toEqual([]);
    }
  });

  it('answers like the binding on broken edits of fixtures', () => {
    // Deterministic damage (deleted runs, stray tokens, pasted fragments) so error recovery,
    // MISSING nodes and ERROR nodes are compared too; `npm run fuzz` goes much further.
    const files = rustFiles(path.resolve('fixtures'));
    let seed = 20261124;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const tokens = ['{', '}', '(', ')', ';', ',', '<', '>', '"', "'", 'r#"', '/*', '*/', '//', '&', 'mut ', '\0', '\r\n', 'é', '😀', 'fn ', 'impl ', '#[', ']', '?', '::', '|'];
    let broken = 0;
    for (let k = 0; k < 60; k++) {
      let text = fs.readFileSync(pick(files), 'utf8');
      for (let e = 0; e < 1 + Math.floor(rnd() * 3); e++) {
        const at = Math.floor(rnd() * (text.length + 1));
        const r = rnd();
        if (r < 0.4) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(rnd() * 20));
        else if (r < 0.8) text = text.slice(0, at) + pick(tokens) + text.slice(at);
        else {
          const from = Math.floor(rnd() * text.length);
          text = text.slice(0, at) + text.slice(from, from + Math.floor(rnd() * 80)) + text.slice(at);
        }
      }
      if (parseRust(text).rootNode.hasError) broken++;
      expect(differences(text), `case ${k}`).toEqual([]);
    }
    expect(broken).toBeGreaterThan(20);
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
  };
  for (const [name, text] of Object.entries(awkward)) {
    it(`answers like the binding: ${name}`, () => {
      expect(differences(text)).toEqual([]);
    });
  }
});
