/**
 * The IngestAccount: every row seen is either read or rejected with a reason, and the first few
 * rejected rows of each reason keep their location. Also the limits a run enforces on it
 * (`--max-bad-rows`, "no valid rows"), shared by `abtool inspect` and `abtool analyze`.
 */
import { dataError, usageError } from '../cli/exitCode.js';
import { REJECTION_TEXT, type IngestAccount, type Location, type RejectReason } from './types.js';

export const DEFAULT_MAX_LOCATIONS = 5;

/** Rejection reasons in the order they are checked and reported. */
export const REJECT_REASONS = Object.keys(REJECTION_TEXT) as RejectReason[];

export function newAccount(maxLocations = DEFAULT_MAX_LOCATIONS): IngestAccount {
  return {
    files: [],
    rowsSeen: 0,
    rowsRead: 0,
    rowsRejected: 0,
    rejections: {},
    unknownModels: {},
    missing: {},
    invalid: {},
    skipped: [],
    blankLines: 0,
    maxLocations,
  };
}

/** Count one rejected row (the caller counted it in rowsSeen) and keep its location if among the first few. */
export function recordRejection(account: IngestAccount, reason: RejectReason, loc: Location): void {
  account.rowsRejected++;
  let r = account.rejections[reason];
  if (r === undefined) {
    r = { count: 0, first: [] };
    account.rejections[reason] = r;
    // reasons in their canonical order, whatever order they were met in (reports list them so)
    account.rejections = canonicalOrder(account.rejections);
  }
  r.count++;
  if (r.first.length < account.maxLocations) r.first.push(loc);
}

/** The error --strict stops with at the first rejected row (exit 65). */
export function strictError(reason: RejectReason, loc: Location): Error {
  return dataError(`${formatLocation(loc)} — ${REJECTION_TEXT[reason]} (--strict stops at the first rejected row)`);
}

/** The same rejections, keyed in REJECT_REASONS order. */
export function canonicalOrder(rejections: IngestAccount['rejections']): IngestAccount['rejections'] {
  const out: IngestAccount['rejections'] = {};
  for (const reason of REJECT_REASONS) {
    const r = rejections[reason];
    if (r) out[reason] = r;
  }
  return out;
}

/** `file:line: field: message` — how a location reads in messages. */
export function formatLocation(loc: Location): string {
  return `${loc.file}:${loc.line}: ${loc.field !== undefined ? `${loc.field}: ` : ''}${loc.message}`;
}

/** Add `n` to a per-field, per-model counter (account.missing, account.invalid). */
export function bump(table: Record<string, Record<string, number>>, field: string, model: string, n = 1): void {
  const row = (table[field] ??= {});
  row[model] = (row[model] ?? 0) + n;
}

/** How many rejected rows a run tolerates: a fraction of the rows seen, or a number of rows. */
export type BadRowLimit = { kind: 'fraction'; value: number } | { kind: 'count'; value: number };

export const DEFAULT_MAX_BAD_ROWS: BadRowLimit = { kind: 'fraction', value: 0.01 };

/**
 * Parse `--max-bad-rows`: a fraction below 1 (`0.01`), a percentage (`1%`), or a whole number of
 * rows of at least 1 (`100`). `0` tolerates no rejected row (but, unlike --strict, reads everything
 * first and reports all of them).
 */
export function parseMaxBadRows(flag: string, raw: string): BadRowLimit {
  const s = raw.trim();
  const pct = /^(\d+(?:\.\d*)?|\.\d+)%$/.exec(s);
  if (pct) {
    const v = Number(pct[1]) / 100;
    if (v > 1) throw usageError(`${flag} as a percentage must be at most 100% (got "${raw}")`);
    return { kind: 'fraction', value: v };
  }
  const v = /^(\d+(?:\.\d*)?|\.\d+)$/.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) {
    throw usageError(`${flag} must be a fraction below 1 (0.01), a percentage (1%) or a number of rows (100) (got "${raw}")`);
  }
  if (v < 1) return { kind: 'fraction', value: v };
  if (!Number.isInteger(v)) throw usageError(`${flag}: a number of rows must be whole; a fraction must be below 1 (got "${raw}")`);
  return { kind: 'count', value: v };
}

/**
 * --strict stops at the first rejected row: a --max-bad-rows given with it that tolerates rows
 * contradicts it (a usage error, rather than one of them silently winning); `0` agrees with it.
 */
