import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'abtool-stats-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const a = file('a.txt', '1\n4\n2\n8\n5\n');
const b = file('b.txt', '3\n9\n7\n6\n8\n10\n');

describe('abtool stats (built CLI)', () => {
  it('every procedure\'s --json has the contract\'s keys statistic, p_value, estimate and ci (null where the procedure has none)', () => {
    const d = mkdtempSync(join(tmpdir(), 'keys-'));
    writeFileSync(join(d, 'a.txt'), '1\n2\n3\n4\n5\n6\n');
    writeFileSync(join(d, 'b.txt'), '3\n4\n5\n6\n7\n9\n');
    const ab = ['--a', join(d, 'a.txt'), '--b', join(d, 'b.txt'), '--json'];
    const runs = [
      ['ztest', '--control', '10/100', '--treatment', '20/100', '--json'],
      ['welch', ...ab],
      ['mannwhitney', ...ab],
      ['ks', ...ab],
      ['bootstrap', ...ab, '--statistic', 'mean', '--resamples', '200', '--seed', '1'],
      ['wilson', '--successes', '5', '--trials', '20', '--json'],
      ['srm', '--observed', '5012,4988', '--weights', '0.5,0.5', '--json'],
      ['adjust', '--p-values', '0.01,0.04,0.2', '--method', 'holm', '--json'],
    ];
    for (const args of runs) {
      const r = runCli(['stats', ...args]);
      expect(r.code, args[0]).toBe(0);
      const j = r.json();
      for (const key of ['statistic', 'p_value', 'estimate', 'ci', 'method']) expect(Object.keys(j), `${args[0]}: ${key}`).toContain(key);
    }
  });

  it('ztest --json has the contract keys and R numbers', () => {
    const r = runCli(['stats', 'ztest', '--control', '65/500', '--treatment', '45/500', '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['statistic', 'p_value', 'estimate', 'ci', 'method']));
    expect(j.p_value).toBeCloseTo(0.0548238271594912, 12);
    expect(j.estimate).toBeCloseTo(-0.04, 12);
  });
  it('a p-value that underflows to 0 is printed as below 1e-300, not as 0 (the JSON keeps the number 0)', () => {
    const r = runCli(['stats', 'ztest', '--control', '10000/100000', '--treatment', '20000/100000']);
    expect(r.stdout).toMatch(/p-value \(two-sided\)\s*│ < 1e-300 \(below what a double holds\)/);
    expect(runCli(['stats', 'ztest', '--control', '10000/100000', '--treatment', '20000/100000', '--json']).json().p_value).toBe(0);
    expect(runCli(['stats', 'srm', '--observed', '60000,40000', '--weights', '0.5,0.5']).stdout).toMatch(/p-value\s*│ < 1e-300/);
  });

  it('ztest prints a readable table by default', () => {
    const r = runCli(['stats', 'ztest', '--control', '65/500', '--treatment', '45/500']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/p-value \(two-sided\)/);
    expect(r.stdout).toMatch(/difference \(treatment - control\)/);
  });
  it('welch reads sample files', () => {
    const r = runCli(['stats', 'welch', '--a', a, '--b', b, '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.df).toBeGreaterThan(0);
    expect(j.ci).toHaveLength(2);
  });
  it('one-sided welch has an unbounded end written as null', () => {
    const r = runCli(['stats', 'welch', '--a', a, '--b', b, '--alternative', 'greater', '--json']);
    expect(r.json().ci[1]).toBeNull();
  });
  it('wilson, srm and adjust', () => {
    expect(runCli(['stats', 'wilson', '--successes', '5', '--trials', '10', '--json']).json().ci[0]).toBeCloseTo(0.23659309051256394, 12);
    const s = runCli(['stats', 'srm', '--observed', '50500,49500', '--weights', '0.5,0.5', '--json']).json();
    expect(s.statistic).toBeCloseTo(10, 10);
    expect(s.p_value).toBeCloseTo(0.001565402258002552, 12);
    const adj = runCli(['stats', 'adjust', '--p-values', '0.01,0.04,0.2', '--method', 'holm', '--json']).json();
    expect(adj.reject).toEqual([true, false, false]);
  });
  it('text in a sample file: exit 65 naming file and line', () => {
    const bad = file('bad.txt', '1\n2\nabc\n4\n');
    const r = runCli(['stats', 'welch', '--a', bad, '--b', b]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${bad}:3`);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });
  it('NaN in a sample file: exit 65', () => {
    const bad = file('nan.txt', '1\nNaN\n');
    const r = runCli(['stats', 'welch', '--a', bad, '--b', b]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(':2');
  });
  it('empty sample file: degenerate, exit 65 with the reason', () => {
    const empty = file('empty.txt', '\n');
    const r = runCli(['stats', 'welch', '--a', empty, '--b', b, '--json']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/control sample is empty/);
    expect(r.json().degenerate).toBe(true);
  });
  it('zero variance: degenerate, never a confident p-value', () => {
    const c1 = file('c1.txt', '5\n5\n5\n');
    const c2 = file('c2.txt', '6\n6\n6\n');
    const r = runCli(['stats', 'welch', '--a', c1, '--b', c2]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/constant/);
    expect(r.stdout).not.toMatch(/p-value/);
  });
  it('0/n vs 0/n: degenerate, exit 65', () => {
    const r = runCli(['stats', 'ztest', '--control', '0/100', '--treatment', '0/100']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/no successes/);
  });
  it('missing file: exit 66', () => {
    const r = runCli(['stats', 'welch', '--a', join(dir, 'nope.txt'), '--b', b]);
    expect(r.code).toBe(66);
    expect(r.stderr).toMatch(/no such file/);
  });
  it('usage errors: exit 64 naming the flag', () => {
    const cases: [string[], RegExp][] = [
      [['stats', 'ztest', '--control', '5/4', '--treatment', '1/4'], /--control/],
      [['stats', 'ztest', '--control', 'abc', '--treatment', '1/4'], /--control/],
      [['stats', 'welch', '--a', a, '--b', b, '--confidence', '1.5'], /--confidence/],
      [['stats', 'welch', '--a', a, '--b', b, '--alternative', 'bigger'], /--alternative/],
      [['stats', 'welch', '--b', b], /--a/],
      [['stats', 'wilson', '--successes', '3', '--trials', '2'], /--successes/],
      [['stats', 'srm', '--observed', '1,2', '--weights', '0.5'], /--weights/],
      [['stats', 'adjust', '--p-values', '0.1,2'], /--p-values/],
      [['stats', 'adjust', '--p-values', '0.1', '--method', 'sidak'], /--method/],
      [['stats', 'nonsense'], /unknown command/],
      [['stats', 'welch', '--bogus'], /unknown option/],
    ];
    for (const [args, msg] of cases) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  });
  it('--help on every stats command shows an example', () => {
    for (const cmd of ['ztest', 'welch', 'wilson', 'srm', 'adjust']) {
      const r = runCli(['stats', cmd, '--help']);
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(/Example/);
    }
  });
});
