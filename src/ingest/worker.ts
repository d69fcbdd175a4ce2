/**
 * The reading thread of a threaded read (see readOnWorkers in index.ts). It parses the files (JSONL
 * scanning, CSV splitting, Arrow buffers), types and checks each row, and posts each sealed RawBatch
 * to the main thread, which finds the duplicates and dictionary-encodes the strings (encode.ts) while
 * this thread parses the next rows. The batch's arrays are transferred, not copied.
 *
 * With `part`, it reads only bytes [start, end) of one plain JSONL or CSV file (a split read: another
 * worker reads the other part at the same time); its lines are numbered from the part's start, and the
 * main thread renumbers them. A CSV file's second part is read with the header and state the first
 * part starts (part.csv), and its errors are worded once the first part is done (PartBefore).
 *
 * Messages: {type: 'batch', raw, bytes, rows}, {type: 'progress', bytes, rows},
 * {type: 'done', account, lines, lastHeld}, {type: 'error', exit, message, rows?}; from the main
 * thread, {type: 'recycle', kit}: a batch's arrays to write the next batches in (BatchBuilder.recycle). Flow control: at most
 * `maxInFlight` batches wait in the main thread; past that this thread blocks on the shared counter of
 * batches consumed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CliError, dataError } from '../cli/exitCode.js';
import { newAccount } from './account.js';
import { BatchBuilder, type RawBatch, type RecycledBatch } from './builder.js';
import { lateKeysOf } from './encode.js';
import { PartBefore, readSources } from './index.js';
import type { CsvPart, CsvReader } from './csv.js';
import { JsonlReader } from './jsonl.js';
import { openRange, type ByteSource, type CsvCut, type Source } from './open.js';
import type { PrestartData } from './prestart.js';
import type { ReadOptions, ReadPlan } from './types.js';

export interface WorkerInput {
  sources: Source[];
  plan: ReadPlan;
  options: Pick<ReadOptions, 'strict' | 'maxLocations' | 'batchSize'>;
  /** Int32Array over it: [0] = batches the main thread has consumed */
  consumed: SharedArrayBuffer;
  /** batches posted and not yet consumed before this thread waits (default MAX_IN_FLIGHT) */
  maxInFlight?: number;
  /**
   * read only bytes [start, end) (end null: to the end) of sources[0], a plain JSONL or CSV file that
   * starts a line (a record) at `start`; a CSV file's second part comes with `csv` (see CsvPart)
   */
  part?: { start: number; end: number | null; format: 'jsonl' | 'csv'; csv?: Omit<CsvCut, 'cut'> };
  /** with a CSV file's second part: what the first part read, once it is done (PartBefore) */
  before?: SharedArrayBuffer;
  /** work out each batch's late-duplicate keys here (RawBatch.late), for the main thread's LateDuplicates */
  lateKeys?: boolean;
}

export const MAX_IN_FLIGHT = 6;

/**
 * An error of a part's read, for the main thread: `message` is complete except, when `rows` is given,
 * the rows read before the error, which the main thread counts from the file's start.
 */
export type WorkerError = { type: 'error'; exit: CliError['exit'] | 'internal'; message: string; stack?: string; rows?: number };

class PartReadError extends Error {
  constructor(
    message: string,
    readonly rows: number,
  ) {
    super(message);
  }
}

