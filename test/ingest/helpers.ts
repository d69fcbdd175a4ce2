/** Shared by the ingest tests: a plan over the contract's fields and a reader that collects everything. */
import { fileURLToPath } from 'node:url';
import { readLogs, type LogReadOptions } from '../../src/ingest/index.js';
import type { FieldKind, FieldRequest, IngestAccount, ReadPlan } from '../../src/ingest/types.js';

export const LOGS = fileURLToPath(new URL('../../fixtures/logs/', import.meta.url));

export function field(name: string, kind: FieldKind, required = false, extra: Partial<FieldRequest> = {}): FieldRequest {
  return { name, source: name, kind, required, ...extra };
}

/** model, unit (user_id), request_id, and the contract's metric fields. */
export function contractPlan(models = ['champion', 'challenger']): ReadPlan {
  return {
    fields: [
      field('model', 'string', true),
      field('user_id', 'string', true),
      field('request_id', 'string'),
      field('ts', 'timestamp'),
      field('country', 'string'),
      field('prediction', 'label'),
      field('score', 'number'),
      field('label', 'label'),
      field('latency_ms', 'number'),
      field('error', 'flag', false, { truthyStrings: true }),
      field('converted', 'flag'),
    ],
    modelField: 'model',
    models,
    requestField: 'request_id',
  };
}

export interface Collected {
  account: IngestAccount;
  batches: number;
  /** model name per accepted row */
  model: string[];
  /** per column: numbers (NaN = missing) or strings (null = missing) per accepted row */
  columns: Record<string, (number | string | null)[]>;
  /** per label column: the numeric value per row */
  numeric: Record<string, number[]>;
}

export async function collect(inputs: string[], plan: ReadPlan, options: LogReadOptions = {}): Promise<Collected> {
  const read = readLogs(inputs, plan, options);
  const { batches, account, models } = read;
  const out: Collected = { account, batches: 0, model: [], columns: {}, numeric: {} };
  for await (const b of batches) {
    out.batches++;
    for (let i = 0; i < b.length; i++) out.model.push(models[b.model[i]!]!);
    for (const [name, col] of b.columns) {
      const dst = (out.columns[name] ??= []);
      if (col.kind === 'number') {
        for (let i = 0; i < b.length; i++) dst.push(col.values[i]!);
      } else {
        for (let i = 0; i < b.length; i++) {
          const c = col.codes[i]!;
          dst.push(c < 0 ? null : col.dict.values[c]!);
        }
        if (col.numeric) {
          const num = (out.numeric[name] ??= []);
          for (let i = 0; i < b.length; i++) num.push(col.numeric[i]!);
        }
      }
    }
  }
  // duplicates found once the read was done (lateDuplicates) are left out, as analyze's store does
  const drop = read.duplicates();
  if (drop !== null) {
    const gone = new Set(drop);
    const keep = <T>(a: T[]): T[] => a.filter((_, i) => !gone.has(i));
    out.model = keep(out.model);
    for (const k of Object.keys(out.columns)) out.columns[k] = keep(out.columns[k]!);
    for (const k of Object.keys(out.numeric)) out.numeric[k] = keep(out.numeric[k]!);
  }
  return out;
}

/** The account without what depends on the encoding (files, line numbers). */
export function portable(a: IngestAccount): unknown {
  const rejections: Record<string, number> = {};
  for (const [k, v] of Object.entries(a.rejections)) rejections[k] = v!.count;
  return {
    rowsSeen: a.rowsSeen,
    rowsRead: a.rowsRead,
    rowsRejected: a.rowsRejected,
    rejections,
    unknownModels: a.unknownModels,
    missing: a.missing,
    invalid: a.invalid,
    blankLines: a.blankLines,
  };
}

/**
 * Apply random byte edits [kind, position, byte] to a log: 0 deletes a byte, 1 inserts one,
 * 2 overwrites one, 3 cuts the file short there. Shared by the property tests.
 */
export function corrupt(src: Buffer, ops: [number, number, number][]): Buffer {
  let b = Buffer.from(src);
  for (const [kind, pos, byte] of ops) {
    const p = b.length === 0 ? 0 : pos % b.length;
    if (kind === 0) b = Buffer.concat([b.subarray(0, p), b.subarray(p + 1)]);
    else if (kind === 1) b = Buffer.concat([b.subarray(0, p), Buffer.from([byte]), b.subarray(p)]);
    else if (kind === 2) b[p] = byte;
    else b = b.subarray(0, p);
  }
  return b;
}

/** The bytes as an async stream of chunks (what a reader is given). */
export async function* iterate(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield c;
}

/** The bytes cut at the given positions (each taken modulo the length; repeats and order do not matter). */
export function chunked(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < buf.length) out.push(buf.subarray(prev));
  return out;
}
