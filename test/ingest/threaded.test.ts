/**
 * A threaded read (a worker parses, this thread encodes: readThreaded in index.ts) must give exactly
 * what a read in one thread gives: the same rows and columns, the same account with the same
 * locations, the same errors. Every committed log, clean and damaged, is read both ways, with small
 * batches so that many raw batches cross between the threads. A split read (one JSONL or CSV file
 * parsed in two parts at once; forced here on small files with `splitMinBytes: 0`) must too, a JSONL
 * file's both ways (its first part parsed in this thread, the default, and on a worker):
 * the committed JSONL and CSV logs, logs built to put BOMs, blank lines, bad rows and duplicates on
 * both sides of the cut, for CSV also quoted cells with newlines, commas and doubled quotes before,
 * over and after the cut point, rows with the wrong cell count at the cut, records left open or too
 * long after it (the same error, counted from the file's start), and randomly corrupted logs. (The
 * worker runs dist/ingest/worker.js: `npm test` builds first.)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { collect, contractPlan, corrupt, LOGS } from './helpers.js';
import { CSV_SPLIT_MIN_BYTES, fileParts, HERE_SPLIT_AT, jsonlSplitAt, readLogs, splitCut, splitParts, SPLIT_AT, type LogReadOptions } from '../../src/ingest/index.js';
import { resolveInputs } from '../../src/ingest/open.js';
import { JsonLineScanner } from '../../src/ingest/jsonScan.js';
import { WasmLineScanner } from '../../src/ingest/jsonlWasm.js';
import { GZIP_WEIGHT } from '../../src/ingest/prestart.js';
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
        // with the batches' arrays handed back to the reading thread as soon as each is consumed
        expect(await outcome([file], { ...options, threads: true, recycle: true })).toEqual(one);
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

  it('onParsed: once per threaded read (when every reading thread is done), never in one thread', async () => {
    for (const options of [{ threads: true }, { threads: true, splitMinBytes: 0 }] as LogReadOptions[]) {
      const calls: number[] = [];
      let batches = 0;
      const read = readLogs([LOGS + 'clean.jsonl'], contractPlan(), { ...options, batchSize: 4, onParsed: () => calls.push(batches) });
      for await (const _ of read.batches) batches++;
      expect(calls).toHaveLength(1);
      expect(calls[0]).toBeLessThanOrEqual(batches);
    }
    let called = false;
    for await (const _ of readLogs([LOGS + 'clean.jsonl'], contractPlan(), { threads: false, onParsed: () => (called = true) }).batches) {
      // read in this thread
    }
    expect(called).toBe(false);
  });
});

/** Split reads forced on whatever the size. */
const SPLIT: LogReadOptions = { threads: true, splitMinBytes: 0 };

function cutOf(file: string, options: LogReadOptions = SPLIT, plan = contractPlan()): number | null {
  return splitCut(resolveInputs([file]).sources, plan, options);
}

/** A read of `inputs` (split, forced) whose consumer stops after the first batch: the account is merged only when a read completes. */
async function expectEarlyStop(inputs: string[]): Promise<void> {
  const { batches, account } = readLogs(inputs, contractPlan(), { ...SPLIT, batchSize: 10 });
  let n = 0;
  for await (const b of batches) {
    n += b.length;
    break;
  }
  expect(n).toBe(10);
  expect((account as IngestAccount).files).toEqual([]);
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

for (const here of [true, false]) {
  describe(`split reads: one JSONL file parsed in two parts, the first ${here ? 'in this thread' : 'on a worker'}, the second on a worker`, () => {
    const saved = process.env.ABTOOL_FIRST_PART_HERE;
    beforeAll(() => {
      process.env.ABTOOL_FIRST_PART_HERE = here ? '1' : '0';
    });
    afterAll(() => {
      if (saved === undefined) delete process.env.ABTOOL_FIRST_PART_HERE;
      else process.env.ABTOOL_FIRST_PART_HERE = saved;
    });

    const jsonl = files.filter((f) => f.endsWith('.jsonl'));
    // no newline past the cut point but the last byte (the second part would be empty), or gzip: read on one worker
    // (gzip-no-extension.jsonl is gzipped: cut in its inflated bytes, see below)
    const unsplit = new Set(['damaged/empty.jsonl']);

    for (const file of jsonl) {
      const name = file.slice(LOGS.length);
      it(`${name}: same rows, account and errors as one thread`, async () => {
        expect(cutOf(file) !== null).toBe(!unsplit.has(name));
        await expectSameAsOneThread(file, BATCHES);
      });
    }

    it('the cut is just after the first newline at or past the split fraction of the size', () => {
      const bytes = readFileSync(LOGS + 'clean.jsonl');
      const cut = cutOf(LOGS + 'clean.jsonl')!;
      const at = Math.floor(bytes.length * jsonlSplitAt());
      expect(bytes[cut - 1]).toBe(10);
      expect(cut - 1).toBeGreaterThanOrEqual(at);
      expect(bytes.subarray(at, cut - 1).includes(10)).toBe(false);
      expect(cutOf(write('{}\n'.repeat(2) + '{"a": 1}'))).toBe(6);
      expect(cutOf(write('{"a": 1}\n'))).toBeNull();
    });

    it('only for one plain JSONL (or CSV) file over the threshold, not --strict, not accepting any model', () => {
      const size = statSync(LOGS + 'clean.jsonl').size;
      expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, splitMinBytes: size })).not.toBeNull();
      expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, splitMinBytes: size + 1 })).toBeNull();
      expect(cutOf(LOGS + 'clean.jsonl', { ...SPLIT, strict: true })).toBeNull();
      expect(cutOf(LOGS + 'clean.jsonl', SPLIT, { ...contractPlan(), acceptAnyModel: true })).toBeNull();
      expect(cutOf(LOGS + 'clean.jsonl.gz')).not.toBeNull(); // cut in its inflated bytes: see below
      expect(cutOf(LOGS + 'clean.csv')).not.toBeNull(); // CSV too: see below
      expect(cutOf(LOGS + 'clean.arrows')).toBeNull();
      expect(splitCut(resolveInputs([LOGS + 'clean.jsonl', LOGS + 'damaged/malformed.jsonl']).sources, contractPlan(), SPLIT)).toBeNull();
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
      const cut = bytes.indexOf(10, Math.floor(bytes.length * jsonlSplitAt())) + 1;
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

    it('lines across chunks and a line longer than a chunk: the reused chunk buffer leaves them whole', async () => {
      // the parts are read into one buffer, chunk after chunk: a line carried over must be a copy
      const lines: string[] = [];
      for (let i = 0; i < 9000; i++) lines.push(row(i, { pad: i === 4321 ? 'q'.repeat(2.5 * 2 ** 20) : 'p'.repeat((i * 37) % 300) }));
      const file = write(lines.join('\n') + '\n');
      expect(statSync(file).size).toBeGreaterThan(3 * 2 ** 20);
      expect(cutOf(file)).not.toBeNull();
      await expectSameAsOneThread(file, [{ batchSize: 1000 }]);
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
        // (a first part read in this thread may have opened the file already: its rows come, then the
        // second part's error)
        const read = (async () => {
          for (let r = await first; !r.done; r = await it.next());
        })();
        await expect(read).rejects.toThrow(CliError);
        await expect(read).rejects.toThrow(/log-\d+\.jsonl: cannot read \(ENOENT/);
      }
    });

    it('stopping early ends the read', async () => {
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(row(i));
      await expectEarlyStop([write(lines.join('\n') + '\n')]);
    });

  });
}

