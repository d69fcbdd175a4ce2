/**
 * The JSON Lines fast way (WebAssembly extractor + columnar typing, jsonlWasm.ts) against the
 * row-by-row way (JsonLineScanner + finishRow): every read, of any bytes, in any chunks, must give
 * the same rows, the same account (counts, rejections with their lines and messages, notes) and the
 * same error. And the fast way must really be the one taking the lines.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newAccount } from '../../src/ingest/account.js';
import { BatchBuilder } from '../../src/ingest/builder.js';
import { JsonlReader } from '../../src/ingest/jsonl.js';
import { REGION_BYTES, ROLE_NUMBER, ROLE_TEXT, ST_SCAN, WasmLineScanner } from '../../src/ingest/jsonlWasm.js';
import { K_LABEL, K_NUMBER, K_STRING, K_TIMESTAMP } from '../../src/ingest/builder.js';
import { JsonLineScanner } from '../../src/ingest/jsonScan.js';
import type { Batch, IngestAccount, ReadPlan } from '../../src/ingest/types.js';
import { SOURCE_SHA256 } from '../../src/ingest/wasm/jsonlScanWasm.js';
import { isoTimestampValue } from '../../src/ingest/coerce.js';
import { chunked, contractPlan, corrupt, field, iterate, LOGS } from './helpers.js';

const plan = contractPlan();
const cleanJsonl = readFileSync(LOGS + 'clean.jsonl');

interface Outcome {
  account: IngestAccount;
  rows: unknown[];
  error: string | null;
}

async function run(chunks: Buffer[], fast: boolean, { batchSize = 16, strict = false, p = plan } = {}): Promise<Outcome> {
  const account = newAccount();
  const builder = new BatchBuilder(p, account, { batchSize, strict });
  builder.beginFile('x.jsonl', 'jsonl', false, 0);
  const rows: unknown[] = [];
  const take = (b: Batch): void => {
    for (let i = 0; i < b.length; i++) {
      const row: unknown[] = [b.model[i]];
      for (const [name, col] of b.columns) {
        if (col.kind === 'number') row.push(name, col.values[i]);
        else row.push(name, col.codes[i]! < 0 ? null : col.dict.values[col.codes[i]!], col.numeric?.[col.codes[i]!]);
      }
      rows.push(row);
    }
  };
  let error: string | null = null;
  try {
    for await (const b of new JsonlReader(builder, { fast }).read(iterate(chunks), () => {})) take(b);
    for (const b of builder.finish()) take(b);
  } catch (e) {
    error = String(e);
  }
  return { account, rows, error };
}

/** lines the fast reads of `same` saw, and how many of them JsonLineScanner scanned */
const tally = { lines: 0, scanned: 0 };

async function same(data: Buffer, cuts: number[], opts: { batchSize?: number; strict?: boolean; p?: ReadPlan } = {}): Promise<Outcome> {
  const slow = await run(chunked(data, cuts), false, opts);
  const scan = JsonLineScanner.prototype.scan;
  let scanned = 0;
  JsonLineScanner.prototype.scan = function (this: JsonLineScanner, buf, s, e) {
    scanned++;
    return scan.call(this, buf, s, e);
  };
  let fast: Outcome;
  try {
    fast = await run(chunked(data, cuts), true, opts);
  } finally {
    JsonLineScanner.prototype.scan = scan;
  }
  tally.lines += fast.account.rowsSeen + fast.account.blankLines;
  tally.scanned += scanned;
  expect(fast.error).toBe(slow.error);
  expect(fast.account).toEqual(slow.account);
  expect(fast.rows).toEqual(slow.rows);
  return fast;
}

// ---- random lines from an alphabet of the values and defects a log has ----

