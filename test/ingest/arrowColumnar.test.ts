/**
 * The Arrow reader types a record batch a column at a time (arrow.ts Columns, BatchBuilder.acceptRows)
 * and sends only the rows it marks through the row-by-row way. Its promise: the same rows, batches,
 * dictionaries, account and errors as the row-by-row way. Checked here on seeded random Arrow logs
 * with every kind of value that is rejected or missing, in the column types that take either way,
 * under several plans and options, by reading each file both ways and comparing everything.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Bool,
  Dictionary,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  Int8,
  LargeUtf8,
  Message,
  MessageHeader,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  Uint32,
  Uint64,
  Utf8,
  makeData,
  tableToIPC,
  vectorFromArray,
  type Data,
  type DataType,
} from 'apache-arrow';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ArrowReader, BodyPool, bodyBuffers, decimalText } from '../../src/ingest/arrow.js';
import { BatchBuilder } from '../../src/ingest/builder.js';
import { readLogs, type LogReadOptions } from '../../src/ingest/index.js';
import type { ReadPlan } from '../../src/ingest/types.js';
import { contractPlan, field, LOGS } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'abtool-arrow-columnar-'));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

type Pick = <T>(xs: readonly T[]) => T;

/** One variant of the log: which Arrow type each column has (some send every row the row-by-row way). */
interface Variant {
  model: 'utf8' | 'dict';
  user: 'utf8' | 'dict' | 'int64';
  ts: 'timestamp' | 'float64' | 'int64';
  latency: 'float64' | 'float32' | 'utf8';
  error: 'bool' | 'int8' | 'utf8';
  converted: 'int8' | 'bool';
  label: 'int8' | 'utf8';
  /** how often a value is odd (null, empty, NaN, unknown model...) */
  odd: number;
}

function column(values: unknown[], type: DataType) {
  return vectorFromArray(values, type);
}

/** A random log of `n` rows in `batches` record batches, as an Arrow file and stream. */
/** `batches`: how many batches of (about) equal size, or the rows of each batch. */
function makeLog(name: string, seed: number, n: number, batches: number | number[], v: Variant): { file: string; stream: string } {
  const r = rng(seed);
  const pick: Pick = (xs) => xs[Math.floor(r() * xs.length)]!;
  const odd = (): boolean => r() < v.odd;
  const rows = Array.from({ length: n }, (_, i) => {
    const model = odd() ? pick([null, '', 'shadow', 'Champion']) : pick(['champion', 'challenger']);
    const user = odd() ? pick([null, '']) : `u${Math.floor(r() * 50)}`;
    // a few request ids repeat: duplicates
    const request = odd() ? pick([null, `q${Math.max(0, i - 3)}`]) : `q${i}`;
    const ts = odd() ? null : 1_767_000_000_000 + i * 1000 + Math.floor(r() * 999);
    const score = odd() ? pick([null, NaN, Infinity, -Infinity]) : Math.round(r() * 1e4) / 1e4;
    const latency = odd() ? pick([null, NaN]) : Math.round(r() * 5000) / 100;
    const error = odd() ? pick([null, 2, 'timeout', 'false', '']) : r() < 0.1;
    const converted = odd() ? pick([null, 2, -1]) : r() < 0.2 ? 1 : 0;
    const label = odd() ? pick([null, 'NaN', 'inf', '1e999', '1.0', 'true', '']) : pick(['0', '1']);
    const prediction = odd() ? pick([null, '', 'NaN', '-Infinity', '2.50', '1e400']) : pick(['click', 'skip']);
    const country = odd() ? pick([null, '']) : pick(['BR', 'DE', 'US']);
    return { model, user, request, ts, score, latency, error, converted, label, prediction, country };
  });
  const str = (x: unknown): string | null => (x === null ? null : String(x));
  const num = (x: unknown): number | null => (typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : null);
  const big = (x: number | null): bigint | null => (x === null ? null : BigInt(Math.round(x)));
  const utf8Dict = new Dictionary(new Utf8(), new Int32());
  const table = new Table({
    ts:
      v.ts === 'timestamp'
        ? column(rows.map((x) => x.ts), new TimestampMillisecond())
        : v.ts === 'int64'
          ? column(rows.map((x) => big(x.ts)), new Int64())
          : column(rows.map((x) => x.ts), new Float64()),
    request_id: column(rows.map((x) => x.request), new Utf8()),
    user_id:
      v.user === 'int64'
        ? column(rows.map((x) => (x.user === null || x.user === '' ? null : BigInt(x.user.slice(1)))), new Int64())
        : column(rows.map((x) => x.user), v.user === 'dict' ? utf8Dict : new Utf8()),
    model: column(rows.map((x) => x.model), v.model === 'dict' ? new Dictionary(new Utf8(), new Int32()) : new Utf8()),
    country: column(rows.map((x) => x.country), new Dictionary(new Utf8(), new Int8())),
    prediction: column(rows.map((x) => x.prediction), new Utf8()),
    score: column(rows.map((x) => x.score), new Float64()),
    label: v.label === 'int8' ? column(rows.map((x) => num(x.label === null ? null : Number(x.label) === 1 ? 1 : 0)), new Int8()) : column(rows.map((x) => x.label), new Utf8()),
    latency_ms:
      v.latency === 'utf8'
        ? column(rows.map((x) => str(x.latency)), new Utf8())
        : column(rows.map((x) => x.latency), v.latency === 'float32' ? new Float32() : new Float64()),
    error:
      v.error === 'bool'
        ? column(rows.map((x) => (typeof x.error === 'boolean' ? x.error : x.error === null ? null : true)), new Bool())
        : v.error === 'int8'
          ? column(rows.map((x) => num(x.error)), new Int8())
          : column(rows.map((x) => str(x.error)), new Utf8()),
    converted: v.converted === 'bool' ? column(rows.map((x) => (x.converted === null ? null : x.converted === 1)), new Bool()) : column(rows.map((x) => x.converted), new Int8()),
  });
  const cuts = Array.isArray(batches) ? [0, ...batches.map((_, k) => batches.slice(0, k + 1).reduce((a, b) => a + b, 0))] : Array.from({ length: batches + 1 }, (_, k) => Math.round((k * n) / batches));
  const cut = new Table(cuts.slice(1).flatMap((end, k) => table.slice(cuts[k], end).batches));
  const file = join(tmp, `${name}.arrow`);
  const stream = join(tmp, `${name}.arrows`);
  writeFileSync(file, tableToIPC(cut, 'file'));
  writeFileSync(stream, tableToIPC(cut, 'stream'));
  return { file, stream };
}

