/**
 * Output whose reader has gone (`abtool ... | head -1`): the run ends quietly with the exit code it
 * had (0 for help), without Node's stack trace for the EPIPE; a full disk is reported in one line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/reference.js';

/** Runs abtool with `args`, reads the first line of its stdout, then closes the pipe; resolves its exit and stderr. */
function firstLineThenClose(args: string[], input?: string): Promise<{ code: number | null; signal: string | null; line: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [`${ROOT}bin/abtool.js`, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    let line = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0 && line === '') {
        line = out.slice(0, nl);
        p.stdout.destroy();
      }
    });
    // the input keeps coming after the reader has gone
    p.stdin.on('error', () => undefined);
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
    p.on('exit', (code, signal) => resolve({ code, signal, line, stderr: err }));
  });
}

describe('a closed standard output', () => {
  for (const cmd of [['analyze', '--help'], ['inspect', '--help'], ['sample-size', '--help'], ['--help']]) {
    it(`abtool ${cmd.join(' ')} | head -1: exit 0, no stack trace`, async () => {
      // help longer than a pipe's buffer is not needed: the first write fails once the reader is gone
      const r = await firstLineThenClose(cmd);
      expect(r.line.length).toBeGreaterThan(0);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    });
  }

  it('abtool assign - with 200k ids | head -1: exit 0, no stack trace', async () => {
    const ids = Array.from({ length: 200_000 }, (_, i) => `u${i}`).join('\n') + '\n';
    const r = await firstLineThenClose(['assign', '--salt', 's', '--weights', 'a=1,b=1', '-'], ids);
    expect(r.line).toMatch(/^u0\t[ab]$/);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

  it.runIf(process.platform === 'linux')('a full disk (/dev/full): one line naming the error, exit 64', () => {
    const p = spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, 'sample-size', '--baseline', '0.1', '--mde', '0.02'], { stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'], encoding: 'utf8' });
    expect(p.status).toBe(64);
    expect(p.stderr.trim()).toBe('abtool: cannot write to standard output (ENOSPC)');
  });
});
