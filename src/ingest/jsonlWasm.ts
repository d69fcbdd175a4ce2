/**
 * The JSON Lines fast way: many lines scanned per call by the WebAssembly extractor (wasm/jsonlScan.c)
 * and typed a column at a time, the way the Arrow reader types a record batch (arrow.ts Columns).
 *
 * The extractor takes a line whole or leaves it to JsonLineScanner (status 1: anything unusual, from
 * a blank line to a key named twice). Here a line it took is also marked when finishRow would not
 * accept it as it stands (a missing or unknown model, a required field missing, a value of the wrong
 * type or not finite, a number off the scanner's exact fast path). Unmarked lines go to
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
import { TOK_ABSENT, TOK_FALSE, TOK_NULL, TOK_NUMBER, TOK_STRING, TOK_TRUE } from './jsonScan.js';
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
  /** per field f and line l (index f * maxLines + l): token type (TOK_*), value range, a number's (or a time's) value */
  readonly tok: Uint8Array;
  readonly vs: Int32Array;
  readonly ve: Int32Array;
  readonly num: Float64Array;
  /** per line: the offset of its newline; 0 when the extractor took it, 1 when JsonLineScanner must */
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
    this.num = new Float64Array(mem, x.numPtr(), n);
    this.end = new Int32Array(mem, x.endPtr(), this.maxLines);
    this.status = new Uint8Array(mem, x.statusPtr(), this.maxLines);
  }

  /**
   * An extractor for fields reading these columns (several fields may share one); `times[f]`: field f
   * is a timestamp (the extractor also reads its strings as ISO-8601 times, into `num`). Null when it
   * cannot serve them.
   */
  static create(sources: readonly string[], times: readonly boolean[] = [], gathered: readonly boolean[] = []): WasmLineScanner | null {
    const mod = wasmModule();
    if (mod === null) return null;
    let x: Exports;
    try {
      x = new WA!.Instance(mod, {}).exports as Exports;
    } catch {
      return null;
    }
    const nf = sources.length;
    if (nf > x.maxFields()) return null;
    // the region starts on a page of its own after the static data; the pack area after it
    const base = regionAt(x);
    const need = base + REGION_BYTES + PAD + PACK_BYTES + PAD;
    const have = x.memory.buffer.byteLength;
    if (need > have) x.memory.grow(Math.ceil((need - have) / 65536));
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
    const desc = new Int32Array(mem, x.setupPtr(), 5 * x.maxFields());
    keys.forEach((_, k) => {
      desc[2 * k] = bytes[k]!.length;
      desc[2 * k + 1] = first[k]!;
    });
    desc.set(next, 2 * keys.length);
    for (let f = 0; f < nf; f++) desc[2 * keys.length + nf + f] = times[f] === true ? 1 : 0;
    for (let f = 0; f < nf; f++) desc[2 * keys.length + 2 * nf + f] = gathered[f] === true ? 1 : 0;
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
 * The lines of one extractor call as a block of columns (row j: line j of the call), with a mark on
 * each line the row-by-row way must take.
 */
export class LineColumns {
  readonly block: RowBlock;
  readonly marked: Uint8Array;
  private readonly nums: (Float64Array | null)[];
  private readonly texts: (ByteColumn | null)[];
  /** false: a field the columnar way cannot type (then every line goes row by row) */
  readonly usable: boolean;

  constructor(
    private readonly b: BatchBuilder,
    private readonly w: WasmLineScanner,
  ) {
    const nf = b.nf;
    const m = w.maxLines;
    this.marked = new Uint8Array(m);
    this.nums = Array.from({ length: nf }, (_, f) => (b.numCols.includes(f) ? new Float64Array(m) : null));
    this.texts = Array.from({ length: nf }, (_, f) =>
      f === b.mf || b.textFields.includes(f) ? { bytes: w.region, start: new Int32Array(m), len: new Int32Array(m) } : null,
    );
    this.block = { model: new Uint8Array(m), nums: this.nums, texts: this.texts };
    let usable = true;
    for (let f = 0; f < nf; f++) {
      const kind = b.fields[f]!.kind;
      if (this.texts[f]) {
        if (kind !== K_STRING && kind !== K_LABEL) usable = false;
      } else if (!this.nums[f] || (kind !== K_NUMBER && kind !== K_FLAG && kind !== K_TIMESTAMP)) {
        usable = false;
      }
    }
    this.usable = usable;
  }

  /** Type the `m` lines of the last call into `block` and mark those the row-by-row way must take. */
  fill(m: number): void {
    const b = this.b;
    const w = this.w;
    const marked = this.marked;
    marked.set(w.status.subarray(0, m));
    const L = w.maxLines;
    const tok = w.tok;
    const vs = w.vs;
    const ve = w.ve;
    const buf = w.region;
    // the text fields' values, gathered field after field (a run of rows is then one copy in acceptRows)
    const textBuf = w.packed() ? w.pack : buf;
    for (let f = 0; f < b.nf; f++) {
      const field = b.fields[f]!;
      const o = f * L;
      const text = this.texts[f];
      if (text) {
        text.bytes = textBuf;
        const { start, len } = text;
        const isString = field.kind === K_STRING;
        const num = w.num;
        for (let j = 0; j < m; j++) {
          const t = tok[o + j]!;
          // a number where text belongs is its digits (a label's only when finite: the scanner computed it)
          if (t === TOK_STRING || (t === TOK_NUMBER && (isString || num[o + j] === num[o + j]))) {
            const s = vs[o + j]!;
            const l = ve[o + j]! - s;
            start[j] = s;
            len[j] = l === 0 ? -1 : l;
            if (!isString && t === TOK_STRING && l > 0 && nonFiniteLabel(textBuf, s, s + l)) marked[j] = 1;
          } else {
            len[j] = -1;
            if (t !== TOK_ABSENT && t !== TOK_NULL) marked[j] = 1;
          }
        }
        if (field.required) for (let j = 0; j < m; j++) if (len[j]! < 0) marked[j] = 1;
        if (f === b.mf) {
          const model = this.block.model;
          for (let j = 0; j < m; j++) {
            const l = len[j]!;
            const c = l < 0 ? -1 : b.knownModel(textBuf, start[j]!, start[j]! + l);
            if (c < 0) marked[j] = 1;
            else model[j] = c;
          }
        }
        continue;
      }
      const out = this.nums[f]!;
      const num = w.num;
      const kind = field.kind;
      for (let j = 0; j < m; j++) {
        const t = tok[o + j]!;
        let v = NaN;
        if (t === TOK_ABSENT || t === TOK_NULL) {
          // missing
        } else if (t === TOK_NUMBER) {
          v = num[o + j]!;
          // off the fast path (NaN), a flag other than 0/1, a time a date cannot hold: row by row
          if (v !== v || (kind === K_FLAG && v !== 0 && v !== 1) || (kind === K_TIMESTAMP && !(v >= -MAX_TIME_MS && v <= MAX_TIME_MS))) marked[j] = 1;
        } else if (kind === K_FLAG && (t === TOK_TRUE || t === TOK_FALSE)) {
          v = t === TOK_TRUE ? 1 : 0;
        } else if (kind === K_TIMESTAMP && t === TOK_STRING) {
          const s = vs[o + j]!;
          const e = ve[o + j]!;
          if (s !== e) {
            // the extractor's reading of an ISO-8601 time (NaN: not one it reads; then coerce.ts says)
            v = num[o + j]!;
            if (v !== v) v = timestampTextValue(buf, s, e);
            if (!(v >= -MAX_TIME_MS && v <= MAX_TIME_MS)) marked[j] = 1;
          }
        } else {
          marked[j] = 1;
        }
        out[j] = v;
      }
      if (field.required) for (let j = 0; j < m; j++) if (out[j] !== out[j]) marked[j] = 1;
    }
  }
}
