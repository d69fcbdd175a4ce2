/**
 * `analyze` of big inputs relaunched in a child Node with glibc's allocator tuned (relaunch.ts): only
 * when wanted, the same report and exit code as without, the child really tuned, and a signal sent to
 * the launching process reaching the child (no orphan left running).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { faultMicros, MALLOC_TUNABLES, RELAUNCH_MIN_BYTES, relaunchWanted, SLOW_FAULT_MICROS } from '../../src/cli/relaunch.js';
import { writeBigLog } from '../helpers/bigLog.js';
import { ROOT } from '../helpers/reference.js';

const EXAMPLE = `${ROOT}fixtures/examples/ab-win`;
/** where the relaunch can run: glibc */
const glibc = process.platform === 'linux' && /\/libc\.so\.6$/m.test(readFileSync('/proc/self/maps', 'latin1'));
/** where it applies unasked: glibc, transparent huge pages given on request (and slow page faults) */
const applies =
  glibc &&
  (() => {
    try {
      return /\[(always|madvise)\]/.test(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'latin1'));
    } catch {
      return false;
    }
  })();
const slow = (): number => SLOW_FAULT_MICROS + 10;
const fast = (): number => SLOW_FAULT_MICROS / 4;

let dir = '';
let big = '';
let hook = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaunch-'));
  // a JSON Lines log past RELAUNCH_MIN_BYTES
  big = writeBigLog(join(dir, 'big.jsonl'), RELAUNCH_MIN_BYTES + 1024);
  // preloaded into every process: its pid and GLIBC_TUNABLES, one line each (main threads only)
  hook = join(dir, 'hook.cjs');
  writeFileSync(
    hook,
    `const { isMainThread } = require('node:worker_threads');
if (isMainThread) require('node:fs').appendFileSync(process.env.RELAUNCH_LOG, process.pid + ' ' + (process.env.GLIBC_TUNABLES ?? '-') + '\\n');`,
  );
});

const spec = `${EXAMPLE}/spec.json`;

/** This environment without what turns the relaunch off or on (a developer's or CI's settings), plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // the relaunch asked for (ABTOOL_RELAUNCH=1), so that it runs whatever this machine's page faults cost
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ABTOOL_RELAUNCH: '1', ...extra };
  for (const k of ['GLIBC_TUNABLES', 'ABTOOL_RELAUNCHED', 'ABTOOL_LAUNCHED_AT']) if (!(k in extra)) delete env[k];
  return env;
}

/** Runs node [nodeArgs] bin/abtool.js args, each process logging its pid and GLIBC_TUNABLES to `log`. */
function run(args: string[], log: string, extra: Record<string, string> = {}, nodeArgs: string[] = []) {
  const p = spawnSync(process.execPath, [...nodeArgs, `${ROOT}bin/abtool.js`, ...args], {
    encoding: 'utf8',
    env: cleanEnv({ NODE_OPTIONS: `--require ${hook}`, RELAUNCH_LOG: log, ...extra }),
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: p.status, signal: p.signal, stdout: p.stdout, stderr: p.stderr };
}

/** The processes that logged to `log`: [pid, GLIBC_TUNABLES or '-'] each. */
function processes(log: string): [number, string][] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {}
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => [Number(l.split(' ')[0]), l.split(' ')[1]!]);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pid: number): Promise<boolean> {
  for (let t = 0; t < 1000 && alive(pid); t++) await new Promise((r) => setTimeout(r, 20));
  return !alive(pid);
}

const report = (s: string) => ({ ...JSON.parse(s), generated_at: null });

