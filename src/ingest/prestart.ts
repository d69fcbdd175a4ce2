/**
 * Start the reading thread of `abtool analyze` before the CLI has loaded its modules.
 *
 * A worker thread takes ~0.2 s to be ready on the bench machine (Node's own start of the thread, then
 * compiling the reader's modules), and the main thread takes about as long to load the CLI, parse the
 * flags and the spec before a read can begin. Started by bin/abtool.js before it loads the CLI, the
 * reading thread's start overlaps the main thread's instead of following it: the thread waits for its
 * WorkerInput as its first message (worker.ts), and readThreaded takes it (takeReader) instead of
 * starting one. Only when the command is `analyze` and the inputs named on the command line reach
 * THREADED_MIN_BYTES (what a threaded read needs; a gzipped byte counts as GZIP_WEIGHT), so small runs
 * start no thread. A read in two parts needs one (the main thread parses the first part); two for a
 * CSV file split when asked, or a plain JSON Lines file with ABTOOL_FIRST_PART_HERE=0 (a gzipped one's
 * second thread then starts with the read; readThreaded takes thread p for part p, or p - 1 when the
 * first part is parsed in the main thread). A thread nobody
 * takes (a bad flag, a read in one thread) is unreferenced: it does not keep the process alive.
 *
 * A run that starts the reading thread keeps its cores busy: V8 is then told to compile hot code in
 * the thread that runs it (compileTuning.ts), first, so that the threads started here do.
 *
 * This module imports only Node's own modules, sniff.ts and compileTuning.ts (it runs before everything else), and keeps
 * the thread on a global symbol: the CLI's bundle has its own copy of this module.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tuneCompilation } from '../cli/compileTuning.js';
import type { FileFormat } from './builder.js';
import { formatFromName, isGzip, sniffFormat } from './sniff.js';

/** Inputs at least this big are read by a worker thread while the main thread encodes (see readThreaded). */
export const THREADED_MIN_BYTES = 8 * 1024 * 1024;

/**
 * How many plain bytes a gzipped byte counts for when the size of a read is weighed: logs compress
 * 5-20x (the benchmark's 1M-row log, at zlib's default level, 7.4x; rows differing little, more).
 */
export const GZIP_WEIGHT = 8;

/** A file's bytes as a read weighs them: a file named .gz counts GZIP_WEIGHT a byte (by its name: gzip found only by its content, or on stdin, counts once). */
export function weighedSize(path: string, size: number): number {
  return formatFromName(path)?.gzip === true ? size * GZIP_WEIGHT : size;
}

export const WORKER_URL = new URL('../../dist/ingest/worker.js', import.meta.url);

/** workerData of a thread started ahead: it waits for {type: 'input', input: WorkerInput}. */
export interface PrestartData {
  prestarted: true;
  /** the reader module to load while waiting, from the first input's first bytes */
  warm: 'arrow' | 'csv' | null;
}

interface Prestarted {
  worker: Worker;
  failed: boolean;
  onFail: () => void;
}

const SLOT = Symbol.for('abtool.prestartedReaders');
type Global = typeof globalThis & { [SLOT]?: (Prestarted | null)[] };

/** JSON Lines at least this big (one file, a gzipped one inflated, or several) is read in two parts (index.ts SPLIT_MIN_BYTES, which is this). */
export const SPLIT_MIN_BYTES = 32 * 1024 * 1024;

/** analyze's flags that take a value (so the value is not taken for an input). */
const VALUE_FLAGS = new Set(['--spec', '--format', '--seed', '--resamples', '--max-bad-rows', '--output', '-o']);

/**
 * The inputs named on an `analyze` command line (argv without node and the script), or null for
 * another command. Options' values are skipped; `--flag=value` is one word.
 */
export function analyzeInputs(argv: readonly string[]): string[] | null {
  if (argv[0] !== 'analyze') return null;
  const inputs: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      inputs.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      if (VALUE_FLAGS.has(a)) i++;
      // short flags together (-qo FILE, -qoFILE): -o takes the rest, or else the next word
      else if (/^-[^-]/.test(a) && a.indexOf('o') === a.length - 1) i++;
      continue;
    }
    inputs.push(a);
  }
  return inputs;
}

/** Files of a directory looked at, at most (the rest, if the bytes are not reached by then, are not). */
const DIRECTORY_FILES = 256;

/**
 * Total bytes of the named files, and of the files directly in the named directories (up to
 * DIRECTORY_FILES each, and no further than `enough` bytes); the first file met.
 */
function measure(inputs: string[], enough: number): { bytes: number; first: string | null } {
  let bytes = 0;
  let first: string | null = null;
  const file = (path: string): void => {
    try {
      const st = statSync(path);
      if (st.isFile()) {
        bytes += weighedSize(path, st.size);
        first ??= path;
      } else if (st.isDirectory()) {
        for (const name of readdirSync(path).sort().slice(0, DIRECTORY_FILES)) {
          if (bytes >= enough) break;
          const p = join(path, name);
          const s = statSync(p, { throwIfNoEntry: false });
          if (s?.isFile()) {
            bytes += weighedSize(p, s.size);
            first ??= p;
          }
        }
      }
    } catch {
      // not there, not readable: the read says so
    }
  };
  for (const input of inputs) file(input);
  return { bytes, first };
}

/**
 * The inputs of an `analyze` command line (argv without node and the script) and their total bytes
 * (counted no further than `enough`), as `measure`; null for another command, no input, or stdin
 * among the inputs (a size that cannot be known ahead).
 */
