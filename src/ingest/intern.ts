/**
 * Dictionary encoding of string-valued columns, fed from bytes or strings.
 *
 * The JSONL scanner and the Arrow reader hand over a byte range; an open-addressing hash table keyed
 * on the bytes answers with the code without building a string, so a value seen before (a model, a
 * country, a returning user) costs a hash and a compare. A new value's bytes are copied to an arena
 * and it gets the next code. The Dictionary's strings are decoded from the arena only when someone
 * reads `values` or `index` (both are materialised lazily): a column of unique values such as request
 * ids then costs no string and no garbage per row while reading.
 */
import { constants } from 'node:buffer';
import { dataError } from '../cli/exitCode.js';
import type { Dictionary } from './types.js';
import { booleanWord, canonicalNumber, decimalTextValue, textBytes } from './coerce.js';

// ignoreBOM: a value's leading U+FEFF is kept, as Buffer.toString keeps it (the same text on every thread)
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Decode a byte range as UTF-8 (invalid sequences become U+FFFD, as JSON.parse of the decoded line would). */
export function decodeUtf8(buf: Uint8Array, s: number, e: number): string {
  if (Buffer.isBuffer(buf)) return buf.toString('utf8', s, e);
  return utf8.decode(buf.subarray(s, e));
}

/** Canonical text and number of a label value given as text (see coerce.ts). */
export function canonicalLabel(text: string): { text: string; numeric: number } {
  const b = textBytes(text);
  const v = decimalTextValue(b, 0, text.length);
  if (!Number.isNaN(v)) return { text: canonicalNumber(v), numeric: v };
  const w = booleanWord(b, 0, text.length);
  if (w >= 0) return { text: w === 1 ? 'true' : 'false', numeric: w };
  return { text, numeric: NaN };
}

/** A Map filled from a list of distinct strings (value = position) the first time it is read. */
class LazyIndex extends Map<string, number> {
  private synced = 0;
  private list: () => readonly string[] = () => [];

  static over(list: () => readonly string[]): LazyIndex {
    const m = new LazyIndex();
    m.list = list;
    return m;
  }

  private sync(): void {
    const list = this.list();
    for (let i = this.synced; i < list.length; i++) super.set(list[i]!, i);
    this.synced = list.length;
  }
  override get(key: string): number | undefined {
    this.sync();
    return super.get(key);
  }
  override has(key: string): boolean {
    this.sync();
    return super.has(key);
  }
  override get size(): number {
    this.sync();
    return super.size;
  }
  override forEach(cb: (value: number, key: string, map: Map<string, number>) => void, thisArg?: unknown): void {
    this.sync();
    super.forEach(cb, thisArg);
  }
  override entries(): MapIterator<[string, number]> {
    this.sync();
    return super.entries();
  }
  override keys(): MapIterator<string> {
    this.sync();
    return super.keys();
  }
  override values(): MapIterator<number> {
    this.sync();
    return super.values();
  }
  override [Symbol.iterator](): MapIterator<[string, number]> {
    this.sync();
    return super[Symbol.iterator]();
  }
}

/** The largest dictionary arena: the largest buffer, in whole 4-byte words. */
const ARENA_MAX = Math.floor(Math.min(constants.MAX_LENGTH, 2 ** 32) / 4) * 4;

export class DictionaryBuilder {
  /** shared by every batch of the read; `values` and `index` are materialised on first access */
  readonly dict: Dictionary;
  /** for label columns: the number of each code (NaN when the label is not numeric) */
  numeric: Float64Array | null;

  /** open addressing, two ints per slot: the hash and entry + 1 (0: empty) */
  private slots = new Int32Array(2048);
  private mask = 1023;
  /**
   * The entries, one after another from 4-byte boundaries: the key's length and its code (two ints),
   * then its bytes. An entry is named by the index of its first int (`a32[e]`: length, `a32[e + 1]`:
   * code, bytes from byte 4e + 8), so a lookup reads the header and the key from one place (one cache
   * miss for a short key, after the slot's).
   */
  private a8 = Buffer.from(new ArrayBuffer(16384));
  private a32 = new Int32Array(this.a8.buffer);
  /** bytes of the arena in use (a multiple of 4) */
  private used = 0;
  private entries = 0;
  /** per code: the entry holding its (canonical) bytes */
  private home = new Int32Array(512);
  private count = 0;
  private readonly strings: string[] = [];
  private enc = Buffer.allocUnsafe(256);
  /** slot where the last failed lookup stopped, and the hash it looked for */
  private missSlot = 0;
  private missHash = 0;
  /** codesOf: the hashes of a run of values, and a sink for the slots it touches ahead */
  private readonly runHashes = new Int32Array(512);
  private readonly runEnts = new Int32Array(512);
  private touched = 0;

