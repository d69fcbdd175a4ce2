/**
 * Through the built CLI: a log of 8 MB or more is parsed on a worker thread (ingest/index.ts), and a
 * big JSONL or CSV file in two parts on two workers (forced here with ABTOOL_SPLIT_MIN_BYTES=0). The report
 * and exit code must be exactly those of a read in one thread (ABTOOL_THREADS=0), with bad rows on
 * both sides of the cut, a duplicate across it, and --strict.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fileParts, splitCut, splitParts } from '../../src/ingest/index.js';
import { resolveInputs } from '../../src/ingest/open.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { ROOT } from '../helpers/reference.js';

const tmp = mkdtempSync(join(tmpdir(), 'abtool-threaded-'));
const spec = join(ROOT, 'fixtures/examples/ab-win/spec.json');

/** ~50k rows (over 8 MB) with malformed lines, duplicates and a wrong type, early and late in the file. */
function bigLog(): string {
  let state = 11;
  const rand = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31), state / 2 ** 31);
  const lines: string[] = [];
  for (let i = 0; i < 50_000; i++) {
    const user = Math.floor(rand() * 12_000);
    const model = user % 2 ? 'challenger' : 'champion';
    const country = ['BR', 'DE', 'IN', 'US'][user % 4];
    const row = {
      ts: new Date(Date.UTC(2026, 10, 2) + i * 5000).toISOString(),
      request_id: `req-${i}-${'x'.repeat(80)}`,
      user_id: `user-${user}`,
      model,
      country,
      prediction: rand() < 0.5 ? 'approve' : 'review',
      latency_ms: Math.round((20 + 10 * rand() + (rand() < 0.01 ? 80 : 0)) * 100) / 100,
      error: rand() < 0.002,
      converted: rand() < (model === 'challenger' ? 0.12 : 0.1) ? 1 : 0,
    };
    lines.push(JSON.stringify(row));
  }
  lines[12_000] = '{"ts": "2026-11-02T16:40:00Z", "model": "challenger", cut off';
  lines[30_000] = lines[10_000]!;
  lines[40_000] = '{"ts": "2026-11-03T00:00:00Z", "model": "champion", broken';
  lines[45_000] = lines[44_000]!;
  lines[46_000] = lines[46_000]!.replace(/"latency_ms":[0-9.]+/, '"latency_ms":"slow"');
  const p = join(tmp, 'big.jsonl');
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

const withoutTime = (s: string): string => s.replace(/"generated_at":"[^"]*"/, '');

/** analyze of `input` split in two parts (forced on any size) and in one thread: the same stderr, exit code and report; the split run */
function splitSameAsOneThread(input: string, extra: string[] = []): CliRun {
  const args = ['analyze', input, '--spec', spec, '--format', 'json', '--quiet', ...extra];
  const split = runCli(args, { env: { ABTOOL_SPLIT_MIN_BYTES: '0' } });
  const one = runCli(args, { env: { ABTOOL_THREADS: '0' } });
  expect(split.stderr).toBe(one.stderr);
  expect(split.code).toBe(one.code);
  expect(withoutTime(split.stdout)).toBe(withoutTime(one.stdout));
  return split;
}

