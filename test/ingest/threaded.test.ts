/**
 * A threaded read (a worker parses, this thread encodes: readThreaded in index.ts) must give exactly
 * what a read in one thread gives: the same rows and columns, the same account with the same
 * locations, the same errors. Every committed log, clean and damaged, is read both ways, with small
 * batches so that many raw batches cross between the threads. A split read (one JSONL file parsed in
 * two parts on two workers; forced here on small files with `splitMinBytes: 0`) must too: the
 * committed JSONL logs, logs built to put BOMs, blank lines, bad rows and duplicates on both sides of
 * the cut, and randomly corrupted logs. (The worker runs dist/ingest/worker.js: `npm test` builds first.)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { collect, contractPlan, corrupt, LOGS } from './helpers.js';
import { readLogs, splitCut, SPLIT_AT, type LogReadOptions } from '../../src/ingest/index.js';
import { resolveInputs } from '../../src/ingest/open.js';
import type { IngestAccount } from '../../src/ingest/types.js';

const files = [
  ...readdirSync(LOGS).filter((f) => f.startsWith('clean.')),
  ...readdirSync(LOGS + 'damaged').map((f) => `damaged/${f}`),
].map((f) => LOGS + f);

async function outcome(inputs: string[], options: LogReadOptions): Promise<unknown> {
  try {
    const r = await collect(inputs, contractPlan(), options);
    return { ...r, batches: undefined };
  } catch (e) {
    if (e instanceof CliError) return { exit: e.exit, message: e.message };
    throw e;
  }
}

describe('threaded reads', () => {
  it('the worker is built', () => {
    expect(existsSync(new URL('../../dist/ingest/worker.js', import.meta.url))).toBe(true);
  });

  for (const file of files) {
    it(`${file.slice(LOGS.length)}: same rows, account and errors as one thread`, async () => {
      for (const options of [{ batchSize: 3 }, { batchSize: 1000 }, { batchSize: 4, strict: true }, { batchSize: 5, maxLocations: 1 }]) {
        const one = await outcome([file], { ...options, threads: false });
        const two = await outcome([file], { ...options, threads: true });
        expect(two).toEqual(one);
      }
    });
  }

  it('several files, a directory, duplicates across files', async () => {
    const inputs = [LOGS + 'damaged/duplicates.jsonl', LOGS + 'dir', LOGS + 'damaged/duplicates.jsonl', LOGS + 'clean.csv'];
    const one = await outcome(inputs, { batchSize: 2, threads: false });
    const two = await outcome(inputs, { batchSize: 2, threads: true });
    expect(two).toEqual(one);
    expect((one as { account: { rejections: { duplicate: { count: number } } } }).account.rejections.duplicate.count).toBeGreaterThan(3);
  });

  it('progress reaches the total size', async () => {
    const seen: number[] = [];
    await collect([LOGS + 'clean.jsonl', LOGS + 'clean.arrow'], contractPlan(), { threads: true, onProgress: (b) => seen.push(b) });
    expect(seen.at(-1)).toBeGreaterThan(0);
    expect(seen.every((b, i) => i === 0 || b >= seen[i - 1]!)).toBe(true);
  });
});

/** Split reads forced on whatever the size. */
const SPLIT: LogReadOptions = { threads: true, splitMinBytes: 0 };

function cutOf(file: string, options: LogReadOptions = SPLIT, plan = contractPlan()): number | null {
  return splitCut(resolveInputs([file]).sources, plan, options);
}

/** Line (1-based) of a byte offset that starts a line. */
function lineAt(bytes: Buffer, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 10) n++;
  return n;
}

const tmp = mkdtempSync(join(tmpdir(), 'abtool-split-'));
let written = 0;
function write(text: string | Buffer): string {
  const p = join(tmp, `log-${written++}.jsonl`);
  writeFileSync(p, text);
  return p;
}

