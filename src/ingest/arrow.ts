/**
 * Apache Arrow IPC, the file format (`.arrow`, `.feather` v2: random access through a file handle,
 * one record batch at a time) and the stream format (`.arrows`). Values are taken straight from each
 * batch's buffers (typed arrays, validity bitmaps, UTF-8 offsets and bytes, dictionary indices): no
 * per-row objects. Only unusual column types (decimal, list, struct...) go through `Vector.get`.
 *
 * A row's location is its 1-based row number within the file. A file cut short (no footer) is read
 * as a stream up to the cut, then reported as a data error with the rows read; so is any corrupt
 * or truncated message.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Message, RecordBatchReader, Type, type Data, type DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { CliError, dataError } from '../cli/exitCode.js';
import { K_FLAG, K_LABEL, K_STRING, K_TIMESTAMP, nonFiniteLabel, type BatchBuilder, type RowBlock } from './builder.js';
import { MAX_TIME_MS } from './coerce.js';
import type { ByteColumn } from './intern.js';
import { ARROW_MAGIC, tailBytes, type Source } from './open.js';
import type { Batch } from './types.js';

/**
 * apache-arrow decodes metadata with flatbuffers and trusts every list length it finds: one corrupt
 * length (2^31 custom-metadata entries, say) and the decoder loops for many minutes. A list can
 * never run past the end of its message, so lengths are checked against that here, and a corrupt
 * message becomes an error (then a data error naming the file) instead of a hang.
 */
function guardFlatbufferLengths(): void {
  let ByteBuffer: { prototype: Record<string, unknown> } | undefined;
  try {
    ByteBuffer = (createRequire(import.meta.url)('flatbuffers') as { ByteBuffer?: { prototype: Record<string, unknown> } }).ByteBuffer;
  } catch {
    return;
  }
  const proto = ByteBuffer?.prototype as
    | { __vector_len?: (offset: number) => number; readInt32: (offset: number) => number; bytes: () => Uint8Array; __abtoolGuard?: boolean }
    | undefined;
  if (!proto || typeof proto.__vector_len !== 'function' || proto.__abtoolGuard) return;
  const vectorLen = proto.__vector_len;
  proto.__vector_len = function (this: typeof proto & object, offset: number): number {
    const len = vectorLen.call(this, offset);
    const start = offset + this.readInt32(offset) + 4;
    if (!(len >= 0) || start + len > this.bytes().length) throw new Error('corrupt Arrow metadata: a list runs past the end of its message');
    return len;
  };
  proto.__abtoolGuard = true;
}
guardFlatbufferLengths();

const A_MISSING = 0;
const A_NUM = 1;
const A_BIG = 2;
const A_BOOL = 3;
const A_UTF8 = 4;
const A_DICT = 5;
const A_GENERIC = 6;
/** a decimal: `num` holds its words (Uint32Array, `width` a value), `scale` its decimal scale */
const A_DEC = 7;

type NumArray = Float64Array | Float32Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;

/** How to read one column of one record batch. */
interface Access {
  k: number;
  /** validity bitmap (null: no nulls) and the data's offset into it */
  nulls: Uint8Array | null;
  off: number;
  num: NumArray | null;
  big: BigInt64Array | BigUint64Array | null;
  /** numbers are multiplied by this (timestamps and dates to epoch ms) */
  scale: number;
  bits: Uint8Array | null;
  offsets: Int32Array | BigInt64Array | null;
  bytes: Buffer | null;
  /** for dictionaries: the indices, and how to read the dictionary's values */
  indices: NumArray | BigInt64Array | null;
  dict: Access | null;
  dictLength: number;
  vector: Vector | null;
  typeName: string;
  /** a decimal's 32-bit words a value */
  width: number;
}

function blank(typeName: string): Access {
  return { k: A_MISSING, nulls: null, off: 0, num: null, big: null, scale: 1, bits: null, offsets: null, bytes: null, indices: null, dict: null, dictLength: 0, vector: null, typeName, width: 0 };
}

function msScale(type: DataType): number {
  const t = type as DataType & { unit?: number };
  if (type.typeId === Type.Timestamp) return [1000, 1, 1e-3, 1e-6][t.unit ?? 1]!;
  if (type.typeId === Type.Date) return t.unit === 0 ? 86_400_000 : 1;
  return 1;
}

