/**
 * The one place a row becomes accepted or rejected, whatever format it came from.
 *
 * A reader fills the builder's scratch row field by field through the `set*` methods (which apply
 * the typing rules of coerce.ts), then calls `finishRow(line)`. The builder checks the row in a
 * fixed order, so each rejected row has exactly one reason:
 *   model missing -> model not in the plan -> another required field missing -> a wrong-type or
 *   non-finite value (fields in plan order) -> duplicate (same request id and model as an earlier
 *   accepted row).
 * An accepted row is written into the current batch's typed arrays; its strings (ids, segments,
 * labels) are copied as UTF-8 bytes into the batch's byte arena. When the batch is sealed they are
 * dictionary-encoded a column at a time (DictionaryBuilder.codesOf: hashes first, then the probes, so
 * the table's cache misses overlap), and duplicates are found then, in row order: a row is a duplicate
 * when an earlier accepted row has its request id and model, which is the same as checking it last
 * in finishRow, because no later row changes whether an earlier one is accepted. Duplicates are
 * dropped from the batch before the other columns are encoded, so every dictionary value belongs to
 * at least one accepted row. With --strict, a batch is sealed before any rejection is thrown, so the
 * first rejected row in input order is the one reported. Rows whose structure is broken (malformed
 * JSON, wrong CSV field count, truncated last line) are counted with `rejectRow`.
 */
import { bump, recordRejection, strictError } from './account.js';
import { Encoder } from './encode.js';
import {
  booleanWord,
  canonicalNumber,
  decimalTextValue,
  isMissingWord,
  isNonFiniteWord,
  jsonNumberValue,
  latin1,
  textBytes,
  timestampTextValue,
  MAX_TIME_MS,
} from './coerce.js';
import { ByteColumnBuilder, DictionaryBuilder, decodeUtf8, type ByteColumn } from './intern.js';
import {
  type Batch,
  type FieldKind,
  type IngestAccount,
  type ReadOptions,
  type ReadPlan,
  type RejectReason,
} from './types.js';

export const K_NUMBER = 0;
export const K_FLAG = 1;
export const K_STRING = 2;
export const K_TIMESTAMP = 3;
export const K_LABEL = 4;
const KIND_CODE = { number: K_NUMBER, flag: K_FLAG, string: K_STRING, timestamp: K_TIMESTAMP, label: K_LABEL } as const satisfies Record<FieldKind, number>;
const KIND_WORDS = ['a number', 'a flag (0/1, true/false)', 'text', 'a timestamp', 'a label'];

/** State of one field of the scratch row. */
export const V_MISSING = 0;
export const V_NUM = 1;
/** a string value as UTF-8 bytes: bbuf[f] from bs[f] to be[f] */
export const V_BYTES = 2;
/** a string value as text[f] */
export const V_TEXT = 3;
export const V_WRONG = 4;
export const V_NONFINITE = 5;

export type FileFormat = IngestAccount['files'][number]['format'];

export interface ResolvedField {
  /** contract name */
  name: string;
  /** column name in the log */
  source: string;
  kind: number;
  required: boolean;
  truthy: boolean;
  /** has a column in the batches (every plan field but the model) */
  emit: boolean;
  dict: DictionaryBuilder | null;
}

const MAX_MODELS = 255;
const EMPTY = new Uint8Array(0);
const NO_BATCHES: Batch[] = [];

/** A label's text that stands for NaN or an infinite number (rejected as non-finite). */
export function nonFiniteLabel(buf: Uint8Array, s: number, e: number): boolean {
  return isNonFiniteWord(buf, s, e) || Math.abs(decimalTextValue(buf, s, e)) === Infinity;
}

function preview(s: string): string {
  const t = s.length > 40 ? `${s.slice(0, 40)}...` : s;
  return JSON.stringify(t);
}

/**
 * The fields a plan reads, in plan order, then the model and request fields when the plan does not
 * list them; `mf` and `rf` are their indices (rf -1: no duplicate detection).
 */