describe('split reads of one gzipped JSON Lines file: both parts inflate it, cut at a newline of its inflated bytes', () => {
  const partsOf = (file: string, options: LogReadOptions = SPLIT) => splitParts(resolveInputs([file]).sources, contractPlan(), options);
  const gz = (name: string, text: string | Buffer): string => {
    const p = join(tmp, name);
    writeFileSync(p, gzipSync(text));
    return p;
  };
  /** the inflated offset just after the first newline at or past the split fraction of the inflated size (where the parts meet) */
  const cutIn = (text: Buffer): number => text.indexOf(10, Math.floor(text.length * jsonlSplitAt())) + 1;

  for (const name of ['clean.jsonl.gz', 'damaged/gzip-no-extension.jsonl', 'damaged/truncated.jsonl.gz', 'damaged/corrupt.jsonl.gz']) {
    it(`${name}: same rows, account and errors as one thread`, async () => {
      expect(partsOf(LOGS + name)).not.toBeNull();
      await expectSameAsOneThread(LOGS + name, BATCHES);
    });
  }

  it('bad rows on both sides of the cut, a duplicate across it, a BOM, CRLF, blank lines and a truncated last line', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      if (i % 50 === 10) lines.push(`{"model": "champion", "user_id": "u${i}", broken`);
      else if (i % 50 === 20) lines.push(row(i, { latency_ms: 'slow' }));
      else if (i % 50 === 30) lines.push(row(i, { model: `m${i % 100}` }));
      else if (i % 37 === 5) lines.push('');
      else lines.push(row(i));
    }
    lines.push(row(3)); // a duplicate, after the cut, of a row before it
    const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n' + row(500).slice(0, 30))]);
    const file = gz('mixed.jsonl.gz', text);
    const parts = partsOf(file)!;
    expect(parts.map((p) => [p.start, p.end, p.gzip])).toEqual([
      [0, Math.floor(text.length * jsonlSplitAt()), true],
      [Math.floor(text.length * jsonlSplitAt()), null, true],
    ]);
    await expectSameAsOneThread(file, BATCHES);
    const one = await collect([file], contractPlan(), { threads: false, maxLocations: 100 });
    const cutLine = lineAt(text, cutIn(text));
    for (const reason of ['malformed', 'wrong-type', 'unknown-model'] as const) {
      const at = one.account.rejections[reason]!.first.map((l) => l.line);
      expect(at.some((l) => l < cutLine) && at.some((l) => l >= cutLine), reason).toBe(true);
    }
    expect(one.account.rejections.duplicate!.first.map((l) => l.line)).toEqual([401]);
    expect(one.account.rejections.truncated!.count).toBe(1);
    expect(one.account.rejections.malformed!.first[0]!.line).toBe(11); // the BOM was taken off line 1: it is a row
    expect(one.account.files[0]!.gzip).toBe(true);
  });

  it('a line longer than the inflated chunks (1 MiB) over the cut point: the cut is the newline after it', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) lines.push(row(i));
    lines.push(row(40, { note: 'x'.repeat(2_500_000) }));
    for (let i = 41; i < 80; i++) lines.push(row(i));
    const text = Buffer.from(lines.join('\n') + '\n');
    const file = gz('long.jsonl.gz', text);
    expect(partsOf(file)).not.toBeNull();
    expect(lineAt(text, cutIn(text))).toBe(42); // the long line (41) ends the first part
    await expectSameAsOneThread(file, [{ batchSize: 7 }, { batchSize: 1000 }]);
  });

  it('no newline past the cut point but the last byte, or none at all: the second part is empty', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 5; i++) lines.push(row(i));
    lines.push(row(5, { note: 'y'.repeat(5000) }));
    const ends = gz('ends.jsonl.gz', lines.join('\n') + '\n');
    const open = gz('open.jsonl.gz', lines.join('\n'));
    for (const file of [ends, open]) {
      expect(partsOf(file)).not.toBeNull();
      await expectSameAsOneThread(file, [{ batchSize: 2 }, { batchSize: 1000 }]);
    }
  });

  it('gzip data cut off or corrupt on either side of the cut: the same error, the rows counted from the start', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(row(i));
    const whole = gzipSync(lines.join('\n') + '\n');
    // cut off near the end (after the cut: the second part's error), and corrupt near the start (the first part's)
    const cutOff = join(tmp, 'cut-off.jsonl.gz');
    writeFileSync(cutOff, Buffer.concat([whole.subarray(0, whole.length - 900), whole.subarray(whole.length - 8)]));
    const early = Buffer.from(whole);
    for (let k = 400; k < 440; k++) early[k] = early[k]! ^ 0x5a;
    const corrupt = join(tmp, 'corrupt-early.jsonl.gz');
    writeFileSync(corrupt, early);
    for (const file of [cutOff, corrupt]) {
      expect(partsOf(file)).not.toBeNull();
      const one = await outcome([file], { threads: false });
      expect(one).toEqual({ exit: 'data', message: expect.stringMatching(/corrupt or truncated gzip data \(.*\) — \d+ rows read before the error$/) });
      for (const batchSize of [3, 1000]) expect(await outcome([file], { ...SPLIT, batchSize })).toEqual(await outcome([file], { threads: false, batchSize }));
    }
  });

  it('only for a file named JSON Lines whose trailer can be its inflated size, over the threshold', async () => {
    const text = Array.from({ length: 400 }, (_, i) => row(i)).join('\n') + '\n';
    const file = gz('sized.jsonl.gz', text);
    const inflated = Buffer.byteLength(text);
    expect(partsOf(file, { ...SPLIT, splitMinBytes: inflated })).not.toBeNull();
    expect(partsOf(file, { ...SPLIT, splitMinBytes: inflated + 1 })).toBeNull();
    expect(partsOf(file, { ...SPLIT, strict: true })).toBeNull();
    expect(partsOf(gz('sized.csv.gz', text))).toBeNull();
    expect(partsOf(gz('sized.gz', text))).toBeNull(); // the content decides the format: not split
    // a cut at offset 0 (a trailer of a byte or two) would start the second part at the file's start
    for (const tiny of ['\n', '{}']) {
      const file = gz('tiny.jsonl.gz', tiny);
      expect(partsOf(file)).toBeNull();
      await expectSameAsOneThread(file, [{ batchSize: 1 }]);
    }
    // two gzip members: the trailer is the second's size, smaller than the file
    const two = join(tmp, 'members.jsonl.gz');
    writeFileSync(two, Buffer.concat([gzipSync(text), gzipSync(row(9) + '\n')]));
    expect(partsOf(two)).toBeNull();
  });

  it('stopping early ends the read', async () => {
    const file = gz('stop.jsonl.gz', Array.from({ length: 5000 }, (_, i) => row(i)).join('\n') + '\n');
    expect(partsOf(file)).not.toBeNull();
    await expectEarlyStop([file]);
  });
});

