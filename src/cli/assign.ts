/**
 * `abtool assign --salt S --weights champion=95,challenger=5 USER_ID... | -`: the model each
 * user is routed to, by the deterministic sticky hashing of src/core/assignment.ts.
 */
import type { Command } from 'commander';
import { ArgumentError } from '../core/types.js';
import { BUCKETS, assign, layoutArms, type Arm, type Layout } from '../core/assignment.js';
import { parseNumber } from './args.js';
import { usageError } from './exitCode.js';
import { toJson } from './output.js';

interface AssignOptions {
  salt?: string;
  weights?: string;
  json?: boolean;
}

const HELP = `
Each id's bucket is SHA-256(salt + "\\0" + id), first 8 bytes big-endian, mod ${BUCKETS}; the arms
own consecutive bucket ranges in the order listed (the first from bucket 0). Weights are relative
(95,5 and 0.95,0.05 are the same split). With two arms, a growing arm keeps every user it had
(1% -> 5% -> 25% -> 100%: users already in the challenger stay there). With more arms, the arms at
either end of the list keep their users when they grow: list the champion in the middle. Keep
the salt, names and order fixed across stages; a new salt reshuffles everyone.

From stdin (-), one id per line: blank lines are no ids (skipped, and said on stderr), and an id
that is not valid UTF-8 is hashed as its bytes (written back as them; in --json, user_id_hex holds
them). Ids given as arguments reach abtool as text, so such an id must come by stdin.
Prints one "user_id<TAB>model" line per id, or with --json one object
{salt, weights, buckets, assignments: [{user_id, model, bucket}]}.

Examples:
  abtool assign --salt ranker-v2 --weights champion=95,challenger=5 u1 u2 u3
  cut -f1 users.tsv | abtool assign --salt ranker-v2 --weights champion=75,challenger=25 -`;

export function registerAssign(program: Command): void {
  program
    .command('assign')
    .description('deterministic sticky assignment of user ids to models by hashing salt and id')
    .argument('[ids...]', 'user ids, or - to read one id per line from stdin')
    .option('--salt <salt>', 'the experiment salt (e.g. its name); a new salt is a new shuffle')
    .option('--weights <arms>', 'model=weight pairs, e.g. champion=95,challenger=5')
    .option('--json', 'print one JSON object')
    .addHelpText('after', HELP)
    .action((ids: string[], opts: AssignOptions) => runAssign(ids, opts));
}

/** "champion=95,challenger=5" -> arms in order. */
export function parseWeights(raw: string): Arm[] {
  const parts = raw.split(',').map((p) => p.trim());
  return parts.map((part) => {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      throw usageError(`--weights must be model=weight pairs separated by commas, e.g. champion=95,challenger=5 (got "${part}" in "${raw}")`);
    }
    const name = part.slice(0, eq).trim();
    const weight = parseNumber(`--weights (${name})`, part.slice(eq + 1), { min: 0 });
    return { name, weight };
  });
}

function layoutFor(raw: string): Layout {
  try {
    return layoutArms(parseWeights(raw));
  } catch (e) {
    if (e instanceof ArgumentError) throw usageError(`--weights: ${e.message.replace(/^`weights` /, '')}`);
    throw e;
  }
}

/** An id to assign: its text, and its bytes when they are not valid UTF-8 (hashed as they are; `text` decodes them lossily). */
interface Id {
  text: string;
  bytes?: Buffer;
}

/** What reading stdin skipped: blank lines, counted, and the first one's number. */
interface Skipped {
  blank: number;
  first: number;
}

async function* readIds(ids: string[], skipped: Skipped): AsyncGenerator<Id> {
  for (const id of ids) {
    if (id !== '-') {
      yield { text: id };
      continue;
    }
    yield* stdinLines(skipped);
  }
}

// ignoreBOM: a line's leading U+FEFF is part of its id (only the stream's first is dropped, below)
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Lines of stdin, without their \n or \r\n (and a UTF-8 byte order mark at the start), split as
 * bytes: a line that is not valid UTF-8 keeps its bytes (Id.bytes). Blank lines (empty or spaces
 * only) are no ids: skipped, and counted in `skipped` (the caller says so: the output has no line
 * for them).
 */