function batchOf(cols: Record<string, Data>, n: number): RecordBatch {
  const schema = new Schema(Object.entries(cols).map(([k, d]) => new Field(k, d.type, true)));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children: Object.values(cols) }));
}

const utf8 = (xs: (string | null)[]): Data => vectorFromArray(xs, new Utf8()).data[0]!;

/** A utf8 column from raw bytes (which need not be valid UTF-8). */
function rawUtf8(values: number[][]): Data {
  const offsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (offsets[i + 1] = offsets[i]! + v.length));
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data: Uint8Array.from(values.flat()) });
}

function writeBatches(name: string, batches: RecordBatch[]): string {
  const path = join(tmp, `${name.replace(/[^a-z0-9-]+/gi, '-')}.arrow`);
  writeFileSync(path, tableToIPC(new Table(batches), 'file'));
  return path;
}

/** Everything a read gives, in plain values: every batch's columns (strings decoded), the account, or the error. */
async function readAll(path: string, plan: ReadPlan, options: LogReadOptions, columnar: boolean): Promise<unknown> {
  ArrowReader.columnar = columnar;
  const read = readLogs([path], structuredClone(plan), { threads: false, ...options });
  const batches: unknown[] = [];
  try {
    for await (const b of read.batches) {
      const cols: Record<string, unknown> = {};
      for (const [name, col] of b.columns) {
        cols[name] =
          col.kind === 'number'
            ? Array.from(col.values, (x) => (Object.is(x, -0) ? '-0' : x))
            : { values: Array.from(col.codes, (c) => (c < 0 ? null : col.dict.values[c])), codes: Array.from(col.codes), numeric: col.numeric ? Array.from(col.numeric) : null };
      }
      batches.push({ n: b.length, model: Array.from(b.model), cols });
    }
  } catch (e) {
    return { error: (e as Error).message, exit: (e as { exit?: string }).exit, account: read.account, models: read.models };
  }
  return { batches, account: read.account, models: read.models, duplicates: read.duplicates() };
}

const plain: Variant = { model: 'utf8', user: 'utf8', ts: 'timestamp', latency: 'float64', error: 'bool', converted: 'int8', label: 'utf8', odd: 0 };

