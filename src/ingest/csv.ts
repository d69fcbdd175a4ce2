/**
 * CSV with a header row, parsed by csv-parse in streaming mode (one chunk at a time, records
 * drained synchronously after each write, so nothing piles up).
 *
 * Lines: a record's location is the physical line it starts on (the header is line 1). csv-parse
 * runs without `info` (it costs ~80% more time), so lines are counted here: one per record plus
 * the newlines inside quoted cells (only looked for once a quote has been seen).
 * Tolerated: BOM, CRLF, blank lines, quotes inside unquoted cells (`relax_quotes`: kept as text).
 *
 * Fast path: csv-parse makes a string per cell. Until the first quote (or a BOM at the start, or a
 * line longer than the record limit), lines are split on commas here instead and ASCII cells go to
 * the builder as bytes, as csv-parse would have cut them (no quote: a cell is the bytes between
 * commas; CRLF or LF ends a line; a lone CR is data); a line with other bytes than ASCII goes
 * through the same path as csv-parse's records. From the first quote on, the rest of the file is
 * csv-parse's, starting at that line. Cells reach the builder as bytes either way (csv-parse's
 * `encoding: null`), so a value that is not valid UTF-8 stays itself, as in JSON Lines and Arrow
 * (two Latin-1 user ids are two users); the header's names are decoded. Not in a file that starts
 * with a UTF-8 BOM: csv-parse then decodes it all (a file that says it is UTF-8).
 * A row with another number of cells than the header is 'wrong-field-count', except the last row
 * of a file that does not end with a newline and has too few cells: that is 'truncated', as is a
 * quoted cell left open by the end of the file.
 *
 * A read may also cover the second part of a file cut at the end of a record (a split read, index.ts
 * and csvSplitPoint): `part` then says what a read of the whole file would know there (the header,
 * whether csv-parse has taken over), lines are numbered from the part's start, and errors are worded
 * as a read of the whole file words them (part.before). The first part is read as a whole file is.
 */
import { Parser } from 'csv-parse';
import { dataError } from '../cli/exitCode.js';
import type { BatchBuilder } from './builder.js';
import type { CsvCut } from './open.js';
import type { Batch } from './types.js';

export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

interface CsvErrorLike {
  code?: string;
  message: string;
  lines?: number;
}

/** The second part of a split read: what a read of the whole file knows where it starts. */
export interface CsvPart extends Omit<CsvCut, 'cut'> {
  /**
   * What the first part read, asked for only to word an error (it may wait until that part is done):
   * its lines, its rows, and whether a row with the wrong cell count ended it (`lastHeld`; a read of
   * the whole file holds that row until the next row comes, so it is not yet counted before that).
   */
  before(): { lines: number; rows: number; lastHeld: boolean };
}

export class CsvReader {
  /** lines of the last read, once it has ended (a last line without a newline counts) */
  lines = 0;
  /** the last read ended with a row with the wrong cell count, counted then (see releaseHeld) */
  lastHeld = false;

  /** the file's rows before an error of the current read, as a read of the whole file counts them */
  rowsBefore: () => number = () => this.builder.fileRows;

  constructor(private readonly builder: BatchBuilder) {}