/** A row of the contract's fields; `over` replaces or adds fields (undefined drops one). */
function row(i: number, over: Record<string, unknown> = {}): string {
  const r: Record<string, unknown> = {
    ts: 1769860800000 + i * 1000,
    request_id: `r${i}`,
    user_id: `u${i % 37}`,
    model: i % 3 === 0 ? 'challenger' : 'champion',
    country: ['US', 'DE', '', 'BR'][i % 4],
    prediction: i % 5 === 0 ? 1 : 'click',
    score: i % 11 === 0 ? null : (i % 17) / 17,
    latency_ms: 20 + (i % 13),
    error: i % 19 === 0,
    converted: i % 7 === 0 ? 1 : 0,
    ...over,
  };
  return JSON.stringify(r);
}

async function expectSameAsOneThread(file: string, optionsList: LogReadOptions[]): Promise<void> {
  for (const options of optionsList) {
    const one = await outcome([file], { ...options, threads: false });
    const split = await outcome([file], { ...options, ...SPLIT });
    expect(split, JSON.stringify(options)).toEqual(one);
  }
}

const BATCHES: LogReadOptions[] = [{ batchSize: 1 }, { batchSize: 3 }, { batchSize: 7, maxLocations: 2 }, { batchSize: 1000 }, { batchSize: 4, maxLocations: 1 }];

