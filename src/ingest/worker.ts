/**
 * The reading thread of a threaded read (see readThreaded in index.ts). It parses the files (JSONL
 * scanning, CSV splitting, Arrow buffers), types and checks each row, and posts each sealed RawBatch
 * to the main thread, which finds the duplicates and dictionary-encodes the strings (encode.ts) while
 * this thread parses the next rows. The batch's arrays are transferred, not copied.
 *
 * Messages: {type: 'batch', raw, bytes, rows}, {type: 'progress', bytes, rows},
 * {type: 'done', account}, {type: 'error', exit, message}. Flow control: at most MAX_IN_FLIGHT batches
 * wait in the main thread; past that this thread blocks on the shared counter of batches consumed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CliError } from '../cli/exitCode.js';
import { newAccount } from './account.js';
import { BatchBuilder, type RawBatch } from './builder.js';
import { readSources } from './index.js';
import type { Source } from './open.js';
import type { ReadOptions, ReadPlan } from './types.js';

export interface WorkerInput {
  sources: Source[];
  plan: ReadPlan;
  options: Pick<ReadOptions, 'strict' | 'maxLocations' | 'batchSize'>;
  /** Int32Array over it: [0] = batches the main thread has consumed */
  consumed: SharedArrayBuffer;
}

export const MAX_IN_FLIGHT = 6;

async function run(port: NonNullable<typeof parentPort>, input: WorkerInput): Promise<void> {
  const account = newAccount(input.options.maxLocations);
  const consumed = new Int32Array(input.consumed);
  let posted = 0;
  let bytes = 0;
  let lastProgress = 0;
  const sink = (raw: RawBatch): void => {
    for (;;) {
      const c = Atomics.load(consumed, 0);
      if (posted - c < MAX_IN_FLIGHT) break;
      Atomics.wait(consumed, 0, c);
    }
    const transfer = new Set<ArrayBuffer>();
    const add = (a: { buffer: ArrayBufferLike } | null): void => {
      if (a && a.buffer instanceof ArrayBuffer) transfer.add(a.buffer);
    };
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
  const report = (b: number): void => {
    bytes = b;
    const now = Date.now();
    if (now - lastProgress >= 100) {
      lastProgress = now;
      port.postMessage({ type: 'progress', bytes, rows: account.rowsSeen });
    }
  };
  for await (const _ of readSources(input.sources, builder, report)) {
    // batches go to the sink; nothing is yielded here
  }
  port.postMessage({ type: 'done', account });
}

if (parentPort) {
  const port = parentPort;
  run(port, workerData as WorkerInput).catch((e: unknown) => {
    if (e instanceof CliError) port.postMessage({ type: 'error', exit: e.exit, message: e.message });
    else port.postMessage({ type: 'error', exit: 'internal', message: (e as Error)?.message ?? String(e), stack: (e as Error)?.stack });
  });
}
