// One runner for every fixture: the findings must be exactly the annotated ones, and the whole
// human report (messages, notes, help) must match the snapshot pinned beside the fixture, as
// rustc's UI tests pin `.stderr` files. `npm run bless` rewrites the snapshots.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../rules/index.js';
import { defaultConfig, loadConfig } from '../src/config/load.js';
import { allRuleMetas } from '../src/lint/registry.js';
import { lintPaths } from '../src/lint/run.js';
import { apiWithConfig } from '../src/model/kernel-api.js';
import { formatHuman } from '../src/report/human.js';
import { expectationsIn, fixtureCases, key, snapshotPath } from './fixture-harness.js';

const repo = path.resolve(__dirname, '..');
const fixtures = path.join(repo, 'fixtures');
const cases = fixtureCases(fixtures);
const bless = process.env.DMALINT_BLESS === '1';

describe('fixtures', () => {
  it('has fixtures for every rule', () => {
    for (const r of RULES) expect(cases.some((c) => c.name.startsWith(`${r.meta.id}/`))).toBe(true);
  });

  it('has no snapshot without a fixture', () => {
    const pinned = new Set(cases.map((c) => snapshotPath(c.target)));
    const orphans: string[] = [];
    for (const group of fs.readdirSync(fixtures)) {
      const dir = path.join(fixtures, group);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const entry of fs.readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (!entry.endsWith('.stderr') || pinned.has(full)) continue;
        if (bless) fs.rmSync(full);
        else orphans.push(path.relative(repo, full));
      }
    }
    expect(orphans, 'snapshots whose fixture is gone: run `npm run bless`').toEqual([]);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const expected = c.files.flatMap((f) => expectationsIn(path.relative(repo, f), fs.readFileSync(f, 'utf8'))).map(key).sort();
      // A folder case may carry its own dmalint.toml (extra API names, rule levels).
      const ownConfig = fs.statSync(c.target).isDirectory() && fs.existsSync(path.join(c.target, 'dmalint.toml'));
      const config = ownConfig
        ? loadConfig({ explicitFile: path.join(c.target, 'dmalint.toml'), startPath: c.target, knownRules: allRuleMetas().map((m) => m.id) })
        : defaultConfig(c.target);
      const result = await lintPaths({
        paths: [c.target],
        cwd: repo,
        rules: RULES,
        levels: config.rules,
        api: apiWithConfig(config.api),
      });
      const actual = result.findings
        .filter((f) => !f.suppression)
        .map((f) => key({ file: f.primary.file, line: f.primary.span.line, level: f.level, rule: f.rule }))
        .sort();
      const detail = result.findings.filter((f) => !f.suppression).map((f) => `${f.primary.file}:${f.primary.span.line}: ${f.rule}: ${f.message}`).join('\n');
      expect(actual, `findings:\n${detail}`).toEqual(expected);

      const report = formatHuman({
        result: { ...result, durationMs: 0 },
        rules: allRuleMetas(),
        cwd: repo,
        readSource: (file) => result.sources.get(file),
        color: false,
        toolVersion: '0',
      });
      const pinned = snapshotPath(c.target);
      if (bless) fs.writeFileSync(pinned, report);
      else {
        const before = fs.existsSync(pinned) ? fs.readFileSync(pinned, 'utf8') : '';
        expect(report, `${path.relative(repo, pinned)} is out of date: run \`npm run bless\` and review the diff`).toBe(before);
      }
    });
  }
});