function access(data: Data, vector: Vector | null): Access {
  const type = data.type as DataType;
  const a = blank(String(type));
  a.off = data.offset;
  a.nulls = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  switch (type.typeId) {
    case Type.Null:
      return a;
    case Type.Int:
    case Type.Float:
    case Type.Timestamp:
    case Type.Date: {
      const v = data.values as unknown;
      if ((type as DataType & { precision?: number }).precision === 0) break; // float16: raw bits, use Vector.get
      if (v instanceof BigInt64Array || v instanceof BigUint64Array) {
        a.k = A_BIG;
        a.big = v;
      } else {
        a.k = A_NUM;
        a.num = v as NumArray;
      }
      a.scale = msScale(type);
      return a;
    }
    case Type.Bool:
      a.k = A_BOOL;
      a.bits = data.values as Uint8Array;
      return a;
    case Type.Utf8:
    case Type.LargeUtf8: {
      a.k = A_UTF8;
      a.offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const bytes = data.values as Uint8Array;
      a.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      checkOffsets(a.offsets, data.offset, data.length, a.bytes.length);
      return a;
    }
    case Type.Decimal: {
      const { bitWidth, scale } = type as DataType & { bitWidth?: number; scale?: number };
      const words = data.values as unknown;
      if (!(words instanceof Uint32Array) || !bitWidth || bitWidth % 32 !== 0 || !Number.isInteger(scale)) break;
      a.k = A_DEC;
      a.num = words;
      a.width = bitWidth / 32;
      a.scale = scale!;
      // a buffer shorter than its rows (a corrupt file): the row-by-row way of an unknown type says so
      if (words.length < (data.offset + data.length) * a.width) break;
      return a;
    }
    case Type.Dictionary: {
      const dv = data.dictionary as Vector | undefined;
      if (!dv || dv.data.length !== 1) break;
      a.k = A_DICT;
      a.indices = data.values as NumArray | BigInt64Array;
      a.dict = access(dv.data[0] as Data, dv);
      a.dictLength = dv.length;
      return a;
    }
    default:
      break;
  }
  a.k = A_GENERIC;
  a.vector = vector;
  return a;
}

/**
 * String offsets must rise and stay inside the data (a corrupt file could point anywhere). No rows need
 * no offsets: writers leave a column of no rows with an empty offsets buffer (pyarrow's, and
 * apache-arrow's stand-in batch for a file of no record batches).
 */
function checkOffsets(offsets: Int32Array | BigInt64Array, off: number, n: number, size: number): void {
  if (n === 0) return;
  if (offsets.length < off + n + 1) throw new Error('corrupt Arrow data: fewer string offsets than rows');
  let prev = Number(offsets[off]!);
  if (prev < 0) throw new Error('corrupt Arrow data: string offsets out of range');
  for (let i = off + 1; i <= off + n; i++) {
    const o = Number(offsets[i]!);
    if (o < prev || o > size) throw new Error('corrupt Arrow data: string offsets out of range');
    prev = o;
  }
}

/** Put the value at index `i` (already including the data offset for bitmaps) of column access `a` into field f. */
function setValue(b: BatchBuilder, f: number, a: Access, r: number): void {
  const i = a.off + r;
  if (a.nulls !== null && ((a.nulls[i >> 3]! >> (i & 7)) & 1) === 0) {
    b.setMissing(f);
    return;
  }
  switch (a.k) {
    case A_NUM:
      b.setNumber(f, a.num![i]! * a.scale);
      return;
    case A_BIG: {
      const v = a.big![i]!;
      if (b.fields[f]!.kind === K_STRING && a.scale === 1) b.setText(f, v.toString(), false);
      else b.setNumber(f, Number(v) * a.scale);
      return;
    }
    case A_BOOL:
      b.setBool(f, ((a.bits![i >> 3]! >> (i & 7)) & 1) === 1);
      return;
    case A_UTF8: {
      const o = a.offsets!;
      const s = Number(o[i]!);
      const e = Number(o[i + 1]!);
      b.setTextBytes(f, a.bytes!, s, e, false);
      return;
    }
    case A_DICT: {
      const k = Number(a.indices![i]!);
      if (!(k >= 0 && k < a.dictLength)) throw new Error(`corrupt Arrow data: dictionary index ${k} out of range`);
      setValue(b, f, a.dict!, k);
      return;
    }
    case A_DEC: {
      // as its decimal text: a number field gets the double nearest the decimal (as the same text in
      // JSON Lines or CSV would), a text field the text
      const text = decimalText(a.num as Uint32Array, i, a.width, a.scale);
      if (b.fields[f]!.kind === K_STRING) b.setText(f, text, false);
      else b.setNumber(f, Number(text));
      return;
    }
    case A_GENERIC:
      setGeneric(b, f, a.vector!.get(r), a.typeName);
      return;
    default:
      b.setMissing(f);
  }
}

/**
 * The decimal text of value `i` of a decimal column: `width` 32-bit words a value, least significant
 * first, two's complement; `scale` digits after the point (a negative scale: that many zeros appended).
 */