export function namedInputs(argv: readonly string[], enough: number): { inputs: string[]; bytes: number; first: string | null } | null {
  const inputs = analyzeInputs(argv);
  if (inputs === null || inputs.length === 0 || inputs.includes('-')) return null;
  return { inputs, ...measure(inputs, enough) };
}

/**
 * The format a read will give a file, as index.ts splitParts tells it (sniff.ts: the magic bytes, else
 * the name, else the first character), or 'gzip'; null when it cannot be read. Only a guess for
 * starting threads: the read decides for itself.
 */
function kindOf(path: string): FileFormat | 'gzip' | null {
  let head = Buffer.alloc(0);
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(64);
      head = buf.subarray(0, readSync(fd, buf, 0, 64, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
  return isGzip(head) ? 'gzip' : sniffFormat(head, formatFromName(path)?.format ?? null);
}

/** The split size the environment asks for (ABTOOL_SPLIT_MIN_BYTES, a number of bytes from 0), else undefined. */
export function splitMinFromEnv(): number | undefined {
  const env = process.env.ABTOOL_SPLIT_MIN_BYTES;
  return env !== undefined && env.trim() !== '' && Number(env) >= 0 ? Number(env) : undefined;
}

/** The size from which one file is read in two parts, as index.ts splitParts decides it (ABTOOL_SPLIT_MIN_BYTES, else JSON Lines from SPLIT_MIN_BYTES). */
function splitFrom(kind: ReturnType<typeof kindOf>): number {
  const asked = splitMinFromEnv();
  if (kind === 'jsonl') return asked ?? SPLIT_MIN_BYTES;
  return kind === 'csv' ? (asked ?? Infinity) : Infinity;
}

/**
 * Whether a split JSON Lines read parses its first part in the main thread (index.ts readThreaded),
 * with one reading thread for the second, rather than both parts on two reading threads: the main
 * thread otherwise waits for batches 60-80% of the read, and one thread fewer is one start and one
 * set of compiled code fewer (1M-row bench log, 9 alternated runs: 1.48-1.53 against 1.55-1.64 s,
 * user CPU 2.35-2.43 against 2.51-2.60 s). ABTOOL_FIRST_PART_HERE=0 keeps both parts on threads.
 */
export function firstPartHere(): boolean {
  return process.env.ABTOOL_FIRST_PART_HERE !== '0';
}

/**
 * Start the reading thread ahead when `argv` (without node and the script) is an analyze of inputs of
 * at least `minBytes` (for one file read in two parts, of at least `splitMinBytes`: two threads for
 * CSV, and for JSON Lines one, or two with ABTOOL_FIRST_PART_HERE=0); unless ABTOOL_THREADS=0 or the built worker is missing. True when started.
 */
export function prestartReader(argv: readonly string[], minBytes = THREADED_MIN_BYTES, splitMinBytes?: number): boolean {
  const g = globalThis as Global;
  if (g[SLOT]?.some((x) => x !== null) || process.env.ABTOOL_THREADS === '0') return false;
  const named = namedInputs(argv, minBytes);
  if (named === null) return false;
  const { inputs, bytes, first } = named;
  if (bytes < minBytes || first === null) return false;
  if (!statSync(fileURLToPath(WORKER_URL), { throwIfNoEntry: false })?.isFile()) return false;
  const kind = kindOf(first);
  const warm = kind === 'arrow-file' || kind === 'arrow-stream' ? 'arrow' : kind === 'csv' ? 'csv' : null;
  // one plain JSON Lines (or, when asked, CSV) file big enough is read in two parts (not with --strict):
  // by two threads for CSV; for JSON Lines by one, the main thread parsing the first part (firstPartHere)
  const split = inputs.length === 1 && first === inputs[0] && bytes >= (splitMinBytes ?? splitFrom(kind)) && (kind === 'jsonl' || kind === 'csv') && !argv.includes('--strict');
  tuneCompilation(); // the threads about to start compile their hot code themselves (compileTuning.ts)
  g[SLOT] = Array.from({ length: split && !(kind === 'jsonl' && firstPartHere()) ? 2 : 1 }, () => start({ prestarted: true, warm }));
  return true;
}

function start(data: PrestartData): Prestarted {
  const slot: Prestarted = {
    worker: new Worker(WORKER_URL, { workerData: data }),
    failed: false,
    onFail: () => {
      slot.failed = true;
    },
  };
  // until it is taken: not keeping the process alive, and an early failure noted, not thrown
  slot.worker.unref();
  slot.worker.once('error', slot.onFail);
  slot.worker.once('exit', slot.onFail);
  return slot;
}

/**
 * Reading thread `p` (0, or 1 for a read in two parts on two reading threads) started ahead, to be handed its WorkerInput
 * (`{type: 'input', input}`), or null (none started, already taken, or it failed to start). Taken
 * once; referenced again.
 */
export function takeReader(p = 0): Worker | null {
  const g = globalThis as Global;
  const slot = g[SLOT]?.[p];
  if (!slot) return null;
  g[SLOT]![p] = null;
  slot.worker.off('error', slot.onFail);
  slot.worker.off('exit', slot.onFail);
  if (slot.failed) {
    void slot.worker.terminate();
    return null;
  }
  slot.worker.ref();
  return slot.worker;
}

/** Stop the threads started ahead that nobody took: a read calls it once it has taken what it needs. */
export async function dropReaders(): Promise<void> {
  const g = globalThis as Global;
  const slots = g[SLOT] ?? [];
  g[SLOT] = [];
  await Promise.all(slots.map((slot) => (slot === null ? undefined : slot.worker.terminate())));
}