export function resolveFields(plan: ReadPlan): { fields: ResolvedField[]; mf: number; rf: number } {
  const fields: ResolvedField[] = [];
  const byName = new Map<string, number>();
  for (const r of plan.fields) {
    if (byName.has(r.name)) throw new Error(`ReadPlan names field ${r.name} twice`);
    const kind = KIND_CODE[r.kind];
    const isModel = r.name === plan.modelField;
    byName.set(r.name, fields.length);
    fields.push({
      name: r.name,
      source: r.source,
      kind: isModel ? K_STRING : kind,
      required: r.required || isModel,
      truthy: r.truthyStrings === true,
      emit: !isModel,
      dict: !isModel && (kind === K_STRING || kind === K_LABEL) ? new DictionaryBuilder(kind === K_LABEL) : null,
    });
  }
  if (!byName.has(plan.modelField)) {
    byName.set(plan.modelField, fields.length);
    fields.push({ name: plan.modelField, source: plan.modelField, kind: K_STRING, required: true, truthy: false, emit: false, dict: null });
  }
  if (plan.requestField !== null && !byName.has(plan.requestField)) {
    byName.set(plan.requestField, fields.length);
    fields.push({
      name: plan.requestField,
      source: plan.requestField,
      kind: K_STRING,
      required: false,
      truthy: false,
      emit: false,
      dict: new DictionaryBuilder(false),
    });
  }
  const mf = byName.get(plan.modelField)!;
  const rf = plan.requestField === null ? -1 : byName.get(plan.requestField)!;
  if (rf >= 0 && fields[rf]!.dict === null) {
    throw new Error(`the request field ${plan.requestField} must be read as a string to detect duplicates`);
  }
  return { fields, mf, rf };
}

/** Fields whose values a RawBatch carries as bytes: the dictionary columns and the request field. */
export function textFieldsOf(fields: ResolvedField[], rf: number): number[] {
  return fields.flatMap((f, i) => (f.dict !== null && (f.emit || i === rf) ? [i] : []));
}

/**
 * A sealed batch before its strings are dictionary-encoded and its duplicates dropped (encode.ts):
 * what a reading worker thread hands to the main thread. Arrays are per field (null where the field
 * has no such column); every array is the batch's own, so it can be transferred.
 */
export interface RawBatch {
  n: number;
  /** the file the rows came from (duplicates are reported with it) */
  file: string;
  /** the model names known when the batch was sealed (with acceptAnyModel the list grows) */
  models: string[];
  model: Uint8Array;
  /** line (or Arrow row number) of each row */
  lines: Float64Array;
  nums: (Float64Array | null)[];
  texts: (ByteColumn | null)[];
  /** with late duplicates in a threaded read: their keys, worked out by the reading thread (encode.ts lateKeysOf) */
  late?: LateKeys;
}

/** Per row of a raw batch: the key of its request id and model (NaN: none), and its missing values' bits (encode.ts lateKeysOf). */
export interface LateKeys {
  keys: Float64Array;
  missing: Uint8Array;
}

/**
 * A sealed batch's arrays handed back for the next batches (a threaded read: the main thread returns
 * them once a batch is encoded and stored), so the memory is written again instead of new memory being
 * touched (page faults cost on a VM). Any piece may be absent (still in use): then a new one is made.
 */
export interface RecycledBatch {
  model: Uint8Array | null;
  lines: Float64Array | null;
  nums: (Float64Array | null)[];
  texts: (ByteColumn | null)[];
}

/**
 * Rows a columnar reader has already typed and checked (BatchBuilder.acceptRows), a column per field,
 * indexed like `fields`: the model codes, then for the number columns their values (NaN: missing) and
 * for the text fields (textFieldsOf) their bytes (len -1: missing). Other entries are null.
 */
export interface RowBlock {
  model: Uint8Array;
  nums: (Float64Array | null)[];
  texts: (ByteColumn | null)[];
}

/**
 * Rows per batch unless a read says otherwise. On the 1M-row bench logs, 16384 against 65536 (7 runs
 * each, alternated, medians): JSONL 2.73 vs 2.80 s, CSV 2.51 vs 2.65 s, Arrow 2.36 vs 2.39 s: a
 * smaller batch's arrays stay in the cache between the thread that fills them and the one that
 * encodes them, and more of them are recycled.
 */
export const DEFAULT_BATCH_ROWS = 16384;

export class BatchBuilder {
  readonly fields: ResolvedField[];
  readonly nf: number;
  /** index of the model field in `fields` */
  readonly mf: number;
  /** index of the request-id field in `fields`, -1 when there is no duplicate detection */
  readonly rf: number;
  readonly account: IngestAccount;

