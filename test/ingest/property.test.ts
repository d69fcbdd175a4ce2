/**
 * Property tests: logs corrupted at random (bytes deleted, inserted, replaced, the file cut short)
 * and cut into random chunks. The readers never throw anything but a data error (and JSON Lines
 * and CSV never throw at all short of a quote left open to the end), every line is a row read, a
 * row rejected or a blank line, and how the bytes arrive in chunks changes nothing.
 */
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { newAccount } from '../../src/ingest/account.js';
import { BatchBuilder } from '../../src/ingest/builder.js';
import { CsvReader } from '../../src/ingest/csv.js';
import { JsonlReader } from '../../src/ingest/jsonl.js';
import type { Batch, IngestAccount, ReadPlan } from '../../src/ingest/types.js';
import { chunked, collect, contractPlan, corrupt, iterate, LOGS, portable } from './helpers.js';

const cleanJsonl = readFileSync(LOGS + 'clean.jsonl');
const cleanCsv = readFileSync(LOGS + 'clean.csv');
const cleanArrows = readFileSync(LOGS + 'clean.arrows');
const cleanArrow = readFileSync(LOGS + 'clean.arrow');

/** A random edit of a byte string: [kind, position, byte]. */
const edits = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.constantFrom(0x0a, 0x0d, 0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x5c, 0x20, 0x30, 0x2d, 0x4e, 0xff, 0xc3, 0x00, 0x61)), {
  minLength: 1,
  maxLength: 6,
});


interface Outcome {
  account: IngestAccount;
  rows: unknown[];
  error: unknown;
}

async function run(kind: 'jsonl' | 'csv', chunks: Buffer[], plan: ReadPlan, batchSize: number): Promise<Outcome> {
  const account = newAccount();
  const builder = new BatchBuilder(plan, account, { batchSize });
  builder.beginFile(`x.${kind}`, kind, false, 0);
  const rows: unknown[] = [];
  const take = (b: Batch): void => {
    for (let i = 0; i < b.length; i++) {
      const row: unknown[] = [b.model[i]];
      for (const col of b.columns.values()) row.push(col.kind === 'number' ? col.values[i] : col.codes[i]! < 0 ? null : col.dict.values[col.codes[i]!]);
      rows.push(row);
    }
  };
  let error: unknown = null;
  try {
    const reader = kind === 'jsonl' ? new JsonlReader(builder).read(iterate(chunks), () => {}) : new CsvReader(builder).read(iterate(chunks), 'x.csv', () => {});
    for await (const b of reader) take(b);
    for (const b of builder.finish()) take(b);
  } catch (e) {
    error = e;
  }
  return { account, rows, error };
}

function physicalLines(buf: Buffer): number {
  if (buf.length === 0) return 0;
  let n = 0;
  for (const c of buf) if (c === 0x0a) n++;
  return buf[buf.length - 1] === 0x0a ? n : n + 1;
}

const plan = contractPlan();

describe('randomly corrupted logs', () => {
  it('JSON Lines: no exception, read + rejected + blank = the lines seen, chunking changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.array(fc.nat(), { maxLength: 8 }), fc.integer({ min: 1, max: 50 }), async (ops, cuts, batchSize) => {
        const data = corrupt(cleanJsonl, ops);
        const whole = await run('jsonl', [data], plan, batchSize);
        expect(whole.error).toBeNull();
        const a = whole.account;
        expect(a.rowsRead + a.rowsRejected).toBe(a.rowsSeen);
        expect(a.rowsSeen + a.blankLines).toBe(physicalLines(data));
        expect(whole.rows).toHaveLength(a.rowsRead);
        const pieces = await run('jsonl', chunked(data, cuts), plan, batchSize);
        expect(pieces.error).toBeNull();
        expect(portable(pieces.account)).toEqual(portable(a));
        expect(pieces.rows).toEqual(whole.rows);
      }),
      { numRuns: 300 },
    );
  });

  it('CSV: only data errors, read + rejected = rows seen, chunking changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(edits, fc.array(fc.nat(), { maxLength: 8 }), async (ops, cuts) => {
        const data = corrupt(cleanCsv, ops);
        const whole = await run('csv', [data], plan, 16);
        if (whole.error !== null) {
          expect(whole.error).toBeInstanceOf(CliError);
          expect((whole.error as CliError).exit).toBe('data');
          expect((whole.error as CliError).message).toMatch(/quote|CSV/);
        }
        const a = whole.account;
        expect(a.rowsRead + a.rowsRejected).toBe(a.rowsSeen);
        expect(a.rowsSeen + a.blankLines).toBeLessThanOrEqual(physicalLines(data));
        const pieces = await run('csv', chunked(data, cuts), plan, 16);
        expect(String(pieces.error)).toBe(String(whole.error));
        expect(portable(pieces.account)).toEqual(portable(a));
        expect(pieces.rows).toEqual(whole.rows);
      }),
      { numRuns: 200 },
    );
  });

  it('a CSV file cut inside its last row: truncated when cells are lost', async () => {
    // cut inside the last cell, the row keeps its cells (a shorter value, or an empty cell): that
    // cannot be told from a real row; cut before a comma, the row lacks cells and is truncated
    const text = cleanCsv.toString('utf8').trimEnd();
    const lastStart = text.lastIndexOf('\n') + 1;
    let truncated = 0;
    for (let cut = lastStart + 1; cut < text.length; cut++) {
      const r = await run('csv', [Buffer.from(text.slice(0, cut))], plan, 16);
      expect(r.error).toBeNull();
      expect(r.account.rowsSeen).toBe(40);
      const cells = text.slice(lastStart, cut).split(',').length;
      expect(r.account.rejections.truncated?.count ?? 0).toBe(cells < 11 ? 1 : 0);
      truncated += cells < 11 ? 1 : 0;
    }
    expect(truncated).toBeGreaterThan(40);
  });

  const dir = mkdtempSync(join(tmpdir(), 'abtool-prop-'));
  it.each([
    ['stream', cleanArrows, 'arrows'],
    ['file', cleanArrow, 'arrow'],
  ] as const)('Arrow %s: corrupted bytes give rows or a data error, never a crash or a hang', async (_kind, clean, ext) => {
    let k = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 2, max: 3 }), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), async (ops) => {
        const data = corrupt(clean, ops as [number, number, number][]);
        const p = join(dir, `c${k++}.${ext}`);
        writeFileSync(p, data);
        let error: unknown = null;
        let account: IngestAccount | null = null;
        try {
          account = (await collect([p], plan)).account;
        } catch (e) {
          error = e;
        }
        if (error !== null) {
          expect(error).toBeInstanceOf(CliError);
          expect((error as CliError).exit).toBe('data');
        } else {
          expect(account!.rowsRead + account!.rowsRejected).toBe(account!.rowsSeen);
        }
      }),
      { numRuns: 150 },
    );
  });
});
