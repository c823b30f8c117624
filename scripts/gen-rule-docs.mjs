// Writes docs/rules/<id>.md from each rule's metadata (the single source). Run `npm run docs`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allRuleMetas } from '../dist/src/lint/registry.js';
import { ruleMarkdown } from '../dist/src/lint/explain.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'docs', 'rules');
mkdirSync(dir, { recursive: true });
for (const meta of allRuleMetas()) {
  writeFileSync(join(dir, `${meta.id}.md`), ruleMarkdown(meta));
  console.log(`docs/rules/${meta.id}.md`);
}
