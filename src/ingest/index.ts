/**
 * The ingest layer's entry point: `readLogs(inputs, plan, options)` turns files, directories and
 * stdin into columnar Batches plus an IngestAccount of every row seen.
 *
 *   const { batches, account } = readLogs(['logs/'], plan, { strict: false });
 *   for await (const batch of batches) aggregate(batch);   // the account is complete after the loop
 *   checkAccount(account, parseMaxBadRows('--max-bad-rows', '0.01'));
 *
 * Paths are resolved at once (a missing path throws a not-found CliError, exit 66); reading starts
 * when the batches are iterated. Errors while reading (strict mode, corrupt gzip, truncated Arrow,
 * unreadable file) are CliErrors thrown from the iteration (exit 65).
 */
import { tuneCompilation } from '../cli/compileTuning.js';
import { CliError, dataError } from '../cli/exitCode.js';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { bump, canonicalOrder, checkAccount, newAccount, parseMaxBadRows, REJECT_REASONS, type BadRowLimit } from './account.js';
import type { ArrowReader } from './arrow.js';
import { dropReaders, firstPartHere, SPLIT_MIN_BYTES, splitMinFromEnv, takeReader, THREADED_MIN_BYTES, weighedSize, WORKER_URL } from './prestart.js';
import { BatchBuilder, resolveFields, type FileFormat, type RawBatch, type RecycledBatch } from './builder.js';
import { countMissing, Encoder } from './encode.js';
import type { WorkerInput } from './worker.js';
import { PartBefore, PartStopped, partError, readPart, type PartRange, type WorkerError } from './part.js';
import type { CsvReader } from './csv.js';
import { JsonlReader } from './jsonl.js';
import {
  CHUNK_BYTES,
  formatFromName,
  headBytes,
  isGzip,
  csvSplitPoint,
  cannotRead,
  readErrorText,
  openBytes,
  peek,
  resolveInputs,
  sniffFormat,
  splitPoint,
  gzipInflatedSize,
  type Source,
} from './open.js';
import { ProgressBar } from './progress.js';
import type { Batch, IngestAccount, ReadOptions, ReadPlan } from './types.js';

export { checkAccount, checkStrictLimit, inputReport, parseMaxBadRows, summarizeRejections, formatLocation, DEFAULT_MAX_BAD_ROWS, type BadRowLimit } from './account.js';
export { progressLine, ProgressBar } from './progress.js';

export interface LogReadOptions extends ReadOptions {
  /** draw a progress bar on stderr; the caller decides (stderr is a terminal, no --quiet) */
  progress?: boolean;
  /**
   * parse on a worker thread while this one encodes (files, and stdin redirected from a file; not a
   * pipe). Default: for inputs of THREADED_MIN_BYTES or more, unless the environment sets ABTOOL_THREADS=0
   */
  threads?: boolean;
  /**
   * with threads: a single JSONL file (plain, or gzipped: its inflated size) or CSV file of at least
   * this many bytes (not --strict) is cut in two at the end of a line or record and the two parts are
   * parsed at once (readThreaded, splitParts); so are several JSONL files, between two files, when their
   * bytes (weighed: prestart.ts weighedSize) reach it (fileParts). Default: the environment's
   * ABTOOL_SPLIT_MIN_BYTES, else SPLIT_MIN_BYTES for JSONL and CSV_SPLIT_MIN_BYTES (never) for CSV;
   * Infinity: never
   */
  splitMinBytes?: number;
  /**
   * the caller does not need the request field's column, only the duplicates dropped: a threaded,
   * non-strict read then finds them once it is done (a sort of per-row hashes, see LateDuplicates in
   * encode.ts) instead of keeping a dictionary of every request id. Its batches then hold the
   * duplicates and no request column; LogRead.duplicates() lists the rows to drop once the iteration ends
   */
  lateDuplicates?: boolean;
  /**
   * the caller is done with a batch's arrays when it asks for the next one (it copies what it keeps):
   * a threaded read then hands them back to the reading thread, which writes its next batches in
   * them instead of in new memory
   */
  recycle?: boolean;
  /**
   * a threaded read: called once every reading thread has parsed its input (its last batches may still
   * wait here to be encoded): a core is free from then on
   */
  onParsed?: () => void;
}

export interface LogRead {
  /** iterate once; rows are in input order (files in the order given, directories sorted) */
  batches: AsyncIterable<Batch>;
  /** filled while the batches are read; complete when the iteration ends */
  account: IngestAccount;
  /** the plan's models (with `acceptAnyModel`: every model found, in order of appearance) */
  models: string[];
  /** the input files, in reading order, and their total size (stdin counts its size when redirected from a file, else 0) */
  files: Source[];
  totalBytes: number;
  /** the same, a gzipped file weighing more than its bytes (prestart.ts weighedSize): what decides a threaded read */
  weighedBytes: number;
  /**
   * once the iteration has ended: the rows (0-based over every row of every batch) that are
   * duplicates still in the batches (see LogReadOptions.lateDuplicates), ascending; null: none
   */
  duplicates(): Int32Array | null;
}