  constructor(readonly label: boolean) {
    const values = (): string[] => this.materialize();
    const size = (): number => this.count;
    this.dict = {
      get values() {
        return values();
      },
      index: LazyIndex.over(values),
      get size() {
        return size();
      },
    };
    this.numeric = label ? new Float64Array(64) : null;
  }

  /** Number of distinct values so far. */
  get size(): number {
    return this.count;
  }

  /** The text of one code (without materialising the others). */
  valueOf(code: number): string {
    if (code < this.strings.length) return this.strings[code]!;
    const ent = this.home[code]!;
    const o = 4 * ent + 8;
    return this.a8.toString('utf8', o, o + this.a32[ent]!);
  }

  private materialize(): string[] {
    const out = this.strings;
    for (let c = out.length; c < this.count; c++) out.push(this.valueOf(c));
    return out;
  }

  /** The code of a value given as text (for labels: canonicalised first); added when new. */
  codeOfText(raw: string): number {
    if (!this.label) return this.codeOfCanonical(raw, NaN);
    const { text, numeric } = canonicalLabel(raw);
    return this.codeOfCanonical(text, numeric);
  }

  /** The code of a value given as UTF-8 bytes; a byte sequence seen before is found without decoding. */
  codeOfBytes(buf: Uint8Array, s: number, e: number): number {
    const hit = this.lookup(buf, s, e);
    if (hit >= 0) return hit;
    if (!this.label) return this.newCode(this.insert(this.missSlot, this.missHash, buf, s, e - s), NaN);
    // labels: these raw bytes stand for the code of the canonical text (`1.0` and `1` are one label)
    const { text, numeric } = canonicalLabel(decodeUtf8(buf, s, e));
    const code = this.codeOfCanonical(text, numeric);
    if (this.lookup(buf, s, e) < 0) {
      const ent = this.insert(this.missSlot, this.missHash, buf, s, e - s);
      this.a32[ent + 1] = code;
    }
    return code;
  }

  private codeOfCanonical(text: string, numeric: number): number {
    if (text.length * 3 > this.enc.length) this.enc = Buffer.allocUnsafe(text.length * 3);
    const n = this.enc.write(text, 0, 'utf8');
    const hit = this.lookup(this.enc, 0, n);
    if (hit >= 0) return hit;
    const ent = this.insert(this.missSlot, this.missHash, this.enc, 0, n);
    return this.newCode(ent, numeric);
  }

  private newCode(ent: number, numeric: number): number {
    const code = this.count++;
    this.a32[ent + 1] = code;
    if (code === this.home.length) this.home = grow32(this.home);
    this.home[code] = ent;
    if (this.numeric) {
      if (code === this.numeric.length) {
        const next = new Float64Array(code * 2);
        next.set(this.numeric);
        this.numeric = next;
      }
      this.numeric[code] = numeric;
    }
    return code;
  }

