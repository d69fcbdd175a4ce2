/**
 * Duplicates are found when a batch is sealed (builder.ts): these check that this gives what a check
 * row by row would, across batch and file boundaries, in strict mode, and in the account's counts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { readLogs } from '../../src/ingest/index.js';
import { collect, contractPlan } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'abtool-dedupe-'));
const write = (name: string, rows: object[]): string => {
  const p = join(tmp, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
};
const row = (request: string | undefined, user: string, extra: object = {}): object => ({ model: 'champion', user_id: user, request_id: request, ...extra });

/** The rows a row-by-row check keeps: the first accepted (request, model) of each pair. */
function expectedKept(rows: { request_id?: string; model: string }[]): number[] {
  const seen = new Set<string>();
  const kept: number[] = [];
  rows.forEach((r, i) => {
    if (r.request_id === undefined) kept.push(i);
    else if (!seen.has(`${r.model}\u0000${r.request_id}`)) {
      seen.add(`${r.model}\u0000${r.request_id}`);
      kept.push(i);
    }
  });
  return kept;
}

describe('duplicates found when a batch is sealed', () => {
  it('agree with a row-by-row check for every batch size, across batch boundaries', async () => {
    let state = 7;
    const rand = (k: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % k);
    const rows = Array.from({ length: 300 }, (_, i) => ({
      model: rand(2) ? 'champion' : 'challenger',
      user_id: `u${rand(40)}`,
      ...(rand(10) === 0 ? {} : { request_id: `r${rand(120)}` }),
      latency_ms: i,
    }));
    const file = write('random.jsonl', rows);
    const kept = expectedKept(rows);
    for (const batchSize of [1, 2, 7, 64, 1000]) {
      const r = await collect([file], contractPlan(), { batchSize });
      expect(r.columns.latency_ms).toEqual(kept);
      expect(r.account.rowsRead).toBe(kept.length);
      expect(r.account.rejections.duplicate?.count ?? 0).toBe(rows.length - kept.length);
      expect(r.account.rowsSeen).toBe(r.account.rowsRead + r.account.rowsRejected);
      // rejected in input order, with their lines
      const dupLines = rows.map((_, i) => i + 1).filter((l) => !kept.includes(l - 1));
      expect(r.account.rejections.duplicate?.first.map((l) => l.line)).toEqual(dupLines.slice(0, 5));
    }
  });

  it('a duplicate gives no dictionary value and no missing count', async () => {
    const file = write('dict.jsonl', [row('a', 'u1', { country: 'BR' }), row('a', 'u-only-in-duplicate'), row('b', 'u2', { country: 'DE' })]);
    const { batches } = readLogs([file], contractPlan(), { batchSize: 10 });
    const out = [];
    for await (const b of batches) out.push(b);
    expect(out).toHaveLength(1);
    const user = out[0]!.columns.get('user_id')!;
    expect(user.kind === 'dict' && user.dict.values).toEqual(['u1', 'u2']);
    const r = await collect([file], contractPlan());
    // the duplicate has no country, but it is not an accepted row: no missing value is counted
    expect(r.account.missing.country).toBeUndefined();
    expect(r.columns.country).toEqual(['BR', 'DE']);
  });

  it('the duplicates of a file name that file, even when batches span files', async () => {
    const a = write('a.jsonl', [row('x', 'u1'), row('y', 'u1')]);
    const b = write('b.jsonl', [row('x', 'u2'), row('z', 'u2')]);
    const r = await collect([a, b], contractPlan(), { batchSize: 1000 });
    expect(r.account.rejections.duplicate?.first).toEqual([expect.objectContaining({ file: b, line: 1, field: 'request_id' })]);
    expect(r.columns.user_id).toEqual(['u1', 'u1', 'u2']);
  });

  it('--strict reports the first rejected row in input order, a duplicate before a later bad value', async () => {
    const file = write('strict.jsonl', [row('a', 'u1'), row('a', 'u1'), row('b', 'u1', { latency_ms: 'slow' })]);
    const e = await collect([file], contractPlan(), { strict: true, batchSize: 1000 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(CliError);
    expect((e as CliError).message).toMatch(/strict\.jsonl:2: request_id: request_id "a" with model "champion" seen before/);
    // and a bad value before the duplicate is the one reported
    const file2 = write('strict2.jsonl', [row('a', 'u1'), row('b', 'u1', { latency_ms: 'slow' }), row('a', 'u1')]);
    const e2 = await collect([file2], contractPlan(), { strict: true, batchSize: 1000 }).catch((err: unknown) => err);
    expect((e2 as CliError).message).toMatch(/strict2\.jsonl:2: latency_ms: /);
  });
});
