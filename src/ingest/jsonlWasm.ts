/**
 * The JSON Lines fast way: many lines scanned per call by the WebAssembly extractor (wasm/jsonlScan.c),
 * which also types them a column at a time, the way the Arrow reader types a record batch (arrow.ts
 * Columns).
 *
 * The extractor takes a line whole or leaves it to JsonLineScanner (ST_SCAN: anything unusual, from
 * a blank line to a key named twice), and marks a line it took when finishRow would not accept it as
 * it stands (ST_TYPE: a required field missing, a value of the wrong type or not finite, a number off
 * the scanner's exact fast path); LineColumns.fill adds the model's and the labels' checks, and the
 * times the extractor leaves to coerce.ts. Unmarked lines go to
 * BatchBuilder.acceptRows in runs; a marked line goes through JsonlReader.line, the row-by-row way,
 * which rescans it and accepts or rejects it with its reason and location, in line order. So what a
 * read yields, counts and reports does not depend on which way a line went; only the time does.
 *
 * ABTOOL_WASM=0 keeps every line on the row-by-row way.
 */
import type { BatchBuilder, RowBlock } from './builder.js';
import { K_FLAG, K_LABEL, K_NUMBER, K_STRING, K_TIMESTAMP, nonFiniteLabel } from './builder.js';
import { MAX_TIME_MS, timestampTextValue } from './coerce.js';
import type { ByteColumn } from './intern.js';
import { TOK_STRING } from './jsonScan.js';
import { WASM_BASE64 } from './wasm/jsonlScanWasm.js';

/** Bytes of lines copied into the extractor's memory at a time (a read's chunk: open.ts CHUNK_BYTES). */
export const REGION_BYTES = 1 << 20;
/** bytes after a region the extractor may read (never past a line's newline in what it computes) */
const PAD = 64;
/** room for a call's gathered values: twice a region's bytes (two fields may read one key) */
const PACK_BYTES = 2 * REGION_BYTES;

/** Where the region starts: on a page of its own after the extractor's static data. */
function regionAt(x: Exports): number {
  return Math.ceil(x.__heap_base.value / 65536) * 65536;
}

/** The little of the WebAssembly API used here (this project's TypeScript lib has no declarations of it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { value: number };
  keyStorePtr(): number;
  setupPtr(): number;
  tokPtr(): number;
  vsPtr(): number;
  vePtr(): number;
  lenPtr(): number;
  numPtr(): number;
  endPtr(): number;
  statusPtr(): number;
  maxLines(): number;
  wasPacked(): number;
  maxFields(): number;
  keyStoreSize(): number;
  setup(nf: number, nk: number, pack: number, cap: number): number;
  scanLines(base: number, start: number, end: number): number;
}

let compiled: object | null | undefined;

/** The extractor's module, compiled once per thread; null where WebAssembly (with SIMD) is not to be had. */
function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = WA === undefined ? null : new WA.Module(Buffer.from(WASM_BASE64, 'base64'));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** What the extractor makes of a field's values (jsonlScan.c typeFields): nothing, a number column, a text column. */
export const ROLE_NONE = 0;
export const ROLE_NUMBER = 1;
export const ROLE_TEXT = 2;

/** outStatus bits (jsonlScan.c): left to JsonLineScanner; a value finishRow would not take as it stands; a time for coerce.ts */
export const ST_SCAN = 1;
export const ST_TYPE = 2;
export const ST_TIME = 4;

/** A field as the extractor sees it: its kind (builder.ts K_*), whether it is required, its role (ROLE_*). */
export interface ExtractField {
  kind: number;
  required: boolean;
  role: number;
}

/** Whether reads may take the fast way (not with ABTOOL_WASM=0). */
export function wasmWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.ABTOOL_WASM !== '0';
}

/** One instance of the extractor, set up for a read's fields, and views of its outputs. */
export class WasmLineScanner {
  /** the region lines are copied to (offsets in the outputs count from its start) */
  readonly region: Buffer;
  /** where the values of the gathered fields are copied, field after field, when they fit (`packed`) */
  readonly pack: Buffer;
  /**
   * Per field f and line l (index f * maxLines + l): token type (TOK_*), value range, a number's (or
   * a time's) value; once typed (ROLE_NUMBER) the field's value, NaN when missing, and in `len` 1
   * for a time given as text that the extractor left to coerce.ts (0 otherwise); a text field's
   * length (ROLE_TEXT; -1: missing or empty), its range then counting from `pack` when `packed`.
   */
  readonly tok: Uint8Array;
  readonly vs: Int32Array;
  readonly ve: Int32Array;
  readonly len: Int32Array;
  readonly num: Float64Array;
  /** per line: the offset of its newline; 0 when the extractor took it whole and typed it, else ST_* bits */
  readonly end: Int32Array;
  readonly status: Uint8Array;
  readonly maxLines: number;
  private readonly x: Exports;
  private readonly base: number;