export function decimalText(words: Uint32Array, i: number, width: number, scale: number): string {
  let v = 0n;
  for (let k = width - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[i * width + k]!);
  if ((words[i * width + width - 1]! & 0x80000000) !== 0) v -= 1n << BigInt(32 * width);
  const negative = v < 0n;
  let digits = (negative ? -v : v).toString();
  if (scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-scale);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  return `${negative ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

/** Rows the columnar way types at a time (see Columns). */
const SLICE = 16384;
const NO_BYTES = new Uint8Array(0);
const TWO_32 = 4294967296;

/**
 * The columnar way through a record batch, a slice of rows at a time: each field's values of the
 * slice as one column (the numbers scaled as setValue scales them, the strings as byte ranges into
 * the batch's own buffers), and a mark on every row that finishRow would not accept as it stands (a
 * missing or unknown model, a required field missing, a value of the wrong type or not finite).
 * Unmarked rows go to BatchBuilder.acceptRows in runs; a marked row goes through setValue and
 * finishRow, which reject it with its reason and location in row order, exactly as the row-by-row
 * way. A field whose column type has no columnar way here (decimals, lists, 64-bit string offsets,
 * numbers where text belongs...) sends the slice row by row.
 */
class Columns {
  readonly block: RowBlock;
  readonly marked = new Uint8Array(SLICE);
  private readonly nums: (Float64Array | null)[];
  private readonly texts: (ByteColumn | null)[];

  constructor(private readonly b: BatchBuilder) {
    const nf = b.nf;
    this.nums = Array.from({ length: nf }, (_, f) => (b.numCols.includes(f) ? new Float64Array(SLICE) : null));
    this.texts = Array.from({ length: nf }, (_, f) =>
      f === b.mf || b.textFields.includes(f) ? { bytes: NO_BYTES, start: new Int32Array(SLICE), len: new Int32Array(SLICE) } : null,
    );
    this.block = { model: new Uint8Array(SLICE), nums: this.nums, texts: this.texts };
  }

  /** Let go of the record batch's buffers the text columns point into. */
  release(): void {
    for (const t of this.texts) if (t) t.bytes = NO_BYTES;
  }

  /** Type rows [r0, r0 + m) (m <= SLICE) into `block` (its row 0 is r0) and mark them; false: this slice goes row by row. */
  fill(acc: Access[], r0: number, m: number): boolean {
    const b = this.b;
    const marked = this.marked;
    marked.fill(0, 0, m);
    for (let f = 0; f < b.nf; f++) {
      const field = b.fields[f]!;
      const a = acc[f]!;
      const text = this.texts[f];
      if (text) {
        if (!textColumn(a, r0, m, text)) return false;
        const { bytes, start, len } = text;
        if (field.required) for (let j = 0; j < m; j++) if (len[j]! < 0) marked[j] = 1;
        if (field.kind === K_LABEL) {
          for (let j = 0; j < m; j++) {
            const l = len[j]!;
            if (l >= 0 && nonFiniteLabel(bytes, start[j]!, start[j]! + l)) marked[j] = 1;
          }
        } else if (field.kind !== K_STRING) return false;
        if (f === b.mf) this.modelCodes(text, m);
        continue;
      }
      const num = this.nums[f];
      if (!num || !numberColumn(a, field.kind, r0, m, num, marked)) return false;
      if (field.required) for (let j = 0; j < m; j++) if (num[j] !== num[j]) marked[j] = 1;
    }
    return true;
  }

  /**
   * The model code of each row; a row whose model is missing or not yet known is marked (with
   * acceptAnyModel, finishRow adds a new model when its row comes: models are added in row order,
   * and only by rows that reach finishRow).
   */
  private modelCodes(col: ByteColumn, m: number): void {
    const { bytes, start, len } = col;
    const out = this.block.model;
    const marked = this.marked;
    for (let j = 0; j < m; j++) {
      const l = len[j]!;
      const c = l < 0 ? -1 : this.b.knownModel(bytes, start[j]!, start[j]! + l);
      if (c < 0) marked[j] = 1;
      else out[j] = c;
    }
  }
}

/** Whether bit i of a validity bitmap says "null" (no bitmap: no nulls). */
function isNull(nulls: Uint8Array | null, i: number): boolean {
  return nulls !== null && ((nulls[i >> 3]! >> (i & 7)) & 1) === 0;
}

/**
 * Rows [r0, r0 + m) of a string column as byte ranges (len -1: null or empty, which setTextBytes
 * reads as missing). A utf8 column or a dictionary of utf8 values; false for any other type, or a
 * dictionary index out of range (the row-by-row way reports it).
 */
function textColumn(a: Access, r0: number, m: number, out: ByteColumn): boolean {
  const { start, len } = out;
  if (a.k === A_MISSING) {
    len.fill(-1, 0, m);
    out.bytes = NO_BYTES;
    return true;
  }
  const v = a.k === A_DICT ? a.dict! : a;
  if (v.k !== A_UTF8 || !(v.offsets instanceof Int32Array)) return false;
  const offsets = v.offsets;
  out.bytes = v.bytes!;
  if (a.k === A_DICT) {
    const idx = a.indices!;
    if (idx instanceof BigInt64Array || idx instanceof BigUint64Array) return false;
    for (let j = 0; j < m; j++) {
      const i = a.off + r0 + j;
      if (isNull(a.nulls, i)) {
        len[j] = -1;
        continue;
      }
      const k = idx[i]!;
      if (!(k >= 0 && k < a.dictLength)) return false;
      const d = v.off + k;
      const s = offsets[d]!;
      const l = offsets[d + 1]! - s;
      start[j] = s;
      len[j] = l === 0 || isNull(v.nulls, d) ? -1 : l;
    }
    return true;
  }
  for (let j = 0; j < m; j++) {
    const i = a.off + r0 + j;
    const s = offsets[i]!;
    const l = offsets[i + 1]! - s;
    start[j] = s;
    len[j] = l === 0 || isNull(a.nulls, i) ? -1 : l;
  }
  return true;
}

/**
 * Rows [r0, r0 + m) of a number, flag or timestamp column (NaN: null), each as setValue would give
 * it; a value setNumber or setBool would reject (not finite, or a flag other than 0/1) is marked.
 * False for a column type that needs the row-by-row way.
 */
function numberColumn(a: Access, kind: number, r0: number, m: number, out: Float64Array, marked: Uint8Array): boolean {
  const off = a.off + r0;
  const nulls = a.nulls;
  const flag = kind === K_FLAG;
  // a time beyond what a date holds is rejected row by row (setNumber)
  const limit = kind === K_TIMESTAMP ? MAX_TIME_MS : Infinity;
  switch (a.k) {
    case A_MISSING:
      out.fill(NaN, 0, m);
      return true;
    case A_NUM: {
      const num = a.num!;
      // a buffer shorter than its rows (a corrupt file): the row-by-row way says what it reads there
      if (num.length < off + m) return false;
      const scale = a.scale;
      for (let j = 0; j < m; j++) {
        if (isNull(nulls, off + j)) {
          out[j] = NaN;
          continue;
        }
        const x = num[off + j]! * scale;
        out[j] = x;
        if (!(x - x === 0) || (flag && x !== 0 && x !== 1) || x > limit || x < -limit) marked[j] = 1;
      }
      return true;
    }
    case A_BIG: {
      // Number(v) of a 64-bit integer is hi * 2^32 + lo rounded once: the same sum, computed from its halves
      const big = a.big!;
      if (big.length < off + m) return false;
      const words = new Int32Array(big.buffer, big.byteOffset, 2 * big.length);
      const unsigned = big instanceof BigUint64Array;
      const scale = a.scale;
      for (let j = 0; j < m; j++) {
        const i = off + j;
        if (isNull(nulls, i)) {
          out[j] = NaN;
          continue;
        }
        const hi = unsigned ? words[2 * i + 1]! >>> 0 : words[2 * i + 1]!;
        const x = (hi * TWO_32 + (words[2 * i]! >>> 0)) * scale;
        out[j] = x;
        if (!(x - x === 0) || (flag && x !== 0 && x !== 1) || x > limit || x < -limit) marked[j] = 1;
      }
      return true;
    }
    case A_BOOL: {
      if (!flag) return false;
      const bits = a.bits!;
      for (let j = 0; j < m; j++) {
        const i = off + j;
        out[j] = isNull(nulls, i) ? NaN : (bits[i >> 3]! >> (i & 7)) & 1;
      }
      return true;
    }
    default:
      return false;
  }
}

function setGeneric(b: BatchBuilder, f: number, v: unknown, typeName: string): void {
  if (v === null || v === undefined) b.setMissing(f);
  else if (typeof v === 'number') b.setNumber(f, v);
  else if (typeof v === 'bigint') b.setText(f, v.toString(), false);
  else if (typeof v === 'boolean') b.setBool(f, v);
  else if (typeof v === 'string') b.setText(f, v, false);
  else b.setWrongType(f, `an Arrow ${typeName} value where a single value belongs`);
}

/**
 * The file handle apache-arrow reads a file-format file through, with every read checked. A corrupt
 * footer or message can send its reader outside the file (a read that returns no bytes, which its
 * read loop retries forever) or back to bytes it has read (a message that points at itself): so a
 * read outside the file, or reading several times the file's size in all, is an error instead.
 */
function guardedHandle(fh: FileHandle, size: number): FileHandle {
  // every read costs its bytes, and at least 64 (so a loop of tiny reads runs out quickly)
  let total = 0;
  const budget = 2 * size + (1 << 16);
  const read = async (buffer: Uint8Array, offset: number, length: number, position: number) => {
    if (!(Number.isSafeInteger(position) && position >= 0 && position < size)) throw new Error(`corrupt Arrow file: a read at byte ${position}, outside the file`);
    const r = await fh.read(buffer, offset, length, position);
    total += Math.max(64, r.bytesRead);
    if (r.bytesRead === 0 && length > 0) throw new Error(`corrupt Arrow file: a read at byte ${position}, past its end`);
    if (total > budget) throw new Error('corrupt Arrow file: its messages point back at bytes already read');
    return r;
  };
  return { fd: fh.fd, stat: () => fh.stat(), read, close: () => fh.close() } as unknown as FileHandle;
}

/** Fill `buf` from the file at `position` (several reads if need be); the bytes read, fewer at the end of the file. */
async function readFully(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (!(bytesRead > 0)) break;
    got += bytesRead;
  }
  return got;
}

/**
 * The bytes of an Arrow stream file in chunks cut where apache-arrow's stream reader reads: each
 * message's length prefix with its metadata, then its body. The reader joins the chunks a read spans
 * into a new buffer, so with a read stream's fixed 1 MB chunks every message body was copied once
 * more on the reading thread (1M bench rows: ~0.28 s of its time); here a body is one read of its
 * size, into memory the file system's thread fills. Whatever does not frame as a message (a cut or
 * corrupt file) is handed over as the rest of the file, as a Node stream (apache-arrow reads an
 * iterable's end differently), so the reader sees the same bytes as from a read stream and says what
 * is wrong in the same words; a cut it would not see (in the first message) is told in `cut`.
 */
async function* messageChunks(
  fh: FileHandle,
  size: number,
  progress: (bytes: number) => void,
  cut: { what: string | null },
  bodies: BodyPool | null,
  onBatch: (start: number, end: number) => void = () => undefined,
): AsyncGenerator<Uint8Array> {
  let pos = 0;
  const read = async (n: number, into?: Uint8Array): Promise<Uint8Array> => {
    const want = Math.max(0, Math.min(n, size - pos));
    const buf = into === undefined ? new Uint8Array(want) : into.subarray(0, want);
    const got = await readFully(fh, buf, pos);
    pos += got;
    progress(pos);
    return got === buf.length ? buf : buf.subarray(0, got);
  };
  // what does not frame as a message goes in one piece with the rest of the file, as a small file's
  // one chunk from a read stream would (the reader's reads past a chunk's end depend on it)
  const withRest = async (first: Uint8Array): Promise<Uint8Array> => {
    const rest = await read(size - pos);
    const all = new Uint8Array(first.length + rest.length);
    all.set(first);
    all.set(rest, first.length);
    return all;
  };
  while (pos < size) {
    const start = pos;
    const prefix = await read(8);
    const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
    // a continuation marker (-1) and the metadata's length, or (before Arrow 0.15) the length alone
    const legacy = prefix.length >= 4 && view.getInt32(0, true) !== -1;
    const at = legacy ? 4 : 8;
    const length = prefix.length >= at ? view.getInt32(at - 4, true) : -1;
    // (apache-arrow reads a length prefix cut short as the end of the stream: a cut all the same)
    if (prefix.length < at) cut.what = `a message's length prefix cut short: ${prefix.length} of ${at} bytes`;
    if (length > 0 && at + length - 8 > size - pos) cut.what = `Expected to read ${length} metadata bytes, but only read ${prefix.length - at + size - pos}.`;
    if (!(length > 0 && length >= 8 - at && at + length - 8 <= size - pos)) {
      // the end-of-stream marker, or no message
      yield await withRest(prefix);
      return;
    }
    const meta = await read(at + length - 8);
    const head = new Uint8Array(8 + meta.length);
    head.set(prefix);
    head.set(meta, 8);
    if (head.length < at + length) {
      yield head; // the file changed under the read: what there is
      return;
    }
    let body = -1;
    let batch = false;
    try {
      const message = Message.decode(head.subarray(at));
      body = message.bodyLength;
      batch = message.isRecordBatch();
    } catch {
      // a corrupt message: the reader reports it
    }
    if (Number.isSafeInteger(body) && body > size - pos) cut.what = `Expected to read ${body} bytes for message body, but only read ${size - pos}.`;
    if (!(Number.isSafeInteger(body) && body >= 0 && body <= size - pos)) {
      yield await withRest(head);
      return;
    }
    yield head;
    if (body > 0) yield await read(body, batch && bodies !== null ? await bodies.next(body) : undefined);
    if (batch) {
      bodies?.sent();
      onBatch(start, pos);
    }
  }
}

