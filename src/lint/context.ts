import type { Crate } from '../model/crate.js';
import type { KernelApi } from '../model/kernel-api.js';
import type { Rule } from './types.js';

/** What a rule's check receives: one crate's model and the kernel API knowledge. */
export interface RuleContext {
  crate: Crate;
  api: KernelApi;
}

export type DmaRule = Rule<RuleContext>;