export function checkStrictLimit(strict: boolean, limitGiven: boolean, limit: BadRowLimit): void {
  if (strict && limitGiven && limit.value > 0) {
    throw usageError(`--strict stops at the first rejected row, but --max-bad-rows ${describeLimit(limit)} tolerates some: give one of them`);
  }
}

export function describeLimit(limit: BadRowLimit): string {
  return limit.kind === 'count' ? `${limit.value} row${limit.value === 1 ? '' : 's'}` : `${+(limit.value * 100).toPrecision(6)}%`;
}

/** Rejection counts in one line: `malformed 3 (first at a.jsonl:4), duplicate 2 (first at b.csv:9)`. */
export function summarizeRejections(account: IngestAccount): string {
  const parts: string[] = [];
  for (const reason of REJECT_REASONS) {
    const r = account.rejections[reason];
    if (!r || r.count === 0) continue;
    const first = r.first[0];
    parts.push(`${reason} ${r.count}${first ? ` (first at ${first.file}:${first.line}${first.field !== undefined ? ` ${first.field}` : ''})` : ''}`);
  }
  return parts.join(', ');
}

/**
 * The limits every run enforces once all input is read; throws a data error (exit 65):
 * - no input file at all (e.g. a directory without a supported log);
 * - no valid row (every row rejected, or no row);
 * - more rejected rows than `maxBadRows` allows.
 */
export function checkAccount(account: IngestAccount, maxBadRows: BadRowLimit = DEFAULT_MAX_BAD_ROWS, inputs: readonly string[] = []): void {
  if (account.files.length === 0) {
    const skipped = account.skipped ?? [];
    const what = skipped.length > 0 ? `; skipped ${skipped.length} file(s) with other extensions, e.g. ${skipped[0]!.path}` : '';
    // (the inputs named: an empty directory, say)
    const where = inputs.length > 0 ? ` in ${inputs.slice(0, 3).join(', ')}${inputs.length > 3 ? ` and ${inputs.length - 3} more` : ''}` : '';
    throw dataError(`no log files to read${where} (supported: .jsonl, .ndjson, .csv, optionally .gz; .arrow, .feather, .arrows)${what}`);
  }
  if (account.rowsRead === 0) {
    if (account.rowsSeen === 0) throw dataError(`no rows in ${describeFiles(account)}`);
    throw dataError(`no valid rows: all ${account.rowsSeen} rows rejected (${summarizeRejections(account)})`);
  }
  const allowed = maxBadRows.kind === 'count' ? maxBadRows.value : maxBadRows.value * account.rowsSeen;
  if (account.rowsRejected > allowed) {
    const pct = ((100 * account.rowsRejected) / account.rowsSeen).toPrecision(3);
    throw dataError(
      `${account.rowsRejected} of ${account.rowsSeen} rows rejected (${pct}%), over --max-bad-rows ${describeLimit(maxBadRows)}: ` +
        `${summarizeRejections(account)}`,
    );
  }
}

function describeFiles(account: IngestAccount): string {
  const n = account.files.length;
  return n === 1 ? account.files[0]!.path : `${n} files`;
}

/** The account as the report's `input` section (snake_case keys, CONTRACT section 5). */
export function inputReport(account: IngestAccount): {
  rows_read: number;
  rows_rejected: number;
  rows_seen: number;
  rejections: IngestAccount['rejections'];
  unknown_models: Record<string, number>;
  missing: Record<string, Record<string, number>>;
  invalid: Record<string, Record<string, number>>;
  blank_lines: number;
  files: IngestAccount['files'];
  skipped: { path: string; reason: string }[];
  notes: string[];
} {
  const rejections: IngestAccount['rejections'] = {};
  for (const reason of REJECT_REASONS) {
    const r = account.rejections[reason];
    if (r && r.count > 0) rejections[reason] = { count: r.count, first: r.first.map((l) => ({ ...l })) };
  }
  return {
    rows_read: account.rowsRead,
    rows_rejected: account.rowsRejected,
    rows_seen: account.rowsSeen,
    rejections,
    unknown_models: { ...account.unknownModels },
    missing: account.missing,
    invalid: account.invalid ?? {},
    blank_lines: account.blankLines,
    files: account.files,
    skipped: account.skipped ?? [],
    notes: account.notes ?? [],
  };
}