export function readLogs(inputs: readonly string[], plan: ReadPlan, options: LogReadOptions = {}): LogRead {
  const { sources, skipped } = resolveInputs(inputs, { strict: options.strict });
  const account = newAccount(options.maxLocations);
  account.skipped = skipped;
  const totalBytes = sources.reduce((s, src) => s + src.size, 0);
  // (a gzipped file weighs more than its bytes: prestart.ts GZIP_WEIGHT)
  const weighed = sources.reduce((s, src) => s + (src.kind === 'file' ? weighedSize(src.path, src.size) : src.size), 0);
  const threaded = options.threads ?? (weighed >= THREADED_MIN_BYTES && process.env.ABTOOL_THREADS !== '0');
  // stdin from a pipe or a terminal is read in this thread (through process.stdin): a pipe gains
  // nothing from a worker, as it holds 64 KiB the reading thread waits on the writer (1M rows piped by
  // cat, 5 alternated runs each: 2.21 s on a worker against 2.09 s here); redirected from a file, a
  // worker reads it from fd 0 (openBytes)
  const useWorker = threaded && sources.every((s) => s.kind === 'file' || s.isFile) && existsSync(WORKER_FILE);

  let duplicates: Int32Array | null = null;
  async function* run(): AsyncGenerator<Batch> {
    const bar = options.progress === true ? new ProgressBar(totalBytes, (s) => void process.stderr.write(s)) : null;
    const report = (bytes: number, rows: number): void => {
      options.onProgress?.(bytes, rows);
      bar?.update(bytes, rows);
    };
    try {
      if (useWorker) {
        duplicates = yield* readThreaded(sources, splitParts(sources, plan, options) ?? fileParts(sources, plan, options) ?? [undefined], plan, account, options, report);
      } else {
        // a reading thread started ahead is not needed (prestart.ts)
        void dropReaders();
        const builder = new BatchBuilder(plan, account, options);
        yield* readSources(sources, builder, (bytes) => report(bytes, account.rowsSeen));
      }
    } finally {
      bar?.done();
    }
  }

  return { batches: run(), account, models: plan.models, files: sources, totalBytes, weighedBytes: weighed, duplicates: () => duplicates };
}

/** Inputs at least this big are read by a worker thread while this thread encodes (see readThreaded). */
export { THREADED_MIN_BYTES };

/** JSON Lines input at least this big, one file or several, is parsed in two parts at once (see splitParts, fileParts and readThreaded). */
export { SPLIT_MIN_BYTES };

/**
 * A single CSV file is split only when asked (splitMinBytes, ABTOOL_SPLIT_MIN_BYTES). A read on one
 * worker is bound by this thread's encoding, not by CSV parsing (the fast path splits plain lines
 * cheaply): on the 1M-row bench log (95 MB, 2 cores) a split read was slower, median 1730 ms against
 * 1460 ms on one worker (9 runs each, alternated; cut at 0.25, 0.375 or 0.5 alike), and took ~50 MB
 * more memory (the second part's batches wait here) — a third thread only takes time from this one.
 */
export const CSV_SPLIT_MIN_BYTES = Infinity;

/**
 * Where a split read on two workers cuts the file (CSV when asked; JSON Lines with
 * ABTOOL_FIRST_PART_HERE=0, see HERE_SPLIT_AT otherwise), as a fraction of its size. Not the middle: this thread encodes the
 * second part only once the first is done, so the first part is made the smaller. Encoding a row costs
 * about half of parsing it, and the read ends soonest when this thread, done with the first part, works
 * through the second part's batches while that part's worker still parses: a first part of about a
 * third. On the 1M-row bench log (2 cores), cutting at 0.34-0.38 read fastest; at 0.5 the gain over one
 * worker was a quarter as large (with the second part both workers end together, then this thread
 * encodes its batches alone).
 */
export const SPLIT_AT = 0.375;

/**
 * Where a split JSON Lines read cuts the file when this thread parses the first part itself
 * (firstPartHere): it also encodes every batch, the second part's as they come, so its part is the
 * smaller. With the WebAssembly extractor (jsonlWasm.ts) parsing costs less than encoding, and the
 * best cut moved down: on the 1M-row bench log (2 cores, alternated runs, medians), 0.15 / 0.20 /
 * 0.25 / 0.40 gave 0.87 / 0.85 / 0.86 / 0.89 s (9 runs each); 0.25 against 0.40, 7 runs each: the
 * plain file 0.86 vs 0.89 s, gzipped 0.99 vs 1.00 s, 8 gzipped files 0.95 vs 0.99 s. (Before the
 * extractor, 0.25 / 0.30 / 0.35 / 0.40 / 0.45 gave 1.66 / 1.59 / 1.51 / 1.48 / 1.49 s.)
 */
