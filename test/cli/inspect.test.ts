/** `abtool inspect` end to end through the built CLI: every bad-input case with its message and exit code. */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const L = 'fixtures/logs/';
const D = `${L}damaged/`;
const MODELS = ['--models', 'champion,challenger'];
const inspect = (...args: string[]) => runCli(['inspect', ...args]);
const oneLine = (s: string) => s.trim().split('\n');

describe('abtool inspect: good input', () => {
  it('the same log in five formats reports the same counts (exit 0 within the limit)', () => {
    const counts = ['clean.jsonl', 'clean.jsonl.gz', 'clean.csv', 'clean.arrow', 'clean.arrows'].map((f) => {
      const r = inspect(L + f, ...MODELS, '--max-bad-rows', '5%', '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const j = r.json();
      return { seen: j.rows_seen, read: j.rows_read, rejected: j.rows_rejected, rejections: Object.keys(j.rejections), missing: j.missing, per: j.rows_per_model, unknown: j.unknown_models };
    });
    expect(counts[0]).toEqual({
      seen: 40,
      read: 38,
      rejected: 2,
      rejections: ['unknown-model', 'duplicate'],
      missing: { score: { champion: 1 }, label: { challenger: 1 }, latency_ms: { champion: 1 } },
      per: { champion: 28, challenger: 10 },
      unknown: { shadow: 1 },
    });
    for (const c of counts) expect(c).toEqual(counts[0]);
  });

  it('prints readable tables by default', () => {
    const r = inspect(L + 'clean.csv', ...MODELS, '--max-bad-rows', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clean\.csv .* csv .* no .* 40/);
    expect(r.stdout).toMatch(/rows: 40 seen, 38 read, 2 rejected \(5\.00%\)/);
    expect(r.stdout).toMatch(/read per model: champion 28, challenger 10/);
    expect(r.stdout).toMatch(/clean\.csv:23: model: model "shadow" is not in the spec \(champion, challenger\)/);
    expect(r.stdout).toMatch(/unknown models: shadow \(1 row\)/);
    expect(r.stdout).toMatch(/missing values .* champion .* challenger/);
  });

  it('without --models every model found is accepted', () => {
    const r = inspect(D + 'unknown-model.jsonl', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().rows_per_model).toEqual({ champion: 1, shadow: 2, 'canary-v3': 1, challenger: 1 });
  });

  it('reads directories recursively and lists the files it skipped', () => {
    const r = inspect(L + 'dir', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.files.map((f: { path: string }) => f.path)).toEqual([`${L}dir/a.jsonl`, `${L}dir/sub/b.csv`, `${L}dir/sub/c.jsonl.gz`]);
    expect(j.skipped.map((f: { path: string }) => f.path)).toEqual([`${L}dir/README.md`, `${L}dir/sub/notes.txt`]);
    expect(j.rows_read).toBe(5);
  });

  it('reads JSON Lines from stdin, gzip-compressed or not', () => {
    const text = readFileSync(L + 'clean.jsonl');
    for (const input of [text, gzipSync(text)]) {
      const r = runCli(['inspect', '-', ...MODELS, '--max-bad-rows', '2', '--json'], { input: input as unknown as string });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ rows_seen: 40, rows_read: 38, files: [{ path: 'stdin', format: 'jsonl' }] });
    }
  });

  it('Arrow on stdin (piped, gzipped or not) is an error saying it must be a regular file, not JSON Lines gone wrong', () => {
    const file = readFileSync(L + 'clean.arrow');
    const stream = readFileSync(L + 'clean.arrows');
    for (const [input, message] of [
      [file, 'Arrow input must be a regular file (not a pipe or stdin)'],
      [stream, 'Arrow input must be a regular file (not a pipe or stdin)'],
      [gzipSync(file), 'gzip-compressed Arrow is not supported; decompress it first'],
    ] as const) {
      const r = runCli(['inspect', '-', ...MODELS], { input: input as unknown as string });
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr.trim()).toBe(`abtool: stdin: ${message}`);
    }
  });

  it('maps columns with --fields and reads --extra fields', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-inspect-'));
    const p = join(dir, 'v.csv');
    writeFileSync(p, 'variant,uid,converted\nA,u1,1\nB,u2,0\nB,u3,\n');
    const r = inspect(p, '--fields', 'model=variant,user_id=uid', '--extra', 'converted:flag', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ rows_read: 3, rows_per_model: { A: 1, B: 2 }, missing: { converted: { B: 1 } } });
  });

  it('BOM, CRLF and blank lines are fine', () => {
    const r = inspect(D + 'bom-crlf-blank.jsonl', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ rows_read: 3, rows_rejected: 0, blank_lines: 3 });
  });
});

