/**
 * One part of one JSON Lines (plain or gzipped) or CSV file, for a split read (index.ts readThreaded): what the
 * parts before it read (PartBefore, told across threads), the read of the part (readPart: on a
 * reading thread, worker.ts, or a JSON Lines file's first part in the main thread, index.ts
 * readPartHere), and what stops it, as the message a reading thread posts (WorkerError, partError).
 */
import { CliError, dataError } from '../cli/exitCode.js';
import type { BatchBuilder } from './builder.js';
import type { CsvPart, CsvReader } from './csv.js';
import { JsonlReader } from './jsonl.js';
import { cannotRead, openGzipRange, openRange, readErrorText, type ByteSource, type CsvCut, type Source } from './open.js';

/**
 * Bytes [start, end) (end null: to the end) of a JSONL or CSV file that starts a line (a
 * record) at `start`; a CSV file's second part comes with `csv` (see CsvPart).
 */
export interface PartRange {
  start: number;
  end: number | null;
  format: 'jsonl' | 'csv';
  csv?: Omit<CsvCut, 'cut'>;
  /**
   * a gzipped JSON Lines file: start and end are offsets in its inflated bytes, and the part starts
   * (ends) just after the first newline at or past them (open.ts openGzipRange)
   */
  gzip?: boolean;
}

/**
 * An error of a part's read, for the main thread: `message` is complete except, when `rows` is given,
 * the rows read before the error, which the main thread counts from the file's start.
 */
export type WorkerError = { type: 'error'; exit: CliError['exit'] | 'internal'; message: string; stack?: string; rows?: number };

/** A read error of a part, with the rows of the part read before it (the main thread adds the parts before). */
class PartReadError extends Error {
  constructor(
    message: string,
    readonly rows: number,
  ) {
    super(message);
  }
}

/** Thrown by a readPart caller's `report` to stop the read (the read it belongs to is over). */
export class PartStopped extends Error {
  constructor() {
    super('the read is over');
  }
}

/** What stopped a part's read, as the message a reading thread posts. */
export function partError(e: unknown): WorkerError {
  if (e instanceof PartReadError) return { type: 'error', exit: 'data', message: e.message, rows: e.rows };
  if (e instanceof CliError) return { type: 'error', exit: e.exit, message: e.message };
  return { type: 'error', exit: 'internal', message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
}

/**
 * What the parts before a split read's part read, told by the main thread once they are done: an
 * Int32 state at byte 0 (0: not yet, 1: told, 2: the read is over) and, from byte 8, three Float64s:
 * lines, rows, and 1 when the last of them was a row with the wrong cell count held to the end.
 */
export class PartBefore {
  static readonly BYTES = 32;
  private readonly state: Int32Array;
  private readonly values: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.state = new Int32Array(buffer, 0, 1);
    this.values = new Float64Array(buffer, 8, 3);
  }

  /** (main thread) the parts before are done */
  tell(lines: number, rows: number, lastHeld: boolean): void {
    this.values[0] = lines;
    this.values[1] = rows;
    this.values[2] = lastHeld ? 1 : 0;
    Atomics.store(this.state, 0, 1);
    Atomics.notify(this.state, 0);
  }

  /** (main thread) the read is over: a worker waiting here stops waiting */
  release(): void {
    if (Atomics.compareExchange(this.state, 0, 0, 2) === 0) Atomics.notify(this.state, 0);
  }

  /** (worker) wait until told; throws when the read ended without telling */
  wait(): { lines: number; rows: number; lastHeld: boolean } {
    while (Atomics.load(this.state, 0) === 0) Atomics.wait(this.state, 0, 0);
    if (Atomics.load(this.state, 0) !== 1) throw new Error('the read ended before the first part was done');
    return { lines: this.values[0]!, rows: this.values[1]!, lastHeld: this.values[2] === 1 };
  }
}

/**
 * Read a part of a JSONL (plain or gzipped) or CSV file into the builder (as readSource would the whole); returns
 * its line count and, for CSV, whether a row with the wrong cell count ended it (CsvReader.lastHeld).
 * `report` gets the part's bytes read after each chunk; a PartStopped it throws ends the read (thrown
 * on as it is). Other errors: a CliError as it is, anything else as PartReadError (or, for a CSV part,
 * a data error counting the rows before it).
 */
export async function readPart(
  src: Source,
  part: PartRange,
  before: SharedArrayBuffer | undefined,
  builder: BatchBuilder,
  report: (bytes: number) => void,
): Promise<{ lines: number; lastHeld: boolean }> {
  const path = src.path;
  builder.beginFile(path, part.format, part.gzip === true, src.size);
  let csvPart: CsvPart | undefined;
  if (part.csv) {
    if (before === undefined) throw new Error('a CSV part without PartBefore');
    const told = new PartBefore(before);
    csvPart = { ...part.csv, before: () => told.wait() };
  }
  const reader: JsonlReader | CsvReader = part.format === 'jsonl' ? new JsonlReader(builder) : new (await import('./csv.js')).CsvReader(builder);
  let bytes: ByteSource;
  try {
    // the JSONL reader copies what it keeps of a chunk: one buffer for every chunk
    bytes = part.gzip === true ? openGzipRange(path, part.start, part.end) : await openRange(path, part.start, part.end, { reuse: part.format === 'jsonl' });
  } catch (e) {
    throw dataError(cannotRead(path, e));
  }
  const onChunk = (): void => report(bytes.bytesRead());
  try {
    const batches = reader instanceof JsonlReader ? reader.read(bytes.chunks, onChunk, { bom: part.start === 0 }) : reader.read(bytes.chunks, path, onChunk, csvPart);
    for await (const _ of batches) {
      // batches go to the sink
    }
    for (const _ of builder.finish()) {
      // likewise
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof PartStopped) throw e;
    const message = readErrorText(path, e);
    // a CSV part counts the rows before it as a read of the whole file would (CsvReader.rowsBefore)
    if (csvPart) throw dataError(`${message} — ${(reader as CsvReader).rowsBefore()} rows read before the error`);
    throw new PartReadError(message, builder.fileRows);
  } finally {
    bytes.close();
  }
  report(bytes.bytesRead());
  return { lines: reader.lines, lastHeld: reader instanceof JsonlReader ? false : reader.lastHeld };
}