const variants: [string, Variant][] = [
  ['clean', plain],
  ['a few odd values', { ...plain, odd: 0.02 }],
  ['many odd values', { ...plain, odd: 0.3 }],
  ['dictionaries', { ...plain, model: 'dict', user: 'dict', odd: 0.05 }],
  ['int64 and float32', { ...plain, ts: 'int64', latency: 'float32', error: 'int8', converted: 'bool', odd: 0.05 }],
  ['float timestamps', { ...plain, ts: 'float64', odd: 0.05 }],
  ['types that go row by row', { ...plain, user: 'int64', latency: 'utf8', error: 'utf8', label: 'int8', odd: 0.05 }],
];

/** The contract plan (with the shadow stage's prediction label) and a narrower one with a column missing. */
const plans: [string, ReadPlan][] = [
  ['contract plan', contractPlan()],
  [
    'a plan with an absent column and a required label',
    {
      fields: [field('model', 'string', true), field('user_id', 'string', true), field('request_id', 'string'), field('prediction', 'label', true), field('no_such_column', 'number'), field('converted', 'flag')],
      modelField: 'model',
      models: ['champion', 'challenger'],
      requestField: 'request_id',
    },
  ],
  ['any model', { ...contractPlan(), acceptAnyModel: true }],
];

describe('Arrow: typing a column at a time gives what typing row by row gives', () => {
  afterEach(() => {
    ArrowReader.columnar = true;
  });

  variants.forEach(([name, v], k) => {
    const log = makeLog(`v${k}`, 1000 + k, 3000, 3, v);
    it.each(plans)(`${name}, %s`, async (_p, plan) => {
      for (const path of [log.file, log.stream]) {
        for (const options of [{ batchSize: 777 }, { batchSize: 16384, lateDuplicates: true }] as LogReadOptions[]) {
          const columnar = await readAll(path, plan, options, true);
          const rows = await readAll(path, plan, options, false);
          expect(columnar).toEqual(rows);
        }
      }
    });
    it(`${name}: --strict stops at the same row with the same error`, async () => {
      const columnar = await readAll(log.file, contractPlan(), { strict: true }, true);
      const rows = await readAll(log.file, contractPlan(), { strict: true }, false);
      expect(columnar).toEqual(rows);
    });
  });

  it('the columnar way is taken, for runs of rows between the rows it marks', async () => {
    const log = makeLog('spy', 11, 2000, 2, { ...plain, odd: 0.02 });
    const spy = vi.spyOn(BatchBuilder.prototype, 'acceptRows');
    const rows = vi.spyOn(BatchBuilder.prototype, 'finishRow');
    try {
      await readAll(log.file, contractPlan(), {}, true);
      const accepted = spy.mock.calls.reduce((s, [, r0, r1]) => s + r1 - r0, 0);
      expect(accepted).toBeGreaterThan(1500);
      expect(rows.mock.calls.length).toBeGreaterThan(0);
      expect(accepted + rows.mock.calls.length).toBe(2000);
    } finally {
      spy.mockRestore();
      rows.mockRestore();
    }
  });

  // found by a reviewer: checking models ahead of finishRow must add none (acceptAnyModel adds them in row order)
  it('with any model: a model name that is not valid UTF-8, a new model in a slice, --strict', async () => {
    const bad = [0xff];
    const cases: [string, Data[], number][] = [
      ['bad bytes', [rawUtf8([[0x61], bad, bad, bad]), utf8(['u1', 'u2', null, 'u4'])], 4],
      ['bad bytes, every other user missing', [rawUtf8(Array.from({ length: 300 }, () => bad)), utf8(Array.from({ length: 300 }, (_, i) => (i % 2 ? null : 'u')))], 300],
      ['new models mid-slice', [utf8(['a', 'b', 'c', 'a', 'd', 'b']), utf8([null, 'u', 'u', 'u', null, 'u'])], 6],
    ];
    const plan: ReadPlan = { fields: [field('model', 'string', true), field('user', 'string', true)], modelField: 'model', models: [], requestField: null, acceptAnyModel: true };
    for (const [name, [model, user], n] of cases) {
      const path = writeBatches(`any-${name}`, [batchOf({ model: model!, user: user! }, n)]);
      for (const options of [{}, { strict: true }] as LogReadOptions[]) {
        expect(await readAll(path, plan, options, true), name).toEqual(await readAll(path, plan, options, false));
      }
    }
    // a number read from text sends the slice row by row after the model column was read
    const path = writeBatches('any-fallback', [batchOf({ model: rawUtf8([bad, bad, bad]), user: utf8(['u', 'u', 'u']), x: utf8(['1', '2', '3']) }, 3)]);
    const withX = { ...plan, fields: [...plan.fields, field('x', 'number')] };
    const both = [await readAll(path, withX, {}, true), await readAll(path, withX, {}, false)];
    expect(both[0]).toEqual(both[1]);
    expect((both[1] as { models: string[] }).models).toHaveLength(3);
  });

  it('a values buffer shorter than its rows (a corrupt file) reads as row by row', async () => {
    const n = 4;
    const model = utf8(['champion', 'champion', 'champion', 'champion']);
    const user = utf8(['u', 'u', 'u', 'u']);
    const columns: [string, Data][] = [
      ['uint64', makeData({ type: new Uint64(), length: n, nullCount: 0, data: new BigUint64Array([1n, 0n]) })],
      ['int64', makeData({ type: new Int64(), length: n, nullCount: 0, data: new BigInt64Array([1n, 0n]) })],
      ['int32', makeData({ type: new Int32(), length: n, nullCount: 0, data: new Int32Array([1, 0]) })],
    ];
    for (const [name, x] of columns) {
      const path = writeBatches(`short-${name}`, [batchOf({ model, user_id: user, x }, n)]);
      for (const kind of ['number', 'flag', 'timestamp'] as const) {
        const plan: ReadPlan = { fields: [field('model', 'string', true), field('user_id', 'string', true), field('x', kind)], modelField: 'model', models: ['champion', 'challenger'], requestField: null };
        expect(await readAll(path, plan, {}, true), `${name} as ${kind}`).toEqual(await readAll(path, plan, {}, false));
      }
    }
  });

  it('every column type read as every field kind, optional or required', async () => {
    const numbers = [0, -0, 1, 0.5, NaN, Infinity, -Infinity, null, 3.4e38, -1, 2];
    const bigs = [0n, -1n, 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n, 2n ** 63n - 1n, -(2n ** 63n), null];
    const ubigs = [0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n, null];
    const raw = BigInt64Array.from(bigs.filter((x) => x !== null));
    const stamps = (type: DataType): Data => makeData({ type, length: raw.length, nullCount: 0, data: raw } as never);
    const texts = ['', null, 'x', 'NaN', 'inf', '-Infinity', '1e999', '0x10', ' 1', '1.0', 'true', 'é', '1', '0'];
    const columns: [string, Data][] = [
      ['float64', vectorFromArray(numbers, new Float64()).data[0]!],
      ['float32', vectorFromArray(numbers, new Float32()).data[0]!],
      ['int8', vectorFromArray(numbers.map((x) => (x === null || !Number.isFinite(x) ? null : Math.trunc(x))), new Int8()).data[0]!],
      ['uint32', vectorFromArray(numbers.map((x) => (x === null || !Number.isFinite(x) ? null : Math.abs(Math.trunc(x)))), new Uint32()).data[0]!],
      ['int64', vectorFromArray(bigs, new Int64()).data[0]!],
      ['uint64', vectorFromArray(ubigs, new Uint64()).data[0]!],
      ['timestamp s', stamps(new TimestampSecond())],
      ['timestamp us', stamps(new TimestampMicrosecond())],
      ['timestamp ns', stamps(new TimestampNanosecond())],
      ['bool', vectorFromArray([true, false, null, true, null, false], new Bool()).data[0]!],
      ['utf8', vectorFromArray(texts, new Utf8()).data[0]!],
      ['large utf8', vectorFromArray(texts, new LargeUtf8()).data[0]!],
      ['dictionary int8', vectorFromArray(texts, new Dictionary(new Utf8(), new Int8())).data[0]!],
      ['dictionary uint32', vectorFromArray(texts, new Dictionary(new Utf8(), new Uint32())).data[0]!],
    ];
    for (const [name, x] of columns) {
      const n = x.length;
      const path = writeBatches(`kind-${name}`, [batchOf({ model: utf8(Array.from({ length: n }, (_, i) => (i % 3 ? 'champion' : 'challenger'))), user_id: utf8(Array(n).fill('u')), x }, n)]);
      for (const kind of ['number', 'flag', 'timestamp', 'string', 'label'] as const) {
        for (const required of [false, true]) {
          const plan: ReadPlan = {
            fields: [field('model', 'string', true), field('user_id', 'string', true), field('x', kind, required, kind === 'flag' ? { truthyStrings: true } : {})],
            modelField: 'model',
            models: ['champion', 'challenger'],
            requestField: null,
          };
          expect(await readAll(path, plan, {}, true), `${name} as ${kind}${required ? ', required' : ''}`).toEqual(await readAll(path, plan, {}, false));
        }
      }
    }
  });

  it('an Arrow stream cut at any byte: cut inside a message is an error naming the rows read, cut between messages reads what is there', async () => {
    const clean = readFileSync(join(LOGS, 'clean.arrows'));
    // where each message ends (length prefix, metadata, body), and those that end a record batch
    const ends: number[] = [];
    const afterBatch: number[] = [];
    for (let p = 0; p < clean.length; ) {
      const len = clean.readInt32LE(p + 4);
      const message = Message.decode(clean.subarray(p + 8, p + 8 + len));
      p += 8 + len + message.bodyLength;
      ends.push(p);
      if (message.headerType === MessageHeader.RecordBatch) afterBatch.push(p);
    }
    expect(afterBatch.length).toBeGreaterThan(1);
    expect(ends.at(-1)).toBe(clean.length); // the end-of-stream marker
    const plan = contractPlan();
    for (let cut = 8; cut <= clean.length; cut += cut < afterBatch.at(-1)! - 64 ? 5 : 1) {
      const path = join(tmp, `cut-${cut}.arrows`);
      writeFileSync(path, clean.subarray(0, cut));
      const got = (await readAll(path, plan, {}, true)) as { error?: string };
      if (afterBatch.includes(cut) || cut === clean.length) expect(got.error, `cut at ${cut}`).toBeUndefined();
      else if (!ends.includes(cut)) expect(got.error, `cut at ${cut}`).toMatch(/Arrow data — \d+ rows read before the error/);
    }
  });

  it('the comparison can fail: a clean log with rows rejected the other way differs', async () => {
    const log = makeLog('sanity', 7, 500, 2, { ...plain, odd: 0.1 });
    const a = await readAll(log.file, contractPlan(), {}, true);
    const b = await readAll(log.file, contractPlan(['champion']), {}, false);
    expect(a).not.toEqual(b);
  });
});

