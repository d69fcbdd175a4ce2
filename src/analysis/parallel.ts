/**
 * Part of the segments' statistics on a second thread. `evaluateParallel` (evaluate.ts) groups the
 * rows and computes what needs the sorted values here (quantile metrics, shadow checks: one grouped
 * sort per field serves every segment) while a SegmentWorker groups them too and computes every
 * segment's metrics on per-unit sums: the two parts share nothing, and on the bench log they take
 * about as long as each other.
 *
 * What crosses: the column store's arrays live in shared memory (aggregate.ts), so they are shared,
 * not copied. Dictionaries cross as their size only, except the segment fields' (their values name
 * and order the segments): no statistic reads a unit's or a request's text (a worker that tried would
 * fail, and the segments would then be computed on the main thread). The results are plain data,
 * structured-cloned back.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Dictionary } from '../ingest/types.js';
import type { ColumnStore, StoredColumn } from './aggregate.js';
import type { PartResults, SegmentInput, SegmentRunner } from './evaluate.js';

type WireColumn =
  | { kind: 'number'; values: Float64Array }
  | { kind: 'dict'; codes: Int32Array; numeric: Float64Array | null; size: number; values: string[] | null };

/** A SegmentInput as it is posted to the worker. */
export interface WireWork extends Omit<SegmentInput, 'store'> {
  store: { length: number; model: Uint8Array; columns: [string, WireColumn][] };
}

export function toWire(work: SegmentInput): WireWork {
  const columns: [string, WireColumn][] = [];
  for (const [name, c] of work.store.columns) {
    const values = c.kind === 'dict' && work.spec.segments.includes(name) ? c.dict.values : null;
    columns.push([name, c.kind === 'number' ? c : { kind: 'dict', codes: c.codes, numeric: c.numeric, size: c.dict.size, values }]);
  }
  return { ...work, store: { length: work.store.length, model: work.store.model, columns } };
}

export function fromWire(wire: WireWork): SegmentInput {
  const columns = new Map<string, StoredColumn>();
  for (const [name, c] of wire.store.columns) {
    if (c.kind === 'number') {
      columns.set(name, c);
      continue;
    }
    const dict = c.values ? listed(c.values) : sizeOnly(name, c.size);
    columns.set(name, { kind: 'dict', codes: c.codes, numeric: c.numeric, dict });
  }
  const store: ColumnStore = { length: wire.store.length, model: wire.store.model, columns };
  return { ...wire, store };
}

function listed(values: string[]): Dictionary {
  return { values, index: new Map(values.map((v, i) => [v, i])), size: values.length };
}

function sizeOnly(name: string, size: number): Dictionary {
  const absent = (): never => {
    throw new Error(`internal: the values of "${name}" are not available on the segment worker`);
  };
  return {
    get values(): string[] {
      return absent();
    },
    get index(): Map<string, number> {
      return absent();
    },
    size,
  };
}

/**
 * The worker's compiled module: from src/analysis (tests) and dist/analysis alike it is
 * dist/analysis/segmentWorker.js. Without a build there is no worker and evaluation stays in one thread.
 */
const WORKER_URL = new URL('../../dist/analysis/segmentWorker.js', import.meta.url);

type Reply = { ok: true; results: PartResults } | { ok: false; message: string; stack?: string };

/**
 * A worker thread that computes a part of the segments' statistics on request (it loads its modules,
 * ~0.1 s, before the first request is served); `close` it when done. It does not keep the process
 * alive between requests.
 */
export class SegmentWorker implements SegmentRunner {
  /** requests answered, and the last failure (for tests and diagnostics) */
  served = 0;
  lastError: Error | null = null;
  private busy: { resolve: (r: PartResults) => void; reject: (e: Error) => void } | null = null;

  private constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (m: Reply) => {
      const b = this.settle();
      if (!b) return;
      if (m.ok) {
        this.served++;
        b.resolve(m.results);
      } else {
        const e = new Error(`segment worker: ${m.message}`);
        if (m.stack) e.stack = m.stack;
        this.fail(b, e);
      }
    });
    worker.on('error', (e: Error) => {
      const b = this.settle();
      if (b) this.fail(b, e);
      else this.lastError = e;
    });
    worker.on('exit', (code) => {
      const b = this.settle();
      if (b) this.fail(b, new Error(`segment worker stopped (exit code ${code})`));
    });
  }

  /** A started worker, or null when its compiled module is not there. */
  static start(): SegmentWorker | null {
    if (!existsSync(fileURLToPath(WORKER_URL))) return null;
    try {
      return new SegmentWorker(new Worker(WORKER_URL));
    } catch {
      return null;
    }
  }

  run(input: SegmentInput): Promise<PartResults> {
    if (this.busy) return Promise.reject(new Error('internal: the segment worker is busy'));
    return new Promise<PartResults>((resolve, reject) => {
      this.busy = { resolve, reject };
      // keep the process alive while a request is out
      this.worker.ref();
      try {
        this.worker.postMessage({ work: toWire(input) });
      } catch (e) {
        const b = this.settle();
        if (b) this.fail(b, e as Error);
      }
    });
  }

  close(): void {
    const b = this.settle();
    if (b) b.reject(new Error('segment worker closed'));
    this.worker.removeAllListeners();
    void this.worker.terminate();
  }

  private settle(): { resolve: (r: PartResults) => void; reject: (e: Error) => void } | null {
    const b = this.busy;
    this.busy = null;
    this.worker.unref();
    return b;
  }

  private fail(b: { reject: (e: Error) => void }, e: Error): void {
    this.lastError = e;
    b.reject(e);
  }
}
