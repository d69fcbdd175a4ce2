/**
 * The reading thread of a threaded read (see readThreaded in index.ts). It parses the files (JSONL
 * scanning, CSV splitting, Arrow buffers), types and checks each row, and posts each sealed RawBatch
 * to the main thread, which finds the duplicates and dictionary-encodes the strings (encode.ts) while
 * this thread parses the next rows. The batch's arrays are transferred, not copied.
 *
 * With `part`, it reads only bytes [start, end) of one JSONL or CSV file (a split read: another thread
 * reads the other part at the same time; a gzipped JSONL file's part is a range of its inflated bytes);
 * its lines are numbered from the part's start, and the main thread renumbers them. In a split read of
 * several files, its `sources` are the later files, read whole. A CSV file's second part is read with the header and state the first
 * part starts (part.csv), and its errors are worded once the first part is done (part.ts: PartBefore,
 * readPart).
 *
 * Messages: {type: 'batch', raw, bytes, rows}, {type: 'progress', bytes, rows},
 * {type: 'done', account, lines, lastHeld}, {type: 'error', exit, message, rows?}; from the main
 * thread, {type: 'recycle', kit}: a batch's arrays to write the next batches in (BatchBuilder.recycle). Flow control: at most
 * `maxInFlight` batches wait in the main thread; past that this thread blocks on the shared counter of
 * batches consumed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newAccount } from './account.js';
import { BatchBuilder, type RawBatch, type RecycledBatch } from './builder.js';
import { lateKeysOf } from './encode.js';
import { readSources } from './index.js';
import type { Source } from './open.js';
import { partError, readPart, type PartRange } from './part.js';
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
  /** read only this part of sources[0] (part.ts) */
  part?: PartRange;
  /** with a CSV file's second part: what the first part read, once it is done (PartBefore) */
  before?: SharedArrayBuffer;
  /** work out each batch's late-duplicate keys here (RawBatch.late), for the main thread's LateDuplicates */
  lateKeys?: boolean;
}

export const MAX_IN_FLIGHT = 6;

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
  inputOf(port).then((input) => run(port, input)).catch((e: unknown) => port.postMessage(partError(e)));
}