  /**
   * Read one file's bytes, or the second part of a split read (`part`). Yields batches as they fill;
   * `onChunk` is called after each chunk. Stream errors propagate to the caller.
   */
  async *read(chunks: AsyncIterable<Buffer>, file: string, onChunk: () => void, part?: CsvPart): AsyncGenerator<Batch> {
    const builder = this.builder;
    this.lines = 0;
    this.lastHeld = false;
    const parser = new Parser({
      // a read of the whole file that is already in csv-parse at the part's start has checked for a BOM
      bom: !(part && (part.bom || part.quoted)),
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: false,
      // LF and CRLF, mixed as they come; a lone CR is data (line numbers count LFs)
      record_delimiter: ['\r\n', '\n'],
      max_record_size: MAX_RECORD_BYTES,
      // cells as bytes: a value that is not valid UTF-8 stays itself, as in JSON Lines and Arrow
      encoding: null,
    });
    let failure: CsvErrorLike | null = null;
    parser.on('error', (e: CsvErrorLike) => {
      failure ??= e;
    });

    let header: string[] | null = null;
    /** lines read before csv-parse took over (its own line numbers start at 1 there) */
    let parserLineBase = 0;
    /** line feeds in the bytes handed to csv-parse (its own line count also counts a lone CR) */
    let parserLfs = 0;
    const feed = (buf: Buffer): void => {
      for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) parserLfs++;
      parser.write(buf);
    };
    /** per column: the fields read from it */
    let byColumn: number[][] = [];
    /** fields with no column in this file: missing in every row */
    let absent: number[] = [];
    let nextLine = 1;
    let sawQuote = part?.quoted ?? false;
    let lastByte = -1;
    /**
     * a row with the wrong cell count, judged when we know whether it is the file's last; in a second
     * part, at first, the first part's last row in case it was one (`prior`: counted there, judged as
     * it would be, a wrong-field-count, unless an error comes first: see rowsBefore)
     */
    const st: { held: { line: number; cells: number; lines?: number; prior?: true } | null } = { held: part ? { line: 0, cells: 0, prior: true } : null };

    /** `atEnd`: the held row is the file's last row; too few cells and no final newline make it truncated */
    const releaseHeld = (atEnd: boolean): void => {
      const h = st.held;
      if (h === null || header === null) return;
      st.held = null;
      if (h.prior) return;
      if (atEnd) this.lastHeld = true;
      const width = header.length;
      if (atEnd && lastByte !== 0x0a && h.cells < width) {
        builder.rejectRow('truncated', h.line, `the last line has no newline and only ${h.cells} of ${width} cells`);
      } else if ((h.lines ?? 1) > 1) {
        // a quoted cell over line breaks, in a record that is wrong anyway: most likely a stray quote
        // that took the rows up to the next quote into one cell, which the rows' count cannot show
        builder.rejectRow(
          'wrong-field-count',
          h.line,
          `${h.cells} cells, the header has ${width}; the record spans ${h.lines} lines (a quoted cell holds ${h.lines! - 1} line breaks: a stray quote may have swallowed the rows in between)`,
        );
        builder.noteFile(`a record with the wrong cell count spans several lines (see the wrong-field-count rows): a stray quote may have swallowed the rows in between, which are not counted as rows`);
      } else {
        builder.rejectRow('wrong-field-count', h.line, `${h.cells} cells, the header has ${width}`);
      }
    };

    const setHeader = (cells: string[]): void => {
      header = cells;
      const index = new Map<string, number>();
      cells.forEach((h, c) => {
        if (!index.has(h)) index.set(h, c);
      });
      byColumn = cells.map(() => []);
      absent = [];
      const read = new Set<string>();
      builder.fields.forEach((f, i) => {
        const c = index.get(f.source);
        if (c === undefined) absent.push(i);
        else byColumn[c]!.push(i);
        read.add(f.source);
      });
      // a column the analysis reads that the header names twice: the first is read, and the report says so
      // (a second part of a split read has the header from the first part, which has said it)
      if (part) return;
      for (const name of read) {
        const at = cells.flatMap((h, c) => (h === name ? [c + 1] : []));
        if (at.length > 1) builder.note(`${file}: the header names column "${name}" ${at.length} times (columns ${at.join(', ')}); the first is read, the others are ignored`);
      }
    };
    if (part) setHeader(part.header);

    /** a line of this read as a line of the file */
    const at = (line: number): number => (part ? part.before().lines + line : line);
    /** the file's rows before an error here, as a read of the whole file counts them */
    const rowsBefore = (): number => {
      if (!part) return builder.fileRows;
      const b = part.before();
      return b.rows + builder.fileRows - (st.held?.prior === true && b.lastHeld ? 1 : 0);
    };
    this.rowsBefore = rowsBefore;

