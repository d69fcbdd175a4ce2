/**
 * JSON Lines: split the byte stream into lines without decoding it, scan each line with the
 * JsonLineScanner (only the plan's keys are extracted) and hand the values to the BatchBuilder.
 *
 * Tolerated: a UTF-8 BOM, CRLF line ends, blank lines. A last line without a newline that is not
 * complete JSON is a 'truncated' record (a file cut mid-write), told apart from a 'malformed' line.
 * A read may also cover a part of a file that starts after a newline (a split read, index.ts): lines
 * are then numbered from the part's start, and `bom: false` says its first line is not the file's.
 * Memory stays bounded: only the unfinished tail of a chunk is kept, and a line longer than
 * MAX_LINE_BYTES is dropped (counted as malformed) instead of being gathered.
 */
import type { BatchBuilder } from './builder.js';
import { decodeUtf8 } from './intern.js';
import {
  JsonLineScanner,
  SCAN_BLANK,
  SCAN_MALFORMED,
  TOK_ABSENT,
  TOK_FALSE,
  TOK_INF,
  TOK_NAN,
  TOK_NEG_INF,
  TOK_NESTED,
  TOK_NULL,
  TOK_NUMBER,
  TOK_STRING,
  TOK_STRING_ESC,
  TOK_TRUE,
} from './jsonScan.js';
import { LineColumns, REGION_BYTES, type WasmLineScanner, wasmWanted } from './jsonlWasm.js';
import type { Batch } from './types.js';

export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** Reads JSON Lines into a builder; one instance per read (the scanner is reused across files). */
export class JsonlReader {
  private readonly scanner: JsonLineScanner;
  /** the current read's line 1 is the file's first line (which may start with a BOM) */
  private bom = true;
  /** lines (newlines, plus a last line without one) of the last read, once it has ended */
  lines = 0;

  /** the fast way (jsonlWasm.ts), when it can serve this read's fields */
  private readonly columns: LineColumns | null;
  private readonly wasm: WasmLineScanner | null;

  constructor(
    private readonly builder: BatchBuilder,
    { fast = wasmWanted() }: { fast?: boolean } = {},
  ) {
    this.scanner = new JsonLineScanner(builder.fields.map((f) => f.source));
    this.columns = fast ? LineColumns.create(builder) : null;
    this.wasm = this.columns?.w ?? null;
  }

