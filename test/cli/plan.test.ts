/**
 * `abtool plan` through the built CLI (run `npx tsc -p tsconfig.json` first; `npm test` does).
 * Each test works on copies of fixtures/specs in a fresh temporary directory.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const FIX = new URL('../../fixtures/specs/', import.meta.url).pathname;

function copy(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'abtool-plan-'));
  const path = join(dir, name);
  copyFileSync(join(FIX, name), path);
  return path;
}
const plan = (...args: string[]) => runCli(['plan', ...args]);
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const editJson = (path: string, mutate: (o: any) => void): void => {
  const o = readJson(path);
  mutate(o);
  writeFileSync(path, JSON.stringify(o, null, 2));
};

describe('abtool plan (built CLI)', () => {
  it('sizes the contract canary and writes SPEC.lock beside it', () => {
    const spec = copy('canary.yaml');
    const t0 = Date.now();
    const r = plan(spec, '--baseline', '0.1', '--daily-units', '40000', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      name: 'ranker-v2',
      stage: 'canary',
      kind: 'proportion',
      baseline: 0.1,
      mde: 0.01,
      alternative: 'two-sided',
      lock: 'created',
      lock_file: `${spec}.lock`,
    });
    // groups sized like the 95/5 allocation: ratio = 0.05 / 0.95
    expect(j.ratio).toBeCloseTo(0.05 / 0.95, 12);
    expect(j.n_per_group).toBe(j.n_control);
    expect(j.n_treatment).toBe(Math.ceil((j.n_exact * 0.05) / 0.95));
    expect(j.total).toBe(j.n_control + j.n_treatment);
    expect(j.power_at_n).toBeGreaterThanOrEqual(0.8);
    // days: each arm fills at its share of 40000 a day; the slower binds
    expect(j.days).toBe(Math.ceil(Math.max(j.n_control / (40000 * 0.95), j.n_treatment / (40000 * 0.05))));

    const lock = readJson(`${spec}.lock`);
    expect(Object.keys(lock).sort()).toEqual(['abtool_version', 'registered_at', 'registration', 'registration_hash', 'spec_file', 'spec_hash']);
    expect(lock).toMatchObject({ spec_file: 'canary.yaml', abtool_version: readJson(new URL('../../package.json', import.meta.url).pathname).version });
    expect(lock.spec_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(lock.registration_hash).toBe(j.registration_hash);
    const at = Date.parse(lock.registered_at);
    expect(lock.registered_at).toBe(new Date(at).toISOString());
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('equal allocation reproduces R: power.prop.test(p1=0.381, p2=0.391, power=0.9)$n = 49803.9487872896 -> 49804', () => {
    // case from fixtures/reference/sample_size.json (R 4.2)
    const dir = mkdtempSync(join(tmpdir(), 'abtool-plan-'));
    const spec = join(dir, 'ab.json');
    writeFileSync(
      spec,
      JSON.stringify({
        stage: 'ab',
        control: 'A',
        treatment: 'B',
        allocation: { A: 0.5, B: 0.5 },
        power: 0.9,
        primary: { name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', mde: 0.01 },
      }),
    );
    const j = plan(spec, '--baseline', '0.381', '--json').json();
    expect(j).toMatchObject({ name: 'ab', n_per_group: 49804, n_control: 49804, n_treatment: 49804, total: 99608, ratio: 1 });
    expect(Math.abs(j.n_exact - 49803.9487872896) / 49803.9487872896).toBeLessThan(1e-6);
  });

  it('gives the same sizes as `abtool sample-size --spec` for the same spec', () => {
    const spec = copy('canary.json');
    const p = plan(spec, '--baseline', '0.1', '--daily-units', '40000', '--json').json();
    const s = runCli(['sample-size', '--spec', spec, '--baseline', '0.1', '--daily-units', '40000', '--json']);
    expect(s.code).toBe(0);
    const sj = s.json();
    expect([p.n_exact, p.n_control, p.n_treatment, p.days]).toEqual([sj.n_exact, sj.n_control, sj.n_treatment, sj.days]);
    expect(p.n_treatment).toBe(7643);
  });

  it('a mean primary with a relative mde needs --sd and --baseline (the control mean)', () => {
    const spec = copy('ab.yaml');
    // relative 2% of a control mean of 393.65 = 7.873; fixtures/reference/sample_size.json (R 4.2):
    // power.t.test(delta=7.873, sd=28.59, sig.level=0.05, power=0.8)$n = 207.971959809843 -> 208
    const j = plan(spec, '--sd', '28.59', '--baseline', '393.65', '--json').json();
    expect(j).toMatchObject({ kind: 'mean', sd: 28.59, relative: true, n_per_group: 208, n_treatment: 208, total: 416 });
    expect(j.mde).toBeCloseTo(7.873, 12);
    expect(Math.abs(j.n_exact - 207.971959809843) / 207.971959809843).toBeLessThan(1e-6);
    const noMean = plan(copy('ab.yaml'), '--sd', '28.59', '--json').json();
    expect(noMean).toMatchObject({ n_per_group: null, sizing: 'give --baseline (the control mean of revenue_per_user): primary.mde is relative to it' });
  });

  it('without --baseline it still registers, and says what sizing needs', () => {
    const spec = copy('canary.json');
    const r = plan(spec, '--json');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ n_per_group: null, sizing: "give --baseline (the control's current rate of conversion) to compute the units needed", lock: 'created' });
    expect(existsSync(`${spec}.lock`)).toBe(true);
  });

  it('a shadow spec has nothing to size but is registered', () => {
    const spec = copy('shadow.json');
    const r = plan(spec);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/a shadow run scores every request with both models/);
    expect(r.stdout).toMatch(/registered now/);
    expect(existsSync(`${spec}.lock`)).toBe(true);
  });

  it('re-running keeps the registration: unchanged, or updated for a cosmetic edit (same registered_at)', () => {
    const spec = copy('canary.json');
    expect(plan(spec, '--json').code).toBe(0);
    const first = readJson(`${spec}.lock`);
    const mtime = statSync(`${spec}.lock`).mtimeMs;

    const again = plan(spec, '--json');
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ lock: 'unchanged', registered_at: first.registered_at });
    expect(statSync(`${spec}.lock`).mtimeMs).toBe(mtime);

    editJson(spec, (o) => (o.name = 'ranker-v2-renamed'));
    const renamed = plan(spec, '--json');
    expect(renamed.code).toBe(0);
    expect(renamed.json()).toMatchObject({ lock: 'updated', registered_at: first.registered_at, registration_hash: first.registration_hash });
    const updated = readJson(`${spec}.lock`);
    expect(updated.registered_at).toBe(first.registered_at);
    expect(updated.spec_hash).not.toBe(first.spec_hash);
  });

  it('refuses to re-register a changed primary without --force (exit 64, saying why); --force replaces the lock', () => {
    const spec = copy('canary.json');
    expect(plan(spec).code).toBe(0);
    const before = readFileSync(`${spec}.lock`, 'utf8');
    editJson(spec, (o) => (o.primary.mde = 0.02));

    const refused = plan(spec);
    expect(refused.code).toBe(64);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/the spec's registered parts changed since it was registered at \S+: primary\.mde: 0\.01 -> 0\.02\./);
    expect(refused.stderr).toMatch(/pass --force to re-register/);
    expect(readFileSync(`${spec}.lock`, 'utf8')).toBe(before);

    const forced = plan(spec, '--force', '--json');
    expect(forced.code).toBe(0);
    expect(forced.json().lock).toBe('replaced');
    const after = readJson(`${spec}.lock`);
    expect(after.registration_hash).not.toBe(JSON.parse(before).registration_hash);
    expect(after.registration.primary.mde).toBe(0.02);
  });

  it('a damaged lock is exit 64 naming it; --force replaces it', () => {
    const spec = copy('shadow.yaml');
    writeFileSync(`${spec}.lock`, 'not json');
    const r = plan(spec);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`${spec}.lock: the lock file is not valid JSON`);
    expect(plan(spec, '--force').code).toBe(0);
    expect(readJson(`${spec}.lock`).spec_file).toBe('shadow.yaml');
  });

  it('a lock that cannot be written is exit 64 naming it, never an internal error (exit 70)', () => {
    const spec = copy('shadow.yaml');
    mkdirSync(`${spec}.lock`);
    const r = plan(spec);
    expect([r.code, r.stderr.trim()]).toEqual([64, `abtool: ${spec}.lock: the lock file is a directory`]);
    const forced = plan(spec, '--force');
    expect([forced.code, forced.stderr.trim()]).toEqual([64, `abtool: ${spec}.lock: the lock file cannot be written (a directory has its name)`]);
  });

  it('a bad spec is exit 64 naming the key, and no lock is written', () => {
    const spec = copy('canary.json');
    editJson(spec, (o) => {
      o.primary.type = 'ratio';
      o.guardrail = [];
    });
    const r = plan(spec);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(`abtool: ${spec}: unknown key "guardrail" at top level (allowed: name, stage,`);
    expect(r.stderr).toContain(`${spec}: primary.type must be one of proportion, mean, rank, quantile (got "ratio")`);
    expect(existsSync(`${spec}.lock`)).toBe(false);
  });

  it('usage errors: missing spec, a directory, flags that do not fit the primary', () => {
    const missing = plan('/nonexistent/spec.yaml');
    expect(missing.code).toBe(64);
    expect(missing.stderr).toMatch(/spec \/nonexistent\/spec\.yaml: no such file/);
    expect(plan(tmpdir()).code).toBe(64);
    expect(plan().code).toBe(64);

    const spec = copy('canary.json');
    const sd = plan(spec, '--sd', '3');
    expect(sd.code).toBe(64);
    expect(sd.stderr).toMatch(/--sd is for a mean primary; conversion is a proportion/);
    expect(plan(spec, '--baseline', '1.5').code).toBe(64);
    expect(plan(spec, '--baseline', '0.1', '--daily-units', '0').code).toBe(64);
    expect(existsSync(`${spec}.lock`)).toBe(false);

    const shadow = copy('shadow.json');
    expect(plan(shadow, '--baseline', '0.1').code).toBe(64);
    expect(existsSync(`${shadow}.lock`)).toBe(false);
  });

  it('prints a readable table by default', () => {
    const spec = copy('canary.yaml');
    const r = plan(spec, '--baseline', '0.1');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Plan: ranker-v2/);
    expect(r.stdout).toMatch(/n champion \(control\)/);
    expect(r.stdout).toMatch(/n challenger \(treatment\)/);
    expect(r.stdout).toMatch(/registered now/);
  });
});