export const HERE_SPLIT_AT = 0.25;

/** The fraction of a JSON Lines file's size (a gzipped one's inflated size) at which a split read cuts it. */
export function jsonlSplitAt(): number {
  return firstPartHere() ? HERE_SPLIT_AT : SPLIT_AT;
}

/**
 * The two parts of the input for a split read (see readThreaded), or null for a read on one worker:
 * the input must be one regular file of at least `splitMinBytes` (by default SPLIT_MIN_BYTES for
 * JSONL; CSV only when asked: CSV_SPLIT_MIN_BYTES), read as plain JSONL or CSV (by its
 * name, or by its content as readSource sniffs it; not Arrow) or gzipped JSONL (gzipParts: named
 * .jsonl or .ndjson, at least that size inflated), not --strict (the first bad
 * row in input order is the one reported), not a plan that accepts any model (model codes are given in
 * order of appearance, up to a limit), and it must have a line end past the cut point (SPLIT_AT) but
 * its last byte: for JSONL any newline (splitPoint), for CSV one that ends a record, with the header
 * and what else the second part's reader needs (csvSplitPoint, which declines anything odd).
 */
export function splitParts(sources: Source[], plan: ReadPlan, options: LogReadOptions): PartRange[] | null {
  const asked = askedSplitMin(options);
  const min = { jsonl: asked ?? SPLIT_MIN_BYTES, csv: asked ?? CSV_SPLIT_MIN_BYTES };
  if (sources.length !== 1 || options.strict === true || plan.acceptAnyModel === true) return null;
  const src = sources[0]!;
  if (src.kind !== 'file' || !src.seekable) return null;
  const byName = formatFromName(src.path)?.format ?? null;
  if (byName !== null && byName !== 'jsonl' && byName !== 'csv') return null;
  try {
    // as readSource decides: magic bytes first; without a known extension, the first chunk's first character
    const head = headBytes(src.path, byName === null ? CHUNK_BYTES : 8);
    if (isGzip(head)) return gzipParts(src, byName, min.jsonl);
    if (src.size < Math.min(min.jsonl, min.csv)) return null;
    const format = sniffFormat(head, byName);
    if ((format === 'jsonl' || format === 'csv') && src.size < min[format]) return null;
    if (format === 'jsonl') {
      const cut = splitPoint(src.path, src.size, jsonlSplitAt());
      return cut === null ? null : [{ start: 0, end: cut, format }, { start: cut, end: null, format }];
    }
    if (format !== 'csv') return null;
    const found = csvSplitPoint(src.path, src.size, SPLIT_AT);
    if (found === null) return null;
    const { cut, ...csv } = found;
    return [{ start: 0, end: cut, format }, { start: cut, end: null, format, csv }];
  } catch {
    return null; // the read on one worker reports it
  }
}

/** The split size asked for: LogReadOptions.splitMinBytes, else ABTOOL_SPLIT_MIN_BYTES; undefined when neither says. */
function askedSplitMin(options: LogReadOptions): number | undefined {
  return options.splitMinBytes ?? splitMinFromEnv();
}

/** A split read's part of whole files: sources [from, to) (see fileParts). */
export interface FileSpan {
  files: [number, number];
}

/** A part of a threaded read: a range of one file (PartRange), whole files (FileSpan), or (undefined) every source. */
type ReadPart = PartRange | FileSpan | undefined;

const isFileSpan = (part: ReadPart): part is FileSpan => part !== undefined && 'files' in part;

/**
 * Several JSON Lines files (plain or gzipped, by their names; a directory of rotated logs, say) read
 * in two parts of whole files, as one big file is in two ranges (splitParts): this thread parses the
 * first files (about HERE_SPLIT_AT of their bytes as weighedSize weighs them, a gzipped byte as GZIP_WEIGHT) while a
 * worker parses the rest, its batches waiting here until the first part is done. Each file numbers
 * its own lines, so nothing is renumbered. Null (one worker reads every file) unless: two files or
 * more, every one a regular file named .jsonl or .ndjson (optionally .gz), the weight reaching the
 * split size (splitMinBytes, else ABTOOL_SPLIT_MIN_BYTES, else SPLIT_MIN_BYTES), not --strict, not a
 * plan that accepts any model, the first part parsed here (firstPartHere), and a cut between files
 * that leaves this thread between a fifth and three fifths of the weight.
 */