  // the scratch row
  readonly tag: Uint8Array;
  readonly num: Float64Array;
  readonly text: string[];
  readonly bbuf: Uint8Array[];
  readonly bs: Int32Array;
  readonly be: Int32Array;
  private readonly bad: string[];
  /** FieldKind code per field (K_*) */
  private readonly kinds: Uint8Array;
  /** lowest field index holding a wrong-type or non-finite value in the current row (nf: none) */
  private badMin = 0;
  /** emitted number columns */
  readonly numCols: number[];

  private readonly strict: boolean;
  private readonly batchSize: number;
  private readonly models: string[];
  private readonly modelIndex = new Map<string, number>();
  private readonly modelBytes: Uint8Array[] = [];
  private readonly acceptAnyModel: boolean;
  private readonly requiredOthers: number[];

  // the current batch
  private n = 0;
  private model!: Uint8Array;
  private nums: (Float64Array | null)[] = [];
  /** per dictionary field (and the request field): its values as bytes until the batch is sealed */
  private texts: (ByteColumnBuilder | null)[] = [];
  /** line of each row of the batch, for the duplicates found when it is sealed */
  private lines: Float64Array = new Float64Array(0);
  private sealing = false;
  private readonly ready: Batch[] = [];
  /** arrays of batches handed back (recycle), for newBatch */
  private readonly pool: RecycledBatch[] = [];

  private readonly missingCounts: Int32Array;
  /** fields whose values wait as bytes in `texts`: the dictionary columns and the request field */
  readonly textFields: number[];

  private fileName = '';
  private fileEntry: IngestAccount['files'][number] | null = null;

  /** where sealed batches go: by default encoded here, in this thread (see encode.ts) */
  private readonly sink: (raw: RawBatch) => void;

