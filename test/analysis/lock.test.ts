import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLock, describeChanges, isIsoTime, lockPathFor, makeLock, readLock, validateLock, writeLock, type SpecLock } from '../../src/analysis/lock.js';
import { SpecError, loadSpec, parseSpec, registrationHash, specHash, type ExperimentSpec } from '../../src/analysis/spec.js';

const CANARY = new URL('../../fixtures/specs/canary.json', import.meta.url).pathname;
const canary = loadSpec(CANARY);
const edit = (mutate: (o: any) => void): ExperimentSpec => {
  const o = JSON.parse(readFileSync(CANARY, 'utf8'));
  mutate(o);
  return parseSpec(JSON.stringify(o), 'canary.json');
};

const REGISTERED = new Date('2024-05-01T09:00:00.000Z');
const lock = makeLock(canary, '/some/dir/canary.json', REGISTERED, '9.9.9');
const BEFORE = Date.parse('2024-05-01T08:59:59.999Z');
const AFTER = Date.parse('2024-05-02T00:00:00.000Z');

describe('makeLock', () => {
  it('records both hashes, the time, the file name and the registered parts', () => {
    expect(lock).toMatchObject({
      spec_hash: specHash(canary),
      registration_hash: registrationHash(canary),
      registered_at: '2024-05-01T09:00:00.000Z',
      spec_file: 'canary.json',
      abtool_version: '9.9.9',
    });
    expect(lock.registration).toMatchObject({ alpha: 0.05, primary: { name: 'conversion', mde: 0.01 } });
  });
});

