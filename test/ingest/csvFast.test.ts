/**
 * The CSV fast path (lines split on commas until the first quote) against csv-parse alone: a BOM at
 * the start sends the whole file to csv-parse, so the same bytes with and without a BOM must give
 * the same rows, the same account (rejections, line numbers) and the same error, for clean and
 * randomly corrupted logs cut into random chunks.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newAccount } from '../../src/ingest/account.js';
import { BatchBuilder } from '../../src/ingest/builder.js';
import { CsvReader } from '../../src/ingest/csv.js';
import type { Batch, IngestAccount } from '../../src/ingest/types.js';
import { chunked, contractPlan, corrupt, iterate, LOGS, portable } from './helpers.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const raw = readFileSync(LOGS + 'clean.csv');
const clean = raw.subarray(0, 3).equals(BOM) ? raw.subarray(3) : raw;
const plan = contractPlan();

async function run(chunks: Buffer[]): Promise<{ account: IngestAccount; rows: unknown[]; error: string }> {
  const account = newAccount();
  const builder = new BatchBuilder(plan, account, { batchSize: 7 });
  builder.beginFile('x.csv', 'csv', false, 0);
  const rows: unknown[] = [];
  const take = (b: Batch): void => {
    for (let i = 0; i < b.length; i++) {
      const row: unknown[] = [b.model[i]];
      for (const col of b.columns.values()) row.push(col.kind === 'number' ? col.values[i] : col.codes[i]! < 0 ? null : col.dict.values[col.codes[i]!]);
      rows.push(row);
    }
  };
  let error = '';
  try {
    for await (const b of new CsvReader(builder).read(iterate(chunks), 'x.csv', () => {})) take(b);
    for (const b of builder.finish()) take(b);
  } catch (e) {
    error = String(e);
  }
  return { account, rows, error };
}

async function same(data: Buffer, cuts: number[]): Promise<void> {
  const fast = await run(chunked(data, cuts));
  const parsed = await run([Buffer.concat([BOM, data])]);
  expect(fast.error).toBe(parsed.error);
  expect(portable(fast.account)).toEqual(portable(parsed.account));
  expect(fast.rows).toEqual(parsed.rows);
}

const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.constantFrom(0x0a, 0x0d, 0x22, 0x2c, 0x20, 0x09, 0x30, 0x2d, 0xff, 0xc3, 0x00, 0x61)), {
  minLength: 1,
  maxLength: 6,
});


describe('CSV fast path = csv-parse', () => {
  it('clean log, whole and in small chunks', async () => {
    expect(clean[0]).not.toBe(0xef);
    await same(clean, []);
    await same(clean, [1, 5, 17, 100, 101, 333]);
  });

  it('hand-made cases: CRLF, lone CR, blank and white lines, wrong counts, a late quote, no final newline, non-ASCII', async () => {
    const header = clean.subarray(0, clean.indexOf(0x0a) + 1).toString('latin1');
    const body = clean.subarray(clean.indexOf(0x0a) + 1).toString('latin1').split('\n').filter((l) => l !== '');
    const cases = [
      header + body.slice(0, 5).join('\r\n') + '\r\n',
      header + body[0] + '\r\r\n' + body[1] + '\n\n   \n\t\r\n' + body[2] + '\n',
      header + body[0] + ',extra\n' + body[1] + '\n' + body[2].split(',').slice(0, 4).join(','),
      header + body[0] + '\n' + body[1].replace(',', ',"') + '\n' + body[2] + '\n',
      header + body[0] + '\n' + body[1].replace(/,[^,]*,/, ',"a\nb\nc",') + '\n' + body[2] + ',x\n' + body[3] + '\n',
      header + body[0] + '\n' + body[1] + '\r',
      header + body[0] + '\n' + body[1].replace('champion', 'chämpion') + '\n' + body[2].replace(',', ',é') + '\n',
      header + body[0] + '\n' + body[1].replace(/,/, ',"open') + '\n' + body[2] + '\n',
      '',
      header,
      header.trimEnd(),
      ' \n' + header + body[0] + '\n',
    ];
    for (const c of cases) {
      const data = Buffer.from(c, 'utf8');
      await same(data, []);
      await same(data, [3, 50, 51, 52, 120, 200]);
    }
  });

  it('randomly corrupted logs in random chunks', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.array(fc.nat(), { maxLength: 8 }), async (ops, cuts) => {
        const data = corrupt(clean, ops);
        fc.pre(data.length >= 3 && data[0] !== 0xef);
        await same(data, cuts);
      }),
      { numRuns: 300 },
    );
  });
});
