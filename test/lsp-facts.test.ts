// The language server's incremental facts must equal a full extraction of the same text, after
// any edits: tree edits, the incremental reparse and the reuse of unchanged items included.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { RULES } from '../rules/index.js';
import { extractFacts } from '../src/facts/extract.js';
import { analyze } from '../src/lint/analyze.js';
import { apiWithConfig } from '../src/model/kernel-api.js';
import { OpenDocument } from '../src/lsp/document.js';
import { IncrementalFacts } from '../src/lsp/incremental-facts.js';
import { parseRust } from '../src/syntax/parser.js';
import { driverText } from '../bench/lsp-latency.js';
import { NIC_HW, NIC_MAIN } from './lsp-client.js';

const fixturesDir = path.resolve(__dirname, '..', 'fixtures');

function fixtureTexts(): string[] {
  const out = [NIC_MAIN, NIC_HW];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (out.length >= 12) return;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.rs')) out.push(fs.readFileSync(full, 'utf8'));
    }
  };
  if (fs.existsSync(fixturesDir)) walk(fixturesDir);
  return out;
}

/** A driver with a long impl block: methods with doc comments, attributes, suppressions,
 * trailing comments, an associated type and a const among them. */
const LONG_IMPL = `use kernel::prelude::*;

/// The device.
#[pin_data]
struct Dev {
    regs: u32,
}

impl Dev {
    const DEPTH: usize = 8; // ring depth

    /// Reads a register.
    #[inline]
    fn read(&self, at: usize) -> u32 {
        let v = self.regs + at as u32;
        v
    }

    // dmalint-allow(coherent_outside_probe): reason written here
    fn write(&mut self, at: usize, v: u32) {
        self.regs = v + at as u32;
    }
    fn tight(&self) -> u32 { self.regs } // trailing note

    type Alias = u32;

    fn looped(&self) -> u32 {
        let mut n = 0;
        for i in 0..Self::DEPTH {
            n += i as u32;
        }
        n
    }

    /* a block comment */
    pub(crate) unsafe fn raw(&self) -> *const u32 {
        &self.regs
    }
    fn last(&self) {}
}

fn after() {}
`;

const texts = [LONG_IMPL, ...fixtureTexts()];

/** Pieces that move lines, open and close blocks, and write comments and suppressions. */
const PIECES = ['x', ' ', '\n', '\r\n', '{', '}', '(', ';', '"', 'é😀', '// note\n', '/* c */', '#[inline]\n', 'fn extra() {}\n', '// dmalint-allow(coherent_outside_probe): reason\n', '} // dmalint-allow(unused): y\n'];

const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.nat({ max: 6 }),
  insert: fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 4 })),
});

interface Edit {
  at: number;
  remove: number;
  insert: string;
}

/** An edit as LSP sends it, for `text`: a range (positions as the client computes them) and its replacement. */
function lspChange(text: string, e: Edit) {
  const plain = TextDocument.create('file:///plain.rs', 'rust', 1, text);
  const start = Math.floor(e.at * text.length);
  const end = Math.min(text.length, start + e.remove);
  return { range: { start: plain.positionAt(start), end: plain.positionAt(end) }, text: e.insert };
}

/** Whether `text` parses without a syntax error: then its facts must equal a full extraction's. */
function parsesCleanly(text: string): boolean {
  return !parseRust(text).rootNode.hasError;
}


/** The findings of one file, `t.rs`, alone in its crate, with every rule at its default level. */
function findingsOf(facts: ReturnType<typeof extractFacts>) {
  return analyze([{ path: 't.rs', absPath: '/t.rs', facts }], { rules: RULES, levels: {}, api: apiWithConfig(undefined) });
}

/** A text of `head`, then a channel whose ring is behind a guard, with a method `start` of `body`. */
function guardedChan(head: string[], body: string[]): string {
  const chan = ['struct Chan {', '    ring: Devres<CoherentAllocation<u32>>,', '    bar: Devres<pci::Bar<0x1000>>,', '}', ''];
  return [...head, ...chan, 'impl Chan {', '    fn start(&self) -> Result {', ...body, '        Ok(())', '    }', '}', ''].join('\n');
}

