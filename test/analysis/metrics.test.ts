import { describe, expect, it } from 'vitest';
import type { ColumnStore } from '../../src/analysis/aggregate.js';
import { unitSegments } from '../../src/analysis/groups.js';
import { computeMetric, prepareUnitSums, splitUnitSums, type Metric, type UnitSumsCache } from '../../src/analysis/metrics.js';
import { normalQuantile } from '../../src/core/distributions.js';

/** A store of one numeric column, one record per unit; model 0 for the first `nA` rows. */
function store(a: number[], b: number[], field = 'v'): { store: ColumnStore; rows: [Int32Array, Int32Array]; units: Int32Array } {
  const values = Float64Array.from([...a, ...b]);
  const model = Uint8Array.from([...a.map(() => 0), ...b.map(() => 1)]);
  const units = Int32Array.from(values, (_, i) => i);
  const rows: [Int32Array, Int32Array] = [Int32Array.from(a, (_, i) => i), Int32Array.from(b, (_, i) => a.length + i)];
  return { store: { length: values.length, model, columns: new Map([[field, { kind: 'number', values }]]) }, rows, units };
}

const ctx = (s: ColumnStore, units: Int32Array) => ({ store: s, unitCodes: units, unitCount: units.length, alpha: 0.05, resamples: 1000, seed: 1, unitIsRequest: false });

/**
 * A store of 0/1 records, several a unit: unit k of an arm has y[k] ones among n[k] records (units of
 * the control first, then the treatment's).
 */
function clusteredStore(a: { y: number[]; n: number[] }, b: { y: number[]; n: number[] }): { store: ColumnStore; rows: [Int32Array, Int32Array]; units: Int32Array } {
  const values: number[] = [];
  const model: number[] = [];
  const units: number[] = [];
  const rows: [number[], number[]] = [[], []];
  let unit = 0;
  [a, b].forEach((arm, m) =>
    arm.n.forEach((n, k) => {
      for (let r = 0; r < n; r++) {
        rows[m]!.push(values.length);
        values.push(r < arm.y[k]! ? 1 : 0);
        model.push(m);
        units.push(unit);
      }
      unit++;
    }),
  );
  const v = Float64Array.from(values);
  return { store: { length: v.length, model: Uint8Array.from(model), columns: new Map([['v', { kind: 'number', values: v }]]) }, rows: [Int32Array.from(rows[0]), Int32Array.from(rows[1])], units: Int32Array.from(units) };
}