  /**
   * `sink`: receives each sealed RawBatch instead of this builder encoding it (a reading worker
   * thread posts them to the main thread); then `take` and `finish` hand over no batches.
   */
  constructor(plan: ReadPlan, account: IngestAccount, options: ReadOptions = {}, sink?: (raw: RawBatch) => void) {
    this.account = account;
    this.strict = options.strict === true;
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_BATCH_ROWS));
    this.models = plan.models;
    this.acceptAnyModel = plan.acceptAnyModel === true;
    if (this.models.length > MAX_MODELS) throw new Error(`a plan can name at most ${MAX_MODELS} models`);
    this.models.forEach((m) => this.addModel(m));

    const { fields, mf, rf } = resolveFields(plan);
    this.fields = fields;
    this.nf = fields.length;
    this.mf = mf;
    this.rf = rf;
    this.requiredOthers = fields.flatMap((f, i) => (f.required && i !== this.mf ? [i] : []));

    const nf = this.nf;
    this.tag = new Uint8Array(nf);
    this.num = new Float64Array(nf);
    this.text = new Array<string>(nf).fill('');
    this.bbuf = new Array<Uint8Array>(nf).fill(EMPTY);
    this.bs = new Int32Array(nf);
    this.be = new Int32Array(nf);
    this.bad = new Array<string>(nf).fill('');
    this.kinds = Uint8Array.from(fields.map((f) => f.kind));
    this.badMin = nf;
    this.numCols = fields.flatMap((f, i) => (f.emit && f.dict === null ? [i] : []));
    this.textFields = textFieldsOf(fields, this.rf);
    if (sink) this.sink = sink;
    else {
      const encoder = new Encoder(fields, this.rf, this.models, account, this.strict);
      this.sink = (raw) => {
        const batch = encoder.encode(raw);
        if (batch) this.ready.push(batch);
      };
    }
    this.missingCounts = new Int32Array(nf * (MAX_MODELS + 1));
    this.newBatch();
  }

  /** The dictionary of each string or label column (shared by every batch of the read). */
  dictionaries(): Map<string, DictionaryBuilder> {
    const m = new Map<string, DictionaryBuilder>();
    for (const f of this.fields) if (f.emit && f.dict) m.set(f.name, f.dict);
    return m;
  }

  // ---- files ----

  beginFile(path: string, format: FileFormat, gzip: boolean, bytes: number): void {
    // the rows of the previous file are sealed under its name (their duplicates name it)
    if (this.n > 0) this.seal();
    this.fileName = path;
    this.fileEntry = { path, format, gzip, rowsSeen: 0, bytes };
    this.account.files.push(this.fileEntry);
  }

  /** The current file's bytes, once read, for a file whose size was not known ahead (a pipe, a FIFO). */
  setFileBytes(bytes: number): void {
    if (this.fileEntry) this.fileEntry.bytes = bytes;
  }

  /** Rows seen so far in the current file. */
  get fileRows(): number {
    return this.fileEntry?.rowsSeen ?? 0;
  }

  /** A note on the input for the report's warnings (IngestAccount.notes), kept once. */
  /** A note about the file being read, its name first (see note). */
  noteFile(message: string): void {
    this.note(`${this.fileName}: ${message}`);
  }

  note(message: string): void {
    const notes = (this.account.notes ??= []);
    if (!notes.includes(message)) notes.push(message);
  }

  blankLine(): void {
    this.account.blankLines++;
  }

  // ---- typing the scratch row ----

  setMissing(f: number): void {
    this.tag[f] = V_MISSING;
  }

  /** A number from a typed source: a parsed JSON number, an Arrow numeric value. */
  setNumber(f: number, v: number): void {
    const k = this.kinds[f]!;
    const finite = v - v === 0;
    if (!finite) {
      this.setNonFinite(f, String(v));
      return;
    }
    if (k === K_NUMBER) {
      this.tag[f] = V_NUM;
      this.num[f] = v;
    } else if (k === K_TIMESTAMP) {
      this.setTime(f, v);
    } else if (k === K_FLAG) {
      if (v === 0 || v === 1) {
        this.tag[f] = V_NUM;
        this.num[f] = v;
      } else {
        this.setWrongType(f, `${v} where ${KIND_WORDS[k]} belongs`);
      }
    } else {
      this.tag[f] = V_TEXT;
      this.text[f] = canonicalNumber(v);
    }
  }

  /** A JSON number token: ids keep their source digits, every other kind takes its value. */
  setNumberToken(f: number, buf: Uint8Array, s: number, e: number, value = NaN): void {
    const k = this.kinds[f]!;
    if (k === K_STRING) {
      this.setBytes(f, buf, s, e);
    } else if (k === K_LABEL) {
      const v = jsonNumberValue(buf, s, e);
      if (v - v === 0) this.setBytes(f, buf, s, e);
      else this.setNonFinite(f, latin1(buf, s, e));
    } else {
      // `value`: the number's value when the scanner computed it on the way (NaN: it did not)
      this.setNumber(f, value === value ? value : jsonNumberValue(buf, s, e));
    }
  }

  /**
   * Text given as UTF-8 bytes (a JSON string without escapes, an Arrow utf8 value). With
   * `numericText` (CSV semantics) numeric text is a number and NA/null are missing; without it
   * (JSON, Arrow: typed formats) text where a number belongs is a wrong type.
   * `buf` must stay unchanged until finishRow.
   */
  setTextBytes(f: number, buf: Uint8Array, s: number, e: number, numericText: boolean): void {
    if (s === e) {
      this.tag[f] = V_MISSING;
      return;
    }
    const k = this.kinds[f]!;
    if (k === K_STRING) {
      this.setBytes(f, buf, s, e);
    } else if (k === K_LABEL) {
      if (this.labelIsFinite(f, buf, s, e)) this.setBytes(f, buf, s, e);
    } else {
      this.classifyText(f, buf, s, e, numericText);
    }
  }

  /** Text given as a string (a CSV cell, a decoded JSON string with escapes). */
  setText(f: number, str: string, numericText: boolean): void {
    if (str.length === 0) {
      this.tag[f] = V_MISSING;
      return;
    }
    const k = this.kinds[f]!;
    if (k === K_STRING) {
      this.tag[f] = V_TEXT;
      this.text[f] = str;
      return;
    }
    const b = textBytes(str);
    if (k === K_LABEL) {
      if (this.labelIsFinite(f, b, 0, str.length)) {
        this.tag[f] = V_TEXT;
        this.text[f] = str;
      }
    } else {
      this.classifyText(f, b, 0, str.length, numericText);
    }
  }

  setBool(f: number, b: boolean): void {
    const k = this.kinds[f]!;
    if (k === K_FLAG) {
      this.tag[f] = V_NUM;
      this.num[f] = b ? 1 : 0;
    } else if (k === K_STRING || k === K_LABEL) {
      this.tag[f] = V_TEXT;
      this.text[f] = b ? 'true' : 'false';
    } else {
      this.setWrongType(f, `${b} where ${KIND_WORDS[k]} belongs`);
    }
  }

  /** A NaN or infinite value; `what` is how it was written. */
  setNonFinite(f: number, what: string): void {
    this.tag[f] = V_NONFINITE;
    this.bad[f] = `${what} where ${KIND_WORDS[this.kinds[f]!]} belongs`;
    if (f < this.badMin) this.badMin = f;
  }

  setWrongType(f: number, message: string): void {
    this.tag[f] = V_WRONG;
    this.bad[f] = message;
    if (f < this.badMin) this.badMin = f;
  }

  private setBytes(f: number, buf: Uint8Array, s: number, e: number): void {
    this.tag[f] = V_BYTES;
    this.bbuf[f] = buf;
    this.bs[f] = s;
    this.be[f] = e;
  }

  private labelIsFinite(f: number, buf: Uint8Array, s: number, e: number): boolean {
    if (nonFiniteLabel(buf, s, e)) {
      this.setNonFinite(f, preview(latin1(buf, s, e)));
      return false;
    }
    return true;
  }

  /**
   * A finite time in epoch milliseconds: a wrong type beyond what a date can hold (±8.64e15 ms, about
   * ±275,000 years; a report could not name it).
   */
  private setTime(f: number, v: number): void {
    if (v >= -MAX_TIME_MS && v <= MAX_TIME_MS) {
      this.tag[f] = V_NUM;
      this.num[f] = v;
    } else {
      this.setWrongType(f, `${v} is outside the range of a time (epoch milliseconds from -8.64e15 to 8.64e15)`);
    }
  }

  /** number, flag and timestamp fields given as text */
  private classifyText(f: number, buf: Uint8Array, s: number, e: number, numericText: boolean): void {
    const field = this.fields[f]!;
    const k = field.kind;
    if (numericText && isMissingWord(buf, s, e)) {
      this.tag[f] = V_MISSING;
      return;
    }
    if (k === K_NUMBER) {
      if (numericText) {
        const v = decimalTextValue(buf, s, e);
        if (!Number.isNaN(v)) {
          this.setNumber(f, v);
          return;
        }
      }
    } else if (k === K_FLAG) {
      const w = booleanWord(buf, s, e);
      if (w >= 0) {
        this.tag[f] = V_NUM;
        this.num[f] = w;
        return;
      }
      const v = decimalTextValue(buf, s, e);
      if (!Number.isNaN(v)) {
        this.setNumber(f, v);
        return;
      }
      if (field.truthy && !isNonFiniteWord(buf, s, e)) {
        this.tag[f] = V_NUM;
        this.num[f] = 1;
        return;
      }
    } else {
      const v = timestampTextValue(buf, s, e);
      if (v - v === 0) {
        this.setTime(f, v);
        return;
      }
      if (!isNonFiniteWord(buf, s, e)) {
        this.setWrongType(f, `${preview(decodeUtf8(buf, s, e))} is neither an ISO-8601 time nor epoch milliseconds`);
        return;
      }
    }
    if (isNonFiniteWord(buf, s, e)) this.setNonFinite(f, preview(latin1(buf, s, e)));
    else this.setWrongType(f, `text ${preview(decodeUtf8(buf, s, e))} where ${KIND_WORDS[k]} belongs`);
  }

  // ---- rows ----

  /** A row that cannot be typed at all (malformed, truncated, wrong field count). */
  rejectRow(reason: RejectReason, line: number, message: string): void {
    this.badMin = this.nf;
    this.account.rowsSeen++;
    this.fileEntry!.rowsSeen++;
    this.reject(reason, line, undefined, message);
  }

  /** Check the scratch row and accept it into the batch or count it as rejected. */
  finishRow(line: number): boolean {
    this.account.rowsSeen++;
    this.fileEntry!.rowsSeen++;
    const tag = this.tag;
    const fields = this.fields;
    const mf = this.mf;
    const nf = this.nf;
    const badMin = this.badMin;
    this.badMin = nf;
    // 1. the model
    const mt = tag[mf]!;
    if (mt === V_MISSING) return this.reject('missing-required', line, fields[mf]!.name, this.missingMessage(mf));
    if (mt === V_WRONG) return this.reject('wrong-type', line, fields[mf]!.name, this.bad[mf]!);
    if (mt === V_NONFINITE) return this.reject('non-finite', line, fields[mf]!.name, this.bad[mf]!);
    const m = mt === V_BYTES ? this.modelOfBytes(this.bbuf[mf]!, this.bs[mf]!, this.be[mf]!) : this.modelOfText(this.text[mf]!);
    if (m < 0) {
      const name = mt === V_BYTES ? decodeUtf8(this.bbuf[mf]!, this.bs[mf]!, this.be[mf]!) : this.text[mf]!;
      this.account.unknownModels[name] = (this.account.unknownModels[name] ?? 0) + 1;
      const known = this.acceptAnyModel ? `more than ${MAX_MODELS} models` : `not in the spec (${this.models.join(', ')})`;
      return this.reject('unknown-model', line, fields[mf]!.name, `model ${preview(name)} is ${known}`);
    }
    // 2. the other required fields
    const req = this.requiredOthers;
    for (let k = 0; k < req.length; k++) {
      const f = req[k]!;
      if (tag[f] === V_MISSING) return this.reject('missing-required', line, fields[f]!.name, this.missingMessage(f));
    }
    // 3. values of the wrong type or not finite (the first in plan order)
    if (badMin < nf) {
      const name = fields[badMin]!.name;
      bump(this.account.invalid!, name, this.models[m]!);
      return this.reject(tag[badMin] === V_WRONG ? 'wrong-type' : 'non-finite', line, name, this.bad[badMin]!);
    }
    // 4. accept (duplicates are found when the batch is sealed)
    const i = this.n;
    this.model[i] = m;
    this.lines[i] = line;
    const stride = MAX_MODELS + 1;
    const numCols = this.numCols;
    for (let k = 0; k < numCols.length; k++) {
      const f = numCols[k]!;
      if (tag[f] === V_NUM) {
        this.nums[f]![i] = this.num[f]!;
      } else {
        this.nums[f]![i] = NaN;
        this.missingCounts[f * stride + m]!++;
      }
    }
    const textFields = this.textFields;
    for (let k = 0; k < textFields.length; k++) {
      const f = textFields[k]!;
      const t = this.texts[f]!;
      const tf = tag[f];
      if (tf === V_BYTES) t.pushBytes(this.bbuf[f]!, this.bs[f]!, this.be[f]!);
      else if (tf === V_TEXT) t.pushText(this.text[f]!);
      else {
        t.pushMissing();
        if (fields[f]!.emit) this.missingCounts[f * stride + m]!++;
      }
    }
    this.account.rowsRead++;
    if (++this.n === this.batchSize) this.seal();
    return true;
  }

  /**
   * Accept rows [r0, r1) of a block of columns whose every row the reader has checked as finishRow
   * would and found accepted (a known model, the required fields present, every value of the right
   * type and finite): the same batches, counts and seals as finishRow row by row, a column at a time.
   * Row r is line `line0 + r`.
   */
  acceptRows(block: RowBlock, r0: number, r1: number, line0: number): void {
    const stride = MAX_MODELS + 1;
    const mc = this.missingCounts;
    const fields = this.fields;
    const numCols = this.numCols;
    const textFields = this.textFields;
    let r = r0;
    while (r < r1) {
      const i0 = this.n;
      const k = Math.min(r1 - r, this.batchSize - i0);
      const models = block.model;
      const model = this.model;
      const lines = this.lines;
      for (let j = 0; j < k; j++) {
        model[i0 + j] = models[r + j]!;
        lines[i0 + j] = line0 + r + j;
      }
      for (let c = 0; c < numCols.length; c++) {
        const f = numCols[c]!;
        const src = block.nums[f]!;
        const dst = this.nums[f]!;
        const base = f * stride;
        for (let j = 0; j < k; j++) {
          const v = src[r + j]!;
          dst[i0 + j] = v;
          if (v !== v) mc[base + models[r + j]!]!++;
        }
      }
      for (let c = 0; c < textFields.length; c++) {
        const f = textFields[c]!;
        const count = fields[f]!.emit;
        const base = f * stride;
        const col = block.texts[f]!;
        this.texts[f]!.pushRows(col, r, r + k);
        if (!count) continue;
        const len = col.len;
        for (let j = 0; j < k; j++) if (len[r + j]! < 0) mc[base + models[r + j]!]!++;
      }
      this.account.rowsSeen += k;
      this.fileEntry!.rowsSeen += k;
      this.account.rowsRead += k;
      this.n += k;
      r += k;
      if (this.n === this.batchSize) this.seal();
    }
  }

  private missingMessage(f: number): string {
    const field = this.fields[f]!;
    const col = field.source !== field.name ? ` (column ${JSON.stringify(field.source)})` : '';
    return `required field ${JSON.stringify(field.name)}${col} is missing or empty`;
  }

  private reject(reason: RejectReason, line: number, field: string | undefined, message: string): false {
    const loc = field === undefined ? { file: this.fileName, line, message } : { file: this.fileName, line, field, message };
    if (this.strict) {
      // an earlier row of the batch may be a duplicate: it comes first
      if (!this.sealing && this.n > 0) this.seal();
      throw strictError(reason, loc);
    }
    recordRejection(this.account, reason, loc);
    return false;
  }

  // ---- models ----

  private addModel(name: string): number {
    const code = this.modelBytes.length;
    this.modelIndex.set(name, code);
    this.modelBytes.push(new TextEncoder().encode(name));
    if (code >= this.models.length) this.models.push(name);
    return code;
  }

  /**
   * The code of a model already known (the plan's, or one added since), given as UTF-8 bytes; -1
   * otherwise. Adds nothing: a reader checking rows ahead of finishRow (arrow.ts Columns) leaves a
   * new model to finishRow, which adds it in row order (with acceptAnyModel).
   */
  knownModel(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const mb = this.modelBytes;
    outer: for (let c = 0; c < mb.length; c++) {
      const b = mb[c]!;
      if (b.length !== len) continue;
      for (let k = 0; k < len; k++) if (b[k] !== buf[s + k]) continue outer;
      return c;
    }
    return -1;
  }

  private modelOfBytes(buf: Uint8Array, s: number, e: number): number {
    const c = this.knownModel(buf, s, e);
    if (c >= 0 || !this.acceptAnyModel || this.modelBytes.length >= MAX_MODELS) return c;
    return this.addModel(decodeUtf8(buf, s, e));
  }

  private modelOfText(name: string): number {
    const c = this.modelIndex.get(name);
    if (c !== undefined) return c;
    if (!this.acceptAnyModel || this.modelBytes.length >= MAX_MODELS) return -1;
    return this.addModel(name);
  }

  // ---- batches ----

  /** Take back a sealed batch's arrays (every row of each is written before it is read again). */
  recycle(kit: RecycledBatch): void {
    this.pool.push(kit);
  }

  private newBatch(): void {
    const size = this.batchSize;
    this.n = 0;
    const kit = this.pool.pop();
    const fits = <T extends { length: number }>(a: T | null | undefined): a is T => a !== null && a !== undefined && a.length === size;
    this.model = fits(kit?.model) ? kit.model : new Uint8Array(size);
    this.lines = fits(kit?.lines) ? kit.lines : new Float64Array(size);
    this.nums = this.fields.map((f, i) => {
      if (!(f.emit && f.dict === null)) return null;
      const old = kit?.nums[i];
      return fits(old) ? old : new Float64Array(size);
    });
    this.texts = this.fields.map((_, i) => {
      if (!this.textFields.includes(i)) return null;
      const old = kit?.texts[i];
      if (old && fits(old.start) && fits(old.len)) return ByteColumnBuilder.reuse(old);
      // room for a little more than the last batch's bytes of this column
      const last = this.texts[i]?.usedBytes ?? 0;
      return new ByteColumnBuilder(size, undefined, Math.ceil(last * 1.125));
    });
  }

  /** End the batch: count its missing values and hand it to the sink. */
  private seal(): void {
    this.sealing = true;
    try {
      const n = this.n;
      this.syncMissing();
      if (n > 0) {
        this.sink({
          n,
          file: this.fileName,
          models: this.models,
          model: this.model,
          lines: this.lines,
          nums: this.nums,
          texts: this.texts.map((t) => (t === null ? null : t.column())),
        });
      }
      this.newBatch();
    } finally {
      this.sealing = false;
    }
  }

  private syncMissing(): void {
    const stride = MAX_MODELS + 1;
    const mc = this.missingCounts;
    for (let f = 0; f < this.nf; f++) {
      for (let m = 0; m < this.models.length; m++) {
        const c = mc[f * stride + m]!;
        if (c !== 0) {
          bump(this.account.missing, this.fields[f]!.name, this.models[m]!, c);
          mc[f * stride + m] = 0;
        }
      }
    }
  }

  /** Batches completed since the last call. */
  take(): Batch[] {
    return this.ready.length === 0 ? NO_BATCHES : this.ready.splice(0);
  }

  /** Seal the partial batch (end of input) and bring the account's counters up to date. */
  finish(): Batch[] {
    this.seal();
    return this.take();
  }
}
