import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectClose, loadReference } from '../helpers/reference.js';

interface SizeCase {
  kind: 'proportion' | 'mean';
  baseline?: number;
  sd?: number;
  mde: number;
  alpha: number;
  power: number;
  alternative: string;
  expected: { n_exact: number; n_per_group: number; power_at_n: number };
}

const size = (...args: string[]) => runCli(['sample-size', ...args]);

describe('abtool sample-size (built CLI)', () => {
  it('--baseline 0.10 --mde 0.02 --json: R power.prop.test(p1=0.10, p2=0.12, power=0.8), n = 3840.85', () => {
    const r = size('--baseline', '0.10', '--mde', '0.02', '--json');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({ kind: 'proportion', n_per_group: 3841, n_control: 3841, n_treatment: 3841, total: 7682 });
    expect(j).toMatchObject({ baseline: 0.1, alpha: 0.05, power: 0.8, alternative: 'two-sided', ratio: 1 });
    // tails.json: power.prop.test(p1=0.10, p2=0.12, power=0.8)$n = 3840.847482434446
    expectClose(j.n_exact, 3840.847482434446, 1e-6);
    expect(j.power_at_n).toBeGreaterThanOrEqual(0.8);
    expect(j.days).toBeUndefined();
  });

  it('means: --sd 1 --mde 0.1, R power.t.test(delta=0.1, sd=1, power=0.8)$n = 1570.74', () => {
    const j = size('--sd', '1', '--mde', '0.1', '--json').json();
    expect(j.kind).toBe('mean');
    expect(j.n_per_group).toBe(1571);
    expectClose(j.n_exact, 1570.736887998456, 1e-6);
  });

  it('a readable table by default', () => {
    const r = size('--baseline', '0.10', '--mde', '0.02');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/n per group \(control\)\s*│\s*3841/);
    expect(r.stdout).toMatch(/power at n/);
    expect(r.stderr).toBe('');
  });

  it('reference cases through the CLI with the conformance flags (all of them: test/core/power.test.ts)', () => {
    const ref = loadReference<SizeCase>('sample_size');
    // a one-sided and a two-sided case of each kind, and the high-baseline one
    const picked = [0, 1, 20, 21, ref.cases.length - 1].map((i) => ref.cases[i]!);
    expect(new Set(picked.map((c) => `${c.kind} ${c.alternative}`)).size).toBe(4);
    for (const c of picked) {
      const args = ['--mde', String(c.mde), '--alpha', String(c.alpha), '--power', String(c.power), '--alternative', c.alternative];
      args.push(...(c.kind === 'proportion' ? ['--baseline', String(c.baseline)] : ['--sd', String(c.sd)]), '--json');
      const r = size(...args);
      expect(r.code).toBe(0);
      const j = r.json();
      expect(j.n_per_group).toBe(c.expected.n_per_group);
      expectClose(j.power_at_n, c.expected.power_at_n, 1e-4);
      expectClose(j.n_exact, c.expected.n_exact, 1e-6);
    }
  });

  it('--relative makes the mde a fraction of the baseline', () => {
    const j = size('--baseline', '0.1', '--mde', '0.2', '--relative', '--json').json();
    expect(j.n_per_group).toBe(3841);
    expectClose(j.mde, 0.02, 1e-12);
    expectClose(j.mde_relative, 0.2, 1e-12);
    expect(j.relative).toBe(true);
  });

  it('--daily-units and --allocation add days: the smaller arm binds', () => {
    // 3841 per arm; 5% of 1000 a day go to treatment: 3841 / 50 = 76.8 -> 77 days
    const j = size('--baseline', '0.10', '--mde', '0.02', '--daily-units', '1000', '--allocation', '0.05', '--json').json();
    expect(j.days).toBe(77);
    expect(j).toMatchObject({ daily_units: 1000, allocation: 0.05 });
    // default allocation is an even split: 3841 / 500 -> 8 days
    expect(size('--baseline', '0.10', '--mde', '0.02', '--daily-units', '1000', '--json').json().days).toBe(8);
  });

  it('--ratio sizes unequal groups and reports both', () => {
    const j = size('--baseline', '0.10', '--mde', '0.02', '--ratio', '0.25', '--json').json();
    expect(j.n_per_group).toBe(j.n_control);
    expect(j.n_treatment).toBe(Math.ceil(0.25 * j.n_exact));
    expect(j.total).toBe(j.n_control + j.n_treatment);
    expect(j.n_control).toBeGreaterThan(3841);
    expect(j.power_at_n).toBeGreaterThanOrEqual(0.8);
  });

  it('--n: the power at a given size round-trips, with the minimum detectable effect there', () => {
    const forward = size('--baseline', '0.10', '--mde', '0.02', '--json').json();
    const j = size('--baseline', '0.10', '--mde', '0.02', '--n', String(forward.n_per_group), '--json').json();
    expectClose(j.power_at_n, forward.power_at_n, 1e-12);
    expect(j.mde_at_n).toBeLessThanOrEqual(0.02);
    expect(j.mde_at_n).toBeGreaterThan(0.0199);
    expectClose(j.mde_at_n_relative, j.mde_at_n / 0.1, 1e-12);
    // without --mde: only the detectable effect (R: power.t.test(n = 200, sd = 30, power = 0.8)$delta)
    const m = size('--sd', '30', '--n', '200', '--json').json();
    expect(m.power_at_n).toBeUndefined();
    expect(m.mde_at_n).toBeGreaterThan(8);
    expect(m.mde_at_n).toBeLessThan(9);
    const back = size('--sd', '30', '--mde', String(m.mde_at_n), '--json').json();
    expect(back.n_per_group).toBe(200);
  });

  it('a mean with a relative mde: --sd and --baseline (the control mean), as abtool plan sizes it (R: power.t.test(delta = 7.873, sd = 28.59)$n = 207.97)', () => {
    const j = size('--sd', '28.59', '--baseline', '393.65', '--mde', '0.02', '--relative', '--json').json();
    expect(j).toMatchObject({ kind: 'mean', sd: 28.59, control_mean: 393.65, relative: true, n_per_group: 208 });
    expect(j.mde).toBeCloseTo(7.873, 12);
    expect(Math.abs(j.n_exact - 207.971959809843) / 207.971959809843).toBeLessThan(1e-6);
    // the spec's relative mde (fixtures/specs/ab.yaml: revenue_per_user, 2%) the same way
    const spec = size('--spec', new URL('../../fixtures/specs/ab.yaml', import.meta.url).pathname, '--sd', '28.59', '--baseline', '393.65', '--json').json();
    expect([spec.n_exact, spec.n_per_group]).toEqual([j.n_exact, 208]);
  });

  it('--help shows the examples and explains allocation', () => {
    const r = size('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('abtool sample-size --baseline 0.10 --mde 0.02');
    expect(r.stdout).toMatch(/slower one\s+binds/);
  });

  const usage: [string, string[], RegExp][] = [
    ['baseline outside (0, 1)', ['--baseline', '1.2', '--mde', '0.02'], /--baseline/],
    ['baseline + mde outside (0, 1)', ['--baseline', '0.99', '--mde', '0.02'], /--mde/],
    ['relative mde outside (0, 1)', ['--baseline', '0.6', '--mde', '0.8', '--relative'], /--mde/],
    ['mde = 0', ['--baseline', '0.1', '--mde', '0'], /--mde/],
    ['mde not a number', ['--sd', '3', '--mde', 'big'], /--mde/],
    ['--baseline (a control mean) with --sd and an absolute mde', ['--baseline', '0.1', '--sd', '2', '--mde', '0.02'], /--baseline with --sd is the control's mean, used only for a relative mde/],
    ['--relative with --sd and a zero control mean', ['--baseline', '0', '--sd', '2', '--mde', '0.1', '--relative'], /--baseline must not be 0/],
    ['neither --baseline nor --sd', ['--mde', '0.02'], /--baseline.*--sd/],
    ['no --mde and no --n', ['--baseline', '0.1'], /--mde/],
    ['alpha outside (0, 1)', ['--baseline', '0.1', '--mde', '0.02', '--alpha', '1.5'], /--alpha/],
    ['power outside (0, 1)', ['--baseline', '0.1', '--mde', '0.02', '--power', '1'], /--power/],
    ['power <= alpha', ['--baseline', '0.1', '--mde', '0.02', '--power', '0.04'], /--power.*--alpha/],
    ['sd <= 0', ['--sd', '0', '--mde', '1'], /--sd/],
    ['unknown alternative', ['--baseline', '0.1', '--mde', '0.02', '--alternative', 'greater'], /--alternative/],
    ['ratio <= 0', ['--baseline', '0.1', '--mde', '0.02', '--ratio', '0'], /--ratio/],
    ['--relative with --sd', ['--sd', '2', '--mde', '0.1', '--relative'], /--relative/],
    ['--allocation without --daily-units', ['--baseline', '0.1', '--mde', '0.02', '--allocation', '0.1'], /--allocation/],
    ['allocation outside (0, 1)', ['--baseline', '0.1', '--mde', '0.02', '--daily-units', '100', '--allocation', '1'], /--allocation/],
    ['daily units <= 0', ['--baseline', '0.1', '--mde', '0.02', '--daily-units', '-5'], /--daily-units/],
    ['--n not a whole number', ['--baseline', '0.1', '--n', '10.5'], /--n/],
    ['--n below 2 for means', ['--sd', '1', '--n', '1'], /--n/],
    ['an unknown flag', ['--baseline', '0.1', '--mde', '0.02', '--bogus'], /bogus/],
  ];
  for (const [what, args, message] of usage) {
    it(`usage error (exit 64): ${what}`, () => {
      const r = size(...args, '--json');
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    });
  }
});

const dir = mkdtempSync(join(tmpdir(), 'abtool-sample-size-'));
function specFile(name: string, primary: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const spec = {
    stage: 'canary',
    control: 'champion',
    treatment: 'challenger',
    allocation: { champion: 0.95, challenger: 0.05 },
    primary: { name: 'm', field: 'f', direction: 'increase', ...primary },
    ...extra,
  };
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(spec));
  return path;
}

