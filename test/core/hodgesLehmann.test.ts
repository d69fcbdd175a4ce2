import { describe, expect, it } from 'vitest';
import { hodgesLehmann, hodgesLehmannSorted, kthPairwiseDifference, PairwiseDifferences } from '../../src/core/hodgesLehmann.js';
import { ArgumentError } from '../../src/core/types.js';
import { expectClose, loadReference } from '../helpers/reference.js';

/** Deterministic data from integer arithmetic (identical in Python): ((i p + 7) mod q) / q * scale + shift. */
const seq = (n: number, p: number, q: number, scale = 1, shift = 0) =>
  Float64Array.from({ length: n }, (_, i) => (((i * p + 7) % q) / q) * scale + shift);
const sorted = (x: ArrayLike<number>) => Float64Array.from(x).sort();

/** Every difference b_j - a_i, sorted: the brute-force oracle. */
function allDifferences(a: Float64Array, b: Float64Array): Float64Array {
  const d = new Float64Array(a.length * b.length);
  let k = 0;
  for (const x of a) for (const y of b) d[k++] = y - x;
  return d.sort();
}

interface Case {
  a: number[];
  b: number[];
  expected: { hodges_lehmann: number };
}
// hodges_lehmann = median of all pairwise differences b_j - a_i, computed with numpy
// (fixtures/reference/mann_whitney_u.json, see its `source`); tolerance 1e-9 relative.
const ref = loadReference<Case>('mann_whitney_u');

describe('Hodges-Lehmann shift', () => {
  ref.cases.forEach((c, i) => {
    it(`reference case ${i}: n=${c.a.length} vs ${c.b.length}`, () => {
      const r = hodgesLehmann(c.a, c.b);
      if (r.degenerate) throw new Error(r.reason);
      expectClose(r.estimate, c.expected.hodges_lehmann, 1e-9, 1e-12, 'hodges_lehmann');
    });
  });

  it("R 4.x wilcox.test(treated, untreated, conf.int = TRUE): difference in location -83.5", () => {
    // printed R output (Cross Validated question): W = 25, estimate -83.5
    const treated = [323, 421, 578, 300, 256, 640, 912, 370];
    const untreated = [2388, 210, 380, 345, 1130, 260, 665, 1157];
    const r = hodgesLehmann(untreated, treated);
    if (r.degenerate) throw new Error(r.reason);
    expect(r.estimate).toBe(-83.5);
  });

  it('odd count: the middle difference; even count: the mean of the two middle ones', () => {
    const odd = hodgesLehmann([1, 2, 3], [2, 4, 6]); // differences -1,0,1,1,2,3,3,4,5
    const even = hodgesLehmann([0, 10], [1, 2]); // differences -9,-8,1,2
    if (odd.degenerate || even.degenerate) throw new Error('unexpected degenerate');
    expect(odd.estimate).toBe(2);
    expect(even.estimate).toBe(-3.5);
  });
});

describe('k-th pairwise difference against the sorted list of all differences', () => {
  const sets: Array<[string, Float64Array, Float64Array]> = [
    ['continuous, b longer', sorted(seq(300, 37, 307, 10)), sorted(seq(400, 53, 401, 10, 0.5))],
    ['continuous, a longer (transposed passes)', sorted(seq(450, 211, 457, 3, -1)), sorted(seq(260, 97, 263, 3))],
    ['discrete 0..5 with many equal differences', sorted(seq(300, 37, 6).map(Math.round)), sorted(seq(500, 11, 6).map(Math.round))],
    ['identical samples (many zero differences)', sorted(seq(280, 13, 7)), sorted(seq(280, 13, 7))],
    ['negative and positive, tiny and huge', sorted([-1e300, -5, -1e-300, 0, 0, 3, 7e10, 1e300]), sorted(seq(9000, 7, 9001, 1e6, -5e5))],
  ];
  for (const [label, a, b] of sets) {
    it(label, () => {
      const all = allDifferences(a, b);
      const d = new PairwiseDifferences(a, b);
      expect(d.count).toBe(all.length);
      const step = Math.max(1, Math.floor(all.length / 400));
      for (let k = 1; k <= all.length; k += step) expect(d.kth(k), `k = ${k}`).toBe(all[k - 1]);
      expect(d.kth(all.length)).toBe(all[all.length - 1]);
      for (const k of [1, 2, Math.floor(all.length / 2), all.length - 1]) {
        expect(d.kthAndNext(k), `k = ${k}`).toEqual([all[k - 1], all[k]]);
      }
      const n = all.length;
      const median = n % 2 === 1 ? all[(n - 1) / 2]! : (all[n / 2 - 1]! + all[n / 2]!) / 2;
      expect(hodgesLehmannSorted(a, b)).toBe(median);
    });
  }

  it('1 x 1 and 1 x m', () => {
    expect(kthPairwiseDifference(Float64Array.of(2), Float64Array.of(5), 1)).toBe(3);
    expect(hodgesLehmannSorted(Float64Array.of(1), Float64Array.of(1, 2, 10, 11))).toBe(5);
  });
});

