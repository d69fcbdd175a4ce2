/**
 * From command-line inputs to sources: files, directories (recursively, every supported file,
 * sorted), and `-` for stdin. The format comes from the content where it can (gzip by its magic
 * bytes 1f 8b, Arrow by `ARROW1` or a stream message), otherwise from the extension.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync, realpathSync, statSync, createReadStream, type ReadStream, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { isatty } from 'node:tty';
import { createGunzip } from 'node:zlib';
import { dataError, notFoundError, usageError } from '../cli/exitCode.js';
import { formatFromName, isGzip } from './sniff.js';

// the format sniffing lives in sniff.ts (no imports: prestart.ts uses it before the CLI loads)
export { ARROW_MAGIC, formatFromName, isGzip, sniffFormat } from './sniff.js';

export type TextFormat = 'jsonl' | 'csv';

/** One thing to read: a file (or FIFO) or stdin. */
export type Source =
  | { kind: 'file'; path: string; size: number; seekable: boolean }
  /** isFile: stdin redirected from a regular file (`< file`), read from fd 0 (stdinFileStream); its size is the file's */
  | { kind: 'stdin'; path: string; size: number; isFile: boolean };

export const STDIN_NAME = 'stdin';

export interface Resolved {
  sources: Source[];
  skipped: { path: string; reason: string }[];
}

/**
 * Resolve inputs in order; directories are walked depth-first in sorted order. A path that does
 * not exist is a not-found error (exit 66); `-` may appear once. A file met again (named twice, a
 * directory given twice, a link to a file already listed) is read once: the later paths are skipped,
 * naming the first (read twice, every row would be its own duplicate). In a directory, an entry that
 * cannot be looked at (a broken link) is skipped with its reason, or with `strict`, if its name is a
 * log's, a data error (exit 65: its rows would be lost); a subdirectory that cannot be listed is a
 * data error either way, and so is a log that cannot be opened, when it is read. A link to the
 * directory walked or to one above it is not followed (it would read the directories around the one
 * named, and the named one again).
 */
export function resolveInputs(inputs: readonly string[], options: { strict?: boolean } = {}): Resolved {
  const sources: Source[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const files = new Files(sources, skipped);
  let stdin = false;
  for (const input of inputs) {
    if (input === '-') {
      if (stdin) throw usageError('- (stdin) can be given only once');
      stdin = true;
      if (stdinIsDirectory()) throw dataError('stdin: cannot read (it is a directory)');
      // redirected from a file, stdin has a size (a read of it may be threaded, see readLogs)
      const isFile = stdinIsFile();
      sources.push({ kind: 'stdin', path: STDIN_NAME, size: isFile ? stdinBytesLeft() : 0, isFile });
      continue;
    }
    let st;
    try {
      st = statSync(input);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw notFoundError(`${input}: no such file or directory`);
      throw dataError(cannotRead(input, e));
    }
    if (st.isDirectory()) {
      let root: string;
      try {
        root = realpathSync(input);
      } catch (e) {
        throw dataError(cannotRead(input, e));
      }
      walk(input, files, skipped, new Set([root]), { root, strict: options.strict === true });
    } else files.add(input, st);
  }
  return { sources, skipped };
}

/** The files of a resolve, each once by its real path. */
class Files {
  /** real path -> the path it was first listed as */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly sources: Source[],
    private readonly skipped: Resolved['skipped'],
  ) {}

  add(path: string, st: Stats): void {
    let real = path;
    try {
      real = realpathSync(path);
    } catch {
      // (not resolvable: listed as given)
    }
    const first = this.seen.get(real);
    if (first !== undefined) {
      this.skipped.push({ path, reason: `the same file as ${first}, read once` });
      return;
    }
    this.seen.set(real, path);
    this.sources.push({ kind: 'file', path, size: st.isFile() ? st.size : 0, seekable: st.isFile() });
  }
}