  /**
   * Read one file's bytes (or a part of it starting after a newline: `bom: false` when the part does
   * not start the file). Yields batches as they fill; `onChunk` is called after each chunk; `lines`
   * counts the lines read. Stream errors (corrupt gzip, I/O) propagate to the caller.
   */
  async *read(chunks: AsyncIterable<Buffer>, onChunk: () => void, { bom = true }: { bom?: boolean } = {}): AsyncGenerator<Batch> {
    const builder = this.builder;
    this.bom = bom;
    this.lines = 0;
    let line = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let dropping = false;
    for await (const chunk of chunks) {
      let start = 0;
      let nl = chunk.indexOf(10);
      if (pendingBytes > 0 || dropping) {
        if (nl === -1) {
          if (!dropping) {
            // a copy: the chunk's buffer may be read into again (openRange's reuse)
            pending.push(Buffer.from(chunk));
            pendingBytes += chunk.length;
            if (pendingBytes > MAX_LINE_BYTES) {
              dropping = true;
              pending = [];
              pendingBytes = 0;
            }
          }
          onChunk();
          continue;
        }
        line++;
        if (dropping) {
          builder.rejectRow('malformed', line, `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB`);
          dropping = false;
        } else {
          pending.push(chunk.subarray(0, nl));
          const whole = Buffer.concat(pending, pendingBytes + nl);
          this.line(whole, 0, whole.length, line, false);
        }
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        nl = chunk.indexOf(10, start);
      }
      if (nl !== -1 && this.wasm !== null) {
        const last = chunk.lastIndexOf(10);
        line = this.wholeLines(chunk, start, last + 1, line);
        start = last + 1;
      } else {
        while (nl !== -1) {
          this.line(chunk, start, nl, ++line, false);
          start = nl + 1;
          nl = chunk.indexOf(10, start);
        }
      }
      if (start < chunk.length) {
        pending.push(Buffer.from(chunk.subarray(start)));  // a copy, as above
        pendingBytes += chunk.length - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          dropping = true;
          pending = [];
          pendingBytes = 0;
        }
      }
      const ready = builder.take();
      for (let k = 0; k < ready.length; k++) yield ready[k]!;
      onChunk();
    }
    if (dropping) {
      builder.rejectRow('malformed', ++line, `line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB`);
    } else if (pendingBytes > 0) {
      const whole = Buffer.concat(pending, pendingBytes);
      this.line(whole, 0, whole.length, ++line, true);
    }
    this.lines = line;
    const ready = builder.take();
    for (let k = 0; k < ready.length; k++) yield ready[k]!;
  }

  /**
   * The whole lines of chunk[start, end) (end just after a newline), the fast way: copied to the
   * extractor's region a REGION_BYTES at a time, scanned there, typed a column at a time; a line the
   * fast way does not take whole goes through `line`. `line` was the last line's number; returns the new one.
   */
  private wholeLines(chunk: Buffer, start: number, end: number, line: number): number {
    const w = this.wasm!;
    while (start < end) {
      let stop = end;
      if (stop - start > REGION_BYTES) {
        stop = chunk.lastIndexOf(10, start + REGION_BYTES - 1) + 1;
        if (stop <= start) {
          // a line longer than the region: the row-by-row way
          const nl = chunk.indexOf(10, start);
          this.line(chunk, start, nl, ++line, false);
          start = nl + 1;
          continue;
        }
      }
      w.load(chunk, start, stop);
      const len = stop - start;
      let s = 0;
      while (s < len) {
        const m = w.scan(s, len);
        line = this.block(m, s, line);
        s = w.end[m - 1]! + 1;
      }
      start = stop;
    }
    return line;
  }

  /** The `m` lines the extractor has just scanned, the first starting at region offset `s0`. */
  private block(m: number, s0: number, line: number): number {
    const cols = this.columns!;
    const w = this.wasm!;
    const builder = this.builder;
    cols.fill(m);
    const marked = cols.marked;
    const ends = w.end;
    const region = w.region;
    let run = 0;
    for (let j = 0; j < m; j++) {
      if (marked[j] === 0) continue;
      if (j > run) builder.acceptRows(cols.block, run, j, line + 1);
      this.line(region, j === 0 ? s0 : ends[j - 1]! + 1, ends[j]!, line + 1 + j, false);
      run = j + 1;
    }
    if (m > run) builder.acceptRows(cols.block, run, m, line + 1);
    return line + m;
  }

  /** One line buf[s, e) without its '\n'; `last`: the file ends here without a newline. */
  private line(buf: Buffer, s: number, e: number, line: number, last: boolean): void {
    if (line === 1 && this.bom && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3;
    const builder = this.builder;
    const sc = this.scanner;
    const r = sc.scan(buf, s, e);
    if (r === SCAN_BLANK) {
      builder.blankLine();
      return;
    }
    if (r === SCAN_MALFORMED) {
      if (last) {
        builder.rejectRow('truncated', line, `the last line has no newline and is not complete JSON (${e - s} bytes: ${snippet(buf, s, e)})`);
      } else {
        builder.rejectRow('malformed', line, `${sc.error} (${snippet(buf, s, e)})`);
      }
      return;
    }
    // a key named twice in one line: the last value is read, as JSON.parse reads it, and the report says so
    if (sc.dupField >= 0) builder.noteFile(`lines name the field "${builder.fields[sc.dupField]!.source}" more than once: the last value of each line is read, as JSON.parse reads it`);
    const tok = sc.tok;
    const vs = sc.vs;
    const ve = sc.ve;
    const num = sc.num;
    const nf = builder.nf;
    for (let f = 0; f < nf; f++) {
      switch (tok[f]) {
        case TOK_ABSENT:
        case TOK_NULL:
          builder.setMissing(f);
          break;
        case TOK_STRING:
          builder.setTextBytes(f, buf, vs[f]!, ve[f]!, false);
          break;
        case TOK_NUMBER:
          builder.setNumberToken(f, buf, vs[f]!, ve[f]!, num[f]!);
          break;
        case TOK_TRUE:
          builder.setBool(f, true);
          break;
        case TOK_FALSE:
          builder.setBool(f, false);
          break;
        case TOK_STRING_ESC:
          builder.setText(f, JSON.parse(decodeUtf8(buf, vs[f]!, ve[f]!)) as string, false);
          break;
        case TOK_NAN:
          builder.setNonFinite(f, 'NaN');
          break;
        case TOK_INF:
          builder.setNonFinite(f, 'Infinity');
          break;
        case TOK_NEG_INF:
          builder.setNonFinite(f, '-Infinity');
          break;
        case TOK_NESTED:
          builder.setWrongType(f, `a JSON ${buf[vs[f]!] === 0x7b ? 'object' : 'array'} where a single value belongs`);
          break;
      }
    }
    builder.finishRow(line);
  }
}

function snippet(buf: Buffer, s: number, e: number): string {
  const text = decodeUtf8(buf, s, Math.min(e, s + 60)).replace(/\r$/, '');
  return JSON.stringify(e - s > 60 ? `${text}...` : text);
}