describe('threaded reading through the CLI', () => {
  const log = bigLog();

  it('the log is big enough to be read on a worker thread', () => {
    expect(statSync(log).size).toBeGreaterThan(8 * 1024 * 1024);
  });

  it('gives the same report and exit code as one thread', () => {
    const args = ['analyze', log, '--spec', spec, '--format', 'json', '--quiet'];
    const two = runCli(args);
    const one = runCli(args, { env: { ABTOOL_THREADS: '0' } });
    expect(two.stderr).toBe('');
    expect(two.code).toBe(one.code);
    expect(withoutTime(two.stdout)).toBe(withoutTime(one.stdout));
    const input = two.json().input;
    expect(input.rows_seen).toBe(50_000);
    expect(Object.fromEntries(Object.entries(input.rejections).map(([k, v]: [string, any]) => [k, v.first[0].line]))).toEqual({
      malformed: 12_001,
      'wrong-type': 46_001,
      duplicate: 30_001,
    });
  });

  it('--strict stops at the first rejected row, exit 65, the same way', () => {
    const args = ['analyze', log, '--spec', spec, '--format', 'json', '--quiet', '--strict'];
    const two = runCli(args);
    const one = runCli(args, { env: { ABTOOL_THREADS: '0' } });
    expect(two.code).toBe(65);
    expect(two.stderr).toBe(one.stderr);
    expect(two.stderr).toMatch(/big\.jsonl:12001: .*--strict stops at the first rejected row/);
  });

  it('stdin redirected from the log is read on a worker, with the same report as the file in one thread', () => {
    const fromFile = (strict: boolean) => {
      const fd = openSync(log, 'r');
      try {
        const args = ['analyze', '-', '--spec', spec, '--format', 'json', '--quiet', ...(strict ? ['--strict'] : [])];
        return spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, ...args], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      } finally {
        closeSync(fd);
      }
    };
    const redirected = fromFile(false);
    const one = runCli(['analyze', log, '--spec', spec, '--format', 'json', '--quiet'], { env: { ABTOOL_THREADS: '0' } });
    expect(redirected.stderr).toBe('');
    expect(redirected.status).toBe(one.code);
    const a = JSON.parse(redirected.stdout);
    // the same report, the file named stdin (its rejections' locations too)
    const b = JSON.parse(one.stdout.split(JSON.stringify(log)).join('"stdin"'));
    // stdin redirected from a file has its size (the read is threaded from 8 MB on, as a file's)
    expect(a.input.files).toEqual(b.input.files);
    expect(a.input.files[0].bytes).toBe(statSync(log).size);
    for (const r of [a, b]) {
      delete r.generated_at;
      delete r.input.files;
    }
    expect(a).toEqual(b);
    // --strict: the same first rejected row, named after stdin
    const strict = fromFile(true);
    expect(strict.status).toBe(65);
    expect(strict.stderr).toMatch(/^abtool: stdin:12001: .*--strict stops at the first rejected row/);
  });

  it('stdin redirected from a directory is a data error saying so (not an empty input)', () => {
    const fd = openSync(tmp, 'r');
    try {
      const p = spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, 'analyze', '-', '--spec', spec, '--format', 'json', '--quiet'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      expect(p.status).toBe(65);
      expect(p.stderr).toBe('abtool: stdin: cannot read (it is a directory)\n');
    } finally {
      closeSync(fd);
    }
  });

  it('stdin redirected from a file already partly read: its size is what is left', () => {
    const bytes = readFileSync(log);
    const skip = bytes.indexOf(10, 1_000_000) + 1;
    const fd = openSync(log, 'r');
    try {
      readSync(fd, Buffer.alloc(skip), 0, skip, null); // fd 0 of the child starts here
      const p = spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, 'analyze', '-', '--spec', spec, '--format', 'json', '--quiet'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      const input = JSON.parse(p.stdout).input;
      expect(input.files[0].bytes).toBe(bytes.length - skip);
      expect(input.rows_seen).toBe(bytes.subarray(skip).toString('latin1').split('\n').length - 1);
    } finally {
      closeSync(fd);
    }
  });

  it('a split read (two workers, one part each) gives the same report and exit code as one thread', () => {
    // the cut falls between the first bad rows and the duplicate of a row before it
    const cut = splitCut(resolveInputs([log]).sources, { fields: [], modelField: 'model', models: [], requestField: null }, { splitMinBytes: 0 })!;
    const cutLine = readFileSync(log).subarray(0, cut).toString('latin1').split('\n').length;
    expect(cutLine).toBeGreaterThan(12_001);
    expect(cutLine).toBeLessThan(30_001);
    const split = splitSameAsOneThread(log);
    expect(split.stderr).toBe('');
    expect(split.json().input.rejections.duplicate.count).toBe(2);
  });

  it('a gzipped log read in two parts (both inflating it, cut in its inflated bytes) gives the same report and exit code as one thread', () => {
    // stored, not compressed (level 0): its 9 MB make a threaded read
    const gz = join(tmp, 'big.jsonl.gz');
    writeFileSync(gz, gzipSync(readFileSync(log), { level: 0 }));
    const plan = { fields: [], modelField: 'model', models: [], requestField: null };
    expect(splitParts(resolveInputs([gz]).sources, plan, { splitMinBytes: 0 })).toEqual([
      { start: 0, end: expect.any(Number), format: 'jsonl', gzip: true },
      { start: expect.any(Number), end: null, format: 'jsonl', gzip: true },
    ]);
    expect(splitSameAsOneThread(gz).json().input.rejections.duplicate.count).toBe(2);
    expect(splitSameAsOneThread(gz, ['--strict']).code).toBe(65);
  });

  it('a directory of JSON Lines files (one gzipped) read in two parts of whole files gives the same report and exit code as one thread', () => {
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    const dir = mkdtempSync(join(tmp, 'dir-'));
    // row 30000 (in b, the worker's) duplicates row 10000 (in a, this thread's); 45000 (in c) duplicates 44000 (in b)
    writeFileSync(join(dir, 'a.jsonl'), lines.slice(0, 14_000).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl.gz'), gzipSync(lines.slice(14_000, 44_500).join('\n') + '\n'));
    writeFileSync(join(dir, 'c.jsonl'), lines.slice(44_500).join('\n') + '\n');
    const plan = { fields: [], modelField: 'model', models: [], requestField: null };
    expect(fileParts(resolveInputs([dir]).sources, plan, { splitMinBytes: 0 })).toEqual([{ files: [0, 1] }, { files: [1, 3] }]);
    const split = splitSameAsOneThread(dir);
    expect(split.stderr).toBe('');
    const input = split.json().input;
    expect(input.rows_seen).toBe(50_000);
    expect(input.rejections.duplicate.first.map((l: { file: string; line: number }) => [l.file.slice(dir.length + 1), l.line])).toEqual([
      ['b.jsonl.gz', 16_001],
      ['c.jsonl', 501],
    ]);
  });

  it('a split CSV read gives the same report and exit code as one thread', () => {
    // the JSONL log's rows as CSV; a quoted cell with a newline, commas and a doubled quote on each side of the cut
    const rows = readFileSync(log, 'utf8').trimEnd().split('\n');
    const cols = ['ts', 'request_id', 'user_id', 'model', 'country', 'prediction', 'latency_ms', 'error', 'converted', 'note'];
    const lines = [cols.join(',')];
    rows.forEach((text, i) => {
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(text) as Record<string, unknown>;
      } catch {
        lines.push('challenger,cut off'); // a row with the wrong cell count
        return;
      }
      r.note = i % 5000 === 7 ? '"a ""quoted"", multi\nline note"' : 'n'.repeat(12);
      lines.push(cols.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','));
    });
    const csv = join(tmp, 'big.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
    expect(statSync(csv).size).toBeGreaterThan(8 * 1024 * 1024); // read on workers
    const cut = splitCut(resolveInputs([csv]).sources, { fields: [], modelField: 'model', models: [], requestField: null }, { splitMinBytes: 0 })!;
    expect(cut).toBeGreaterThan(0);
    const split = splitSameAsOneThread(csv);
    expect(split.stderr).toBe('');
    const input = split.json().input;
    expect(input.rejections.duplicate.count).toBe(2);
    expect(input.rejections['wrong-field-count'].first[0].line).toBeGreaterThan(12_001); // the note's newlines count
  });
});
