import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileNotice, Finding, LintResult, RuleMeta } from '../src/lint/types.js';
import { ruleDocUrl } from '../src/lint/types.js';
import {
  formatGithub,
  formatGitlab,
  formatHuman,
  formatJson,
  formatJunit,
  formatReport,
  formatSarif,
  formatShort,
  githubStepSummary,
  FORMAT_NAMES,
} from '../src/report/index.js';
import { displayWidth, frameLine } from '../src/report/human.js';
import { loadFormatter, loadGithubStepSummary } from '../src/report/load.js';
import type { ReportInput } from '../src/report/types.js';
import { sarifSchemaPath } from './cli-helpers.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SARIF_SCHEMA = sarifSchemaPath();

// ---------------------------------------------------------------------------------------------
// Fixtures

const MAIN = 'drivers/foo/main.rs';
const RING = 'drivers/foo/ring buffer.rs';

const MAIN_LINES = [
  '// SPDX-License-Identifier: GPL-2.0', // 1
  'use kernel::dma::CoherentAllocation;', // 2
  '', // 3
  'impl WorkItem for Reset {', // 4
  '    fn run(this: Arc<Self>) {', // 5
  '\tlet buf = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL)?;', // 6: a tab
  '        let name = "dé𝔪a"; let b = dma_alloc(dev);', // 7: non-ASCII, an astral character
  '    }', // 8
  '}', // 9
  '', // 10
  'fn probe(dev: &Device) -> Result {', // 11
  '    queue_work(', // 12
  '        Reset::new(dev),', // 13
  '    );', // 14
  '    let _h = map_single(dev); // dmalint-allow(unmapped_on_unbind): freed in remove()', // 15
  '    Ok(())', // 16
  '}', // 17
];
const MAIN_TEXT = `${MAIN_LINES.join('\n')}\n`;
/** CRLF line endings and two leading tabs on line 3. */
const RING_TEXT = ['// ring', 'fn alloc_ring(dev: &Device) {', '\t\tlet ring = dma_alloc(dev);', '}', ''].join('\r\n');

function span(line: number, col: number, endLine: number, endCol: number) {
  return { line, col, endLine, endCol };
}

function rule(id: string, defaultLevel: RuleMeta['defaultLevel']): RuleMeta {
  return {
    id,
    defaultLevel,
    summary: `${id.replace(/_/g, ' ')} summary`,
    whatItDoes: `Reports \`${id}\`.`,
    whyBad: 'The device may write to freed memory.',
    badExamples: [{ title: 'allocating in a work item', code: 'fn run() {\n    alloc_coherent(dev);\n}\n' }],
    goodExamples: [{ title: 'allocating in probe', code: 'fn probe() {\n    alloc_coherent(dev);\n}\n' }],
    howToFix: 'Allocate in `probe()`.',
    limits: 'Does not follow function pointers.',
    tags: ['dma', 'lifetime'],
    links: [{ title: 'DMA API', url: 'https://docs.kernel.org/core-api/dma-api.html' }],
  };
}

const RULES: RuleMeta[] = [
  rule('coherent_outside_probe', 'deny'),
  rule('dma_handle_escapes', 'warn'),
  rule('unmapped_on_unbind', 'allow'),
];

/** Error on the tab line with a multi-line related location, notes and help. */
function f1(lineShift = 0): Finding {
  return {
    rule: 'coherent_outside_probe',
    level: 'deny',
    message: 'coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
    primary: { file: MAIN, span: span(6 + lineShift, 12, 6 + lineShift, 66) },
    related: [
      { file: MAIN, span: span(12 + lineShift, 5, 14 + lineShift, 6), message: 'the work item is queued here' },
    ],
    notes: ['work items run on the system workqueue'],
    help: 'allocate in probe() and keep the buffer in the driver data',
    item: 'impl WorkItem for Reset',
  };
}

/** Warning on the non-ASCII line: `dma_alloc(dev)` is UTF-16 columns 37 to 51. */
function f2(lineShift = 0): Finding {
  return {
    rule: 'dma_handle_escapes',
    level: 'warn',
    message: 'the DMA handle of `b` escapes the function',
    primary: { file: MAIN, span: span(7 + lineShift, 37, 7 + lineShift, 51) },
    related: [],
    notes: [],
    item: 'impl WorkItem for Reset',
  };
}

function f3Suppressed(lineShift = 0): Finding {
  return {
    rule: 'unmapped_on_unbind',
    level: 'deny',
    message: 'streaming mapping is not unmapped on unbind',
    primary: { file: MAIN, span: span(15 + lineShift, 14, 15 + lineShift, 29) },
    related: [],
    notes: [],
    item: 'fn probe',
    suppression: {
      reason: 'freed in remove()',
      location: { file: MAIN, span: span(15 + lineShift, 31, 15 + lineShift, 88) },
    },
  };
}

