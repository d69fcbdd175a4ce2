/**
 * `abtool watch --spec S [FILE|-]`: the canary rollback rule, live. Follows a growing log file (or
 * reads stdin), prints each window as it closes, and the moment the rule fires prints why, runs the
 * `--on-rollback` command and exits 1.
 *
 * Reading reuses the ingest layer row by row: a BatchBuilder (typing and rejection accounting) fed
 * by the JSON Lines / CSV readers, with the partial batch taken after every chunk so that windows
 * close as soon as their data is there. The windowing itself is src/analysis/watch.ts.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { buildReadPlan } from '../analysis/readPlan.js';
import { parseDuration, type ExperimentSpec, type RollbackRule } from '../analysis/spec.js';
import { RollbackWindower, type WatchEvent } from '../analysis/watch.js';
import { isoTime } from '../analysis/rollback.js';
import { formatLocation, summarizeRejections } from '../ingest/index.js';
import { newAccount, REJECT_REASONS } from '../ingest/account.js';
import { BatchBuilder, type FileFormat } from '../ingest/builder.js';
import { CsvReader } from '../ingest/csv.js';
import { JsonlReader } from '../ingest/jsonl.js';
import { cannotRead, formatFromName, headBytes, isGzip, openBytes, readErrorText, sniffFormat, STDIN_NAME } from '../ingest/open.js';
import type { Batch, IngestAccount, ReadPlan } from '../ingest/types.js';
import type { RollbackWindow } from '../report/model.js';
import { parseCount } from './args.js';
import { CliError, dataError, EXIT_CODES, notFoundError, usageError } from './exitCode.js';
import { toJson } from './output.js';
import { loadSpecForCli } from './plan.js';

interface WatchOptions {
  spec?: string;
  onRollback?: string;
  fromEnd?: boolean;
  pollMs: string;
  lateness?: string;
  json?: boolean;
  quiet?: boolean;
}

const HELP = `
FILE is followed like tail -f: what it holds is read from the start (so a streak already under
way counts; --from-end skips it), then new lines are read as they are appended, every --poll-ms.
A last line without its newline waits for it. If FILE shrinks (truncated) it is read again from
the start; if FILE is replaced (rotated) the new file is read from the start; both are said on
stderr. With - or no FILE, JSON Lines are read from stdin (gzip too) until it ends.

Windows are those of \`abtool analyze\`: the spec's rollback.window, aligned to the epoch. As logs
arrive a little out of order, a window closes when a record at least --lateness (default: one
window) past its end arrives, or at the end of stdin. A record for an already closed window is
late: counted, reported, not used. Each closed window is printed (one line; with --json one JSON
object per line with the fields of analyze's rollback.windows). Rows that cannot be used are
counted and summed up on stderr, never fatal. Unlike analyze, watch keeps no per-request or
per-user state (its memory stays bounded), so duplicate records and units seen under both
models are not excluded.

When the rule fires, watch prints why, runs --on-rollback through the shell (stdin closed, its
output passed through (to stderr with --json); environment: ABTOOL_TRIGGERED_AT = the end of the
firing window as ISO-8601, ABTOOL_REASON, ABTOOL_SPEC = the spec's path), reports the command's
exit status on stderr and exits 1.

Exit codes: 1 the rule fired; 0 stdin ended (or SIGINT/SIGTERM) without firing; 64 bad flag, bad
spec or a spec without a rollback rule; 65 unreadable input, or input without a single valid row;
66 FILE not found.

Examples:
  abtool watch --spec canary.json /var/log/model/predictions.jsonl \\
      --on-rollback 'kubectl patch virtualservice ranker --type merge -p "$(cat weight-0.json)"'
  kubectl logs -f deploy/ranker | abtool watch --spec canary.json --json > windows.jsonl
  zcat fixtures/examples/canary-slow/logs.jsonl.gz | abtool watch --spec fixtures/examples/canary-slow/spec.json -`;

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description("follow a growing log (or stdin) and apply the spec's canary rollback rule live: exit 1 the moment it fires")
    .argument('[file]', 'the log to follow (JSON Lines or CSV), or - for JSON Lines on stdin (the default)')
    .option('--spec <file>', 'the experiment spec with a rollback rule (JSON or YAML)')
    .option('--on-rollback <cmd>', 'shell command to run when the rule fires (e.g. set the challenger weight to 0)')
    .option('--from-end', 'FILE: skip what it already holds, judge only lines appended from now on')
    .option('--poll-ms <n>', 'FILE: how often to look for appended lines, in milliseconds', '250')
    .option('--lateness <duration>', 'how long after its end a window waits for late records, e.g. 30s, 2m, 0 (default: one window)')
    .option('--json', 'one JSON object per closed window on stdout')
    .option('-q, --quiet', 'print only the firing, the command status and errors (no windows, notices or summary)')
    .addHelpText('after', HELP)
    .action(async (file: string | undefined, opts: WatchOptions) => {
      process.exitCode = await runWatch(file ?? '-', opts);
    });
}

/** Thrown through the readers to stop reading (the rule fired, a signal, stdout closed). */
class Stop extends Error {
  constructor() {
    super('stop');
  }
}

