// Baseline fingerprints, matching and the file format.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BaselineError,
  contextLines,
  fingerprintFindings,
  matchBaseline,
  parseBaseline,
  serializeBaseline,
  type BaselineEntry,
} from '../src/ci/baseline.js';
import type { Finding } from '../src/lint/types.js';

const FILE = 'drivers/foo/ring.rs';

const SOURCE = [
  'use kernel::dma::CoherentAllocation;', // 1
  '', // 2
  'fn refill(dev: &Device) {', // 3
  '    let a = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL);', // 4
  '    let a = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL);', // 5: the same code as line 4
  '}', // 6
  '', // 7
  'fn reset(dev: &Device) {', // 8
  '    let a = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL);', // 9
  '}', // 10
];

function finding(line: number, item: string, extra: Partial<Finding> = {}): Finding {
  return {
    rule: 'coherent_outside_probe',
    level: 'deny',
    message: `allocation at ${item}`,
    primary: { file: FILE, span: { line, col: 13, endLine: line, endCol: 60 } },
    related: [],
    notes: [],
    item,
    ...extra,
  };
}

/** The findings of SOURCE, found again at the lines where `lines` has the same code. */
function findingsIn(lines: readonly string[]): Finding[] {
  const out: Finding[] = [];
  let item = '';
  lines.forEach((text, i) => {
    const fn = /^fn (\w+)/.exec(text);
    if (fn) item = fn[1];
    if (text.includes('alloc_coherent')) out.push(finding(i + 1, item));
  });
  return out;
}

function fingerprints(findings: Finding[], lines: readonly string[]) {
  return fingerprintFindings(findings, { readSource: () => lines.join('\n'), baselinePath: (f) => f });
}

function entriesOf(lines: readonly string[]): BaselineEntry[] {
  return [...fingerprints(findingsIn(lines), lines).values()];
}

function match(baseline: BaselineEntry[], lines: readonly string[], inScope: (e: BaselineEntry) => boolean = () => true) {
  return matchBaseline(baseline, fingerprints(findingsIn(lines), lines), inScope);
}