/** Error in the CRLF file, after two tabs. */
function f4(): Finding {
  return {
    rule: 'coherent_outside_probe',
    level: 'deny',
    message: 'coherent DMA allocation in `alloc_ring`',
    primary: { file: RING, span: span(3, 14, 3, 28) },
    related: [],
    notes: [],
    help: 'move it to probe()',
  };
}

let tmp: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-report-'));
  fs.mkdirSync(path.join(tmp, 'drivers', 'foo'), { recursive: true });
  fs.writeFileSync(path.join(tmp, MAIN), MAIN_TEXT);
  fs.writeFileSync(path.join(tmp, RING), RING_TEXT);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function readFrom(dir: string) {
  return (file: string): string | undefined => {
    try {
      return fs.readFileSync(path.resolve(dir, file), 'utf8');
    } catch {
      return undefined;
    }
  };
}

function result(findings: Finding[], extra: Partial<LintResult> = {}): LintResult {
  return { findings, notices: [], filesChecked: 2, durationMs: 410, ...extra };
}

function input(findings: Finding[], extra: Partial<ReportInput> = {}, res: Partial<LintResult> = {}): ReportInput {
  return {
    result: result(findings, res),
    rules: RULES,
    cwd: tmp,
    readSource: readFrom(tmp),
    color: false,
    toolVersion: '0.1.0',
    ...extra,
  };
}

const NOTICE: FileNotice = {
  file: 'drivers/foo/broken.rs',
  kind: 'syntax-error',
  message: 'could not parse this file; it was checked only partly',
  span: span(4, 9, 4, 10),
};

// ---------------------------------------------------------------------------------------------
// human