/**
 * Buffers for the record batch bodies of a stream file, reused once their batch is folded (see
 * reuseBodyReads: new memory is dear). The chunks go through a Node stream that may ask for the next
 * ones before the reader has made a batch of the last, so there are a few buffers, and a body waits for
 * the oldest to be free. Record batches are folded in the order their messages come; `next` is asked
 * for the body of the record batch after those `sent`. Dictionary bodies are never put here: their
 * dictionaries outlive the batch.
 */
export class BodyPool {
  private static readonly SLOTS = 3;
  private readonly slots: Uint8Array[] = [];
  /** per slot, the index of the record batch whose body it holds (undefined: none yet) */
  private readonly holder: number[] = [];
  private batches = 0;
  private folded = 0;
  private wake: (() => void) | null = null;
  private closed = false;

  /** A buffer of at least `n` bytes for the body of the next record batch (waiting for one to be free). */
  async next(n: number): Promise<Uint8Array> {
    const k = this.batches;
    const s = k % BodyPool.SLOTS;
    while (!this.closed && this.holder[s] !== undefined && this.holder[s]! >= this.folded) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.closed) throw new Error('the read is over');
    this.holder[s] = k;
    return (this.slots[s] = roomFor(this.slots[s], n));
  }

  /** A record batch message has gone to the reader (with or without a body). */
  sent(): void {
    this.batches++;
  }

  /** The reader's next record batch is folded: its body is free. */
  fold(): void {
    this.folded++;
    this.release();
  }

  /** The read is over (done, or stopped by an error): a body still waiting for a buffer gets none. */
  close(): void {
    this.closed = true;
    this.release();
  }

  private release(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** Reads at least this long, after the footer and dictionaries, go into the reused buffer (reuseBodyReads). */
const REUSE_MIN = 1 << 12;

/** Buffers made for record batch bodies to be reused in (reuseBodyReads, BodyPool), for the tests. */
export const bodyBuffers = { made: 0 };

/** `buf` when it holds `n` bytes, else a new buffer with room for a little more than `n`. */
function roomFor(buf: Uint8Array | undefined, n: number): Uint8Array {
  if (buf !== undefined && buf.length >= n) return buf;
  bodyBuffers.made++;
  return new Uint8Array(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.25)));
}