    /**
     * a record as cells of bytes (csv-parse's, or the fast path's line with bytes other than ASCII),
     * or of text (csv-parse's, in a file with a BOM: csv-parse then decodes the whole file as UTF-8)
     */
    const handle = (rec: Buffer[] | string[]): void => {
      const line = nextLine;
      if (sawQuote) {
        let extra = 0;
        for (let c = 0; c < rec.length; c++) {
          const cell = rec[c]!;
          const lf = typeof cell === 'string' ? '\n' : 0x0a;
          let k = cell.indexOf(lf as never);
          while (k !== -1) {
            extra++;
            k = cell.indexOf(lf as never, k + 1);
          }
        }
        nextLine += 1 + extra;
      } else {
        nextLine++;
      }
      // (blank as JavaScript's trim has it: Unicode spaces too)
      if (rec.length === 1 && rec[0]!.toString().trim() === '') {
        builder.blankLine();
        return;
      }
      if (header === null) {
        setHeader((rec as (Buffer | string)[]).map((h) => h.toString().trim()));
        return;
      }
      releaseHeld(false);
      if (rec.length !== header.length) {
        st.held = { line, cells: rec.length, lines: nextLine - line };
        return;
      }
      for (let k = 0; k < absent.length; k++) builder.setMissing(absent[k]!);
      for (let c = 0; c < byColumn.length; c++) {
        const fs = byColumn[c]!;
        if (fs.length === 0) continue;
        const cell = rec[c]!;
        if (typeof cell === 'string') for (let k = 0; k < fs.length; k++) builder.setText(fs[k]!, cell, true);
        else for (let k = 0; k < fs.length; k++) builder.setTextBytes(fs[k]!, cell, 0, cell.length, true);
      }
      builder.finishRow(line);
    };

    const fail = (e: CsvErrorLike): never => {
      if (e.code === 'CSV_QUOTE_NOT_CLOSED') {
        // the file ends inside a quoted cell
        releaseHeld(false);
        const start = nextLine;
        // the file's last line, counting line feeds as everywhere else
        const end = parserLineBase + parserLfs + (lastByte === 0x0a ? 0 : 1);
        if (end - start <= 1 && header !== null) {
          builder.rejectRow('truncated', start, 'the file ends inside a quoted cell');
          throw new QuoteAtEnd();
        }
        throw dataError(
          `${file}:${at(start)}: a quote opened on line ${at(start)} is never closed; it swallows the rest of the file (${end - start + 1} lines) ` +
            `— ${rowsBefore()} rows read before it`,
        );
      }
      if (e.code === 'CSV_MAX_RECORD_SIZE') {
        throw dataError(`${file}:${at(nextLine)}: a CSV record longer than ${MAX_RECORD_BYTES / 1024 / 1024} MiB (an unclosed quote?) — ${rowsBefore()} rows read before it`);
      }
      // (csv-parse's own message counts lines from where it took over, in a part too; with the options
      // above no other error is known to come)
      throw dataError(`${file}:${at(e.lines === undefined ? nextLine : e.lines + parserLineBase)}: CSV error: ${e.message} — ${rowsBefore()} rows read before it`);
    };

