// Findings about dmalint's own suppression comments. They have metadata like any rule so that
// `dmalint explain`, SARIF and the language server describe them, but no check over the model.
import type { RuleMeta } from './types.js';

export const INVALID_SUPPRESSION: RuleMeta = {
  id: 'invalid_suppression',
  defaultLevel: 'deny',
  summary: 'a dmalint-allow comment without a reason (or with a placeholder for one), with an unknown rule id, or malformed',
  whatItDoes: 'Checks every `// dmalint-allow(rule_id): reason` comment: the rule id must exist and a reason must follow the colon. A placeholder is no reason: `<reason>` or any other text in angle brackets, `TODO`, `FIXME`, `XXX`, `TBD`, `reason`, `...`, `?`, `-`, `n/a`, `none`. Such a comment suppresses nothing.',
  whyBad: 'A suppression is a claim that a reviewer must be able to check. Without a reason it hides a possible device use-after-free with nothing to review; with a misspelled rule id it suppresses nothing.',
  badExamples: [
    { title: 'no reason', code: '// dmalint-allow(coherent_outside_probe)\nlet buf = CoherentAllocation::alloc_coherent(dev, 16, GFP_KERNEL)?;' },
    { title: 'a placeholder left in', code: '// dmalint-allow(coherent_outside_probe): <reason>\nlet buf = CoherentAllocation::alloc_coherent(dev, 16, GFP_KERNEL)?;' },
  ],
  goodExamples: [{ title: 'a reason a reviewer can check', code: '// dmalint-allow(coherent_outside_probe): `dev` is the bound device passed down from probe()\nlet buf = CoherentAllocation::alloc_coherent(dev, 16, GFP_KERNEL)?;' }],
  howToFix: 'Write the rule id exactly as `dmalint rules` lists it, and after a colon the reason the finding is wrong or acceptable. An editor\'s quick fix inserts `<reason>` for you to replace.',
  limits: 'Only `//` line comments are read as suppressions; a `dmalint-allow` in a block or doc comment is ignored.',
  tags: ['suppression'],
  links: [],
};

export const UNUSED_SUPPRESSION: RuleMeta = {
  id: 'unused_suppression',
  defaultLevel: 'warn',
  summary: 'a dmalint-allow comment that suppresses nothing',
  whatItDoes: 'Reports a `dmalint-allow` comment for an enabled rule when no finding of that rule is on the line after it, on its own line, or in the item it precedes.',
  whyBad: 'A stale suppression documents a problem that is no longer there, and would silently hide a new one at the same place.',
  badExamples: [{ title: 'nothing left to suppress', code: '// dmalint-allow(revocable_dma_addr): legacy\nlet n = ring.len();' }],
  goodExamples: [{ title: 'remove it', code: 'let n = ring.len();' }],
  howToFix: 'Delete the comment.',
  limits: 'Not reported for rules that are disabled or not selected with `--rule`, since their findings are not computed.',
  tags: ['suppression'],
  links: [],
};

export const BUILTIN_METAS: RuleMeta[] = [INVALID_SUPPRESSION, UNUSED_SUPPRESSION];
