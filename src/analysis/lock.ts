/**
 * Lock files: the record that a spec was pre-registered, and when.
 *
 * `abtool plan SPEC` writes `SPEC.lock` beside the spec (e.g. `experiment.yaml.lock`):
 *
 *   {"spec_hash": "...", "registration_hash": "...", "registered_at": "2024-05-01T09:00:00.000Z",
 *    "spec_file": "experiment.yaml", "abtool_version": "0.1.0", "registration": {...}}
 *
 * `registration_hash` covers only the parts that decide the verdict (see `registration` in
 * spec.ts); `spec_hash` the whole parsed spec. `registration` is a copy of the registered parts,
 * so a changed spec can be told apart in words ("primary.mde: 0.01 -> 0.02"), not only by hash.
 *
 * `checkLock` is pure: the analysis asks it whether the spec it runs on is the one registered,
 * and whether it was registered before the first logged record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { SpecError, registration, registrationHash, specHash, type ExperimentSpec } from './spec.js';

export interface SpecLock {
  spec_hash: string;
  registration_hash: string;
  /** ISO-8601 */
  registered_at: string;
  /** the spec's file name (no directory) */
  spec_file: string;
  abtool_version: string;
  /** the registered parts, as `registration(spec)` returned them when locked */
  registration?: Record<string, unknown>;
}

export type LockStatus = 'locked' | 'not-registered' | 'changed' | 'registered-late';

export interface LockCheck {
  status: LockStatus;
  /** in words a product owner understands */
  reason: string;
  registeredAt?: string;
  /** for `changed`: what differs, e.g. "primary.mde.value: 0.01 -> 0.02" (empty when the lock has no copy) */
  changes?: string[];
}

/** The lock file's path for a spec: the spec's path plus ".lock". */
export const lockPathFor = (specPath: string): string => `${specPath}.lock`;

/** A new lock for `spec` registered at `now`. Pure. */
export function makeLock(spec: ExperimentSpec, specFile: string, now: Date, abtoolVersion: string): SpecLock {
  return {
    spec_hash: specHash(spec),
    registration_hash: registrationHash(spec),
    registered_at: now.toISOString(),
    spec_file: basename(specFile),
    abtool_version: abtoolVersion,
    registration: JSON.parse(JSON.stringify(registration(spec))) as Record<string, unknown>,
  };
}

const MAX_CHANGES_SHOWN = 5;

/**
 * Does the analysed spec match its pre-registration?
 * - `not-registered`: no lock (the analysis was not pre-registered);
 * - `changed`: the registered parts (primary metric, guardrails, alpha, allocation ...) differ
 *   from the lock's: the analysis is invalid;
 * - `registered-late`: the lock's time is after the first logged record (`firstRecordTs`, epoch
 *   ms; null when there are no records): the plan may have been written after seeing data;
 * - `locked`: registered before the data and unchanged (edits outside the registered parts, such
 *   as the name or where the log keeps its columns, are allowed and mentioned).
 */
export function checkLock(spec: ExperimentSpec, lock: SpecLock | null, firstRecordTs: number | null): LockCheck {
  if (lock === null) {
    return {
      status: 'not-registered',
      reason: 'the analysis was not pre-registered: there is no lock file (run `abtool plan SPEC` before the experiment starts)',
    };
  }
  const registeredAt = lock.registered_at;
  if (registrationHash(spec) !== lock.registration_hash) {
    const changes = lock.registration ? describeChanges(lock.registration, JSON.parse(JSON.stringify(registration(spec)))) : [];
    const shown = changes.slice(0, MAX_CHANGES_SHOWN).join('; ');
    const more = changes.length > MAX_CHANGES_SHOWN ? `; and ${changes.length - MAX_CHANGES_SHOWN} more` : '';
    const what = changes.length > 0 ? `: ${shown}${more}` : ' (the primary metric, guardrails or another registered setting)';
    return {
      status: 'changed',
      reason: `the spec changed after it was registered at ${registeredAt}${what}; results judged by criteria chosen after locking are not valid`,
      registeredAt,
      changes,
    };
  }
  const registeredMs = Date.parse(registeredAt);
  if (firstRecordTs !== null && registeredMs > firstRecordTs) {
    return {
      status: 'registered-late',
      reason: `the spec was registered at ${registeredAt}, after the first logged record (${new Date(firstRecordTs).toISOString()}): the plan may have been made after seeing data`,
      registeredAt,
    };
  }
  const cosmetic = specHash(spec) !== lock.spec_hash ? ' (edited since only outside the registered parts, e.g. its name or column mapping)' : '';
  const before = firstRecordTs !== null ? `, before the first logged record (${new Date(firstRecordTs).toISOString()})` : '';
  return {
    status: 'locked',
    reason: `pre-registered at ${registeredAt}${before}; the spec matches its lock${cosmetic}`,
    registeredAt,
  };
}