describe('split reads of several JSON Lines files: the first files parsed in this thread, the rest on a worker', () => {
  const partsOf = (inputs: string[], options: LogReadOptions = SPLIT, plan = contractPlan()) => fileParts(resolveInputs(inputs).sources, plan, options);
  const sameAsOneThread = async (inputs: string[], optionsList: LogReadOptions[]): Promise<void> => {
    for (const options of optionsList) {
      const one = await outcome(inputs, { ...options, threads: false });
      const split = await outcome(inputs, { ...options, ...SPLIT });
      expect(split, JSON.stringify(options)).toEqual(one);
    }
  };
  /** n rows from `from` (row), some replaced by `at` */
  const rows = (from: number, n: number, at: (i: number) => string | undefined = () => undefined): string =>
    Array.from({ length: n }, (_, k) => at(from + k) ?? row(from + k)).join('\n') + '\n';

  it('every committed JSON Lines log, damaged ones too, in one read: same rows, account and errors as one thread', async () => {
    // corrupt.jsonl.gz and truncated.jsonl.gz end the read with their error: each read once, last
    const jsonl = files.filter((f) => /\.jsonl(\.gz)?$/.test(f) && !/(corrupt|truncated)\.jsonl\.gz$/.test(f));
    expect(jsonl.length).toBeGreaterThan(12);
    expect(partsOf(jsonl)).not.toBeNull();
    await sameAsOneThread(jsonl, BATCHES);
    for (const last of ['damaged/corrupt.jsonl.gz', 'damaged/truncated.jsonl.gz']) {
      const inputs = [...jsonl, LOGS + last];
      const [, second] = partsOf(inputs)!;
      expect(second.files[1]).toBe(inputs.length); // the error is in the worker's part
      const one = await outcome(inputs, { threads: false });
      expect(one).toEqual({ exit: 'data', message: expect.stringContaining(`${last}: corrupt or truncated gzip data`) });
      expect(await outcome(inputs, SPLIT)).toEqual(one);
    }
    // and in this thread's part
    const early = [LOGS + 'damaged/corrupt.jsonl.gz', ...jsonl];
    expect(partsOf(early)![0].files).toEqual([0, expect.any(Number)]);
    expect(await outcome(early, SPLIT)).toEqual(await outcome(early, { threads: false }));
  });

  it('plain and gzipped files, bad rows on both sides of the cut, a duplicate across it', async () => {
    const dir = mkdtempSync(join(tmp, 'files-'));
    const bad = (i: number): string | undefined =>
      i === 5 ? '{"model": "champion", broken' : i === 130 ? row(20) : i === 170 ? row(i, { latency_ms: 'slow' }) : i === 190 ? row(i, { model: 'other' }) : undefined;
    writeFileSync(join(dir, 'a.jsonl'), rows(0, 60, bad));
    writeFileSync(join(dir, 'b.jsonl.gz'), gzipSync(rows(60, 60, bad)));
    writeFileSync(join(dir, 'c.jsonl'), rows(120, 60, bad));
    writeFileSync(join(dir, 'd.ndjson'), rows(180, 60, bad).replace(/\n$/, '')); // no newline at the end
    const parts = partsOf([dir])!;
    // a.jsonl here (a malformed line), the rest on the worker (a duplicate of a row of a.jsonl, and more)
    expect(parts).toEqual([{ files: [0, 1] }, { files: [1, 4] }]);
    await sameAsOneThread([dir], BATCHES);
    const { account } = await collect([dir], contractPlan(), SPLIT);
    expect(account.files.map((f) => [f.path.slice(dir.length + 1), f.rowsSeen])).toEqual([['a.jsonl', 60], ['b.jsonl.gz', 60], ['c.jsonl', 60], ['d.ndjson', 60]]);
    // each file numbers its own lines; the duplicate (row 130, in c.jsonl, of row 20) is the later one
    expect(account.rejections.duplicate!.first).toEqual([expect.objectContaining({ file: join(dir, 'c.jsonl'), line: 11 })]);
    expect(account.rejections.malformed!.first).toEqual([expect.objectContaining({ file: join(dir, 'a.jsonl'), line: 6 })]);
    expect(account.rejections['wrong-type']!.first).toEqual([expect.objectContaining({ file: join(dir, 'c.jsonl'), line: 51 })]);
    expect(account.rejections['unknown-model']!.first).toEqual([expect.objectContaining({ file: join(dir, 'd.ndjson'), line: 11 })]);
  });

  it('only for two JSON Lines files or more (by their names) over the threshold, cut near HERE_SPLIT_AT, not --strict, not accepting any model', () => {
    const dir = mkdtempSync(join(tmp, 'which-'));
    const f = (name: string, n: number): string => {
      const p = join(dir, name);
      writeFileSync(p, name.endsWith('.gz') ? gzipSync(rows(0, n)) : rows(0, n));
      return p;
    };
    const [a, b, c, d] = [f('a.jsonl', 40), f('b.jsonl', 40), f('c.jsonl', 40), f('d.jsonl', 40)];
    const total = [a, b, c, d].reduce((sum, p) => sum + statSync(p).size, 0);
    expect(HERE_SPLIT_AT).toBe(0.25);
    expect(partsOf([a, b, c, d])).toEqual([{ files: [0, 1] }, { files: [1, 4] }]); // a quarter
    expect(partsOf([a, b, c, d, f('e.jsonl', 40)])).toEqual([{ files: [0, 1] }, { files: [1, 5] }]); // a fifth is nearer than two fifths
    expect(partsOf([a, b, c, d], { ...SPLIT, splitMinBytes: total })).not.toBeNull();
    expect(partsOf([a, b, c, d], { ...SPLIT, splitMinBytes: total + 1 })).toBeNull();
    expect(partsOf([a])).toBeNull(); // one file: splitParts cuts it
    expect(partsOf([a, b, c, d], { ...SPLIT, strict: true })).toBeNull();
    expect(partsOf([a, b, c, d], SPLIT, { ...contractPlan(), acceptAnyModel: true })).toBeNull();
    expect(partsOf([a, b, LOGS + 'clean.csv', d])).toBeNull();
    expect(partsOf([a, b, LOGS + 'clean.arrow'])).toBeNull();
    // a gzipped byte weighs GZIP_WEIGHT plain ones: 200 rows gzipped (~3 KB) weigh more than 40 plain (~7 KB)
    const gz = f('g.jsonl.gz', 200);
    const weight = GZIP_WEIGHT * statSync(gz).size;
    const share = (bytes: number, all: number): number => Math.abs(bytes / all - HERE_SPLIT_AT);
    // weighed, the cut after the gzipped file is nearest a quarter; by bytes, the one after a
    expect(share(weight, weight + total)).toBeLessThan(share(weight + statSync(a).size, weight + total));
    expect(share(statSync(gz).size + statSync(a).size, statSync(gz).size + total)).toBeLessThan(share(statSync(gz).size, statSync(gz).size + total));
    expect(partsOf([gz, a, b, c, d])).toEqual([{ files: [0, 1] }, { files: [1, 5] }]);
    // a cut leaving this thread less than a fifth, or more than three fifths, of the weight: no split
    const big = f('big.jsonl', 200);
    expect(partsOf([big, a])).toBeNull();
    expect(partsOf([a, big])).toBeNull();
    expect(partsOf([a, b, big])).toEqual([{ files: [0, 2] }, { files: [2, 3] }]);
    const saved = process.env.ABTOOL_FIRST_PART_HERE;
    process.env.ABTOOL_FIRST_PART_HERE = '0';
    try {
      expect(partsOf([a, b, c, d])).toBeNull(); // both parts on workers: one worker reads every file
    } finally {
      if (saved === undefined) delete process.env.ABTOOL_FIRST_PART_HERE;
      else process.env.ABTOOL_FIRST_PART_HERE = saved;
    }
  });

  it('stopping early ends the read', async () => {
    const dir = mkdtempSync(join(tmp, 'stop-'));
    for (let k = 0; k < 4; k++) writeFileSync(join(dir, `${k}.jsonl`), rows(k * 3000, 3000));
    expect(partsOf([dir])).not.toBeNull();
    await expectEarlyStop([dir]);
  });
});