describe('large samples: no n*m differences are listed', () => {
  /** rank check by binary search per a_i: #(d < x) < k <= #(d <= x) */
  function rankOf(a: Float64Array, b: Float64Array, x: number): { lt: number; le: number } {
    let lt = 0;
    let le = 0;
    for (const ai of a) {
      let lo = 0;
      let hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (b[mid]! - ai < x) lo = mid + 1;
        else hi = mid;
      }
      lt += lo;
      hi = b.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (b[mid]! - ai <= x) lo = mid + 1;
        else hi = mid;
      }
      le += lo;
    }
    return { lt, le };
  }

  it('100k x 20k: the selected values have the requested ranks', () => {
    const a = sorted(seq(100_000, 7919, 100_003, 50));
    const b = sorted(seq(20_000, 104_729, 20_011, 60, 2));
    const d = new PairwiseDifferences(a, b);
    for (const k of [1, 12345, Math.floor(d.count / 40), Math.floor(d.count / 2), d.count - 7]) {
      const x = d.kth(k);
      const r = rankOf(a, b, x);
      expect(r.lt, `k = ${k}`).toBeLessThan(k);
      expect(r.le, `k = ${k}`).toBeGreaterThanOrEqual(k);
    }
  });

  it('few counting passes on smooth data (interpolated pivots), the same answers as bisection would give', () => {
    const a = sorted(seq(100_000, 7919, 100_003, 50));
    const b = sorted(seq(20_000, 104_729, 20_011, 60, 2));
    const d = new PairwiseDifferences(a, b);
    const k = Math.floor((d.count + 1) / 2);
    const x = d.kth(k);
    const r = rankOf(a, b, x);
    expect(r.lt).toBeLessThan(k);
    expect(r.le).toBeGreaterThanOrEqual(k);
    // bisection on value needs about 20 passes here; a secant step on the ranks a handful
    expect(d.passes).toBeLessThanOrEqual(8);
  });

  it('skewed data with far outliers: still exact, and no more passes than bisection allows', () => {
    // most values in [0, 1), a few at 1e6: interpolation alone would crawl, the midpoint fallback does not
    const a = sorted(seq(50_000, 7919, 50_021, 1).map((v, i) => (i % 5000 === 0 ? 1e6 + v : v * v)));
    const b = sorted(seq(30_000, 104_729, 30_011, 1).map((v, i) => (i % 3000 === 0 ? 1e6 + v : v * v * v)));
    const d = new PairwiseDifferences(a, b);
    for (const k of [1, Math.floor(d.count / 3), Math.floor(d.count / 2), d.count - 1]) {
      const before = d.passes;
      const x = d.kth(k);
      const r = rankOf(a, b, x);
      expect(r.lt, `k = ${k}`).toBeLessThan(k);
      expect(r.le, `k = ${k}`).toBeGreaterThanOrEqual(k);
      expect(d.passes - before, `k = ${k}`).toBeLessThanOrEqual(2 * 64);
    }
  });

  it('900k x 100k Hodges-Lehmann runs without materialising the 9e10 differences (timings: npm run bench)', () => {
    const a = seq(900_000, 7919, 900_001, 100);
    const b = seq(100_000, 104_729, 100_003, 100, 0.25);
    const r = hodgesLehmann(a, b);
    if (r.degenerate) throw new Error(r.reason);
    expect(Math.abs(r.estimate - 0.25)).toBeLessThan(0.01);
  });
});

describe('degenerate data and misuse', () => {
  it('an empty arm is a Degenerate, not a number', () => {
    const r = hodgesLehmann([], [1, 2]);
    expect(r.degenerate && r.code).toBe('empty-sample');
  });
  it('NaN is a Degenerate', () => {
    const r = hodgesLehmann([1, NaN], [1, 2]);
    expect(r.degenerate && r.code).toBe('non-finite');
  });
  it('unsorted input to the sorted variant throws, naming the argument', () => {
    expect(() => hodgesLehmannSorted(Float64Array.of(2, 1), Float64Array.of(1))).toThrow(ArgumentError);
    expect(() => hodgesLehmannSorted(Float64Array.of(1), Float64Array.of(3, 2))).toThrow(/bSorted/);
  });
  it('k out of range throws', () => {
    expect(() => kthPairwiseDifference(Float64Array.of(1, 2), Float64Array.of(3), 3)).toThrow(/`k`/);
    expect(() => kthPairwiseDifference(Float64Array.of(1, 2), Float64Array.of(3), 0)).toThrow(ArgumentError);
  });
});