/** Is `inner` the directory `outer` or inside it (both real paths; a name such as `..data` is a name)? */
export function within(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

function walk(dir: string, files: Files, skipped: Resolved['skipped'], visited: Set<string>, walkOf: { root: string; strict: boolean }): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw dataError(`${dir}: cannot list the directory (${(e as Error).message})`);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const path = join(dir, name);
    let st;
    let real = '';
    try {
      st = statSync(path);
      if (st.isDirectory()) real = realpathSync(path);
    } catch (e) {
      // what cannot be read: skipped, but with --strict a log's rows would be lost (a name that is
      // not a log's, by its extension, is skipped either way)
      const code = (e as NodeJS.ErrnoException).code;
      if (walkOf.strict && formatFromName(name) !== null) throw dataError(`${cannotRead(path, e)} — with --strict a log of the directory that cannot be read stops the run`);
      skipped.push({ path, reason: code === 'ENOENT' ? 'cannot be read (a broken link?)' : `cannot be read (${code ?? (e as Error).message})` });
      continue;
    }
    if (st.isDirectory()) {
      if (within(walkOf.root, real)) {
        skipped.push({ path, reason: `a link to ${real === walkOf.root ? 'the directory named' : 'a directory holding the one named'} (${real}), not followed` });
        continue;
      }
      if (visited.has(real)) continue;
      visited.add(real);
      walk(path, files, skipped, visited, walkOf);
    } else if (formatFromName(name) === null) {
      skipped.push({ path, reason: 'not a supported log extension' });
    } else if (!st.isFile()) {
      // a FIFO would block the read until something writes to it (one named on the command line is
      // read: `<(zcat logs.gz)`), a socket or a device is not a log
      skipped.push({ path, reason: 'not a regular file (a FIFO, socket or device)' });
    } else {
      files.add(path, st);
    }
  }
}

