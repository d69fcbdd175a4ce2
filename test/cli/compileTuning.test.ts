/**
 * V8 told to compile hot code in the thread that runs it (compileTuning.ts): only when wanted, really
 * taking effect in a worker thread started afterwards (V8's own trace says how each function was
 * compiled), and set by a big `analyze` (which starts its reading thread) but not by a small one.
 * Only how code is compiled changes: the reports are the same (compared here, and in
 * threaded.test.ts and relaunch.test.ts for the runs that start threads).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ownChoice, SYNC_COMPILE_FLAGS, syncCompileWanted } from '../../src/cli/compileTuning.js';
import { THREADED_MIN_BYTES } from '../../src/ingest/prestart.js';
import { writeBigLog } from '../helpers/bigLog.js';
import { ROOT } from '../helpers/reference.js';

const EXAMPLE = `${ROOT}fixtures/examples/ab-win`;

/** The modes V8 compiled optimized code in, from --trace-opt ("mode: ConcurrencyMode::kSynchronous"). */
function modes(trace: string): Set<string> {
  return new Set([...trace.matchAll(/\(target TURBOFAN\), mode: ConcurrencyMode::(\w+)/g)].map((m) => m[1]!));
}

describe('compiling hot code in its own thread', () => {
  it('is wanted unless ABTOOL_SYNC_COMPILE=0, and not when node was given a flag of its own on it (any spelling V8 takes)', () => {
    expect(syncCompileWanted({})).toBe(true);
    expect(syncCompileWanted({ ABTOOL_SYNC_COMPILE: '1' })).toBe(true);
    expect(syncCompileWanted({ ABTOOL_SYNC_COMPILE: '0' })).toBe(false);
    expect(ownChoice([])).toBe(false);
    expect(ownChoice(['--max-old-space-size=4096', '--concurrent-marking', '--stack-size=900'])).toBe(false);
    for (const own of ['--concurrent-recompilation', '--no-concurrent-recompilation', '--concurrent_osr', '--no-concurrent-osr', '--no_concurrent_osr', '--noconcurrent-osr', '--noconcurrent_recompilation', '--concurrent-osr=false']) {
      expect(ownChoice([own])).toBe(true);
    }
    expect(SYNC_COMPILE_FLAGS).toEqual(['--no-concurrent-recompilation', '--no-concurrent-osr']);
  });

  it('reaches a worker thread started after it: its functions are compiled synchronously, and concurrently without it', () => {
    const script = `
      import { Worker } from 'node:worker_threads';
      const { tuneCompilation } = await import(${JSON.stringify(`${ROOT}dist/cli/compileTuning.js`)});
      console.log('tuned', tuneCompilation());
      // an eval'd worker is a module here (--input-type=module reaches it)
      const w = new Worker('import { parentPort } from "node:worker_threads"; function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += i % 7; return s }' +
        'let t = 0; for (let k = 0; k < 3000; k++) t += hot(1000); parentPort.postMessage(t)', { eval: true });
      w.on('message', (m) => console.log('sum', m));`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--trace-opt', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
    const tuned = run({ ABTOOL_SYNC_COMPILE: '1' });
    expect(tuned.stderr).toBe('');
    expect(tuned.status).toBe(0);
    expect(tuned.stdout).toContain('tuned true');
    expect(tuned.stdout).toContain('sum 8991000');
    expect(modes(tuned.stdout)).toEqual(new Set(['kSynchronous']));
    const plain = run({ ABTOOL_SYNC_COMPILE: '0' });
    expect(plain.stdout).toContain('tuned false');
    expect(plain.stdout).toContain('sum 8991000');
    expect(modes(plain.stdout)).toContain('kConcurrent');
  });

  describe('through the CLI', () => {
    let dir = '';
    let big = '';
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'compile-'));
      big = writeBigLog(join(dir, 'big.jsonl'), THREADED_MIN_BYTES + 1024);
      mkdirSync(join(dir, 'nested', 'logs'), { recursive: true });
      symlinkSync(big, join(dir, 'nested', 'logs', 'big.jsonl'));
    });

    /** analyze with V8's trace of what it optimizes on stderr... and stdout: the report goes to a file */
    function analyze(input: string, env: Record<string, string>) {
      const out = join(dir, `report-${Object.values(env).join('')}-${input.replace(/\W/g, '_')}.json`);
      const p = spawnSync(process.execPath, ['--trace-opt', `${ROOT}bin/abtool.js`, 'analyze', input, '--spec', `${EXAMPLE}/spec.json`, '--format', 'json', '--quiet', '-o', out], {
        encoding: 'utf8',
        env: { ...process.env, ABTOOL_RELAUNCH: '0', ...env },
        maxBuffer: 256 * 1024 * 1024,
      });
      return { code: p.status, modes: modes(p.stdout + p.stderr), report: { ...JSON.parse(readFileSync(out, 'utf8')), generated_at: null } };
    }

    it('a big analyze compiles synchronously (its threads; the main thread\'s loops), a small one leaves V8 as it is; the same report either way', () => {
      const tuned = analyze(big, { ABTOOL_SYNC_COMPILE: '1' });
      expect(tuned.code).toBe(0);
      expect(tuned.modes).toContain('kSynchronous');
      const plain = analyze(big, { ABTOOL_SYNC_COMPILE: '0' });
      expect(plain.modes).not.toContain('kSynchronous');
      expect(tuned.report).toEqual(plain.report);
      expect(tuned.report.input.rows_read).toBeGreaterThan(50_000);
      // a reading thread not started ahead (the log one directory down, which the start ahead does not look into): tuned as the read starts it
      const nested = analyze(join(dir, 'nested'), { ABTOOL_SYNC_COMPILE: '1' });
      expect(nested.modes).toContain('kSynchronous');
      expect(nested.report.input.rows_read).toBe(tuned.report.input.rows_read);
      const small = analyze(`${EXAMPLE}/logs.jsonl`, { ABTOOL_SYNC_COMPILE: '1' });
      expect(small.code).toBe(0);
      expect(small.modes).not.toContain('kSynchronous');
    }, 90_000);
  });
});
