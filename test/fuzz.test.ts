// Property: whatever is done to the fixtures (tokens deleted, duplicated, swapped, the file cut
// short, random bytes inserted, deep nesting added), linting never throws, never takes longer
// than a bound, keeps the facts' nesting bounded, and gives the same facts and findings whether
// extracted inline, by the serial source or by the worker pool. `npm run fuzz` runs many more
// cases with a fresh seed; here the seed is fixed so that a failure is reproducible.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module shared with `npm run fuzz`
import { applyCase, caseArbitrary, Checker, describeCase, FACTS_DEPTH_BOUND, loadRegressions, loadSeeds } from '../scripts/fuzz-core.mjs';

interface CheckResult {
  ok: boolean;
  ms: number;
  stage?: string;
  error?: string;
  stack?: string;
  findings?: number;
  notices?: string[];
  truncated?: boolean;
  depth?: number;
  workers?: number;
}

const RUNS = Number(process.env.DMALINT_FUZZ_RUNS ?? 400);
const SEED = Number(process.env.DMALINT_FUZZ_SEED ?? 20_251_124);
/** Generous: a case takes tens of milliseconds; only a hang or a blow-up comes near. */
const TIME_BOUND_MS = 15_000;

const seeds = loadSeeds();
const checker = new Checker({ timeoutMs: TIME_BOUND_MS });
afterAll(() => checker.close());

function failure(r: CheckResult, what: string): string {
  return `${what}\n${r.stage}: ${r.error}\n${(r.stack ?? '').split('\n').slice(0, 8).join('\n')}`;
}

describe('fuzzing the fixtures', () => {
  it('has seeds from every fixture folder', () => {
    expect(seeds.length).toBeGreaterThan(20);
    expect(seeds.some((s: { files: unknown[] }) => s.files.length > 1)).toBe(true);
  });

  it(`${RUNS} mutated cases: no throw, no hang, bounded nesting, serial and parallel agree`, async () => {
    const seen = { findings: 0, notices: 0, truncated: 0, pooled: 0 };
    await fc.assert(
      fc.asyncProperty(caseArbitrary(fc, seeds.length), async (c: unknown) => {
        const what = describeCase(c, seeds);
        const r = (await checker.check(applyCase(seeds, c).files)) as CheckResult;
        expect(r.ok, failure(r, what)).toBe(true);
        expect(r.depth, `${what}: facts nest too deeply`).toBeLessThanOrEqual(FACTS_DEPTH_BOUND);
        if (r.findings! > 0) seen.findings++;
        if (r.notices!.length > 0) seen.notices++;
        if (r.truncated) seen.truncated++;
        if (r.workers! > 0) seen.pooled++;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // The cases reach every outcome: some keep findings, some are not text, some are cut at the
    // nesting bound, and the worker pool served them.
    expect(seen.findings).toBeGreaterThan(0);
    expect(seen.notices).toBeGreaterThan(0);
    expect(seen.truncated).toBeGreaterThan(0);
    expect(seen.pooled).toBeGreaterThan(0);
  });

  for (const regression of loadRegressions() as { name: string; files: unknown[] }[]) {
    it(`regression ${regression.name} stays fixed`, async () => {
      const r = (await checker.check(regression.files)) as CheckResult;
      expect(r.ok, failure(r, regression.name)).toBe(true);
      expect(r.depth).toBeLessThanOrEqual(FACTS_DEPTH_BOUND);
    });
  }
});
