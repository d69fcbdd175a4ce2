import { describe, expect, it } from 'vitest';
import { sortAscending, sortByGroup, sortPresentAt } from '../../src/core/ranks.js';

/** A seeded generator so the cases are reproducible (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Same values in the same order, -0 and +0 told apart, NaN equal to NaN. */
function expectSame(actual: Float64Array, expected: Float64Array): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) throw new Error(`position ${i}: ${actual[i]} where the sort has ${expected[i]}`);
  }
}

function sample(n: number, seed: number, kind: 'continuous' | 'ties' | 'mixed'): Float64Array {
  const r = rng(seed);
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (kind === 'continuous') x[i] = (r() - 0.3) * 10 ** Math.floor(r() * 12 - 6);
    else if (kind === 'ties') x[i] = Math.floor(r() * 20) - 5;
    else x[i] = [0, -0, Infinity, -Infinity, NaN, 1e-310, -1e-310, Number.MAX_VALUE, -Number.MIN_VALUE, r() * 100 - 50][Math.floor(r() * 10)]!;
  }
  return x;
}

describe('sortPresentAt', () => {
  for (const kind of ['continuous', 'ties', 'mixed'] as const) {
    for (const n of [0, 1, 2047, 4100, 50_000]) {
      it(`equals sorting the present values at the rows: ${kind}, n = ${n}`, () => {
        const x = sample(n, n + 7, kind);
        const r = rng(n + 3);
        // every other row, some twice, in a shuffled order
        const rows = Int32Array.from({ length: Math.floor(n * 0.7) }, () => Math.floor(r() * n));
        const present = Array.from(rows, (i) => x[i]!).filter((v) => !Number.isNaN(v));
        expectSame(sortPresentAt(x, rows), Float64Array.from(present).sort());
      });
    }
  }
  it('no rows, and rows whose values are all NaN, give an empty array', () => {
    expect(sortPresentAt(new Float64Array(3), new Int32Array(0)).length).toBe(0);
    expect(sortPresentAt(new Float64Array(5000).fill(NaN), Int32Array.from({ length: 5000 }, (_, i) => i)).length).toBe(0);
  });
});

describe('sortAscending', () => {
  for (const kind of ['continuous', 'ties', 'mixed'] as const) {
    for (const n of [0, 1, 5, 2047, 2048, 50_000]) {
      it(`equals Float64Array.prototype.sort: ${kind}, n = ${n}`, () => {
        const x = sample(n, n + 1, kind);
        const copy = Float64Array.from(x);
        expectSame(sortAscending(x), Float64Array.from(x).sort());
        expectSame(x, copy); // the input is not modified
      });
    }
  }

  it('puts -0 before +0 and NaN last, like the built-in sort', () => {
    const x = new Float64Array(5000);
    for (let i = 0; i < x.length; i++) x[i] = [0, -0, NaN, -1, 1][i % 5]!;
    const s = sortAscending(x);
    expect(Object.is(s[999], -1)).toBe(true);
    expect(Object.is(s[1000], -0)).toBe(true);
    expect(Object.is(s[1999], -0)).toBe(true);
    expect(Object.is(s[2000], 0)).toBe(true);
    expect(Object.is(s[3999], 1)).toBe(true);
    expect(Number.isNaN(s[4999])).toBe(true);
    expectSame(s, Float64Array.from(x).sort());
  });

  it('sorts a constant sample (every pass skipped) and a plain array', () => {
    expectSame(sortAscending(new Float64Array(4000).fill(2.5)), new Float64Array(4000).fill(2.5));
    const arr = Array.from(sample(3000, 9, 'continuous'));
    expectSame(sortAscending(arr), Float64Array.from(arr).sort());
  });
});

describe('sortByGroup', () => {
  const check = (values: Float64Array, group: Int32Array, count: number) => {
    const r = sortByGroup(values, group, count);
    const present = values.filter((v) => !Number.isNaN(v));
    expectSame(r.all, Float64Array.from(present).sort());
    expect(r.groups.length).toBe(count);
    for (let g = 0; g < count; g++) {
      expectSame(r.groups[g]!, values.filter((v, i) => group[i] === g && !Number.isNaN(v)).sort());
    }
  };

  it('gives the sorted whole and each group sorted, as separate sorts do', () => {
    for (const kind of ['continuous', 'ties', 'mixed'] as const) {
      for (const n of [0, 1, 7, 3000, 40_000]) {
        const values = sample(n, 7 * n + 3, kind);
        const r = rng(n + 11);
        const group = Int32Array.from(values, () => Math.floor(r() * 9));
        check(values, group, 9);
      }
    }
  });

  it('keeps -0 before +0 in the whole and in every group, and drops NaN', () => {
    const values = Float64Array.of(0, -0, NaN, 0, -0, -1, 2, -0, 0, NaN);
    const group = Int32Array.of(0, 1, 0, 1, 0, 1, 0, 1, 2, 2);
    check(values, group, 4); // group 3 is empty
    expectSame(sortByGroup(values, group, 4).all, Float64Array.of(-1, -0, -0, -0, 0, 0, 0, 2));
  });

  it('rejects a group number out of range and a group list of the wrong length', () => {
    expect(() => sortByGroup([1, 2], [0, 2], 2)).toThrow(/group/);
    expect(() => sortByGroup([1, 2], [0], 2)).toThrow(/group/);
    expect(() => sortByGroup([1, 2], [0, 0], -1)).toThrow(/count/);
  });
});