export function fileParts(sources: Source[], plan: ReadPlan, options: LogReadOptions): [FileSpan, FileSpan] | null {
  if (sources.length < 2 || options.strict === true || plan.acceptAnyModel === true || !firstPartHere()) return null;
  const weights: number[] = [];
  for (const src of sources) {
    const byName = src.kind === 'file' && src.seekable ? formatFromName(src.path) : null;
    if (byName?.format !== 'jsonl') return null;
    weights.push(weighedSize(src.path, src.size));
  }
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0 || total < (askedSplitMin(options) ?? SPLIT_MIN_BYTES)) return null;
  // the cut whose share is nearest HERE_SPLIT_AT
  let best = 0;
  let bestShare = 0;
  let sum = 0;
  for (let k = 1; k < sources.length; k++) {
    sum += weights[k - 1]!;
    if (best === 0 || Math.abs(sum / total - HERE_SPLIT_AT) < Math.abs(bestShare - HERE_SPLIT_AT)) {
      best = k;
      bestShare = sum / total;
    }
  }
  if (bestShare < 0.2 || bestShare > 0.6) return null;
  return [{ files: [0, best] }, { files: [best, sources.length] }];
}

/**
 * The two parts of a gzipped JSON Lines file (named .jsonl or .ndjson, .gz or not) for a split read,
 * cut in its inflated bytes (PartRange.gzip: each part inflates from the file's start, the first
 * stopping at the cut, the second skipping to it; open.ts openGzipRange), at jsonlSplitAt of the
 * inflated size its trailer gives, which must reach `min`. Null for a trailer that cannot be the
 * whole file's inflated size: smaller than the file's bytes, which deflate never makes more than
 * slightly larger. (The trailer is the last gzip member's inflated size, modulo 4 GiB: a file of
 * several members, or over 4 GiB inflated, whose trailer passes that check is cut elsewhere than jsonlSplitAt,
 * lopsided but the same rows: each part finds the same newline, and the cut cannot fall past the end.)
 */
function gzipParts(src: Source, byName: FileFormat | null, min: number): PartRange[] | null {
  if (byName !== 'jsonl') return null;
  const inflated = gzipInflatedSize(src.path, src.size);
  // (deflate's stored blocks add 5 bytes a 64 KiB block, the gzip header and trailer 18)
  if (inflated < src.size * 0.999 - 64 || inflated < min) return null;
  const at = Math.floor(inflated * jsonlSplitAt());
  // (a second part from offset 0 would be the whole file: openGzipRange reads from the start then)
  if (at < 1) return null;
  return [
    { start: 0, end: at, format: 'jsonl', gzip: true },
    { start: at, end: null, format: 'jsonl', gzip: true },
  ];
}

/** Where splitParts cuts the input, or null when it does not. */
export function splitCut(sources: Source[], plan: ReadPlan, options: LogReadOptions): number | null {
  return splitParts(sources, plan, options)?.[1]!.start ?? null;
}

/**
 * The worker's compiled module. From src/ingest (tests) and dist/ingest alike this is dist/ingest/worker.js;
 * when it is not there (sources run without a build) reads stay in one thread.
 */
const WORKER_FILE = fileURLToPath(WORKER_URL);

/**
 * Read every source in order into the builder, yielding batches as they are sealed, then the last
 * one. `report(bytes)` gets the bytes read so far over all sources.
 */
export async function* readSources(sources: Source[], builder: BatchBuilder, report: (bytes: number) => void): AsyncGenerator<Batch> {
  let before = 0;
  const readers = new Readers(builder);
  for (const src of sources) {
    yield* readSource(src, builder, readers, (bytes) => report(before + bytes));
    before += src.size;
    report(before);
  }
  yield* builder.finish();
}

/**
 * A read on worker threads: workers parse, type and check the rows (worker.ts) and post raw batches;
 * this thread finds duplicates and dictionary-encodes them (Encoder) as they arrive, so parsing and
 * encoding overlap. Rows, batches' contents and the account are the same as a read in one thread;
 * the workers' accounts (everything but duplicates) are merged in at the end.
 *
 * `parts`: [undefined] reads every source on one worker. Two ranges of one JSONL or CSV file (a split
 * read, see splitParts and SPLIT_AT; a gzipped JSONL file's ranges are of its inflated bytes, each part
 * inflating it from the start) are parsed at once, each numbering lines from its start (a CSV second
 * part is told the header and the first part's counts, to word errors): a CSV file's on two workers; a
 * JSON Lines file's first part in this thread (readPartHere, as a worker would, its batches encoded
 * between its chunks; see firstPartHere and HERE_SPLIT_AT) and its second on a worker. Several JSON
 * Lines files are parsed in two parts of whole files likewise (fileParts: each file numbers its own
 * lines, so nothing is renumbered; the worker is given the later files as its sources). The
 * batches are encoded in file order (duplicates depend on it): the first part's as they come, under
 * flow control (at most MAX_IN_FLIGHT waiting); the second part's wait here, unthrottled (at most the
 * second part's raw batches), until the first part is done and its line count known, then they are
 * renumbered and encoded. The second part's account is renumbered and added to the first's; its
 * errors, too, wait their turn, so an error of the first part is the one reported, as in one thread.
 * The two parts' batches are not merged: a batch ends at the cut. Progress is the sum of the parts'.
 */