/**
 * Make a file-format reader read its record batch bodies into one buffer, reused from batch to batch,
 * instead of a new buffer for each. Memory written for the first time is dear (on the bench machine a
 * page fault costs ~10 µs: reading the 86 MB file of 1M bench rows into new buffers took ~265 ms of
 * CPU, into one reused buffer ~26 ms). Safe because the reader reads ahead of nothing: each record
 * batch is folded (every value copied into the builder) before the next one is read, and dictionaries,
 * which outlive their batch, are read by `open` before this. Works on apache-arrow's random-access file
 * (`read(nBytes)`: read from `position`, move it on, null at the end); a reader shaped otherwise is
 * left as it is (false).
 */
function reuseBodyReads(reader: object): boolean {
  type File = { read: (n?: number) => Promise<Uint8Array | null>; position: number; size: number; _handle: FileHandle | null };
  const impl = (reader as { _impl?: { _handle?: unknown; _reader?: { source?: unknown } } })._impl;
  const file = impl?._handle as Partial<File> | undefined;
  if (!file || impl?._reader?.source !== file || typeof file.read !== 'function' || typeof file.position !== 'number' || typeof file.size !== 'number' || !file._handle) return false;
  const original = file.read;
  let scratch: Uint8Array | undefined;
  file.read = async function (this: File, nBytes?: number): Promise<Uint8Array | null> {
    if (typeof nBytes !== 'number' || !(nBytes >= REUSE_MIN)) return original.call(this, nBytes);
    const { _handle: fh, size, position } = this;
    if (fh === null || position >= size) return null;
    const end = Math.min(size, position + nBytes);
    const n = end - position;
    scratch = roomFor(scratch, n);
    this.position = end;
    // short (the guarded handle throws first): what was read, never the last batch's bytes after it
    return scratch.subarray(0, await readFully(fh, scratch.subarray(0, n), position));
  };
  return true;
}

