/** `abtool analyze <logs...> --spec FILE`: the report and an exit code a CI job gates on. */
import { fstatSync, statSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isatty } from 'node:tty';
import { Option, type Command } from 'commander';
import { collect, type ColumnStore } from '../analysis/aggregate.js';
import type { evaluate as Evaluate, evaluateParallel as EvaluateParallel } from '../analysis/evaluate.js';
import { SegmentWorker } from '../analysis/parallel.js';
import { lockPathFor, readLock } from '../analysis/lock.js';
import { buildReadPlan } from '../analysis/readPlan.js';
import { SpecError, columnOf, type ExperimentSpec } from '../analysis/spec.js';
import { THREADED_MIN_BYTES, checkAccount, checkStrictLimit, parseMaxBadRows, readLogs } from '../ingest/index.js';
import type { Source } from '../ingest/open.js';
import { loadDistributions } from '../core/distributions.js';
import type { Report } from '../report/model.js';
import { parseCount, parseNumber } from './args.js';
import { EXIT_CODES, dataError, usageError } from './exitCode.js';
import { toJson } from './output.js';
import { loadSpecForCli } from './plan.js';
import { stopIfOrphaned } from './relaunch.js';
import { VERSION } from './version.js';

export const FORMATS = ['table', 'json', 'markdown', 'html'] as const;
export type Format = (typeof FORMATS)[number];

type Render = (r: Report, color: boolean) => string;

const RENDERER = {
  table: async (): Promise<Render> => (await import('../report/table.js')).renderTable,
  json: async (): Promise<Render> => (r) => toJson(r) + '\n',
  markdown: async (): Promise<Render> => (await import('../report/markdown.js')).renderMarkdown,
  html: async (): Promise<Render> => (await import('../report/html.js')).renderHtml,
} as const satisfies Record<Format, () => Promise<Render>>;

/**
 * What runs once the logs are read: the analysis, the renderer and the distribution functions. They
 * are loaded while the logs are read (big inputs are parsed on a worker thread, and this thread
 * waits for its batches), so the ~0.15 s their modules take to load is not added to the run.
 */
async function loadAnalysis(format: Format): Promise<{ evaluate: typeof Evaluate; evaluateParallel: typeof EvaluateParallel; render: Render }> {
  const [{ evaluate, evaluateParallel }, render] = await Promise.all([import('../analysis/evaluate.js'), RENDERER[format]()]);
  loadDistributions();
  return { evaluate, evaluateParallel, render };
}

/**
 * A second thread for part of the segments' statistics (parallel.ts), for inputs big enough that it
 * pays for its start (the same threshold as threaded reading) and a spec with segments;
 * ABTOOL_THREADS=0 keeps everything on one thread. It is started once the reading threads are done
 * (LogReadOptions.onParsed), while this thread encodes and stores their last batches, or else once the
 * logs are read. Started with the read, its start (~0.1 s of CPU) competed with the reading threads
 * (1M-row bench, 6 alternated runs each: the JSONL read ended 67 ms later); started when the reading
 * threads are done it uses the core they leave (5 alternated runs each against starting it after the
 * read: Arrow file 2.04 vs 2.10 s, Arrow stream 2.05 vs 2.13 s, JSONL 2.52 vs 2.57 s, CSV 2.23 vs
 * 2.22 s). While it loads its modules this thread groups the rows.
 */
function segmentWorkerFor(spec: ExperimentSpec, totalBytes: number): SegmentWorker | null {
  if (spec.segments.length === 0 || totalBytes < THREADED_MIN_BYTES || process.env.ABTOOL_THREADS === '0') return null;
  return SegmentWorker.start();
}


interface AnalyzeOptions {
  spec?: string;
  format?: string;
  output?: string;
  seed: string;
  resamples: string;
  strict?: boolean;
  maxBadRows: string;
  /** --max-bad-rows was given (not its default) */
  maxBadRowsGiven?: boolean;
  quiet?: boolean;
}

