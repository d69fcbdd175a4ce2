/**
 * What format a log file is, from its name and its first bytes. No runtime imports, so prestart.ts can
 * tell it before the CLI has loaded anything (open.ts re-exports it for everything else).
 */
import type { FileFormat } from './builder.js';

const EXTENSIONS: Record<string, FileFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.csv': 'csv',
  '.arrow': 'arrow-file',
  '.feather': 'arrow-file',
  '.ipc': 'arrow-file',
  '.arrows': 'arrow-stream',
};

/** The format a file name promises (`.gz` stripped first for text formats), or null. */
export function formatFromName(path: string): { format: FileFormat; gzip: boolean } | null {
  const lower = path.toLowerCase();
  const gzip = lower.endsWith('.gz');
  const base = gzip ? lower.slice(0, -3) : lower;
  const dot = base.lastIndexOf('.');
  if (dot < 0) return null;
  const format = EXTENSIONS[base.slice(dot)];
  if (format === undefined) return null;
  if (gzip && format !== 'jsonl' && format !== 'csv') return null;
  return { format, gzip };
}

export const ARROW_MAGIC = Buffer.from('ARROW1');

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * The format of a file from its first bytes (after gunzip for text), falling back to the name:
 * `ARROW1` is the Arrow file format, a 0xFFFFFFFF continuation marker the Arrow stream format;
 * `{` starts JSON Lines; anything else is read as the name says, or as CSV.
 */
export function sniffFormat(head: Uint8Array, byName: FileFormat | null): FileFormat {
  if (head.length >= 6 && Buffer.from(head.buffer, head.byteOffset, 6).equals(ARROW_MAGIC)) return 'arrow-file';
  if (head.length >= 4 && head[0] === 0xff && head[1] === 0xff && head[2] === 0xff && head[3] === 0xff) return 'arrow-stream';
  if (byName !== null) return byName;
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x0d || head[i] === 0x09)) i++;
  return head[i] === 0x7b ? 'jsonl' : 'csv';
}
