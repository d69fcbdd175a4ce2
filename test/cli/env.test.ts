/**
 * ABTOOL_* settings abtool does not understand are named in a warning on stderr (env.ts), not
 * silently ignored; the run is otherwise the same.
 */
import { describe, expect, it } from 'vitest';
import { envWarnings } from '../../src/cli/env.js';
import { runCli } from '../helpers/cli.js';

describe('ABTOOL_* settings', () => {
  it('understood values give no warning; an empty one is the same as none', () => {
    expect(envWarnings({})).toEqual([]);
    expect(envWarnings({ PATH: '/bin', ABTOOL_THREADS: '0', ABTOOL_TIMINGS: '1', ABTOOL_RELAUNCH: '1', ABTOOL_FIRST_PART_HERE: '0', ABTOOL_SYNC_COMPILE: '0', ABTOOL_DEBUG: '1' })).toEqual([]);
    // names of scripts around abtool (its tests', its benchmark's), far from any setting's
    expect(envWarnings({ ABTOOL_SCREENSHOTS: '/tmp/shots', ABTOOL_BENCH_RSS: '/tmp/rss.txt' })).toEqual([]);
    expect(envWarnings({ ABTOOL_SPLIT_MIN_BYTES: '0' })).toEqual([]);
    expect(envWarnings({ ABTOOL_SPLIT_MIN_BYTES: '33554432' })).toEqual([]);
    expect(envWarnings({ ABTOOL_THREADS: '', ABTOOL_SPLIT_MIN_BYTES: '' })).toEqual([]);
    // set by abtool itself, for its relaunched child and for watch's --on-rollback command
    expect(envWarnings({ ABTOOL_RELAUNCHED: '123', ABTOOL_LAUNCHED_AT: '1.5', ABTOOL_TRIGGERED_AT: 'x', ABTOOL_REASON: 'y', ABTOOL_SPEC: 'z' })).toEqual([]);
  });

  it('a value not understood, or a name not known, is named with what is understood', () => {
    expect(envWarnings({ ABTOOL_THREADS: 'no' })).toEqual(['ABTOOL_THREADS="no" is not understood and is ignored (0 keeps everything on one thread)']);
    expect(envWarnings({ ABTOOL_RELAUNCH: 'true' })).toEqual(['ABTOOL_RELAUNCH="true" is not understood and is ignored (0 never relaunches, 1 always does)']);
    for (const bad of ['64MB', '-1', ' ', 'NaN']) {
      expect(envWarnings({ ABTOOL_SPLIT_MIN_BYTES: bad })).toEqual([`ABTOOL_SPLIT_MIN_BYTES=${JSON.stringify(bad)} is not understood and is ignored (a number of bytes from 0, e.g. 33554432)`]);
    }
    expect(envWarnings({ ABTOOL_THREAD: '0' })).toEqual(['ABTOOL_THREAD is not a setting abtool knows, and is ignored (did you mean ABTOOL_THREADS?)']);
    expect(envWarnings({ ABTOOL_TIMING: '1', ABTOOL_RELANCH: '0', ABTOOL_SPLIT_MIN_BYTE: '0' })).toEqual([
      'ABTOOL_RELANCH is not a setting abtool knows, and is ignored (did you mean ABTOOL_RELAUNCH?)',
      'ABTOOL_SPLIT_MIN_BYTE is not a setting abtool knows, and is ignored (did you mean ABTOOL_SPLIT_MIN_BYTES?)',
      'ABTOOL_TIMING is not a setting abtool knows, and is ignored (did you mean ABTOOL_TIMINGS?)',
    ]);
    expect(envWarnings({ ABTOOL_DEBUG: 'yes' })).toEqual(['ABTOOL_DEBUG="yes" is not understood and is ignored (1 adds the stack to an internal error)']);
    // in name order
    expect(envWarnings({ ABTOOL_TIMINGS: 'on', ABTOOL_FIRST_PART_HERE: 'x' }).map((w) => w.split('=')[0])).toEqual(['ABTOOL_FIRST_PART_HERE', 'ABTOOL_TIMINGS']);
  });

  it('through the CLI: a warning on stderr, the same output and exit code', () => {
    const args = ['sample-size', '--baseline', '0.10', '--mde', '0.02', '--json'];
    const plain = runCli(args);
    const odd = runCli(args, { env: { ABTOOL_THREADS: 'off' } });
    expect(odd.code).toBe(plain.code);
    expect(odd.stdout).toBe(plain.stdout);
    expect(odd.stderr).toBe(`abtool: warning: ABTOOL_THREADS="off" is not understood and is ignored (0 keeps everything on one thread)\n${plain.stderr}`);
  });
});
