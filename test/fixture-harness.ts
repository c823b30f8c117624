// Reads compiletest-style expectations (`//~ ERROR rule_id`, `//~^ WARN rule_id`) from fixtures.
// @ts-expect-error: a plain JavaScript module shared with `npm run fuzz`
import { fixtureCases as listFixtureCases } from '../scripts/fuzz-core.mjs';

export interface Expectation {
  file: string;
  line: number;
  level: 'deny' | 'warn';
  rule: string;
}

const ANNOTATION = /\/\/~(\^*)\s*(ERROR|WARN)\s+([a-z_]+)/g;

export function expectationsIn(file: string, text: string): Expectation[] {
  const out: Expectation[] = [];
  text.split(/\r?\n/).forEach((lineText, i) => {
    for (const m of lineText.matchAll(ANNOTATION)) {
      out.push({ file, line: i + 1 - m[1].length, level: m[2] === 'ERROR' ? 'deny' : 'warn', rule: m[3] });
    }
  });
  return out;
}

export interface FixtureCase {
  /** Name shown in the test list. */
  name: string;
  /** A file (single-file crate) or a folder (multi-file crate). */
  target: string;
  files: string[];
}

/** Every case under fixtures/: each `.rs` file directly in a rule folder, and each sub-folder. */
export function fixtureCases(root: string): FixtureCase[] {
  return listFixtureCases(root) as FixtureCase[];
}

export function key(e: { file: string; line: number; level: string; rule: string }): string {
  return `${e.file}:${e.line}: ${e.level === 'deny' ? 'ERROR' : 'WARN'} ${e.rule}`;
}

/** The pinned human report of a case: `x.stderr` beside `x.rs`, or `dir.stderr` beside a crate folder. */
export function snapshotPath(target: string): string {
  return target.endsWith('.rs') ? `${target.slice(0, -3)}.stderr` : `${target.replace(/[\\/]+$/, '')}.stderr`;
}
