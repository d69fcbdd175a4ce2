/**
 * `abtool inspect <logs...>`: read prediction logs and account for every row — rows read and
 * rejected (per reason, with the first locations), unknown models, missing values per field and
 * model, files and formats. The same reading `analyze` does, without a spec.
 */
import Table from 'cli-table3';
import type { Command } from 'commander';
import {
  checkAccount,
  checkStrictLimit,
  inputReport,
  parseMaxBadRows,
  readLogs,
  type BadRowLimit,
} from '../ingest/index.js';
import { REJECT_REASONS } from '../ingest/account.js';
import type { FieldKind, FieldRequest, IngestAccount, ReadPlan } from '../ingest/types.js';
import { REJECTION_TEXT } from '../ingest/types.js';
import { parseCount } from './args.js';
import { usageError } from './exitCode.js';
import { toJson } from './output.js';

interface Opts {
  fields?: string;
  fieldMap?: string;
  models?: string;
  unit: string;
  extra?: string;
  strict?: boolean;
  maxBadRows: string;
  /** --max-bad-rows was given (not its default) */
  maxBadRowsGiven?: boolean;
  maxLocations: string;
  quiet?: boolean;
  json?: boolean;
}

/** The contract's fields (CONTRACT section 1) and how inspect reads them. */
const CONTRACT_FIELDS: readonly [string, FieldKind][] = [
  ['ts', 'timestamp'],
  ['request_id', 'string'],
  ['user_id', 'string'],
  ['prediction', 'label'],
  ['score', 'number'],
  ['label', 'label'],
  ['latency_ms', 'number'],
  ['error', 'flag'],
];
const KINDS: readonly FieldKind[] = ['number', 'flag', 'string', 'timestamp', 'label'];

const HELP = `
Every row is either read or rejected with a reason: malformed, truncated (a last line cut
mid-write), wrong-field-count (CSV), missing-required (model or unit id), unknown-model,
wrong-type, non-finite (NaN/Infinity), duplicate (same request_id and model). A null, absent or
empty optional value is not a rejection: it is counted under "missing".

Formats: JSON Lines (.jsonl, .ndjson; gzip detected by its magic bytes), CSV with a header
(.csv, .csv.gz), Arrow IPC file (.arrow, .feather) and stream (.arrows). Directories are read
recursively (supported files only, in sorted order); - reads JSON Lines from stdin.

--max-bad-rows takes a fraction of the rows seen (0.01, the default), a percentage (1%) or a
number of rows (100); 0 tolerates none. Beyond it, or with no valid row, the exit code is 65.

Examples:
  abtool inspect logs/
  abtool inspect shadow.jsonl.gz --models champion,challenger --json
  abtool inspect export.csv --fields model=variant,ts=timestamp --extra converted:flag,country:string
  zcat day1.jsonl.gz | abtool inspect - --strict`;

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('read prediction logs and account for every row: read, rejected (why and where), missing values per field and model')
    .argument('<logs...>', 'log files, directories (read recursively) or - (stdin, JSON Lines)')
    .option('--fields <map>', "the log's column for a contract field, e.g. model=variant,ts=timestamp")
    .option('--field-map <map>', 'same as --fields')
    .option('--models <names>', 'the models the experiment knows, e.g. champion,challenger (others are rejected as unknown-model); default: every model found')
    .option('--unit <field>', 'the randomization unit: a row without it is rejected', 'user_id')
    .option('--extra <fields>', `more fields to read as name:kind (kind: ${KINDS.join(' | ')}), e.g. converted:flag,country:string`)
    .option('--strict', 'any rejected row is an error (exit 65 naming its file and line)')
    .option('--max-bad-rows <limit>', 'rejected rows tolerated: fraction, percentage or count', '0.01')
    .option('--max-locations <n>', 'locations shown per rejection reason', '5')
    .option('-q, --quiet', 'no progress bar')
    .option('--json', 'print one JSON object')
    .addHelpText('after', HELP)
    .action(async (logs: string[], opts: Opts, cmd: Command) => {
      await runInspect(logs, { ...opts, maxBadRowsGiven: cmd.getOptionValueSource('maxBadRows') !== 'default' });
    });
}

function parseMap(flag: string, raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*(.+?)\s*$/.exec(part);
    if (!m) throw usageError(`${flag} must be contract=column pairs separated by commas, e.g. model=variant (got "${part}")`);
    if (out.has(m[1]!)) throw usageError(`${flag} maps "${m[1]}" twice (to "${out.get(m[1]!)}" and "${m[2]}")`);
    out.set(m[1]!, m[2]!);
  }
  return out;
}

function parseList(flag: string, raw: string): string[] {
  const items = raw.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw usageError(`${flag} must be a comma-separated list of names (got "${raw}")`);
  return items;
}

