// V8 tuning for one-shot runs (`check`, `baseline`), not for the language server.
//
// V8 compiles a function with its optimizing compiler once the function has run a little (its
// "interrupt budget", 66 KiB of bytecode executed by default), tuned for long-lived programs.
// A cold run of dmalint is short and runs the extractor in several threads, each of which compiled
// the same code again: about a third of all CPU time went to optimizing compilation. A larger
// budget optimizes only what stays hot. Measured with `npm run bench` (docs/performance.md):
// a cold run of the 10 MiB benchmark corpus drops from about 1.9 s to 1.5 s of wall time and
// from about 3.4 s to 2.6 s of CPU time, and a 40 MiB corpus from 11.5 s to 9.3 s.
import { setFlagsFromString } from 'node:v8';

/** Bytecode executed before a function is considered for optimization; V8's default is 67,584. */
export const BATCH_INTERRUPT_BUDGET = 1_000_000;

/**
 * Call before any analysis code runs and before worker threads start (V8 flags are process-wide,
 * so the workers get it too).
 */
export function tuneForBatchRun(): void {
  setFlagsFromString(`--interrupt-budget=${BATCH_INTERRUPT_BUDGET}`);
}