async function* readThreaded(
  sources: Source[],
  parts: ReadPart[],
  plan: ReadPlan,
  account: IngestAccount,
  options: ReadOptions & Pick<LogReadOptions, 'lateDuplicates' | 'recycle' | 'onParsed'>,
  report: (bytes: number, rows: number) => void,
): AsyncGenerator<Batch, Int32Array | null> {
  const { fields, rf } = resolveFields(plan);
  const late = options.lateDuplicates === true && options.strict !== true;
  const encoder = new Encoder(fields, rf, plan.models, account, options.strict === true, late);
  type Message =
    | { type: 'batch'; raw: RawBatch; bytes: number; rows: number }
    | { type: 'progress'; bytes: number; rows: number }
    | { type: 'done'; account: IngestAccount; lines: number; lastHeld: boolean }
    | WorkerError
    | { type: 'exit'; code: number };
  const queue: { p: number; m: Message }[] = [];
  let wake: (() => void) | null = null;
  let partsDone = 0;
  const push = (p: number, m: Message): void => {
    queue.push({ p, m });
    if (m.type === 'done' && ++partsDone === parts.length) options.onParsed?.();
    wake?.();
  };
  const consumed = parts.map(() => new Int32Array(new SharedArrayBuffer(4)));
  /** per part: what the parts before it read, told when they are done */
  const before = parts.map(() => new PartBefore(new SharedArrayBuffer(PartBefore.BYTES)));
  // a split JSON Lines read: the first part (a range of the file, or its first files) is parsed here,
  // in this thread, which otherwise waits for batches most of the read; the second on a worker
  // (started ahead as reader 0)
  const first = parts[0];
  const here = parts.length === 2 && (isFileSpan(first) || first?.format === 'jsonl') && firstPartHere();
  const workers = parts.map((part, p) => {
    if (here && p === 0) return null;
    const range = isFileSpan(part) ? undefined : part;
    const input: WorkerInput = {
      sources: isFileSpan(part) ? sources.slice(...part.files) : sources,
      plan,
      options: { strict: options.strict, maxLocations: options.maxLocations, batchSize: options.batchSize },
      consumed: consumed[p]!.buffer as SharedArrayBuffer,
      ...(p > 0 ? { maxInFlight: Infinity } : {}),
      ...(range ? { part: range } : {}),
      ...(range?.csv ? { before: before[p]!.buffer } : {}),
      ...(late && rf >= 0 ? { lateKeys: true } : {}),
    };
    // the thread may have been started ahead (prestart.ts): it is handed its input
    let ahead = takeReader(here ? p - 1 : p);
    try {
      ahead?.postMessage({ type: 'input', input });
    } catch {
      void ahead!.terminate();
      ahead = null;
    }
    if (!ahead) tuneCompilation(); // (compileTuning.ts; prestart.ts did for a thread started ahead)
    const worker = ahead ?? new Worker(WORKER_URL, { workerData: input });
    worker.on('message', (m: Message) => push(p, m));
    worker.on('error', (e: Error) => push(p, { type: 'error', exit: 'internal', message: e.message, stack: e.stack }));
    worker.on('exit', (code) => push(p, { type: 'exit', code }));
    return worker;
  });
  // threads started ahead that this read does not need (prestart.ts)
  void dropReaders();
  // (set when this read ends: a part still being parsed here, when its consumer stopped early, stops at the end of its chunk)
  let over = false;
  if (here) void readPartHere(isFileSpan(first) ? { files: sources.slice(...first.files) } : { range: first!, source: sources[0]! }, plan, options, (m) => push(0, m), () => over);
  /** messages of parts after the current one, in order (progress is reported at once) */
  const deferred: Message[][] = parts.map(() => []);
  const total = sources.reduce((sum, src) => sum + src.size, 0);
  const progress = parts.map(() => ({ bytes: 0, rows: 0 }));
  let cur = 0;
  let parsed: IngestAccount | null = null;
  let linesBefore = 0;
  let rowsBefore = 0;
  try {
    for (;;) {
      let m: Message;
      if (deferred[cur]!.length > 0) {
        m = deferred[cur]!.shift()!;
      } else {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        const next = queue.shift()!;
        m = next.m;
        if (m.type === 'batch' || m.type === 'progress') {
          progress[next.p] = { bytes: m.bytes, rows: m.rows };
          let bytes = 0;
          let rows = 0;
          for (const pr of progress) (bytes += pr.bytes), (rows += pr.rows);
          // (the parts of a gzipped file each count what they read ahead: never past the total)
          report(Math.min(bytes, total), rows);
        }
        if (next.p < cur) continue; // a finished part's worker exiting
        if (next.p > cur) {
          if (m.type !== 'progress') deferred[next.p]!.push(m);
          continue;
        }
      }
      if (m.type === 'batch') {
        if (linesBefore > 0) {
          const lines = m.raw.lines;
          for (let i = 0; i < m.raw.n; i++) lines[i]! += linesBefore;
        }
        const batch = encoder.encode(m.raw);
        Atomics.add(consumed[cur]!, 0, 1);
        Atomics.notify(consumed[cur]!, 0);
        if (batch) yield batch;
        const worker = workers[cur];
        if (options.recycle === true && worker) recycle(worker, m.raw, late ? rf : -1);
      } else if (m.type === 'progress') {
        // reported when it came
      } else if (m.type === 'done') {
        if (parsed === null) parsed = m.account;
        else appendPart(parsed, m.account, linesBefore, isFileSpan(parts[cur]));
        linesBefore += m.lines;
        rowsBefore += m.account.rowsSeen;
        if (++cur < parts.length) before[cur]!.tell(linesBefore, rowsBefore, m.lastHeld);
        if (cur === parts.length) {
          const duplicates = encoder.finishDuplicates();
          mergeAccount(account, parsed);
          report(total, account.rowsSeen);
          return duplicates;
        }
      } else if (m.type === 'error') {
        if (m.exit === 'internal') {
          const e = new Error(`reading thread: ${m.message}`);
          if (m.stack) e.stack = m.stack;
          throw e;
        }
        throw new CliError(m.exit, m.rows === undefined ? m.message : `${m.message} — ${rowsBefore + m.rows} rows read before the error`);
      } else {
        throw new Error(`the reading thread stopped (exit code ${m.code}) before it finished`);
      }
    }
  } finally {
    over = true;
    for (const [p, worker] of workers.entries()) {
      if (worker === null) continue;
      worker.removeAllListeners();
      // an error a thread still raises (one that fails while another's error is reported) is not thrown
      worker.on('error', () => undefined);
      // release a worker waiting for room (flow control) before stopping it
      Atomics.store(consumed[p]!, 0, 1 << 30);
      Atomics.notify(consumed[p]!, 0);
      before[p]!.release();
      void worker.terminate();
    }
  }
}