/** The ReadPlan inspect uses: the contract's fields plus --extra, with --fields mapping the columns. */
export function inspectPlan(opts: { fields?: string; models?: string; unit: string; extra?: string }): ReadPlan {
  const map = opts.fields !== undefined ? parseMap('--fields', opts.fields) : new Map<string, string>();
  const fields: FieldRequest[] = [];
  const want = (name: string, kind: FieldKind, required: boolean): void => {
    const prev = fields.find((f) => f.name === name);
    if (prev) {
      prev.kind = kind;
      prev.required ||= required;
      return;
    }
    const f: FieldRequest = { name, source: map.get(name) ?? name, kind, required };
    if (name === 'error') f.truthyStrings = true;
    fields.push(f);
  };
  want('model', 'string', true);
  for (const [name, kind] of CONTRACT_FIELDS) want(name, kind, false);
  want(opts.unit, 'string', true);
  if (opts.extra !== undefined) {
    for (const item of parseList('--extra', opts.extra)) {
      const [name, kind] = item.split(':');
      if (!name || !kind || !(KINDS as readonly string[]).includes(kind)) {
        throw usageError(`--extra items are name:kind with kind one of ${KINDS.join(', ')} (got "${item}")`);
      }
      want(name, kind as FieldKind, false);
    }
  }
  for (const key of map.keys()) {
    if (!fields.some((f) => f.name === key)) {
      throw usageError(`--fields maps "${key}", which is not a field inspect reads (${fields.map((f) => f.name).join(', ')}); add it with --extra ${key}:kind`);
    }
  }
  const models = opts.models !== undefined ? parseList('--models', opts.models) : [];
  return { fields, modelField: 'model', models, requestField: 'request_id', acceptAnyModel: opts.models === undefined };
}

async function runInspect(logs: string[], opts: Opts): Promise<void> {
  if (opts.fields !== undefined && opts.fieldMap !== undefined) throw usageError('give --fields or --field-map, not both');
  if (opts.unit.trim() === '') throw usageError('--unit needs a field name (the randomization unit, e.g. user_id)');
  const plan = inspectPlan({ ...opts, fields: opts.fields ?? opts.fieldMap });
  const limit: BadRowLimit = parseMaxBadRows('--max-bad-rows', opts.maxBadRows);
  checkStrictLimit(opts.strict === true, opts.maxBadRowsGiven === true, limit);
  const maxLocations = parseCount('--max-locations', opts.maxLocations, 1);
  const { batches, account, models } = readLogs(logs, plan, {
    strict: opts.strict === true,
    maxLocations,
    progress: opts.quiet !== true && process.stderr.isTTY === true,
  });
  const perModel: number[] = [];
  for await (const b of batches) {
    const m = b.model;
    for (let i = 0; i < b.length; i++) perModel[m[i]!] = (perModel[m[i]!] ?? 0) + 1;
  }
  const rowsPerModel: Record<string, number> = {};
  models.forEach((name, k) => (rowsPerModel[name] = perModel[k] ?? 0));
  if (opts.json) {
    process.stdout.write(toJson({ ...inputReport(account), rows_per_model: rowsPerModel }) + '\n');
  } else {
    process.stdout.write(renderAccount(account, rowsPerModel, process.stdout.isTTY === true && !process.env.NO_COLOR));
  }
  checkAccount(account, limit, logs);
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The account as text tables (pure). */
export function renderAccount(account: IngestAccount, rowsPerModel: Record<string, number>, color = false): string {
  const style = { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] };
  const out: string[] = [];
  const files = new Table({ head: ['file', 'format', 'gzip', 'rows', 'size'], style });
  for (const f of account.files) files.push([f.path, f.format, f.gzip ? 'yes' : 'no', f.rowsSeen, f.bytes > 0 ? size(f.bytes) : '-']);
  out.push(files.toString());
  const pct = account.rowsSeen > 0 ? ` (${((100 * account.rowsRejected) / account.rowsSeen).toFixed(2)}%)` : '';
  const blanks = account.blankLines > 0 ? `, ${account.blankLines} blank line${account.blankLines === 1 ? '' : 's'} skipped` : '';
  out.push(`rows: ${account.rowsSeen} seen, ${account.rowsRead} read, ${account.rowsRejected} rejected${pct}${blanks}`);
  const models = Object.entries(rowsPerModel);
  if (models.length > 0) out.push(`read per model: ${models.map(([m, n]) => `${m} ${n}`).join(', ')}`);
  if (account.rowsRejected > 0) {
    const t = new Table({ head: ['rejected', 'rows', 'why, and the first locations'], style, wordWrap: true, colWidths: [19, 8, 100] });
    for (const reason of REJECT_REASONS) {
      const r = account.rejections[reason];
      if (!r || r.count === 0) continue;
      const locs = r.first.map((l) => `${l.file}:${l.line}: ${l.field !== undefined ? `${l.field}: ` : ''}${l.message}`);
      if (r.count > r.first.length) locs.push(`... and ${r.count - r.first.length} more`);
      t.push([reason, r.count, [REJECTION_TEXT[reason], ...locs].join('\n')]);
    }
    out.push(t.toString());
  }
  const unknown = Object.entries(account.unknownModels);
  if (unknown.length > 0) out.push(`unknown models: ${unknown.map(([m, n]) => `${m} (${n} row${n === 1 ? '' : 's'})`).join(', ')}`);
  const missing = Object.entries(account.missing);
  if (missing.length > 0) {
    const names = Object.keys(rowsPerModel);
    const t = new Table({ head: ['missing values', ...names], style });
    for (const [field, byModel] of missing) t.push([field, ...names.map((m) => byModel[m] ?? 0)]);
    out.push(t.toString());
  }
  const skipped = account.skipped ?? [];
  if (skipped.length > 0) out.push(`skipped ${skipped.length} file(s): ${skipped.map((s) => s.path).join(', ')}`);
  for (const n of account.notes ?? []) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}
