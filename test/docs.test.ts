// Generated files must be current: rule docs from metadata, node kinds from the grammar.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ruleMarkdown } from '../src/lint/explain.js';
import { allRuleMetas } from '../src/lint/registry.js';

const repo = path.resolve(__dirname, '..');

describe('generated files', () => {
  for (const meta of allRuleMetas()) {
    it(`docs/rules/${meta.id}.md matches the rule metadata (run \`npm run docs\`)`, () => {
      const file = path.join(repo, 'docs', 'rules', `${meta.id}.md`);
      expect(fs.existsSync(file)).toBe(true);
      expect(fs.readFileSync(file, 'utf8')).toBe(ruleMarkdown(meta));
    });
  }

  it('every rule has complete metadata', () => {
    for (const meta of allRuleMetas()) {
      expect(meta.summary).toMatch(/^([a-z]|[A-Z]{2,})/);
      expect(meta.summary).not.toMatch(/\.$/);
      for (const field of [meta.whatItDoes, meta.whyBad, meta.howToFix, meta.limits]) expect(field.length).toBeGreaterThan(10);
      expect(meta.badExamples.length).toBeGreaterThan(0);
      expect(meta.goodExamples.length).toBeGreaterThan(0);
    }
  });

  it('src/syntax/node-kinds.generated.ts is current (run `npm run codegen`)', () => {
    const out = execFileSync(process.execPath, [path.join(repo, 'scripts', 'codegen-node-kinds.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('current');
  });
});