/**
 * Read the first part of a split read in this thread, as a reading worker would: a range of a plain
 * JSON Lines file (`range`, part.ts readPart) or whole files (`files`, readSources), and hand what it
 * makes to `send` as that worker's messages: each sealed batch, then 'done' with the part's account
 * and lines, or the 'error' that stopped it. Between chunks it awaits the file, so this
 * thread encodes the batches as they come. Once `over` says the read has ended early (its consumer
 * stopped), it stops at the end of the chunk it is parsing and sends nothing more. (An error of the
 * other part is reported only once this part is done, as in one thread: it does not stop this one.)
 */
async function readPartHere(
  what: { range: PartRange; source: Source } | { files: Source[] },
  plan: ReadPlan,
  options: ReadOptions,
  send: (m: { type: 'batch'; raw: RawBatch; bytes: number; rows: number } | { type: 'done'; account: IngestAccount; lines: number; lastHeld: boolean } | WorkerError) => void,
  over: () => boolean,
): Promise<void> {
  try {
    const account = newAccount(options.maxLocations);
    let bytes = 0;
    const builder = new BatchBuilder(plan, account, { strict: options.strict, maxLocations: options.maxLocations, batchSize: options.batchSize }, (raw) =>
      send({ type: 'batch', raw, bytes, rows: account.rowsSeen }),
    );
    const report = (b: number): void => {
      bytes = b;
      if (over()) throw new PartStopped();
    };
    let end = { lines: 0, lastHeld: false };
    if ('range' in what) {
      end = await readPart(what.source, what.range, undefined, builder, report);
    } else {
      for await (const _ of readSources(what.files, builder, report)) {
        // batches go to `send`
      }
    }
    send({ type: 'done', account, ...end });
  } catch (e) {
    if (!(e instanceof PartStopped)) send(partError(e));
  }
}