interface Session {
  rule: RollbackRule;
  opts: WatchOptions;
  account: IngestAccount;
  builder: BatchBuilder;
  windower: RollbackWindower;
  /** stderr notices (silent with --quiet) */
  note: (message: string) => void;
  /** why reading stopped early, if it did */
  stopped: null | 'fired' | 'signal' | 'stdout-closed';
  signalName: string;
  /** wakes a polling follower up when reading must stop */
  abort: AbortController;
  /** closes a stream being read (stdin, a FIFO) when reading must stop */
  closeInput: (() => void) | null;
  /** trouble already announced on stderr */
  announced: { reasons: Set<string>; late: boolean };
}

async function runWatch(input: string, opts: WatchOptions): Promise<number> {
  if (!opts.spec) throw usageError('--spec <file> is required (the experiment spec with the rollback rule)');
  const pollMs = parseCount('--poll-ms', opts.pollMs, 1);
  const spec = loadSpecForCli(opts.spec);
  const rule: RollbackRule | undefined = spec.rollback;
  if (rule === undefined) {
    throw usageError(
      `spec ${opts.spec} has no rollback rule: abtool watch needs one, e.g. "rollback": {"field": "latency_ms", "quantile": 0.99, "max_ratio": 1.2, "window": "1m", "consecutive": 5}`,
    );
  }
  const theRule: RollbackRule = rule;
  let latenessMs = rule.windowMs;
  if (opts.lateness !== undefined) {
    const l = /^\s*0+(\.0*)?\s*(ms|s|m|h)?\s*$/.test(opts.lateness) ? 0 : parseDuration(opts.lateness);
    if (l === undefined) throw usageError(`--lateness must be a duration such as 500ms, 30s, 2m, 1h or 0 (got "${opts.lateness}")`);
    latenessMs = l;
  }
  const source = input === '-' ? null : openFollowed(input, opts);

  const account = newAccount();
  // small batches: the partial batch is taken after every chunk, and each take allocates a new one
  const builder = new BatchBuilder(watchPlan(spec), account, { batchSize: 4096 });
  const quiet = opts.quiet === true;
  const json = opts.json === true;
  const note = (s: string): void => {
    if (!quiet) process.stderr.write(`abtool watch: ${s}\n`);
  };
  const names = { control: spec.control, treatment: spec.treatment };
  const q = quantileName(rule.quantile);
  const s: Session = {
    rule,
    opts,
    account,
    builder,
    windower: new RollbackWindower(rule, (e) => onEvent(e), { latenessMs }),
    note,
    stopped: null,
    signalName: '',
    abort: new AbortController(),
    closeInput: null,
    announced: { reasons: new Set(), late: false },
  };
  function onEvent(e: WatchEvent): void {
    if (s.stopped === 'stdout-closed') return;
    if (e.kind === 'gap') {
      const text = `no records from ${iso(e.start)} to ${iso(e.end)}: ${e.windows} empty windows not judged one by one`;
      if (json) note(text);
      else if (!quiet) process.stdout.write(`${text}\n`);
      return;
    }
    if (!quiet) process.stdout.write(json ? `${toJson(e.window)}\n` : `${windowLine(e.window, theRule, q, names)}\n`);
    if (e.fired) {
      s.stopped = 'fired';
      const reason = s.windower.judge.report().reason;
      if (json) process.stderr.write(`abtool watch: ${reason}\n`);
      else process.stdout.write(`ROLLBACK: ${reason}\n`);
    }
  }

  // stdout closed by its reader (`abtool watch ... | head`): stop watching, quietly
  process.stdout.on('error', () => {
    s.stopped ??= 'stdout-closed';
    s.abort.abort();
    s.closeInput?.();
  });
  const onSignal = (sig: NodeJS.Signals): void => {
    if (s.stopped === null) {
      s.stopped = 'signal';
      s.signalName = sig;
    }
    s.abort.abort();
    s.closeInput?.();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  note(
    `${source === null ? 'reading stdin' : `following ${input}`}: rollback when the ${names.treatment}'s ${q} ${rule.field} is above ${rule.maxRatio}x the ${names.control}'s ` +
      `in ${rule.consecutive} consecutive ${rule.window} windows (at least ${rule.minCount} records per model; lateness ${durationText(latenessMs)})`,
  );

  try {
    if (source === null) await readStream(s, STDIN_NAME);
    else if (source.regular) await follow(s, source, pollMs);
    else await readStream(s, source.path);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (s.stopped === null) {
    // end of input: the last partial batch, then every window still open
    for (const b of builder.finish()) feed(s, b);
    s.windower.flush();
    announce(s);
  }

  const report = s.windower.judge.report();
  let code: number = EXIT_CODES.go;
  if (s.windower.triggered) {
    code = EXIT_CODES['no-go'];
    if (opts.onRollback !== undefined) await runHook(opts.onRollback, report.triggered_at!, report.reason, resolve(opts.spec), json);
  }
  note(summary(s, input));
  if (!s.windower.triggered && s.stopped === null && account.rowsRead === 0) {
    throw dataError(account.rowsSeen === 0 ? `no records in ${input === '-' ? STDIN_NAME : input}` : `no valid rows: all ${account.rowsSeen} rows rejected (${summarizeRejections(account)})`);
  }
  if (s.stopped === 'signal') note(`stopped by ${s.signalName}; the windows still open were not judged`);
  if (s.stopped !== 'fired') note(report.reason);
  return code;
}

/**
 * The fields watch reads: the model, the timestamp, the rule's field, and every other number, flag
 * or timestamp field of the analysis plan (so a row analyze rejects for a wrong-typed metric is
 * rejected here too). Text fields (unit, request id, segments) are left out: their dictionaries
 * and the duplicate check would grow with every new id, and watch runs for days.
 */
function watchPlan(spec: ExperimentSpec): ReadPlan {
  const { plan } = buildReadPlan(spec);
  const rule = spec.rollback!;
  if (rule.field === plan.modelField || rule.field === 'ts') {
    throw usageError(`rollback.field must be a numeric field such as latency_ms, not "${rule.field}"`);
  }
  return {
    // the windows need a time: here (unlike analyze, where it is only a missing value) a row without ts is rejected
    fields: plan.fields
      .filter((f) => f.name === plan.modelField || f.kind === 'number' || f.kind === 'flag' || f.kind === 'timestamp')
      .map((f) => (f.kind === 'timestamp' ? { ...f, required: true } : f)),
    modelField: plan.modelField,
    models: plan.models,
    requestField: null,
  };
}

/** Feed one batch's rows to the windower, in order; stops at the firing. */
function feed(s: Session, b: Batch): void {
  if (s.windower.triggered || s.stopped !== null) return;
  const tsCol = b.columns.get('ts');
  const vCol = b.columns.get(s.rule.field);
  if (tsCol?.kind !== 'number' || vCol?.kind !== 'number') throw new Error('internal: watch read plan lacks ts or the rule field');
  const ts = tsCol.values;
  const v = vCol.values;
  const model = b.model;
  const w = s.windower;
  for (let i = 0; i < b.length; i++) {
    if (Number.isNaN(ts[i]!)) continue;
    if (w.add(ts[i]!, model[i]!, v[i]!)) return;
  }
}

/** After each chunk: the rows of the partial batch, then notices of new kinds of trouble. */
function afterChunk(s: Session): void {
  for (const b of s.builder.finish()) feed(s, b);
  announce(s);
}

function announce(s: Session): void {
  const { account: a, note } = s;
  if (a.rowsRejected > 0) {
    for (const reason of REJECT_REASONS) {
      const r = a.rejections[reason];
      if (!r || r.count === 0 || s.announced.reasons.has(reason)) continue;
      s.announced.reasons.add(reason);
      const first = r.first[0];
      note(`rejected a row (${reason}, first of its kind; counted, watching on)${first ? `: ${formatLocation(first)}` : ''}`);
    }
  }
  const late = s.windower.late;
  if (late.count > 0 && !s.announced.late) {
    s.announced.late = true;
    const f = late.first[0]!;
    note(`late record at ${iso(f.ts)}: its window had already closed (judged through ${iso(f.closedThrough)}); late records are counted, not used`);
  }
}

/** Read stdin (path STDIN_NAME) or a FIFO to its end: JSON Lines, gzip or not (a FIFO named .csv is CSV). */
async function readStream(s: Session, path: string): Promise<void> {
  const stdin = path === STDIN_NAME;
  const bytes = await openBytes(stdin ? { kind: 'stdin', path, size: 0, isFile: false } : { kind: 'file', path, size: 0, seekable: false });
  s.closeInput = () => {
    bytes.close();
    if (stdin) process.stdin.destroy();
  };
  const format: FileFormat = stdin ? 'jsonl' : formatFromName(path)?.format === 'csv' ? 'csv' : 'jsonl';
  s.builder.beginFile(path, format, bytes.gzip, 0);
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const c of bytes.chunks) {
      if (s.stopped !== null) throw new Stop();
      yield c;
    }
  }
  try {
    for await (const b of readerFor(format, s.builder, path)(chunks(), () => afterChunk(s))) {
      feed(s, b);
      if (s.stopped !== null) throw new Stop();
    }
  } catch (e) {
    if (e instanceof Stop || e instanceof CliError) throw e;
    if (s.stopped !== null) throw new Stop();
    throw dataError(readErrorText(path, e));
  } finally {
    // stdin must be let go, or a pipe whose writer stays open would keep the process alive
    s.closeInput();
    s.closeInput = null;
  }
}

