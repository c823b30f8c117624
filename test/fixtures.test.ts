// One runner for every fixture: the findings must be exactly the annotated ones.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES } from '../rules/index.js';
import { defaultConfig, loadConfig } from '../src/config/load.js';
import { allRuleMetas } from '../src/lint/registry.js';
import { lintPaths } from '../src/lint/run.js';
import { apiWithConfig } from '../src/model/kernel-api.js';
import { expectationsIn, fixtureCases, key } from './fixture-harness.js';

const repo = path.resolve(__dirname, '..');
const fixtures = path.join(repo, 'fixtures');
const cases = fixtureCases(fixtures);

describe('fixtures', () => {
  it('has fixtures for every rule', () => {
    for (const r of RULES) expect(cases.some((c) => c.name.startsWith(`${r.meta.id}/`))).toBe(true);
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
    });
  }
});