describe('abtool sample-size --spec', () => {
  const canary = specFile('canary.json', { type: 'proportion', mde: 0.01 });

  it("takes the primary's mde, alpha, power and the allocation (ratio = 0.05 / 0.95)", () => {
    const j = size('--spec', canary, '--baseline', '0.1', '--daily-units', '10000', '--json').json();
    const same = size('--baseline', '0.1', '--mde', '0.01', '--ratio', String(0.05 / 0.95), '--daily-units', '10000', '--allocation', '0.05', '--json').json();
    expect(j.spec).toBe(canary);
    expect(j).toMatchObject({ kind: 'proportion', mde: 0.01, alpha: 0.05, power: 0.8, allocation: 0.05 });
    for (const key of ['n_per_group', 'n_treatment', 'total', 'days', 'n_exact', 'power_at_n']) expect(j[key], key).toBe(same[key]);
    expect(j.n_treatment).toBeLessThan(j.n_control);
  });

  it('explicit flags win over the spec', () => {
    const spec = specFile('alpha.json', { type: 'proportion', mde: 0.01 }, { alpha: 0.01, power: 0.9 });
    const j = size('--spec', spec, '--baseline', '0.1', '--alpha', '0.05', '--ratio', '1', '--json').json();
    expect(j).toMatchObject({ alpha: 0.05, power: 0.9, ratio: 1 });
    expect(j.n_per_group).toBe(size('--baseline', '0.1', '--mde', '0.01', '--power', '0.9', '--json').json().n_per_group);
    expect(size('--spec', spec, '--baseline', '0.1', '--mde', '0.02', '--json').json().mde).toBe(0.02);
  });

  it('a relative mde and a decrease carry over', () => {
    const spec = specFile('relative.json', { type: 'proportion', mde: 0.1, relative: true, direction: 'decrease' });
    const j = size('--spec', spec, '--baseline', '0.2', '--json').json();
    expectClose(j.mde, -0.02, 1e-12);
    expect(j.relative).toBe(true);
  });

  it('a mean primary needs --sd; a relative mean mde needs an absolute --mde', () => {
    const mean = specFile('mean.json', { type: 'mean', mde: 2 });
    expect(size('--spec', mean, '--sd', '10', '--json').json()).toMatchObject({ kind: 'mean', mde: 2, sd: 10 });
    const r = size('--spec', mean, '--baseline', '0.1', '--json');
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--sd/);
    const relative = specFile('mean-relative.json', { type: 'mean', mde: 0.02, relative: true });
    const rr = size('--spec', relative, '--sd', '10', '--json');
    expect(rr.code).toBe(64);
    expect(rr.stderr).toMatch(/primary\.mde.*--mde/);
    expect(size('--spec', relative, '--sd', '10', '--mde', '1', '--json').code).toBe(0);
  });

  it('a missing, invalid or unsizable spec is a usage error (exit 64) naming the problem', () => {
    const missing = size('--spec', join(dir, 'nope.json'), '--baseline', '0.1');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
    const bad = specFile('bad.json', { type: 'proportion', mde: 0.01 }, { alpah: 0.05 });
    const invalid = size('--spec', bad, '--baseline', '0.1');
    expect(invalid.code).toBe(64);
    expect(invalid.stderr).toMatch(/alpah/);
    const rank = specFile('rank.json', { type: 'rank', mde: 1 });
    const r = size('--spec', rank, '--sd', '1');
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/rank/);
  });
});