function readerFor(format: FileFormat, builder: BatchBuilder, path: string): (chunks: AsyncIterable<Buffer>, onChunk: () => void) => AsyncGenerator<Batch> {
  if (format === 'csv') {
    const csv = new CsvReader(builder);
    return (chunks, onChunk) => csv.read(chunks, path, onChunk);
  }
  const jsonl = new JsonlReader(builder);
  return (chunks, onChunk) => jsonl.read(chunks, onChunk);
}

// ---- following a file ----

interface Followed {
  path: string;
  /** a regular file (followed by polling) or something to read to its end (a FIFO, a device) */
  regular: boolean;
  format: FileFormat;
}

function openFollowed(path: string, opts: WatchOptions): Followed {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw notFoundError(`${path}: no such file`);
    throw dataError(cannotRead(path, e));
  }
  if (st.isDirectory()) throw usageError(`${path} is a directory: abtool watch follows one log file (or - for stdin)`);
  const byName = formatFromName(path);
  if (byName && (byName.format === 'arrow-file' || byName.format === 'arrow-stream')) {
    throw usageError(`${path}: abtool watch follows JSON Lines or CSV logs, not Arrow (use abtool analyze for a finished Arrow file)`);
  }
  if (!st.isFile()) return { path, regular: false, format: byName?.format ?? 'jsonl' };
  let head: Buffer;
  try {
    head = headBytes(path, 8);
  } catch (e) {
    throw dataError(cannotRead(path, e));
  }
  if (isGzip(head) || byName?.gzip) {
    throw usageError(`${path} is gzip-compressed: a followed log must be plain text; to check a finished log, pipe it: zcat ${path} | abtool watch --spec ${opts.spec} -`);
  }
  const format = head.length > 0 ? sniffFormat(head, byName?.format ?? null) : (byName?.format ?? 'jsonl');
  if (format !== 'jsonl' && format !== 'csv') throw usageError(`${path}: abtool watch follows JSON Lines or CSV logs, not Arrow`);
  if (format === 'csv' && opts.fromEnd) throw usageError('--from-end works with JSON Lines only (a CSV log must be read from its header)');
  return { path, regular: true, format };
}

