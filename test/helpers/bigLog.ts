/** A JSON Lines log past a size, for tests of what abtool does with big inputs (threads, relaunch). */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { ROOT } from './reference.js';

/**
 * Writes `path`: the ab-win example's rows again and again, each copy with its own request ids (no
 * duplicates), until the file holds more than `minBytes`. Returns `path`.
 */
export function writeBigLog(path: string, minBytes: number): string {
  const rows = readFileSync(`${ROOT}fixtures/examples/ab-win/logs.jsonl`, 'utf8');
  const fd = openSync(path, 'w');
  try {
    let bytes = 0;
    for (let k = 0; bytes <= minBytes; k++) bytes += writeSync(fd, rows.replaceAll('"request_id":"', `"request_id":"c${k}-`));
  } finally {
    closeSync(fd);
  }
  return path;
}