/** The first bytes of a file (fewer if it is shorter). */
export function headBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The last bytes of a file. */
export function tailBytes(path: string, size: number, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const len = Math.min(n, size);
    const buf = Buffer.alloc(len);
    const got = readSync(fd, buf, 0, len, size - len);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The size of the chunks files are read in. */
export const CHUNK_BYTES = 1 << 20;

/** A byte stream with a running count of the bytes taken from the file (before gunzip), for progress. */
export interface ByteSource {
  chunks: AsyncIterable<Buffer>;
  bytesRead(): number;
  close(): void;
}

/** Prepend an already-read chunk to the rest of an iterator. */
async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/** Look at the first chunk of a byte stream without losing it. */
export async function peek(chunks: AsyncIterable<Buffer>): Promise<{ head: Buffer; chunks: AsyncIterable<Buffer> }> {
  const it = chunks[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return { head: Buffer.alloc(0), chunks: (async function* () {})() };
  return { head: first.value, chunks: prepend(first.value, it) };
}

/**
 * Gunzip in chunks of CHUNK_BYTES: zlib's default 16 KiB output chunks cost a trip to the thread pool
 * each, and inflating the bench's 1M rows of JSON Lines (208 MB; 34 MB at gzip -1) took ~0.7 s
 * instead of ~0.2 s with 1 MiB chunks.
 */
function gunzipped(raw: Readable): Readable {
  const gz = createGunzip({ chunkSize: CHUNK_BYTES });
  raw.on('error', (e) => gz.destroy(e));
  gz.on('close', () => raw.destroy());
  raw.pipe(gz);
  return gz;
}

/** What a read error of a file says (without the rows read before it): corrupt gzip data, or the error itself. */
export function readErrorText(path: string, e: unknown): string {
  return isZlibError(e) ? `${path}: corrupt or truncated gzip data (${(e as Error).message})` : cannotRead(path, e);
}

/** What a file that cannot be opened or read says: its path and the system's error. */
export function cannotRead(path: string, e: unknown): string {
  return `${path}: cannot read (${(e as Error).message})`;
}

/** Is this a zlib error (corrupt or truncated gzip)? */
export function isZlibError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** Is stdin a directory (`< logs/`)? Reading it fails, and the error would be lost as an empty input. */
function stdinIsDirectory(): boolean {
  try {
    return fstatSync(0).isDirectory();
  } catch {
    return false;
  }
}

/** Is stdin a regular file (`< file`)? Then any thread can read it from fd 0 (stdinFileStream). */
export function stdinIsFile(): boolean {
  try {
    return !isatty(0) && fstatSync(0).isFile();
  } catch {
    return false;
  }
}

/**
 * The bytes of stdin's file from where fd 0 stands to its end: a shell that has read part of it
 * (`{ head -n 5 >/dev/null; abtool analyze -; } < logs.jsonl`) leaves the rest. The position is read
 * from /proc/self/fdinfo/0 (Linux); elsewhere, the whole file's size.
 */
function stdinBytesLeft(): number {
  const size = fstatSync(0).size;
  try {
    const pos = Number(/^pos:\s*(\d+)/m.exec(readFileSync('/proc/self/fdinfo/0', 'latin1'))?.[1] ?? 0);
    return Math.max(0, size - pos);
  } catch {
    return size;
  }
}

/**
 * Stdin redirected from a regular file, read from fd 0 in chunks of CHUNK_BYTES: from any thread (a
 * worker's process.stdin is not the process's). fd 0 stays open.
 */
function stdinFileStream(): ReadStream {
  return createReadStream('', { fd: 0, autoClose: false, highWaterMark: CHUNK_BYTES });
}

/**
 * Open a file or stdin as a byte stream, gunzipping when its first bytes are the gzip magic
 * (whatever the name says). `bytesRead` counts bytes taken from the file, before gunzip.
 * Stdin redirected from a regular file (Source.isFile) is read from fd 0 (stdinFileStream: from any
 * thread, a worker's too), a pipe or a terminal through process.stdin.
 */
export async function openBytes(source: Source): Promise<ByteSource & { gzip: boolean }> {
  let raw: Readable;
  let bytesRead: () => number;
  if (source.kind === 'file') {
    const fileStream: ReadStream = createReadStream(source.path, { highWaterMark: CHUNK_BYTES });
    raw = fileStream;
    bytesRead = () => fileStream.bytesRead;
  } else if (source.isFile) {
    const fileStream = stdinFileStream();
    raw = fileStream;
    bytesRead = () => fileStream.bytesRead;
  } else {
    let count = 0;
    const counted = async function* (): AsyncGenerator<Buffer> {
      for await (const chunk of process.stdin) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
        count += b.length;
        yield b;
      }
    };
    raw = Readable.from(counted(), { objectMode: false });
    bytesRead = () => count;
  }
  const { head, chunks } = await peek(raw);
  const close = (): void => {
    raw.destroy();
  };
  if (!isGzip(head)) return { chunks, gzip: false, bytesRead, close };
  const gz = gunzipped(Readable.from(chunks, { objectMode: false }));
  return { chunks: gz, gzip: true, bytesRead, close: () => (gz.destroy(), close()) };
}

/**
 * The bytes [start, end) of a plain file (end null: to the end of the file), in chunks that end where
 * a whole-file read's chunks end (multiples of CHUNK_BYTES), so a JSONL reader meets the same chunk
 * boundaries in a part as in the whole file. `bytesRead` counts the part's bytes read so far.
 *
 * `reuse`: every chunk is read into the same buffer (a fresh megabyte per chunk costs its page faults,
 * ~250 of them, on every chunk). Only for a consumer that is done with a chunk when it asks for the
 * next one and copies what it keeps (the JSONL reader: its carried partial line is a copy); csv-parse
 * keeps views of the chunks it was given.
 */
export async function openRange(path: string, start: number, end: number | null, { reuse = false }: { reuse?: boolean } = {}): Promise<ByteSource> {
  const fh = await open(path, 'r');
  let pos = start;
  let closed = false;
  let reused: Buffer | null = null;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const stop = Math.min(end ?? Infinity, (Math.floor(pos / CHUNK_BYTES) + 1) * CHUNK_BYTES);
      if (stop <= pos || closed) return;
      let buf: Buffer;
      if (reuse) {
        reused ??= Buffer.allocUnsafeSlow(CHUNK_BYTES);
        buf = reused.subarray(0, stop - pos);
      } else {
        buf = Buffer.allocUnsafe(stop - pos);
      }
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  }
  return {
    chunks: chunks(),
    bytesRead: () => pos - start,
    close: () => {
      if (closed) return;
      closed = true;
      void fh.close().catch(() => {});
    },
  };
}

/**
 * Part of a gzipped file's inflated bytes, for a split read: from just after the first newline at or
 * past inflated offset `from` (0: from the start) to just after the first newline at or past `to`
 * (null: to the end). Both parts inflate the file from its start (inflating is cheap beside parsing:
 * ~0.2 s for 200 MB), so the threads share nothing but the offset; the first part stops inflating at
 * its end, the second skips what comes before its start, and the same newline ends one and starts the
 * other. Zlib's errors (corrupt or truncated data) are thrown as they come. `bytesRead` counts the
 * gzipped bytes read since the part's start.
 */
