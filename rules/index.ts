// Every rule dmalint runs. A rule is one file in this folder; adding one is adding it here.
import type { DmaRule } from '../src/lint/context.js';
import { rule as coherentOutsideProbe } from './coherent_outside_probe.js';
import { rule as dmaFreeWithoutQuiesce } from './dma_free_without_quiesce.js';
import { rule as revocableDmaAddr } from './revocable_dma_addr.js';

export const RULES: DmaRule[] = [coherentOutsideProbe, dmaFreeWithoutQuiesce, revocableDmaAddr];
