#!/usr/bin/env node
// npm run bench [-- --rows N --repeats K --dir DIR --json]
// Generates seeded synthetic canary logs (JSONL, CSV, Arrow), then times, alternately and K times each,
// the floor (stream + split + JSON.parse every line) and `abtool analyze` on each copy; prints medians,
// rows/s, MB/s, peak RSS and the ratio to the floor, then times the costly statistics in-process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generate, gzipCopies } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

const USAGE = `usage: node bench/run.js [--rows N] [--repeats K] [--dir DIR] [--json] [--no-stats]
  --rows N      rows to generate (default 1000000)
  --repeats K   runs of each case, alternated; medians reported (default 3)
  --dir DIR     where the generated logs are kept and reused (default bench/out/rows-N)
  --json        machine-readable results on stdout
  --no-stats    skip the in-process timing of the costly statistics
Build first (npm run build). See bench/README.md.`;
{
  const valued = new Set(['--rows', '--repeats', '--dir']);
  const flags = new Set(['--json', '--no-stats']);
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (valued.has(a)) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) {
        console.error(`bench: ${a} needs a value\n${USAGE}`);
        process.exit(64);
      }
      i++;
    } else if (!flags.has(a)) {
      console.error(`bench: unknown argument ${a}\n${USAGE}`);
      process.exit(64);
    }
  }
}

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const rows = Number(arg('rows', '1000000'));
const repeats = Number(arg('repeats', '3'));
const dir = arg('dir', join(here, 'out', `rows-${rows}`));
const asJson = process.argv.includes('--json');
const skipStats = process.argv.includes('--no-stats');
if (!(rows > 0) || !(repeats > 0)) {
  console.error('bench: --rows and --repeats must be positive numbers');
  process.exit(64);
}
if (!existsSync(join(root, 'dist/cli/main.js'))) {
  console.error('bench: build first (npm run build)');
  process.exit(64);
}

