import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lerp, OrderStatistics, quantile, quantilePosition, quantileSorted, select } from '../../src/core/quantile.js';
import { createRng } from '../../src/core/rng.js';

const sortedCopy = (xs: ArrayLike<number>) => Float64Array.from(xs).sort();

describe("quantile: numpy's default (method='linear') = R type 7", () => {
  it('worked by hand: x = 1..4', () => {
    // h = (n - 1) q: q = 0.25 -> h = 0.75 -> 1 + 0.75 (2 - 1) = 1.75; q = 0.9 -> h = 2.7 -> 3 + 0.7 = 3.7
    // numpy 2.4.6: [float(v) for v in np.quantile([1., 2., 3., 4.], [0.25, 0.5, 0.9, 0.99, 0, 1])]
    //   = [1.75, 2.5, 3.7, 3.9699999999999998, 1.0, 4.0]   (3.97 up to the last bit)
    const x = [1, 2, 3, 4];
    expect([0.25, 0.5, 0.9, 0.99, 0, 1].map((q) => quantileSorted(x, q))).toEqual([1.75, 2.5, 3.7, 3.9699999999999998, 1, 4]);
  });
  it('agrees with numpy to the last bit, ties and negatives included', () => {
    // numpy 2.4.6: x = [3.5, -1.25, 7.0, 7.0, 2.0, 10.5, 0.0];
    // [np.quantile(x, q) for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999)]
    // by hand for q = 0.1: sorted x = [-1.25, 0, 2, 3.5, 7, 7, 10.5], h = 0.6000000000000001,
    // numpy interpolates from the upper end when t >= 0.5: 0 - 1.25 * (1 - t) = -0.4999999999999999
    const x = [3.5, -1.25, 7.0, 7.0, 2.0, 10.5, 0.0];
    const want = [-0.4999999999999999, 1.0, 3.5, 7.0, 8.400000000000002, 10.29, 10.479];
    const qs = [0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999];
    expect(qs.map((q) => quantileSorted(sortedCopy(x), q))).toEqual(want);
    expect(qs.map((q) => quantile(x, q))).toEqual(want);
    // numpy: np.quantile([0.1 * i for i in range(11)], [0.33, 0.5, 0.95]) = [0.33000000000000007, 0.5, 0.95]
    const y = Array.from({ length: 11 }, (_, i) => 0.1 * i);
    expect([0.33, 0.5, 0.95].map((q) => quantileSorted(y, q))).toEqual([0.33000000000000007, 0.5, 0.95]);
  });
  it('median: mean of the two middle values for even n, the middle one for odd n', () => {
    expect(quantile([10, 1, 3, 2], 0.5)).toBe(2.5); // np.median([1, 2, 3, 10]) = 2.5
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
  });
  it('one value: every quantile is that value; two values interpolate', () => {
    expect(quantile([5], 0.3)).toBe(5);
    expect(quantileSorted([2, 12], 0.3)).toBe(5); // numpy: 5.0
  });
  it('rejects empty data and q outside [0, 1]', () => {
    expect(() => quantileSorted([], 0.5)).toThrow(/`sorted`/);
    expect(() => quantile([], 0.5)).toThrow(/`values`/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/`q`/);
    expect(() => quantile([1, 2], -0.1)).toThrow(/`q`/);
    expect(() => quantile([1, 2], NaN)).toThrow(/`q`/);
  });
  it('position and lerp: t = 0 returns the lower value, lerp is exact at both ends', () => {
    expect(quantilePosition(5, 0.5)).toEqual({ lo: 2, t: 0 });
    expect(quantilePosition(5, 1)).toEqual({ lo: 4, t: 0 });
    expect(lerp(1, 3, 0)).toBe(1);
    expect(lerp(1, 3, 1)).toBe(3);
    expect(lerp(0.1, 0.7, 0.5)).toBe(0.7 - (0.7 - 0.1) * 0.5); // from the upper end, as numpy
  });
});

