/**
 * Output whose reader has gone (`abtool ... | head -1`): the run ends quietly with the exit code it
 * had (0 for help, the decision's for analyze), without Node's stack trace for the EPIPE; a closed
 * stderr loses messages, not the exit code; a full disk is reported in one line.
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

/**
 * Runs abtool with `args` whose stdout (or stderr) pipe is closed by its reader before anything is
 * written: the first write fails (EPIPE). Resolves its exit and what else it wrote.
 */
function closedBeforeWriting(args: string[], which: 'stdout' | 'stderr' = 'stdout'): Promise<{ code: number | null; signal: string | null; other: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [`${ROOT}bin/abtool.js`, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    p[which].destroy();
    let other = '';
    p[which === 'stdout' ? 'stderr' : 'stdout'].on('data', (d: Buffer) => (other += d.toString()));
    p.on('exit', (code, signal) => resolve({ code, signal, other }));
  });
}

const example = (name: string, log: string): string[] => ['analyze', `${ROOT}fixtures/examples/${name}/${log}`, '--spec', `${ROOT}fixtures/examples/${name}/spec.json`, '--format', 'json'];

describe('a closed standard output', () => {
  for (const cmd of [['analyze', '--help'], ['inspect', '--help'], ['sample-size', '--help'], ['--help']]) {
    it(`abtool ${cmd.join(' ')} | (a reader gone before it writes): exit 0, no stack trace`, async () => {
      const r = await closedBeforeWriting(cmd);
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
      expect(r.other).not.toMatch(/EPIPE|Unhandled|at /);
    });
  }

  it('the exit code of the analysis is kept: a no-go (1) and an invalid run (3) whose report cannot be written', async () => {
    const nogo = await closedBeforeWriting(example('ab-segment-loss', 'logs.jsonl.gz'));
    expect([nogo.code, nogo.signal]).toEqual([1, null]);
    expect(nogo.other).not.toMatch(/EPIPE|Unhandled/);
    const invalid = await closedBeforeWriting(example('ab-srm', 'logs.jsonl'));
    expect([invalid.code, invalid.signal]).toEqual([3, null]);
  });

  it('a closed stderr loses the message, not the exit code (a usage error stays 64, a missing log 66)', async () => {
    const usage = await closedBeforeWriting(['analyze', '/nope.jsonl'], 'stderr');
    expect([usage.code, usage.signal]).toEqual([64, null]);
    const missing = await closedBeforeWriting(['analyze', '/nope.jsonl', '--spec', `${ROOT}fixtures/examples/ab-win/spec.json`], 'stderr');
    expect([missing.code, missing.signal]).toEqual([66, null]);
  });

  it('abtool sample-size --help | head -1 (the reader gone after the first line): exit 0', async () => {
    const r = await firstLineThenClose(['sample-size', '--help']);
    expect(r.line.length).toBeGreaterThan(0);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
  });

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
