/**
 * The column store: batches folded into typed arrays. Sized from a row estimate (too low, too high,
 * changing, absent), it must hold exactly the same rows; columns that appear late or vanish are
 * filled as missing.
 */
import { describe, expect, it } from 'vitest';
import { ColumnStoreBuilder, type ColumnStore, type RowEstimate } from '../../src/analysis/aggregate.js';
import type { Batch, Dictionary } from '../../src/ingest/types.js';

const dict: Dictionary = { values: ['a', 'b', 'c'], index: new Map([['a', 0], ['b', 1], ['c', 2]]), size: 3 };

/** A batch of n rows starting at row `first`; the `late` column only in batches from row 3000 on (the fourth batch, row 3100, with the sizes below). */
function batch(first: number, n: number): Batch {
  const model = new Uint8Array(n);
  const x = new Float64Array(n);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = first + i;
    model[i] = r % 3 === 0 ? 1 : 0;
    x[i] = r % 7 === 0 ? NaN : r * 0.5;
    codes[i] = r % 11 === 0 ? -1 : r % 3;
  }
  const columns = new Map<string, Batch['columns'] extends Map<string, infer C> ? C : never>();
  columns.set('x', { kind: 'number', values: x });
  columns.set('g', { kind: 'dict', codes, dict });
  if (first >= 3000) columns.set('late', { kind: 'number', values: x.map((v) => v + 1) });
  return { length: n, model, columns };
}

function build(estimate: RowEstimate | undefined, sizes: number[]): ColumnStore {
  const b = new ColumnStoreBuilder(estimate);
  let first = 0;
  for (const n of sizes) {
    b.add(batch(first, n));
    first += n;
  }
  return b.finish();
}

function plain(store: ColumnStore) {
  const cols: Record<string, number[]> = {};
  for (const [name, c] of store.columns) cols[name] = Array.from(c.kind === 'number' ? c.values : c.codes);
  return { length: store.length, model: Array.from(store.model), cols };
}

describe('ColumnStoreBuilder', () => {
  const sizes = [700, 1500, 900, 2500, 4000, 1, 3333];
  const total = sizes.reduce((a, b) => a + b, 0);
  const expected = plain(build(undefined, sizes));

  it('holds every row of every batch, in order, with late columns filled as missing', () => {
    expect(expected.length).toBe(total);
    expect(expected.model.slice(0, 4)).toEqual([1, 0, 0, 1]);
    expect(expected.cols['x']![7]).toBeNaN();
    expect(expected.cols['x']![8]).toBe(4);
    expect(expected.cols['g']![11]).toBe(-1);
    expect(expected.cols['late']!.slice(0, 3100).every((v) => Number.isNaN(v))).toBe(true);
    expect(expected.cols['late']![3102]).toBe(3102 * 0.5 + 1);
  });

  const estimates: [string, RowEstimate][] = [
    ['exact', () => total],
    ['far too low', () => 10],
    ['a little low', () => total - 50],
    ['far too high', () => 50 * total],
    ['not a number', () => NaN],
    ['infinite', () => Infinity],
    ['changing as the read goes on', (() => {
      let k = 0;
      return () => [0, 2000, total / 2, total * 2][k++ % 4]!;
    })()],
  ];
  for (const [name, estimate] of estimates) {
    it(`gives the same store with an estimate that is ${name}`, () => {
      expect(plain(build(estimate, sizes))).toEqual(expected);
    });
  }

  it('puts the model codes and columns in shared memory (a worker takes them without a copy)', () => {
    const store = build(() => total, sizes);
    expect(store.model.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const c of store.columns.values()) expect((c.kind === 'number' ? c.values : c.codes).buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('leaves out the rows to drop (duplicates found once the read was done), in every column', () => {
    const drop = Int32Array.from([0, 1, 2, 699, 700, 3100, total - 1]);
    const store = plain(build(() => total, sizes));
    const b = new ColumnStoreBuilder(() => total);
    let first = 0;
    for (const n of sizes) {
      b.add(batch(first, n));
      first += n;
    }
    const dropped = plain(b.finish(drop));
    const gone = new Set(drop);
    const keep = (a: number[]) => a.filter((_, i) => !gone.has(i));
    expect(dropped.length).toBe(total - drop.length);
    expect(dropped.model).toEqual(keep(store.model));
    for (const name of Object.keys(store.cols)) expect(dropped.cols[name], name).toEqual(keep(store.cols[name]!));
    expect(() => new ColumnStoreBuilder().finish(Int32Array.from([0]))).toThrow(/past the end/);
  });
});