export function openGzipRange(path: string, from: number, to: number | null): ByteSource {
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const gz = gunzipped(file);
  let startedAt = from === 0 ? 0 : -1;
  async function* chunks(): AsyncGenerator<Buffer> {
    // inflated bytes before the chunk at hand; the offsets from which the cuts' newlines are sought
    let base = 0;
    let start = from;
    let end = to;
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      const here = base;
      base += chunk.length;
      let s = 0;
      if (startedAt < 0) {
        if (base <= start) continue;
        const nl = chunk.indexOf(10, Math.max(0, start - here));
        if (nl < 0) {
          start = base; // past `from` from here on: the next newline is the cut
          continue;
        }
        s = nl + 1;
        startedAt = file.bytesRead;
      }
      if (end !== null && base > end) {
        const nl = chunk.indexOf(10, Math.max(s, end - here));
        if (nl >= 0) {
          if (nl + 1 > s) yield chunk.subarray(s, nl + 1);
          return;
        }
        end = base;
      }
      if (chunk.length > s) yield s === 0 ? chunk : chunk.subarray(s);
    }
  }
  return {
    chunks: chunks(),
    bytesRead: () => (startedAt < 0 ? 0 : file.bytesRead - startedAt),
    close: () => {
      gz.destroy();
      file.destroy();
    },
  };
}

/** The inflated size a gzip file's trailer gives (ISIZE: its last member's size, modulo 2^32). */
export function gzipInflatedSize(path: string, size: number): number {
  const tail = tailBytes(path, size, 4);
  return tail.length === 4 ? tail.readUInt32LE(0) : 0;
}

/**
 * Where to cut a file in two parts for reading on two threads: just after the first newline at or
 * after the fraction `at` of its size (a JSON line holds no raw newline, so no line straddles the
 * cut). Null when there is no newline past that point but the last byte (the second part would be
 * empty).
 */
export function splitPoint(path: string, size: number, at: number): number | null {
  const fd = openSync(path, 'r');
  try {
    const window = Buffer.allocUnsafe(64 * 1024);
    for (let pos = Math.floor(size * at); pos < size; ) {
      const got = readSync(fd, window, 0, Math.min(window.length, size - pos), pos);
      if (got === 0) return null;
      const nl = window.subarray(0, got).indexOf(10);
      if (nl !== -1) return pos + nl + 1 < size ? pos + nl + 1 : null;
      pos += got;
    }
    return null;
  } finally {
    closeSync(fd);
  }
}

/** What the reader of a CSV file's second part must know at the cut (see csvSplitPoint and CsvReader). */
export interface CsvCut {
  /** the byte the second part starts at: just after a newline that ends a record */
  cut: number;
  /** the file's header cells (its first record that is not blank), trimmed */
  header: string[];
  /** a '"' comes before the cut */
  quoted: boolean;
  /** the file starts with a UTF-8 BOM */
  bom: boolean;
}

/**
 * Where to cut a CSV file in two parts for reading on two threads, like splitPoint: just after the
 * first newline at or after the fraction `at` of its size that ends a record, i.e. is outside every
 * quoted cell. With quotes as RFC 4180 has them (a quoted cell starts a cell, a quote inside it is
 * doubled) a byte is outside every quoted cell iff an even number of '"' come before it; so each quote
 * before the cut is also checked to be where csv-parse (as CsvReader runs it, with `relax_quotes`)
 * reads it that way: an opening quote at the start of a cell (just after a comma or a newline), and
 * in a quoted cell a quote either doubled or closing the cell just before a comma, a newline, CRLF or
 * the end of the file.
 *
 * Null (read on one worker, which reports what is wrong) when anything is odd: a quote anywhere else
 * (csv-parse keeps it as text, so the count of quotes says nothing), a quote in the header's line or
 * the blank lines before it, no header line ending in the first CHUNK_BYTES, no record end within
 * MAX_SEARCH_BYTES past the target (an unclosed quote swallowing the file), no record end before the
 * last byte, or a stretch of CHUNK_BYTES before the cut without a newline (a line that long may be one
 * CsvReader hands to csv-parse for its length, which would change how it reads the rest).
 */
