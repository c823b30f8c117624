// The language server's pure parts: position conversions and the edits of its code actions.
import { describe, expect, it } from 'vitest';
import { extractFacts } from '../src/facts/extract.js';
import { removeCommentEdit, splitLines, suppressionEdit, type LineEdit } from '../src/lsp/fixes.js';
import { pointAt, spanToRange, treeEditFor } from '../src/lsp/positions.js';
import { PassThrough } from 'node:stream';
import { FramedMessageReader, MAX_MESSAGE_BYTES, describeOversized } from '../src/lsp/transport.js';

function apply(text: string, e: LineEdit): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
  return text.slice(0, offset(e.start)) + e.newText + text.slice(offset(e.end));
}

describe('positions', () => {
  it('maps 1-based spans with exclusive end columns to 0-based LSP ranges', () => {
    expect(spanToRange({ line: 3, col: 5, endLine: 3, endCol: 9 })).toEqual({ start: { line: 2, character: 4 }, end: { line: 2, character: 8 } });
  });

  it('counts UTF-16 code units and rows at \\n, as tree-sitter does', () => {
    const text = 'a😀b\nxy\r\nz';
    expect(pointAt(text, 4)).toEqual({ row: 0, column: 4 });
    expect(pointAt(text, 5)).toEqual({ row: 1, column: 0 });
    expect(pointAt(text, 8)).toEqual({ row: 1, column: 3 });
    expect(pointAt(text, 9)).toEqual({ row: 2, column: 0 });
  });

  it('describes an edit to tree-sitter with old and new end points', () => {
    const text = 'fn a() {\n    x\n}\n';
    const at = text.indexOf('x');
    expect(treeEditFor(text, at, at + 1, 'y\n    zz')).toEqual({
      startIndex: at,
      oldEndIndex: at + 1,
      newEndIndex: at + 8,
      startPosition: { row: 1, column: 4 },
      oldEndPosition: { row: 1, column: 5 },
      newEndPosition: { row: 2, column: 6 },
    });
  });
});

describe('suppression edits', () => {
  const text = `const A: u32 = 1; // a note\n/// Ring state.\n#[pin_data]\nstruct Ring {\n    buf: u32,\n}\n`;
  const facts = extractFacts(text);

  it('go above the attributes and doc comments of the item holding the finding', () => {
    const e = suppressionEdit('some_rule', 5, facts, splitLines(text));
    expect(apply(text, e)).toBe(`const A: u32 = 1; // a note\n// dmalint-allow(some_rule): <reason>\n/// Ring state.\n#[pin_data]\nstruct Ring {\n    buf: u32,\n}\n`);
    expect(e.select).toEqual({ line: 1, start: '// dmalint-allow(some_rule): '.length, end: '// dmalint-allow(some_rule): <reason>'.length });
    expect(e.snippet).toBe('// dmalint-allow(some_rule): ${1:<reason>}\n');
  });

  it('go right above the item when code shares its lead lines', () => {
    const tight = `fn a() {} // note\nfn b() {\n    let x = 1;\n}\n`;
    const e = suppressionEdit('r', 3, extractFacts(tight), splitLines(tight));
    expect(apply(tight, e)).toBe(`fn a() {} // note\n// dmalint-allow(r): <reason>\nfn b() {\n    let x = 1;\n}\n`);
  });

  it('take the indentation of an item inside an impl', () => {
    const nested = `impl X {\n    fn f(&self) {\n        g();\n    }\n}\n`;
    const e = suppressionEdit('r', 3, extractFacts(nested), splitLines(nested));
    expect(apply(nested, e)).toBe(`impl X {\n    // dmalint-allow(r): <reason>\n    fn f(&self) {\n        g();\n    }\n}\n`);
  });

  it('remove a comment that ends a line of code, keeping the code', () => {
    const t = `let n = 1;   // dmalint-allow(r): old\n`;
    expect(apply(t, removeCommentEdit({ line: 1, col: 14, endLine: 1, endCol: 38 }, splitLines(t)))).toBe('let n = 1;\n');
  });
});

describe('message framing', () => {
  const framed = (m: unknown) => {
    const body = JSON.stringify(m);
    return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('reads messages however the bytes are cut, and answers a body that is not JSON', () => {
    const messages = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { capabilities: {} } },
      { jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///a.rs', text: 'fn é() {} // Content-Length: 5' } } },
    ];
    const bytes = Buffer.from(messages.map(framed).join('') + 'Content-Length: 3\r\n\r\n{x}' + framed({ jsonrpc: '2.0', method: 'exit' }));
    for (const step of [1, 7, bytes.length]) {
      const input = new PassThrough();
      const got: unknown[] = [];
      const rejected: unknown[] = [];
      const broken: string[] = [];
      const reader = new FramedMessageReader(input, { broken: (r) => broken.push(r), oversized: () => undefined, dropped: () => undefined }, (r) => rejected.push(r));
      reader.listen((m) => got.push(m));
      for (let i = 0; i < bytes.length; i += step) input.write(bytes.subarray(i, i + step));
      expect(broken).toEqual([]);
      expect(got).toEqual([...messages, { jsonrpc: '2.0', method: 'exit' }]);
      expect(rejected).toMatchObject([{ id: null, error: { code: -32700 } }]);
    }
  });

  it('skips a body too long to read without keeping it, tells what it was, and reads on', () => {
    const input = new PassThrough();
    const got: unknown[] = [];
    const oversized: unknown[] = [];
    const reader = new FramedMessageReader(input, { broken: (r) => expect.fail(r), oversized: (m) => oversized.push(m), dropped: () => undefined }, () => expect.fail('rejected'));
    reader.listen((m) => got.push(m));
    const head = '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///huge.rs","languageId":"rust","version":1,"text":"';
    const length = MAX_MESSAGE_BYTES + 1;
    input.write(`Content-Length: ${length}\r\n\r\n${head}`);
    const chunk = Buffer.alloc(1 << 20, 0x61);
    let left = length - head.length - 4;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      input.write(chunk.subarray(0, n));
      left -= n;
    }
    input.write('"}}}' + framed({ jsonrpc: '2.0', method: 'exit' }));
    expect(oversized).toEqual([{ bytes: length, method: 'textDocument/didOpen', uri: 'file:///huge.rs', version: 1 }]);
    expect(got).toEqual([{ jsonrpc: '2.0', method: 'exit' }]);
  });

  it('tells what a body too long to read was from its first bytes', () => {
    const prefix = '{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///big%20file.rs","languageId":"rust","text":"// ';
    expect(describeOversized(prefix, 200 * 1048576)).toEqual({ bytes: 200 * 1048576, method: 'textDocument/didOpen', uri: 'file:///big%20file.rs' });
    expect(describeOversized('{"jsonrpc":"2.0","id":7,"method":"x"', 1)).toEqual({ bytes: 1, id: 7, method: 'x' });
  });
});
