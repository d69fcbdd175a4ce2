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
import type { LateKeys, RawBatch, ResolvedField } from './builder.js';
import { decodeUtf8, type ByteColumn } from './intern.js';
import type { Batch, Column, IngestAccount, Location } from './types.js';

function preview(s: string): string {
  const t = s.length > 40 ? `${s.slice(0, 40)}...` : s;
  return JSON.stringify(t);
}

/** What a duplicate's location says (the same whether it is found as rows come or at the end). */
function duplicateMessage(field: string, request: string, model: string): string {
  return `${field} ${preview(request)} with model ${preview(model)} seen before`;
}

export class Encoder {
  /** per model, a bitset over request codes: this (request, model) was accepted */
  private readonly seen: Uint8Array[] = [];
  /** with `late`: the duplicates are found when the read is done (LateDuplicates) */
  private readonly late: LateDuplicates | null;

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
    late = false,
  ) {
    // a strict read stops at the first duplicate, in row order: that needs them found as rows come
    this.late = late && rf >= 0 && !strict ? new LateDuplicates(fields, rf) : null;
  }

  /**
   * With `late`: once every batch is encoded, find the duplicates, record them in the account (as
   * encode would have, in row order) and return the rows (0-based, over every row encoded) to drop,
   * ascending; null when there are none. Without `late`: null (encode dropped them).
   */
  finishDuplicates(): Int32Array | null {
    return this.late === null ? null : this.late.finish(this.account, this.models);
  }

  /** The Batch of a raw batch's accepted rows, or null when every row was a duplicate. */
  encode(raw: RawBatch): Batch | null {
    for (let m = this.models.length; m < raw.models.length; m++) this.models.push(raw.models[m]!);
    const n = raw.n;
    let rows: Int32Array | null = null;
    let requestCodes: Int32Array | null = null;
    if (this.late !== null) this.late.add(raw);
    else if (this.rf >= 0) {
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
      // late duplicates: nothing reads the request column
      if (this.late !== null && i === this.rf) return;
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
        message: duplicateMessage(field.name, field.dict!.valueOf(code), this.models[m]!),
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

/**
 * What late duplicates keep of a raw batch besides its arrays: per row, the key of its request id and
 * model (NaN: no request id), and a bit per emitted field, set when the row's value is missing (what
 * taking the row back out of the account's counts needs). Pure: a reading thread works them out
 * when it seals the batch, so the main thread, which the read waits on, does not.
 */
export function lateKeysOf(raw: RawBatch, fields: ResolvedField[], rf: number): LateKeys {
  const n = raw.n;
  const { bytes, start, len } = raw.texts[rf]!;
  const keys = new Float64Array(n);
  const model = raw.model;
  for (let i = 0; i < n; i++) {
    const l = len[i]!;
    keys[i] = l < 0 ? NaN : requestKey(bytes, start[i]!, start[i]! + l, model[i]!);
  }
  const emitted = emittedFields(fields);
  const stride = missingStride(emitted.length);
  const missing = new Uint8Array(n * stride);
  emitted.forEach((k, j) => {
    const f = fields[k]!;
    const byte = j >>> 3;
    const bit = 1 << (j & 7);
    if (f.dict === null) {
      const v = raw.nums[k]!;
      for (let i = 0; i < n; i++) if (Number.isNaN(v[i]!)) missing[i * stride + byte]! |= bit;
    } else {
      const l = raw.texts[k]!.len;
      for (let i = 0; i < n; i++) if (l[i]! < 0) missing[i * stride + byte]! |= bit;
    }
  });
  return { keys, missing };
}

const emittedFields = (fields: ResolvedField[]): number[] => fields.flatMap((f, k) => (f.emit ? [k] : []));
const missingStride = (emitted: number): number => Math.max(1, Math.ceil(emitted / 8));

/**
 * Duplicate detection at the end of a read, for a read that does not keep the request column: each
 * row's (request id, model) is hashed to a 53-bit key (lateKeysOf, on the reading thread when there is
 * one); when the read is done the keys are bucketed by their top bits (repeatedKeys), and only rows
 * whose key occurs twice are compared byte for byte (the request ids of each batch are kept for that). Same duplicates, same account as
 * Encoder.dropDuplicates row by row, but with no dictionary of every request id: two sequential passes
 * instead of a million scattered hash-table probes.
 */
class LateDuplicates {
  private n = 0;
  private readonly parts: {
    start: number;
    n: number;
    file: string;
    lines: Float64Array;
    model: Uint8Array;
    request: ByteColumn;
    /** per row, its key (NaN: no request id); kept per batch, not in one growing array copied as it grows */
    keys: Float64Array;
    /** per row, a bit per emitted field: missing (what unaccepting the row takes back) */
    missing: Uint8Array;
  }[] = [];
  private readonly emitted: number[];
  private readonly stride: number;

  constructor(
    private readonly fields: ResolvedField[],
    private readonly rf: number,
  ) {
    this.emitted = emittedFields(fields);
    this.stride = missingStride(this.emitted.length);
  }

  add(raw: RawBatch): void {
    const n = raw.n;
    // (a reading thread may have worked them out already)
    const { keys, missing } = raw.late ?? lateKeysOf(raw, this.fields, this.rf);
    this.parts.push({ start: this.n, n, file: raw.file, lines: raw.lines, model: raw.model, request: raw.texts[this.rf]!, keys, missing });
    this.n += n;
  }

  finish(account: IngestAccount, models: string[]): Int32Array | null {
    const twice = repeatedKeys(this.parts.map((p) => p.keys));
    if (twice === null) return null;
    // the rows of each repeated key, in row order; a row is a duplicate of an earlier one with the same bytes and model
    const groups = new Map<number, number[]>();
    for (const p of this.parts) {
      for (let i = 0; i < p.n; i++) {
        const k = p.keys[i]!;
        if (!twice.has(k)) continue;
        const g = groups.get(k);
        if (g) g.push(p.start + i);
        else groups.set(k, [p.start + i]);
      }
    }
    const drop: number[] = [];
    for (const rows of groups.values()) {
      const firsts: number[] = [];
      for (const r of rows) {
        if (firsts.some((f) => this.same(f, r))) drop.push(r);
        else firsts.push(r);
      }
    }
    if (drop.length === 0) return null;
    drop.sort((a, b) => a - b);
    const field = this.fields[this.rf]!;
    for (const r of drop) {
      const p = this.partOf(r);
      const i = r - p.start;
      const m = p.model[i]!;
      const s = p.request.start[i]!;
      const text = decodeUtf8(p.request.bytes, s, s + p.request.len[i]!);
      account.rowsRead--;
      this.emitted.forEach((k, j) => {
        if ((p.missing[i * this.stride + (j >>> 3)]! >> (j & 7)) & 1) countMissing(account.missing, this.fields[k]!.name, models[m]!, -1);
      });
      recordRejection(account, 'duplicate', {
        file: p.file,
        line: p.lines[i]!,
        field: field.name,
        message: duplicateMessage(field.name, text, models[m]!),
      });
    }
    return Int32Array.from(drop);
  }

  private partOf(r: number): LateDuplicates['parts'][number] {
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.parts[mid]!.start <= r) lo = mid;
      else hi = mid - 1;
    }
    return this.parts[lo]!;
  }

  /** Rows a and b have the same model and the same request id bytes. */
  private same(a: number, b: number): boolean {
    const pa = this.partOf(a);
    const pb = this.partOf(b);
    const ia = a - pa.start;
    const ib = b - pb.start;
    if (pa.model[ia] !== pb.model[ib]) return false;
    const la = pa.request.len[ia]!;
    if (la !== pb.request.len[ib]) return false;
    const ba = pa.request.bytes;
    const bb = pb.request.bytes;
    const sa = pa.request.start[ia]!;
    const sb = pb.request.start[ib]!;
    for (let k = 0; k < la; k++) if (ba[sa + k] !== bb[sb + k]) return false;
    return true;
  }
}

