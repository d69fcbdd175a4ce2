/**
 * The readers through readLogs, on the committed fixtures (fixtures/logs/generate.mjs writes them):
 * the same log in five encodings, and one damaged log per way input goes wrong.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFile, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/exitCode.js';
import { readLogs } from '../../src/ingest/index.js';
import { CHUNK_BYTES, openBytes, within } from '../../src/ingest/open.js';
import type { RejectReason } from '../../src/ingest/types.js';
import { collect, contractPlan, field, LOGS, portable } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'abtool-ingest-'));
const write = (name: string, data: string | Buffer): string => {
  const p = join(tmp, name);
  writeFileSync(p, data);
  return p;
};

async function rejectsWith(p: Promise<unknown>, exit: 'data' | 'not-found' | 'usage', pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CliError);
  expect((e as CliError).exit).toBe(exit);
  expect((e as CliError).message).toMatch(pattern);
}

function lines(account: Awaited<ReturnType<typeof collect>>['account'], reason: RejectReason): number[] {
  return (account.rejections[reason]?.first ?? []).map((l) => l.line);
}

describe('the same log in five formats', () => {
  const files = ['clean.jsonl', 'clean.jsonl.gz', 'clean.csv', 'clean.arrow', 'clean.arrows'];
  const reads = Promise.all(files.map((f) => collect([LOGS + f], contractPlan())));

  it('gives the identical account', async () => {
    const all = await reads;
    const first = portable(all[0]!.account);
    expect(first).toMatchObject({
      rowsSeen: 40,
      rowsRead: 38,
      rowsRejected: 2,
      rejections: { 'unknown-model': 1, duplicate: 1 },
      unknownModels: { shadow: 1 },
      missing: { score: { champion: 1 }, label: { challenger: 1 }, latency_ms: { champion: 1 }, country: { champion: 1 } },
    });
    for (const r of all) expect(portable(r.account)).toEqual(first);
    expect(all.map((r) => r.account.files[0]!.format)).toEqual(['jsonl', 'jsonl', 'csv', 'arrow-file', 'arrow-stream']);
    expect(all.map((r) => r.account.files[0]!.gzip)).toEqual([false, true, false, false, false]);
  });

  it('gives identical column contents', async () => {
    const all = await reads;
    const ref = all[0]!;
    expect(ref.model).toHaveLength(38);
    for (const r of all.slice(1)) {
      expect(r.model).toEqual(ref.model);
      expect(Object.keys(r.columns).sort()).toEqual(Object.keys(ref.columns).sort());
      for (const name of Object.keys(ref.columns)) expect(r.columns[name], name).toEqual(ref.columns[name]);
      expect(r.numeric).toEqual(ref.numeric);
    }
  });

  it('keeps the values exactly', async () => {
    const { columns, numeric } = (await reads)[0]!;
    // ids above 2^53 stay two users
    expect(columns.user_id).toContain('12345678901234567890');
    expect(columns.user_id).toContain('12345678901234567891');
    // ISO with Z, ISO with +02:00 and epoch ms are one clock
    expect(columns.ts![0]).toBe(Date.UTC(2026, 0, 31, 12, 0, 0));
    expect(columns.ts![1]).toBe(Date.UTC(2026, 0, 31, 12, 0, 1, 507));
    expect(columns.prediction).toContain('two\nlines');
    expect(columns.prediction).toContain('said "maybe"');
    expect(columns.country).toContain('NA'); // Namibia, not a missing value
    // labels: canonical text plus number; missing label -> null / NaN
    const li = columns.label!.indexOf(null);
    expect(li).toBeGreaterThanOrEqual(0);
    expect(numeric.label![li]).toBeNaN();
    expect(new Set(columns.label!.filter((x) => x !== null))).toEqual(new Set(['0', '1']));
    // error: false -> 0, "timeout" -> 1
    expect(new Set(columns.error)).toEqual(new Set([0, 1]));
  });

  it('does not depend on the batch size', async () => {
    const ref = (await reads)[0]!;
    for (const f of files) {
      const small = await collect([LOGS + f], contractPlan(), { batchSize: 7 });
      expect(small.batches).toBe(Math.ceil(38 / 7));
      expect(small.columns).toEqual(ref.columns);
      expect(portable(small.account)).toEqual(portable(ref.account));
    }
  });

  it('shares one dictionary per column across batches', async () => {
    const { batches } = readLogs([LOGS + 'clean.arrow'], contractPlan(), { batchSize: 5 });
    const dicts = new Set();
    for await (const b of batches) {
      const c = b.columns.get('user_id')!;
      if (c.kind === 'dict') dicts.add(c.dict);
    }
    expect(dicts.size).toBe(1);
  });
});

describe('damaged logs: every row counted, located and explained', () => {
  const plan = contractPlan();

  it('malformed JSON lines', async () => {
    const { account } = await collect([LOGS + 'damaged/malformed.jsonl'], plan);
    expect(account.rowsSeen).toBe(6);
    expect(account.rejections.malformed?.count).toBe(3);
    expect(lines(account, 'malformed')).toEqual([3, 4, 5]);
    const [a, b, c] = account.rejections.malformed!.first;
    expect(a!.message).toMatch(/expected a key in double quotes at column 39/);
    expect(b!.message).toMatch(/an array instead of an object/);
    expect(c!.message).toMatch(/expected '\{' at column 1/);
  });

  it('a last line cut mid-write is truncated, not malformed', async () => {
    const { account } = await collect([LOGS + 'damaged/truncated.jsonl'], plan);
    expect(account.rowsRead).toBe(2);
    expect(account.rejections.truncated?.count).toBe(1);
    expect(account.rejections.malformed).toBeUndefined();
    expect(lines(account, 'truncated')).toEqual([3]);
  });

  it('BOM, CRLF and blank lines are tolerated', async () => {
    const { account, columns } = await collect([LOGS + 'damaged/bom-crlf-blank.jsonl'], plan);
    expect(account.rowsSeen).toBe(3);
    expect(account.rowsRead).toBe(3);
    expect(account.blankLines).toBe(3);
    expect(columns.request_id).toEqual(['a', 'b', 'c']);
  });

  it('missing required fields: model, unit id (absent, null or empty)', async () => {
    const { account } = await collect([LOGS + 'damaged/missing-required.jsonl'], plan);
    expect(account.rejections['missing-required']?.count).toBe(4);
    expect(account.rejections['missing-required']!.first.map((l) => [l.line, l.field])).toEqual([
      [2, 'model'],
      [3, 'user_id'],
      [4, 'user_id'],
      [5, 'model'],
    ]);
  });

  it('values of the wrong type', async () => {
    const { account } = await collect([LOGS + 'damaged/wrong-type.jsonl'], plan);
    expect(account.rowsRead).toBe(1);
    expect(account.rejections['wrong-type']!.first.map((l) => [l.line, l.field])).toEqual([
      [2, 'latency_ms'],
      [3, 'score'],
      [4, 'ts'],
      [5, 'label'],
      [6, 'error'],
    ]);
    expect(account.invalid).toEqual({ latency_ms: { champion: 1 }, score: { champion: 1 }, ts: { champion: 1 }, label: { champion: 1 }, error: { champion: 1 } });
  });

  it('NaN and Infinity in JSON (bare tokens, overflow, "NaN" text) and CSV', async () => {
    const j = await collect([LOGS + 'damaged/non-finite.jsonl'], plan);
    expect(j.account.rejections['non-finite']!.first.map((l) => [l.line, l.field])).toEqual([
      [2, 'latency_ms'],
      [3, 'score'],
      [4, 'score'],
      [5, 'latency_ms'],
      [6, 'latency_ms'],
    ]);
    const c = await collect([LOGS + 'damaged/non-finite.csv'], plan);
    expect(c.account.rejections['non-finite']!.first.map((l) => [l.line, l.field])).toEqual([
      [3, 'latency_ms'],
      [4, 'score'],
      [5, 'latency_ms'],
    ]);
    // an empty cell is a missing value, not a rejection
    expect(c.account.rowsRead).toBe(2);
    expect(c.account.missing.score).toEqual({ champion: 1 });
  });

  it('CSV rows with the wrong number of cells, and a quoted cell across lines', async () => {
    const { account, columns } = await collect([LOGS + 'damaged/wrong-fields.csv'], plan);
    expect(account.rejections['wrong-field-count']!.first.map((l) => [l.line, l.message])).toEqual([
      [3, '5 cells, the header has 4'],
      [4, '2 cells, the header has 4'],
    ]);
    expect(columns.request_id).toEqual(['a', 'd\nstill d', 'e']);
  });

  it('a stray quote that swallows rows up to the next quote: the rejected record says how many lines it spans, and a note says rows may be lost', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `r${i},u${i},champion,${i}`);
    // a stray quote on line 4, closed by the quote that opens a cell on line 10: lines 4-10 are one
    // record of 2 cells, and line 11, the rest of that cell, one of 3
    rows[2] = 'r2,"u2,champion,2';
    rows[8] = 'r8,"u8\nstill u8",champion,8';
    const p = write('stray-quote.csv', ['request_id,user_id,model,latency_ms', ...rows].join('\n') + '\n');
    const { account } = await collect([p], plan);
    expect(account.rejections['wrong-field-count']!.first.map((l) => [l.line, l.message])).toEqual([
      [4, '2 cells, the header has 4; the record spans 7 lines (a quoted cell holds 6 line breaks: a stray quote may have swallowed the rows in between)'],
      [11, '3 cells, the header has 4'],
    ]);
    expect(account.notes).toEqual([
      `${p}: a record with the wrong cell count spans several lines (see the wrong-field-count rows): a stray quote may have swallowed the rows in between, which are not counted as rows`,
    ]);
    expect(account.rowsSeen).toBe(7);
    // a record of the right cell count over several lines is a row like any other, and no note
    const good = await collect([LOGS + 'damaged/wrong-fields.csv'], plan);
    expect(good.account.notes ?? []).toEqual([]);
  });

  it('a CSV file cut in its last row', async () => {
    const { account } = await collect([LOGS + 'damaged/truncated.csv'], plan);
    expect(account.rowsRead).toBe(2);
    expect(account.rejections.truncated?.count).toBe(1);
    expect(lines(account, 'truncated')).toEqual([4]);
  });

  it('models the spec does not name, counted per name', async () => {
    const { account } = await collect([LOGS + 'damaged/unknown-model.jsonl'], plan);
    expect(account.unknownModels).toEqual({ shadow: 2, 'canary-v3': 1 });
    expect(lines(account, 'unknown-model')).toEqual([2, 3, 4]);
    expect(account.rowsRead).toBe(2);
  });

  it('duplicates: same request id and model, kept once', async () => {
    const { account, columns, model } = await collect([LOGS + 'damaged/duplicates.jsonl'], plan);
    expect(lines(account, 'duplicate')).toEqual([3, 5, 6]);
    // the same request under the other model is not a duplicate; rows without a request id are kept
    expect(columns.request_id).toEqual(['a', 'a', 'b', null, null]);
    expect(model).toEqual(['champion', 'challenger', 'champion', 'champion', 'champion']);
    // the first occurrence is the one kept
    expect(columns.latency_ms![0]).toBeNaN();
  });

  it('numeric ids above 2^53 keep their digits', async () => {
    const { columns } = await collect([LOGS + 'damaged/bigint-ids.jsonl'], plan);
    expect(columns.user_id).toEqual(['9007199254740993', '9007199254740992', '9007199254740993']);
    expect(columns.request_id).toEqual(['1', '2', '3']);
  });

  it('gzip found by its magic bytes whatever the name', async () => {
    const { account } = await collect([LOGS + 'damaged/gzip-no-extension.jsonl'], plan);
    expect(account.rowsRead).toBe(200);
    expect(account.files[0]!.gzip).toBe(true);
  });

  it('gzip is inflated in chunks of a megabyte, not zlib\'s 16 KiB (each a trip to the thread pool)', async () => {
    const text = Buffer.alloc(3 * CHUNK_BYTES + 123, '{"model":"champion"}\n');
    const path = join(tmp, 'chunks.jsonl.gz');
    writeFileSync(path, gzipSync(text));
    const bytes = await openBytes({ kind: 'file', path, size: 0, seekable: true });
    const sizes: number[] = [];
    for await (const chunk of bytes.chunks) sizes.push(chunk.length);
    bytes.close();
    expect(bytes.gzip).toBe(true);
    expect(sizes).toEqual([CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 123]);
  });

  it('corrupt or truncated gzip is a data error with the rows read so far', async () => {
    await rejectsWith(collect([LOGS + 'damaged/corrupt.jsonl.gz'], plan), 'data', /corrupt\.jsonl\.gz: corrupt or truncated gzip data .* 0 rows read before the error/);
    await rejectsWith(collect([LOGS + 'damaged/truncated.jsonl.gz'], plan), 'data', /truncated\.jsonl\.gz: corrupt or truncated gzip data \(unexpected end of file\) — \d+ rows read/);
  });

  it('a truncated Arrow file or stream is a data error with the rows read so far', async () => {
    await rejectsWith(collect([LOGS + 'damaged/truncated.arrow'], plan), 'data', /truncated Arrow file \(no footer.* — 17 rows read/);
    await rejectsWith(collect([LOGS + 'damaged/truncated-js.arrow'], plan), 'data', /truncated Arrow file .* 0 rows read/);
    await rejectsWith(collect([LOGS + 'damaged/truncated.arrows'], plan), 'data', /truncated or corrupt Arrow data — 17 rows read/);
    await rejectsWith(collect([LOGS + 'damaged/not-arrow.arrow'], plan), 'data', /not an Arrow IPC file or stream/);
  });

  it('empty input reads no rows (the limit check says so, see account.test.ts)', async () => {
    const e = await collect([LOGS + 'damaged/empty.jsonl', LOGS + 'damaged/blank-only.jsonl'], plan);
    expect(e.account.rowsSeen).toBe(0);
    expect(e.account.blankLines).toBe(3);
    expect(e.account.files).toHaveLength(2);
  });
});

describe('Arrow files pyarrow writes (fixtures/logs/pyarrow/make.py)', () => {
  const PA = LOGS + 'pyarrow/';
  const plan = contractPlan();

  it('a schema and no record batches reads no rows, as an empty JSON Lines file: the file format (feather) and the stream format', async () => {
    for (const name of ['empty.feather', 'empty.arrows']) {
      const e = await collect([PA + name], plan);
      expect(e.account.rowsSeen, name).toBe(0);
      expect(e.account.files.map((f) => f.format)).toEqual([name.endsWith('.arrows') ? 'arrow-stream' : 'arrow-file']);
    }
    // beside a file with rows: its rows, nothing stopped
    const both = await collect([PA + 'empty.feather', LOGS + 'clean.arrow', PA + 'empty.arrows'], plan);
    const clean = await collect([LOGS + 'clean.arrow'], plan);
    expect(both.account.rowsRead).toBe(clean.account.rowsRead);
    expect(both.columns).toEqual(clean.columns);
  });

  it('a record batch of no rows with empty string offsets between two batches of rows', async () => {
    const e = await collect([PA + 'zero-batch.arrow'], plan);
    expect(e.account.rowsSeen).toBe(2);
    expect(e.account.rowsRead).toBe(2);
    expect(e.columns.request_id).toEqual(['r1', 'r2']);
    expect(e.model).toEqual(['champion', 'challenger']);
  });

  it('a column the schema names twice: the first is read, and a note says so (as for a CSV header)', async () => {
    const e = await collect([PA + 'dup-column.arrow'], plan);
    expect(e.model).toEqual(['champion', 'challenger']);
    expect(e.account.notes).toEqual([`${PA}dup-column.arrow: the schema names column "model" 2 times (columns 3, 4); the first is read, the others are ignored`]);
  });

  it('decimal numbers (128 and 256 bits) read as the double nearest the decimal, a null as missing', async () => {
    for (const name of ['decimal128.arrow', 'decimal256.arrow']) {
      const e = await collect([PA + name], plan);
      expect(e.account.rowsRejected, name).toBe(0);
      expect(e.columns.latency_ms, name).toEqual([12.345, -0.5, NaN]);
    }
  });

  it('a column of a type the Arrow library does not know is named as such, not as corrupt data', async () => {
    await rejectsWith(collect([PA + 'run-end-encoded.arrow'], plan), 'data', /run-end-encoded\.arrow: a column has an Arrow type abtool cannot read \("RunEndEncoded" \(22\)\); cast it/);
  });

  it('gzipped Arrow is named as such: .arrow.gz, .arrows.gz and gzipped Arrow named otherwise', async () => {
    const file = readFileSync(LOGS + 'clean.arrow');
    const stream = readFileSync(LOGS + 'clean.arrows');
    for (const [name, data] of [['a.arrow.gz', file], ['b.arrows.gz', stream], ['c.gz', file], ['d', stream]] as const) {
      await rejectsWith(collect([write(name, gzipSync(data))], plan), 'data', /: gzip-compressed Arrow is not supported; decompress it first$/);
    }
  });
});

describe('a JSON Lines line naming a field twice', () => {
  it('reads the last value, as JSON.parse does, and notes it once per file and field', async () => {
    const p = write('dup-key.jsonl', [
      '{"model":"champion","user_id":"u1","converted":0,"converted":1}',
      '{"model":"challenger","user_id":"u2","converted":1}',
      '{"model":"champion","user_id":"u3","converted":1,"converted":0}',
    ].join('\n') + '\n');
    const { account, columns } = await collect([p], contractPlan());
    expect(columns.converted).toEqual([1, 1, 0]);
    expect(account.notes).toEqual([`${p}: lines name the field "converted" more than once: the last value of each line is read, as JSON.parse reads it`]);
    expect(account.rowsRead).toBe(3);
  });
});

describe('text that is not valid UTF-8', () => {
  /** the distinct user_id codes of a read, and how many rows it accepted */
  async function users(path: string): Promise<{ distinct: number; rows: number; texts: string[] }> {
    const read = readLogs([path], contractPlan());
    const codes = new Set<number>();
    const texts: string[] = [];
    let rows = 0;
    for await (const b of read.batches) {
      const col = b.columns.get('user_id')!;
      if (col.kind !== 'dict') throw new Error('user_id not a dictionary column');
      for (let i = 0; i < b.length; i++) {
        codes.add(col.codes[i]!);
        texts.push(col.dict.values[col.codes[i]!]!);
      }
      rows += b.length;
    }
    return { distinct: codes.size, rows, texts };
  }

  it('two Latin-1 ids are two users in CSV (unquoted, quoted, after a quote) as in JSON Lines; a file with a BOM is decoded first', async () => {
    const dir = mkdtempSync(join(tmp, 'latin1-'));
    const jos = (b: number) => Buffer.concat([Buffer.from('Jos'), Buffer.from([b])]);
    // e9 and e8: é and è in Latin-1, each an invalid byte in UTF-8
    const jsonl = Buffer.concat([
      Buffer.from('{"model":"champion","user_id":"'), jos(0xe9), Buffer.from('","request_id":"r1"}\n'),
      Buffer.from('{"model":"challenger","user_id":"'), jos(0xe8), Buffer.from('","request_id":"r2"}\n'),
      Buffer.from('{"model":"champion","user_id":"Zoë","request_id":"r3"}\n'),
    ]);
    writeFileSync(join(dir, 'a.jsonl'), jsonl);
    const header = Buffer.from('model,user_id,request_id\n');
    const plain = Buffer.concat([header, Buffer.from('champion,'), jos(0xe9), Buffer.from(',r1\nchallenger,'), jos(0xe8), Buffer.from(',r2\nchampion,Zoë,r3\n')]);
    writeFileSync(join(dir, 'plain.csv'), plain);
    // quoted cells: csv-parse's path
    const quoted = Buffer.concat([header, Buffer.from('champion,"'), jos(0xe9), Buffer.from('",r1\nchallenger,"'), jos(0xe8), Buffer.from('",r2\nchampion,"Zoë",r3\n')]);
    writeFileSync(join(dir, 'quoted.csv'), quoted);
    const fromJsonl = await users(join(dir, 'a.jsonl'));
    expect(fromJsonl).toEqual({ distinct: 3, rows: 3, texts: ['Jos\uFFFD', 'Jos\uFFFD', 'Zoë'] });
    expect(await users(join(dir, 'plain.csv'))).toEqual(fromJsonl);
    expect(await users(join(dir, 'quoted.csv'))).toEqual(fromJsonl);
    // with a BOM csv-parse reads the file as UTF-8 text: the two ids read the same, and are one user
    writeFileSync(join(dir, 'bom.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), plain]));
    expect(await users(join(dir, 'bom.csv'))).toEqual({ ...fromJsonl, distinct: 2 });
  });
});

