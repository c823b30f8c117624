// Unified diff parsing and the changed lines it gives, for `--diff` and `--changed-since`.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  changedLinesByFile,
  DiffError,
  mapOldLine,
  parseUnifiedDiff,
  stripPrefixes,
  touchedNewLines,
  unquotePath,
} from '../src/ci/diff.js';

function changed(diff: string): Record<string, number[] | 'all'> {
  const out: Record<string, number[] | 'all'> = {};
  for (const [file, c] of changedLinesByFile(parseUnifiedDiff(diff))) out[file] = c.all ? 'all' : [...c.lines].sort((a, b) => a - b);
  return out;
}

describe('parseUnifiedDiff', () => {
  it('reads git diff --unified=0: additions, replacements and removals', () => {
    const diff = [
      'diff --git a/drivers/foo/ring.rs b/drivers/foo/ring.rs',
      'index 1111111..2222222 100644',
      '--- a/drivers/foo/ring.rs',
      '+++ b/drivers/foo/ring.rs',
      '@@ -3,0 +4,2 @@ fn probe()',
      '+    let a = 1;',
      '+    let b = 2;',
      '@@ -10 +12 @@ fn run()',
      '-    old();',
      '+    new();',
      '@@ -20,2 +21,0 @@ fn unbind()',
      '-    // dmalint-allow(coherent_outside_probe): reason',
      '-    stop();',
      '',
    ].join('\n');
    const patches = parseUnifiedDiff(diff);
    expect(patches).toHaveLength(1);
    expect(patches[0].oldPath).toBe('drivers/foo/ring.rs');
    expect(patches[0].newPath).toBe('drivers/foo/ring.rs');
    expect(patches[0].hunks.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount])).toEqual([
      [3, 0, 4, 2],
      [10, 1, 12, 1],
      [20, 2, 21, 0],
    ]);
    // The removal after new line 21 touches lines 21 and 22 (the code around it).
    expect(changed(diff)).toEqual({ 'drivers/foo/ring.rs': [4, 5, 12, 21, 22] });
  });

  it('reads context lines and maps them', () => {
    const diff = [
      '--- a/x.rs',
      '+++ b/x.rs',
      '@@ -1,7 +1,7 @@',
      ' fn a() {',
      '-    one();',
      '+    uno();',
      '+    dos();',
      ' }',
      ' ',
      ' fn b() {',
      '-    drop(x);',
      ' }',
      '',
    ].join('\n');
    const [p] = parseUnifiedDiff(diff);
    expect(p.hunks[0].body).toHaveLength(9);
    // Removing `drop(x);` (old line 5) touches new lines 5 and 6 around it.
    expect(changed(diff)).toEqual({ 'x.rs': [2, 3, 6, 7] });
  });

  it('handles CRLF, `\\ No newline at end of file` and mailers that strip the space of empty context lines', () => {
    const diff = [
      'diff --git a/x.rs b/x.rs',
      '--- a/x.rs',
      '+++ b/x.rs',
      '@@ -1,3 +1,3 @@',
      ' fn a() {',
      '',
      '-}',
      '\\ No newline at end of file',
      '+} // end',
      '\\ No newline at end of file',
      'diff --git a/y.rs b/y.rs',
      '--- a/y.rs',
      '+++ b/y.rs',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      '',
    ].join('\r\n');
    expect(changed(diff)).toEqual({ 'x.rs': [3], 'y.rs': [1] });
  });

  it('new, deleted and renamed files', () => {
    const diff = [
      'diff --git a/new.rs b/new.rs',
      'new file mode 100644',
      'index 0000000..1111111',
      '--- /dev/null',
      '+++ b/new.rs',
      '@@ -0,0 +1,2 @@',
      '+fn a() {}',
      '+fn b() {}',
      'diff --git a/gone.rs b/gone.rs',
      'deleted file mode 100644',
      '--- a/gone.rs',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-fn c() {}',
      'diff --git a/old name.rs b/sub/new name.rs',
      'similarity index 90%',
      'rename from old name.rs',
      'rename to sub/new name.rs',
      '--- a/old name.rs\t',
      '+++ b/sub/new name.rs\t',
      '@@ -4 +4 @@',
      '-x',
      '+y',
      'diff --git a/moved.rs b/elsewhere/moved.rs',
      'similarity index 100%',
      'rename from moved.rs',
      'rename to elsewhere/moved.rs',
      '',
    ].join('\n');
    const patches = parseUnifiedDiff(diff);
    expect(patches.map((p) => [p.oldPath, p.newPath])).toEqual([
      [undefined, 'new.rs'],
      ['gone.rs', undefined],
      ['old name.rs', 'sub/new name.rs'],
      ['moved.rs', 'elsewhere/moved.rs'],
    ]);
    // A rename without content changes touches no line.
    expect(changed(diff)).toEqual({ 'new.rs': [1, 2], 'sub/new name.rs': [4] });
  });

  it('unquotes C-quoted names (UTF-8 octal escapes, tabs, quotes)', () => {
    expect(unquotePath('"b/d\\303\\251.rs"')).toBe('b/dé.rs');
    expect(unquotePath('"a/tab\\there \\"q\\".rs"')).toBe('a/tab\there "q".rs');
    const diff = ['diff --git "a/d\\303\\251.rs" "b/d\\303\\251.rs"', '--- "a/d\\303\\251.rs"', '+++ "b/d\\303\\251.rs"', '@@ -1,0 +2 @@', '+x', ''].join('\n');
    expect(changed(diff)).toEqual({ 'dé.rs': [2] });
  });

  it('strips a/ b/ and `diff -ru old/ new/` folders, keeps --no-prefix names', () => {
    expect(stripPrefixes('a/drivers/x.rs', 'b/drivers/x.rs')).toEqual(['drivers/x.rs', 'drivers/x.rs']);
    expect(stripPrefixes('linux.orig/drivers/x.rs', 'linux/drivers/x.rs')).toEqual(['drivers/x.rs', 'drivers/x.rs']);
    expect(stripPrefixes('drivers/x.rs', 'drivers/x.rs')).toEqual(['drivers/x.rs', 'drivers/x.rs']);
    expect(stripPrefixes('/dev/null', 'b/drivers/x.rs')).toEqual(['/dev/null', 'drivers/x.rs']);
    expect(stripPrefixes('/dev/null', 'drivers/x.rs')).toEqual(['/dev/null', 'drivers/x.rs']);
    expect(stripPrefixes('i/x.rs', 'w/x.rs')).toEqual(['x.rs', 'x.rs']);
    const plain = ['--- linux.orig/drivers/x.rs\t2024-05-01 10:00:00.000000000 +0200', '+++ linux/drivers/x.rs\t2024-05-01 10:01:00.000000000 +0200', '@@ -2 +2 @@', '-a', '+b', ''].join('\n');
    expect(changed(plain)).toEqual({ 'drivers/x.rs': [2] });
  });

  it('reads a mailed patch: headers, message, diffstat and signature are skipped; a removed `-- ` line is not a header', () => {
    const mbox = [
      'From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001',
      'From: A Developer <dev@example.org>',
      'Subject: [PATCH] foo: stop the engine in unbind',
      '',
      'The engine kept running.',
      '---',
      ' drivers/foo/foo.rs | 2 +-',
      ' 1 file changed, 1 insertion(+), 1 deletion(-)',
      '',
      'diff --git a/drivers/foo/foo.rs b/drivers/foo/foo.rs',
      '--- a/drivers/foo/foo.rs',
      '+++ b/drivers/foo/foo.rs',
      '@@ -7,2 +7,2 @@',
      '--- comment that starts with two dashes',
      '+++ counter',
      '-x',
      '+y',
      '-- ',
      '2.43.0',
      '',
    ].join('\n');
    expect(changed(mbox)).toEqual({ 'drivers/foo/foo.rs': [7, 8] });
  });

  it('composes a series: later patches move and drop the lines earlier ones changed', () => {
    const series = [
      'Subject: [PATCH 1/2] add a ring',
      '---',
      'diff --git a/x.rs b/x.rs',
      '--- a/x.rs',
      '+++ b/x.rs',
      '@@ -4,0 +5,2 @@',
      '+ring_a();',
      '+ring_b();',
      '-- ',
      '2.43.0',
      '',
      'Subject: [PATCH 2/2] header',
      '---',
      'diff --git a/x.rs b/x.rs',
      '--- a/x.rs',
      '+++ b/x.rs',
      '@@ -0,0 +1,3 @@',
      '+// one',
      '+// two',
      '+// three',
      '@@ -6 +8,0 @@',
      '-ring_b();',
      '-- ',
      '2.43.0',
      '',
    ].join('\n');
    // Patch 1 changed lines 5 and 6; patch 2 adds 3 lines on top (5 -> 8) and removes old line 6
    // (ring_b), which touches new lines 8 and 9 around it.
    expect(changed(series)).toEqual({ 'x.rs': [1, 2, 3, 8, 9] });
  });

  it('rejects a damaged hunk with the line it starts on', () => {
    const diff = ['--- a/x.rs', '+++ b/x.rs', '@@ -1,3 +1,3 @@', ' a', '+b', 'garbage', ''].join('\n');
    expect(() => parseUnifiedDiff(diff)).toThrow(DiffError);
    expect(() => parseUnifiedDiff(diff)).toThrow(/line 3: the hunk `@@ -1,3 \+1,3 @@`/);
    expect(() => parseUnifiedDiff(['--- a/x.rs', '+++ b/x.rs', '@@ -1,2 +1,2 @@', ' a', ''].join('\n'))).toThrow(DiffError);
  });

  it('text without a diff gives no patches', () => {
    expect(parseUnifiedDiff('Subject: hello\n\njust words\n')).toEqual([]);
  });
});