const numbers = ['0', '-0', '1', '0.5', '-12.75', '43.2', '1e3', '1E-2', '2.5e+1', '12345678901234567', '123456789012345', '0.0000000000000000000000001', '1769860800000', '9'.repeat(400), '1.5e400', '-1e400'];
const badNumbers = ['01', '1.', '-', '.5', '+1', '1e', '0x10', '1.2.3'];
const strings = ['"x"', '""', '"a\\"b"', '"\\u00e9t\\u00e9"', '"\\ud800"', '"NaN"', '"Infinity"', '"-Infinity"', '"nan"', '"true"', '"False"', '"1"', '"1.0"', '"0"', '" 2 "',
  '"2026-01-31T12:00:03.014Z"', '"2026-01-31T14:00:01.507+02:00"', '"2026-13-45"', '"1769860800000"', '"1e400"', '" "', '"tab\\there"', '"caf\u00e9"', '"\u{1f600}"', '"NA"', '"null"', '"a/b"', '"\\/"', '"x\\u0000y"'];
const badStrings = ['"x\u0001y"', '"unterminated', '"bad \\x escape"', '"\\u12G4"'];
const literals = ['true', 'false', 'null', 'NaN', 'Infinity', '-Infinity', 'nul', 'tru', 'nan'];
const nested = ['{}', '[]', '{"a":[1,{"b":null}]}', '[1,"x",[true]]', '[1,2', '{"a" 1}', '{"a":1,}', '[ ]', '{ "k" : [ ] }'];
const models = ['"champion"', '"challenger"', '"other"', '""', 'null', '1', '"champion "', '"\\u0063hampion"'];
const values = [...numbers, ...badNumbers, ...strings, ...badStrings, ...literals, ...nested];

const keys = ['model', 'user_id', 'request_id', 'ts', 'country', 'prediction', 'score', 'label', 'latency_ms', 'error', 'converted', 'extra', 'Model', '', '\\u006dodel', 'user\\"id'];
const ws = ['', '', '', ' ', '\t', '\r', '  '];

const member = fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...values), fc.constantFrom(...ws), fc.constantFrom(...ws));
/** a line as logs write it (every field, in one order) with a few edits */
const usualLine = fc.record({
  user: fc.nat({ max: 30 }),
  req: fc.nat({ max: 40 }),
  model: fc.oneof({ weight: 20, arbitrary: fc.constantFrom('"champion"', '"challenger"') }, fc.constantFrom(...models)),
  score: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('0.25', '0.75', '-0', '0', '1e-3', 'null') }, fc.constantFrom(...values)),
  ts: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('"2026-01-31T12:00:03.014Z"', '"2026-01-31T14:00:01.507+02:00"', '1769860800000', '""') }, fc.constantFrom(...values)),
  error: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('false', 'true', '0', '1') }, fc.constantFrom(...values)),
  label: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('1', '0', '"cat"', '2.5', 'true') }, fc.constantFrom(...values)),
  extra: fc.oneof({ weight: 8, arbitrary: fc.constant([]) }, fc.array(member, { maxLength: 3 })),
  drop: fc.constantFrom(-1, -1, -1, -1, -1, -1, 0, 1, 2, 3, 4, 5, 6),
});
const lineArb = fc.oneof(
  { weight: 12, arbitrary: usualLine.map((u) => {
    const parts = [
      `"model":${u.model}`,
      `"user_id":"u${u.user}"`,
      `"request_id":"r${u.req}"`,
      `"ts":${u.ts}`,
      `"country":"BR"`,
      `"prediction":"click"`,
      `"score":${u.score}`,
      `"label":${u.label}`,
      `"latency_ms":12.5`,
      `"error":${u.error}`,
      `"converted":0`,
      ...u.extra.map(([k, v, a, b]) => `"${k}"${a}:${b}${v}`),
    ];
    if (u.drop >= 0) parts.splice(u.drop, 1);
    return `{${parts.join(',')}}`;
  }) },
  { weight: 3, arbitrary: fc.tuple(fc.array(member, { maxLength: 14 }), fc.constantFrom(...ws), fc.constantFrom(...ws)).map(([ms, a, b]) => `${a}{${ms.map(([k, v, c, d]) => `${c}"${k}"${d}:${c}${v}${d}`).join(',')}}${b}`) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\r', '[1]', '"x"', '{', '}', '{"model":"champion"} x', '{"model":"champion"}}', '\u{feff}{"model":"champion","user_id":"u1"}', 'null', '{}') },
);
const logArb = fc.tuple(fc.array(lineArb, { minLength: 1, maxLength: 80, size: 'large' }), fc.constantFrom('\n', '\n', '\r\n'), fc.boolean(), fc.boolean());