describe('fingerprints', () => {
  it('hold no line numbers and count identical code in file order', () => {
    const entries = entriesOf(SOURCE);
    expect(entries.map((e) => [e.item, e.occurrence])).toEqual([
      ['refill', 1],
      ['refill', 1],
      ['reset', 1],
    ]);
    // Lines 4 and 5 have the same code: same line hash, different context (the lines around them).
    expect(entries[0].line).toBe(entries[1].line);
    expect(entries[0].context).not.toBe(entries[1].context);
    // Line 9 has the same text as line 4 in another function.
    expect(entries[2].line).toBe(entries[0].line);
    for (const e of entries) {
      expect(JSON.stringify(e)).not.toMatch(/"(line|col)":\s*\d/);
      expect(e.context).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('number findings with the same code and the same neighbours', () => {
    const alloc = '    let a = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL);';
    const lines = ['fn many(dev: &Device) {', alloc, alloc, alloc, alloc, '}'];
    // The second and third have identical neighbours (the same allocation above and below).
    expect(entriesOf(lines).map((e) => e.occurrence)).toEqual([1, 1, 2, 1]);
    const m = match(entriesOf(lines), [...lines.slice(0, 2), ...lines.slice(3)]);
    expect(m.fresh).toEqual([]);
    expect(m.stale).toHaveLength(1);
  });

  it('do not change when lines are added above or whitespace changes', () => {
    const moved = ['// SPDX-License-Identifier: GPL-2.0', '', ...SOURCE.slice(0, 7), '', '// more', ...SOURCE.slice(7)].map((l) => l.replace(/^ {4}/, '\t'));
    expect(entriesOf(moved)).toEqual(entriesOf(SOURCE));
  });

  it('the context skips blank lines and collapses whitespace', () => {
    expect(contextLines(['a', '', '  b   c ', '', '', 'd'], 3)).toEqual({ above: 'a', at: 'b c', below: 'd' });
    expect(contextLines(['only'], 1)).toEqual({ above: '', at: 'only', below: '' });
  });

  it('skip suppressed findings and fall back to the message without source', () => {
    const suppressed = finding(4, 'refill', { suppression: { reason: 'ok', location: { file: FILE, span: { line: 3, col: 1, endLine: 3, endCol: 2 } } } });
    const noSource = fingerprintFindings([suppressed, finding(4, 'refill')], { readSource: () => undefined, baselinePath: (f) => f });
    expect(noSource.size).toBe(1);
    const [entry] = noSource.values();
    expect(entry.line).toBe(entry.context);
  });
});

describe('matching', () => {
  const baseline = entriesOf(SOURCE);

  it('the same code matches completely', () => {
    const m = match(baseline, SOURCE);
    expect(m.fresh).toEqual([]);
    expect(m.stale).toEqual([]);
    expect(m.baselined).toHaveLength(3);
  });

  it('editing the line next to a finding keeps it baselined (matched by its own line)', () => {
    const edited = [...SOURCE];
    edited[7] = 'fn reset(dev: &Device<Bound>) {';
    const m = match(baseline, edited);
    expect(m.fresh).toEqual([]);
    expect(m.stale).toEqual([]);
  });

  it('a new copy of an existing bug is new; removing one is stale', () => {
    const added = [...SOURCE.slice(0, 9), '    let a = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL);', ...SOURCE.slice(9)];
    const m = match(baseline, added);
    expect(m.fresh.map((f) => [f.item, f.primary.span.line])).toHaveLength(1);
    expect(m.fresh[0].item).toBe('reset');
    expect(m.stale).toEqual([]);

    const fixed = SOURCE.filter((_, i) => i !== 8);
    const m2 = match(baseline, fixed);
    expect(m2.fresh).toEqual([]);
    expect(m2.stale.map((e) => e.item)).toEqual(['reset']);
  });

  it('the item is part of the key: the same line in another function is new', () => {
    const renamed = SOURCE.map((l) => l.replace('fn reset', 'fn reinit'));
    const m = match(baseline, renamed);
    expect(m.fresh.map((f) => f.item)).toEqual(['reinit']);
    expect(m.stale.map((e) => e.item)).toEqual(['reset']);
  });

  it('entries out of scope are neither matched nor stale', () => {
    const other = { ...baseline[0], file: 'drivers/bar/other.rs' };
    const m = match([...baseline, other], SOURCE, (e) => e.file === FILE);
    expect(m.outOfScope).toEqual([other]);
    expect(m.stale).toEqual([]);
    expect(m.refreshed).toHaveLength(3);
  });

  it('inserting unrelated lines anywhere never makes a finding new', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: SOURCE.length }), fc.constantFrom('', '// note', '    dev.log();', 'const X: u32 = 1;')), { maxLength: 12 }), (inserts) => {
        const lines = [...SOURCE];
        for (const [at, text] of inserts) lines.splice(Math.min(at, lines.length), 0, text);
        const m = match(baseline, lines);
        expect(m.fresh).toEqual([]);
        expect(m.stale).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the baseline file', () => {
  const entries = entriesOf(SOURCE);

  it('is versioned, sorted and byte-stable whatever the input order', () => {
    const text = serializeBaseline(entries);
    expect(serializeBaseline([...entries].reverse())).toBe(text);
    const doc = JSON.parse(text);
    expect(doc.version).toBe(1);
    expect(doc.tool).toBe('dmalint');
    expect(Object.keys(doc.entries[0])).toEqual(['rule', 'file', 'item', 'context', 'line', 'occurrence', 'message']);
    expect(text.endsWith('}\n')).toBe(true);
    expect(parseBaseline(text, 'b.json').entries).toEqual(
      [...entries].sort((a, b) => (a.item < b.item ? -1 : a.item > b.item ? 1 : a.context < b.context ? -1 : 1)),
    );
  });

  it('renumbers occurrences of identical keys', () => {
    const dup = [{ ...entries[2], occurrence: 7 }, { ...entries[2], occurrence: 3 }];
    expect(parseBaseline(serializeBaseline(dup), 'b.json').entries.map((e) => e.occurrence)).toEqual([1, 2]);
  });

  it('rejects what is not a dmalint baseline, naming the file and the entry', () => {
    expect(() => parseBaseline('{', 'b.json')).toThrow(/^b\.json: not valid JSON/);
    expect(() => parseBaseline('[]', 'b.json')).toThrow(/not a dmalint baseline/);
    expect(() => parseBaseline('{"tool":"other","version":1,"entries":[]}', 'b.json')).toThrow(/not a dmalint baseline/);
    expect(() => parseBaseline('{"tool":"dmalint","version":2,"entries":[]}', 'b.json')).toThrow(/version 2 is not supported/);
    expect(() => parseBaseline('{"tool":"dmalint","version":1}', 'b.json')).toThrow(/"entries" must be a list/);
    const bad = { ...entries[0], context: 'xyz' };
    expect(() => parseBaseline(JSON.stringify({ tool: 'dmalint', version: 1, entries: [entries[1], bad] }), 'b.json')).toThrow(
      /b\.json: entry 2: "context" must be 16 lowercase hex digits/,
    );
    const zero = { ...entries[0], occurrence: 0 };
    expect(() => parseBaseline(JSON.stringify({ tool: 'dmalint', version: 1, entries: [zero] }), 'b.json')).toThrow(BaselineError);
  });
});