const HELP = `
Reads prediction logs (JSONL/NDJSON, optionally gzip; CSV; Arrow IPC file or stream; directories
recursively; - for JSONL on stdin), tests every metric of the spec per segment and decides.

Exit codes: 0 go, 1 no-go, 2 inconclusive, 3 invalid (trust check failed), 64 usage or spec error,
65 data error (unreadable input, too many bad rows), 66 input not found.

Examples:
  abtool analyze fixtures/examples/ab-win/logs.jsonl --spec fixtures/examples/ab-win/spec.json
  abtool analyze logs/ --spec experiment.yaml --format markdown >> "$GITHUB_STEP_SUMMARY"
  abtool analyze logs/ --spec experiment.yaml --format html --output report.html
  zcat today.jsonl.gz | abtool analyze - --spec experiment.json --format json`;

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('analyze prediction logs against a pre-registered experiment spec: go / no-go / inconclusive / invalid')
    .argument('<logs...>', 'log files, directories or - (stdin, JSONL)')
    .option('--spec <file>', 'the experiment spec (JSON or YAML)')
    .addOption(new Option('--format <format>', 'table | json | markdown | html (default: the --output file\'s extension, .html, .md or .json; else table on a terminal, json otherwise)'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout (- for stdout)')
    .option('--seed <n>', 'seed of the bootstrap resampling (reports are reproducible)', '1')
    .option('--resamples <n>', 'bootstrap resamples for quantile metrics', '10000')
    .option('--strict', 'any rejected row is an error (exit 65 naming its file and line)')
    .option('--max-bad-rows <fraction>', 'rejected rows tolerated: a fraction (0.01), a percentage (1%) or a count (100)', '0.01')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText('after', HELP)
    .action(async (logs: string[], opts: AnalyzeOptions, cmd: Command) => {
      process.exitCode = await runAnalyze(logs, { ...opts, maxBadRowsGiven: cmd.getOptionValueSource('maxBadRows') !== 'default' });
    });
}

/**
 * A field the spec analyses that has no value in any row is a data error (a typo in the spec, or a
 * column the logs do not have), not an inconclusive run that more data would never fix. `error` is
 * exempt: logs may write it only on failure, so a clean run has none.
 */
function checkFieldsPresent(spec: ExperimentSpec, store: ColumnStore): void {
  const uses: [string, string][] = [];
  if (spec.primary) uses.push([spec.primary.field, `primary metric "${spec.primary.name}"`]);
  for (const g of spec.guardrails) uses.push([g.field, `guardrail "${g.name}"`]);
  for (const s of spec.segments) uses.push([s, 'segment']);
  for (const d of spec.drift) uses.push([d.field, 'drift check']);
  if (spec.rollback) uses.push([spec.rollback.field, 'rollback rule']);
  const absent = uses.filter(([field]) => field !== 'error' && !hasValue(store, field));
  if (absent.length === 0) return;
  const list = absent.map(([field, role]) => {
    const column = columnOf(spec, field);
    return `${role} field "${field}"${column !== field ? ` (log column "${column}")` : ''}`;
  });
  throw dataError(`no value in any of the ${store.length} rows read for the ${list.join(', ')}: check the spec's field names and its "fields" mapping`);
}

function hasValue(store: ColumnStore, field: string): boolean {
  const c = store.columns.get(field);
  if (!c) return false;
  if (c.kind === 'number') return c.values.some((v) => !Number.isNaN(v));
  return c.codes.some((k) => k >= 0);
}

/**
 * With ABTOOL_TIMINGS=1: each phase's end, in ms since the process started (since the launching
 * process started, for a child relaunched tuned: ABTOOL_LAUNCHED_AT, relaunch.ts), with this
 * process's CPU time and page faults so far, on stderr (for the benchmark's notes).
 */
function phase(name: string): void {
  if (process.env.ABTOOL_TIMINGS !== '1') return;
  const u = process.resourceUsage();
  const cpu = (u.userCPUTime + u.systemCPUTime) / 1000;
  const launched = Number(process.env.ABTOOL_LAUNCHED_AT);
  const at = launched > 0 ? performance.timeOrigin + performance.now() - launched : performance.now();
  process.stderr.write(`abtool: ${name} done at ${at.toFixed(0)} ms (cpu ${cpu.toFixed(0)} ms, sys ${(u.systemCPUTime / 1000).toFixed(0)} ms, ${u.minorPageFault} page faults)\n`);
}

/**
 * --output naming a file the run reads (a log named, a log its directories hold, links and hard links
 * included, the spec or its lock file) would replace it with the report: a usage error, before
 * anything is read. `files` are the inputs as the read resolved them (readLogs, before its batches
 * are iterated); compared by device and inode, so any path to the same file counts.
 */
function checkOutputIsNoInput(output: string, files: readonly Source[], spec: string): void {
  const out = statSync(output, { throwIfNoEntry: false });
  if (!out || !out.isFile()) return;
  const same = (path: string): boolean => {
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.dev === out.dev && st.ino === out.ino;
  };
  const clash = (what: string): never => {
    throw usageError(`--output ${output} is ${what}: the report would replace it; write it elsewhere`);
  };
  if (same(spec)) clash(`the spec (${spec})`);
  if (same(lockPathFor(spec))) clash(`the spec's lock file (${lockPathFor(spec)})`);
  for (const src of files) if (src.kind === 'file' && same(src.path)) clash(`a log read (${src.path})`);
  // stdin redirected from the same file (`- < log.jsonl -o /dev/stdin`, or the log's own path)
  if (files.some((src) => src.kind === 'stdin')) {
    let st: ReturnType<typeof fstatSync> | null = null;
    try {
      st = fstatSync(0);
    } catch {
      // no stdin to compare
    }
    if (st?.isFile() && st.dev === out.dev && st.ino === out.ino) clash('the file stdin is read from');
  }
}

/** Without --format, an output file's extension says which report it is: .html, .md, .json. */
function formatOfOutput(output: string | undefined): Format | undefined {
  const ext = output === undefined ? '' : extname(output).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  if (ext === '.json') return 'json';
  return undefined;
}

async function runAnalyze(logs: string[], opts: AnalyzeOptions): Promise<number> {
  if (!opts.spec) throw usageError('--spec <file> is required (the pre-registered experiment spec)');
  if (opts.output !== undefined && opts.output.trim() === '') throw usageError('--output needs a file name (got an empty one); leave it out to write the report to stdout');
  // (-o -: stdout, as - is stdin among the logs)
  if (opts.output === '-') opts.output = undefined;
  const format = (opts.format ?? formatOfOutput(opts.output) ?? (process.stdout.isTTY ? 'table' : 'json')) as Format;
  if (!(FORMATS as readonly string[]).includes(format)) throw usageError(`--format must be one of ${FORMATS.join(', ')} (got "${opts.format}")`);
  const seed = parseCount('--seed', opts.seed);
  const resamples = parseNumber('--resamples', opts.resamples, { min: 100, max: 10_000_000, integer: true });
  const maxBadRows = parseMaxBadRows('--max-bad-rows', opts.maxBadRows);
  checkStrictLimit(opts.strict === true, opts.maxBadRowsGiven === true, maxBadRows);
  const spec = loadSpecForCli(opts.spec);
  const { plan, roles, requestColumn } = buildReadPlan(spec);
  const showProgress = !opts.quiet && process.stderr.isTTY === true;
  // the read's progress gives an estimate of its rows, so the column store is sized once (aggregate.ts)
  let seenBytes = 0;
  let seenRows = 0;
  const onProgress = (bytes: number, rows: number): void => {
    seenBytes = bytes;
    seenRows = rows;
  };
  let helper: SegmentWorker | null = null;
  // a threaded read: the segment worker starts once the reading threads are done (see segmentWorkerFor)
  const onParsed = (): void => {
    helper ??= segmentWorkerFor(spec, read.weighedBytes);
  };
  const read = readLogs(logs, plan, { strict: opts.strict === true, progress: showProgress, onProgress, lateDuplicates: !requestColumn, recycle: true, onParsed });
  // (the inputs are resolved, nothing is read yet)
  if (opts.output !== undefined) checkOutputIsNoInput(opts.output, read.files, opts.spec);
  let lock;
  try {
    lock = readLock(opts.spec);
  } catch (e) {
    if (e instanceof SpecError) throw usageError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw usageError(`the lock file ${opts.spec}.lock cannot be read (${code})`);
    throw e;
  }
  const { batches, account, totalBytes } = read;
  const estimate = (): number => (seenBytes > 0 && seenRows > 0 && totalBytes > 0 ? Math.ceil((seenRows * totalBytes) / seenBytes) : 0);
  if (logs.includes('-') && isatty(0)) process.stderr.write('abtool: reading JSON Lines from stdin (end with Ctrl-D)\n');
  let report: Report;
  let render: Render;
  try {
    const reading = collect(batches, estimate, read.duplicates);
    const analysis = loadAnalysis(format);
    // a failed read is the error to report (the loading is not awaited then)
    analysis.catch(() => undefined);
    const store = await reading;
    phase('read');
    stopIfOrphaned();
    const loaded = await analysis;
    render = loaded.render;
    checkAccount(account, maxBadRows, logs);
    checkFieldsPresent(spec, store);
    helper ??= segmentWorkerFor(spec, read.weighedBytes);
    const evaluateOptions = { specFile: opts.spec, lock, seed, resamples, version: VERSION, now: new Date() };
    report = helper
      ? await loaded.evaluateParallel(spec, roles, store, account, evaluateOptions, helper)
      : loaded.evaluate(spec, roles, store, account, evaluateOptions);
    phase('evaluate');
  } finally {
    helper?.close();
  }
  stopIfOrphaned();
  const text = render(report, process.stdout.isTTY === true && !process.env.NO_COLOR && !opts.output);
  if (opts.output) {
    try {
      writeFileSync(opts.output, text);
    } catch (e) {
      throw usageError(`--output ${opts.output}: cannot write the report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  else process.stdout.write(text);
  phase('render');
  return EXIT_CODES[report.decision];
}
