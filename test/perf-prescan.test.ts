// The pre-scan may only skip what cannot produce a finding: with and without it, dmalint must
// report exactly the same over every fixture, and over a generated tree where it does skip.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RULES } from '../rules/index.js';
import { buildCorpus } from '../bench/corpus.js';
import { moduleNamesIn, planComponents, triggerMatcher, triggerNames } from '../src/lint/prescan.js';
import { lintPaths } from '../src/lint/run.js';
import { apiWithConfig, defaultApi } from '../src/model/kernel-api.js';
import { fixtureCases } from './fixture-harness.js';

const repo = path.resolve(__dirname, '..');
const fixtures = path.join(repo, 'fixtures');
const temps: string[] = [];
afterAll(() => {
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

function tempTree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-prescan-'));
  temps.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

async function lint(paths: string[], prescan: boolean, cwd = repo) {
  const r = await lintPaths({ paths, cwd, rules: RULES, levels: {}, api: apiWithConfig(undefined), prescan });
  return { findings: r.findings, notices: r.notices.filter((n) => n.kind !== 'syntax-error' && n.kind !== 'truncated'), filesChecked: r.filesChecked };
}

const mentions = triggerMatcher(triggerNames(defaultApi()));
const plan = (files: Record<string, string>) => planComponents(Object.entries(files).map(([absPath, text]) => ({ absPath, text })), mentions);

describe('pre-scan: same findings with and without it', () => {
  it('over the whole fixtures folder at once', async () => {
    const on = await lint([fixtures], true);
    const off = await lint([fixtures], false);
    expect(on.findings.length).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });

  for (const c of fixtureCases(fixtures)) {
    it(c.name, async () => {
      expect(await lint([c.target], true)).toEqual(await lint([c.target], false));
    });
  }

  it('over a generated tree where most crates are skipped', async () => {
    const api = defaultApi();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dmalint-prescan-corpus-'));
    temps.push(out);
    const apiNames = new Set(Object.values(api).flatMap((v) => (v instanceof Set ? [...v] : v instanceof Map ? [...v.keys()] : [])) as string[]);
    const m = buildCorpus({ fixtures, outDir: out, dmaShare: 0.3, minFiles: 150, minBytes: 0, shards: 1, seed: 7, mentionsDma: mentions }, apiNames);
    const files = Object.fromEntries(listRs(out).map((f) => [f, fs.readFileSync(f, 'utf8')]));
    const p = plan(files);
    expect(p.fallback).toBeUndefined();
    expect(p.components.filter((c) => !c.relevant).length).toBeGreaterThan(10);
    const on = await lint([out], true, out);
    const off = await lint([out], false, out);
    expect(on.findings.length).toBeGreaterThan(0);
    expect(on).toEqual(off);
    expect(m.files).toBe(on.filesChecked);
  });
});

function listRs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listRs(path.join(dir, e.name)) : e.name.endsWith('.rs') ? [path.join(dir, e.name)] : []));
}

describe('pre-scan: grouping', () => {
  const noDma = 'fn helper() -> u32 { 1 }\n';
  const dma = 'use kernel::dma::CoherentAllocation;\n';

  it('puts a file with `mod x;` and its x.rs, x/mod.rs or #[path] file together', () => {
    const p = plan({
      '/t/a/lib.rs': `mod x;\nmod /* why */ y;\n#[path = "../shared/zz.rs"]\nmod z;\n${dma}`,
      '/t/a/x.rs': noDma,
      '/t/a/y/mod.rs': noDma,
      '/t/shared/zz.rs': noDma,
      '/t/b/lib.rs': noDma,
    });
    expect(p.components.map((c) => [c.files, c.relevant])).toEqual([
      [[0, 1, 2, 3], true],
      [[4], false],
    ]);
  });

  it('does not link a file to a same-named file outside its folder', () => {
    const p = plan({ '/t/a/lib.rs': `mod regs;\n${dma}`, '/t/b/regs.rs': noDma });
    expect(p.components.map((c) => c.relevant)).toEqual([true, false]);
  });

  it('keeps a crate whose only trigger is a suppression comment', () => {
    const p = plan({ '/t/lib.rs': '// dmalint-allow(coherent_outside_probe): not ours\nfn f() {}\n' });
    expect(p.components[0].relevant).toBe(true);
  });

  it('gives up on a #[path] whose file name depends on the folder', () => {
    const p = plan({ '/t/lib.rs': '#[path = "sub/.."]\nmod odd;\n', '/t/other.rs': noDma });
    expect(p.fallback).toMatch(/#\[path/);
    expect(p.components).toEqual([{ files: [0, 1], relevant: true }]);
  });

  it('reads module names past comments and raw identifiers, and falls back to every identifier', () => {
    expect([...moduleNamesIn('pub mod a;\nmod // c\n  /* d /* nested */ */ r#b { }\n')].sort()).toEqual(['a', 'b', 'r#b']);
    expect(moduleNamesIn('// see mod.rs for regs\nfn f() {}\n').has('regs')).toBe(true);
  });
});

describe('pre-scan: suppressions in crates without DMA code', () => {
  it('still reports an unused suppression there', async () => {
    const dir = tempTree({ 'lib.rs': 'fn quiet() {}\n// dmalint-allow(coherent_outside_probe): kept for later\nfn f() {}\n' });
    const on = await lint([dir], true, dir);
    expect(on.findings.map((f) => f.rule)).toEqual(['unused_suppression']);
    expect(on).toEqual(await lint([dir], false, dir));
  });
});
