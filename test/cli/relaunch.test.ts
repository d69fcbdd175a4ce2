/**
 * `analyze` of big inputs relaunched in a child Node with glibc's allocator tuned (relaunch.ts): only
 * when wanted, the same report and exit code as without, the child really tuned, and a signal sent to
 * the launching process reaching the child (no orphan left running).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES, RELAUNCH_MIN_BYTES, relaunchWanted } from '../../src/cli/relaunch.js';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/reference.js';

const EXAMPLE = `${ROOT}fixtures/examples/ab-win`;
const glibc = process.platform === 'linux' && /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'latin1'));

let dir = '';
let big = '';
let hook = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaunch-'));
  // a JSON Lines log past RELAUNCH_MIN_BYTES: the example's rows again and again, each copy with its own request ids
  const rows = readFileSync(`${EXAMPLE}/logs.jsonl`, 'utf8');
  big = join(dir, 'big.jsonl');
  const fd = openSync(big, 'w');
  let bytes = 0;
  for (let k = 0; bytes < RELAUNCH_MIN_BYTES + 1024; k++) bytes += writeSync(fd, rows.replaceAll('"request_id":"', `"request_id":"c${k}-`));
  closeSync(fd);
  // preloaded into every process: its pid and GLIBC_TUNABLES, one line each (main threads only)
  hook = join(dir, 'hook.cjs');
  writeFileSync(
    hook,
    `const { isMainThread } = require('node:worker_threads');
if (isMainThread) require('node:fs').appendFileSync(process.env.RELAUNCH_LOG, process.pid + ' ' + (process.env.GLIBC_TUNABLES ?? '-') + '\\n');`,
  );
});

const spec = `${EXAMPLE}/spec.json`;

describe('when analyze is relaunched', () => {
  it('only for analyze of named inputs reaching the size, on glibc, unless GLIBC_TUNABLES is set or ABTOOL_RELAUNCH=0', () => {
    const env = { PATH: process.env.PATH };
    expect(relaunchWanted(['analyze', big, '--spec', spec], env)).toBe(glibc);
    expect(relaunchWanted(['analyze', `${EXAMPLE}/logs.jsonl`, '--spec', spec], env)).toBe(false);
    expect(relaunchWanted(['analyze', big, '--spec', spec], { ...env, GLIBC_TUNABLES: '' })).toBe(false);
    expect(relaunchWanted(['analyze', big, '--spec', spec], { ...env, GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' })).toBe(false);
    expect(relaunchWanted(['analyze', big, '--spec', spec], { ...env, ABTOOL_RELAUNCH: '0' })).toBe(false);
    expect(relaunchWanted(['analyze', '-', '--spec', spec], env)).toBe(false); // stdin: size unknown
    expect(relaunchWanted(['inspect', big], env)).toBe(false);
    expect(relaunchWanted(['analyze', dir, '--spec', spec], env)).toBe(glibc); // a directory holding it
  });

  it.runIf(glibc)('gives the same report and exit code as a run in one process, from a child with the tunables', () => {
    const log = join(dir, 'same.log');
    const env = { NODE_OPTIONS: `--require ${hook}`, RELAUNCH_LOG: log };
    const tuned = runCli(['analyze', big, '--spec', spec, '--format', 'json', '--quiet'], { env });
    const seen = readFileSync(log, 'utf8').trim().split('\n');
    expect(seen).toHaveLength(2); // the launching process, then the child
    expect(seen[0]).toMatch(/ -$/);
    expect(seen[1]!.split(' ')[1]).toBe(MALLOC_TUNABLES);
    const plain = runCli(['analyze', big, '--spec', spec, '--format', 'json', '--quiet'], { env: { ...env, ABTOOL_RELAUNCH: '0' } });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(3); // one process more, no child
    expect(tuned.stderr).toBe(plain.stderr);
    expect(tuned.code).toBe(plain.code);
    const report = (s: string) => ({ ...JSON.parse(s), generated_at: null });
    expect(report(tuned.stdout)).toEqual(report(plain.stdout));
    expect(report(tuned.stdout).input.rows_read).toBeGreaterThan(100_000);
  }, 60_000);

  it.runIf(glibc)('passes SIGTERM on to the child and dies of it, leaving no child running', async () => {
    const log = join(dir, 'signal.log');
    const p = spawn(process.execPath, [`${ROOT}bin/abtool.js`, 'analyze', big, '--spec', spec, '--format', 'json', '--quiet'], {
      env: { ...process.env, NODE_OPTIONS: `--require ${hook}`, RELAUNCH_LOG: log },
      stdio: 'ignore',
    });
    const exited = new Promise<[number | null, string | null]>((resolve) => p.once('exit', (c, s) => resolve([c, s])));
    // wait for the child to have started
    let child = 0;
    for (let t = 0; t < 200 && child === 0; t++) {
      await new Promise((r) => setTimeout(r, 25));
      let lines: string[] = [];
      try {
        lines = readFileSync(log, 'utf8').trim().split('\n');
      } catch {}
      if (lines.length >= 2) child = Number(lines[1]!.split(' ')[0]);
    }
    expect(child).toBeGreaterThan(0);
    p.kill('SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let t = 0; t < 100 && alive(child); t++) await new Promise((r) => setTimeout(r, 20));
    expect(alive(child)).toBe(false);
  }, 60_000);
});