  private constructor(x: Exports) {
    this.x = x;
    this.maxLines = x.maxLines();
    const mem = x.memory.buffer;
    const n = x.maxFields() * this.maxLines;
    this.base = regionAt(x);
    this.region = Buffer.from(mem, this.base, REGION_BYTES + PAD);
    this.pack = Buffer.from(mem, this.base + REGION_BYTES + PAD, PACK_BYTES + PAD);
    this.tok = new Uint8Array(mem, x.tokPtr(), n);
    this.vs = new Int32Array(mem, x.vsPtr(), n);
    this.ve = new Int32Array(mem, x.vePtr(), n);
    this.len = new Int32Array(mem, x.lenPtr(), n);
    this.num = new Float64Array(mem, x.numPtr(), n);
    this.end = new Int32Array(mem, x.endPtr(), this.maxLines);
    this.status = new Uint8Array(mem, x.statusPtr(), this.maxLines);
  }

  /**
   * An extractor for fields reading these columns (several fields may share one), typed as `fields`
   * says (a timestamp's strings are also read as ISO-8601 times; without `fields`, nothing is typed
   * or gathered). Null when it cannot serve them.
   */
  static create(sources: readonly string[], fields: readonly ExtractField[] = []): WasmLineScanner | null {
    const mod = wasmModule();
    if (mod === null) return null;
    let x: Exports;
    const nf = sources.length;
    // the region starts on a page of its own after the static data; the pack area after it
    let base: number;
    try {
      x = new WA!.Instance(mod, {}).exports as Exports;
      if (nf > x.maxFields()) return null;
      base = regionAt(x);
      const need = base + REGION_BYTES + PAD + PACK_BYTES + PAD;
      const have = x.memory.buffer.byteLength;
      if (need > have) x.memory.grow(Math.ceil((need - have) / 65536));
    } catch {
      // no memory for it: the row-by-row way
      return null;
    }
    const keys: string[] = [];
    const first: number[] = [];
    const next = new Int32Array(nf).fill(-1);
    const lastOf = new Map<string, number>();
    for (let f = 0; f < nf; f++) {
      const src = sources[f]!;
      const prev = lastOf.get(src);
      if (prev === undefined) {
        keys.push(src);
        first.push(f);
      } else {
        next[prev] = f;
      }
      lastOf.set(src, f);
    }
    const bytes = keys.map((k) => Buffer.from(k, 'utf8'));
    const total = bytes.reduce((s, b) => s + b.length, 0);
    if (total > x.keyStoreSize()) return null;
    const mem = x.memory.buffer;
    const store = new Uint8Array(mem, x.keyStorePtr(), x.keyStoreSize());
    let o = 0;
    for (const b of bytes) {
      store.set(b, o);
      o += b.length;
    }
    const desc = new Int32Array(mem, x.setupPtr(), 6 * x.maxFields());
    keys.forEach((_, k) => {
      desc[2 * k] = bytes[k]!.length;
      desc[2 * k + 1] = first[k]!;
    });
    const at = 2 * keys.length;
    desc.set(next, at);
    for (let f = 0; f < nf; f++) {
      const field = fields[f];
      desc[at + nf + f] = field?.kind ?? -1;
      desc[at + 2 * nf + f] = field?.required === true ? 1 : 0;
      desc[at + 3 * nf + f] = field?.role ?? ROLE_NONE;
    }
    if (x.setup(nf, keys.length, base + REGION_BYTES + PAD, PACK_BYTES) !== 1) return null;
    return new WasmLineScanner(x);
  }

  /** Copy src[s, e) (whole lines, the last ending with a newline; at most REGION_BYTES) to the region's start. */
  load(src: Uint8Array, s: number, e: number): void {
    this.region.set(src.subarray(s, e), 0);
  }

  /** Scan the lines of region[start, end) (end just after a newline), at most maxLines; returns how many. */
  scan(start: number, end: number): number {
    return this.x.scanLines(this.base, start, end);
  }

  /** Whether the last scan copied the gathered fields' values to `pack` (their vs/ve then count from there). */
  packed(): boolean {
    return this.x.wasPacked() === 1;
  }
}

/**
 * The lines of one extractor call as a block of columns (row j: line j of the call), typed by the
 * extractor (views of its outputs), with a mark on each line the row-by-row way must take.
 */