const READ_SIZE = 1 << 20;

/** Follow a regular file: read it, then poll for appended bytes; start over on truncation or rotation. */
async function follow(s: Session, src: Followed, pollMs: number): Promise<void> {
  const { path } = src;
  const { note } = s;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFoundError(`${path}: no such file`);
    throw dataError(cannotRead(path, e));
  }
  const buf = Buffer.allocUnsafe(READ_SIZE);
  let pos = 0;
  /** --from-end started mid-line: drop bytes up to the first newline */
  let skipToNewline = false;
  if (s.opts.fromEnd) {
    const size = fstatSync(fd).size;
    pos = size;
    if (size > 0 && readSync(fd, buf, 0, 1, size - 1) === 1 && buf[0] !== 0x0a) skipToNewline = true;
    note(`--from-end: skipping the ${size} bytes ${path} already holds${skipToNewline ? ' (and the rest of the line being written)' : ''}`);
  }
  let restart = false;

  /** The file's bytes from `pos` on, polling at its end, until it is truncated or replaced. */
  async function* generation(): AsyncGenerator<Buffer> {
    for (;;) {
      if (s.stopped !== null) throw new Stop();
      let n: number;
      try {
        n = readSync(fd, buf, 0, READ_SIZE, pos);
      } catch (e) {
        throw dataError(cannotRead(path, e));
      }
      if (n > 0) {
        pos += n;
        let start = 0;
        if (skipToNewline) {
          const nl = buf.indexOf(10);
          if (nl === -1 || nl >= n) continue;
          skipToNewline = false;
          start = nl + 1;
          if (start === n) continue;
        }
        yield Buffer.from(buf.subarray(start, n));
        continue;
      }
      const st = fstatSync(fd);
      if (st.size < pos) {
        note(`${path} shrank from ${pos} to ${st.size} bytes (truncated): reading it again from the start`);
        pos = 0;
        skipToNewline = false;
        restart = true;
        return;
      }
      let now: Stats | null = null;
      try {
        now = statSync(path);
      } catch {
        // moved away and not yet re-created: keep reading the old file
      }
      if (now !== null && (now.ino !== st.ino || now.dev !== st.dev)) {
        let next: number;
        try {
          next = openSync(path, 'r');
        } catch {
          next = -1;
        }
        if (next >= 0) {
          note(`${path} was replaced (rotated): reading the new file from the start`);
          closeSync(fd);
          fd = next;
          pos = 0;
          skipToNewline = false;
          restart = true;
          return;
        }
      }
      try {
        await sleep(pollMs, undefined, { signal: s.abort.signal });
      } catch {
        throw new Stop();
      }
    }
  }

  try {
    do {
      restart = false;
      s.builder.beginFile(path, src.format, false, fstatSync(fd).size);
      const read = readerFor(src.format, s.builder, path);
      for await (const b of read(generation(), () => afterChunk(s))) {
        feed(s, b);
        if (s.stopped !== null) throw new Stop();
      }
      // a generation ends on truncation or rotation: what the readers held is out now
      afterChunk(s);
      if (s.stopped !== null) throw new Stop();
    } while (restart);
  } finally {
    closeSync(fd);
  }
}

