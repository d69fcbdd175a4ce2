/**
 * A threaded read (a worker parses, this thread encodes: readThreaded in index.ts) must give exactly
 * what a read in one thread gives: the same rows and columns, the same account with the same
 * locations, the same errors. Every committed log, clean and damaged, is read both ways, with small
 * batches so that many raw batches cross between the threads. (The worker runs dist/ingest/worker.js:
 * `npm test` builds first.)
 */
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { collect, contractPlan, LOGS } from './helpers.js';
import type { LogReadOptions } from '../../src/ingest/index.js';

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