async function run(port: NonNullable<typeof parentPort>, input: WorkerInput): Promise<void> {
  const account = newAccount(input.options.maxLocations);
  const consumed = new Int32Array(input.consumed);
  const maxInFlight = input.maxInFlight ?? MAX_IN_FLIGHT;
  let posted = 0;
  let bytes = 0;
  let lastProgress = 0;
  const sink = (raw: RawBatch): void => {
    for (;;) {
      const c = Atomics.load(consumed, 0);
      if (posted - c < maxInFlight) break;
      Atomics.wait(consumed, 0, c);
    }
    if (rf >= 0) raw.late = lateKeysOf(raw, builder.fields, rf);
    const transfer = new Set<ArrayBuffer>();
    const add = (a: { buffer: ArrayBufferLike } | null): void => {
      if (a && a.buffer instanceof ArrayBuffer) transfer.add(a.buffer);
    };
    add(raw.late?.keys ?? null);
    add(raw.late?.missing ?? null);
    add(raw.model);
    add(raw.lines);
    raw.nums.forEach(add);
    for (const t of raw.texts) {
      if (t === null) continue;
      add(t.bytes);
      add(t.start);
      add(t.len);
    }
    posted++;
    port.postMessage({ type: 'batch', raw: { ...raw, models: [...raw.models] }, bytes, rows: account.rowsSeen }, [...transfer]);
  };
  const builder = new BatchBuilder(input.plan, account, input.options, sink);
  // the request field, when this thread works out the late-duplicate keys
  const rf = input.lateKeys === true ? builder.rf : -1;
  // a batch's arrays, handed back by the main thread once it is done with them
  const onMessage = (m: { type: string; kit?: RecycledBatch }): void => {
    if (m.type === 'recycle' && m.kit) builder.recycle(m.kit);
  };
  port.on('message', onMessage);
  const report = (b: number): void => {
    bytes = b;
    const now = Date.now();
    if (now - lastProgress >= 100) {
      lastProgress = now;
      port.postMessage({ type: 'progress', bytes, rows: account.rowsSeen });
    }
  };
  let end = { lines: 0, lastHeld: false };
  if (input.part) {
    end = await readPart(input.sources[0]!, input.part, input.before, builder, report);
  } else {
    for await (const _ of readSources(input.sources, builder, report)) {
      // batches go to the sink; nothing is yielded here
    }
  }
  port.off('message', onMessage);
  port.postMessage({ type: 'done', account, ...end });
}

/**
 * Read a part of a plain JSONL or CSV file into the builder (as readSource would the whole); returns
 * its line count and, for CSV, whether a row with the wrong cell count ended it (CsvReader.lastHeld).
 */
async function readPart(
  src: Source,
  part: NonNullable<WorkerInput['part']>,
  before: SharedArrayBuffer | undefined,
  builder: BatchBuilder,
  report: (bytes: number) => void,
): Promise<{ lines: number; lastHeld: boolean }> {
  const path = src.path;
  builder.beginFile(path, part.format, false, src.size);
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
    bytes = await openRange(path, part.start, part.end, { reuse: part.format === 'jsonl' });
  } catch (e) {
    throw dataError(`${path}: cannot read (${(e as Error).message})`);
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
    if (e instanceof CliError) throw e;
    const message = `${path}: cannot read (${(e as Error).message})`;
    // a CSV part counts the rows before it as a read of the whole file would (CsvReader.rowsBefore)
    if (csvPart) throw dataError(`${message} — ${(reader as CsvReader).rowsBefore()} rows read before the error`);
    throw new PartReadError(message, builder.fileRows);
  } finally {
    bytes.close();
  }
  report(bytes.bytesRead());
  return { lines: reader.lines, lastHeld: reader instanceof JsonlReader ? false : reader.lastHeld };
}

/** This thread's input: its workerData, or, for a thread started ahead (prestart.ts), its first message. */
async function inputOf(port: NonNullable<typeof parentPort>): Promise<WorkerInput> {
  const data = workerData as WorkerInput | PrestartData;
  if (!('prestarted' in data)) return data;
  // while the main thread gets ready: load the reader the input needs (the JSONL reader is loaded)
  if (data.warm === 'arrow') void import('./arrow.js').catch(() => undefined);
  else if (data.warm === 'csv') void import('./csv.js').catch(() => undefined);
  return new Promise((resolve) => {
    const first = (m: { type: string; input?: WorkerInput }): void => {
      if (m.type !== 'input' || !m.input) return;
      port.off('message', first);
      resolve(m.input);
    };
    port.on('message', first);
  });
}

if (parentPort) {
  const port = parentPort;
  inputOf(port).then((input) => run(port, input)).catch((e: unknown) => {
    let m: WorkerError;
    if (e instanceof PartReadError) m = { type: 'error', exit: 'data', message: e.message, rows: e.rows };
    else if (e instanceof CliError) m = { type: 'error', exit: e.exit, message: e.message };
    else m = { type: 'error', exit: 'internal', message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack };
    port.postMessage(m);
  });
}