/**
 * Hand a raw batch's arrays back to the worker that made it, once the batch is encoded and the
 * consumer is done with it (LogReadOptions.recycle). Late duplicates keep a batch's model codes, lines
 * and request ids (`keepText`: the request field), so those stay. Only arrays that own their memory go.
 */
function recycle(worker: Worker, raw: RawBatch, keepText: number): void {
  const transfer = new Set<ArrayBuffer>();
  const own = <T extends { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }>(a: T | null): T | null => {
    if (a === null || !(a.buffer instanceof ArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength || transfer.has(a.buffer)) return null;
    transfer.add(a.buffer);
    return a;
  };
  const kit: RecycledBatch = {
    model: keepText >= 0 ? null : own(raw.model),
    lines: keepText >= 0 ? null : own(raw.lines),
    nums: raw.nums.map((a) => own(a)),
    texts: raw.texts.map((t, i) => {
      if (t === null || i === keepText) return null;
      const start = own(t.start);
      const len = own(t.len);
      const bytes = own(t.bytes);
      return start && len && bytes ? { start, len, bytes } : null;
    }),
  };
  if (transfer.size > 0) worker.postMessage({ type: 'recycle', kit }, [...transfer]);
}

/**
 * The account of a later part of a split read into the earlier parts': its first locations after
 * theirs; for a later range of the same file, its lines numbered from the file's start (`linesBefore`
 * lines come before it) and its file entry's rows added to the file's; for later files
 * (`wholeFiles`), their entries after the earlier ones' (each numbers its own lines: linesBefore is 0).
 */
function appendPart(into: IngestAccount, from: IngestAccount, linesBefore: number, wholeFiles: boolean): void {
  if (wholeFiles) into.files.push(...from.files);
  else into.files.at(-1)!.rowsSeen += from.files[0]?.rowsSeen ?? 0;
  into.rowsSeen += from.rowsSeen;
  into.rowsRead += from.rowsRead;
  into.rowsRejected += from.rowsRejected;
  for (const reason of REJECT_REASONS) {
    const r = from.rejections[reason];
    if (!r) continue;
    const first = r.first.map((loc) => ({ ...loc, line: loc.line + linesBefore }));
    const mine = into.rejections[reason];
    into.rejections[reason] = mine ? { count: mine.count + r.count, first: [...mine.first, ...first].slice(0, into.maxLocations) } : { count: r.count, first };
  }
  into.rejections = canonicalOrder(into.rejections);
  for (const [name, n] of Object.entries(from.unknownModels)) into.unknownModels[name] = (into.unknownModels[name] ?? 0) + n;
  for (const [field, row] of Object.entries(from.missing)) for (const [model, n] of Object.entries(row)) bump(into.missing, field, model, n);
  const invalid = (into.invalid ??= {});
  for (const [field, row] of Object.entries(from.invalid ?? {})) for (const [model, n] of Object.entries(row)) bump(invalid, field, model, n);
  into.blankLines += from.blankLines;
  mergeNotes(into, from);
}

function mergeNotes(into: IngestAccount, from: IngestAccount): void {
  for (const n of from.notes ?? []) if (!(into.notes ??= []).includes(n)) into.notes.push(n);
}

/**
 * The worker's account into this thread's, which holds only what encoding found: duplicates (their
 * rejections, rows read taken back, missing values taken back).
 */
function mergeAccount(into: IngestAccount, from: IngestAccount): void {
  const dupMissing = into.missing;
  into.files.push(...from.files);
  into.rowsSeen += from.rowsSeen;
  into.rowsRead += from.rowsRead;
  into.rowsRejected += from.rowsRejected;
  for (const reason of REJECT_REASONS) {
    const r = from.rejections[reason];
    if (!r) continue;
    const mine = into.rejections[reason];
    into.rejections[reason] = mine ? { count: mine.count + r.count, first: [...r.first, ...mine.first].slice(0, into.maxLocations) } : r;
  }
  into.rejections = canonicalOrder(into.rejections);
  for (const [name, n] of Object.entries(from.unknownModels)) into.unknownModels[name] = (into.unknownModels[name] ?? 0) + n;
  into.missing = from.missing;
  for (const [field, row] of Object.entries(dupMissing)) for (const [model, n] of Object.entries(row)) countMissing(into.missing, field, model, n);
  into.invalid = from.invalid;
  into.blankLines += from.blankLines;
  mergeNotes(into, from);
}

/**
 * The format readers of one read. The CSV and Arrow readers (and so csv-parse and apache-arrow, whose
 * import alone takes a quarter of a second) are loaded only when a file of their format is read: a
 * JSONL analysis, or any command that reads no logs, does not pay for them.
 */
class Readers {
  readonly jsonl: JsonlReader;
  private csvReader: CsvReader | null = null;
  private arrowReader: ArrowReader | null = null;

  constructor(private readonly builder: BatchBuilder) {
    this.jsonl = new JsonlReader(builder);
  }

  async csv(): Promise<CsvReader> {
    if (this.csvReader === null) this.csvReader = new (await import('./csv.js')).CsvReader(this.builder);
    return this.csvReader;
  }

  async arrow(): Promise<ArrowReader> {
    if (this.arrowReader === null) this.arrowReader = new (await import('./arrow.js')).ArrowReader(this.builder);
    return this.arrowReader;
  }
}

async function* readSource(
  src: Source,
  builder: BatchBuilder,
  readers: Readers,
  report: (bytes: number) => void,
): AsyncGenerator<Batch> {
  const path = src.path;
  const byName: FileFormat | null = src.kind === 'stdin' ? 'jsonl' : (formatFromName(path)?.format ?? null);
  if (src.kind === 'file' && src.seekable) {
    let head: Buffer;
    try {
      head = headBytes(path, 8);
    } catch (e) {
      throw dataError(cannotRead(path, e));
    }
    if (!isGzip(head)) {
      const format = sniffFormat(head, byName);
      if (format === 'arrow-file' || format === 'arrow-stream') {
        if (head.length >= 4 && head.subarray(0, 4).toString('latin1') === 'FEA1') {
          throw dataError(`${path}: Feather version 1 is not supported; save it as Feather v2 / Arrow IPC (pyarrow.feather.write_feather(..., version=2))`);
        }
        if (!looksLikeArrow(head, src.size)) {
          throw dataError(`${path}: not an Arrow IPC file or stream (no ARROW1 magic, no stream message at the start)`);
        }
        builder.beginFile(path, format, false, src.size);
        yield* (await readers.arrow()).read(src, format, report);
        return;
      }
    }
  }
  let bytes;
  try {
    bytes = await openBytes(src);
  } catch (e) {
    throw dataError(cannotRead(path, e));
  }
  try {
    let chunks = bytes.chunks;
    let format = byName;
    if (format === null || (src.kind === 'file' && !src.seekable && byName === null) || src.kind === 'stdin') {
      const p = await peek(chunks);
      chunks = p.chunks;
      // stdin is JSON Lines, but Arrow's magic bytes there get the error that says why it cannot be read
      format = sniffFormat(p.head, src.kind === 'stdin' ? 'jsonl' : null);
    }
    if (format === 'arrow-file' || format === 'arrow-stream') {
      // (gzipped: named .arrow, or its inflated bytes are Arrow's)
      if (bytes.gzip) throw dataError(`${path}: gzip-compressed Arrow is not supported; decompress it first`);
      throw dataError(`${path}: Arrow input must be a regular file (not a pipe or stdin)`);
    }
    builder.beginFile(path, format, bytes.gzip, src.size);
    const onChunk = (): void => report(bytes.bytesRead());
    if (format === 'jsonl') yield* readers.jsonl.read(chunks, onChunk);
    else yield* (await readers.csv()).read(chunks, path, onChunk);
    // a pipe's or FIFO's size is known once it is read
    if (src.size === 0) builder.setFileBytes(bytes.bytesRead());
  } catch (e) {
    // (a split read's first files, read here, are stopped by a PartStopped: readPartHere)
    if (e instanceof CliError || e instanceof PartStopped) throw e;
    throw dataError(`${readErrorText(path, e)} — ${builder.fileRows} rows read before the error`);
  } finally {
    bytes.close();
  }
}

/** The Arrow file magic, a stream's continuation marker, or (legacy streams) a plausible first message length. */
function looksLikeArrow(head: Buffer, size: number): boolean {
  if (head.length < 8) return false;
  if (head.subarray(0, 6).toString('latin1') === 'ARROW1') return true;
  const first = head.readInt32LE(0);
  if (first === -1) return true;
  return first > 0 && first + 4 <= size;
}

/**
 * The limits of a run, for callers that hold `--max-bad-rows` as given: a number is a fraction of
 * the rows seen (0.01); the raw flag text also takes "1%" or a row count "100" (parseMaxBadRows).
 * Throws a data error (exit 65); see checkAccount.
 */
export function checkBadRows(account: IngestAccount, maxBadRows: number | string | BadRowLimit): void {
  const limit =
    typeof maxBadRows === 'number'
      ? ({ kind: 'fraction', value: maxBadRows } as const)
      : typeof maxBadRows === 'string'
        ? parseMaxBadRows('--max-bad-rows', maxBadRows)
        : maxBadRows;
  checkAccount(account, limit);
}