export class LineColumns {
  readonly block: RowBlock;
  /** per line: nonzero when the row-by-row way must take it (the extractor's status, then this side's checks) */
  readonly marked: Uint8Array;
  private readonly texts: (ByteColumn | null)[];

  private constructor(
    private readonly b: BatchBuilder,
    /** the extractor whose outputs these are */
    readonly w: WasmLineScanner,
    roles: readonly number[],
  ) {
    const L = w.maxLines;
    this.marked = w.status;
    const nums = roles.map((r, f) => (r === ROLE_NUMBER ? w.num.subarray(f * L, (f + 1) * L) : null));
    this.texts = roles.map((r, f) => (r === ROLE_TEXT ? { bytes: w.region, start: w.vs.subarray(f * L, (f + 1) * L), len: w.len.subarray(f * L, (f + 1) * L) } : null));
    this.block = { model: new Uint8Array(L), nums, texts: this.texts };
  }

  /**
   * The fast way for a builder's fields, with an extractor of its own; null when a field is one the
   * columnar way cannot type (a read then goes row by row), or the extractor cannot be had.
   */
  static create(b: BatchBuilder): LineColumns | null {
    const fields = LineColumns.fieldsOf(b);
    if (fields.some((f) => f.role === ROLE_NONE)) return null;
    const w = WasmLineScanner.create(b.fields.map((f) => f.source), fields);
    return w ? new LineColumns(b, w, fields.map((f) => f.role)) : null;
  }

  /** The extractor's description of the builder's fields; ROLE_NONE for one the columnar way cannot type. */
  static fieldsOf(b: BatchBuilder): ExtractField[] {
    return b.fields.map((field, f) => {
      const kind = field.kind;
      let role = ROLE_NONE;
      if (f === b.mf || b.textFields.includes(f)) role = kind === K_STRING || kind === K_LABEL ? ROLE_TEXT : ROLE_NONE;
      else if (b.numCols.includes(f) && (kind === K_NUMBER || kind === K_FLAG || kind === K_TIMESTAMP)) role = ROLE_NUMBER;
      return { kind, required: field.required, role };
    });
  }

  /**
   * Finish the `m` lines of the last call: the times the extractor left to coerce.ts, the labels that
   * stand for a non-finite number, the model codes; mark what finishRow would not accept.
   */
  fill(m: number): void {
    const b = this.b;
    const w = this.w;
    const marked = this.marked;
    const L = w.maxLines;
    const tok = w.tok;
    const region = w.region;
    // the text fields' values, gathered field after field (a run of rows is then one copy in acceptRows)
    const textBuf = w.packed() ? w.pack : region;
    let anyTime = false;
    for (let j = 0; j < m; j++) if ((marked[j]! & ST_TIME) !== 0) anyTime = true;
    for (let f = 0; f < b.nf; f++) {
      const field = b.fields[f]!;
      const o = f * L;
      const text = this.texts[f];
      if (text) {
        text.bytes = textBuf;
        const { start, len } = text;
        if (field.kind === K_LABEL) {
          for (let j = 0; j < m; j++) {
            const l = len[j]!;
            if (l > 0 && tok[o + j] === TOK_STRING && nonFiniteLabel(textBuf, start[j]!, start[j]! + l)) marked[j]! |= ST_TYPE;
          }
        }
        if (f === b.mf) {
          const model = this.block.model;
          for (let j = 0; j < m; j++) {
            const l = len[j]!;
            const c = l < 0 ? -1 : b.knownModel(textBuf, start[j]!, start[j]! + l);
            if (c < 0) marked[j]! |= ST_TYPE;
            else model[j] = c;
          }
        }
      } else if (field.kind === K_TIMESTAMP && anyTime) {
        // this field's times given as text that are not ISO-8601 times the extractor read (epoch
        // milliseconds as text, say): w.len is 1 for those (the line's ST_TIME may be another field's)
        const later = w.len;
        const num = w.num;
        const vs = w.vs;
        const ve = w.ve;
        for (let j = 0; j < m; j++) {
          if (later[o + j] !== 1 || (marked[j]! & ST_SCAN) !== 0) continue;
          const v = timestampTextValue(region, vs[o + j]!, ve[o + j]!);
          num[o + j] = v;
          if (!(v >= -MAX_TIME_MS && v <= MAX_TIME_MS)) marked[j]! |= ST_TYPE;
        }
      }
    }
    if (anyTime) for (let j = 0; j < m; j++) marked[j]! &= ~ST_TIME;
  }
}