describe('the decimal-key path (values k / 10^d sorted on 32-bit keys)', () => {
  /** n values with d decimals in [-span/2, span/2), as a log would hold them after parsing */
  const decimals = (n: number, seed: number, d: number, span: number): Float64Array => {
    const r = rng(seed);
    return Float64Array.from({ length: n }, () => Number(((r() - 0.5) * span).toFixed(d)));
  };
  const both = (values: Float64Array): void => {
    expectSame(sortAscending(values), Float64Array.from(values).sort());
    const r = rng(values.length);
    const group = Int32Array.from(values, () => Math.floor(r() * 5));
    const g = sortByGroup(values, group, 5);
    expectSame(g.all, Float64Array.from(values.filter((v) => !Number.isNaN(v))).sort());
    for (let k = 0; k < 5; k++) expectSame(g.groups[k]!, values.filter((v, i) => group[i] === k && !Number.isNaN(v)).sort());
  };

  it('sorts 0 to 6 decimals, negatives and many ties exactly as the built-in sort', () => {
    for (let d = 0; d <= 6; d++) {
      both(decimals(5000, 17 + d, d, 2000));
      both(decimals(5000, 31 + d, d, 0.05)); // few distinct values: long runs of ties
    }
  });

  it('falls back to the full sort, with the same result, when the values do not qualify', () => {
    const base = decimals(5000, 5, 3, 400);
    const cases: [string, (x: Float64Array) => void][] = [
      ['a late value with 7 decimals', (x) => (x[4990] = 0.1234567)],
      ['a value no power of ten gives back (0.1 + 0.2)', (x) => (x[4000] = 0.1 + 0.2)],
      ['keys spanning 2^32 and more', (x) => (x[3000] = 5e6)],
      ['-0 among the decimals', (x) => ((x[10] = -0), (x[20] = 0))],
      ['an infinity', (x) => (x[100] = -Infinity)],
      ['NaN (left out, as always)', (x) => ((x[7] = NaN), (x[8] = NaN))],
      ['a subnormal', (x) => (x[50] = 5e-324)],
    ];
    for (const [label, change] of cases) {
      const x = Float64Array.from(base);
      change(x);
      try {
        both(x);
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`);
      }
    }
  });

  it('raises the scale when a later value needs more decimals, and still qualifies', () => {
    const x = decimals(6000, 77, 2, 100);
    x[5999] = 12.3456; // 4 decimals: every value is then a multiple of 1e-4
    both(x);
  });
});

describe('the packed path (decimal keys carrying their group: sortByGroup)', () => {
  /** sortByGroup of `values` against sorting the whole and every group with the built-in sort */
  const grouped = (values: Float64Array, group: Int32Array, count: number, index?: Int32Array): void => {
    const at = index ? Float64Array.from(index, (i) => values[i]!) : values;
    const r = sortByGroup(values, group, count, index);
    expectSame(r.all, Float64Array.from(at.filter((v) => !Number.isNaN(v))).sort());
    expect(r.groups.length).toBe(count);
    for (let k = 0; k < count; k++) expectSame(r.groups[k]!, at.filter((v, i) => group[i] === k && !Number.isNaN(v)).sort());
  };
  const ints = (n: number, seed: number, lo: number, hi: number): Float64Array => {
    const r = rng(seed);
    return Float64Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
  };
  const groupsOf = (n: number, count: number, seed: number): Int32Array => {
    const r = rng(seed);
    return Int32Array.from({ length: n }, () => Math.floor(r() * count));
  };

  it('gives the same whole and groups for 1, 2, 3, 9, 16, 17 and 1000 groups', () => {
    for (const count of [1, 2, 3, 9, 16, 17, 1000]) {
      const values = Float64Array.from(ints(4000, count, -500, 500), (v) => v / 100);
      grouped(values, groupsOf(4000, count, count + 1), count);
    }
  });

  it('packs keys up to 2^32 exactly: the widest span that fits, and one more (the unpacked sort)', () => {
    // 16 groups take 4 bits: spans of 2^28 keys fit, 2^28 + 1 do not
    for (const span of [2 ** 28 - 1, 2 ** 28]) {
      const values = ints(3000, span, 0, span);
      values[0] = 0;
      values[1] = span; // the extremes are there
      grouped(values, groupsOf(3000, 16, 5), 16);
    }
  });

  it('sorts keys of 22, 23, 24 and 25 bits (11-bit and 12-bit digits) like the built-in sort', () => {
    for (const bits of [22, 23, 24, 25]) {
      const values = Float64Array.from(ints(5000, bits, 0, 2 ** (bits - 3) - 1), (v) => v / 1000);
      grouped(values, groupsOf(5000, 8, bits), 8); // 8 groups: 3 bits
    }
  });

  it('reads the values at an index, drops NaN, and reuses its scratch across sorts of other sizes', () => {
    for (const [n, seed] of [
      [50_000, 1],
      [700, 2],
      [20_000, 3],
    ] as const) {
      const values = Float64Array.from(ints(n, seed, 0, 99_999), (v) => v / 1000);
      for (let i = 0; i < n; i += 97) values[i] = NaN;
      const r = rng(seed + 10);
      const index = Int32Array.from({ length: Math.floor(n / 2) }, () => Math.floor(r() * n));
      grouped(values, groupsOf(index.length, 9, seed), 9, index);
    }
  });
});