describe('line mapping against git diff --no-index', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-diff-'));
  const gitOk = spawnSync('git', ['--version']).status === 0;

  function gitDiff(oldLines: string[], newLines: string[], context: number): string {
    fs.writeFileSync(path.join(dir, 'old.rs'), oldLines.map((l) => `${l}\n`).join(''));
    fs.writeFileSync(path.join(dir, 'new.rs'), newLines.map((l) => `${l}\n`).join(''));
    const r = spawnSync('git', ['diff', '--no-index', '--no-color', `--unified=${context}`, 'old.rs', 'new.rs'], { cwd: dir, encoding: 'utf8' });
    return r.stdout;
  }

  // Lines are unique, so "the same line" can be checked by its text.
  const edit = fc
    .tuple(fc.integer({ min: 0, max: 30 }), fc.array(fc.boolean(), { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 8 }))
    .map(([n, keep, inserts]) => {
      const oldLines = Array.from({ length: n }, (_, i) => `old_${i}();`);
      const newLines = oldLines.filter((_, i) => keep[i] ?? true);
      inserts.forEach((at, k) => newLines.splice(Math.min(at, newLines.length), 0, `new_${k}();`));
      return { oldLines, newLines };
    });

  it.skipIf(!gitOk)('old lines map to the same text, added lines are touched, with and without context', () => {
    fc.assert(
      fc.property(edit, fc.constantFrom(0, 3), ({ oldLines, newLines }, context) => {
        const [patch] = parseUnifiedDiff(gitDiff(oldLines, newLines, context));
        const hunks = patch?.hunks ?? [];
        oldLines.forEach((text, i) => {
          const mapped = mapOldLine(i + 1, hunks);
          if (newLines.includes(text)) expect(newLines[mapped! - 1]).toBe(text);
          else expect(mapped).toBeUndefined();
        });
        const touched = new Set(hunks.flatMap(touchedNewLines));
        newLines.forEach((text, i) => {
          if (!oldLines.includes(text)) expect(touched.has(i + 1)).toBe(true);
        });
        for (const line of touched) expect(line).toBeLessThanOrEqual(Math.max(1, newLines.length + 1));
      }),
      { numRuns: 60 },
    );
  });

  it.skipIf(!gitOk)('a file given to git diff --no-index keeps its name', () => {
    const out = gitDiff(['a();'], ['b();'], 0);
    expect(parseUnifiedDiff(out).map((p) => p.newPath)).toEqual(['new.rs']);
  });
});
