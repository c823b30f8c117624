// Layers point one way: syntax -> facts -> model -> rule (the contract) -> rules -> lint ->
// report, ci, lsp, cli, with config feeding lint and the front ends. A module never imports from a layer above its own,
// and only the registry imports the rules.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(__dirname, '..');
const RANK: Record<string, number> = { syntax: 0, facts: 1, model: 2, rule: 3, rules: 4, config: 4, lint: 5, report: 6, ci: 6, lsp: 6, cli: 7 };

function layerOf(file: string): string | undefined {
  const rel = path.relative(repo, file).split(path.sep);
  if (rel[0] === 'rules') return 'rules';
  if (rel[0] === 'src') return rel[1];
  return undefined;
}

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourcesUnder(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm), ...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) =>
    path.resolve(path.dirname(file), m[1].replace(/\.js$/, '.ts')),
  );
}

describe('layers', () => {
  const files = [...sourcesUnder(path.join(repo, 'src')), ...sourcesUnder(path.join(repo, 'rules'))];

  it('no module imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      const from = layerOf(file)!;
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to === undefined || to === from) continue;
        if (RANK[to] > RANK[from] || (from === 'rules' && to === 'config')) upward.push(`${path.relative(repo, file)} -> ${path.relative(repo, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('only the registry imports the rules', () => {
    const importers = files.filter((f) => layerOf(f) !== 'rules' && importsOf(f).some((t) => layerOf(t) === 'rules')).map((f) => path.relative(repo, f));
    expect(importers).toEqual([path.join('src', 'lint', 'registry.ts')]);
  });
});