describe('computeMetric: units with several records (the rate per record, clustered by unit)', () => {
  const metric: Metric = { name: 'c', field: 'v', type: 'proportion', direction: 'increase', test: 'ztest' };
  const run = (st: ReturnType<typeof clusteredStore>) => computeMetric(metric, st.rows, { ...ctx(st.store, st.units), unitCount: st.units[st.units.length - 1]! + 1 }, new Int32Array(st.units.length));

  it('the variance is the jackknife over units, the degrees of freedom Welch\'s on the effective numbers of units (scipy, by hand)', () => {
    // numpy/scipy: leave-one-unit-out ratios, (G-1)/G * sum of squares; Kish n_eff = (sum n)^2 / sum n^2;
    // Satterthwaite df on n_eff - 1; p = 2 * t.sf(|t|, df), CI = est -/+ t.ppf(0.975, df) * se
    const r = run(clusteredStore({ y: [1, 0, 2, 1, 3], n: [2, 1, 3, 2, 4] }, { y: [2, 1, 3, 0, 1, 2], n: [2, 2, 3, 1, 1, 3] }));
    expect(r.clustered).toBe(true);
    expect([r.nControl, r.nTreatment]).toEqual([5, 6]);
    expect(r.controlValue).toBeCloseTo(0.5833333333333334, 14);
    expect(r.treatmentValue).toBeCloseTo(0.75, 14);
    expect(r.pValue).toBeCloseTo(0.31328132427744515, 10);
    expect(r.ci![0]).toBeCloseTo(-0.19456658729384774, 10);
    expect(r.ci![1]).toBeCloseTo(0.527899920627181, 10);
  });

  it('one heavy unit holding most of an arm\'s records cannot make a significant win: not tested, and the reason says why', () => {
    // 100 units of 2 records at 10% a side; in the treatment one more unit of 3000 records at 90%
    const light = { y: Array.from({ length: 100 }, (_, k) => (k % 5 === 0 ? 1 : 0)), n: new Array(100).fill(2) };
    const r = run(clusteredStore(light, { y: [...light.y, 2700], n: [...light.n, 3000] }));
    expect(r.pValue).toBeNull();
    expect(r.degenerate).toMatch(/^a few units hold most of the treatment's records \(effectively 1\.\d+ of its 101 units\)/);
    // a few heavy units among many, which disagree (90%, 10%, 50%): tested, and their spread shows (not significant)
    const some = { y: [...light.y, 900, 100, 500], n: [...light.n, 1000, 1000, 1000] };
    const r2 = run(clusteredStore(light, some));
    expect(r2.degenerate).toBeNull();
    expect(r2.pValue!).toBeGreaterThan(0.05);
  });
});

describe('computeMetric', () => {
  it('a mean metric: Welch, and the relative interval by the delta method (the control mean is uncertain too)', () => {
    const a = [10, 12, 9, 11, 13, 10, 12, 11];
    const b = [12, 14, 11, 13, 15, 12, 14, 13];
    const { store: s, rows, units } = store(a, b);
    const metric: Metric = { name: 'm', field: 'v', type: 'mean', direction: 'increase', test: 'welch' };
    const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
    const mean = (x: number[]) => x.reduce((p, q) => p + q, 0) / x.length;
    const se2 = (x: number[]) => x.reduce((p, q) => p + (q - mean(x)) ** 2, 0) / (x.length - 1) / x.length;
    const mA = mean(a);
    const mB = mean(b);
    const se = Math.sqrt(se2(b) / mA ** 2 + (mB ** 2 * se2(a)) / mA ** 4);
    const z = normalQuantile(0.975);
    expect(r.test).toBe('Welch two-sample t-test');
    expect(r.estimate).toBeCloseTo(mB - mA, 12);
    expect(r.relativeCi![0]).toBeCloseTo(mB / mA - 1 - z * se, 12);
    expect(r.relativeCi![1]).toBeCloseTo(mB / mA - 1 + z * se, 12);
    // wider than dividing the difference's interval by the control mean would make it
    expect(r.relativeCi![1]! - r.relativeCi![0]!).toBeGreaterThan(0);
  });

  it('constant and equal arms: no difference, exactly (a guardrail can pass), given values enough to tell (5 against 5)', () => {
    const { store: s, rows, units } = store([5, 5, 5, 5, 5], [5, 5, 5, 5, 5]);
    const metric: Metric = { name: 'm', field: 'v', type: 'mean', direction: 'decrease', test: 'welch' };
    const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
    expect(r.degenerate).toBeNull();
    expect(r.ci).toEqual([0, 0]);
  });

  it('constant but different arms: the difference is exact, its interval the point, p the exact permutation p of samples wholly apart', () => {
    const mean: Metric = { name: 'm', field: 'v', type: 'mean', direction: 'decrease', test: 'welch' };
    const rank: Metric = { name: 'r', field: 'v', type: 'rank', direction: 'decrease', test: 'mannwhitney' };
    const quantile: Metric = { name: 'q', field: 'v', type: 'quantile', quantile: 0.99, direction: 'decrease', test: 'bootstrap' };
    // 3 against 3: p = 2 / C(6, 3) = 0.1, not significant: not tested, with that said
    const small = store([5, 5, 5], [6, 6, 6]);
    for (const metric of [mean, quantile]) {
      const r = computeMetric(metric, small.rows, ctx(small.store, small.units), new Int32Array(small.units.length));
      expect(r.degenerate).toBe(`both arms are constant, at different values, but 3 against 3 ${metric === mean ? 'units' : 'records'} are too few to tell (exact permutation p of two samples wholly apart: 0.1)`);
      expect(r.ci).toBeNull();
    }
    // 5 against 4: p = 2 / C(9, 4) = 1/63
    const five = store([50, 50, 50, 50, 50], [80, 80, 80, 80]);
    for (const metric of [mean, quantile, rank]) {
      const r = computeMetric(metric, five.rows, ctx(five.store, five.units), new Int32Array(five.units.length));
      expect(r.degenerate, metric.type).toBeNull();
      expect([r.controlValue, r.treatmentValue, r.estimate], metric.type).toEqual([50, 80, 30]);
      expect(r.ci, metric.type).toEqual([30, 30]);
      expect(r.effectSign).toBe(1);
      if (metric !== rank) {
        expect(r.pValue).toBeCloseTo(1 / 63, 15);
        expect(r.relativeCi).toEqual([0.6, 0.6]);
      }
    }
    // thousands of values: p underflows to 0
    const big = store(new Array(2000).fill(50), new Array(2000).fill(80));
    expect(computeMetric(mean, big.rows, ctx(big.store, big.units), new Int32Array(big.units.length)).pValue).toBe(0);
  });

  it('both arms constant and equal: no difference, exactly, for every metric type (p = 1, interval [0, 0])', () => {
    const { store: s, rows, units } = store(new Array(50).fill(7), new Array(40).fill(7));
    for (const metric of [
      { name: 'm', field: 'v', type: 'mean', direction: 'decrease', test: 'welch' },
      { name: 'r', field: 'v', type: 'rank', direction: 'decrease', test: 'mannwhitney' },
      { name: 'q', field: 'v', type: 'quantile', quantile: 0.5, direction: 'decrease', test: 'bootstrap' },
    ] as Metric[]) {
      const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
      expect([r.estimate, r.ci, r.pValue, r.degenerate], metric.type).toEqual([0, [0, 0], 1, null]);
    }
  });

  it('constant arms at one value are not tested with too few values either (1 against 1, 2 against 2), and p exactly at the level is not enough', () => {
    for (const [n, m] of [[1, 1], [2, 2], [3, 3]]) {
      const { store: s, rows, units } = store(new Array(n).fill(10), new Array(m).fill(10));
      for (const metric of [
        { name: 'r', field: 'v', type: 'rank', direction: 'decrease', test: 'mannwhitney' },
        { name: 'q', field: 'v', type: 'quantile', quantile: 0.5, direction: 'decrease', test: 'bootstrap' },
      ] as Metric[]) {
        const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
        // (a bootstrap of a single value says so first)
        expect(r.degenerate, `${metric.type} ${n}/${m}`).toMatch(/^both arms are constant, at one value, but .* too few to tell|^the control sample has a single value/);
        expect(r.ci).toBeNull();
      }
    }
    // 3 against 3 at alpha 0.1: 2 / C(6, 3) = 0.1 exactly, not below the level
    const edge = store([10, 10, 10], [11, 11, 11]);
    const q: Metric = { name: 'q', field: 'v', type: 'quantile', quantile: 0.5, direction: 'decrease', test: 'bootstrap' };
    expect(computeMetric(q, edge.rows, { ...ctx(edge.store, edge.units), alpha: 0.1 }, new Int32Array(edge.units.length)).degenerate).toMatch(/too few to tell \(exact permutation p of two samples wholly apart: 0\.1\)/);
  });

  it('a control at or below 0 has no relative interval (its sign cannot be trusted), constant arms or not', () => {
    const mean: Metric = { name: 'm', field: 'v', type: 'mean', direction: 'decrease', test: 'welch' };
    const quantile: Metric = { name: 'q', field: 'v', type: 'quantile', quantile: 0.5, direction: 'decrease', test: 'bootstrap' };
    const constant = store(new Array(6).fill(-10), new Array(6).fill(-5));
    for (const metric of [mean, quantile]) {
      const r = computeMetric(metric, constant.rows, ctx(constant.store, constant.units), new Int32Array(constant.units.length));
      expect([r.estimate, r.ci, r.relativeCi], metric.type).toEqual([5, [5, 5], null]);
    }
    const spread = store(Array.from({ length: 200 }, (_, i) => -10 - (i % 5)), Array.from({ length: 200 }, (_, i) => -5 - (i % 5)));
    expect(computeMetric(quantile, spread.rows, ctx(spread.store, spread.units), new Int32Array(spread.units.length)).relativeCi).toBeNull();
  });

  it('a quantile of two constant arms is known exactly; one arm constant, the other not, is tested as usual', () => {
    const { store: s, rows, units } = store(new Array(200).fill(30), new Array(200).fill(31));
    for (const q of [0.5, 0.99]) {
      const metric: Metric = { name: 'p', field: 'v', type: 'quantile', quantile: q, direction: 'decrease', test: 'bootstrap' };
      const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
      expect(r.degenerate).toBeNull();
      expect([r.controlValue, r.treatmentValue, r.estimate]).toEqual([30, 31, 1]);
      expect(r.ci).toEqual([1, 1]);
      expect(r.test).toMatch(/both arms constant: the difference is exact$/);
    }
    // one arm constant, the other not: tested as usual
    const mixed = store(new Array(200).fill(30), Array.from({ length: 200 }, (_, i) => 30 + (i % 7)));
    const metric: Metric = { name: 'p', field: 'v', type: 'quantile', quantile: 0.5, direction: 'decrease', test: 'bootstrap' };
    expect(computeMetric(metric, mixed.rows, ctx(mixed.store, mixed.units), new Int32Array(mixed.units.length)).degenerate).toBeNull();
  });

  it('a proportion with no event in either arm is bounded by the Newcombe interval, p = 1', () => {
    const { store: s, rows, units } = store(new Array(500).fill(0), new Array(400).fill(0));
    const metric: Metric = { name: 'e', field: 'v', type: 'proportion', direction: 'decrease', test: 'ztest' };
    const r = computeMetric(metric, rows, ctx(s, units), new Int32Array(units.length));
    expect(r.pValue).toBe(1);
    expect(r.ci![0]).toBeLessThan(0);
    expect(r.ci![1]).toBeGreaterThan(0);
    expect(r.ci![1]).toBeLessThan(0.02); // the Wilson upper bound of 0/400
  });
});

describe('prepareUnitSums', () => {
  it('gives computeMetric the same per-unit sums as field-by-field: missing errors count as 0, other missing values as missing, over several chunks of fields', () => {
    // 40 rows, 12 units (several rows each), five fields: two chunks of the fused pass
    const n = 40;
    const unitCodes = Int32Array.from({ length: n }, (_, i) => (i * 7) % 12);
    const model = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const col = (f: (i: number) => number) => ({ kind: 'number' as const, values: Float64Array.from({ length: n }, (_, i) => f(i)) });
    const columns = new Map([
      ['error', col((i) => (i % 5 === 0 ? 1 : i % 4 === 0 ? NaN : 0))],
      ['latency', col((i) => (i % 9 === 0 ? NaN : 10 + ((i * 13) % 17)))],
      ['converted', col((i) => (i % 6 === 0 ? 1 : 0))],
      ['a', col((i) => (i * 3) % 11)],
      ['b', col((i) => (i % 11 === 0 ? NaN : i / 7))],
    ]);
    const s: ColumnStore = { length: n, model, columns };
    const rows: [Int32Array, Int32Array] = [Int32Array.from({ length: n }, (_, i) => i).filter((i) => model[i] === 0), Int32Array.from({ length: n }, (_, i) => i).filter((i) => model[i] === 1)];
    const metrics: Metric[] = [
      { name: 'err', field: 'error', type: 'proportion', direction: 'decrease', test: 'ztest' },
      { name: 'lat', field: 'latency', type: 'mean', direction: 'decrease', test: 'welch' },
      { name: 'conv', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest' },
      { name: 'a', field: 'a', type: 'mean', direction: 'increase', test: 'welch' },
      { name: 'b', field: 'b', type: 'rank', direction: 'increase', test: 'mannwhitney' },
    ];
    const c = ctx(s, unitCodes);
    const scratch = new Int32Array(12);
    const cache: UnitSumsCache = new Map();
    prepareUnitSums(metrics, rows, c, scratch, cache);
    expect([...cache.keys()]).toEqual(['error', 'latency', 'converted', 'a', 'b']);
    // the accumulator the passes share is left clean: a second run, and a run over other rows, agree
    const again: UnitSumsCache = new Map();
    prepareUnitSums(metrics, rows, c, scratch, again);
    expect(again).toEqual(cache);
    const swapped: UnitSumsCache = new Map();
    prepareUnitSums(metrics, [rows[1], rows[0]], c, scratch, swapped);
    expect(swapped.get('a')).toEqual([cache.get('a')![1], cache.get('a')![0]]);
    for (const m of metrics) {
      const fused = computeMetric(m, rows, c, scratch, cache);
      const alone = computeMetric(m, rows, c, scratch, new Map());
      expect(fused).toEqual(alone);
      expect(fused.degenerate).toBeNull();
    }
    // the errors: rows without an error field are successes, so every row of an arm counts
    const err = cache.get('error')!;
    const total = (k: 0 | 1) => err[k].n.reduce((p, q) => p + q, 0);
    expect(total(0)).toBe(rows[0].length);
    expect(total(1)).toBe(rows[1].length);
    expect(err[0].y.reduce((p, q) => p + q, 0)).toBe([...rows[0]].filter((i) => i % 5 === 0).length);
    // the latencies: a row without one is left out
    const lat = cache.get('latency')!;
    expect(lat[0].n.reduce((p, q) => p + q, 0)).toBe([...rows[0]].filter((i) => i % 9 !== 0).length);
  });
});

describe('splitUnitSums', () => {
  // 900 rows of 60 units; unit u lies in segment u % 4, but units 9, 19, ... have no segment value
  const n = 900;
  const units = 60;
  const unitCodes = Int32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? -1 : (i * 37 + ((i * i) % 7)) % units));
  const seg = Int32Array.from(unitCodes, (u) => (u < 0 ? 2 : u % 10 === 9 ? -1 : u % 4));
  const model = Uint8Array.from({ length: n }, (_, i) => ((i * 5) % 7 < 2 ? 1 : 0));
  const col = (f: (i: number) => number) => ({ kind: 'number' as const, values: Float64Array.from({ length: n }, (_, i) => f(i)) });
  const columns = new Map([
    ['error', col((i) => (i % 5 === 0 ? 1 : i % 4 === 0 ? NaN : 0))],
    ['latency', col((i) => (i % 9 === 0 ? NaN : 10 + ((i * 13) % 17) / 3))],
    ['converted', col((i) => (i % 6 === 0 ? 1 : 0))],
    ['a', col((i) => ((i * 3) % 11) * 0.1)],
  ]);
  const s: ColumnStore = { length: n, model, columns };
  const metrics: Metric[] = [
    { name: 'err', field: 'error', type: 'proportion', direction: 'decrease', test: 'ztest' },
    { name: 'lat', field: 'latency', type: 'mean', direction: 'decrease', test: 'welch' },
    { name: 'conv', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest' },
    { name: 'a', field: 'a', type: 'rank', direction: 'increase', test: 'mannwhitney' },
  ];
  const armRows = (keep: (i: number) => boolean): [Int32Array, Int32Array] => {
    const all = Int32Array.from({ length: n }, (_, i) => i).filter((i) => unitCodes[i]! >= 0 && keep(i));
    return [all.filter((i) => model[i] === 0), all.filter((i) => model[i] === 1)];
  };
  const c = ctx(s, unitCodes);
  const scratch = new Int32Array(units);

  it('unitSegments: each unit\'s one code (-1 missing at all its rows, -2 no rows), rows without a unit ignored; null when a unit has two', () => {
    const of = unitSegments(unitCodes, seg, units + 2)!;
    expect(of).not.toBeNull();
    for (let u = 0; u < units; u++) expect(of[u]).toBe(u % 10 === 9 ? -1 : u % 4);
    expect([...of.subarray(units)]).toEqual([-2, -2]);
    const moved = seg.slice();
    moved[unitCodes.indexOf(5)] = 3;
    expect(unitSegments(unitCodes, moved, units)).toBeNull();
    // a missing value beside a code is two codes
    const gap = seg.slice();
    gap[unitCodes.indexOf(6)] = -1;
    expect(unitSegments(unitCodes, gap, units)).toBeNull();
  });

  it('a segment\'s sums split from the whole\'s are the sums over its rows, value for value, in the same order, and give the same statistics', () => {
    const whole: UnitSumsCache = new Map();
    prepareUnitSums(metrics, armRows(() => true), c, scratch, whole);
    const of = unitSegments(unitCodes, seg, units)!;
    const split = new Map([...whole].map(([f, [a, b]]) => [f, [splitUnitSums(a, of, 4), splitUnitSums(b, of, 4)]] as const));
    let checked = 0;
    for (let code = 0; code < 4; code++) {
      const rows = armRows((i) => seg[i] === code);
      const direct: UnitSumsCache = new Map();
      prepareUnitSums(metrics, rows, c, scratch, direct);
      const derived: UnitSumsCache = new Map([...split].map(([f, [a, b]]) => [f, [a[code]!, b[code]!]]));
      for (const [f, [a, b]] of direct) {
        const [x, y] = derived.get(f)!;
        for (const [got, want] of [[x, a], [y, b]] as const) {
          expect(got.units).toBe(want.units);
          expect(got.maxPerUnit).toBe(want.maxPerUnit);
          expect([...got.unit]).toEqual([...want.unit]);
          expect([...got.y]).toEqual([...want.y]);
          expect([...got.n]).toEqual([...want.n]);
          checked += want.units;
        }
      }
      for (const m of metrics) expect(computeMetric(m, rows, c, scratch, derived)).toEqual(computeMetric(m, rows, c, scratch, new Map()));
    }
    // every unit with a segment, in both arms of most, four fields
    expect(checked).toBeGreaterThan(4 * 50);
  });

  it('fields summed in one pass share their units and counts, and their splits share them too: the same arrays otherwise', () => {
    const whole: UnitSumsCache = new Map();
    prepareUnitSums(metrics, armRows(() => true), c, scratch, whole);
    const of = unitSegments(unitCodes, seg, units)!;
    const [conv] = whole.get('converted')!;
    const [a] = whole.get('a')!;
    // (error and latency have missing values: summed on their own, not sharing)
    expect(a.unit).toBe(conv.unit);
    expect(a.n).toBe(conv.n);
    const first = splitUnitSums(conv, of, 4);
    const shared = splitUnitSums(a, of, 4, { whole: conv, parts: first });
    const alone = splitUnitSums(a, of, 4);
    for (let code = 0; code < 4; code++) {
      expect(shared[code]!.unit).toBe(first[code]!.unit);
      expect(shared[code]!.n).toBe(first[code]!.n);
      expect(shared[code]!.units).toBe(alone[code]!.units);
      expect(shared[code]!.maxPerUnit).toBe(alone[code]!.maxPerUnit);
      expect([...shared[code]!.y]).toEqual([...alone[code]!.y]);
      expect([...shared[code]!.n]).toEqual([...alone[code]!.n]);
    }
    // a field with other units (summed on its own) is split in full, not shared
    const [lat] = whole.get('latency')!;
    const own = splitUnitSums(lat, of, 4, { whole: conv, parts: first });
    expect(own[0]!.unit).not.toBe(first[0]!.unit);
    expect(own.map((p) => [...p.unit])).toEqual(splitUnitSums(lat, of, 4).map((p) => [...p.unit]));
  });
});
