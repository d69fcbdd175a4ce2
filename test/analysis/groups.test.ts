/**
 * segmentRows: the rows, units, crossed and total units of the overall segment and of each segment,
 * gathered in two passes over the rows (per-unit marks) or, for a field with too many values for the
 * marks, one segment at a time: both ways must agree with a plain recount, row by row.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnStore, DictColumn } from '../../src/analysis/aggregate.js';
import { crossedUnitMask, segmentList, segmentRows, type SegmentRows } from '../../src/analysis/groups.js';
import { createRng } from '../../src/core/rng.js';

function dict(values: string[]): DictColumn['dict'] {
  return { values, index: new Map(values.map((v, i) => [v, i])), size: values.length };
}

/** A random store: units (some missing, some crossed), a model, two segment fields (codes may be missing). */
function randomStore(seed: number, n: number) {
  const g = createRng(seed);
  const units = 40 + Math.floor(g.nextFloat() * 60);
  const unit = Int32Array.from({ length: n }, () => (g.nextFloat() < 0.05 ? -1 : Math.floor(g.nextFloat() * units)));
  // most units keep one model; a few are seen under both
  const home = Uint8Array.from({ length: units }, () => (g.nextFloat() < 0.5 ? 1 : 0));
  const model = Uint8Array.from(unit, (u) => (u < 0 ? (g.nextFloat() < 0.5 ? 1 : 0) : g.nextFloat() < 0.04 ? 1 - home[u]! : home[u]!));
  const country = Int32Array.from({ length: n }, () => (g.nextFloat() < 0.03 ? -1 : Math.floor(g.nextFloat() * 5)));
  const plan = Int32Array.from({ length: n }, () => Math.floor(g.nextFloat() * 3));
  const unitColumn: DictColumn = { kind: 'dict', codes: unit, dict: dict(Array.from({ length: units }, (_, u) => `u${u}`)), numeric: null };
  const store: ColumnStore = {
    length: n,
    model,
    columns: new Map<string, ColumnStore['columns'] extends Map<string, infer C> ? C : never>([
      ['user_id', unitColumn],
      // 'ZZ' (code 0) sorts last: segment order is by text, not by code
      ['country', { kind: 'dict', codes: country, dict: dict(['ZZ', 'BR', 'DE', 'US', 'IN', 'never']), numeric: null }],
      ['plan', { kind: 'number', values: Float64Array.from(plan, (p) => (p === 2 ? NaN : p)) }],
    ]),
  };
  return { store, unitColumn };
}

/** The same, counted row by row for the rows `inSegment` selects. */
function recount(store: ColumnStore, unit: Int32Array, mask: Uint8Array, exclude: boolean, inSegment: (i: number) => boolean) {
  const rows: [number[], number[]] = [[], []];
  const bits = new Map<number, number>();
  for (let i = 0; i < store.length; i++) {
    if (!inSegment(i) || unit[i]! < 0) continue;
    const u = unit[i]!;
    bits.set(u, (bits.get(u) ?? 0) | (1 << store.model[i]!));
    if (exclude && mask[u] === 3) continue;
    rows[store.model[i]!]!.push(i);
  }
  const units = [0, 0];
  let crossed = 0;
  for (const [u, b] of bits) {
    if (mask[u] === 3) crossed++;
    if (exclude && mask[u] === 3) continue;
    if (b & 1) units[0]!++;
    if (b & 2) units[1]!++;
  }
  return { rows, units, crossedUnits: crossed, totalUnits: bits.size };
}

const plain = (g: SegmentRows | null) => g && { segment: g.segment, rows: [Array.from(g.rows[0]), Array.from(g.rows[1])], units: g.units, crossedUnits: g.crossedUnits, totalUnits: g.totalUnits };

describe('segmentRows', () => {
  it('both ways of gathering agree with a row-by-row recount, for every subset asked and with or without crossed units excluded', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const { store, unitColumn } = randomStore(seed, 300 + seed * 37);
      const unit = unitColumn.codes;
      const mask = crossedUnitMask(store, unitColumn);
      expect(mask.includes(3)).toBe(true);
      const fields = ['country', 'plan'];
      const list = segmentList(store, fields);
      expect(list.map((s) => JSON.stringify(s))).toEqual([
        '{}',
        ...['BR', 'DE', 'IN', 'US', 'ZZ'].map((v) => JSON.stringify({ country: v })),
        ...['0', '1'].map((v) => JSON.stringify({ plan: v })),
      ]);
      const country = (store.columns.get('country') as DictColumn).codes;
      const plan = (store.columns.get('plan') as { values: Float64Array }).values;
      for (const exclude of [true, false]) {
        const expected = list.map((seg) => {
          const [field, value] = Object.entries(seg)[0] ?? [];
          const inSegment =
            field === undefined
              ? () => true
              : field === 'country'
                ? (i: number) => country[i]! >= 0 && ['ZZ', 'BR', 'DE', 'US', 'IN'][country[i]!] === value
                : (i: number) => String(plan[i]) === value;
          return { segment: seg, ...recount(store, unit, mask, exclude, inSegment) };
        });
        const subsets: (Set<number> | undefined)[] = [undefined, new Set([0]), new Set([2, 6]), new Set([1, 3, 5, 7])];
        for (const want of subsets) {
          for (const limit of [undefined, 0]) {
            const got = segmentRows(store, unitColumn, fields, mask, exclude, want, limit).map(plain);
            expect(got).toEqual(expected.map((e, gi) => (want === undefined || want.has(gi) ? e : null)));
          }
        }
      }
    }
  });
});