describe("a split JSONL read's first part, parsed in this thread", () => {
  // these count and fail JsonLineScanner's calls: every line takes that way (not the WebAssembly one)
  const saved = process.env.ABTOOL_WASM;
  beforeAll(() => {
    process.env.ABTOOL_WASM = '0';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ABTOOL_WASM;
    else process.env.ABTOOL_WASM = saved;
  });

  /** A 100,000-line file (~20 MB) read split, its consumer stopping at the first batch: the spy's calls then, and 400 ms later. */
  async function callsAroundEarlyStop(spy: { mock: { calls: unknown[] } }): Promise<[number, number]> {
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(row(i));
    const file = write(lines.join('\n') + '\n');
    const { batches } = readLogs([file], contractPlan(), { ...SPLIT, batchSize: 10 });
    for await (const _ of batches) break;
    const atBreak = spy.mock.calls.length;
    await new Promise((r) => setTimeout(r, 400));
    return [atBreak, spy.mock.calls.length];
  }

  it('stops at the end of its chunk when the consumer stops early, instead of parsing the rest of its part', async () => {
    // the first part (HERE_SPLIT_AT, a quarter) is ~5 chunks of 1 MiB, each ~5000 lines
    const scans = vi.spyOn(JsonLineScanner.prototype, 'scan');
    try {
      const [atBreak, after] = await callsAroundEarlyStop(scans);
      // this thread's scanner only (the reading thread's is its own): at most about one more chunk
      expect(atBreak).toBeGreaterThan(0);
      expect(after - atBreak).toBeLessThan(12_000);
      expect(after).toBeLessThan(0.6 * 100_000 * HERE_SPLIT_AT);
    } finally {
      scans.mockRestore();
    }
  });

  it('the same the fast way (the WebAssembly extractor, up to 256 lines a call)', async () => {
    process.env.ABTOOL_WASM = '1';
    const calls = vi.spyOn(WasmLineScanner.prototype, 'scan');
    try {
      const [atBreak, after] = await callsAroundEarlyStop(calls);
      // this thread's calls only: at most about one more chunk (~5000 lines, ~20 calls); the whole part would be ~100
      expect(atBreak).toBeGreaterThan(0);
      expect(after - atBreak).toBeLessThan(30);
      expect(after).toBeLessThan((0.6 * 100_000 * HERE_SPLIT_AT) / 256);
    } finally {
      calls.mockRestore();
      process.env.ABTOOL_WASM = '0';
    }
  });

  it('an error in it is the error a read in one thread gives, with the rows read before it', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(row(i));
    const file = write(lines.join('\n') + '\n');
    const original = JsonLineScanner.prototype.scan;
    let calls = 0;
    const failing = vi.spyOn(JsonLineScanner.prototype, 'scan').mockImplementation(function (this: JsonLineScanner, buf, s, e) {
      if (++calls === 3000) throw new Error('boom');
      return original.call(this, buf, s, e);
    });
    try {
      const one = await outcome([file], { threads: false });
      calls = 0;
      const split = await outcome([file], SPLIT);
      expect(one).toEqual({ exit: 'data', message: expect.stringMatching(/cannot read \(boom\) — 2999 rows read before the error$/) });
      expect(split).toEqual(one);
    } finally {
      failing.mockRestore();
    }
  });
});

/** The CSV header of csvRow's cells. */
const CSV_HEADER = 'ts,request_id,user_id,model,country,prediction,score,latency_ms,error,converted,note';

/** A CSV cell quoted as RFC 4180 does (quotes doubled). */
const quote = (text: string): string => `"${text.replaceAll('"', '""')}"`;

