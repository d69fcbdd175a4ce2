/**
 * The second half of building a batch: from a RawBatch (strings still as bytes) to a Batch. Finds the
 * duplicates (an earlier accepted row has the same request id and model) in row order and drops them,
 * then dictionary-encodes each string column a column at a time (DictionaryBuilder.codesOf).
 *
 * It runs where the dictionaries live: in the reading thread when the read is in one thread, in the
 * main thread when a worker reads (worker.ts). Checking duplicates here, after every other check,
 * gives the same rows as checking them row by row last: no later row changes whether an earlier
 * row is accepted.
 */
import { recordRejection, strictError } from './account.js';
import type { RawBatch, ResolvedField } from './builder.js';
import type { Batch, Column, IngestAccount, Location } from './types.js';

function preview(s: string): string {
  const t = s.length > 40 ? `${s.slice(0, 40)}...` : s;
  return JSON.stringify(t);
}

export class Encoder {
  /** per model, a bitset over request codes: this (request, model) was accepted */
  private readonly seen: Uint8Array[] = [];

  /**
   * `fields`, `rf`: as resolveFields gives them (their dictionaries are filled here); `models`: the
   * model list, extended as raw batches bring new names; `account`: duplicates are recorded in it.
   */
  constructor(
    private readonly fields: ResolvedField[],
    private readonly rf: number,
    private readonly models: string[],
    private readonly account: IngestAccount,
    private readonly strict: boolean,
  ) {}

  /** The Batch of a raw batch's accepted rows, or null when every row was a duplicate. */
  encode(raw: RawBatch): Batch | null {
    for (let m = this.models.length; m < raw.models.length; m++) this.models.push(raw.models[m]!);
    const n = raw.n;
    let rows: Int32Array | null = null;
    let requestCodes: Int32Array | null = null;
    if (this.rf >= 0) {
      requestCodes = this.fields[this.rf]!.dict!.codesOf(raw.texts[this.rf]!, null, n);
      rows = this.dropDuplicates(raw, requestCodes);
    }
    const kept = rows === null ? n : rows.length;
    if (kept === 0) return null;
    const pick = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
      if (rows === null) return a.subarray(0, n) as T;
      const out = new (a.constructor as new (k: number) => T)(kept);
      for (let j = 0; j < kept; j++) out[j] = a[rows[j]!]!;
      return out;
    };
    const columns = new Map<string, Column>();
    this.fields.forEach((f, i) => {
      if (!f.emit) return;
      if (f.dict === null) {
        columns.set(f.name, { kind: 'number', values: pick(raw.nums[i]!) });
        return;
      }
      // the request field's codes were made for every row, before the duplicates were dropped
      const codes = i === this.rf ? pick(requestCodes!) : f.dict.codesOf(raw.texts[i]!, rows, kept);
      const col: Column = { kind: 'dict', codes, dict: f.dict.dict };
      const numeric = f.dict.numeric;
      if (numeric) {
        const nums = new Float64Array(kept);
        for (let j = 0; j < kept; j++) {
          const c = codes[j]!;
          nums[j] = c < 0 ? NaN : numeric[c]!;
        }
        col.numeric = nums;
      }
      columns.set(f.name, col);
    });
    return { length: kept, model: pick(raw.model), columns };
  }

  /** Rejects the batch's duplicates in row order; returns the rows to keep, or null when all stay. */
  private dropDuplicates(raw: RawBatch, codes: Int32Array): Int32Array | null {
    const n = raw.n;
    const field = this.fields[this.rf]!;
    let drop: Uint8Array | null = null;
    for (let i = 0; i < n; i++) {
      const code = codes[i]!;
      if (code < 0) continue;
      const m = raw.model[i]!;
      const byte = code >>> 3;
      const bit = 1 << (code & 7);
      let seen = this.seen[m];
      if (seen === undefined || byte >= seen.length) seen = this.growSeen(m, byte);
      if ((seen[byte]! & bit) === 0) {
        seen[byte]! |= bit;
        continue;
      }
      const loc: Location = {
        file: raw.file,
        line: raw.lines[i]!,
        field: field.name,
        message: `${field.name} ${preview(field.dict!.valueOf(code))} with model ${preview(this.models[m]!)} seen before`,
      };
      if (this.strict) throw strictError('duplicate', loc);
      drop ??= new Uint8Array(n);
      drop[i] = 1;
      this.unaccept(raw, i, m);
      recordRejection(this.account, 'duplicate', loc);
    }
    if (drop === null) return null;
    let k = 0;
    for (let i = 0; i < n; i++) if (drop[i] === 0) k++;
    const rows = new Int32Array(k);
    k = 0;
    for (let i = 0; i < n; i++) if (drop[i] === 0) rows[k++] = i;
    return rows;
  }

  /** Take back what an accepted row counted (it turned out to be a duplicate). */
  private unaccept(raw: RawBatch, i: number, m: number): void {
    this.account.rowsRead--;
    const model = this.models[m]!;
    this.fields.forEach((f, k) => {
      if (!f.emit) return;
      const missing = f.dict === null ? Number.isNaN(raw.nums[k]![i]!) : raw.texts[k]!.len[i]! < 0;
      if (missing) countMissing(this.account.missing, f.name, model, -1);
    });
  }

  private growSeen(m: number, byte: number): Uint8Array {
    const old = this.seen[m];
    let size = old ? old.length * 2 : 8192;
    while (size <= byte) size *= 2;
    const next = new Uint8Array(size);
    if (old) next.set(old);
    this.seen[m] = next;
    return next;
  }
}

/** Add `n` (which may be negative) to a missing-value count, removing counts that reach 0. */
export function countMissing(table: Record<string, Record<string, number>>, field: string, model: string, n: number): void {
  const row = (table[field] ??= {});
  const v = (row[model] ?? 0) + n;
  if (v !== 0) row[model] = v;
  else {
    delete row[model];
    if (Object.keys(row).length === 0) delete table[field];
  }
}