describe('inputs', () => {
  it('directories recursively, sorted, skipping other extensions', async () => {
    const { account, columns } = await collect([LOGS + 'dir'], contractPlan());
    expect(account.files.map((f) => f.path.slice(LOGS.length))).toEqual(['dir/a.jsonl', 'dir/sub/b.csv', 'dir/sub/c.jsonl.gz']);
    expect(account.skipped!.map((s) => s.path.slice(LOGS.length))).toEqual(['dir/README.md', 'dir/sub/notes.txt']);
    expect(columns.request_id).toEqual(['d1', 'd2', 'd3', 'd3', 'd4']);
  });

  it('a file met again (named twice, its directory given too, a link to it) is read once, the later paths skipped naming the first', async () => {
    const dir = mkdtempSync(join(tmp, 'again-'));
    const a = join(dir, 'a.jsonl');
    writeFileSync(a, readFileSync(LOGS + 'dir/a.jsonl'));
    symlinkSync(a, join(dir, 'b.jsonl'));
    const { account } = await collect([a, dir, a], contractPlan());
    expect(account.files.map((f) => f.path)).toEqual([a]);
    expect(account.skipped).toEqual([
      { path: a, reason: `the same file as ${a}, read once` },
      { path: join(dir, 'b.jsonl'), reason: `the same file as ${a}, read once` },
      { path: a, reason: `the same file as ${a}, read once` },
    ]);
    expect(account.rejections.duplicate).toBeUndefined();
  });

  it('a FIFO named as an input (its size not known ahead) has its bytes counted once read', async () => {
    const fifo = join(mkdtempSync(join(tmp, 'fifo-')), 'in.jsonl');
    execFileSync('mkfifo', [fifo]);
    const text = readFileSync(LOGS + 'dir/a.jsonl');
    const writer = new Promise<void>((resolve, reject) => writeFile(fifo, text, (e) => (e ? reject(e) : resolve())));
    const { account } = await collect([fifo], contractPlan());
    await writer;
    expect(account.files).toEqual([expect.objectContaining({ path: fifo, bytes: text.length })]);
  });

  it('a FIFO, socket or device in a directory is skipped with its reason (a FIFO would block the read)', async () => {
    const dir = mkdtempSync(join(tmp, 'special-'));
    writeFileSync(join(dir, 'a.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    execFileSync('mkfifo', [join(dir, 'b.jsonl')]);
    symlinkSync('/dev/null', join(dir, 'c.jsonl'));
    const { account } = await collect([dir], contractPlan());
    expect(account.files.map((f) => f.path)).toEqual([join(dir, 'a.jsonl')]);
    expect(account.skipped).toEqual([
      { path: join(dir, 'b.jsonl'), reason: 'not a regular file (a FIFO, socket or device)' },
      { path: join(dir, 'c.jsonl'), reason: 'not a regular file (a FIFO, socket or device)' },
    ]);
  });

  it('links to directories are followed, but not one to the directory named or above it; a broken link is skipped, or with strict an error', async () => {
    const top = mkdtempSync(join(tmp, 'links-'));
    const dir = join(top, 'logs');
    const elsewhere = join(top, 'archive');
    mkdirSync(dir);
    mkdirSync(elsewhere);
    writeFileSync(join(dir, 'a.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    writeFileSync(join(top, 'around.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    writeFileSync(join(elsewhere, 'c.jsonl'), readFileSync(LOGS + 'clean.jsonl'));
    symlinkSync('..', join(dir, 'up'));
    symlinkSync('.', join(dir, 'self'));
    symlinkSync(elsewhere, join(dir, 'old'));
    symlinkSync(join(top, 'gone.jsonl'), join(dir, 'b.jsonl'));
    const { account } = await collect([dir], contractPlan());
    // around.jsonl (beside the directory named) is not read, archive/ through its link is
    expect(account.files.map((f) => f.path)).toEqual([join(dir, 'a.jsonl'), join(dir, 'old', 'c.jsonl')]);
    expect(account.skipped).toEqual([
      { path: join(dir, 'b.jsonl'), reason: 'cannot be read (a broken link?)' },
      { path: join(dir, 'self'), reason: `a link to the directory named (${realpathSync(dir)}), not followed` },
      { path: join(dir, 'up'), reason: `a link to a directory holding the one named (${realpathSync(top)}), not followed` },
    ]);
    await rejectsWith(collect([dir], contractPlan(), { strict: true }), 'data', /b\.jsonl: cannot read \(ENOENT.*\) — with --strict a log of the directory that cannot be read stops the run/);
    // a broken link whose name is not a log's loses no rows: skipped, with --strict too
    const notes = join(top, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'a.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    symlinkSync(join(top, 'gone.md'), join(notes, 'README'));
    const strictNotes = await collect([notes], contractPlan(), { strict: true });
    expect(strictNotes.account.files.map((f) => f.path)).toEqual([join(notes, 'a.jsonl')]);
    expect(strictNotes.account.skipped).toEqual([{ path: join(notes, 'README'), reason: 'cannot be read (a broken link?)' }]);
    // named through a link itself, the directory is walked the same
    symlinkSync(dir, join(top, 'current'));
    expect((await collect([join(top, 'current')], contractPlan())).account.files.map((f) => f.path)).toEqual([join(top, 'current', 'a.jsonl'), join(top, 'current', 'old', 'c.jsonl')]);
  });

  it('a directory whose name starts with two dots is no parent: a link up from below it is still not followed', async () => {
    const top = mkdtempSync(join(tmp, 'dots-'));
    const dir = join(top, '..data', 'logs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    writeFileSync(join(top, 'outside.jsonl'), readFileSync(LOGS + 'dir/a.jsonl'));
    symlinkSync('../..', join(dir, 'up'));
    const { account } = await collect([dir], contractPlan());
    expect(account.files.map((f) => f.path)).toEqual([join(dir, 'a.jsonl')]);
    expect(account.skipped).toEqual([{ path: join(dir, 'up'), reason: `a link to a directory holding the one named (${realpathSync(top)}), not followed` }]);
    expect(within('/a/..b/c', '/a')).toBe(true);
    expect(within('/a/..b', '/a/..b/c')).toBe(false);
    expect(within('/a', '/a/..b')).toBe(false);
    expect(within('/a/b', '/a/b')).toBe(true);
    expect(within('/', '/a')).toBe(false);
    expect(within('/a', '/')).toBe(true);
  });

  it('a path that does not exist is not-found (66), before anything is read', () => {
    let err: unknown;
    try {
      readLogs([LOGS + 'clean.jsonl', LOGS + 'nope.jsonl'], contractPlan());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exit).toBe('not-found');
    expect((err as CliError).message).toMatch(/nope\.jsonl: no such file or directory/);
  });

  it('strict mode: the first rejected row is a data error naming file, line, field and reason', async () => {
    await rejectsWith(collect([LOGS + 'damaged/wrong-type.jsonl'], contractPlan(), { strict: true }), 'data', /wrong-type\.jsonl:2: latency_ms: text "fast" where a number belongs — a value of the wrong type/);
    // row 21 of the log: line 22 of the CSV after the header, 23 because row 14 holds a quoted cell over two lines
    await rejectsWith(collect([LOGS + 'clean.csv'], contractPlan(), { strict: true }), 'data', /clean\.csv:23: model: model "shadow" is not in the spec/);
    await rejectsWith(collect([LOGS + 'clean.jsonl'], contractPlan(), { strict: true }), 'data', /clean\.jsonl:21: model: model "shadow"/);
    await rejectsWith(collect([LOGS + 'clean.arrow'], contractPlan(), { strict: true }), 'data', /clean\.arrow:21: model: model "shadow"/);
  });

  it('maps log columns to contract names (the spec\'s fields)', async () => {
    const p = write('variant.csv', 'variant,uid,when\nA,u1,2026-01-01\nB,u2,2026-01-02T00:00:00+01:00\n');
    const plan = {
      fields: [field('model', 'string', true, { source: 'variant' }), field('user_id', 'string', true, { source: 'uid' }), field('ts', 'timestamp', false, { source: 'when' })],
      modelField: 'model',
      models: ['A', 'B'],
      requestField: null,
    };
    const { model, columns } = await collect([p], plan);
    expect(model).toEqual(['A', 'B']);
    expect(columns.ts).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1, 23)]);
  });

  it('several fields may read the same column', async () => {
    const p = write('same.jsonl', '{"model":"A","u":"7","v":"1.0"}\n');
    const plan = {
      fields: [field('model', 'string', true), field('user_id', 'string', true, { source: 'u' }), field('x', 'number', false, { source: 'v' }), field('y', 'label', false, { source: 'v' })],
      modelField: 'model',
      models: ['A'],
      requestField: null,
    };
    const r = await collect([p], plan);
    // "1.0" is text in JSON: wrong type for a number
    expect(r.account.rejections['wrong-type']?.count).toBe(1);
    const csv = write('same.csv', 'model,u,v\nA,7,1.0\n');
    const c = await collect([csv], plan);
    expect(c.columns).toEqual({ user_id: ['7'], x: [1], y: ['1'] });
  });

  it('CSV: quotes inside unquoted cells are text, NA and null are missing numbers', async () => {
    const p = write('quotes.csv', 'model,user_id,latency_ms,country\nA,u1,NA,NA\nA,u2,null,x"y\nA,u3, 12.5 ,\n');
    const plan = { ...contractPlan(['A']), requestField: null };
    const { columns, account } = await collect([p], plan);
    expect(columns.latency_ms).toEqual([NaN, NaN, 12.5]);
    expect(columns.country).toEqual(['NA', 'x"y', null]);
    expect(account.missing.latency_ms).toEqual({ A: 2 });
  });

  it('JSONL: escaped keys and values, duplicate keys (the last wins), nested values', async () => {
    const p = write(
      'esc.jsonl',
      ['{"mod\\u0065l":"A","user_id":"u\\u00e9","x":{"model":"B"},"latency_ms":1,"latency_ms":2}', '{"model":"A","user_id":"u1","latency_ms":[1]}', '{"model":"A","user_id":"u1","score":"0.5"}'].join('\n'),
    );
    const { columns, account } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(columns.user_id).toEqual(['ué']);
    expect(columns.latency_ms).toEqual([2]);
    expect(account.rejections['wrong-type']!.first.map((l) => l.message)).toEqual(['a JSON array where a single value belongs', 'text "0.5" where a number belongs']);
  });

  it('timestamps: ISO-8601 forms, epoch ms, and unparseable ones', async () => {
    const ts = ['"2026-03-01"', '"2026-03-01T10:20"', '"2026-03-01 10:20:30.5"', '"2026-03-01T10:20:30.123456+0530"', '1772360000000', '"1772360000000"', '"2026-02-30"', '"03/01/2026"'];
    const p = write('ts.jsonl', ts.map((t) => `{"model":"A","user_id":"u","ts":${t}}`).join('\n'));
    const { columns, account } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(columns.ts).toEqual([
      Date.UTC(2026, 2, 1),
      Date.UTC(2026, 2, 1, 10, 20),
      Date.UTC(2026, 2, 1, 10, 20, 30, 500),
      Date.UTC(2026, 2, 1, 4, 50, 30, 123) + 0.456,
      1772360000000,
      1772360000000,
    ]);
    expect(lines(account, 'wrong-type')).toEqual([7, 8]);
  });

  it('timestamps beyond what a date holds (±8.64e15 ms) are the wrong type, in JSONL, CSV and Arrow alike', async () => {
    const times = [8.64e15, -8.64e15, 8.640000000000001e15, -8.7e15, 1e20, 1e300];
    const jsonl = write('ts-range.jsonl', times.map((t) => `{"model":"A","user_id":"u","ts":${t}}`).join('\n') + '\n{"model":"A","user_id":"u","ts":"100000000000000000000"}\n');
    const csv = write('ts-range.csv', 'model,user_id,ts\n' + times.map((t) => `A,u,${t}`).join('\n') + '\nA,u,100000000000000000000\n');
    const { Table, vectorFromArray, Float64, Int64, TimestampMillisecond, Utf8, tableToIPC } = await import('apache-arrow');
    const arrowOf = (name: string, ts: ReturnType<typeof vectorFromArray>): string[] => {
      const t = new Table({ model: vectorFromArray(times.map(() => 'A'), new Utf8()), user_id: vectorFromArray(times.map(() => 'u'), new Utf8()), ts });
      return [write(`${name}.arrow`, Buffer.from(tableToIPC(t, 'file'))), write(`${name}.arrows`, Buffer.from(tableToIPC(t, 'stream')))];
    };
    const arrows = [
      ...arrowOf('ts-range-f64', vectorFromArray(times, new Float64())),
      // as 64-bit integers and as an Arrow timestamp column: the same milliseconds
      ...arrowOf('ts-range-i64', vectorFromArray(times.map((t) => (Math.abs(t) < 9e18 ? BigInt(t) : 0n)), new Int64())),
      ...arrowOf('ts-range-tsms', vectorFromArray(times.map((t) => (Math.abs(t) < 9e18 ? t : 0)), new TimestampMillisecond())),
    ];
    const plan = { ...contractPlan(['A']), requestField: null };
    for (const p of [jsonl, csv]) {
      const { columns, account } = await collect([p], plan);
      expect(columns.ts, p).toEqual([8.64e15, -8.64e15]);
      expect(lines(account, 'wrong-type'), p).toEqual([3, 4, 5, 6, 7].map((l) => l + (p.endsWith('.csv') ? 1 : 0)));
      expect(account.rejections['wrong-type']!.first[0]!.message).toMatch(/outside the range of a time/);
    }
    for (const p of arrows) {
      const { columns, account } = await collect([p], plan);
      const inRange = p.includes('f64') ? [8.64e15, -8.64e15] : [8.64e15, -8.64e15, 0, 0];
      expect(columns.ts, p).toEqual(inRange);
      expect(account.rejections['wrong-type']!.count, p).toBe(p.includes('f64') ? 4 : 2);
      expect(account.rejections['wrong-type']!.first[0]!.field).toBe('ts');
    }
  });

  it('a CSV header naming a read column twice: the first is read, and the account notes it once, on one thread or two, in one part or two', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `A,u${i},${i},${-i}`).join('\n');
    const p = write('dup-header.csv', `model,user_id,latency_ms,latency_ms\n${rows}\n`);
    const note = `${p}: the header names column "latency_ms" 2 times (columns 3, 4); the first is read, the others are ignored`;
    for (const options of [{}, { threads: true }, { threads: true, splitMinBytes: 0 }]) {
      const { columns, account } = await collect([p], { ...contractPlan(['A']), requestField: null }, options);
      expect(columns.latency_ms!.slice(0, 3), JSON.stringify(options)).toEqual([0, 1, 2]);
      expect(account.notes, JSON.stringify(options)).toEqual([note]);
    }
    // a column named twice that nothing reads is no concern
    const q = write('dup-unread.csv', 'model,user_id,x,x\nA,u,1,2\n');
    expect((await collect([q], { ...contractPlan(['A']), requestField: null })).account.notes ?? []).toEqual([]);
  });

  it('flags: booleans, 0/1, words in any case; error messages count as 1', async () => {
    const p = write('flags.csv', 'model,user_id,converted,error\nA,u,1,\nA,u,0,timeout\nA,u,TRUE,false\nA,u,False,0\nA,u,1.0,True\nA,u,2,\n');
    const { columns, account } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(columns.converted).toEqual([1, 0, 1, 0, 1]);
    expect(columns.error).toEqual([NaN, 1, 0, 0, 1]);
    expect(account.rejections['wrong-type']!.first[0]!.message).toBe('2 where a flag (0/1, true/false) belongs');
  });

  it('labels are canonical: 1, 1.0 and "1" are one label; booleans lower case', async () => {
    const p = write('labels.jsonl', ['1', '1.0', '"1"', 'true', '"True"', '"cat"', 'null'].map((v, i) => `{"model":"A","user_id":"u${i}","label":${v}}`).join('\n'));
    const { columns, numeric } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(columns.label).toEqual(['1', '1', '1', 'true', 'true', 'cat', null]);
    expect(numeric.label).toEqual([1, 1, 1, 1, 1, NaN, NaN]);
  });

  it('accepts any model when asked (inspect), in order of appearance', async () => {
    const { account, model } = await collect([LOGS + 'damaged/unknown-model.jsonl'], { ...contractPlan([]), acceptAnyModel: true });
    expect(account.rowsRejected).toBe(0);
    expect([...new Set(model)]).toEqual(['champion', 'shadow', 'canary-v3', 'challenger']);
  });

  it('reports progress in bytes and rows', async () => {
    const calls: [number, number][] = [];
    await collect([LOGS + 'clean.jsonl', LOGS + 'clean.arrow'], contractPlan(), { onProgress: (b, r) => calls.push([b, r]) });
    const last = calls[calls.length - 1]!;
    expect(last[1]).toBe(80);
    expect(last[0]).toBeGreaterThan(0);
    for (let k = 1; k < calls.length; k++) expect(calls[k]![0]).toBeGreaterThanOrEqual(calls[k - 1]![0]);
  });

  it('CSV: a quote left open in the last line is truncated, whatever lone CRs came before', async () => {
    // (csv-parse counts a lone CR as a line; lines here are line feeds, as everywhere else)
    const p = write('cr.csv', 'model,user_id,country\nA,u1,"q"\nA,u2,x\ry\nA,u3,a\rb\r\nA,"u4');
    const { account, columns } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(columns.country).toEqual(['q', 'x\ry', 'a\rb']);
    expect(account.rejections.truncated?.first.map((l) => l.line)).toEqual([5]);
    // a quote opened earlier swallows whole lines: that cannot be counted row by row
    const q = write('open.csv', 'model,user_id\nA,"u1\nA,u2\nA,u3\n');
    await rejectsWith(collect([q], { ...contractPlan(['A']), requestField: null }), 'data', /open\.csv:2: a quote opened on line 2 is never closed; it swallows the rest of the file \(3 lines\) — 0 rows read/);
  });

  it('a gzipped CSV is read as CSV', async () => {
    const p = write('g.csv.gz', gzipSync('model,user_id\nA,u1\nA,u2\n'));
    const { account } = await collect([p], { ...contractPlan(['A']), requestField: null });
    expect(account.files[0]).toMatchObject({ format: 'csv', gzip: true, rowsSeen: 2 });
  });
});