export class ArrowReader {
  /** Type record batches a column at a time (Columns); false: row by row only (tests compare the two). */
  static columnar = true;
  /** Read a file's record batch bodies into one reused buffer (reuseBodyReads); false: a new buffer each (tests compare). */
  static reuseBodies = true;
  /** Whether the last file-format read reused its body buffer (tests check the patch still takes). */
  static reusedBodies = false;
  private columns: Columns | null = null;
  /** the schema whose repeated column names were looked for last (noteRepeatedColumns) */
  private schemaNoted: unknown = null;
  /** while a record batch is folded: progress to the fraction of its rows given (see fold) */
  private sliceProgress: ((done: number) => void) | null = null;

  constructor(private readonly builder: BatchBuilder) {}

  /**
   * Fold one record batch, turning a corrupt batch into a data error that says how far the file was
   * read. `within`: progress to a fraction of the batch's rows, told a slice ahead as the batch is
   * typed, so the batches sealed meanwhile carry bytes in step with their rows (the main thread sizes
   * the column store from them, and the progress bar moves within a big batch).
   */
  private fold(rb: RecordBatch, firstRow: number, path: string, within: ((done: number) => void) | null): void {
    this.sliceProgress = within;
    try {
      this.batch(rb, firstRow);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw dataError(`${path}: corrupt Arrow data — ${this.builder.fileRows} rows read before the error (${(e as Error).message})`);
    } finally {
      this.sliceProgress = null;
    }
  }

