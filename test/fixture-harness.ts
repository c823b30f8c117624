// Reads compiletest-style expectations (`//~ ERROR rule_id`, `//~^ WARN rule_id`) from fixtures.
import * as fs from 'node:fs';
import * as path from 'node:path';

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
  const cases: FixtureCase[] = [];
  for (const group of fs.readdirSync(root).sort()) {
    const groupDir = path.join(root, group);
    if (!fs.statSync(groupDir).isDirectory()) continue;
    for (const entry of fs.readdirSync(groupDir).sort()) {
      const full = path.join(groupDir, entry);
      const st = fs.statSync(full);
      if (st.isFile() && entry.endsWith('.rs')) cases.push({ name: `${group}/${entry}`, target: full, files: [full] });
      else if (st.isDirectory()) cases.push({ name: `${group}/${entry}/`, target: full, files: rustFilesUnder(full) });
    }
  }
  return cases;
}

function rustFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...rustFilesUnder(full));
    else if (entry.name.endsWith('.rs')) out.push(full);
  }
  return out.sort();
}

export function key(e: { file: string; line: number; level: string; rule: string }): string {
  return `${e.file}:${e.line}: ${e.level === 'deny' ? 'ERROR' : 'WARN'} ${e.rule}`;
}
