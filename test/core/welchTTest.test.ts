import { describe, expect, it } from 'vitest';
import { welchFromSummaries, welchTTest } from '../../src/core/welchTTest.js';
import { summarize } from '../../src/core/summaries.js';
import type { Alternative } from '../../src/core/types.js';
import { ciOf, expectClose, expectInterval, expectP, loadReference } from '../helpers/reference.js';

interface Case {
  a: number[];
  b: number[];
  alternative: Alternative;
  expected: { statistic: number; df: number; p_value: number; estimate: number; ci: (number | null)[] };
}
// statistic and df: exact rational arithmetic on the doubles; p_value and ci: R 4.2
// t.test(b, a, var.equal=FALSE, alternative, conf.level=0.95) (fixtures/reference/welch_ttest.json).
const ref = loadReference<Case>('welch_ttest');

describe('Welch t-test against R t.test(b, a)', () => {
  ref.cases.forEach((c, i) => {
    it(`case ${i}: n=${c.a.length} vs ${c.b.length}, ${c.alternative}`, () => {
      const r = welchTTest(c.a, c.b, { alternative: c.alternative });
      if (r.degenerate) throw new Error(r.reason);
      expectClose(r.statistic, c.expected.statistic, 1e-7, 1e-12, 'statistic');
      expectClose(r.df, c.expected.df, 1e-7, 0, 'df');
      expectP(r.pValue, c.expected.p_value);
      expectClose(r.estimate, c.expected.estimate, 1e-7, 1e-12, 'estimate');
      expectInterval(ciOf(r.ci), c.expected.ci);
    });
  });

  it("R's sleep data: t.test(extra ~ group, data = sleep)", () => {
    const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    // t is group1 - group2, so group1 is the "treatment" b
    const r = welchTTest(g2, g1);
    if (r.degenerate) throw new Error(r.reason);
    expectClose(r.statistic, -1.860813467486853, 1e-12);
    expectClose(r.df, 17.7764735161785, 1e-12);
    expectClose(r.pValue, 0.07939414018735817, 1e-9);
    expectInterval(ciOf(r.ci), [-3.36548323071171, 0.2054832307117102]);
  });
});

describe('Welch t-test on degenerate data', () => {
  it('empty arm', () => {
    const r = welchTTest([], [1, 2, 3]);
    expect(r.degenerate && r.code).toBe('empty-sample');
  });
  it('n < 2', () => {
    const r = welchTTest([1], [1, 2, 3]);
    expect(r.degenerate && r.code).toBe('too-few-observations');
  });
  it('zero variance in both arms', () => {
    const r = welchTTest([5, 5, 5], [6, 6, 6]);
    expect(r.degenerate && r.code).toBe('zero-variance');
    expect(r.degenerate && r.reason).toMatch(/constant/);
  });
  it('constant but for rounding noise', () => {
    const r = welchTTest([0.1 + 0.2, 0.3, 0.3], [0.3, 0.30000000000000004, 0.3]);
    expect(r.degenerate && r.code).toBe('zero-variance');
  });
  it('values too large for their variance, or not finite: degenerate, saying which', () => {
    const big = welchTTest([1e300, -1e300, 1e299], [1e300, 2e299, -1e300]);
    expect(big.degenerate && big.code).toBe('non-finite');
    expect(big.degenerate && big.reason).toMatch(/variance overflows/);
    const nan = welchTTest([1, NaN, 3], [1, 2, 3]);
    expect(nan.degenerate && nan.reason).toMatch(/mean is not finite/);
  });
  it('one arm constant is fine', () => {
    const r = welchTTest([5, 5, 5], [6, 7, 8]);
    expect(r.degenerate).toBeFalsy();
  });
  it('summaries give the same answer as raw samples', () => {
    const a = [1, 4, 2, 8, 5];
    const b = [3, 9, 7, 6, 8, 10];
    const r1 = welchTTest(a, b);
    const r2 = welchFromSummaries(summarize(a), summarize(b));
    if (r1.degenerate || r2.degenerate) throw new Error('degenerate');
    expectClose(r2.statistic, r1.statistic, 1e-14);
    expectClose(r2.pValue, r1.pValue, 1e-14);
  });
  it('rejects a bad alternative by name', () => {
    expect(() => welchTTest([1, 2], [3, 4], { alternative: 'bigger' as Alternative })).toThrow(/alternative/);
  });
});