// ---- the rollback command ----

async function runHook(cmd: string, triggeredAt: string, reason: string, specPath: string, json: boolean): Promise<void> {
  const status = await new Promise<string>((done) => {
    const child = spawn(cmd, {
      shell: true,
      stdio: ['ignore', json ? 2 : 1, 2],
      env: { ...process.env, ABTOOL_TRIGGERED_AT: triggeredAt, ABTOOL_REASON: reason, ABTOOL_SPEC: specPath },
    });
    child.on('error', (e) => done(`could not be started (${e.message})`));
    child.on('close', (code, signal) => done(signal ? `was killed by ${signal}` : `exited with status ${code}`));
  });
  process.stderr.write(`abtool watch: --on-rollback command ${status}\n`);
}

// ---- text ----

function windowLine(w: RollbackWindow, rule: RollbackRule, q: string, names: { control: string; treatment: string }): string {
  const when = `${w.start} +${rule.window}`;
  const counts = `n ${w.n_treatment} ${names.treatment} / ${w.n_control} ${names.control}`;
  if (w.status === 'insufficient') {
    const why =
      w.n_control < rule.minCount || w.n_treatment < rule.minCount
        ? `too few records to judge (fewer than ${rule.minCount} per model)`
        : `the ${names.control}'s ${q} is ${num(w.control_quantile)}: no ratio`;
    return `${when}  insufficient  ${why}; ${counts}${w.streak > 0 ? `; streak stays ${w.streak}/${rule.consecutive}` : ''}`;
  }
  const cmp = w.status === 'breach' ? '>' : '<=';
  const streak = w.status === 'breach' ? `  streak ${w.streak}/${rule.consecutive}` : '';
  return (
    `${when}  ${w.status.padEnd(12)}  ${q} ${rule.field} ${names.treatment} ${num(w.treatment_quantile)} / ${names.control} ${num(w.control_quantile)} ` +
    `= ${num(w.ratio)} ${cmp} ${rule.maxRatio}  (n ${w.n_treatment} / ${w.n_control})${streak}`
  );
}