export function csvSplitPoint(path: string, size: number, at: number): CsvCut | null {
  const fd = openSync(path, 'r');
  try {
    const headLen = Math.min(size, CHUNK_BYTES);
    const head = Buffer.allocUnsafe(headLen);
    if (readSync(fd, head, 0, headLen, 0) !== headLen) return null;
    const bom = headLen >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
    // the header: the first line that is not blank (one cell of white space), as CsvReader reads it
    let header: string[] | null = null;
    let pos = bom ? 3 : 0;
    while (header === null) {
      const nl = head.indexOf(0x0a, pos);
      if (nl < 0) return null;
      const end = nl > pos && head[nl - 1] === 0x0d ? nl - 1 : nl;
      if (head.subarray(pos, end).includes(0x22)) return null;
      const cells = head.toString('utf8', pos, end).split(',');
      if (cells.length > 1 || cells[0]!.trim() !== '') header = cells.map((c) => c.trim());
      pos = nl + 1;
    }
    pos--; // the header's newline, which may be the cut
    const target = Math.max(Math.floor(size * at), pos);
    const limit = Math.min(size, target + MAX_SEARCH_BYTES);
    const window = new FileWindow(fd, size);
    let quoting = false;
    let quoted = false;
    /** the first newline at or after max(pos, target), Infinity: none before the limit */
    let nl = -1;
    for (;;) {
      let q: number;
      if (!quoting) {
        if (nl < Math.max(pos, target)) nl = window.indexOf(0x0a, Math.max(pos, target), limit);
        q = window.indexOf(0x22, pos, Math.min(nl, limit));
        if (q === Infinity) {
          // no quote before that newline: it ends a record
          if (nl === Infinity || nl + 1 >= size) return null;
          const cut = nl + 1;
          // a newline in every CHUNK_BYTES before the cut (no line as long as 2 CHUNK_BYTES)
          for (let block = 0; block < cut; block += CHUNK_BYTES) {
            if (window.indexOf(0x0a, block, Math.min(block + CHUNK_BYTES, cut)) === Infinity) return null;
          }
          return { cut, header, quoted, bom };
        }
        const prev = window.byteAt(q - 1);
        if (prev !== 0x2c && prev !== 0x0a) return null; // a quote inside an unquoted cell: text
        quoting = true;
        quoted = true;
        pos = q + 1;
      } else {
        q = window.indexOf(0x22, pos, limit);
        if (q === Infinity) return null;
        const next = window.byteAt(q + 1);
        if (next === 0x22) {
          pos = q + 2; // a doubled quote
        } else if (next === -1 || next === 0x2c || next === 0x0a || (next === 0x0d && window.byteAt(q + 2) === 0x0a)) {
          quoting = false;
          pos = q + 1;
        } else {
          return null; // text after a closing quote
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** How far past its target csvSplitPoint looks for the end of a record. */
const MAX_SEARCH_BYTES = 16 * 1024 * 1024;

/** Bytes of an open file looked up by position, through a window of CHUNK_BYTES (at a multiple of it). */
class FileWindow {
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private start = 0;
  private len = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
  ) {}

  /** the window holds `pos` (which is in the file) */
  private load(pos: number): void {
    if (pos >= this.start && pos < this.start + this.len) return;
    this.start = pos - (pos % CHUNK_BYTES);
    this.len = readSync(this.fd, this.buf, 0, Math.min(CHUNK_BYTES, this.size - this.start), this.start);
    if (this.len <= pos - this.start) throw new Error(`the file is shorter than ${this.size} bytes`);
  }

  /** The byte at `pos`, -1 outside the file. */
  byteAt(pos: number): number {
    if (pos < 0 || pos >= this.size) return -1;
    this.load(pos);
    return this.buf[pos - this.start]!;
  }

  /** The first position in [from, to) that holds `byte`, Infinity when none does. */
  indexOf(byte: number, from: number, to: number): number {
    for (let pos = from; pos < to; pos = this.start + this.len) {
      this.load(pos);
      const i = this.buf.subarray(0, Math.min(this.len, to - this.start)).indexOf(byte, pos - this.start);
      if (i >= 0) return this.start + i;
    }
    return Infinity;
  }
}