/** A CSV row of CSV_HEADER's cells; `over` replaces cells by name (the text as written, quote it yourself). */
function csvRow(i: number, over: Record<string, string> = {}): string {
  const cells: Record<string, string> = {
    ts: String(1769860800000 + i * 1000),
    request_id: `r${i}`,
    user_id: `u${i % 37}`,
    model: i % 3 === 0 ? 'challenger' : 'champion',
    country: ['US', 'DE', '', 'BR'][i % 4]!,
    prediction: i % 5 === 0 ? '1' : 'click',
    score: i % 11 === 0 ? '' : String((i % 17) / 17),
    latency_ms: String(20 + (i % 13)),
    error: String(i % 19 === 0),
    converted: i % 7 === 0 ? '1' : '0',
    note: i % 4 === 1 ? `n${i}` : '',
    ...over,
  };
  return CSV_HEADER.split(',')
    .map((name) => cells[name]!)
    .join(',');
}

function writeCsv(text: string | Buffer): string {
  const p = join(tmp, `log-${written++}.csv`);
  writeFileSync(p, text);
  return p;
}

/** A CSV file of `n` rows (csvRow) where row i is `at(i)` when that gives a line; the bytes of row i start at starts[i]. */
function csvLog(n: number, at: (i: number) => string | undefined = () => undefined, eol = '\n'): { text: string; starts: number[] } {
  const parts = [CSV_HEADER + eol];
  let size = Buffer.byteLength(parts[0]!);
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    starts.push(size);
    const line = (at(i) ?? csvRow(i)) + eol;
    parts.push(line);
    size += Buffer.byteLength(line);
  }
  return { text: parts.join(''), starts };
}

/**
 * A CSV file (csvLog(n, at(i, k))) whose second part starts with row k, with no quote before the
 * cut: `at` is told k, and k (and a padding cell of row 0) are sought until the cut is there.
 */
function csvLogCutAt(n: number, at: (i: number, k: number) => string | undefined): { file: string; text: string; k: number; cut: number } {
  const k0 = Math.floor(n * SPLIT_AT);
  for (let pad = 0; pad < 200; pad++) {
    for (let k = k0 - 20; k < k0 + 20; k++) {
      const { text, starts } = csvLog(n, (i) => at(i, k) ?? (i === 0 ? csvRow(0, { note: 'p'.repeat(pad) }) : undefined));
      // quote-free before the cut: the first newline at or after the target
      if (text.indexOf('\n', Math.floor(Buffer.byteLength(text) * SPLIT_AT)) + 1 !== starts[k]) continue;
      const file = writeCsv(text);
      expect(cutOf(file)).toBe(starts[k]);
      return { file, text, k, cut: starts[k]! };
    }
  }
  throw new Error('no such cut');
}

/** Physical line (1-based) of a byte offset. */
const lineOf = (text: string | Buffer, offset: number): number => lineAt(Buffer.from(text), offset);

