// Synthetic canary logs for the benchmark, written streaming (bounded memory) as JSONL, CSV,
// Arrow IPC file and Arrow IPC stream, plus the spec. Seeded: the same --rows and --seed give the
// same files. About 200 bytes a JSONL row.
import { createReadStream, createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  Bool,
  Float64,
  Int8,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Table,
  TimestampMillisecond,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';

const SEGMENTS = ['BR', 'DE', 'FR', 'IN', 'JP', 'MX', 'UK', 'US'];
const PREDICTIONS = ['approve', 'review', 'deny'];
const T0 = Date.parse('2026-11-02T09:00:00Z');

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SPEC = {
  name: 'bench-canary',
  stage: 'canary',
  control: 'champion',
  treatment: 'challenger',
  unit: 'user_id',
  allocation: { champion: 0.9, challenger: 0.1 },
  alpha: 0.05,
  power: 0.8,
  segments: ['region'],
  correction: 'holm',
  primary: { name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', mde: 0.005 },
  guardrails: [
    { name: 'error_rate', field: 'error', type: 'proportion', direction: 'decrease', max_absolute_change: 0.002 },
    { name: 'latency_mean', field: 'latency_ms', type: 'mean', direction: 'decrease', max_relative_change: 0.1 },
    { name: 'latency_rank', field: 'latency_ms', type: 'rank', direction: 'decrease', max_relative_change: 0.1 },
    { name: 'latency_p99', field: 'latency_ms', type: 'quantile', quantile: 0.99, direction: 'decrease', max_relative_change: 0.2 },
  ],
  drift: [{ field: 'score', max_ks: 0.1 }],
};

/** Rows in chunks of `chunk`: columnar plain arrays. */
function* chunks(rows, seed, chunk = 100_000) {
  const rnd = mulberry32(seed);
  const users = Math.max(10, Math.floor(rows / 4));
  const span = 3600e3; // one hour
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const c = { ts: new Float64Array(n), request_id: [], user_id: [], model: [], region: [], prediction: [], score: new Float64Array(n), latency_ms: new Float64Array(n), error: [], converted: new Int8Array(n) };
    for (let k = 0; k < n; k++) {
      const i = start + k;
      const u = Math.floor(rnd() * users);
      const treat = ((u * 2654435761) >>> 0) % 10 === 0;
      c.ts[k] = T0 + Math.floor((i / rows) * span);
      c.request_id.push(`req-${i.toString(36)}-${(u * 7919).toString(36)}`);
      c.user_id.push(`user-${u}`);
      c.model.push(treat ? 'challenger' : 'champion');
      c.region.push(SEGMENTS[u % 8]);
      c.prediction.push(PREDICTIONS[Math.floor(rnd() * 3)]);
      c.score[k] = Math.round(rnd() * 1e6) / 1e6;
      const z = Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
      c.latency_ms[k] = Math.round(Math.exp(3.4 + (treat ? 0.02 : 0) + 0.35 * z) * 1000) / 1000;
      c.error.push(rnd() < 0.003);
      c.converted[k] = rnd() < (treat ? 0.105 : 0.1) ? 1 : 0;
    }
    yield { n, c };
  }
}

const COLS = ['ts', 'request_id', 'user_id', 'model', 'region', 'prediction', 'score', 'latency_ms', 'error', 'converted'];

async function write(stream, text) {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function close(stream) {
  stream.end();
  await once(stream, 'finish');
}

export async function generate(dir, rows, seed = 1) {
  mkdirSync(dir, { recursive: true });
  const files = { jsonl: join(dir, 'logs.jsonl'), csv: join(dir, 'logs.csv'), arrow: join(dir, 'logs.arrow'), arrows: join(dir, 'logs.arrows'), spec: join(dir, 'spec.json') };
  writeFileSync(files.spec, JSON.stringify(SPEC, null, 2) + '\n');
  const jsonl = createWriteStream(files.jsonl);
  const csv = createWriteStream(files.csv);
  await write(csv, COLS.join(',') + '\n');
  const fileWriter = new RecordBatchFileWriter();
  const streamWriter = new RecordBatchStreamWriter();
  const arrowOut = createWriteStream(files.arrow);
  const arrowsOut = createWriteStream(files.arrows);
  fileWriter.toNodeStream().pipe(arrowOut);
  streamWriter.toNodeStream().pipe(arrowsOut);
  for (const { n, c } of chunks(rows, seed)) {
    let j = '';
    let v = '';
    for (let k = 0; k < n; k++) {
      const ts = new Date(c.ts[k]).toISOString();
      j += `{"ts":"${ts}","request_id":"${c.request_id[k]}","user_id":"${c.user_id[k]}","model":"${c.model[k]}","region":"${c.region[k]}","prediction":"${c.prediction[k]}","score":${c.score[k]},"latency_ms":${c.latency_ms[k]},"error":${c.error[k]},"converted":${c.converted[k]}}\n`;
      v += `${ts},${c.request_id[k]},${c.user_id[k]},${c.model[k]},${c.region[k]},${c.prediction[k]},${c.score[k]},${c.latency_ms[k]},${c.error[k]},${c.converted[k]}\n`;
    }
    await write(jsonl, j);
    await write(csv, v);
    const table = new Table({
      ts: vectorFromArray(Array.from(c.ts), new TimestampMillisecond()),
      request_id: vectorFromArray(c.request_id, new Utf8()),
      user_id: vectorFromArray(c.user_id, new Utf8()),
      // plain Utf8, not dictionaries: each chunk would bring its own dictionary, which the IPC file
      // format cannot replace between batches
      model: vectorFromArray(c.model, new Utf8()),
      region: vectorFromArray(c.region, new Utf8()),
      prediction: vectorFromArray(c.prediction, new Utf8()),
      score: vectorFromArray(c.score, new Float64()),
      latency_ms: vectorFromArray(c.latency_ms, new Float64()),
      error: vectorFromArray(c.error, new Bool()),
      converted: vectorFromArray(c.converted, new Int8()),
    });
    for (const b of table.batches) {
      fileWriter.write(b);
      streamWriter.write(b);
    }
  }
  fileWriter.finish();
  streamWriter.finish();
  await Promise.all([close(jsonl), close(csv), once(arrowOut, 'finish'), once(arrowsOut, 'finish')]);
  return files;
}

/**
 * Gzipped copies of the JSONL log (zlib's default level, as logs are usually rotated): the whole file
 * (`logs.jsonl.gz`), and the same rows cut into `parts` files of consecutive lines (`gz-parts/`, as a
 * directory of rotated logs). Streaming: bounded memory at any row count.
 */
export async function gzipCopies(dir, jsonl, rows, parts = 8) {
  const gz = join(dir, 'logs.jsonl.gz');
  const partsDir = join(dir, 'gz-parts');
  mkdirSync(partsDir, { recursive: true });
  await pipeline(createReadStream(jsonl), createGzip(), createWriteStream(gz));
  const perPart = Math.ceil(rows / parts);
  let k = 0;
  let lines = 0;
  let out = null;
  let done = null;
  const write = async (buf) => {
    if (buf.length === 0) return;
    if (out === null) {
      out = createGzip();
      done = pipeline(out, createWriteStream(join(partsDir, `part-${String(k++).padStart(2, '0')}.jsonl.gz`)));
    }
    if (!out.write(buf)) await once(out, 'drain');
  };
  const close = async () => {
    if (out === null) return;
    out.end();
    await done;
    out = null;
  };
  for await (const chunk of createReadStream(jsonl, { highWaterMark: 1 << 20 })) {
    let pending = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, nl + 1)) {
      if (++lines < perPart) continue;
      await write(chunk.subarray(pending, nl + 1));
      await close();
      lines = 0;
      pending = nl + 1;
    }
    await write(chunk.subarray(pending));
  }
  await close();
  return { gz, gzParts: partsDir };
}