function logBytes([lines, eol, bom, lastNewline]: [string[], string, boolean, boolean]): Buffer {
  const text = lines.join(eol) + (lastNewline ? eol : '');
  return Buffer.from((bom ? '\u{feff}' : '') + text, 'utf8');
}

describe('the JSON Lines fast way gives what the row-by-row way gives', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('random lines of every kind of value and defect, in random chunks and batch sizes', async () => {
    tally.lines = 0;
    tally.scanned = 0;
    await fc.assert(
      fc.asyncProperty(logArb, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 40 }), async (log, cuts, batchSize) => {
        await same(logBytes(log), cuts, { batchSize });
      }),
      { numRuns: 400 },
    );
    // not a comparison of the slow way with itself: a quarter of the lines (the usual ones, not cut by a chunk) went the fast way
    expect(tally.lines).toBeGreaterThan(5000);
    expect(tally.scanned).toBeLessThan(0.85 * tally.lines);
  });

  it('with --strict: the same first error, after the same rows', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.array(fc.nat(), { maxLength: 4 }), async (log, cuts) => {
        await same(logBytes(log), cuts, { batchSize: 7, strict: true });
      }),
      { numRuns: 200 },
    );
  });

  it('a clean log corrupted at random', async () => {
    const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.constantFrom(0x0a, 0x0d, 0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x5c, 0x20, 0x30, 0x2d, 0x4e, 0xff, 0xc3, 0x00, 0x61)), { minLength: 1, maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(edits, fc.array(fc.nat(), { maxLength: 8 }), async (ops, cuts) => {
        await same(corrupt(cleanJsonl, ops), cuts);
      }),
      { numRuns: 300 },
    );
  });

  it('a model not in the spec, with acceptAnyModel: models are added in line order', async () => {
    const lines = ['champion', 'zeta', 'challenger', 'alpha', 'zeta', 'beta'].map((m, i) => `{"model":"${m}","user_id":"u${i}","request_id":"r${i}","score":0.5}`);
    const p: ReadPlan = { ...plan, acceptAnyModel: true };
    const out = await same(Buffer.from(lines.join('\n') + '\n'), [], { p });
    expect(out.account.rowsRead).toBe(6);
  });

  it('the fast way takes the lines: JsonLineScanner only sees the few it leaves', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(`{"ts":"2026-01-31T12:00:03.014Z","request_id":"r${i}","user_id":"u${i % 97}","model":"${i % 10 ? 'champion' : 'challenger'}","country":"BR","prediction":"click","score":0.${i},"label":1,"latency_ms":${i / 8},"error":false,"converted":${i % 2}}`);
    lines[123] = '{"model":"champion",';
    lines[4000] = '';
    const data = Buffer.from(lines.join('\n') + '\n');
    const scans = vi.spyOn(JsonLineScanner.prototype, 'scan');
    const out = await same(data, [100_000, 200_001], { batchSize: 1000 });
    expect(out.account.rowsRead).toBe(4998);
    expect(out.account.blankLines).toBe(1);
    // the slow read scanned every line; the fast one the malformed line, the blank one and a line per chunk boundary
    const slowCalls = 5000;
    expect(scans.mock.calls.length - slowCalls).toBeLessThan(10);
  });

  it('a chunk larger than the region, and a line longer than it', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) lines.push(`{"model":"champion","user_id":"u${i}","request_id":"r${i}","score":${i / 7},"pad":"${'x'.repeat(200)}"}`);
    lines[6000] = `{"model":"challenger","user_id":"long","request_id":"rl","score":1,"pad":"${'y'.repeat(REGION_BYTES + 5000)}"}`;
    const data = Buffer.from(lines.join('\n') + '\n');
    expect(data.length).toBeGreaterThan(3 * REGION_BYTES);
    const out = await same(data, []);
    expect(out.account.rowsRead).toBe(12_000);
  });

  it('ISO-8601 times read by the extractor are the times coerce.ts reads, to the bit', async () => {
    const d2 = (max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(2, '0'));
    const iso = fc
      .record({
        year: fc.oneof(fc.constantFrom(0, 1, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999), fc.integer({ min: 0, max: 9999 })).map((y) => String(y).padStart(4, '0')),
        month: d2(13),
        day: fc.oneof(d2(32), fc.constantFrom('28', '29', '30', '31')),
        sep: fc.constantFrom('T', 'T', 't', ' ', 'x', ''),
        hh: d2(24),
        mm: d2(60),
        ss: fc.oneof(fc.constant(''), d2(60).map((v) => `:${v}`)),
        frac: fc.oneof(fc.constant(''), fc.constantFrom('.123456789', '.000000001', ',999999999', '.1234567891', '.000000009', '.5'), fc.constantFrom('.', ',').chain((p) => fc.string({ unit: fc.constantFrom('0', '1', '4', '5', '9'), minLength: 0, maxLength: 12 }).map((f) => p + f))),
        tz: fc.constantFrom('', 'Z', 'z', '+02:00', '-05:30', '+0530', '-11', '+2', '+24:00', '-03:60', 'ZZ', ' ', '+02:00 '),
        cut: fc.nat({ max: 40 }),
        lead: fc.constantFrom('', '', '', ' '),
      })
      .map((r) => {
        const time = r.sep === '' ? '' : `${r.sep}${r.hh}:${r.mm}${r.ss}${r.ss ? r.frac : ''}${r.tz}`;
        const text = `${r.lead}${r.year}-${r.month}-${r.day}${time}`;
        return r.cut > 30 ? text.slice(0, r.cut - 20) : text;
      });
    const w = WasmLineScanner.create(['ts'], [{ kind: K_TIMESTAMP, required: false, role: ROLE_NUMBER }])!;
    let computed = 0;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(iso, { minLength: 1, maxLength: 200 }), async (times) => {
        const text = times.map((t) => `{"ts":"${t}"}`).join('\n') + '\n';
        const bytes = Buffer.from(text);
        w.load(bytes, 0, bytes.length);
        let s = 0;
        let line = 0;
        while (s < bytes.length) {
          const m = w.scan(s, bytes.length);
          for (let j = 0; j < m; j++, line++) {
            expect(w.status[j]! & ST_SCAN).toBe(0);
            const v = w.num[j]!;
            total++;
            if (v !== v) continue;
            computed++;
            const want = isoTimestampValue(w.region, w.vs[j]!, w.ve[j]!);
            expect(Object.is(v, want), `${times[line]}: ${v} vs ${want}`).toBe(true);
          }
          s = w.end[m - 1]! + 1;
        }
        // and a read of them both ways gives the same rows and rejections
        await same(Buffer.from(times.map((t, i) => `{"model":"champion","user_id":"u${i}","ts":"${t}"}`).join('\n') + '\n'), []);
      }),
      { numRuns: 150 },
    );
    // the extractor read a good share itself (most of the rest are not valid times)
    expect(computed).toBeGreaterThan(Math.max(100, 0.15 * total));
  });

  it('fields sharing a column, with values too long to gather: read from the region instead', async () => {
    const p: ReadPlan = {
      fields: [field('model', 'string', true), field('user_id', 'string', true), { ...field('seg', 'string'), source: 'user_id' }, { ...field('lab', 'label'), source: 'user_id' }, field('score', 'number')],
      modelField: 'model',
      models: ['champion', 'challenger'],
      requestField: null,
    };
    const big = 'u'.repeat(800_000);
    const lines = [`{"model":"champion","user_id":"${big}","score":1}`];
    for (let i = 0; i < 300; i++) lines.push(`{"model":"${i % 3 ? 'champion' : 'challenger'}","user_id":"u${i}","score":${i}}`);
    const text = (kind: number) => ({ kind, required: false, role: ROLE_TEXT });
    const w = WasmLineScanner.create(['model', 'user_id', 'user_id', 'user_id', 'score'], [text(K_STRING), text(K_STRING), text(K_STRING), text(K_LABEL), { kind: K_NUMBER, required: false, role: ROLE_NUMBER }])!;
    const data = Buffer.from(lines.join('\n') + '\n');
    w.load(data, 0, data.length);
    expect(w.scan(0, data.length)).toBe(256);
    expect(w.packed()).toBe(false);
    expect(w.scan(w.end[255]! + 1, data.length)).toBe(45);
    expect(w.packed()).toBe(true);
    const out = await same(data, [], { p, batchSize: 50 });
    expect(out.account.rowsRead).toBe(301);
  });

  it('several timestamp fields, times as text the extractor leaves to coerce.ts, required fields after them', async () => {
    const plans: ReadPlan[] = [
      // two fields reading one column
      { fields: [field('model', 'string', true), field('ts', 'timestamp'), { ...field('t2', 'timestamp'), source: 'ts' }], modelField: 'model', models: ['a', 'b'], requestField: null },
      // two columns, the second required, then a required number
      { fields: [field('model', 'string', true), field('ts', 'timestamp'), field('t2', 'timestamp', true), field('score', 'number', true)], modelField: 'model', models: ['a', 'b'], requestField: null },
      // a required number after a timestamp
      { fields: [field('model', 'string', true), field('ts', 'timestamp'), field('score', 'number', true), field('flag', 'flag', true)], modelField: 'model', models: ['a', 'b'], requestField: null },
    ];
    const time = fc.constantFrom('"2024-01-01"', '"2024-01-01T00:00:00Z"', '"1700000000000"', '1700000000000', '" 1700000000000 "', '"x"', '""', 'null', '"8640000000000001"');
    const line = fc.record({ model: fc.constantFrom('a', 'b'), ts: fc.option(time), t2: fc.option(time), score: fc.option(fc.constantFrom('1', '2.5', 'null')), flag: fc.option(fc.constantFrom('true', '0', '1')) });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 1, 2), fc.array(line, { minLength: 1, maxLength: 600, size: 'large' }), fc.array(fc.nat(), { maxLength: 3 }), async (pi, lines, cuts) => {
        const text = lines
          .map((l) => {
            const parts = [`"model":"${l.model}"`];
            if (l.ts !== null) parts.push(`"ts":${l.ts}`);
            if (l.t2 !== null) parts.push(`"t2":${l.t2}`);
            if (l.score !== null) parts.push(`"score":${l.score}`);
            if (l.flag !== null) parts.push(`"flag":${l.flag}`);
            return `{${parts.join(',')}}`;
          })
          .join('\n');
        await same(Buffer.from(text + '\n'), cuts, { p: plans[pi]!, batchSize: 100 });
      }),
      { numRuns: 150 },
    );
    // the cases a reviewer found: the first field's time read for the second's mark, a required field skipped, a value from the call before
    const p0 = plans[0]!;
    await same(Buffer.from('{"model":"a","ts":"1700000000000"}\n'), [], { p: p0 });
    await same(Buffer.from('{"model":"a","ts":"2024-01-01","t2":"1700000000000"}\n'), [], { p: plans[1]! });
    await same(Buffer.from('{"model":"a","ts":"1700000000000"}\n'), [], { p: plans[2]! });
    const two: ReadPlan = { fields: [field('model', 'string', true), field('t1', 'timestamp'), field('t2', 'timestamp')], modelField: 'model', models: ['a', 'b'], requestField: null };
    const many = Array.from({ length: 256 }, () => '{"model":"a","t1":"2024-01-01"}');
    many.push('{"model":"a","t2":"1700000000000"}');
    const out = await same(Buffer.from(many.join('\n') + '\n'), [], { p: two });
    expect(out.rows.at(-1)).toEqual([0, 't1', NaN, 't2', 1700000000000]);
  });

  it('a read whose fields the extractor cannot serve takes the row-by-row way', () => {
    expect(WasmLineScanner.create(Array.from({ length: 65 }, (_, i) => `k${i}`))).toBeNull();
    expect(WasmLineScanner.create(['a'.repeat(9000)])).toBeNull();
    expect(WasmLineScanner.create(['a', 'b', 'a'])).not.toBeNull();
  });

  it('the generated module is the one compiled from jsonlScan.c (npm run build:wasm after changing it)', () => {
    const c = readFileSync(new URL('../../src/ingest/wasm/jsonlScan.c', import.meta.url));
    expect(createHash('sha256').update(c).digest('hex')).toBe(SOURCE_SHA256);
  });
});