describe('abtool inspect: bad input, each with its message and exit code', () => {
  const cases: [string, string[], RegExp][] = [
    ['malformed.jsonl', [], /^abtool: 3 of 6 rows rejected \(50\.0%\), over --max-bad-rows 1%: malformed 3 \(first at .*malformed\.jsonl:3\)$/],
    ['truncated.jsonl', [], /^abtool: 1 of 3 rows rejected .*: truncated 1 \(first at .*truncated\.jsonl:3\)$/],
    ['wrong-fields.csv', [], /: wrong-field-count 2 \(first at .*wrong-fields\.csv:3\)$/],
    ['truncated.csv', [], /: truncated 1 \(first at .*truncated\.csv:4\)$/],
    ['missing-required.jsonl', [], /: missing-required 4 \(first at .*missing-required\.jsonl:2 model\)$/],
    ['wrong-type.jsonl', [], /: wrong-type 5 \(first at .*wrong-type\.jsonl:2 latency_ms\)$/],
    ['non-finite.jsonl', [], /: non-finite 5 \(first at .*non-finite\.jsonl:2 latency_ms\)$/],
    ['non-finite.csv', [], /: non-finite 3 \(first at .*non-finite\.csv:3 latency_ms\)$/],
    ['unknown-model.jsonl', MODELS, /: unknown-model 3 \(first at .*unknown-model\.jsonl:2 model\)$/],
    ['duplicates.jsonl', [], /: duplicate 3 \(first at .*duplicates\.jsonl:3 request_id\)$/],
    ['all-bad.jsonl', [], /^abtool: no valid rows: all 3 rows rejected \(malformed 1 .*all-bad\.jsonl:1\), missing-required 2/],
    ['empty.jsonl', [], /^abtool: no rows in .*empty\.jsonl$/],
    ['corrupt.jsonl.gz', [], /^abtool: .*corrupt\.jsonl\.gz: corrupt or truncated gzip data \(.*\) — 0 rows read before the error$/],
    ['truncated.jsonl.gz', [], /^abtool: .*truncated\.jsonl\.gz: corrupt or truncated gzip data \(unexpected end of file\) — \d+ rows read before the error$/],
    ['truncated.arrow', [], /^abtool: .*truncated\.arrow: truncated Arrow file \(no footer: cut mid-write\?\) — 17 rows read before the error/],
    ['truncated.arrows', [], /^abtool: .*truncated\.arrows: truncated or corrupt Arrow data — 17 rows read before the error/],
    ['not-arrow.arrow', [], /not an Arrow IPC file or stream/],
  ];
  it.each(cases)('%s: exit 65', (file, extra, message) => {
    const r = inspect(D + file, ...extra);
    expect(r.code, r.stderr).toBe(65);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('prints the account before failing on the limit, so the reasons are visible', () => {
    const r = inspect(D + 'wrong-type.jsonl', '--json');
    expect(r.code).toBe(65);
    expect(r.json().rejections['wrong-type'].first[0]).toEqual({
      file: `${D}wrong-type.jsonl`,
      line: 2,
      field: 'latency_ms',
      message: 'text "fast" where a number belongs',
    });
  });

  it('--max-bad-rows as a fraction, percentage or count lets a run through', () => {
    expect(inspect(D + 'malformed.jsonl', '--max-bad-rows', '0.5').code).toBe(0);
    expect(inspect(D + 'malformed.jsonl', '--max-bad-rows', '50%').code).toBe(0);
    expect(inspect(D + 'malformed.jsonl', '--max-bad-rows', '3').code).toBe(0);
    const r = inspect(D + 'malformed.jsonl', '--max-bad-rows', '2');
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/over --max-bad-rows 2 rows/);
  });

  it('--strict with a --max-bad-rows that tolerates rows is a usage error (exit 64), whichever comes first; with 0 they agree', () => {
    for (const args of [['--strict', '--max-bad-rows', '3'], ['--max-bad-rows', '1%', '--strict'], ['--strict', '--max-bad-rows=0.5']]) {
      const r = inspect(D + 'malformed.jsonl', ...args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toMatch(/^abtool: --strict stops at the first rejected row, but --max-bad-rows (3 rows|1%|50%) tolerates some: give one of them$/);
    }
    // 0 tolerates none, as --strict: the strict read stops at the first one
    const zero = inspect(D + 'malformed.jsonl', '--strict', '--max-bad-rows', '0');
    expect(zero.code).toBe(65);
    expect(zero.stderr).toMatch(/--strict stops at the first rejected row\)$/m);
    expect(inspect('fixtures/examples/ab-win/logs.jsonl', '--strict', '--max-bad-rows', '0').code).toBe(0);
  });

  it('--strict: the first rejected row is exit 65 naming file, line, field and reason', () => {
    const r = inspect(D + 'wrong-type.jsonl', '--strict');
    expect(r.code).toBe(65);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim()).toBe(`abtool: ${D}wrong-type.jsonl:2: latency_ms: text "fast" where a number belongs — a value of the wrong type (--strict stops at the first rejected row)`);
    const t = inspect(D + 'truncated.csv', '--strict');
    expect(t.stderr).toMatch(/truncated\.csv:4: the last line has no newline and only 3 of 4 cells — truncated final record/);
    expect(inspect(L + 'clean.jsonl', '--strict', ...MODELS).stderr).toMatch(/clean\.jsonl:21: model: model "shadow" is not in the spec/);
  });

  it('a path that does not exist: exit 66', () => {
    const r = inspect(L + 'clean.jsonl', L + 'missing.jsonl');
    expect(r.code).toBe(66);
    expect(r.stderr.trim()).toBe(`abtool: ${L}missing.jsonl: no such file or directory`);
    expect(r.stdout).toBe('');
  });

  it('a directory without any log: exit 65', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-inspect-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'notes.txt'), 'x');
    const r = inspect(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/no log files to read .* skipped 1 file\(s\) with other extensions, e\.g\. .*notes\.txt/);
    // the message names the input
    expect(r.stderr).toContain(`no log files to read in ${dir} (supported:`);
  });

  it('usage errors: exit 64 naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['--max-bad-rows', 'lots'], /--max-bad-rows must be a fraction below 1/],
      [['--fields', 'model'], /--fields must be contract=column pairs/],
      [['--fields', 'colour=c'], /--fields maps "colour", which is not a field inspect reads/],
      [['--extra', 'country:text'], /--extra items are name:kind/],
      [['--models', 'a,,b'], /--models must be a comma-separated list/],
      [['--fields', 'model=variant,model=x'], /--fields maps "model" twice \(to "variant" and "x"\)/],
      [['--unit', ''], /--unit needs a field name/],
      [['--unit', '  '], /--unit needs a field name/],
    ];
    for (const [args, message] of cases) {
      const r = inspect(L + 'clean.jsonl', ...args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(message);
    }
    expect(runCli(['inspect', '-', '-'], { input: '' }).code).toBe(64);
  });
});