const log = (s) => process.stderr.write(s + '\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// 1. data
const marker = join(dir, 'generated.json');
let files;
if (existsSync(marker) && JSON.parse(readFileSync(marker, 'utf8')).rows === rows) {
  files = JSON.parse(readFileSync(marker, 'utf8')).files;
  log(`bench: reusing ${rows} rows in ${dir}`);
} else {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  log(`bench: generating ${rows} rows in ${dir} ...`);
  const t = performance.now();
  files = await generate(dir, rows, 1);
  writeFileSync(marker, JSON.stringify({ rows, files }));
  log(`bench: generated in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
// the gzipped copies (a log kept from before they were benchmarked gets them now)
if (!files.gz || !existsSync(files.gz) || !existsSync(files.gzParts)) {
  const t = performance.now();
  files = { ...files, ...(await gzipCopies(dir, files.jsonl, rows)) };
  writeFileSync(marker, JSON.stringify({ rows, files }));
  log(`bench: gzipped copies made in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

// 2. timed runs, alternating
const rssFile = join(dir, 'rss.txt');
function timed(args, extraEnv = {}) {
  rmSync(rssFile, { force: true });
  const t = performance.now();
  const p = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: { ...process.env, NODE_OPTIONS: `--require ${join(here, 'rss-hook.cjs')}`, ABTOOL_BENCH_RSS: rssFile, ABTOOL_TIMINGS: '1', NO_COLOR: '1', ...extraEnv },
  });
  const ms = performance.now() - t;
  if (p.status !== 0 && !(p.status >= 1 && p.status <= 3)) {
    throw new Error(`bench: ${args.join(' ')} exited ${p.status}: ${p.stderr.slice(0, 500)}`);
  }
  // one line per process: peak RSS in KiB, CPU time (user + system) in microseconds
  const lines = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number)) : [];
  // a relaunched analyze (src/cli/relaunch.ts) is two processes alive together: their peaks are added
  const rss = lines.length ? lines.reduce((s, l) => s + l[0], 0) * 1024 : NaN;
  const cpuMs = lines.length ? lines.reduce((s, l) => s + l[1], 0) / 1000 : NaN;
  const faults = lines.length ? lines.reduce((s, l) => s + (l[2] ?? NaN), 0) : NaN;
  // analyze's phases (ABTOOL_TIMINGS=1): when the read and the evaluation ended, ms since its start
  const at = (name) => Number(new RegExp(`abtool: ${name} done at (\\d+) ms`).exec(p.stderr)?.[1] ?? NaN);
  return { ms, rss, cpuMs, faults, read: at('read'), evaluate: at('evaluate'), stdout: p.stdout };
}
const analyze = (file) => [join(root, 'bin/abtool.js'), 'analyze', file, '--spec', files.spec, '--format', 'json', '--quiet', '--resamples', '10000'];
const cases = [
  { name: 'floor: JSON.parse every line', file: files.jsonl, args: [join(here, 'floor.mjs'), files.jsonl] },
  { name: 'analyze JSONL', file: files.jsonl, args: analyze(files.jsonl) },
  // the same on one thread (inputs of 8 MB or more are otherwise parsed on a second thread)
  { name: 'analyze JSONL, one thread', file: files.jsonl, args: analyze(files.jsonl), env: { ABTOOL_THREADS: '0' } },
  // V8 left to compile hot code on its background threads (src/cli/compileTuning.ts: abtool has it compiled
  // in the thread that runs it when it starts a reading thread)
  { name: 'analyze JSONL, V8 compiling in the background', file: files.jsonl, args: analyze(files.jsonl), env: { ABTOOL_SYNC_COMPILE: '0' } },
  // every line through the row-by-row scanner (src/ingest/jsonlWasm.ts: the WebAssembly extractor takes the usual line)
  { name: 'analyze JSONL, without the WebAssembly extractor', file: files.jsonl, args: analyze(files.jsonl), env: { ABTOOL_WASM: '0' } },
  { name: 'analyze CSV', file: files.csv, args: analyze(files.csv) },
  { name: 'analyze Arrow (file)', file: files.arrow, args: analyze(files.arrow) },
  { name: 'analyze Arrow (stream)', file: files.arrows, args: analyze(files.arrows) },
  // the JSONL log gzipped, whole and cut into 8 files (a directory of rotated logs)
  { name: 'analyze JSONL, gzipped', file: files.gz, args: analyze(files.gz) },
  { name: 'analyze JSONL, 8 gzipped files', file: files.gzParts, args: analyze(files.gzParts) },
  // with and without the relaunch in a child with malloc tuned (src/cli/relaunch.ts: inputs of 64 MB or
  // more where page faults are slow; the cases above do what abtool decides on this machine)
  { name: 'analyze JSONL, relaunched', file: files.jsonl, args: analyze(files.jsonl), env: { ABTOOL_RELAUNCH: '1' } },
  { name: 'analyze JSONL, in one process', file: files.jsonl, args: analyze(files.jsonl), env: { ABTOOL_RELAUNCH: '0' } },
  { name: 'analyze Arrow (file), relaunched', file: files.arrow, args: analyze(files.arrow), env: { ABTOOL_RELAUNCH: '1' } },
  { name: 'analyze Arrow (file), in one process', file: files.arrow, args: analyze(files.arrow), env: { ABTOOL_RELAUNCH: '0' } },
];
// what a page fault costs here and whether abtool relaunches the JSONL case, asked of a new process as abtool would
const probe = spawnSync(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `const m = await import(${JSON.stringify(pathToFileURL(join(root, 'dist/cli/relaunch.js')).href)}); const us = []; for (let k = 0; k < 5; k++) us.push(m.faultMicros()); us.sort((a, b) => a - b); console.log(JSON.stringify({ us: us[2], relaunch: m.relaunchWanted(${JSON.stringify(analyze(files.jsonl).slice(1))}) }));`,
  ],
  { encoding: 'utf8', env: { ...process.env, ABTOOL_RELAUNCH: '' } },
);
let faults = { us: NaN, relaunch: null };
try {
  faults = JSON.parse(probe.stdout);
} catch {}
const results = cases.map((c) => ({ ...c, times: [], cpu: [], rss: [], faults: [], read: [], evaluate: [], decision: null }));
for (let r = 0; r < repeats; r++) {
  for (const c of results) {
    const out = timed(c.args, c.env);
    c.times.push(out.ms);
    c.rss.push(out.rss);
    c.cpu.push(out.cpuMs);
    c.faults.push(out.faults);
    c.read.push(out.read);
    c.evaluate.push(out.evaluate - out.read);
    if (c.name.startsWith('analyze')) {
      const j = JSON.parse(out.stdout);
      c.decision = j.decision;
      c.rowsRead = j.input.rows_read;
    }
    log(`bench: ${c.name} run ${r + 1}/${repeats}: ${(out.ms / 1000).toFixed(2)} s`);
  }
}
const floor = median(results[0].times);
/** A file's size, or a directory's files' (MB/s of a gzipped case: compressed bytes). */
function bytesOf(path) {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((sum, f) => sum + statSync(join(path, f)).size, 0) : st.size;
}
const table = results.map((c) => {
  const ms = median(c.times);
  const mb = bytesOf(c.file) / 1e6;
  return {
    case: c.name,
    median_s: +(ms / 1000).toFixed(3),
    cpu_s: +(median(c.cpu) / 1000).toFixed(3),
    rows_per_s: Math.round(rows / (ms / 1000)),
    mb_per_s: +(mb / (ms / 1000)).toFixed(1),
    file_mb: +mb.toFixed(1),
    peak_rss_mb: Math.round(Math.max(...c.rss) / 1e6),
    ratio_to_floor: +(ms / floor).toFixed(2),
    page_faults: Math.round(median(c.faults)),
    ...(c.name.startsWith('analyze') ? { read_s: +(median(c.read) / 1000).toFixed(3), evaluate_s: +(median(c.evaluate) / 1000).toFixed(3) } : {}),
    ...(c.decision ? { decision: c.decision, rows_read: c.rowsRead } : {}),
  };
});

