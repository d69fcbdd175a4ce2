import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// Runs the built CLI (npx tsc -p tsconfig.json first; npm test does).
const dir = mkdtempSync(join(tmpdir(), 'abtool-rank-'));
const file = (name: string, values: ArrayLike<number | string>) => {
  const p = join(dir, name);
  writeFileSync(p, Array.from(values).join('\n') + '\n');
  return p;
};
// R: wilcox.test(treated, untreated, conf.int = TRUE) prints W = 25, p-value = 0.5054,
// 95 percent confidence interval -807 198, difference in location -83.5
const untreated = file('untreated.txt', [2388, 210, 380, 345, 1130, 260, 665, 1157]);
const treated = file('treated.txt', [323, 421, 578, 300, 256, 640, 912, 370]);

describe('abtool stats mannwhitney', () => {
  it('--json has the contract keys and R numbers', () => {
    const r = runCli(['stats', 'mannwhitney', '--a', untreated, '--b', treated, '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['statistic', 'p_value', 'estimate', 'ci', 'hodges_lehmann', 'method']));
    expect(j.statistic).toBe(25);
    expect(Math.abs(j.p_value - 0.5054)).toBeLessThan(5e-5);
    expect(j.ci).toEqual([-807, 198]);
    expect(j.hodges_lehmann).toBe(-83.5);
    expect(j.estimate).toBe(-83.5);
    expect(j.method).toBe('exact');
  });
  it('one-sided: the unbounded end of the interval is null', () => {
    const j = runCli(['stats', 'mannwhitney', '--a', untreated, '--b', treated, '--alternative', 'greater', '--json']).json();
    expect(j.ci[1]).toBeNull();
    expect(typeof j.ci[0]).toBe('number');
  });
  it('prints a readable table by default', () => {
    const r = runCli(['stats', 'mannwhitney', '--a', untreated, '--b', treated, '--method', 'asymptotic']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/U \(treatment\)/);
    expect(r.stdout).toMatch(/p-value \(two-sided\)/);
    expect(r.stdout).toMatch(/Hodges-Lehmann shift \(treatment - control\)/);
    expect(r.stdout).toMatch(/n \(control, treatment\).*8, 8/);
    expect(r.stdout).toMatch(/asymptotic/);
  });
  it('--method exact with ties says it is exact given the ties (a brute-force permutation of the mid-ranks gives 2/7)', () => {
    const a = file('ties-a.txt', [1, 2, 2, 3]);
    const b = file('ties-b.txt', [2, 3, 3, 4]);
    const r = runCli(['stats', 'mannwhitney', '--a', a, '--b', b, '--method', 'exact']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/p-value method\s*│ exact \(given the ties\)/);
    expect(runCli(['stats', 'mannwhitney', '--a', a, '--b', b, '--method', 'exact', '--json']).json().p_value).toBeCloseTo(2 / 7, 12);
  });
  it('a bad sample file is exit 65 naming file and line', () => {
    const bad = file('bad.txt', ['1', '2', 'abc', '4']);
    const r = runCli(['stats', 'mannwhitney', '--a', bad, '--b', treated, '--json']);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${bad}:3`);
  });
  it('all values tied is a data error with its reason, as JSON too', () => {
    const same = file('same.txt', [4, 4, 4]);
    const r = runCli(['stats', 'mannwhitney', '--a', same, '--b', same, '--json']);
    expect(r.code).toBe(65);
    expect(r.json()).toMatchObject({ degenerate: true, code: 'all-tied' });
    expect(r.stderr).toMatch(/same value/);
  });
  it('an unknown --method is a usage error (64)', () => {
    expect(runCli(['stats', 'mannwhitney', '--a', untreated, '--b', treated, '--method', 'fast']).code).toBe(64);
  });
});

describe('abtool stats ks', () => {
  it('--json: D, exact p, signed estimate and a null interval', () => {
    const a = file('ks-a.txt', [1, 2, 3]);
    const b = file('ks-b.txt', [4, 5, 6]);
    const r = runCli(['stats', 'ks', '--a', a, '--b', b, '--json']);
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.statistic).toBe(1);
    expect(j.p_value).toBeCloseTo(0.1, 14);
    expect(j.estimate).toBe(-1);
    expect(j.ci).toBeNull();
    expect(j.method).toBe('exact');
  });
  it('prints a readable table by default', () => {
    const r = runCli(['stats', 'ks', '--a', untreated, '--b', treated, '--alternative', 'less']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/D-/);
    expect(r.stdout).toMatch(/p-value \(less\)/);
  });
  it('an exact request beyond the lattice limit is a usage error naming --method', () => {
    const big = file('big.txt', Array.from({ length: 20000 }, (_, i) => i));
    const r = runCli(['stats', 'ks', '--a', big, '--b', big, '--method', 'exact']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/method/);
  });
  it('an empty sample is exit 65', () => {
    const empty = file('empty.txt', []);
    const r = runCli(['stats', 'ks', '--a', empty, '--b', treated]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/control sample is empty/);
  });
});