describe('split reads: one JSONL file parsed in two parts on two workers', () => {
  const jsonl = files.filter((f) => f.endsWith('.jsonl'));
  // no newline past the cut point but the last byte (the second part would be empty), or gzip: read on one worker
  const unsplit = new Set(['damaged/empty.jsonl', 'damaged/gzip-no-extension.jsonl']);

  for (const file of jsonl) {
    const name = file.slice(LOGS.length);
    it(`${name}: same rows, account and errors as one thread`, async () => {
      expect(cutOf(file) !== null).toBe(!unsplit.has(name));
      await expectSameAsOneThread(file, BATCHES);
    });
  }

  it('the cut is just after the first newline at or past SPLIT_AT of the size', () => {
    const bytes = readFileSync(LOGS + 'clean.jsonl');
    const cut = cutOf(LOGS + 'clean.jsonl')!;
    const at = Math.floor(bytes.length * SPLIT_AT);
    expect(bytes[cut - 1]).toBe(10);
    expect(cut - 1).toBeGreaterThanOrEqual(at);
    expect(bytes.subarray(at, cut - 1).includes(10)).toBe(false);
    expect(cutOf(write('{}\n'.repeat(2) + '{"a": 1}'))).toBe(6);
    expect(cutOf(write('{"a": 1}\n'))).toBeNull();
  });

  it('only for one plain JSONL file over the threshold, not --strict, not accepting any model', () => {
    const size = statSync(LOGS + 'clean.jsonl').size;
    expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, splitMinBytes: size })).not.toBeNull();
    expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, splitMinBytes: size + 1 })).toBeNull();
    expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, strict: true })).toBeNull();
    expect(cutOf(LOGS + 'clean.jsonl', SPLIT, { ...contractPlan(), acceptAnyModel: true })).toBeNull();
    expect(cutOf(LOGS + 'clean.jsonl.gz')).toBeNull();
    expect(cutOf(LOGS + 'clean.csv')).toBeNull();
    expect(cutOf(LOGS + 'clean.arrows')).toBeNull();
    expect(splitCut(resolveInputs([LOGS + 'clean.jsonl', LOGS + 'clean.jsonl']).sources, contractPlan(), SPLIT)).toBeNull();
  });

  it('a BOM, CRLF line ends and blank lines on both sides of the cut', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) lines.push(i % 9 === 4 ? '' : i % 10 === 7 ? '   ' : row(i));
    const file = write(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]));
    expect(cutOf(file)).not.toBeNull();
    await expectSameAsOneThread(file, BATCHES);
    const one = await collect([file], contractPlan(), { threads: false });
    expect(one.account.blankLines).toBeGreaterThan(20);
    expect(one.account.rowsRejected).toBe(0); // the BOM was taken off line 1 only
  });

  it('a line starting with a BOM just after the cut is malformed, as in one thread', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) lines.push(row(i));
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const cut = bytes.indexOf(10, Math.floor(bytes.length * SPLIT_AT)) + 1;
    const file = write(Buffer.concat([bytes.subarray(0, cut), Buffer.from([0xef, 0xbb, 0xbf]), bytes.subarray(cut)]));
    expect(cutOf(file)).toBe(cut);
    await expectSameAsOneThread(file, BATCHES);
    const split = await collect([file], contractPlan(), SPLIT);
    expect(split.account.rejections.malformed?.first[0]?.line).toBe(lineAt(bytes, cut));
  });

  it('bad rows of every kind on both sides of the cut, and a truncated last line', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 50 === 10) lines.push(`{"model": "champion", "user_id": "u${i}", broken`);
      else if (i % 50 === 20) lines.push(row(i, { latency_ms: 'slow' }));
      else if (i % 50 === 25) lines.push(row(i, { score: 'NaN' }).replace('"NaN"', 'NaN'));
      else if (i % 50 === 30) lines.push(row(i, { model: `m${i % 100}` }));
      else if (i % 50 === 40) lines.push(row(i, { user_id: undefined }));
      else if (i % 50 === 45) lines.push(row(i, { country: { nested: true } }));
      else lines.push(row(i));
    }
    const file = write(lines.join('\n') + '\n' + row(300).slice(0, 40));
    const cut = cutOf(file)!;
    expect(cut).not.toBeNull();
    await expectSameAsOneThread(file, BATCHES);
    const one = await collect([file], contractPlan(), { threads: false, maxLocations: 100 });
    const cutLine = lineAt(readFileSync(file), cut);
    for (const reason of ['malformed', 'wrong-type', 'non-finite', 'unknown-model', 'missing-required'] as const) {
      const lines = one.account.rejections[reason]!.first.map((l) => l.line);
      expect(lines.some((l) => l < cutLine) && lines.some((l) => l >= cutLine), reason).toBe(true);
    }
    expect(one.account.rejections.truncated?.count).toBe(1);
    expect(Object.keys(one.account.unknownModels).length).toBeGreaterThan(1);
    expect(Object.keys(one.account.missing).length).toBeGreaterThan(0);
  });

  it('a duplicate across the cut: the later one, after the cut, is rejected', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 200; i++) lines.push(row(i));
    lines.push(row(3)); // the same request id and model as line 4
    lines.push(row(150)); // a duplicate after the cut of a row after the cut
    for (let i = 200; i < 240; i++) lines.push(row(i));
    lines.splice(20, 0, row(10)); // a duplicate before the cut
    const file = write(lines.join('\n') + '\n');
    const cut = cutOf(file)!;
    const cutLine = lineAt(readFileSync(file), cut);
    expect(cutLine).toBeLessThan(150);
    await expectSameAsOneThread(file, BATCHES);
    const split = await collect([file], contractPlan(), { ...SPLIT, batchSize: 16 });
    expect(split.account.rejections.duplicate?.count).toBe(3);
    expect(split.account.rejections.duplicate?.first.map((l) => l.line)).toEqual([21, 202, 203]);
    expect(split.columns.request_id!.filter((r) => r === 'r3')).toHaveLength(1);
  });

  it('a cut near the end: a long line over the cut point', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(row(i));
    lines.push(row(30, { note: 'x'.repeat(20_000) }));
    lines.push('{"model": "champion", broken');
    for (let i = 31; i < 34; i++) lines.push(row(i));
    const file = write(lines.join('\n') + '\n');
    const size = statSync(file).size;
    const cut = cutOf(file)!;
    expect(cut).toBeGreaterThan(0.9 * size);
    await expectSameAsOneThread(file, BATCHES);
  });

  it('a second part of blank lines only, a first part of bad rows only', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 20; i++) rows.push(row(i));
    const blankTail = write(rows.join('\n') + '\n' + '\n'.repeat(20_000));
    expect(cutOf(blankTail)).toBeGreaterThan(rows.join('\n').length + 1);
    expect(cutOf(blankTail)).not.toBeNull();
    await expectSameAsOneThread(blankTail, BATCHES);
    const badHead = write(`{"broken": ${'1'.repeat(5000)}\n${rows.join('\n')}\n`);
    expect(cutOf(badHead)).toBe(5012);
    await expectSameAsOneThread(badHead, BATCHES);
  });

  it('randomly corrupted logs', async () => {
    const clean = readFileSync(LOGS + 'clean.jsonl');
    let state = 7;
    const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
    const bytes = [0x0a, 0x0d, 0x7b, 0x7d, 0x22, 0x2c, 0x3a, 0x5c, 0x20, 0x30, 0xef, 0xff];
    for (let k = 0; k < 12; k++) {
      const ops: [number, number, number][] = [];
      for (let j = 1 + rand(6); j > 0; j--) ops.push([rand(3), rand(clean.length), bytes[rand(bytes.length)]!]);
      if (k % 3 === 0) ops.push([3, clean.length - 1 - rand(300), 0]); // cut short
      const file = write(Buffer.concat([clean, clean, corrupt(clean, ops)]));
      await expectSameAsOneThread(file, [{ batchSize: 2 + k }, { batchSize: 1000, maxLocations: 1 + (k % 3) }]);
    }
  });

  it('the bytes of a file read in chunks: a long file, many batches', async () => {
    // over CHUNK_BYTES (1 MiB), so the parts are read in several chunks each
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) lines.push(i % 997 === 5 ? '{"model": "x" oops' : row(i % 9000, { pad: 'p'.repeat(i % 200) }));
    const file = write(lines.join('\n') + '\n');
    expect(statSync(file).size).toBeGreaterThan(2 ** 21);
    await expectSameAsOneThread(file, [{ batchSize: 1000 }, { batchSize: 4096, maxLocations: 3 }]);
  });

  it('progress grows to the total size and rows', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) lines.push(row(i));
    const file = write(lines.join('\n') + '\n');
    const seen: [number, number][] = [];
    const r = await collect([file], contractPlan(), { ...SPLIT, batchSize: 100, onProgress: (b, n) => seen.push([b, n]) });
    expect(seen.at(-1)).toEqual([statSync(file).size, r.account.rowsSeen]);
    expect(seen.every(([b, n], i) => i === 0 || (b >= seen[i - 1]![0] && n >= seen[i - 1]![1]))).toBe(true);
  });

  it('a file gone when the workers open it: a read error, as on one worker', async () => {
    for (const options of [SPLIT, { threads: true, splitMinBytes: Infinity }]) {
      const file = write(readFileSync(LOGS + 'clean.jsonl'));
      expect(cutOf(file, options) !== null).toBe(options === SPLIT);
      const { batches } = readLogs([file], contractPlan(), options);
      const it = batches[Symbol.asyncIterator]();
      const first = it.next(); // the cut is found and the workers start; they open the file later
      rmSync(file);
      await expect(first).rejects.toThrow(CliError);
      await expect(first).rejects.toThrow(/log-\d+\.jsonl: cannot read \(ENOENT/);
    }
  });

  it('stopping early ends the read', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(row(i));
    const file = write(lines.join('\n') + '\n');
    const { batches, account } = readLogs([file], contractPlan(), { ...SPLIT, batchSize: 10 });
    let n = 0;
    for await (const b of batches) {
      n += b.length;
      break;
    }
    expect(n).toBe(10);
    expect((account as IngestAccount).files).toEqual([]); // merged only when the read completes
  });
});