describe('checkLock', () => {
  it('not-registered without a lock', () => {
    const c = checkLock(canary, null, AFTER);
    expect(c.status).toBe('not-registered');
    expect(c.reason).toMatch(/not pre-registered/);
    expect(c.registeredAt).toBeUndefined();
  });

  it('locked when the spec matches and the lock predates the first record', () => {
    const c = checkLock(canary, lock, AFTER);
    expect(c).toMatchObject({ status: 'locked', registeredAt: '2024-05-01T09:00:00.000Z' });
    expect(c.reason).toBe('pre-registered at 2024-05-01T09:00:00.000Z, before the first logged record (2024-05-02T00:00:00.000Z); the spec matches its lock');
    // the same instant counts as in time; no records at all is fine too
    expect(checkLock(canary, lock, REGISTERED.getTime()).status).toBe('locked');
    expect(checkLock(canary, lock, null).status).toBe('locked');
  });

  it('locked, with a note, after an edit outside the registered parts', () => {
    const c = checkLock(edit((o) => (o.name = 'ranker-v2-final')), lock, AFTER);
    expect(c.status).toBe('locked');
    expect(c.reason).toMatch(/edited since only outside the registered parts/);
  });

  it('registered-late when the lock is newer than the first record', () => {
    const c = checkLock(canary, lock, BEFORE);
    expect(c.status).toBe('registered-late');
    expect(c.reason).toBe(
      'the spec was registered at 2024-05-01T09:00:00.000Z, after the first logged record (2024-05-01T08:59:59.999Z): the plan may have been made after seeing data',
    );
  });

  it('changed when the primary metric or a guardrail changed, naming what changed (before the timing check)', () => {
    const c = checkLock(
      edit((o) => {
        o.primary.mde = 0.02;
        o.guardrails[0].max_relative_change = 0.5;
      }),
      lock,
      BEFORE,
    );
    expect(c.status).toBe('changed');
    expect(c.changes).toEqual(['guardrails.latency_p99.max_relative_change: 0.2 -> 0.5', 'primary.mde: 0.01 -> 0.02']);
    expect(c.reason).toBe(
      'the spec changed after it was registered at 2024-05-01T09:00:00.000Z: guardrails.latency_p99.max_relative_change: 0.2 -> 0.5; primary.mde: 0.01 -> 0.02; results judged by criteria chosen after locking are not valid',
    );
    const dropped = checkLock(edit((o) => o.guardrails.splice(1, 1)), lock, AFTER);
    expect(dropped.status).toBe('changed');
    expect(dropped.changes).toEqual([expect.stringMatching(/^guardrails\.error_rate: removed \(was \{.*"max_absolute_change":0\.005/)]);
  });

  it('changed, in general words, for a lock without its registration copy', () => {
    const bare: SpecLock = { ...lock };
    delete bare.registration;
    const c = checkLock(edit((o) => (o.alpha = 0.1)), bare, AFTER);
    expect(c.status).toBe('changed');
    expect(c.changes).toEqual([]);
    expect(c.reason).toMatch(/the primary metric, guardrails or another registered setting/);
  });

  it('lists at most five changes in the reason', () => {
    const c = checkLock(
      edit((o) => {
        o.alpha = 0.1;
        o.power = 0.9;
        o.correction = 'none';
        o.unit = 'session';
        o.segments = [];
        o.primary.mde = 0.5;
        o.drift = [];
      }),
      lock,
      AFTER,
    );
    expect(c.changes!.length).toBe(7);
    expect(c.reason).toMatch(/; and 2 more; results/);
  });
});

describe('describeChanges', () => {
  it('reports added, removed and changed leaves by path', () => {
    expect(describeChanges({ a: 1, b: { c: [1, 2] }, d: 'x' }, { a: 1, b: { c: [1, 3] }, e: true })).toEqual([
      'b.c: [1,2] -> [1,3]',
      'd: removed (was "x")',
      'e: added (true)',
    ]);
    expect(describeChanges({ a: 1 }, { a: 1 })).toEqual([]);
  });
});

describe('readLock / writeLock / validateLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abtool-lock-'));

  it('round-trips a lock beside the spec; no lock is null', () => {
    const specPath = join(dir, 'exp.yaml');
    expect(lockPathFor(specPath)).toBe(`${specPath}.lock`);
    expect(readLock(specPath)).toBeNull();
    expect(writeLock(specPath, lock)).toBe(`${specPath}.lock`);
    expect(readLock(specPath)).toEqual(lock);
    expect(readFileSync(`${specPath}.lock`, 'utf8')).toMatch(/^\{\n {2}"spec_hash": "[0-9a-f]{64}",\n/);
  });

  it('a damaged lock is a SpecError naming the lock file', () => {
    const specPath = join(dir, 'bad.json');
    writeFileSync(`${specPath}.lock`, '{"spec_hash": ');
    expect(() => readLock(specPath)).toThrow(SpecError);
    expect(() => readLock(specPath)).toThrow(/bad\.json\.lock: the lock file is not valid JSON/);
    writeFileSync(`${specPath}.lock`, JSON.stringify({ ...lock, registered_at: 'yesterday' }));
    expect(() => readLock(specPath)).toThrow(/registered_at must be an ISO-8601 date and time, such as 2026-11-01T09:00:00\.000Z \(got "yesterday"\)/);
    expect(() => validateLock([], 'x.lock')).toThrow(/must hold a JSON object/);
    expect(() => validateLock({}, 'x.lock')).toThrow(/spec_hash must be a non-empty string/);
  });

  it('a lock with a byte order mark (an editor saved it) reads as without', () => {
    const specPath = join(dir, 'bom.json');
    writeFileSync(`${specPath}.lock`, `\ufeff${JSON.stringify(lock)}`);
    expect(readLock(specPath)).toEqual(lock);
  });

  it('registered_at: a date and time with its zone, on a day that exists; not a number, a bare date or 30 February', () => {
    for (const ok of ['2026-10-30T12:00:00.000Z', '2026-10-30T12:00:00Z', '2026-10-30T12:00Z', '2026-10-30T12:00:00.5+02:00', '2028-02-29T00:00:00Z']) {
      expect(isIsoTime(ok), ok).toBe(true);
      expect(validateLock({ ...lock, registered_at: ok }, 'x.lock').registered_at).toBe(ok);
    }
    for (const bad of ['1', '2026-11-03', '2026-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2026-13-01T00:00:00Z', '2020-01-01T25:00:00Z', '2026-10-30T12:00', '2026-10-30 12:00:00Z', 'Fri, 30 Oct 2026 12:00:00 GMT']) {
      expect(isIsoTime(bad), bad).toBe(false);
      expect(() => validateLock({ ...lock, registered_at: bad }, 'x.lock'), bad).toThrow(/registered_at must be an ISO-8601 date and time/);
    }
  });

  it('a lock that is a directory, or cannot be written, is a SpecError naming it; a spec name too long for ".lock" has no lock', () => {
    const specPath = join(dir, 'dirlock.json');
    mkdirSync(`${specPath}.lock`);
    expect(() => readLock(specPath)).toThrow(/dirlock\.json\.lock: the lock file is a directory/);
    expect(() => writeLock(specPath, lock)).toThrow(/dirlock\.json\.lock: the lock file cannot be written \(a directory has its name\)/);
    // (a spec name of 251 bytes: 256 with .lock, one past what a name may be)
    const long = join(dir, `${'s'.repeat(246)}.json`);
    expect(readLock(long)).toBeNull();
    expect(() => writeLock(long, lock)).toThrow(/the lock file cannot be written \(its name is too long: give the spec a shorter name\)/);
  });
});
