/** `abtool assign` through the built CLI (run `npx tsc -p tsconfig.json` first; `npm test` does). */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bucketOf } from '../../src/core/assignment.js';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/reference.js';

const assign = (args: string[], input?: string) => runCli(['assign', ...args], { input });
const lines = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '');

describe('abtool assign (built CLI)', () => {
  // buckets computed independently with Python (see test/core/assignment.test.ts):
  // ranker-v2: user-1 -> 314, user-2 -> 745, 42 -> 7481
  it('prints user_id<TAB>model per id, from the documented buckets', () => {
    const r = assign(['--salt', 'ranker-v2', '--weights', 'champion=50,challenger=50', 'user-1', 'user-2', '42']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('user-1\tchampion\nuser-2\tchampion\n42\tchallenger\n');
    // 95/5: the challenger owns buckets 9500..9999; 5/95 listed challenger-first: 0..499
    expect(lines(assign(['--salt', 'ranker-v2', '--weights', 'champion=95,challenger=5', '42']).stdout)).toEqual(['42\tchampion']);
    expect(lines(assign(['--salt', 'ranker-v2', '--weights', 'challenger=0.05,champion=0.95', 'user-1', 'user-2']).stdout)).toEqual([
      'user-1\tchallenger',
      'user-2\tchampion',
    ]);
  });

  it('reads ids from stdin with -, skipping blank lines and CRLF endings', () => {
    const byArgs = assign(['--salt', 'ranker-v2', '--weights', 'champion=50,challenger=50', 'user-1', 'user-2', '42']).stdout;
    const byStdin = assign(['--salt', 'ranker-v2', '--weights', 'champion=50,challenger=50', '-'], 'user-1\r\n\nuser-2\r\n42');
    expect(byStdin.code).toBe(0);
    expect(byStdin.stdout).toBe(byArgs);
  });

  it('blank lines on stdin (empty or spaces only) are skipped, and stderr says how many and where: the output has no line for them', () => {
    const r = assign(['--salt', 's', '--weights', 'a=1,b=1', '-'], 'u1\n\nu2\n   \nu3\n');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0])).toEqual(['u1', 'u2', 'u3']);
    expect(r.stderr).toBe('abtool: stdin: 2 blank lines skipped (the first is line 2): the output has no line for them\n');
    // the same blank id given as an argument is a usage error, as an empty one
    for (const blank of ['', '   ']) expect(assign(['--salt', 's', '--weights', 'a=1,b=1', blank]).stderr).toMatch(/a user id must not be empty or blank/);
  });

  it('only the stream\'s first byte order mark is dropped, even when it comes split over chunks; a later line keeps its own', () => {
    const run = (script: string) => spawnSync('bash', ['-c', `(${script}) | node "${ROOT}bin/abtool.js" assign --salt s --weights c=50,t=50 -`]).stdout;
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('user')]);
    const byArg = spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, 'assign', '--salt', 's', '--weights', 'c=50,t=50', withBom.toString()]).stdout;
    // (line 1 is "a\tc\n" or "a\tt\n": 4 bytes)
    expect(run(String.raw`printf 'a\n\xef\xbb\xbfuser\n'`).subarray(4)).toEqual(byArg);
    expect(run(String.raw`printf '\xef'; sleep 0.2; printf '\xbb\xbfu1\n'`).toString()).toBe(run(String.raw`printf 'u1\n'`).toString());
    expect(run(String.raw`printf 'a\n'; sleep 0.2; printf '\xef\xbb\xbfb\n'`).subarray(4, 7)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  });

  it('ids that are not valid UTF-8 are hashed as their bytes (two such ids stay two) and written back as them', () => {
    const run = (input: Buffer, json = false) =>
      spawnSync(process.execPath, [`${ROOT}bin/abtool.js`, 'assign', '--salt', 's', '--weights', 'a=1,b=1', ...(json ? ['--json'] : []), '-'], { input });
    const ids = [Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])];
    const j = JSON.parse(run(Buffer.concat([ids[0]!, Buffer.from('\n'), ids[1]!, Buffer.from('\n')]), true).stdout.toString());
    const buckets = j.assignments.map((x: { bucket: number }) => x.bucket);
    // SHA-256(salt, 0, the bytes): the recipe on the bytes
    const expected = ids.map((b) => {
      const h = createHash('sha256').update(Buffer.concat([Buffer.from('s\0'), b])).digest();
      return Number(h.readBigUInt64BE(0) % 10000n);
    });
    expect(buckets).toEqual(expected);
    expect(buckets[0]).not.toBe(buckets[1]);
    expect(j.assignments.map((x: { user_id_hex?: string }) => x.user_id_hex)).toEqual(['fffe', 'feff']);
    const tsv = run(Buffer.concat([ids[0]!, Buffer.from('\n')])).stdout;
    expect(tsv.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xfe, 0x09]));
    // valid UTF-8 ids hash the same as before
    expect(bucketOf('s', 'user-1')).toBe(bucketOf('s', Buffer.from('user-1')));
  });

  it('--json: one object with the salt, effective shares, bucket ranges and assignments', () => {
    const r = assign(['--salt', 'ranker-v2', '--weights', 'champion=95,challenger=5', '--json', 'user-1', '42']);
    expect(r.code).toBe(0);
    expect(r.json()).toEqual({
      salt: 'ranker-v2',
      weights: { champion: 0.95, challenger: 0.05 },
      buckets: { champion: [0, 9500], challenger: [9500, 10000] },
      assignments: [
        { user_id: 'user-1', model: 'champion', bucket: 314 },
        { user_id: '42', model: 'champion', bucket: 7481 },
      ],
    });
  });

  it('is sticky as the canary grows 1 -> 5 -> 25 percent, for 5000 ids from stdin', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `u${i}`);
    const stage = (percent: number): Map<string, string> => {
      const r = assign(['--salt', 'grow', '--weights', `champion=${100 - percent},challenger=${percent}`, '-'], ids.join('\n'));
      expect(r.code).toBe(0);
      return new Map(lines(r.stdout).map((l) => l.split('\t') as [string, string]));
    };
    const [s1, s5, s25] = [stage(1), stage(5), stage(25)];
    expect(s1.size).toBe(5000);
    const inAt = (m: Map<string, string>): string[] => ids.filter((id) => m.get(id) === 'challenger');
    expect(inAt(s1).length).toBeGreaterThan(20);
    expect(inAt(s1).every((id) => s5.get(id) === 'challenger')).toBe(true);
    expect(inAt(s5).every((id) => s25.get(id) === 'challenger')).toBe(true);
    expect(inAt(s25).length / 5000).toBeGreaterThan(0.22);
    expect(inAt(s25).length / 5000).toBeLessThan(0.28);
  });

  it.each([
    [['--weights', 'a=1,b=1', 'u'], /--salt <salt> is required/],
    [['--salt', 's', 'u'], /--weights <arms> is required/],
    [['--salt', 's', '--weights', 'a=1,b=1'], /give user ids as arguments, or - to read them from stdin/],
    [['--salt', 's', '--weights', 'a:1,b:1', 'u'], /--weights must be model=weight pairs separated by commas, e\.g\. champion=95,challenger=5 \(got "a:1"/],
    [['--salt', 's', '--weights', 'a=1,b=x', 'u'], /--weights \(b\) must be a number \(got "x"\)/],
    [['--salt', 's', '--weights', 'a=1,b=-1', 'u'], /--weights \(b\) must be at least 0/],
    [['--salt', 's', '--weights', 'a=1,a=2', 'u'], /--weights: arm "a" is listed twice/],
    [['--salt', 's', '--weights', 'a=0,b=0', 'u'], /--weights: at least one weight must be positive/],
    [['--salt', 's', '--weights', 'a=1,b=0.00001', 'u'], /below the smallest assignable share, 0\.01%/],
    [['--salt', 's', '--weights', 'a=1,b=1', '-', '-'], /- \(stdin\) may be given only once/],
  ])('usage error (exit 64): %j', (args, message) => {
    const r = assign(args as string[]);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
  });

  it('an id with a tab cannot go into tab-separated output (exit 64), but can with --json', () => {
    const tsv = assign(['--salt', 's', '--weights', 'a=1,b=1', '-'], 'ok\nbad\tid\n');
    expect(tsv.code).toBe(64);
    expect(tsv.stderr).toMatch(/contains a tab or line break/);
    const json = assign(['--salt', 's', '--weights', 'a=1,b=1', '--json', '-'], 'ok\nbad\tid\n');
    expect(json.code).toBe(0);
    expect(json.json().assignments.map((a: { user_id: string }) => a.user_id)).toEqual(['ok', 'bad\tid']);
  });
});
