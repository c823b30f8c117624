// Kept for existing imports: the rule contract lives in src/rule/api.ts.
export type { DmaRule, RuleContext } from '../rule/api.js';
