/** Guards the benchmark script itself (small --rows) so it cannot rot; no timing is asserted here. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/reference.js';

describe('npm run bench', () => {
  it('generates the logs in every format, times each case and reports the same decision for all', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-bench-'));
    const p = spawnSync(process.execPath, [join(ROOT, 'bench/run.js'), '--rows', '3000', '--repeats', '1', '--dir', dir, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    expect(p.status, p.stderr).toBe(0);
    const j = JSON.parse(p.stdout);
    expect(j.rows).toBe(3000);
    const names = j.results.map((r: { case: string }) => r.case);
    expect(names).toEqual(['floor: JSON.parse every line', 'analyze JSONL', 'analyze JSONL, one thread', 'analyze JSONL, V8 compiling in the background', 'analyze JSONL, without the WebAssembly extractor', 'analyze CSV', 'analyze Arrow (file)', 'analyze Arrow (stream)', 'analyze JSONL, gzipped', 'analyze JSONL, 8 gzipped files', 'analyze JSONL, relaunched', 'analyze JSONL, in one process', 'analyze Arrow (file), relaunched', 'analyze Arrow (file), in one process']);
    // what a page fault costs and what abtool decided for the 1M-row case's size (3000 rows: not relaunched)
    expect(j.machine.page_fault_us).toBeGreaterThan(0);
    expect(j.machine.relaunched).toBe(false);
    const analyses = j.results.slice(1);
    // the same log in four formats, gzipped and in 8 gzipped files: every row read, the same decision
    for (const r of analyses) expect(r.rows_read).toBe(3000);
    expect(new Set(analyses.map((r: { decision: string }) => r.decision)).size).toBe(1);
    for (const r of j.results) {
      expect(r.median_s).toBeGreaterThan(0);
      expect(r.peak_rss_mb).toBeGreaterThan(0);
      expect(r.page_faults).toBeGreaterThan(0);
    }
    // analyze's phases (ABTOOL_TIMINGS): the read ends before the run does, the evaluation takes time
    for (const r of analyses) {
      expect(r.read_s).toBeGreaterThan(0);
      expect(r.evaluate_s).toBeGreaterThan(0);
      expect(r.read_s + r.evaluate_s).toBeLessThan(r.median_s + 0.5);
    }
    expect(j.statistics).toHaveLength(4);
  }, 300_000);

  it('prints its usage with --help, and refuses an unknown argument or a flag without its value', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bench/run.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: node bench\/run.js/);
    const bad = run('--rowz', '5');
    expect(bad.status).toBe(64);
    expect(bad.stderr).toMatch(/unknown argument --rowz/);
    const bare = run('--rows');
    expect(bare.status).toBe(64);
    expect(bare.stderr).toMatch(/--rows needs a value/);
  });
});