describe('selection (Floyd-Rivest) agrees with sorting', () => {
  const arrays = fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), {
    minLength: 1,
    maxLength: 3000,
  });
  it('select(a, k) puts the k-th smallest at k, smaller-or-equal left, larger-or-equal right', () => {
    fc.assert(
      fc.property(arrays, fc.nat(), (xs, kk) => {
        const a = Float64Array.from(xs);
        const k = kk % a.length;
        const want = sortedCopy(xs)[k];
        // the k-th smallest value: with both -0 and +0 in the input, either zero is it (they compare equal)
        expect(select(a, k) === want).toBe(true);
        for (let i = 0; i < k; i++) expect(a[i]! <= a[k]!).toBe(true);
        for (let i = k + 1; i < a.length; i++) expect(a[i]! >= a[k]!).toBe(true);
        expect(sortedCopy(a)).toEqual(sortedCopy(xs)); // a permutation of the input
      }),
      { numRuns: 300 },
    );
  });
  it('quantile(unsorted) = quantileSorted(sorted) and leaves the input alone', () => {
    fc.assert(
      fc.property(arrays, fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
        const copy = xs.slice();
        expect(quantile(xs, q)).toBe(quantileSorted(sortedCopy(xs), q));
        expect(xs).toEqual(copy);
      }),
      { numRuns: 300 },
    );
  });
  it('large inputs, all equal and already sorted', () => {
    const g = createRng(1);
    const big = Float64Array.from({ length: 200_001 }, () => g.nextFloat());
    const sorted = sortedCopy(big);
    for (const q of [0, 0.01, 0.5, 0.99, 0.999, 1]) expect(quantile(big, q)).toBe(quantileSorted(sorted, q));
    expect(quantile(new Float64Array(100_000).fill(3), 0.99)).toBe(3);
    expect(quantile(sorted, 0.37)).toBe(quantileSorted(sorted, 0.37));
  });
  it('rejects a k outside the range', () => {
    expect(() => select(Float64Array.of(1, 2), 2)).toThrow(/`k`/);
  });
});

describe('OrderStatistics: sorted only where needed, always exact', () => {
  it('every rank, inside and outside the window, is the true order statistic', () => {
    const g = createRng(2);
    const xs = Float64Array.from({ length: 20_000 }, () => Math.floor(g.nextFloat() * 5000)); // many ties
    const sorted = sortedCopy(xs);
    const os = new OrderStatistics(xs, { from: 19_000, to: 19_400 });
    // window first, then the far left (sorts the left side), then the right
    for (const j of [19_000, 19_200, 19_400, 0, 5, 18_999, 19_401, 19_999]) expect(os.at(j)).toBe(sorted[j]);
    for (let j = 0; j < xs.length; j += 7) expect(os.at(j)).toBe(sorted[j]);
    expect(os.quantile(0.99)).toBe(quantileSorted(sorted, 0.99));
  });
  it('a window wider than a quarter of the sample, or none, sorts everything', () => {
    const xs = [5, 3, 9, 1, 7];
    const a = new OrderStatistics(xs, { from: 1, to: 3 });
    const b = new OrderStatistics(xs);
    expect([0, 1, 2, 3, 4].map((j) => a.at(j))).toEqual([1, 3, 5, 7, 9]);
    expect([0, 1, 2, 3, 4].map((j) => b.at(j))).toEqual([1, 3, 5, 7, 9]);
    expect(xs).toEqual([5, 3, 9, 1, 7]);
  });
  it('a sorted Float64Array is read as it is and left alone; an unsorted one, or one with NaN, is copied', () => {
    const g = createRng(5);
    const xs = sortedCopy(Float64Array.from({ length: 5000 }, () => Math.floor(g.nextFloat() * 300)));
    const before = Float64Array.from(xs);
    const os = new OrderStatistics(xs, { from: 4900, to: 4960 });
    for (let j = 0; j < xs.length; j += 13) expect(os.at(j)).toBe(before[j]);
    expect(os.quantile(0.99)).toBe(quantileSorted(before, 0.99));
    expect(xs).toEqual(before);
    // almost sorted: one pair swapped, selected and sorted on a copy
    const swapped = Float64Array.from(before);
    [swapped[10], swapped[4000]] = [swapped[4000]!, swapped[10]!];
    const kept = Float64Array.from(swapped);
    const os2 = new OrderStatistics(swapped, { from: 4900, to: 4960 });
    for (let j = 0; j < xs.length; j += 13) expect(os2.at(j)).toBe(before[j]);
    expect(swapped).toEqual(kept);
    // NaN is never taken for sorted
    const withNaN = Float64Array.from([1, 2, NaN]);
    expect(() => new OrderStatistics(withNaN).at(0)).not.toThrow();
    expect(withNaN[2]).toBeNaN();
  });
  it('rejects ranks outside 0..n-1', () => {
    const os = new OrderStatistics([1, 2, 3]);
    expect(() => os.at(3)).toThrow(/`j`/);
    expect(() => os.at(-1)).toThrow(/`j`/);
  });
});