  /**
   * The codes of `n` values of a byte column: of rows[0..n) when `rows` is given, else of rows 0..n;
   * -1 for a missing value. Same codes as codeOfBytes row by row, but faster on big tables: the
   * hashes of a run of values are computed first and their slots touched in one loop, so the cache
   * misses of many lookups overlap instead of coming one after another.
   */
  codesOf(col: ByteColumn, rows: Int32Array | null, n: number): Int32Array<ArrayBuffer> {
    const out = new Int32Array(n);
    const { bytes, start, len } = col;
    if (this.label) {
      for (let j = 0; j < n; j++) {
        const i = rows === null ? j : rows[j]!;
        const l = len[i]!;
        out[j] = l < 0 ? -1 : this.codeOfBytes(bytes, start[i]!, start[i]! + l);
      }
      return out;
    }
    const RUN = 512;
    const hashes = this.runHashes;
    for (let base = 0; base < n; base += RUN) {
      const m = Math.min(RUN, n - base);
      const slots = this.slots;
      const mask = this.mask;
      let touch = 0;
      for (let k = 0; k < m; k++) {
        const i = rows === null ? base + k : rows[base + k]!;
        const l = len[i]!;
        if (l < 0) continue;
        hashes[k] = hashBytes(bytes, start[i]!, start[i]! + l);
      }
      // the slots, in a loop of their own: with little work between them, many misses are in flight
      for (let k = 0; k < m; k++) touch ^= slots[2 * (hashes[k]! & mask) + 1]!;
      // the entries of the slots whose hash matches (header and key together): the loop's loads are
      // independent of each other, so their misses overlap
      const a32 = this.a32;
      const ent1 = this.runEnts;
      for (let k = 0; k < m; k++) {
        const slot = hashes[k]! & mask;
        const e1 = slots[2 * slot + 1]!;
        ent1[k] = e1 !== 0 && slots[2 * slot] === hashes[k] ? e1 : 0;
        if (ent1[k] !== 0) touch ^= a32[e1 - 1]!;
      }
      this.touched ^= touch;
      for (let k = 0; k < m; k++) {
        const i = rows === null ? base + k : rows[base + k]!;
        const l = len[i]!;
        if (l < 0) {
          out[base + k] = -1;
          continue;
        }
        const s = start[i]!;
        const h = hashes[k]!;
        const hit = this.find(h, bytes, s, s + l);
        out[base + k] = hit >= 0 ? hit : this.newCode(this.insert(this.missSlot, h, bytes, s, l), NaN);
      }
    }
    return out;
  }

  /** The code stored for these bytes, or -1 (then missSlot/missHash say where to insert). */
  private lookup(buf: Uint8Array, s: number, e: number): number {
    return this.find(hashBytes(buf, s, e), buf, s, e);
  }

  private find(h: number, buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const mask = this.mask;
    const slots = this.slots;
    let slot = h & mask;
    for (;;) {
      const ent = slots[2 * slot + 1]! - 1;
      if (ent < 0) break;
      if (slots[2 * slot] === h) {
        const a32 = this.a32;
        if (a32[ent] === len) {
          const a = this.a8;
          const o = 4 * ent + 8;
          let k = 0;
          while (k < len && a[o + k] === buf[s + k]) k++;
          if (k === len) return a32[ent + 1]!;
        }
      }
      slot = (slot + 1) & mask;
    }
    this.missSlot = slot;
    this.missHash = h;
    return -1;
  }

  private insert(slot: number, h: number, buf: Uint8Array, s: number, len: number): number {
    const need = 8 + ((len + 3) & ~3);
    if (this.used + need > this.a8.length) {
      // double, but not past the largest buffer (4 GiB here) when what is needed still fits
      const size = Math.max(Math.min(this.a8.length * 2, ARENA_MAX), this.used + need);
      if (size > ARENA_MAX) throw dataError(`the distinct values of one text field take more than ${ARENA_MAX / 2 ** 30} GiB, more than abtool can hold`);
      const next = Buffer.from(new ArrayBuffer(size));
      next.set(this.a8.subarray(0, this.used));
      this.a8 = next;
      this.a32 = new Int32Array(next.buffer);
    }
    const ent = this.used >>> 2;
    this.a32[ent] = len;
    this.a32[ent + 1] = -1;
    const a = this.a8;
    const o = this.used + 8;
    for (let k = 0; k < len; k++) a[o + k] = buf[s + k]!;
    this.used += need;
    this.entries++;
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = ent + 1;
    if (this.entries * 2 > this.mask + 1) this.rehash();
    return ent;
  }

