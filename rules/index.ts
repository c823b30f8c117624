// Every rule dmalint runs. A rule is one file in this folder, or a folder whose index.ts is the
// rule (beside it, what only that rule needs: its own analysis, its quick fixes); adding one is
// adding it here.
import type { DmaRule } from '../src/rule/api.js';
import { rule as coherentOutsideProbe } from './coherent_outside_probe.js';
import { rule as dmaFreeWithoutQuiesce } from './dma_free_without_quiesce/index.js';
import { rule as revocableDmaAddr } from './revocable_dma_addr.js';

export const RULES: DmaRule[] = [coherentOutsideProbe, dmaFreeWithoutQuiesce, revocableDmaAddr];