describe('when analyze is relaunched', () => {
  it('only for analyze of named inputs reaching the size, on glibc with huge pages on request, unless turned off, already relaunched, asked for help or debugged', () => {
    const env = { PATH: process.env.PATH };
    const args = ['analyze', big, '--spec', spec];
    const wanted = (a: string[], e: NodeJS.ProcessEnv = env, faults = slow): boolean => relaunchWanted(a, e, RELAUNCH_MIN_BYTES, faults);
    expect(wanted(args)).toBe(applies);
    expect(wanted(['analyze', `${EXAMPLE}/logs.jsonl`, '--spec', spec])).toBe(false);
    expect(wanted(args, { ...env, GLIBC_TUNABLES: '' })).toBe(false);
    expect(wanted(args, { ...env, GLIBC_TUNABLES: 'applies.malloc.arena_max=2' })).toBe(false);
    expect(wanted(args, { ...env, ABTOOL_RELAUNCH: '0' })).toBe(false);
    expect(wanted(args, { ...env, ABTOOL_RELAUNCHED: '1' })).toBe(false);
    expect(wanted(args, { ...env, NODE_OPTIONS: '--max-old-space-size=4096 --inspect=127.0.0.1:9339' })).toBe(false);
    expect(wanted([...args, '--help'])).toBe(false);
    expect(wanted(['analyze', '-', '--spec', spec])).toBe(false); // stdin: size unknown
    expect(wanted(['inspect', big])).toBe(false);
    expect(wanted(['analyze', dir, '--spec', spec])).toBe(applies); // a directory holding it
  });

  it('only where page faults are slow, unless ABTOOL_RELAUNCH=1 asks (then the machine is not looked at); the fault cost is measured only when all else holds', () => {
    const env = { PATH: process.env.PATH };
    const args = ['analyze', big, '--spec', spec];
    let probes = 0;
    const counted = (us: number) => (): number => (probes++, us);
    expect(relaunchWanted(args, env, RELAUNCH_MIN_BYTES, counted(SLOW_FAULT_MICROS / 4))).toBe(false);
    expect(probes).toBe(applies ? 1 : 0);
    expect(relaunchWanted(args, env, RELAUNCH_MIN_BYTES, counted(SLOW_FAULT_MICROS))).toBe(applies);
    expect(relaunchWanted(args, { ...env, ABTOOL_RELAUNCH: '1' }, RELAUNCH_MIN_BYTES, fast)).toBe(glibc);
    expect(relaunchWanted(['analyze', `${EXAMPLE}/logs.jsonl`, '--spec', spec], { ...env, ABTOOL_RELAUNCH: '1' }, RELAUNCH_MIN_BYTES, slow)).toBe(false);
    probes = 0;
    relaunchWanted(['analyze', `${EXAMPLE}/logs.jsonl`, '--spec', spec], env, RELAUNCH_MIN_BYTES, counted(SLOW_FAULT_MICROS));
    relaunchWanted(args, { ...env, ABTOOL_RELAUNCH: '0' }, RELAUNCH_MIN_BYTES, counted(SLOW_FAULT_MICROS));
    relaunchWanted(args, { ...env, ABTOOL_RELAUNCH: '1' }, RELAUNCH_MIN_BYTES, counted(SLOW_FAULT_MICROS));
    expect(probes).toBe(0);
  });

  it('measures a page fault as a positive, finite number (microseconds; no bound on it: a timing)', () => {
    const us = faultMicros();
    expect(Number.isFinite(us)).toBe(true);
    expect(us).toBeGreaterThan(0);
  });

  it.runIf(glibc)('gives the same report, stderr and exit code as a run in one process, from a child with the tunables', () => {
    const log = join(dir, 'same.log');
    const args = ['analyze', big, '--spec', spec, '--format', 'json', '--quiet'];
    const tuned = run(args, log);
    const seen = processes(log);
    expect(seen.map(([, t]) => t)).toEqual(['-', MALLOC_TUNABLES]); // the launching process, then the child
    const plain = run(args, log, { ABTOOL_RELAUNCH: '0' });
    expect(processes(log)).toHaveLength(3); // one process more, no child
    expect(tuned.stderr).toBe(plain.stderr);
    expect(tuned.code).toBe(plain.code);
    expect(report(tuned.stdout)).toEqual(report(plain.stdout));
    expect(report(tuned.stdout).input.rows_read).toBeGreaterThan(100_000);
    // an error of the child's: its exit code and message
    const bad = run(['analyze', big, '--spec', spec, '--format', 'yaml'], join(dir, 'bad.log'));
    expect(processes(join(dir, 'bad.log'))).toHaveLength(2);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toBe(run(['analyze', big, '--spec', spec, '--format', 'yaml'], log, { ABTOOL_RELAUNCH: '0' }).stderr);
  }, 90_000);

  it.runIf(glibc)('leaves a profiler alone: node --cpu-prof profiles both processes and the run ends as usual', () => {
    const log = join(dir, 'prof.log');
    const profiles = mkdtempSync(join(dir, 'prof-'));
    const r = run(['analyze', big, '--spec', spec, '--format', 'json', '--quiet'], log, {}, ['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(run(['analyze', big, '--spec', spec, '--format', 'json', '--quiet'], join(dir, 'prof-plain.log'), { ABTOOL_RELAUNCH: '0' }).code);
    expect(processes(log)).toHaveLength(2);
    // the launcher's profile and the child's (one per thread)
    expect(readdirSync(profiles).length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it.runIf(glibc)('runs in this process when the child cannot be started (here: the permission model refuses it)', () => {
    const log = join(dir, 'refused.log');
    const args = ['analyze', big, '--spec', spec, '--format', 'json', '--quiet'];
    const permission = ['--experimental-permission', '--allow-fs-read=*', `--allow-fs-write=${dir}/*`, '--allow-worker'];
    const refused = run(args, log, {}, permission);
    expect(processes(log)).toHaveLength(1);
    const plain = run(args, join(dir, 'refused-plain.log'), { ABTOOL_RELAUNCH: '0' });
    expect(refused.code).toBe(plain.code);
    expect(report(refused.stdout)).toEqual(report(plain.stdout));
  }, 90_000);

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    it.runIf(glibc)(`${signal} to the launching process only: ${signal === 'SIGKILL' ? 'the child notices and stops' : 'passed on, both die of it'}, no child left running, no report written`, async () => {
      const log = join(dir, `${signal}.log`);
      const out = join(dir, `${signal}.json`);
      const p = spawn(process.execPath, [`${ROOT}bin/abtool.js`, 'analyze', big, '--spec', spec, '--format', 'json', '--quiet', '-o', out], {
        env: cleanEnv({ NODE_OPTIONS: `--require ${hook}`, RELAUNCH_LOG: log }),
        stdio: 'ignore',
      });
      const exited = new Promise<[number | null, string | null]>((resolve) => p.once('exit', (c, s) => resolve([c, s])));
      let child = 0;
      for (let t = 0; t < 400 && child === 0; t++) {
        await new Promise((r) => setTimeout(r, 25));
        child = processes(log)[1]?.[0] ?? 0;
      }
      expect(child).toBeGreaterThan(0);
      expect(alive(child)).toBe(true);
      p.kill(signal);
      expect(await exited).toEqual([null, signal]);
      expect(await gone(child)).toBe(true);
      expect(existsSync(out)).toBe(false);
    }, 60_000);
  }
});
