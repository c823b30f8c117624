// Every rule dmalint runs. A rule is one file in this folder, or a folder whose index.ts is the
// rule and whose other files are the analysis only that rule needs; adding one is adding it here.
import type { DmaRule } from '../src/rule/api.js';
import { rule as coherentOutsideProbe } from './coherent_outside_probe.js';
import { rule as dmaFreeWithoutQuiesce } from './dma_free_without_quiesce/index.js';
import { rule as revocableDmaAddr } from './revocable_dma_addr.js';

export const RULES: DmaRule[] = [coherentOutsideProbe, dmaFreeWithoutQuiesce, revocableDmaAddr];