  /** Fold one record batch into the builder; `firstRow` is the file's row number of its first row minus 1. */
  private batch(rb: RecordBatch, firstRow: number): void {
    const b = this.builder;
    const nf = b.nf;
    const schema = rb.schema;
    if (schema !== this.schemaNoted) {
      this.schemaNoted = schema;
      this.noteRepeatedColumns(schema.fields.map((x) => x.name));
    }
    const acc: Access[] = [];
    for (let f = 0; f < nf; f++) {
      const col = schema.fields.findIndex((x) => x.name === b.fields[f]!.source);
      if (col < 0) {
        acc.push(blank('absent'));
      } else {
        const data = rb.data.children[col] as Data;
        acc.push(access(data, rb.getChildAt(col)));
      }
    }
    const n = rb.numRows;
    const cols = ArrowReader.columnar ? (this.columns ??= new Columns(b)) : null;
    for (let r0 = 0; r0 < n; r0 += SLICE) {
      const m = Math.min(SLICE, n - r0);
      this.sliceProgress?.((r0 + m) / n);
      if (cols === null || !cols.fill(acc, r0, m)) {
        for (let r = r0; r < r0 + m; r++) this.row(acc, r, firstRow);
        continue;
      }
      const marked = cols.marked;
      let j = 0;
      while (j < m) {
        if (marked[j] === 1) {
          this.row(acc, r0 + j, firstRow);
          j++;
          continue;
        }
        let e = j + 1;
        while (e < m && marked[e] === 0) e++;
        // block row j is batch row r0 + j, file row firstRow + r0 + j + 1
        b.acceptRows(cols.block, j, e, firstRow + r0 + 1);
        j = e;
      }
    }
    cols?.release();
  }

  /**
   * A column the analysis reads that the schema names more than once: the first is read, and the
   * report says so (as for a CSV header); once per schema.
   */
  private noteRepeatedColumns(names: string[]): void {
    const b = this.builder;
    for (const source of new Set(b.fields.map((f) => f.source))) {
      const at = names.flatMap((x, c) => (x === source ? [c + 1] : []));
      if (at.length > 1) b.noteFile(`the schema names column "${source}" ${at.length} times (columns ${at.join(', ')}); the first is read, the others are ignored`);
    }
  }

  /** Row r of the record batch, the row-by-row way. */
  private row(acc: Access[], r: number, firstRow: number): void {
    const b = this.builder;
    for (let f = 0; f < b.nf; f++) setValue(b, f, acc[f]!, r);
    b.finishRow(firstRow + r + 1);
  }