describe('human', () => {
  it('renders rustc-style frames with tabs, non-ASCII columns, related notes, notes and help', () => {
    const out = formatHuman(input([f2(), f1(), f3Suppressed()]));
    expect(out).toBe(
      [
        'error[coherent_outside_probe]: coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
        '  --> drivers/foo/main.rs:6:12',
        '   |',
        '6  |     let buf = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL)?;',
        `   |               ${'^'.repeat(54)}`,
        '   |',
        'note: the work item is queued here',
        '  --> drivers/foo/main.rs:12:5',
        '   |',
        '12 |     queue_work(',
        '   |     ^^^^^^^^^^^ ...',
        '   |',
        '   = note: work items run on the system workqueue',
        '   = help: allocate in probe() and keep the buffer in the driver data',
        '',
        'warning[dma_handle_escapes]: the DMA handle of `b` escapes the function',
        ' --> drivers/foo/main.rs:7:36', // columns in characters: the astral character counts once
        '  |',
        '7 |         let name = "dé𝔪a"; let b = dma_alloc(dev);',
        `  | ${' '.repeat(35)}${'^'.repeat(14)}`,
        '',
        'error: 2 findings (1 error, 1 warning) in 2 files checked in 0.41s; 1 suppressed',
        '',
      ].join('\n'),
    );
  });

  it('cuts a very long source line to a window around the span', () => {
    const target = 'CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL)';
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `REG_${i} = 0x${i.toString(16)};`).join(' ');
    for (const [before, after] of [[filler(20_000), filler(20_000)], ['', filler(20_000)], [filler(20_000), ''], ['  ', '  ']]) {
      const line = `${before} let b = ${target}; ${after}`;
      const col = line.indexOf(target) + 1;
      const frame = frameLine(line, { line: 1, col, endLine: 1, endCol: col + target.length });
      expect(displayWidth(frame.code)).toBeLessThanOrEqual(126);
      // The carets still sit under the span, whole when it fits.
      expect(frame.code.slice(frame.indent, frame.indent + frame.carets)).toBe(target);
      expect(frame.code.startsWith('...')).toBe(before.length > 40);
      expect(frame.code.endsWith('...')).toBe(after.length > 80);
      expect(frame.continues).toBe(false);
    }
    // A span running past the window is cut at its edge and marked as continuing.
    const long = `x ${'y'.repeat(500)}`;
    const cut = frameLine(long, { line: 1, col: 3, endLine: 1, endCol: 503 });
    expect(cut.indent + cut.carets).toBeLessThanOrEqual(displayWidth(cut.code));
    expect(cut.continues).toBe(true);
    // Wide characters are never cut in half, and the carets stay aligned after them.
    const wide = `${'界'.repeat(300)}target${'界'.repeat(300)}`;
    const at = wide.indexOf('target') + 1;
    const w = frameLine(wide, { line: 1, col: at, endLine: 1, endCol: at + 6 });
    expect(displayWidth(w.code)).toBeLessThanOrEqual(126);
    const shownBefore = w.code.slice(0, w.code.indexOf('target'));
    expect(displayWidth(shownBefore)).toBe(w.indent);
  });

  it('handles CRLF sources and notices, and says when nothing was found', () => {
    const out = formatHuman(input([f4()], {}, { notices: [NOTICE], filesChecked: 12 }));
    expect(out).toBe(
      [
        'warning: could not parse this file; it was checked only partly',
        ' --> drivers/foo/broken.rs:4:9',
        '',
        'error[coherent_outside_probe]: coherent DMA allocation in `alloc_ring`',
        ' --> drivers/foo/ring buffer.rs:3:14',
        '  |',
        '3 |         let ring = dma_alloc(dev);',
        `  | ${' '.repeat(19)}${'^'.repeat(14)}`,
        '  |',
        '  = help: move it to probe()',
        '',
        'error: 1 finding (1 error, 0 warnings) in 12 files checked in 0.41s',
        '',
      ].join('\n'),
    );
    expect(out).not.toContain('\r');
    expect(formatHuman(input([], {}, { filesChecked: 12 }))).toBe('no findings in 12 files checked in 0.41s\n');
    expect(formatHuman(input([f3Suppressed()]))).toBe('no findings in 2 files checked in 0.41s; 1 suppressed\n');
  });

  it('shows suppressed findings only with includeSuppressed', () => {
    const shown = formatHuman(input([f3Suppressed()], { includeSuppressed: true }));
    expect(shown).toContain('error[unmapped_on_unbind]: streaming mapping is not unmapped on unbind');
    expect(shown).toContain(
      '   = note: suppressed by `dmalint-allow` at drivers/foo/main.rs:15:31: freed in remove()',
    );
  });

  it('falls back to the location alone when the source cannot be read', () => {
    const out = formatHuman(input([f1()], { readSource: () => undefined }));
    expect(out).toContain(
      ['  --> drivers/foo/main.rs:6:12', '   |', 'note: the work item is queued here', '  --> drivers/foo/main.rs:12:5', '   |', '   = note:'].join(
        '\n',
      ),
    );
  });

  it('does not pass control characters from the source to the terminal', () => {
    const finding: Finding = { ...f4(), primary: { file: 'ctl.rs', span: span(1, 5, 1, 8) } };
    const out = formatHuman(input([finding], { readSource: () => 'x\x1b[2Jy\rz();\r\n' }));
    expect(out).toContain('1 | x\uFFFD[2Jy\uFFFDz();\n  |     ^^^\n');
    expect(out).not.toContain('\x1b');
  });

  it('uses ANSI colors only when asked', () => {
    const plain = formatHuman(input([f1(), f2()]));
    expect(plain).not.toContain('\x1b[');
    const colored = formatHuman(input([f1(), f2()], { color: true }));
    expect(colored).toContain('\x1b[1;31merror[coherent_outside_probe]\x1b[0m');
    expect(colored).toContain('\x1b[1;33mwarning[dma_handle_escapes]\x1b[0m');
    expect(colored).toContain('\x1b[1;34m-->\x1b[0m drivers/foo/main.rs:6:12');
    expect(colored).toContain(`\x1b[1;31m${'^'.repeat(54)}\x1b[0m`);
    // Stripping the escapes gives the plain text back.
    expect(colored.replace(/\x1b\[[0-9;]*m/g, '')).toBe(plain);
  });
});

// ---------------------------------------------------------------------------------------------
// short