describe('Arrow: record batch bodies read into reused buffers give what new buffers give', () => {
  afterEach(() => {
    ArrowReader.reuseBodies = true;
    ArrowReader.columnar = true;
  });

  // batches of very different sizes, so a body is sometimes bigger than the buffer it gets (which grows)
  // and sometimes smaller (a reused buffer longer than the body); empty batches have no body
  const sizes = [5, 700, 40, 1, 1200, 0, 300, 300, 2000, 17, 0, 650, 90, 1500, 3, 800, 260, 1100, 45, 999];
  const rows = sizes.reduce((a, b) => a + b, 0);

  async function both(path: string, plan: ReadPlan, options: LogReadOptions, columnar: boolean): Promise<void> {
    ArrowReader.reuseBodies = true;
    const made = bodyBuffers.made;
    const reused = await readAll(path, plan, options, columnar);
    const buffers = bodyBuffers.made - made;
    // the file reader is still shaped as reuseBodyReads expects (an apache-arrow upgrade could change it)
    if (path.endsWith('.arrow')) expect(ArrowReader.reusedBodies).toBe(true);
    ArrowReader.reuseBodies = false;
    const fresh = await readAll(path, plan, options, columnar);
    expect(reused).toEqual(fresh);
    // a handful of buffers for 18 bodies: they were reused
    expect(buffers).toBeGreaterThan(0);
    expect(buffers).toBeLessThan(10);
  }

  it.each(variants)('%s: file and stream, both ways of typing, with and without late duplicates', async (name, v) => {
    const log = makeLog(`bodies-${name}`, 77, rows, sizes, v);
    for (const path of [log.file, log.stream]) {
      for (const options of [{ batchSize: 512 }, { lateDuplicates: true }] as LogReadOptions[]) {
        for (const columnar of [true, false]) await both(path, contractPlan(), options, columnar);
      }
    }
  });

  it('--strict stops mid-file the same way (a stream whose reader waits for a buffer stops too)', async () => {
    const log = makeLog('bodies-strict', 78, rows, sizes, { ...plain, odd: 0.002 });
    for (const path of [log.file, log.stream]) {
      ArrowReader.reuseBodies = true;
      const reused = (await readAll(path, contractPlan(), { strict: true }, true)) as { error?: string };
      ArrowReader.reuseBodies = false;
      const fresh = await readAll(path, contractPlan(), { strict: true }, true);
      expect(reused.error).toMatch(/--strict|strict/);
      expect(reused).toEqual(fresh);
    }
  });

  it('a stream body never gets a buffer whose batch is not yet folded', async () => {
    const pool = new BodyPool();
    const settled = async <T>(p: Promise<T>): Promise<boolean> => {
      let done = false;
      void p.then(
        () => (done = true),
        () => (done = true),
      );
      await new Promise((r) => setImmediate(r));
      return done;
    };
    // three batches in flight get three buffers
    const got: Uint8Array[] = [];
    for (let k = 0; k < 3; k++) {
      got.push(await pool.next(100));
      pool.sent();
    }
    expect(new Set(got.map((b) => b.buffer)).size).toBe(3);
    // the fourth waits for the first to be folded, then gets its buffer (grown if need be)
    const fourth = pool.next(50);
    expect(await settled(fourth)).toBe(false);
    pool.fold();
    expect((await fourth).buffer).toBe(got[0]!.buffer);
    pool.sent();
    // batch 4 has no body and takes no buffer; batch 5 gets the buffer of batch 2, once batch 2 is folded
    pool.sent();
    const sixth = pool.next(500);
    expect(await settled(sixth)).toBe(false);
    pool.fold(); // batch 1
    expect(await settled(sixth)).toBe(false);
    pool.fold(); // batch 2
    const b5 = await sixth;
    expect(b5.length).toBeGreaterThanOrEqual(500);
    pool.sent();
    // at the end of the read a body still waiting gets none
    const seventh = pool.next(10);
    pool.close();
    await expect(seventh).rejects.toThrow(/over/);
  });

  it('progress moves within a record batch, in step with its rows (the column store is sized from it)', async () => {
    // two record batches of 40k rows: three slices each
    const log = makeLog('bodies-progress', 79, 80_000, [40_000, 40_000], plain);
    for (const path of [log.file, log.stream]) {
      const seen: [number, number][] = [];
      // a threaded read: each batch comes with the bytes and rows read when it was sealed
      const read = readLogs([path], contractPlan(), { threads: true, batchSize: 8192, onProgress: (bytes, rows) => seen.push([bytes, rows]) });
      for await (const _ of read.batches) {
        // progress is what is looked at
      }
      const size = statSync(path).size;
      // reported while the first batch was folded, not only after it
      const inFirst = seen.filter(([, rows]) => rows > 0 && rows < 40_000);
      expect(inFirst.length, path).toBeGreaterThan(0);
      expect(inFirst.every(([bytes]) => bytes > 0 && bytes < size)).toBe(true);
      // the bytes stand for the rows read, give or take a slice (16384 rows) of the file's 80k
      for (const [bytes, rows] of seen) {
        expect(Math.abs((bytes / size) * 80_000 - rows), `${path} at ${rows} rows`).toBeLessThanOrEqual(16_384);
      }
      expect(seen.every(([b], i) => i === 0 || b >= seen[i - 1]![0])).toBe(true);
    }
  });
});