  /** Read one Arrow file or stream; `format` from the magic bytes. */
  async *read(source: Source, format: 'arrow-file' | 'arrow-stream', onProgress: (bytes: number) => void): AsyncGenerator<Batch> {
    const b = this.builder;
    const path = source.path;
    if (format === 'arrow-file' && source.kind === 'file' && source.seekable) {
      const tail = tailBytes(path, source.size, 6);
      if (!tail.equals(ARROW_MAGIC)) {
        // no footer: read what is there as a stream (the file format is a stream after 8 bytes)
        const what = 'truncated Arrow file (no footer: cut mid-write?)';
        const stream = createReadStream(path, { start: 8, highWaterMark: 1 << 20 });
        try {
          yield* this.readStream(RecordBatchReader.from(stream), path, () => onProgress(stream.bytesRead), what);
        } finally {
          stream.destroy();
        }
        throw dataError(`${path}: ${what} — ${b.fileRows} rows read before the cut`);
      }
      const fh = await open(path);
      let rows = 0;
      try {
        const reader = await this.guard(RecordBatchReader.from(guardedHandle(fh, source.size)), path);
        await this.guard(reader.open(), path);
        ArrowReader.reusedBodies = ArrowReader.reuseBodies && reuseBodyReads(reader);
        let total = 0;
        try {
          total = (reader as unknown as { numRecordBatches?: number }).numRecordBatches ?? 0;
        } catch {
          // a corrupt footer: progress without the batch count; reading says what is wrong
        }
        let k = 0;
        const it = reader[Symbol.asyncIterator]();
        for (;;) {
          const next = await this.guard(it.next(), path);
          if (next.done) break;
          const at = k;
          this.fold(next.value, rows, path, total > 0 ? (done) => onProgress((source.size * (at + done)) / total) : null);
          rows += next.value.numRows;
          k++;
          yield* b.take();
          onProgress(total > 0 ? (source.size * k) / total : 0);
        }
      } finally {
        await fh.close();
      }
      return;
    }
    const fh = await open(path);
    let bytes = 0;
    const what = 'truncated or corrupt Arrow data';
    const cut: { what: string | null } = { what: null };
    const cutError = (): CliError => dataError(`${path}: ${what} — ${b.fileRows} rows read before the error (${cut.what})`);
    const pool = ArrowReader.reuseBodies ? new BodyPool() : null;
    // the bytes of each record batch message, in order, for progress within the batch (see the file format)
    const spans: [number, number][] = [];
    const chunks = Readable.from(
      messageChunks(fh, source.size, (n) => (bytes = n), cut, pool, (start, end) => spans.push([start, end])),
      { objectMode: false },
    );
    const within = (): ((done: number) => void) | null => {
      const span = spans.shift();
      return span === undefined ? null : (done) => onProgress(span[0] + (span[1] - span[0]) * done);
    };
    try {
      yield* this.readStream(RecordBatchReader.from(chunks), path, () => onProgress(bytes), what, pool, within);
    } catch (e) {
      // at a cut the reader may say it found 0 bytes where the file has some (its count depends on
      // where its chunks end): the cut's own count
      if (cut.what !== null && e instanceof CliError && / \(Expected to read \d+ (metadata bytes|bytes for message body), but only read 0\.\)$/.test(e.message)) {
        throw cutError();
      }
      throw e;
    } finally {
      // a read that stops early (--strict, an error) stops the chunks before their file closes
      pool?.close();
      chunks.destroy();
      await fh.close();
    }
    // a cut the reader took for the end of the stream (in a length prefix, or in the first message's
    // metadata) is an error all the same
    if (cut.what !== null) throw cutError();
  }

  /** Fold every record batch of a stream, reporting progress after each. */
  private async *readStream(
    from: ReturnType<typeof RecordBatchReader.from>,
    path: string,
    progress: () => void,
    what: string,
    pool: BodyPool | null = null,
    within: () => ((done: number) => void) | null = () => null,
  ): AsyncGenerator<Batch> {
    const b = this.builder;
    let rows = 0;
    const reader = await this.guard(from, path, what);
    await this.guard(reader.open(), path, what);
    const it = reader[Symbol.asyncIterator]();
    for (;;) {
      const next = await this.guard(it.next(), path, what);
      if (next.done) break;
      this.fold(next.value, rows, path, within());
      pool?.fold();
      rows += next.value.numRows;
      yield* b.take();
      progress();
    }
  }

  /** Await an apache-arrow operation, turning its errors into data errors that say how far the file was read. */
  private async guard<T>(p: Promise<T> | T, path: string, what = 'corrupt Arrow data'): Promise<T> {
    try {
      return await p;
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      const rows = this.builder.fileRows;
      if (/compressed but codec not found/.test(msg)) {
        throw dataError(`${path}: the Arrow data is compressed (LZ4/ZSTD), which abtool cannot read; write it uncompressed (pyarrow: compression="uncompressed")`);
      }
      // a type newer than the Arrow library abtool reads with (run-end encoded, say): not corrupt data
      const unknown = /^Unrecognized type: (.*)$/.exec(msg);
      if (unknown) throw dataError(`${path}: a column has an Arrow type abtool cannot read (${unknown[1]}); cast it to a plain type (numbers, utf8 or a dictionary of utf8) when writing the file`);
      throw dataError(`${path}: ${what} — ${rows} rows read before the error (${msg})`);
    }
  }
}
