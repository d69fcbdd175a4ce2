/**
 * The reading thread started ahead (prestart.ts): started only for an analyze of big enough inputs,
 * taken once by the next threaded read, which then gives exactly what a read with a thread of its own
 * gives; a thread nobody takes keeps nothing alive.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analyzeInputs, dropReaders, prestartReader, takeReader } from '../../src/ingest/prestart.js';
import { CliError } from '../../src/cli/exitCode.js';
import { collect, contractPlan, LOGS } from './helpers.js';

async function outcome(inputs: string[], split = false): Promise<unknown> {
  try {
    const r = await collect(inputs, contractPlan(), { threads: true, lateDuplicates: true, recycle: true, splitMinBytes: split ? 0 : Infinity });
    return { ...r, batches: undefined };
  } catch (e) {
    if (e instanceof CliError) return { exit: e.exit, message: e.message };
    throw e;
  }
}

describe('the reading thread started ahead', () => {
  afterEach(async () => {
    await dropReaders();
  });

  it('the inputs of an analyze command line, not the values of its flags', () => {
    expect(analyzeInputs(['analyze', 'a.jsonl', '--spec', 's.json', 'dir/', '--format=json', '-o', 'out.html', '-q', '--seed', '3', '-', '--max-bad-rows', '1%', '--resamples', '100', 'b.arrow'])).toEqual(['a.jsonl', 'dir/', '-', 'b.arrow']);
    expect(analyzeInputs(['analyze', '--spec', 's.json', '--', '--odd-name.jsonl'])).toEqual(['--odd-name.jsonl']);
    // short flags together, as commander reads them: -qo takes the next word, -qoFILE and -oFILE their rest
    expect(analyzeInputs(['analyze', '-qo', 'out.json', 'a.jsonl', '--spec=s.json'])).toEqual(['a.jsonl']);
    expect(analyzeInputs(['analyze', '-qoout.json', 'a.jsonl', '-oout.json', '-q', 'b.jsonl'])).toEqual(['a.jsonl', 'b.jsonl']);
    expect(analyzeInputs(['watch', 'a.jsonl'])).toBeNull();
    expect(analyzeInputs(['--version'])).toBeNull();
    expect(analyzeInputs([])).toBeNull();
  });

  it('starts only for analyze of inputs big enough, once, and not with ABTOOL_THREADS=0', async () => {
    const log = LOGS + 'clean.jsonl';
    expect(prestartReader(['analyze', log, '--spec', 'x.json'], 2 ** 40)).toBe(false); // too small
    expect(prestartReader(['watch', log, '--spec', 'x.json'], 1)).toBe(false);
    expect(prestartReader(['analyze', '--spec', 'x.json', 'no-such-file.jsonl'], 1)).toBe(false);
    expect(prestartReader(['analyze', '-', '--spec', 'x.json'], 1)).toBe(false);
    const env = process.env.ABTOOL_THREADS;
    process.env.ABTOOL_THREADS = '0';
    try {
      expect(prestartReader(['analyze', log], 1)).toBe(false);
    } finally {
      if (env === undefined) delete process.env.ABTOOL_THREADS;
      else process.env.ABTOOL_THREADS = env;
    }
    expect(takeReader()).toBeNull();
    expect(prestartReader(['analyze', log], 1)).toBe(true);
    expect(prestartReader(['analyze', log], 1)).toBe(false); // one at a time
    const w = takeReader();
    expect(w).not.toBeNull();
    expect(takeReader()).toBeNull(); // taken once
    await w!.terminate();
  });

  // a directory counts the files in it; every format, a damaged file (errors come the same way)
  it.each(['clean.jsonl', 'clean.csv', 'clean.arrow', 'clean.arrows', 'dir', 'damaged/duplicates.jsonl', 'damaged/truncated.arrow'])(
    '%s: the read that takes it gives what a read with its own thread gives',
    async (name) => {
      const inputs = [LOGS + name];
      const own = await outcome(inputs);
      expect(prestartReader(['analyze', ...inputs, '--spec', 'x.json'], 1)).toBe(true);
      const ahead = await outcome(inputs);
      expect(takeReader()).toBeNull(); // the read took it
      expect(ahead).toEqual(own);
    },
  );

  it('for a JSON Lines file read in two parts: one thread for the second part (the first is read in the main thread), or two with ABTOOL_FIRST_PART_HERE=0, each taken', async () => {
    const hereBefore = process.env.ABTOOL_FIRST_PART_HERE;
    try {
      for (const mode of ['1', '0']) {
        process.env.ABTOOL_FIRST_PART_HERE = mode;
        for (const name of ['clean.jsonl', 'damaged/duplicates.jsonl', 'damaged/malformed.jsonl']) {
          const inputs = [LOGS + name];
          const own = await outcome(inputs, true);
          expect(prestartReader(['analyze', ...inputs], 1, 1)).toBe(true);
          // the threads started ahead (prestart.ts keeps them under this global symbol)
          const slots = (globalThis as unknown as Record<symbol, unknown[] | undefined>)[Symbol.for('abtool.prestartedReaders')];
          expect(slots?.length, `${mode} ${name}`).toBe(mode === '1' ? 1 : 2);
          const ahead = await outcome(inputs, true);
          expect([takeReader(0), takeReader(1)]).toEqual([null, null]);
          expect(ahead, name).toEqual(own);
        }
      }
    } finally {
      if (hereBefore === undefined) delete process.env.ABTOOL_FIRST_PART_HERE;
      else process.env.ABTOOL_FIRST_PART_HERE = hereBefore;
    }
    // one thread otherwise: a file under the split size, CSV (split only when asked), gzip, Arrow,
    // --strict, two files; JSON Lines is told by its content, whatever its name
    const txt = join(tmpdir(), 'jsonl-by-content.txt');
    copyFileSync(LOGS + 'clean.jsonl', txt);
    const noName = join(tmpdir(), 'csv-without-extension');
    copyFileSync(LOGS + 'clean.csv', noName);
    const cases: [string[], number][] = [
      [['analyze', LOGS + 'clean.jsonl'], 1],
      [['analyze', LOGS + 'clean.csv'], 1],
      [['analyze', noName], 1],
      [['analyze', LOGS + 'clean.jsonl.gz'], 1],
      [['analyze', LOGS + 'clean.arrow'], 1],
      [['analyze', '--strict', txt], 1],
      [['analyze', txt, LOGS + 'clean.jsonl'], 1],
      [['analyze', txt], 2],
    ];
    const env = process.env.ABTOOL_SPLIT_MIN_BYTES;
    // (two threads for a split JSON Lines read when both parts are on threads)
    const here = process.env.ABTOOL_FIRST_PART_HERE;
    process.env.ABTOOL_FIRST_PART_HERE = '0';
    try {
      for (const [argv, threads] of cases) {
        process.env.ABTOOL_SPLIT_MIN_BYTES = threads === 2 ? '1' : '';
        expect(prestartReader(argv, 1), argv.join(' ')).toBe(true);
        expect(takeReader(1) !== null, argv.join(' ')).toBe(threads === 2);
        expect(takeReader(0)).not.toBeNull();
        await dropReaders();
      }
      // CSV when asked (ABTOOL_SPLIT_MIN_BYTES)
      process.env.ABTOOL_SPLIT_MIN_BYTES = '1';
      expect(prestartReader(['analyze', LOGS + 'clean.csv'], 1)).toBe(true);
      expect(takeReader(1)).not.toBeNull();
    } finally {
      if (env === undefined) delete process.env.ABTOOL_SPLIT_MIN_BYTES;
      else process.env.ABTOOL_SPLIT_MIN_BYTES = env;
      if (here === undefined) delete process.env.ABTOOL_FIRST_PART_HERE;
      else process.env.ABTOOL_FIRST_PART_HERE = here;
    }
  });

  it('none for stdin among the inputs; a read stops the threads it does not take', async () => {
    expect(prestartReader(['analyze', LOGS + 'clean.jsonl', '-'], 1)).toBe(false);
    // two started, the read is in one part: the second is stopped
    expect(prestartReader(['analyze', LOGS + 'clean.jsonl'], 1, 1)).toBe(true);
    const inputs = [LOGS + 'clean.jsonl'];
    expect(await outcome(inputs)).toEqual(await outcome(inputs));
    expect([takeReader(0), takeReader(1)]).toEqual([null, null]);
    // one started, the read is on this thread
    expect(prestartReader(['analyze', LOGS + 'clean.jsonl'], 1)).toBe(true);
    await collect(inputs, contractPlan(), { threads: false });
    expect(takeReader(0)).toBeNull();
  });

  it('a thread nobody takes does not keep the process alive', () => {
    const script = `import { prestartReader } from ${JSON.stringify(new URL('../../dist/ingest/prestart.js', import.meta.url).href)};
      console.log(prestartReader(['analyze', ${JSON.stringify(LOGS + 'clean.jsonl')}], 1));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('true');
  });
});
