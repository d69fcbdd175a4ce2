import { describe, expect, it } from 'vitest';
import { wilsonInterval } from '../../src/core/wilson.js';
import { ciOf, expectClose, expectInterval, loadReference } from '../helpers/reference.js';

interface Case {
  successes: number;
  trials: number;
  confidence: number;
  expected: { rate: number; ci: number[] };
}
// statsmodels 0.13 proportion_confint(x, n, alpha=0.05, method='wilson')
const ref = loadReference<Case>('wilson_interval');

describe('Wilson interval against statsmodels', () => {
  ref.cases.forEach((c, i) => {
    it(`case ${i}: ${c.successes}/${c.trials}`, () => {
      const r = wilsonInterval(c.successes, c.trials, c.confidence);
      expectClose(r.rate, c.expected.rate, 1e-12, 1e-15);
      expectInterval(ciOf(r.ci), c.expected.ci, 1e-7);
    });
  });
  it('at 0 or n successes the interval holds the rate: its bound there is 0 or 1 exactly, for any n and confidence', () => {
    for (const n of [1, 5, 10, 12, 12345, 1e6]) {
      for (const conf of [0.8, 0.95, 0.999]) {
        const none = wilsonInterval(0, n, conf);
        expect(none.ci.low).toBe(0);
        expect(none.ci.high).toBeGreaterThan(0);
        const all = wilsonInterval(n, n, conf);
        expect(all.ci.high).toBe(1);
        expect(all.ci.low).toBeLessThan(1);
        expect(all.ci.low).toBeCloseTo(1 - none.ci.high, 12);
      }
    }
    // 1 of n: the formula, not a clamp (its lower bound is above 0)
    expect(wilsonInterval(1, 10).ci.low).toBeGreaterThan(0);
  });

  it('stays inside [0, 1] and rejects misuse by name', () => {
    const r = wilsonInterval(0, 1);
    expect(r.ci.low).toBe(0);
    expect(() => wilsonInterval(3, 2)).toThrow(/successes/);
    expect(() => wilsonInterval(0, 0)).toThrow(/trials/);
    expect(() => wilsonInterval(1, 2, 1.5)).toThrow(/confidence/);
  });
});