  private rehash(): void {
    const cap = (this.mask + 1) * 2;
    const slots = new Int32Array(2 * cap);
    const mask = cap - 1;
    const old = this.slots;
    for (let k = 0; k < old.length; k += 2) {
      const ent1 = old[k + 1]!;
      if (ent1 === 0) continue;
      const h = old[k]!;
      let slot = h & mask;
      while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      slots[2 * slot] = h;
      slots[2 * slot + 1] = ent1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** FNV-1a over a byte range. */
function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h | 0;
}

/** Strings of one column of a batch as UTF-8 bytes: row i is bytes[start[i], start[i] + len[i]), len -1 when missing. */
export interface ByteColumn {
  bytes: Uint8Array;
  start: Int32Array;
  len: Int32Array;
}

/** Collects a batch's strings of one column as bytes, row by row, without making a JS string per value. */
export class ByteColumnBuilder {
  private bytes: Buffer = Buffer.allocUnsafe(4096);
  private readonly start: Int32Array;
  private readonly len: Int32Array;
  private n = 0;
  private used = 0;

  /** `bytes`: room for this many bytes to begin with (the previous batch's, say: no doubling from 4 KiB each batch) */
  constructor(rows: number, reused?: ByteColumn, bytes = 4096) {
    if (!reused && bytes > 4096) this.bytes = Buffer.allocUnsafe(bytes);
    if (reused) {
      this.start = reused.start;
      this.len = reused.len;
      const b = reused.bytes;
      this.bytes = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    } else {
      this.start = new Int32Array(rows);
      this.len = new Int32Array(rows);
    }
  }

  /** A builder writing over a column handed back (its rows' arrays and its bytes' buffer). */
  static reuse(col: ByteColumn): ByteColumnBuilder {
    return new ByteColumnBuilder(col.start.length, col);
  }

  pushBytes(buf: Uint8Array, s: number, e: number): void {
    const l = e - s;
    if (this.used + l > this.bytes.length) this.grow(l);
    const b = this.bytes;
    const o = this.used;
    for (let k = 0; k < l; k++) b[o + k] = buf[s + k]!;
    this.start[this.n] = o;
    this.len[this.n++] = l;
    this.used = o + l;
  }

  /**
   * Rows [j0, j1) of a byte column, as pushBytes and pushMissing row by row would push them. When
   * the rows' bytes lie in order in `col.bytes` (an Arrow utf8 column), the span they cover is copied
   * in one go (with whatever bytes lie between: a null's, say) and each row points into it.
   */
  pushRows(col: ByteColumn, j0: number, j1: number): void {
    const { bytes, start, len } = col;
    let lo = -1;
    let hi = 0;
    let total = 0;
    let ordered = true;
    for (let j = j0; j < j1; j++) {
      const l = len[j]!;
      if (l < 0) continue;
      const s = start[j]!;
      if (lo < 0) lo = s;
      else if (s < hi) ordered = false;
      hi = s + l;
      total += l;
    }
    if (!ordered || lo < 0 || hi - lo > 2 * total + 64) {
      // row by row (a JSON Lines block: each row's value lies among its line's other values), room made once
      if (this.used + total > this.bytes.length) this.grow(total);
      const b = this.bytes;
      const outStart = this.start;
      const outLen = this.len;
      let o = this.used;
      let n = this.n;
      for (let j = j0; j < j1; j++) {
        const l = len[j]!;
        outStart[n] = o;
        outLen[n++] = l;
        if (l < 0) continue;
        const s = start[j]!;
        for (let k = 0; k < l; k++) b[o + k] = bytes[s + k]!;
        o += l;
      }
      this.n = n;
      this.used = o;
      return;
    }
    if (this.used + (hi - lo) > this.bytes.length) this.grow(hi - lo);
    this.bytes.set(bytes.subarray(lo, hi), this.used);
    const shift = this.used - lo;
    const outStart = this.start;
    const outLen = this.len;
    let n = this.n;
    for (let j = j0; j < j1; j++) {
      const l = len[j]!;
      // (a missing value's start is never read)
      outStart[n] = l < 0 ? this.used : start[j]! + shift;
      outLen[n++] = l;
    }
    this.n = n;
    this.used += hi - lo;
  }

  pushText(text: string): void {
    if (this.used + 3 * text.length > this.bytes.length) this.grow(3 * text.length);
    const l = this.bytes.write(text, this.used, 'utf8');
    this.start[this.n] = this.used;
    this.len[this.n++] = l;
    this.used += l;
  }

  pushMissing(): void {
    this.start[this.n] = this.used;
    this.len[this.n++] = -1;
  }

  /** Bytes written so far. */
  get usedBytes(): number {
    return this.used;
  }

  isMissing(i: number): boolean {
    return this.len[i]! < 0;
  }

  column(): ByteColumn {
    return { bytes: this.bytes, start: this.start, len: this.len };
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.used + need));
    this.bytes.copy(next, 0, 0, this.used);
    this.bytes = next;
  }
}

function grow32(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}