// 3. the costly statistics, in-process on typed arrays
let stats = [];
if (!skipStats) {
  const { bootstrapTwoSample } = await import('../dist/core/bootstrap.js');
  const { mannWhitneyU } = await import('../dist/core/mannWhitneyU.js');
  const { ksTwoSample } = await import('../dist/core/ksTwoSample.js');
  const { createRng } = await import('../dist/core/rng.js');
  const rng = createRng(3);
  const lognormal = (n, mu) => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.nextFloat() || 1e-12;
      x[i] = Math.exp(mu + 0.35 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextFloat()));
    }
    return x;
  };
  const big = lognormal(1_000_000, 3.4);
  const big2 = lognormal(1_000_000, 3.41);
  const a = lognormal(900_000, 3.4);
  const b = lognormal(100_000, 3.42);
  const micro = [
    ['bootstrap p99, 10k resamples, 1M vs 1M values (percentile)', () => bootstrapTwoSample(big, big2, { statistic: { kind: 'quantile', q: 0.99 }, method: 'percentile', resamples: 10000, rng: createRng(1) })],
    ['bootstrap p99, 10k resamples, 1M vs 1M values (BCa)', () => bootstrapTwoSample(big, big2, { statistic: { kind: 'quantile', q: 0.99 }, method: 'bca', resamples: 10000, rng: createRng(1) })],
    ['Mann-Whitney U + Hodges-Lehmann, 900k vs 100k', () => mannWhitneyU(a, b, { alternative: 'two-sided' })],
    ['KS two-sample, 900k vs 100k', () => ksTwoSample(a, b, { alternative: 'two-sided', method: 'auto' })],
  ];
  stats = micro.map(([name, f]) => {
    const ts = [];
    for (let r = 0; r < Math.max(3, repeats); r++) {
      const t = performance.now();
      f();
      ts.push(performance.now() - t);
    }
    return { case: name, median_s: +(median(ts) / 1000).toFixed(3) };
  });
}

// transparent huge pages: what the relaunched analyze's malloc settings can get (src/cli/relaunch.ts)
let thp = 'unknown';
try {
  thp = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'unknown';
} catch {}
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memory_gb: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  transparent_hugepages: thp,
  page_fault_us: +faults.us.toFixed(2),
  relaunched: faults.relaunch,
};
if (asJson) {
  process.stdout.write(JSON.stringify({ rows, repeats, machine, results: table, statistics: stats }, null, 2) + '\n');
} else {
  const md = [];
  md.push(`rows: ${rows}, repeats: ${repeats} (medians), machine: ${machine.cpus} x ${machine.cpu}, ${machine.memory_gb} GiB, Node ${machine.node}, transparent huge pages ${machine.transparent_hugepages}, a page fault ${machine.page_fault_us} µs (the default analyze cases ${machine.relaunched ? 'are' : 'are not'} relaunched)`);
  md.push('');
  md.push('| case | median s | x floor | CPU s | read done s | evaluation s | rows/s | MB/s | peak RSS MB | page faults |');
  md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of table) {
    md.push(`| ${r.case} | ${r.median_s} | ${r.ratio_to_floor} | ${r.cpu_s} | ${r.read_s ?? ''} | ${r.evaluate_s ?? ''} | ${r.rows_per_s} | ${r.mb_per_s} | ${r.peak_rss_mb} | ${r.page_faults} |`);
  }
  if (stats.length) {
    md.push('');
    md.push('| statistic (in-process) | median s |');
    md.push('|---|---:|');
    for (const s of stats) md.push(`| ${s.case} | ${s.median_s} |`);
  }
  process.stdout.write(md.join('\n') + '\n');
}
