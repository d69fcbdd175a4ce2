/**
 * One pass over the ingested batches into a column store: only the fields the spec needs, in
 * growable typed arrays (numbers as Float64, strings as dictionary codes), so a million rows cost
 * a few tens of megabytes and every test can then work on typed arrays. The arrays live in shared
 * memory, so a worker thread can compute some segments' statistics on them (parallel.ts).
 *
 * Grouping (segment x model, per-unit aggregation) happens afterwards in evaluate.ts on index
 * lists, because the rank, KS and quantile tests need the values themselves, not just sums.
 */
import type { Batch, Column, Dictionary } from '../ingest/types.js';

type Typed = Float64Array | Int32Array | Uint8Array;

/**
 * How many rows the whole read will hold, estimated while reading (0: no estimate yet). A Grow sized
 * from it is written once; grown by doubling, every row would be copied about once more, and on a
 * machine where first touching memory is dear (a VM's page faults) that copy costs more than the rows.
 */
export type RowEstimate = () => number;

/** A typed array that grows (to the row estimate, else by doubling): `push` a batch's values, `view` the filled part. */
class Grow<T extends Typed> {
  length = 0;
  constructor(
    private data: T,
    private readonly make: (n: number) => T,
    private readonly estimate: RowEstimate,
  ) {}
  push(src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, n: number): void {
    this.reserve(n);
    this.data.set(src.subarray(0, n), this.length);
    this.length += n;
  }
  pushFill(v: number, n: number): void {
    this.reserve(n);
    this.data.fill(v, this.length, this.length + n);
    this.length += n;
  }
  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < need) cap *= 2;
    // an estimate of the end, with room for its error: memory never written costs nothing
    // (at least half again the rows needed, so that an estimate that keeps falling short does not
    // make many small steps)
    const expected = this.estimate();
    if (Number.isFinite(expected) && expected >= need) cap = Math.max(Math.ceil(need * 1.5), Math.ceil(expected * 1.04) + 1024);
    const next = this.make(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  /** Remove rows `drop` (ascending, distinct, each < length), moving the later rows down. */
  remove(drop: Int32Array): void {
    if (drop.length === 0) return;
    let w = drop[0]!;
    for (let k = 0; k < drop.length; k++) {
      const from = drop[k]! + 1;
      const to = k + 1 < drop.length ? drop[k + 1]! : this.length;
      this.data.copyWithin(w, from, to);
      w += to - from;
    }
    this.length = w;
  }
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

// shared memory, so that a worker thread can take the columns without a copy (see parallel.ts)
const sharedF64 = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(8 * n));
const sharedI32 = (n: number): Int32Array => new Int32Array(new SharedArrayBuffer(4 * n));
const sharedU8 = (n: number): Uint8Array => new Uint8Array(new SharedArrayBuffer(n));
const noEstimate: RowEstimate = () => 0;
type GrowF64 = Grow<Float64Array>;
type GrowI32 = Grow<Int32Array>;

export interface NumberColumn {
  kind: 'number';
  values: Float64Array;
}
export interface DictColumn {
  kind: 'dict';
  codes: Int32Array;
  dict: Dictionary;
  /** for label columns: the numeric value of each row, NaN when not numeric or missing */
  numeric: Float64Array | null;
}
export type StoredColumn = NumberColumn | DictColumn;

/** All accepted rows, columnar. `model[i]` indexes the spec's model list. */
export interface ColumnStore {
  length: number;
  model: Uint8Array;
  columns: Map<string, StoredColumn>;
}

interface Building {
  kind: 'number' | 'dict';
  f64?: GrowF64;
  i32?: GrowI32;
  numeric?: GrowF64;
  dict?: Dictionary;
}

/** Folds batches into a ColumnStore; a column absent from a batch is filled as missing. */
export class ColumnStoreBuilder {
  private length = 0;
  private readonly model: Grow<Uint8Array>;
  private readonly building = new Map<string, Building>();

  /** `estimate`: the read's total rows as far as known (see RowEstimate) */
  constructor(private readonly estimate: RowEstimate = noEstimate) {
    this.model = new Grow(sharedU8(1024), sharedU8, estimate);
  }

  private growF64(): GrowF64 {
    return new Grow(sharedF64(1024), sharedF64, this.estimate);
  }
  private growI32(): GrowI32 {
    return new Grow(sharedI32(1024), sharedI32, this.estimate);
  }

  add(batch: Batch): void {
    const n = batch.length;
    if (n === 0) return;
    this.model.push(batch.model, n);
    for (const [name, col] of batch.columns) this.addColumn(name, col, n);
    for (const [name, b] of this.building) {
      if (!batch.columns.has(name)) this.fillMissing(b, n);
    }
    this.length += n;
  }

  private addColumn(name: string, col: Column, n: number): void {
    let b = this.building.get(name);
    if (!b) {
      b = col.kind === 'number' ? { kind: 'number', f64: this.growF64() } : { kind: 'dict', i32: this.growI32(), dict: col.dict };
      if (col.kind === 'dict' && col.numeric) b.numeric = this.growF64();
      // earlier batches did not have this column: they are missing values
      this.fillMissing(b, this.length);
      this.building.set(name, b);
    }
    if (col.kind === 'number') {
      if (b.kind !== 'number') throw new Error(`column ${name} changed kind between batches`);
      b.f64!.push(col.values, n);
    } else {
      if (b.kind !== 'dict') throw new Error(`column ${name} changed kind between batches`);
      if (b.dict !== col.dict) throw new Error(`column ${name}: batches must share one dictionary`);
      b.i32!.push(col.codes, n);
      if (col.numeric) {
        if (!b.numeric) {
          b.numeric = this.growF64();
          b.numeric.pushFill(NaN, this.length);
        }
        b.numeric.push(col.numeric, n);
      } else if (b.numeric) b.numeric.pushFill(NaN, n);
    }
  }

  private fillMissing(b: Building, n: number): void {
    if (n === 0) return;
    if (b.kind === 'number') b.f64!.pushFill(NaN, n);
    else {
      b.i32!.pushFill(-1, n);
      b.numeric?.pushFill(NaN, n);
    }
  }

  /** The store; `drop`: rows to leave out (ascending, distinct: duplicates found once the read was done). */
  finish(drop: Int32Array | null = null): ColumnStore {
    if (drop !== null && drop.length > 0) {
      if (drop[drop.length - 1]! >= this.length) throw new Error('a row to drop past the end of the store');
      this.model.remove(drop);
      for (const b of this.building.values()) {
        b.f64?.remove(drop);
        b.i32?.remove(drop);
        b.numeric?.remove(drop);
      }
      this.length -= drop.length;
    }
    const columns = new Map<string, StoredColumn>();
    for (const [name, b] of this.building) {
      if (b.kind === 'number') columns.set(name, { kind: 'number', values: b.f64!.view() });
      else columns.set(name, { kind: 'dict', codes: b.i32!.view(), dict: b.dict!, numeric: b.numeric ? b.numeric.view() : null });
    }
    return { length: this.length, model: this.model.view(), columns };
  }
}

/**
 * The store of every batch; `duplicates`, asked once the batches are done: rows the read found to be
 * duplicates after handing them over (LogRead.duplicates), left out of the store.
 */
export async function collect(
  batches: AsyncIterable<Batch>,
  estimate: RowEstimate = noEstimate,
  duplicates: () => Int32Array | null = () => null,
): Promise<ColumnStore> {
  const builder = new ColumnStoreBuilder(estimate);
  for await (const b of batches) builder.add(b);
  return builder.finish(duplicates());
}