describe('short', () => {
  it('prints one line per finding and notice', () => {
    const out = formatShort(input([f4(), f2(), f1(), f3Suppressed()], {}, { notices: [NOTICE, { file: 'x.rs', kind: 'read-error', message: 'cannot read' }] }));
    expect(out).toBe(
      [
        'drivers/foo/broken.rs:4:9: warning: could not parse this file; it was checked only partly',
        'x.rs: warning: cannot read',
        'drivers/foo/main.rs:6:12: error[coherent_outside_probe]: coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
        'drivers/foo/main.rs:7:36: warning[dma_handle_escapes]: the DMA handle of `b` escapes the function',
        'drivers/foo/ring buffer.rs:3:14: error[coherent_outside_probe]: coherent DMA allocation in `alloc_ring`',
        '',
      ].join('\n'),
    );
    expect(formatShort(input([]))).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------
// json

describe('json', () => {
  it('has the documented shape', () => {
    const text = formatJson(input([f2(), f1(), f3Suppressed()], {}, { notices: [NOTICE] }));
    expect(text.startsWith('{\n  "version": 1,\n  "tool": "dmalint",\n  "toolVersion": "0.1.0",')).toBe(true);
    const doc = JSON.parse(text);
    expect(Object.keys(doc)).toEqual(['version', 'tool', 'toolVersion', 'findings', 'notices', 'summary']);
    expect(doc.findings).toHaveLength(2);
    expect(doc.findings[0]).toEqual({
      rule: 'coherent_outside_probe',
      level: 'error',
      message: 'coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
      file: MAIN,
      line: 6,
      column: 12,
      endLine: 6,
      endColumn: 66,
      related: [{ file: MAIN, line: 12, column: 5, endLine: 14, endColumn: 6, message: 'the work item is queued here' }],
      notes: ['work items run on the system workqueue'],
      help: 'allocate in probe() and keep the buffer in the driver data',
      item: 'impl WorkItem for Reset',
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}:1$/),
      suppressed: null,
    });
    expect(doc.findings[1]).toMatchObject({ rule: 'dma_handle_escapes', level: 'warning', help: null, line: 7, column: 37 });
    expect(doc.notices).toEqual([
      {
        file: 'drivers/foo/broken.rs',
        kind: 'syntax-error',
        message: NOTICE.message,
        line: 4,
        column: 9,
        endLine: 4,
        endColumn: 10,
      },
    ]);
    expect(doc.summary).toEqual({ errors: 1, warnings: 1, suppressed: 1, filesChecked: 2, durationMs: 410 });

    const all = JSON.parse(formatJson(input([f1(), f3Suppressed()], { includeSuppressed: true })));
    expect(all.findings.map((f: { suppressed: unknown }) => f.suppressed)).toEqual([null, { reason: 'freed in remove()' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// sarif

// CommonJS packages: under NodeNext the default import is `module.exports`, whose `default` is the export.
const Ajv = AjvDraft04.default;
const addFormats = ajvFormats.default;

function sarifValidator() {
  const ajv = new Ajv({ strict: false, unicodeRegExp: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(fs.readFileSync(SARIF_SCHEMA, 'utf8')));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyJson = any;

describe('sarif', () => {
  it('is valid SARIF 2.1.0 with rules, locations and notifications', () => {
    const validate = sarifValidator();
    const log = JSON.parse(formatSarif(input([f1(), f2(), f3Suppressed(), f4()], {}, { notices: [NOTICE] })));
    const ok = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);

    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const run = log.runs[0];
    expect(run.columnKind).toBe('utf16CodeUnits');
    expect(run.automationDetails).toEqual({ id: 'dmalint/' });
    expect(run.originalUriBaseIds['%SRCROOT%'].uri).toBe(`${pathToFileURL(tmp).href}/`);

    const driver = run.tool.driver;
    expect(driver).toMatchObject({ name: 'dmalint', version: '0.1.0', semanticVersion: '0.1.0' });
    expect(driver.rules.map((r: AnyJson) => [r.id, r.name, r.defaultConfiguration.level])).toEqual([
      ['coherent_outside_probe', 'CoherentOutsideProbe', 'error'],
      ['dma_handle_escapes', 'DmaHandleEscapes', 'warning'],
      ['unmapped_on_unbind', 'UnmappedOnUnbind', 'none'],
    ]);
    const r0 = driver.rules[0];
    expect(r0.shortDescription.text).toBe('coherent outside probe summary');
    expect(r0.fullDescription.text).toBe('Reports `coherent_outside_probe`.');
    expect(r0.helpUri).toBe(ruleDocUrl('coherent_outside_probe'));
    // Code scanning ranks the rule as a security problem: a score and the CWE it is an instance of.
    expect(r0.properties).toEqual({
      tags: ['dma', 'lifetime', 'security', 'external/cwe/cwe-672'],
      'security-severity': '5.5',
      precision: 'high',
      'problem.severity': 'error',
    });
    expect(driver.rules[1].properties).toEqual({ tags: ['dma', 'lifetime'] });
    expect(r0.help.markdown).toContain('## What it does');
    expect(r0.help.markdown).toContain('## Why is this bad');
    expect(r0.help.markdown).toContain(
      'Reported (allocating in a work item):\n\n```rust\nfn run() {\n    alloc_coherent(dev);\n}\n```',
    );
    expect(r0.help.markdown).toContain('Correct (allocating in probe):\n\n```rust\nfn probe() {');
    expect(r0.help.markdown).toContain('## How to fix\n\nAllocate in `probe()`.');
    expect(r0.help.text).toContain('Reported (allocating in a work item):\n\n    fn run() {\n        alloc_coherent(dev);\n    }');

    // Suppressed findings are left out by default; results are in file order.
    expect(run.results.map((r: AnyJson) => [r.ruleId, r.ruleIndex, r.level])).toEqual([
      ['coherent_outside_probe', 0, 'error'],
      ['dma_handle_escapes', 1, 'warning'],
      ['coherent_outside_probe', 0, 'error'],
    ]);
    const first = run.results[0];
    expect(first.message.text).toBe(
      'coherent DMA allocation in `Reset::run`, which can run after the driver is unbound\n' +
        'note: work items run on the system workqueue\n' +
        'help: allocate in probe() and keep the buffer in the driver data',
    );
    expect(first.locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'drivers/foo/main.rs', uriBaseId: '%SRCROOT%' },
      region: { startLine: 6, startColumn: 12, endLine: 6, endColumn: 66 },
    });
    expect(first.relatedLocations).toEqual([
      {
        id: 1,
        physicalLocation: {
          artifactLocation: { uri: 'drivers/foo/main.rs', uriBaseId: '%SRCROOT%' },
          region: { startLine: 12, startColumn: 5, endLine: 14, endColumn: 6 },
        },
        message: { text: 'the work item is queued here' },
      },
    ]);
    expect(run.results[2].locations[0].physicalLocation.artifactLocation.uri).toBe('drivers/foo/ring%20buffer.rs');
    expect(first.suppressions).toBeUndefined();

    expect(run.invocations).toEqual([
      {
        executionSuccessful: true,
        toolExecutionNotifications: [
          {
            level: 'warning',
            message: { text: NOTICE.message },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: 'drivers/foo/broken.rs', uriBaseId: '%SRCROOT%' },
                  region: { startLine: 4, startColumn: 9, endLine: 4, endColumn: 10 },
                },
              },
            ],
            descriptor: { id: 'syntax-error' },
          },
        ],
      },
    ]);
  });

  it('emits suppressed findings with inSource suppressions when asked, still valid', () => {
    const validate = sarifValidator();
    const log = JSON.parse(formatSarif(input([f1(), f3Suppressed()], { includeSuppressed: true })));
    expect(validate(log)).toBe(true);
    const results = log.runs[0].results;
    expect(results).toHaveLength(2);
    expect(results[1].ruleId).toBe('unmapped_on_unbind');
    expect(results[1].ruleIndex).toBe(2);
    expect(results[1].suppressions).toEqual([{ kind: 'inSource', justification: 'freed in remove()' }]);
    expect(results[0].suppressions).toBeUndefined();
  });

  it('adds a descriptor for a rule without metadata and uses file URIs outside the working directory', () => {
    const outside = path.join(path.dirname(tmp), 'elsewhere', 'x y.rs');
    const finding: Finding = {
      rule: 'unknown_rule',
      level: 'warn',
      message: 'm',
      primary: { file: outside, span: span(1, 1, 1, 2) },
      related: [],
      notes: [],
    };
    const log = JSON.parse(formatSarif(input([finding])));
    expect(sarifValidator()(log)).toBe(true);
    const run = log.runs[0];
    expect(run.tool.driver.rules[3]).toMatchObject({ id: 'unknown_rule', name: 'UnknownRule' });
    expect(run.results[0].ruleIndex).toBe(3);
    expect(run.results[0].locations[0].physicalLocation.artifactLocation).toEqual({
      uri: pathToFileURL(outside).href,
    });
    expect(run.results[0].locations[0].physicalLocation.artifactLocation.uri).toContain('x%20y.rs');
  });

  it('keeps primaryLocationLineHash when lines are inserted above', () => {
    const shifted = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-report-shifted-'));
    try {
      fs.mkdirSync(path.join(shifted, 'drivers', 'foo'), { recursive: true });
      fs.writeFileSync(path.join(shifted, MAIN), `\n\n\n${MAIN_TEXT}`);
      const hashes = (log: AnyJson) =>
        log.runs[0].results.map((r: AnyJson) => r.partialFingerprints.primaryLocationLineHash);
      const lines = (log: AnyJson) =>
        log.runs[0].results.map((r: AnyJson) => r.locations[0].physicalLocation.region.startLine);

      const before = JSON.parse(formatSarif(input([f1(), f2()])));
      const after = JSON.parse(
        formatSarif(input([f1(3), f2(3)], { cwd: shifted, readSource: readFrom(shifted) })),
      );
      expect(lines(before)).toEqual([6, 7]);
      expect(lines(after)).toEqual([9, 10]);
      expect(hashes(before)).toEqual(hashes(after));
      expect(hashes(before)[0]).toMatch(/^[0-9a-f]{16}:1$/);
      expect(hashes(before)[0]).not.toBe(hashes(before)[1]);

      // The hash follows the text of the line: editing the line changes it.
      const edited = MAIN_LINES.slice();
      edited[5] = '\tlet buffer = CoherentAllocation::alloc_coherent(dev, 4, GFP_KERNEL)?;';
      fs.writeFileSync(path.join(shifted, MAIN), `${edited.join('\n')}\n`);
      const changed = JSON.parse(formatSarif(input([f1(), f2()], { cwd: shifted, readSource: readFrom(shifted) })));
      expect(hashes(changed)[0]).not.toBe(hashes(before)[0]);
      expect(hashes(changed)[1]).toBe(hashes(before)[1]);
    } finally {
      fs.rmSync(shifted, { recursive: true, force: true });
    }
  });

  it('counts identical (rule, line text) pairs in a file', () => {
    const dup = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-report-dup-'));
    try {
      fs.writeFileSync(path.join(dup, 'a.rs'), 'x();\n  let b = alloc();\nlet   b = alloc();\n');
      const at = (line: number, col: number): Finding => ({
        rule: 'dma_handle_escapes',
        level: 'warn',
        message: 'm',
        primary: { file: 'a.rs', span: span(line, col, line, col + 7) },
        related: [],
        notes: [],
      });
      const log = JSON.parse(formatSarif(input([at(3, 9), at(2, 11)], { cwd: dup, readSource: readFrom(dup) })));
      const [h1, h2] = log.runs[0].results.map((r: AnyJson) => r.partialFingerprints.primaryLocationLineHash);
      expect(h1.split(':')[0]).toBe(h2.split(':')[0]);
      expect([h1.split(':')[1], h2.split(':')[1]]).toEqual(['1', '2']);
    } finally {
      fs.rmSync(dup, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// github

function simple(i: number, level: Finding['level'], extra: Partial<Finding> = {}): Finding {
  return {
    rule: level === 'deny' ? 'coherent_outside_probe' : 'dma_handle_escapes',
    level,
    message: `finding ${i}`,
    primary: { file: `drivers/f${String(i).padStart(3, '0')}.rs`, span: span(i + 1, 1, i + 1, 5) },
    related: [],
    notes: [],
    ...extra,
  };
}

describe('github', () => {
  it('escapes data and properties like the actions toolkit', () => {
    const finding: Finding = {
      rule: 'coherent_outside_probe',
      level: 'deny',
      message: '100% wrong\r\nsecond: line, here',
      primary: { file: 'drivers/a,b:c/x%y.rs', span: span(3, 2, 3, 9) },
      related: [],
      notes: [],
      help: 'use probe(): it runs once, early',
    };
    expect(formatGithub(input([finding]))).toBe(
      '::error file=drivers/a%2Cb%3Ac/x%25y.rs,line=3,endLine=3,col=2,endColumn=9,title=dmalint(coherent_outside_probe)' +
        '::100%25 wrong%0D%0Asecond: line, here%0Ahelp: use probe(): it runs once, early\n',
    );
  });

  it('uses warning for warn, leaves out columns for multi-line spans and skips suppressed findings', () => {
    const multi: Finding = { ...simple(1, 'warn'), primary: { file: 'a.rs', span: span(2, 3, 4, 1) } };
    expect(formatGithub(input([multi, f3Suppressed()], { includeSuppressed: true }))).toBe(
      '::warning file=a.rs,line=2,endLine=4,title=dmalint(dma_handle_escapes)::finding 1\n',
    );
  });

  it('annotates at most 10 errors and 10 warnings, then says how many were left out', () => {
    const findings = [
      ...Array.from({ length: 13 }, (_, i) => simple(i, 'deny')),
      ...Array.from({ length: 12 }, (_, i) => simple(100 + i, 'warn')),
    ];
    const lines = formatGithub(input(findings)).trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('::error '))).toHaveLength(10);
    expect(lines.filter((l) => l.startsWith('::warning '))).toHaveLength(10);
    expect(lines).toHaveLength(21);
    expect(lines[20]).toBe(
      '::notice::dmalint: 3 errors and 2 warnings were not annotated because GitHub shows at most 10 errors and ' +
        '10 warnings per step; run `dmalint check --format human` or look at the SARIF upload to see them all',
    );
    // The first ten of each level in file order are the ones annotated.
    expect(lines[0]).toContain('file=drivers/f000.rs');
    expect(lines.some((l) => l.includes('file=drivers/f012.rs'))).toBe(false);

    const fits = formatGithub(input(findings.slice(0, 10)));
    expect(fits).not.toContain('::notice::');
  });

  it('writes a step summary with counts per rule and a findings table', () => {
    const piped = simple(7, 'deny', { message: 'a | b <T> in `Vec<u8>`' });
    const md = githubStepSummary(input([simple(1, 'deny'), piped, simple(2, 'warn'), f3Suppressed()]));
    expect(md).toBe(
      [
        '## dmalint',
        '',
        '3 findings (2 errors, 1 warning) in 2 files checked in 0.41s; 1 suppressed.',
        '',
        '| Rule | Errors | Warnings |',
        '| --- | ---: | ---: |',
        '| `coherent_outside_probe` | 2 | 0 |',
        '| `dma_handle_escapes` | 0 | 1 |',
        '',
        '### Findings',
        '',
        '| Level | Rule | Location | Message |',
        '| --- | --- | --- | --- |',
        '| error | `coherent_outside_probe` | `drivers/f001.rs:2` | finding 1 |',
        '| warning | `dma_handle_escapes` | `drivers/f002.rs:3` | finding 2 |',
        '| error | `coherent_outside_probe` | `drivers/f007.rs:8` | a \\| b &lt;T&gt; in `Vec<u8>` |',
        '',
      ].join('\n'),
    );
  });

  it('caps the step summary at 200 rows', () => {
    const many = Array.from({ length: 205 }, (_, i) => simple(i, 'warn'));
    const md = githubStepSummary(input(many));
    expect(md.split('\n').filter((l) => l.startsWith('| warning |'))).toHaveLength(200);
    expect(md).toContain('_... and 5 more; run `dmalint check --format human` to see them all._');
    expect(githubStepSummary(input([]))).toBe('## dmalint\n\nNo findings in 2 files checked in 0.41s.\n');
  });
});

// ---------------------------------------------------------------------------------------------
// gitlab

describe('gitlab', () => {
  it('parses back and has stable fingerprints', () => {
    const issues = JSON.parse(formatGitlab(input([f2(), f1(), f3Suppressed(), f4()])));
    expect(issues).toHaveLength(3);
    expect(issues[0]).toEqual({
      description: 'coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
      check_name: 'coherent_outside_probe',
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
      severity: 'major',
      location: { path: MAIN, lines: { begin: 6, end: 6 } },
      categories: ['Bug Risk'],
      type: 'issue',
      engine_name: 'dmalint',
    });
    expect(issues[1]).toMatchObject({ check_name: 'dma_handle_escapes', severity: 'minor' });
    expect(issues[2].location.path).toBe(RING);
    expect(new Set(issues.map((i: AnyJson) => i.fingerprint)).size).toBe(3);

    const shifted = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-report-gl-'));
    try {
      fs.mkdirSync(path.join(shifted, 'drivers', 'foo'), { recursive: true });
      fs.writeFileSync(path.join(shifted, MAIN), `// added\n\n${MAIN_TEXT}`);
      fs.writeFileSync(path.join(shifted, RING), RING_TEXT);
      const moved = JSON.parse(
        formatGitlab(input([f2(2), f1(2), f4()], { cwd: shifted, readSource: readFrom(shifted) })),
      );
      expect(moved[0].location.lines.begin).toBe(8);
      expect(moved.map((i: AnyJson) => i.fingerprint)).toEqual(issues.map((i: AnyJson) => i.fingerprint));
    } finally {
      fs.rmSync(shifted, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// junit

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A strict little XML checker: balanced tags, quoted attributes, only known entities, no stray `<` or `&`. */
function parseXml(xml: string): XmlElement {
  const decode = (s: string): string =>
    s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_m, e: string) =>
      e === 'amp' ? '&' : e === 'lt' ? '<' : e === 'gt' ? '>' : e === 'quot' ? '"' : e === 'apos' ? "'" : String.fromCodePoint(Number(e.slice(1))),
    );
  const checkText = (s: string): void => {
    if (/&(?!(?:amp|lt|gt|quot|apos|#\d+);)/.test(s)) throw new Error(`bad entity in ${JSON.stringify(s)}`);
    if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(s)) throw new Error('control character');
  };
  let rest = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n/, '');
  if (rest === xml) throw new Error('missing XML declaration');
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /^(?:<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<>]*")*)\s*(\/?)>|([^<>]+))/;
  while (rest.length > 0) {
    const m = token.exec(rest);
    if (!m) throw new Error(`unexpected ${JSON.stringify(rest.slice(0, 40))}`);
    rest = rest.slice(m[0].length);
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      checkText(m[5]);
      if (stack.length === 1 && m[5].trim() !== '') throw new Error('text outside the root element');
      top.text += decode(m[5]);
    } else if (m[1] === '/') {
      if (top.name !== m[2] || m[3] || m[4]) throw new Error(`unbalanced </${m[2]}>`);
      stack.pop();
    } else {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
        checkText(a[2]!);
        if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const el: XmlElement = { name: m[2]!, attrs, children: [], text: '' };
      top.children.push(el);
      if (m[4] !== '/') stack.push(el);
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('expected one root element');
  return root.children[0]!;
}

describe('junit', () => {
  it('is well-formed, with one test case per finding and per notice, and the rustc-style text', () => {
    const xml = formatJunit(input([f2(), f1(), f3Suppressed(), f4()], {}, { notices: [NOTICE] }));
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    const suite = root.children[0]!;
    expect(suite.name).toBe('testsuite');
    expect(suite.attrs).toMatchObject({ name: 'dmalint', tests: '4', failures: '3', errors: '1', time: '0.410' });
    expect(suite.children.map((c) => c.attrs)).toEqual([
      { classname: 'coherent_outside_probe', name: `${MAIN}:6`, file: MAIN, line: '6' },
      { classname: 'dma_handle_escapes', name: `${MAIN}:7`, file: MAIN, line: '7' },
      { classname: 'coherent_outside_probe', name: `${RING}:3`, file: RING, line: '3' },
      { classname: 'dmalint.syntax-error', name: 'drivers/foo/broken.rs:4', file: 'drivers/foo/broken.rs', line: '4' },
    ]);
    expect(suite.children.map((c) => c.children.map((x) => [x.name, x.attrs.type]))).toEqual([
      [['failure', 'coherent_outside_probe']],
      [['failure', 'dma_handle_escapes']],
      [['failure', 'coherent_outside_probe']],
      [['error', 'syntax-error']],
    ]);
    const first = suite.children[0]!.children[0]!;
    expect(first.attrs.message).toBe(
      'error[coherent_outside_probe]: coherent DMA allocation in `Reset::run`, which can run after the driver is unbound',
    );
    expect(first.text).toContain('  --> drivers/foo/main.rs:6:12\n   |\n6  |     let buf =');
  });

  it('lists the checked files without findings as passing test cases', () => {
    const xml = formatJunit({ ...input([f1()]), files: [MAIN, 'drivers/foo/clean.rs', 'drivers/a.rs'] });
    const suite = parseXml(xml).children[0]!;
    expect(suite.attrs).toMatchObject({ tests: '3', failures: '1', errors: '0' });
    expect(suite.children.map((c) => [c.attrs.classname, c.attrs.name, c.children.length])).toEqual([
      ['coherent_outside_probe', `${MAIN}:6`, 1],
      ['dmalint', 'drivers/a.rs', 0],
      ['dmalint', 'drivers/foo/clean.rs', 0],
    ]);
  });

  it('escapes markup and removes control characters', () => {
    const nasty: Finding = {
      rule: 'coherent_outside_probe',
      level: 'deny',
      message: 'a <b> & "c" \'d\'\u0001 end',
      primary: { file: 'dir/<&">.rs', span: span(1, 1, 1, 2) },
      related: [],
      notes: [],
    };
    const xml = formatJunit(input([nasty]));
    expect(xml).toContain('file="dir/&lt;&amp;&quot;&gt;.rs"');
    expect(xml).toContain('message="error[coherent_outside_probe]: a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; end"');
    expect(xml).not.toContain('\u0001');
    const failure = parseXml(xml).children[0]!.children[0]!.children[0]!;
    expect(failure.attrs.message).toBe('error[coherent_outside_probe]: a <b> & "c" \'d\' end');
    expect(failure.text).toBe('error[coherent_outside_probe]: a <b> & "c" \'d\' end\n --> dir/<&">.rs:1:1');
  });

  it('has one passing test case when nothing was found', () => {
    const root = parseXml(formatJunit(input([f3Suppressed()])));
    const suite = root.children[0]!;
    expect(suite.attrs).toMatchObject({ tests: '1', failures: '0', errors: '0' });
    expect(suite.children).toEqual([{ name: 'testcase', attrs: { classname: 'dmalint', name: 'dmalint' }, children: [], text: '' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// index

describe('formatReport', () => {
  it('dispatches every format name', () => {
    const i = input([f1(), f2()]);
    expect(FORMAT_NAMES).toEqual(['human', 'short', 'json', 'sarif', 'github', 'gitlab', 'junit']);
    expect(formatReport('human', i)).toBe(formatHuman(i));
    expect(formatReport('short', i)).toBe(formatShort(i));
    expect(formatReport('json', i)).toBe(formatJson(i));
    expect(formatReport('sarif', i)).toBe(formatSarif(i));
    expect(formatReport('github', i)).toBe(formatGithub(i));
    expect(formatReport('gitlab', i)).toBe(formatGitlab(i));
    expect(formatReport('junit', i)).toBe(formatJunit(i));
  });

  it('loads, one at a time, the same formatter for every format name as the CLI uses', async () => {
    // The CLI loads only the format asked for (src/report/load.ts); both tables must agree.
    const i = input([f1(), f2()]);
    for (const name of FORMAT_NAMES) expect((await loadFormatter(name))(i)).toBe(formatReport(name, i));
    expect((await loadGithubStepSummary())(i)).toBe(githubStepSummary(i));
  });
});