/** Paths where two registrations differ, with the old and new value: "guardrails.latency_p99: removed". */
export function describeChanges(before: unknown, after: unknown, path = ''): string[] {
  const show = (v: unknown): string => (v === undefined ? 'none' : JSON.stringify(v));
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    const out: string[] = [];
    for (const k of keys) {
      const p = path === '' ? k : `${path}.${k}`;
      if (!(k in after)) out.push(`${p}: removed (was ${show(before[k])})`);
      else if (!(k in before)) out.push(`${p}: added (${show(after[k])})`);
      else out.push(...describeChanges(before[k], after[k], p));
    }
    return out;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [`${path}: ${show(before)} -> ${show(after)}`];
}

const LOCK_STRING_KEYS = ['spec_hash', 'registration_hash', 'registered_at', 'spec_file', 'abtool_version'] as const;

/**
 * An ISO-8601 date and time with its zone (`Z` or an offset), seconds and fractions optional, naming a
 * day that exists: what `plan` writes (toISOString) and what a person would write by hand. Not a bare
 * date, a number, or a day past the month's end (Date.parse takes "1" and rolls 2026-02-30 over).
 */
export function isIsoTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/.exec(s);
  if (!m || Number.isNaN(Date.parse(s))) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return mo >= 1 && mo <= 12 && day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d;
}

/** Validate a lock file's parsed JSON; throws SpecError naming the lock file. */
export function validateLock(doc: unknown, lockFile: string): SpecLock {
  const problems: { path: string; message: string }[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SpecError(lockFile, [{ path: '', message: 'the lock file must hold a JSON object (rewrite it with `abtool plan SPEC --force`)' }]);
  }
  const o = doc as Record<string, unknown>;
  for (const k of LOCK_STRING_KEYS) {
    if (typeof o[k] !== 'string' || o[k] === '') problems.push({ path: k, message: `${k} must be a non-empty string in the lock file` });
  }
  if (typeof o.registered_at === 'string' && o.registered_at !== '' && !isIsoTime(o.registered_at)) {
    problems.push({ path: 'registered_at', message: `registered_at must be an ISO-8601 date and time, such as 2026-11-01T09:00:00.000Z (got ${JSON.stringify(o.registered_at)})` });
  }
  if (o.registration !== undefined && (typeof o.registration !== 'object' || o.registration === null || Array.isArray(o.registration))) {
    problems.push({ path: 'registration', message: 'registration must be an object in the lock file' });
  }
  if (problems.length > 0) throw new SpecError(lockFile, problems);
  return o as unknown as SpecLock;
}

/** Read the lock beside a spec; null when there is none. A damaged lock throws SpecError. */
export function readLock(specPath: string): SpecLock | null {
  const path = lockPathFor(specPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // (a spec whose name is as long as a name can be has no room for ".lock": it has no lock)
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') return null;
    if (code === 'EISDIR') throw new SpecError(path, [{ path: '', message: 'the lock file is a directory' }]);
    if (code !== undefined) throw new SpecError(path, [{ path: '', message: `the lock file cannot be read (${code})` }]);
    throw e;
  }
  let doc: unknown;
  // (a byte order mark an editor added, as a spec may have one)
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new SpecError(path, [{ path: '', message: `the lock file is not valid JSON (${(e as Error).message})` }]);
  }
  return validateLock(doc, path);
}

/** Write the lock beside a spec (pretty JSON, one trailing newline); returns its path. */
export function writeLock(specPath: string, lock: SpecLock): string {
  const path = lockPathFor(specPath);
  try {
    writeFileSync(path, JSON.stringify(lock, null, 2) + '\n', 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined) throw e;
    // a read-only disk, a directory not writable, a name too long...: the spec's problem to fix
    const why = code === 'ENAMETOOLONG' ? 'its name is too long: give the spec a shorter name' : code === 'EISDIR' ? 'a directory has its name' : `${code}: write access to the spec's directory is needed`;
    throw new SpecError(path, [{ path: '', message: `the lock file cannot be written (${why})` }]);
  }
  return path;
}
