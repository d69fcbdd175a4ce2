/**
 * `abtool watch` end to end through the built CLI (build first: `npx tsc -p tsconfig.json`):
 * stdin and a growing file, the firing moment compared with `abtool analyze` on the same fixture,
 * the --on-rollback command, exit codes. Every child process has a deadline and is killed in
 * `finally`, so a watcher that never exits fails the test instead of hanging it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/reference.js';

const ex = (name: string) => join(ROOT, 'fixtures/examples', name);
const SLOW_SPEC = join(ex('canary-slow'), 'spec.json');
const HEALTHY_SPEC = join(ex('canary-healthy'), 'spec.json');
const logs = (name: string): Buffer => gunzipSync(readFileSync(join(ex(name), 'logs.jsonl.gz')));
const FIRED_AT = '2026-11-02T09:25:00.000Z';

interface Watcher {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  /** resolves with the exit code once the process ended */
  exited: Promise<number | null>;
  /** wait until pred(stdout, stderr) holds; rejects after ms */
  until: (pred: (out: string, err: string) => boolean, ms?: number, what?: string) => Promise<void>;
  kill: () => void;
}

function watch(args: string[], env: Record<string, string> = {}): Watcher {
  const child = spawn(process.execPath, [join(ROOT, 'bin/abtool.js'), 'watch', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => {}); // the watcher may exit before it read everything
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const until = async (pred: (o: string, e: string) => boolean, ms = 20_000, what = 'condition'): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!pred(out, err)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        if (pred(out, err)) return;
        throw new Error(`watcher exited (${child.exitCode}) before ${what}\nstdout: ${out.slice(-2000)}\nstderr: ${err}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\nstdout: ${out.slice(-2000)}\nstderr: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return { child, out: () => out, err: () => err, exited, until, kill };
}

/** The exit code, or a rejection after ms. */
function exitWithin(w: Watcher, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`watcher still running after ${ms} ms\nstdout: ${w.out().slice(-2000)}\nstderr: ${w.err()}`)), ms);
  });
  return Promise.race([w.exited, timeout]).finally(() => clearTimeout(timer));
}

/** Pipe the bytes into the watcher's stdin and wait for its exit. */
async function pipeAndWait(w: Watcher, input: Buffer, ms = 30_000): Promise<number | null> {
  w.child.stdin.end(input);
  return exitWithin(w, ms);
}

function analyzeRollback(name: string) {
  const r = runCli(['analyze', join(ex(name), 'logs.jsonl.gz'), '--spec', join(ex(name), 'spec.json'), '--format', 'json', '--quiet', '--resamples', '200']);
  return r.json().rollback;
}

const jsonLines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));

const MARKER_CMD = 'printf "%s\\n%s\\n%s\\n" "$ABTOOL_TRIGGERED_AT" "$ABTOOL_REASON" "$ABTOOL_SPEC" > "$MARKER"';

describe('abtool watch: stdin', () => {
  it('the slow canary fires at the moment analyze reports, runs --on-rollback with its environment, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const marker = join(dir, 'rolled-back');
    const w = watch(['--spec', SLOW_SPEC, '-', '--json', '--on-rollback', MARKER_CMD], { MARKER: marker });
    try {
      const code = await pipeAndWait(w, logs('canary-slow'));
      expect(code).toBe(1);
      const expected = analyzeRollback('canary-slow');
      expect(expected.triggered_at).toBe(FIRED_AT);
      // the windows printed as they closed are analyze's, up to the firing one
      const windows = jsonLines(w.out());
      const last = expected.windows.findIndex((x: { end: string }) => x.end === FIRED_AT);
      expect(last).toBeGreaterThan(4);
      expect(windows).toEqual(expected.windows.slice(0, last + 1));
      expect(windows.at(-1)).toMatchObject({ status: 'breach', streak: 5, end: FIRED_AT });
      // why, then the command, then its status
      expect(w.err()).toContain(`rollback fired at ${FIRED_AT}: the challenger's p99 latency_ms was above 1.2x the champion's for 5 consecutive 1m windows`);
      expect(w.err()).toContain('--on-rollback command exited with status 0');
      expect(existsSync(marker)).toBe(true);
      const [at, reason, spec] = readFileSync(marker, 'utf8').split('\n');
      expect(at).toBe(FIRED_AT);
      expect(reason).toBe(expected.reason);
      expect(spec).toBe(SLOW_SPEC);
    } finally {
      w.kill();
    }
  });

  it('prints one human line per window and the reason on stdout; a failing command is reported, the exit is still 1', async () => {
    const w = watch(['--spec', SLOW_SPEC, '--on-rollback', 'echo rolling back; exit 3']);
    try {
      const code = await pipeAndWait(w, logs('canary-slow'));
      expect(code).toBe(1);
      const lines = w.out().trimEnd().split('\n');
      expect(lines.slice(-3)).toEqual([
        expect.stringMatching(/^2026-11-02T09:24:00.000Z \+1m {2}breach .*p99 latency_ms challenger 88.75 \/ champion 57.72 = 1.538 > 1.2 .*streak 5\/5$/),
        `ROLLBACK: rollback fired at ${FIRED_AT}: the challenger's p99 latency_ms was above 1.2x the champion's for 5 consecutive 1m windows`,
        'rolling back',
      ]);
      expect(lines.filter((l) => /^2026-11-02T09:\d\d:00.000Z \+1m/.test(l))).toHaveLength(25);
      expect(w.err()).toContain('--on-rollback command exited with status 3');
      expect(w.err()).toMatch(/25 window\(s\) closed \(20 healthy, 5 breach, 0 insufficient\)/);
    } finally {
      w.kill();
    }
  });

  it('the healthy canary does not fire: every window is analyze\'s, exit 0 after a summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const marker = join(dir, 'rolled-back');
    const w = watch(['--spec', HEALTHY_SPEC, '--json', '--on-rollback', MARKER_CMD], { MARKER: marker });
    try {
      const code = await pipeAndWait(w, logs('canary-healthy'));
      expect(code).toBe(0);
      const expected = analyzeRollback('canary-healthy');
      expect(expected.triggered).toBe(false);
      expect(jsonLines(w.out())).toEqual(expected.windows);
      expect(expected.windows).toHaveLength(40);
      expect(w.err()).toMatch(/40 window\(s\) closed \(40 healthy, 0 breach, 0 insufficient\); 80000 row\(s\) from stdin: 80000 read, 0 rejected/);
      expect(w.err()).toContain('rollback rule did not fire: 40 window(s) judged');
      expect(existsSync(marker)).toBe(false);
    } finally {
      w.kill();
    }
  });

  it('counts rejected and late lines without stopping', async () => {
    const lines = logs('canary-healthy').toString().split('\n');
    const late = lines[5]!.replace(/"request_id":"[^"]*"/, '"request_id":"late-1"');
    const input = [
      'not json at all',
      ...lines.slice(0, 30_000),
      '{"ts":"2026-11-02T09:15:00Z","model":"nobody","user_id":"u1","latency_ms":3}',
      '{"ts":"yesterday","model":"champion","user_id":"u1","latency_ms":3}',
      late,
      ...lines.slice(30_000),
    ].join('\n');
    const w = watch(['--spec', HEALTHY_SPEC, '-']);
    try {
      const code = await pipeAndWait(w, Buffer.from(input));
      expect(code).toBe(0);
      const err = w.err();
      expect(err).toMatch(/rejected a row \(malformed, first of its kind; counted, watching on\): stdin:1: not valid JSON/);
      expect(err).toMatch(/rejected a row \(unknown-model.*stdin:30002/);
      expect(err).toMatch(/rejected a row \(wrong-type.*stdin:30003: ts:/);
      expect(err).toMatch(/late record at 2026-11-02T09:00:\d\d.\d+Z: its window had already closed/);
      expect(err).toMatch(/80004 row\(s\) from stdin: 80001 read, 3 rejected \(malformed 1 \(first at stdin:1\), unknown-model 1 .*wrong-type 1 .*\); 1 late/);
      expect(w.out().trimEnd().split('\n')).toHaveLength(40);
    } finally {
      w.kill();
    }
  });
});

describe('abtool watch: following a growing file', () => {
  it('reads appended chunks (one ending mid-line), fires at the right window and runs the command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const file = join(dir, 'predictions.jsonl');
    const marker = join(dir, 'rolled-back');
    const data = logs('canary-slow');
    writeFileSync(file, data.subarray(0, 1000)); // the first line or so, cut mid-line
    expect(data[999]).not.toBe(0x0a);
    const w = watch(['--spec', SLOW_SPEC, file, '--poll-ms', '20', '--on-rollback', MARKER_CMD], { MARKER: marker });
    try {
      await w.until((_, e) => e.includes(`following ${file}`), 20_000, 'the watcher to start');
      let midLine = 0;
      const step = 300_001;
      for (let at = 1000; at < data.length && w.child.exitCode === null; at += step) {
        const end = Math.min(at + step, data.length);
        appendFileSync(file, data.subarray(at, end));
        if (data[end - 1] !== 0x0a) midLine++;
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(midLine).toBeGreaterThan(3);
      const code = await exitWithin(w, 30_000);
      expect(code).toBe(1);
      expect(w.out()).toContain(`ROLLBACK: rollback fired at ${FIRED_AT}`);
      expect(readFileSync(marker, 'utf8').split('\n')[0]).toBe(FIRED_AT);
      // no line was split into bad rows by the chunk boundaries
      expect(w.err()).toMatch(/row\(s\) from .*predictions.jsonl: (\d+) read, 0 rejected/);
    } finally {
      w.kill();
    }
  });

  it('starts over when the file is truncated, switches to the new file when it is rotated, and stops on SIGTERM with exit 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const file = join(dir, 'predictions.jsonl');
    const lines = logs('canary-healthy').toString().split('\n');
    const part = (a: number, b: number) => lines.slice(a, b).join('\n') + '\n';
    writeFileSync(file, part(0, 10_000)); // about 5 minutes
    const w = watch(['--spec', HEALTHY_SPEC, file, '--poll-ms', '20']);
    try {
      await w.until((o) => o.includes('2026-11-02T09:02:00.000Z +1m'), 20_000, 'the first windows');
      writeFileSync(file, ''); // truncated
      await w.until((_, e) => e.includes(`${file} shrank from`), 20_000, 'the truncation notice');
      appendFileSync(file, 'garbage line\n' + part(10_000, 20_000));
      await w.until((o) => o.includes('2026-11-02T09:07:00.000Z +1m'), 20_000, 'windows after the truncation');
      renameSync(file, `${file}.1`);
      writeFileSync(file, part(20_000, 30_000));
      await w.until((_, e) => e.includes(`${file} was replaced (rotated)`), 20_000, 'the rotation notice');
      await w.until((o) => o.includes('2026-11-02T09:12:00.000Z +1m'), 20_000, 'windows from the new file');
      w.child.kill('SIGTERM');
      const code = await exitWithin(w, 20_000);
      expect(code).toBe(0);
      expect(w.err()).toContain('stopped by SIGTERM; the windows still open were not judged');
      expect(w.err()).toMatch(/30001 row\(s\) from .*: 30000 read, 1 rejected \(malformed 1 \(first at .*predictions.jsonl:1\)\)/);
      const starts = w.out().trimEnd().split('\n').map((l) => l.slice(0, 24));
      expect(starts).toEqual(Array.from({ length: starts.length }, (_, k) => new Date(Date.parse('2026-11-02T09:00:00Z') + k * 60_000).toISOString()));
      expect(w.out()).not.toContain('ROLLBACK');
    } finally {
      w.kill();
    }
  });

  it('follows a CSV log too (header first, rows appended mid-line)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const file = join(dir, 'predictions.csv');
    const cols = ['ts', 'request_id', 'user_id', 'model', 'country', 'latency_ms', 'error', 'converted'];
    const rows = logs('canary-slow')
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => {
        const r = JSON.parse(l);
        return cols.map((c) => String(r[c])).join(',');
      });
    const csv = Buffer.from(`${cols.join(',')}\n${rows.join('\n')}\n`);
    writeFileSync(file, csv.subarray(0, 1_000_001));
    expect(csv[1_000_000]).not.toBe(0x0a);
    const w = watch(['--spec', SLOW_SPEC, file, '--poll-ms', '20', '--json']);
    try {
      await w.until((o) => o.includes('"start":"2026-11-02T09:00:00.000Z"'), 20_000, 'the first window');
      appendFileSync(file, csv.subarray(1_000_001));
      expect(await exitWithin(w, 30_000)).toBe(1);
      expect(jsonLines(w.out()).at(-1)).toMatchObject({ end: FIRED_AT, status: 'breach', streak: 5 });
      expect(w.err()).toMatch(/predictions.csv: \d+ read, 0 rejected/);
    } finally {
      w.kill();
    }
  });

  it('--from-end skips what the file already holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const file = join(dir, 'predictions.jsonl');
    const data = logs('canary-slow');
    const cut = data.indexOf(0x0a, 6_000_000) + 1; // about 19 minutes, healthy
    writeFileSync(file, data.subarray(0, cut - 10)); // ends mid-line
    const w = watch(['--spec', SLOW_SPEC, file, '--poll-ms', '20', '--from-end', '--json']);
    try {
      await w.until((_, e) => e.includes('--from-end: skipping'), 20_000, 'the watcher to start');
      appendFileSync(file, data.subarray(cut - 10));
      const code = await exitWithin(w, 30_000);
      expect(code).toBe(1);
      const windows = jsonLines(w.out());
      expect(windows[0].start > '2026-11-02T09:17:00.000Z').toBe(true);
      expect(windows.at(-1)).toMatchObject({ end: FIRED_AT, status: 'breach', streak: 5 });
      expect(w.err()).toMatch(/ 0 rejected/);
    } finally {
      w.kill();
    }
  });
});

describe('abtool watch: usage', () => {
  it('a missing file is exit 66', () => {
    const r = runCli(['watch', '--spec', SLOW_SPEC, 'no/such/file.jsonl']);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain('no/such/file.jsonl: no such file');
  });

  it('a spec without a rollback rule, a bad spec and a missing --spec are exit 64, naming the problem', () => {
    const noRule = runCli(['watch', '--spec', join(ex('ab-win'), 'spec.json'), '-'], { input: '' });
    expect(noRule.code).toBe(64);
    expect(noRule.stderr).toMatch(/ab-win\/spec.json has no rollback rule/);
    const dir = mkdtempSync(join(tmpdir(), 'abtool-watch-'));
    const bad = join(dir, 'spec.json');
    const spec = JSON.parse(readFileSync(SLOW_SPEC, 'utf8'));
    spec.rollback.window = 'soon';
    writeFileSync(bad, JSON.stringify(spec));
    const badRule = runCli(['watch', '--spec', bad, '-'], { input: '' });
    expect(badRule.code).toBe(64);
    expect(badRule.stderr).toContain('rollback.window');
    const none = runCli(['watch', '-'], { input: '' });
    expect(none.code).toBe(64);
    expect(none.stderr).toContain('--spec <file> is required');
    const lateness = runCli(['watch', '--spec', SLOW_SPEC, '--lateness', 'later', '-'], { input: '' });
    expect(lateness.code).toBe(64);
    expect(lateness.stderr).toContain('--lateness');
  });

  it('a gzip file cannot be followed (exit 64, says how to pipe it)', () => {
    const r = runCli(['watch', '--spec', SLOW_SPEC, join(ex('canary-slow'), 'logs.jsonl.gz')]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/gzip-compressed.*zcat/);
  });

  it('input without a single valid row is exit 65', () => {
    const r = runCli(['watch', '--spec', SLOW_SPEC, '-'], { input: 'nope\n{"model":"champion"}\n' });
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/no valid rows: all 2 rows rejected \(malformed 1 .*missing-required 1/);
  });

  it('--help shows the flags, exit codes and examples', () => {
    const r = runCli(['watch', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--spec', '--on-rollback', '--from-end', '--poll-ms', '--lateness', '--json', '--quiet']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('ABTOOL_TRIGGERED_AT');
    expect(r.stdout).toMatch(/Examples:\n {2}abtool watch --spec/);
  });
});