    /** cell bounds of the current line (fast path) */
    let cs = new Int32Array(64);
    let ce = new Int32Array(64);
    /**
     * Reads the complete lines of buf from 0 (all of it when `final`: the file's last line, without a
     * newline) and returns where it stopped: the start of an incomplete last line, or of the first line
     * the fast path leaves to csv-parse (`fast` is then false).
     */
    let fast = !(part && (part.bom || part.quoted));
    const fastLines = (buf: Buffer, final: boolean): number => {
      const n = buf.length;
      let start = 0;
      while (start < n) {
        let nl = buf.indexOf(0x0a, start);
        if (nl < 0) {
          if (!final) return start;
          nl = n;
        }
        // a line: [start, end) without its LF (and CR of a CRLF)
        let end = nl;
        if (nl < n && end > start && buf[end - 1] === 0x0d) end--;
        else if (nl === n && end > start && buf[end - 1] === 0x0d) {
          fast = false;
          return start;
        }
        let cells = 0;
        let cellStart = start;
        let ascii = true;
        let white = true;
        for (let i = start; i < end; i++) {
          const c = buf[i]!;
          if (c === 0x2c) {
            if (cells + 1 >= cs.length) {
              const a = new Int32Array(cs.length * 2);
              a.set(cs);
              cs = a;
              const b = new Int32Array(ce.length * 2);
              b.set(ce);
              ce = b;
            }
            cs[cells] = cellStart;
            ce[cells++] = i;
            cellStart = i + 1;
            white = false;
          } else if (c === 0x22) {
            fast = false;
            return start;
          } else if (c >= 0x80) {
            ascii = false;
          } else if (white && c !== 0x20 && (c < 0x09 || c > 0x0d)) {
            white = false;
          }
        }
        cs[cells] = cellStart;
        ce[cells++] = end;
        start = nl + 1;
        if (!ascii || header === null) {
          const rec = new Array<Buffer>(cells);
          for (let c = 0; c < cells; c++) rec[c] = buf.subarray(cs[c]!, ce[c]!);
          handle(rec);
          continue;
        }
        const line = nextLine++;
        if (cells === 1 && white) {
          builder.blankLine();
          continue;
        }
        releaseHeld(false);
        if (cells !== header.length) {
          st.held = { line, cells };
          continue;
        }
        for (let k = 0; k < absent.length; k++) builder.setMissing(absent[k]!);
        for (let c = 0; c < byColumn.length; c++) {
          const fs = byColumn[c]!;
          for (let k = 0; k < fs.length; k++) builder.setTextBytes(fs[k]!, buf, cs[c]!, ce[c]!, true);
        }
        builder.finishRow(line);
      }
      return n;
    };
    /** the incomplete last line of the previous chunk (fast path) */
    let carry: Buffer | null = null;
    let first = part === undefined;
    const toParser = (rest: Buffer): void => {
      parserLineBase = nextLine - 1;
      if (!sawQuote && rest.includes(0x22)) sawQuote = true;
      feed(rest);
    };

    try {
      for await (const chunk of chunks) {
        if (chunk.length === 0) continue;
        lastByte = chunk[chunk.length - 1]!;
        if (fast) {
          // a BOM (or a chunk too short to tell) at the start: csv-parse reads the whole file
          if (first && (chunk.length < 3 || chunk[0] === 0xef)) fast = false;
          first = false;
        }
        if (fast) {
          const buf: Buffer = carry === null ? chunk : Buffer.concat([carry, chunk]);
          carry = null;
          const stop = fastLines(buf, false);
          if (fast && buf.length - stop > MAX_RECORD_BYTES) fast = false;
          if (fast) {
            if (stop < buf.length) carry = Buffer.from(buf.subarray(stop));
            const ready = builder.take();
            for (let k = 0; k < ready.length; k++) yield ready[k]!;
            onChunk();
            continue;
          }
          toParser(buf.subarray(stop));
        } else {
          if (!sawQuote && chunk.includes(0x22)) sawQuote = true;
          feed(chunk);
        }
        let rec: Buffer[] | string[] | null;
        while ((rec = parser.read() as Buffer[] | string[] | null) !== null) handle(rec);
        if (failure) fail(failure);
        const ready = builder.take();
        for (let k = 0; k < ready.length; k++) yield ready[k]!;
        onChunk();
      }
      if (fast && carry !== null) {
        const stop = fastLines(carry, true);
        if (!fast) toParser(carry.subarray(stop));
      }
      parser.end();
      try {
        for await (const rec of parser) handle(rec as Buffer[] | string[]);
      } catch (e) {
        fail(e as CsvErrorLike);
      }
      if (failure) fail(failure);
    } catch (e) {
      if (!(e instanceof QuoteAtEnd)) throw e;
    } finally {
      parser.destroy();
    }
    releaseHeld(true);
    this.lines = nextLine - 1;
    const ready = builder.take();
    for (let k = 0; k < ready.length; k++) yield ready[k]!;
  }
}

/** Internal signal: the file ended inside a quote, already counted as a truncated row. */
class QuoteAtEnd extends Error {}