describe('decimalText: a decimal column value as text', () => {
  /** values as `width` 32-bit words each, least significant first, two's complement */
  const words = (values: bigint[], width: number): Uint32Array => {
    const a = new Uint32Array(values.length * width);
    values.forEach((v, i) => {
      let x = BigInt.asUintN(32 * width, v);
      for (let k = 0; k < width; k++) {
        a[i * width + k] = Number(x & 0xffffffffn);
        x >>= 32n;
      }
    });
    return a;
  };
  const cases: [bigint, number, string][] = [
    [12345n, 3, '12.345'],
    [-500n, 3, '-0.500'],
    [5n, 3, '0.005'],
    [-5n, 3, '-0.005'],
    [0n, 2, '0.00'],
    [7n, 0, '7'],
    [7n, -2, '700'],
    [-1n, 1, '-0.1'],
    [-(2n ** 127n), 0, '-170141183460469231731687303715884105728'],
    [2n ** 127n - 1n, 5, '1701411834604692317316873037158841.05727'],
  ];
  it.each(cases)('%s with scale %s is %s, in 128 and 256 bits, at any index', (v, scale, text) => {
    for (const width of [4, 8]) {
      expect(decimalText(words([v], width), 0, width, scale)).toBe(text);
      expect(decimalText(words([1n, v, -1n], width), 1, width, scale)).toBe(text);
    }
  });
  it('the number read is the one the same text gives', () => {
    expect(Number(decimalText(words([12345n], 4), 0, 4, 3))).toBe(12.345);
    expect(Number(decimalText(words([10n ** 30n], 8), 0, 8, 0))).toBe(1e30);
  });
});