describe('incremental facts', () => {
  it('equal a full extraction once edits that broke the syntax are undone', () => {
    // While the text does not parse, items outside the edited lines keep their last facts;
    // undoing the edits one by one, through broken states, must come back to the exact facts.
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }), fc.constantFrom(undefined, 0), (which, edits, splitImplLines) => {
        const original = texts[which];
        let text = original;
        const doc = new OpenDocument('file:///t.rs', 'rust', 1, text, splitImplLines);
        doc.facts();
        const undo: { range: ReturnType<typeof lspChange>['range']; text: string }[] = [];
        let version = 2;
        for (const e of edits) {
          const change = lspChange(text, e);
          const plain = TextDocument.create('file:///plain.rs', 'rust', 1, text);
          const start = plain.offsetAt(change.range.start);
          const removed = text.slice(start, plain.offsetAt(change.range.end));
          doc.applyChanges([change], version++);
          text = doc.text;
          doc.facts();
          const after = TextDocument.create('file:///plain.rs', 'rust', 1, text);
          undo.push({ range: { start: after.positionAt(start), end: after.positionAt(start + change.text.length) }, text: removed });
        }
        for (const change of undo.reverse()) {
          doc.applyChanges([change], version++);
          doc.facts();
        }
        expect(doc.text).toBe(original);
        expect(doc.facts()).toEqual(extractFacts(original));
      }),
      { numRuns: 150 },
    );
  });

  it('keep the facts of the items after an unclosed delimiter, and extract only the edited lines', () => {
    // `(` after the `}` that closes a method: the parser's recovery swallows the items after it.
    const text = driverText(1200);
    const at = text.indexOf('Ok(state)\n    }\n') + 'Ok(state)\n    }'.length;
    const names = (f: ReturnType<typeof extractFacts>) => f.fns.map((fn) => `${fn.name}@${fn.span.line}`);
    const inc = new IncrementalFacts();
    // Names taken now: kept facts are moved in place.
    const before = names(inc.update(text, parseRust(text)));
    const broken = `${text.slice(0, at)}(\n${text.slice(at)}`;
    const facts = inc.update(broken, parseRust(broken));
    expect(inc.lastStats).toMatchObject({ extracted: 1, full: false, local: true });
    expect(extractFacts(broken).fns.length).toBeLessThan(before.length);
    // Every function is still known, those after the edit one line further down.
    const line = text.slice(0, at).split('\n').length;
    expect(names(facts)).toEqual(before.map((n) => n.replace(/@(\d+)$/, (_, l) => `@${Number(l) > line ? Number(l) + 1 : Number(l)}`)));
    expect(inc.update(text, parseRust(text))).toEqual(extractFacts(text));
    expect(inc.lastStats.extracted).toBe(0);
  });

  it('equal a full extraction after any sequence of edits', () => {
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }), fc.constantFrom(undefined, 0), (which, edits, splitImplLines) => {
        let text = texts[which];
        const doc = new OpenDocument('file:///t.rs', 'rust', 1, text, splitImplLines);
        doc.facts();
        edits.forEach((e, i) => {
          const change = lspChange(text, e);
          doc.applyChanges([change], i + 2);
          const expected = TextDocument.applyEdits(TextDocument.create('file:///plain.rs', 'rust', 1, text), [{ range: change.range, newText: change.text }]);
          text = doc.text;
          expect(text).toBe(expected);
          const facts = doc.facts();
          if (parsesCleanly(text)) expect(facts).toEqual(extractFacts(text));
        });
      }),
      { numRuns: 200 },
    );
  });

  it('give the findings of a fresh analysis, with what rules keep per body reused across edits', () => {
    // Rules index each body once and keep it while the body object lives; the language server
    // keeps unedited bodies across edits. Findings after each edit must not depend on that.
    let withFindings = 0;
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(edit, { minLength: 1, maxLength: 6 }), fc.constantFrom(undefined, 0), (which, edits, splitImplLines) => {
        const original = texts[which];
        let text = original;
        const doc = new OpenDocument('file:///t.rs', 'rust', 1, text, splitImplLines);
        findingsOf(doc.facts());
        const undo: { range: ReturnType<typeof lspChange>['range']; text: string }[] = [];
        edits.forEach((e, i) => {
          const change = lspChange(text, e);
          const plain = TextDocument.create('file:///plain.rs', 'rust', 1, text);
          const start = plain.offsetAt(change.range.start);
          const removed = text.slice(start, plain.offsetAt(change.range.end));
          doc.applyChanges([change], i + 2);
          text = doc.text;
          const after = TextDocument.create('file:///plain.rs', 'rust', 1, text);
          undo.unshift({ range: { start: after.positionAt(start), end: after.positionAt(start + change.text.length) }, text: removed });
          const found = findingsOf(doc.facts());
          if (parsesCleanly(text)) expect(found).toEqual(findingsOf(extractFacts(text)));
        });
        // Undone through whatever broken texts lie between: the original text's findings.
        undo.forEach((change, i) => doc.applyChanges([change], edits.length + 2 + i));
        expect(doc.text).toBe(original);
        const fresh = findingsOf(extractFacts(original));
        if (fresh.length > 0) withFindings++;
        expect(findingsOf(doc.facts())).toEqual(fresh);
      }),
      { numRuns: 120 },
    );
    expect(withFindings).toBeGreaterThan(10);
  });

  it('find again what a kept function depends on when only a function it calls is edited', () => {
    // The caller's facts are kept across the edit; its finding came from what the callee does.
    const text = guardedChan(
      [
        'use kernel::devres::Devres;',
        'use kernel::dma::{CoherentAllocation, DmaAddress};',
        'use kernel::pci;',
        '',
        'fn program(bar: &pci::Bar<0x1000>, base: DmaAddress) {',
        '    bar.write32(base as u32, 0x00);',
        '}',
        '',
      ],
      [
        '        let bar = self.bar.try_access().ok_or(ENXIO)?;',
        '        let ring = self.ring.try_access().ok_or(ENXIO)?;',
        '        program(&bar, ring.dma_handle());',
      ],
    );
    const doc = new OpenDocument('file:///t.rs', 'rust', 1, text);
    const before = findingsOf(doc.facts());
    expect(before.map((f) => f.message)).toEqual([expect.stringContaining('handed to `program`, which writes it to the device')]);
    const start = doc.facts().impls[0].fns[0];
    // The callee now only compares the address: nothing is handed to the device.
    const write = 'bar.write32(base as u32, 0x00);';
    const at = text.indexOf(write);
    const plain = TextDocument.create('file:///plain.rs', 'rust', 1, text);
    doc.applyChanges([{ range: { start: plain.positionAt(at), end: plain.positionAt(at + write.length) }, text: 'let _ = base == 0;' }], 2);
    expect(doc.facts().impls[0].fns[0]).toBe(start);
    expect(findingsOf(doc.facts())).toEqual(findingsOf(extractFacts(doc.text)));
    expect(findingsOf(doc.facts())).toEqual([]);
  });

  it('name the lines of kept findings where their function moved', () => {
    const text = guardedChan(
      ['use kernel::devres::Devres;', 'use kernel::dma::CoherentAllocation;', 'use kernel::pci;', ''],
      [
        '        let addr = {',
        '            let ring = self.ring.try_access().ok_or(ENXIO)?;',
        '            ring.dma_handle()',
        '        };',
        '        self.bar.try_access().ok_or(ENXIO)?.write64(addr, 0x10);',
      ],
    );
    const doc = new OpenDocument('file:///t.rs', 'rust', 1, text);
    const lines = (found: ReturnType<typeof findingsOf>) => found.flatMap((f) => f.related.map((r) => `${r.span.line}: ${r.message}`));
    expect(lines(findingsOf(doc.facts()))).toContain('13: the guard from `try_access()` ends at line 15');
    const start = doc.facts().impls[0].fns[0];
    // Two lines added above the struct: the function keeps its facts and moves down.
    doc.applyChanges([{ range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, text: '// moved\n\n' }], 2);
    expect(doc.facts().impls[0].fns[0]).toBe(start);
    const moved = findingsOf(doc.facts());
    expect(moved).toEqual(findingsOf(extractFacts(doc.text)));
    expect(lines(moved)).toContain('15: the guard from `try_access()` ends at line 17');
  });

  it('equal a full extraction when several changes come in one notification', () => {
    fc.assert(
      fc.property(fc.nat({ max: texts.length - 1 }), fc.array(edit, { minLength: 2, maxLength: 5 }), fc.constantFrom(undefined, 0), (which, edits, splitImplLines) => {
        let text = texts[which];
        const doc = new OpenDocument('file:///t.rs', 'rust', 1, text, splitImplLines);
        doc.facts();
        const changes = edits.map((e) => {
          const change = lspChange(text, e);
          text = TextDocument.applyEdits(TextDocument.create('file:///plain.rs', 'rust', 1, text), [{ range: change.range, newText: change.text }]);
          return change;
        });
        doc.applyChanges(changes, 2);
        expect(doc.text).toBe(text);
        const facts = doc.facts();
        if (parsesCleanly(text)) expect(facts).toEqual(extractFacts(text));
      }),
      { numRuns: 60 },
    );
  });

  it('extracts again only the item that changed', () => {
    const inc = new IncrementalFacts();
    inc.update(NIC_MAIN, parseRust(NIC_MAIN));
    const typed = NIC_MAIN.replace('64, GFP_KERNEL', '65, GFP_KERNEL');
    const facts = inc.update(typed, parseRust(typed));
    expect(inc.lastStats).toMatchObject({ extracted: 1, full: false });
    expect(inc.lastStats.reused).toBeGreaterThan(3);
    expect(facts).toEqual(extractFacts(typed));
    // A line added at the top moves every item: reused, not extracted.
    const moved = `// one more line\n${typed}`;
    const shifted = inc.update(moved, parseRust(moved));
    expect(inc.lastStats.extracted).toBe(1);
    expect(shifted).toEqual(extractFacts(moved));
  });

  it('keeps the methods an unclosed delimiter swallows in a long impl, and their facts objects', () => {
    const inc = new IncrementalFacts(10);
    const before = inc.update(LONG_IMPL, parseRust(LONG_IMPL));
    const names = (f: typeof before) => f.impls.flatMap((i) => i.fns.map((fn) => fn.name));
    // `(` right after the `}` of `looped`: the parser's recovery swallows the methods after it.
    const at = LONG_IMPL.indexOf('        n\n    }') + '        n\n    }'.length;
    const broken = `${LONG_IMPL.slice(0, at)}(${LONG_IMPL.slice(at)}`;
    expect(names(extractFacts(broken))).not.toContain('raw');
    const during = inc.update(broken, parseRust(broken));
    expect(inc.lastStats).toMatchObject({ extracted: 1, full: false, local: true });
    expect(names(during)).toEqual(names(before));
    const kept = (f: typeof before) => f.impls[0].fns.filter((fn) => fn.name !== 'looped');
    kept(during).forEach((fn, i) => expect(fn).toBe(kept(before)[i]));
    expect(during.syntaxErrors.length).toBeGreaterThan(0);
    // Taken out again: the whole file's facts, the untouched methods still the same objects.
    const after = inc.update(LONG_IMPL, parseRust(LONG_IMPL));
    expect(after).toEqual(extractFacts(LONG_IMPL));
    kept(after).forEach((fn, i) => expect(fn).toBe(kept(before)[i]));
  });

  it('extracts again only the method that changed in a long impl', () => {
    const inc = new IncrementalFacts(10);
    inc.update(LONG_IMPL, parseRust(LONG_IMPL));
    const typed = LONG_IMPL.replace('n += i as u32;', 'n += i as u32 + 1;');
    const facts = inc.update(typed, parseRust(typed));
    // That method only: the skeleton and the other methods are reused with the other chunks.
    expect(inc.lastStats).toMatchObject({ extracted: 1, full: false });
    expect(inc.lastStats.reused).toBe(7); // 3 chunks, the skeleton, 3 methods
    expect(facts).toEqual(extractFacts(typed));
    const lines = `${typed.slice(0, typed.indexOf('    fn tight'))}\n\n${typed.slice(typed.indexOf('    fn tight'))}`;
    expect(inc.update(lines, parseRust(lines))).toEqual(extractFacts(lines));
    // Two blank lines inside the impl: its skeleton changes, every method is only moved.
    expect(inc.lastStats).toMatchObject({ extracted: 1, full: false });
  });
});