async function* stdinLines(skipped: Skipped): AsyncGenerator<Id> {
  let rest: Buffer = Buffer.alloc(0);
  let first = true;
  let lineNo = 0;
  const take = (raw: Buffer): Id | null => {
    lineNo++;
    const b = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, raw.length - 1) : raw;
    let text: string;
    let bytes: Buffer | undefined;
    try {
      text = strictUtf8.decode(b);
    } catch {
      text = lossyUtf8.decode(b);
      bytes = Buffer.from(b);
    }
    if (text.trim() === '') {
      if (skipped.blank++ === 0) skipped.first = lineNo;
      return null;
    }
    return bytes ? { text, bytes } : { text };
  };
  const BOM = [0xef, 0xbb, 0xbf];
  // whether buf, as far as it goes, could still be the start of a byte order mark
  const bomPrefix = (buf: Buffer): boolean => buf.length < 3 && buf.every((b, i) => b === BOM[i]);
  const noBom = (buf: Buffer): Buffer => (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf);
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    let buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    // the stream's first bytes only: decided once they cannot be the start of a mark any more
    if (first) {
      if (bomPrefix(buf)) {
        rest = Buffer.from(buf);
        continue;
      }
      buf = noBom(buf);
      first = false;
    }
    let start = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a, start)) {
      const id = take(buf.subarray(start, nl));
      if (id) yield id;
      start = nl + 1;
    }
    rest = Buffer.from(buf.subarray(start));
  }
  if (first) rest = noBom(rest);
  if (rest.length > 0) {
    const id = take(rest);
    if (id) yield id;
  }
}

/** Say on stderr what reading stdin skipped, once the output is written. */
function reportSkipped(skipped: Skipped): void {
  if (skipped.blank === 0) return;
  const n = skipped.blank;
  process.stderr.write(`abtool: stdin: ${n} blank line${n > 1 ? 's' : ''} skipped (the first is line ${skipped.first}): the output has no line for ${n > 1 ? 'them' : 'it'}\n`);
}

async function runAssign(ids: string[], opts: AssignOptions): Promise<void> {
  if (opts.salt === undefined || opts.salt === '') throw usageError('--salt <salt> is required (e.g. the experiment name)');
  if (opts.weights === undefined) throw usageError('--weights <arms> is required, e.g. --weights champion=95,challenger=5');
  if (ids.length === 0) throw usageError('give user ids as arguments, or - to read them from stdin (one per line)');
  if (ids.filter((id) => id === '-').length > 1) throw usageError('- (stdin) may be given only once');
  if (ids.some((id) => id.trim() === '')) throw usageError('a user id must not be empty or blank');
  const salt = opts.salt;
  const layout = layoutFor(opts.weights);

  if (opts.json) {
    const assignments: { user_id: string; user_id_hex?: string; model: string; bucket: number }[] = [];
    const skipped = { blank: 0, first: 0 };
    for await (const id of readIds(ids, skipped)) {
      const a = assign(salt, id.text, layout, id.bytes);
      assignments.push({ user_id: id.text, ...(id.bytes ? { user_id_hex: id.bytes.toString('hex') } : {}), model: a.arm, bucket: a.bucket });
    }
    const total = layout.ranges.reduce((s, r) => s + (r.to - r.from), 0);
    const json = {
      salt,
      weights: Object.fromEntries(layout.ranges.map((r) => [r.name, (r.to - r.from) / total])),
      buckets: Object.fromEntries(layout.ranges.map((r) => [r.name, [r.from, r.to]])),
      assignments,
    };
    process.stdout.write(toJson(json) + '\n');
    reportSkipped(skipped);
    return;
  }
  // lines of bytes: an id that is not valid UTF-8 is written back as the bytes it was read as
  const chunks: Buffer[] = [];
  let size = 0;
  const skipped = { blank: 0, first: 0 };
  for await (const id of readIds(ids, skipped)) {
    if (/[\t\n\r]/.test(id.text)) throw usageError(`user id ${JSON.stringify(id.text)} contains a tab or line break, which the tab-separated output cannot carry (use --json)`);
    const arm = assign(salt, id.text, layout, id.bytes).arm;
    const line = id.bytes ? Buffer.concat([id.bytes, Buffer.from(`\t${arm}\n`)]) : Buffer.from(`${id.text}\t${arm}\n`);
    chunks.push(line);
    size += line.length;
    if (size >= 1 << 16) {
      process.stdout.write(Buffer.concat(chunks));
      chunks.length = 0;
      size = 0;
    }
  }
  process.stdout.write(Buffer.concat(chunks));
  reportSkipped(skipped);
}