/**
 * The keys (53-bit integers; NaN: none), in one array or several, that occur more than once, or null. A counting sort on the top
 * 17 bits puts equal keys in one bucket of a few keys, each then checked against the others (sorted
 * first when big): two sequential passes, where a sort of a million doubles takes several times longer.
 */
export function repeatedKeys(chunks: Float64Array | Float64Array[]): Set<number> | null {
  const all = Array.isArray(chunks) ? chunks : [chunks];
  const BITS = 17;
  const buckets = 1 << BITS;
  const scale = 2 ** (BITS - 53);
  const end = new Int32Array(buckets + 1);
  for (const keys of all) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === k) end[Math.floor(k * scale) + 1]!++;
    }
  }
  for (let b = 0; b < buckets; b++) end[b + 1]! += end[b]!;
  const pos = end.slice(0, buckets);
  const out = new Float64Array(end[buckets]!);
  for (const keys of all) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k === k) out[pos[Math.floor(k * scale)]!++] = k;
    }
  }
  let twice: Set<number> | null = null;
  for (let b = 0; b < buckets; b++) {
    const s = end[b]!;
    const e = end[b + 1]!;
    if (e - s < 2) continue;
    if (e - s > 16) {
      const part = out.subarray(s, e).sort();
      for (let i = 1; i < part.length; i++) if (part[i] === part[i - 1]) (twice ??= new Set()).add(part[i]!);
      continue;
    }
    for (let i = s + 1; i < e; i++) {
      const k = out[i]!;
      for (let j = s; j < i; j++) {
        if (out[j] === k) {
          (twice ??= new Set()).add(k);
          break;
        }
      }
    }
  }
  return twice;
}

/** A 53-bit key of a request id's bytes and a model code: two 32-bit multiplicative hashes, 32 + 21 bits. */
export function requestKey(buf: Uint8Array, s: number, e: number, model: number): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x3b9aca07;
  for (let i = s; i < e; i++) {
    const b = buf[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = Math.imul(h1 ^ model, 0x01000193);
  h2 = Math.imul(h2 ^ (model + 0x9e37), 0x5bd1e995);
  h2 ^= h2 >>> 13;
  return (h1 >>> 0) * 2097152 + (h2 >>> 11);
}