function summary(s: Session, input: string): string {
  const ws = s.windower.judge.windows;
  const by = { healthy: 0, breach: 0, insufficient: 0 };
  for (const w of ws) by[w.status]++;
  const a = s.account;
  const w = s.windower;
  const parts = [
    `${ws.length} window(s) closed (${by.healthy} healthy, ${by.breach} breach, ${by.insufficient} insufficient)` +
      (w.skippedWindows > 0 ? `, ${w.skippedWindows} empty window(s) skipped in gaps` : ''),
    `${a.rowsSeen} row(s) from ${input === '-' ? STDIN_NAME : input}: ${a.rowsRead} read, ${a.rowsRejected} rejected${a.rowsRejected > 0 ? ` (${summarizeRejections(a)})` : ''}`,
  ];
  if (w.withoutValue > 0) parts.push(`${w.withoutValue} without ${s.rule.field}`);
  if (w.late.count > 0) parts.push(`${w.late.count} late (first at ${iso(w.late.first[0]!.ts)})`);
  return parts.join('; ');
}

function quantileName(q: number): string {
  return `p${Number((q * 100).toPrecision(6))}`;
}

function num(v: number | null): string {
  return v === null ? 'n/a' : String(Number(v.toPrecision(4)));
}

function iso(ms: number): string {
  return isoTime(ms);
}

function durationText(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