describe('split reads: one CSV file parsed in two parts on two workers', () => {
  const csv = [...files.filter((f) => f.endsWith('.csv')), LOGS + 'dir/sub/b.csv'];
  // (wrong-fields.csv's quote, `"d`, left open by the end of the file, is after the cut)
  const unsplit = new Set<string>();

  it('the committed CSV logs include quoted cells', () => {
    expect(csv.length).toBeGreaterThanOrEqual(5);
    expect(readFileSync(LOGS + 'clean.csv', 'latin1')).toContain('"');
  });

  for (const file of csv) {
    const name = file.slice(LOGS.length);
    it(`${name}: same rows, account and errors as one thread`, async () => {
      expect(cutOf(file) !== null, 'split').toBe(!unsplit.has(name));
      await expectSameAsOneThread(file, BATCHES);
    });
  }

  it('the cut is after the first record-ending newline at or past SPLIT_AT of the size', () => {
    const bytes = readFileSync(LOGS + 'clean.csv');
    const cut = cutOf(LOGS + 'clean.csv')!;
    const at = Math.floor(bytes.length * SPLIT_AT);
    expect(bytes[cut - 1]).toBe(10);
    expect(cut - 1).toBeGreaterThanOrEqual(at);
    expect(bytes.subarray(at, cut - 1).includes(10)).toBe(false);
    expect(cutOf(writeCsv('a,b\n1,2\n3,4\n'))).toBe(8);
    expect(cutOf(writeCsv('a,b\n1,2\n'))).toBe(4); // just after the header
    expect(cutOf(writeCsv('a,b\n1,2'))).toBe(4);
    expect(cutOf(writeCsv('\na,b\n'))).toBeNull(); // nothing after the cut
  });

  it('a quoted cell with newlines over the cut point: the cut is after the record', async () => {
    const note = quote('line one\nline "two", with a comma\r\nline three\n\n,"\n'.repeat(20));
    let checked = 0;
    for (let r = 0; r < 100; r++) {
      const { text, starts } = csvLog(100, (i) => (i === r ? csvRow(i, { note }) : undefined));
      const target = Math.floor(Buffer.byteLength(text) * SPLIT_AT);
      const noteStart = starts[r]! + csvRow(r, { note }).indexOf('"');
      if (target <= noteStart || target >= starts[r + 1]! - 3 || checked === 3) continue;
      // the target falls inside the quoted cell of row r
      const file = writeCsv(text);
      expect(cutOf(file)).toBe(starts[r + 1]);
      await expectSameAsOneThread(file, [{ batchSize: 3 }]);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('only for a plain CSV file whose quotes are where RFC 4180 puts them', async () => {
    const ok = csvLog(60, (i) => (i % 5 === 0 ? csvRow(i, { note: quote(`a "b", c\nd`) }) : undefined)).text;
    expect(cutOf(writeCsv(ok))).not.toBeNull();
    const bad: Record<string, string> = {
      'a quote inside an unquoted cell': csvLog(60, (i) => (i === 5 ? csvRow(i, { note: '5" screen' }) : undefined)).text,
      'a quote after spaces': csvLog(60, (i) => (i === 5 ? csvRow(i, { note: ' "x"' }) : undefined)).text,
      'text after a closing quote': csvLog(60, (i) => (i === 5 ? csvRow(i, { note: '"x"y' }) : undefined)).text,
      'a quote after a lone CR': csvLog(60, (i) => (i === 5 ? csvRow(i, { note: '\r"x"' }) : undefined)).text,
      'a quote in the header': `"ts",request_id\n` + csvLog(60).text.split('\n').slice(1).join('\n'),
      'an unclosed quote swallowing the file': csvLog(60, (i) => (i === 5 ? csvRow(i, { note: '"open' }) : undefined)).text,
      'no newline in the first MiB': 'x'.repeat(2 ** 20 + 10) + '\n' + csvLog(3).text + csvLog(20000).text,
      'a line of over 2 MiB': csvLog(20).text + 'y'.repeat(2 ** 21 + 10) + '\n' + csvLog(20000).text,
    };
    for (const [what, text] of Object.entries(bad)) expect(cutOf(writeCsv(text)), what).toBeNull();
    // blank lines and the header over the cut point: the second part starts after the header
    const blankHead = '\n \n'.repeat(150) + csvLog(3).text;
    expect(cutOf(writeCsv(blankHead))).toBe(blankHead.indexOf(CSV_HEADER) + CSV_HEADER.length + 1);
    await expectSameAsOneThread(writeCsv(blankHead), [{ batchSize: 2 }]);
    // a quote after the cut does not matter
    const late = csvLog(60, (i) => (i === 55 ? csvRow(i, { note: '5" screen' }) : undefined)).text;
    expect(cutOf(writeCsv(late))).not.toBeNull();
    // by content too (no extension, not starting with '{'), but not gzip, --strict or any-model plans
    const plain = join(tmp, `log-${written++}`);
    writeFileSync(plain, ok);
    expect(cutOf(plain)).toBe(cutOf(writeCsv(ok)));
    expect(cutOf(writeCsv(ok), { ...SPLIT, strict: true })).toBeNull();
    // only when asked (CSV_SPLIT_MIN_BYTES): not by default, whatever the size
    expect(CSV_SPLIT_MIN_BYTES).toBe(Infinity);
    expect(cutOf(writeCsv(ok), { threads: true, splitMinBytes: Buffer.byteLength(ok) })).not.toBeNull();
    expect(cutOf(writeCsv(ok), { threads: true, splitMinBytes: Buffer.byteLength(ok) + 1 })).toBeNull();
    if (process.env.ABTOOL_SPLIT_MIN_BYTES === undefined) expect(cutOf(writeCsv(ok), { threads: true })).toBeNull();
    expect(cutOf(writeCsv(ok), SPLIT, { ...contractPlan(), acceptAnyModel: true })).toBeNull();
  });

  it('quoted cells with newlines, commas and doubled quotes on both sides of the cut and over it', async () => {
    const notes = ['"a\nb"', quote('x,y'), quote('say ""hi""'), quote('\n'), quote(''), quote('multi\r\nline\nthree, "quoted"')];
    for (const eol of ['\n', '\r\n']) {
      for (let shift = 0; shift < 6; shift++) {
        const { text } = csvLog(90, (i) => (i % 6 === shift ? csvRow(i, { note: notes[(i / 6) % notes.length | 0]!, country: i % 12 === 0 ? quote('U,S') : 'US' }) : undefined), eol);
        const file = writeCsv(text);
        expect(cutOf(file)).not.toBeNull();
        await expectSameAsOneThread(file, shift === 0 ? BATCHES : [{ batchSize: 2 + shift }]);
      }
    }
    const { text } = csvLog(90, (i) => (i % 6 === 0 ? csvRow(i, { note: quote('a\nb\nc') }) : undefined));
    const one = await collect([writeCsv(text)], contractPlan(), { threads: false, maxLocations: 100 });
    expect(one.account.rowsRejected).toBe(0);
    expect(one.columns.request_id).toHaveLength(90);
  });

  it('a BOM, CRLF line ends and blank lines on both sides of the cut', async () => {
    for (const quoted of [false, true]) {
      const { text } = csvLog(120, (i) => (i % 9 === 4 ? '' : i % 10 === 7 ? '  \t ' : quoted && i % 13 === 0 ? csvRow(i, { note: quote('q\r\nq') }) : undefined), '\r\n');
      const file = writeCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('\n\r\n' + text)]));
      expect(cutOf(file)).not.toBeNull();
      await expectSameAsOneThread(file, BATCHES);
      const one = await collect([file], contractPlan(), { threads: false });
      expect(one.account.blankLines).toBeGreaterThan(20);
      expect(one.account.rowsRejected).toBe(0);
    }
  });

  it('a line starting with a BOM just after the cut, with and without quotes before it and in it', async () => {
    for (const [before, after] of [
      [false, false],
      [false, true],
      [true, false],
      [true, true],
    ]) {
      const { text, starts } = csvLog(40, (i) => (before && i === 3 ? csvRow(i, { note: quote('x\ny') }) : undefined));
      const bytes = Buffer.from(text);
      const cut = bytes.indexOf(10, Math.floor(bytes.length * SPLIT_AT)) + 1;
      const k = starts.indexOf(cut);
      expect(k).toBeGreaterThan(0);
      const line = after ? csvRow(k, { model: quote('champion'), note: quote('b\nom') }) : csvRow(k);
      const file = writeCsv(Buffer.concat([bytes.subarray(0, cut), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(line + '\n'), bytes.subarray(starts[k + 1]!)]));
      expect(cutOf(file)).toBe(cut);
      await expectSameAsOneThread(file, BATCHES);
    }
  });

  it('rows with the wrong cell count on both sides of the cut, and just before and after it', async () => {
    for (const [lastA, firstB, blanks] of [
      [true, false, 0],
      [false, true, 0],
      [true, true, 0],
      [true, false, 3],
      [true, true, 2],
    ] as const) {
      const { file, k } = csvLogCutAt(200, (i, k) => {
        if (i === k - 1) return (lastA ? 'champion,u2,r-short' : csvRow(i)) + '\n'.repeat(blanks);
        if (i === k && firstB) return csvRow(k) + ',x,y';
        return i % 40 === 9 ? 'champion,u1' : i % 40 === 29 ? csvRow(i) + ',extra' : undefined;
      });
      expect(lineOf(readFileSync(file), cutOf(file)!)).toBe(k + 2 + blanks);
      await expectSameAsOneThread(file, BATCHES);
      const one = await collect([file], contractPlan(), { threads: false, maxLocations: 100 });
      const wrong = one.account.rejections['wrong-field-count']!.first.map((l) => l.line);
      if (lastA) expect(wrong).toContain(k + 1);
      if (firstB) expect(wrong).toContain(k + 2 + blanks);
    }
  });

  it('a truncated last record: too few cells without a newline, or a quote left open', async () => {
    for (const tail of ['champion,u1,r9', `${csvRow(999, { note: '"open' })}`, `${csvRow(999, { note: '"open\nstill' })}`, csvRow(999) + '\r']) {
      const file = writeCsv(csvLog(100, (i) => (i % 9 === 0 ? csvRow(i, { note: quote('a\nb') }) : undefined)).text + tail);
      expect(cutOf(file)).not.toBeNull();
      await expectSameAsOneThread(file, BATCHES);
    }
    const file = writeCsv(csvLog(100).text + 'champion,u1,r9');
    const split = await collect([file], contractPlan(), SPLIT);
    expect(split.account.rejections.truncated).toEqual({ count: 1, first: [{ file, line: 102, message: expect.any(String) }] });
  });

  it('a quote in the second part left open, swallowing the rest: the same error, counted from the start', async () => {
    for (const heldLast of [false, true]) {
      const { file, k } = csvLogCutAt(200, (i, k) =>
        i === 150 ? csvRow(i, { note: '"never closed' }) : i % 50 === 20 ? 'champion,u1' : heldLast && i === k - 1 ? 'champion,u1,short' : undefined,
      );
      expect(k).toBeLessThan(150);
      await expectSameAsOneThread(file, BATCHES);
      const e = (await outcome([file], SPLIT)) as { exit: string; message: string };
      expect(e.exit).toBe('data');
      expect(e.message).toMatch(/:152: a quote opened on line 152 .* \(50 lines\) — 150 rows read before it$/);
    }
  });

  it('a record too long in the second part, just after a row with the wrong cell count that ends the first', async () => {
    // one read still holds that row when the error comes: it is not among the rows read before it
    const long = 'z'.repeat(17 * 2 ** 20) + '\n';
    const tail = csvLog(10).text.slice(CSV_HEADER.length + 1);
    const rows = csvLog(200_000).text.split('\n').map((l) => l + '\n'); // rows[0] the header
    const ends: number[] = [0];
    for (const r of rows) ends.push(ends.at(-1)! + r.length);
    for (const held of ['champion,u1,short\n', '']) {
      // rows[0..m) then `held`, a blank line, the long line and the tail; the cut just before or after the blank line
      // (and a padding cell in the first row)
      let m = 1000;
      let pad = 0;
      search: for (; m < rows.length; m++) {
        for (pad = 0; pad < 100; pad++) {
          const before = ends[m]! + pad + held.length; // where the blank line starts
          const target = Math.floor((before + 1 + long.length + tail.length) * SPLIT_AT);
          if (target >= before - 1 && target <= before) break search;
        }
      }
      const padded = [rows[0]!, rows[1]!.replace(/\n$/, 'p'.repeat(pad) + '\n'), ...rows.slice(2, m)];
      const file = writeCsv(padded.join('') + held + '\n' + long + tail);
      const line = lineOf(readFileSync(file), cutOf(file)!);
      expect(line).toBeGreaterThanOrEqual(m + (held ? 1 : 0) + 1);
      expect(line).toBeLessThanOrEqual(m + (held ? 1 : 0) + 2);
      const one = await outcome([file], { threads: false });
      const split = await outcome([file], SPLIT);
      expect(split).toEqual(one);
      const longLine = m + (held ? 1 : 0) + 2;
      expect((one as { message: string }).message).toMatch(new RegExp(`:${longLine}: a CSV record longer than 16 MiB \\(an unclosed quote\\?\\) — ${m - 1} rows read before it$`));
    }
  });

  it('bad rows of every kind on both sides of the cut', async () => {
    const { text } = csvLog(300, (i) => {
      if (i % 50 === 10) return csvRow(i, { latency_ms: 'slow' });
      if (i % 50 === 25) return csvRow(i, { score: 'NaN' });
      if (i % 50 === 30) return csvRow(i, { model: `m${i % 100}` });
      if (i % 50 === 40) return csvRow(i, { user_id: '' });
      if (i % 50 === 45) return csvRow(i, { note: quote('x\ny') }) + ',';
      return undefined;
    });
    const file = writeCsv(text);
    const cut = cutOf(file)!;
    await expectSameAsOneThread(file, BATCHES);
    const one = await collect([file], contractPlan(), { threads: false, maxLocations: 100 });
    const cutLine = lineOf(text, cut);
    for (const reason of ['wrong-type', 'non-finite', 'unknown-model', 'missing-required', 'wrong-field-count'] as const) {
      const lines = one.account.rejections[reason]!.first.map((l) => l.line);
      expect(lines.some((l) => l < cutLine) && lines.some((l) => l >= cutLine), reason).toBe(true);
    }
  });

  it('a header without the model column, or with a column twice', async () => {
    for (const header of ['ts,request_id,user_id,country', 'model,user_id,model,request_id,user_id']) {
      const n = header.split(',').length;
      const lines = [header];
      for (let i = 0; i < 100; i++) lines.push(Array.from({ length: n }, (_, c) => (c === 0 ? ['champion', 'challenger', 'x'][i % 3] : `v${i}-${c}`)).join(','));
      const file = writeCsv(lines.join('\n') + '\n');
      expect(cutOf(file)).not.toBeNull();
      await expectSameAsOneThread(file, BATCHES);
    }
  });

  it('a duplicate across the cut: the later one, after the cut, is rejected', async () => {
    const { text } = csvLog(200, (i) => (i === 150 ? csvRow(3) : i === 20 ? csvRow(10) : i === 170 ? csvRow(160, { note: quote('dup\nlicate') }) : undefined));
    const file = writeCsv(text);
    const cut = cutOf(file)!;
    expect(lineOf(text, cut)).toBeLessThan(150);
    await expectSameAsOneThread(file, BATCHES);
    const split = await collect([file], contractPlan(), { ...SPLIT, batchSize: 16 });
    expect(split.account.rejections.duplicate?.first.map((l) => l.line)).toEqual([22, 152, 172]);
    expect(split.columns.request_id!.filter((r) => r === 'r3')).toHaveLength(1);
  });

  it('randomly corrupted logs', async () => {
    const { text } = csvLog(400, (i) => (i % 7 === 0 ? csvRow(i, { note: quote(`q${i}\n"${i}", x`) }) : undefined));
    const clean = Buffer.from(text);
    let state = 5;
    const rand = (n: number): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
    const bytes = [0x0a, 0x0d, 0x22, 0x22, 0x2c, 0x2c, 0x20, 0x30, 0xef, 0xff];
    let split = 0;
    for (let k = 0; k < 24; k++) {
      const ops: [number, number, number][] = [];
      for (let j = 1 + rand(4); j > 0; j--) ops.push([rand(3), rand(clean.length), bytes[rand(bytes.length)]!]);
      if (k % 3 === 0) ops.push([3, clean.length - 1 - rand(300), 0]); // cut short
      const file = writeCsv(corrupt(clean, ops));
      if (cutOf(file) !== null) split++;
      await expectSameAsOneThread(file, [{ batchSize: 2 + k }, { batchSize: 1000, maxLocations: 1 + (k % 3) }]);
    }
    expect(split).toBeGreaterThan(8);
  });

  it('a long file read in chunks, many batches', async () => {
    const { text } = csvLog(20_000, (i) => (i % 997 === 5 ? 'champion,oops' : i % 101 === 0 ? csvRow(i % 9000, { note: quote('p\n'.repeat(i % 50)) }) : csvRow(i % 9000, { note: 'p'.repeat(i % 200) })));
    const file = writeCsv(text);
    expect(statSync(file).size).toBeGreaterThan(2 ** 21);
    expect(cutOf(file)).not.toBeNull();
    await expectSameAsOneThread(file, [{ batchSize: 1000 }, { batchSize: 4096, maxLocations: 3 }]);
  });

  it('progress grows to the total size and rows', async () => {
    const file = writeCsv(csvLog(5000).text);
    const seen: [number, number][] = [];
    const r = await collect([file], contractPlan(), { ...SPLIT, batchSize: 100, onProgress: (b, n) => seen.push([b, n]) });
    expect(seen.at(-1)).toEqual([statSync(file).size, r.account.rowsSeen]);
    expect(seen.every(([b, n], i) => i === 0 || (b >= seen[i - 1]![0] && n >= seen[i - 1]![1]))).toBe(true);
  });

  it('a file gone when the workers open it: a read error, as on one worker', async () => {
    const file = writeCsv(readFileSync(LOGS + 'clean.csv'));
    expect(cutOf(file)).not.toBeNull();
    const { batches } = readLogs([file], contractPlan(), SPLIT);
    const first = batches[Symbol.asyncIterator]().next();
    rmSync(file);
    await expect(first).rejects.toThrow(/log-\d+\.csv: cannot read \(ENOENT/);
  });
});

/**
 * Late duplicates (LogReadOptions.lateDuplicates): a threaded read that does not keep the request
 * column finds the duplicates once it is done (LateDuplicates in encode.ts); with them left out
 * (LogRead.duplicates, as analyze's store does), the rows and the account must be exactly one thread's.
 */
describe('late duplicates', () => {
  const withoutRequest = (o: unknown): unknown => {
    const r = o as { columns?: Record<string, unknown> };
    if (!r.columns) return o;
    const { request_id: _, ...columns } = r.columns;
    return { ...r, columns };
  };
  const LATE: LogReadOptions[] = [
    { threads: true, lateDuplicates: true, batchSize: 3 },
    { threads: true, lateDuplicates: true, batchSize: 1000, maxLocations: 100 },
    { threads: true, lateDuplicates: true, batchSize: 5, maxLocations: 1, recycle: true },
    { ...SPLIT, lateDuplicates: true, batchSize: 4, recycle: true },
  ];
  async function expectSame(inputs: string[]): Promise<void> {
    for (const late of LATE) {
      const { threads: _t, lateDuplicates: _l, splitMinBytes: _s, recycle: _r, ...options } = late;
      void _t, void _l, void _s, void _r;
      const one = await outcome(inputs, { ...options, threads: false });
      const two = await outcome(inputs, late);
      expect(two, JSON.stringify(late)).toEqual(withoutRequest(one));
    }
  }

  for (const file of files) {
    it(`${file.slice(LOGS.length)}: same rows, account and errors as one thread`, async () => {
      await expectSame([file]);
    });
  }

  it('several files, a directory, duplicates across files', async () => {
    await expectSame([LOGS + 'damaged/duplicates.jsonl', LOGS + 'dir', LOGS + 'damaged/duplicates.jsonl', LOGS + 'clean.csv']);
  });

  it('repeats of every kind: same model or not, missing request ids, missing values, other defects, near misses', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const k = i % 40;
      if (k === 3) lines.push(row(i, { request_id: 'r5' })); // a repeat of row 5's request under row i's model
      else if (k === 7) lines.push(row(i, { request_id: 'r7', model: 'champion' })); // the same request and model, again and again
      else if (k === 11) lines.push(row(i, { request_id: undefined })); // no request id: never a duplicate
      else if (k === 13) lines.push(row(i, { request_id: 'r7', model: 'champion', score: undefined, country: undefined })); // a repeat with missing values
      else if (k === 17) lines.push(row(i, { request_id: 'r7', model: 'champion', latency_ms: 'slow' })); // rejected for its type first
      else if (k === 19) lines.push(row(i, { request_id: 'r7 ' })); // a near miss: another request
      else if (k === 23) lines.push(row(i, { request_id: 'r\u00e9' })); // a non-ASCII id, repeated
      else lines.push(row(i));
    }
    const file = write(lines.join('\n') + '\n');
    await expectSame([file]);
    const late = await collect([file], contractPlan(), { threads: true, lateDuplicates: true, maxLocations: 100 });
    const dups = late.account.rejections.duplicate!;
    expect(dups.count).toBeGreaterThan(20);
    expect(dups.first.map((l) => l.line)).toEqual([...dups.first.map((l) => l.line)].sort((a, b) => a - b));
    expect(dups.first.some((l) => l.message.includes('"r\u00e9"'))).toBe(true);
    expect(late.columns['request_id']).toBeUndefined();
  });

  it('values starting with a byte order mark keep it on every thread (duplicate messages, labels)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) lines.push(row(i, i % 10 === 3 ? { request_id: '\ufeffbom', model: 'champion', prediction: '\ufeffclick' } : {}));
    const file = write(lines.join('\n') + '\n');
    await expectSame([file]);
    const late = await collect([file], contractPlan(), { threads: true, lateDuplicates: true, maxLocations: 10 });
    expect(late.account.rejections.duplicate!.first[0]!.message).toContain('"\ufeffbom"');
    const two = await collect([file], contractPlan(), { threads: true });
    expect(two.columns['prediction']).toContain('\ufeffclick');
  });

  it('a strict read still stops at the first duplicate, in row order', async () => {
    const lines = [row(1), row(2), row(3, { latency_ms: 'slow' }), row(1), row(4, { score: 'x' })];
    const file = write(lines.join('\n') + '\n');
    const one = await outcome([file], { strict: true, threads: false });
    expect(await outcome([file], { strict: true, threads: true, lateDuplicates: true })).toEqual(one);
  });
});

describe('recycled batch arrays', () => {
  it('rows are the same when every batch is written in arrays handed back (small batches, many rounds)', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(i % 97 === 5 ? row(i, { score: undefined, country: undefined, request_id: undefined }) : row(i, { request_id: `r${i % 2500}` }));
    const file = write(lines.join('\n') + '\n');
    for (const batchSize of [7, 64, 500]) {
      const one = await outcome([file], { batchSize, threads: false });
      expect(await outcome([file], { batchSize, threads: true, recycle: true })).toEqual(one);
      expect(await outcome([file], { batchSize, ...SPLIT, recycle: true })).toEqual(one);
    }
  });
});
