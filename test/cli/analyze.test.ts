/**
 * End to end through the built CLI: one fixture per situation (fixtures/examples/, made by
 * generate.mjs), checking the decision, its reasons and the exit code (CONTRACT sections 3-4).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { ROOT } from '../helpers/reference.js';

const ex = (name: string) => join(ROOT, 'fixtures/examples', name);
const logOf = (name: string) => {
  const dir = ex(name);
  try {
    readFileSync(join(dir, 'logs.jsonl'));
    return join(dir, 'logs.jsonl');
  } catch {
    return join(dir, 'logs.jsonl.gz');
  }
};
const analyze = (name: string, extra: string[] = []) => runCli(['analyze', logOf(name), '--spec', join(ex(name), 'spec.json'), '--format', 'json', '--quiet', ...extra]);

describe('abtool analyze: one fixture per situation', () => {
  it('a clear A/B win is go (exit 0)', () => {
    const r = analyze('ab-win');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = r.json();
    expect(j.decision).toBe('go');
    const overall = j.segments[0];
    expect(overall.segment).toEqual({});
    const conv = overall.metrics.find((m: any) => m.name === 'conversion');
    expect(conv.verdict).toBe('win');
    expect(conv.test).toMatch(/z-test with continuity correction/);
    expect(conv.relative_change).toBeGreaterThan(0.1);
    expect(overall.metrics.filter((m: any) => m.role === 'guardrail').every((m: any) => m.verdict === 'pass')).toBe(true);
    expect(j.trust.srm.mismatch).toBe(false);
    expect(j.input.rows_rejected).toBe(0);
    expect(j.segments.map((s: any) => s.segment.country ?? 'overall')).toEqual(['overall', 'BR', 'DE', 'IN', 'US']);
  });

  it('a sample ratio mismatch is invalid (exit 3) whatever the metrics say', () => {
    const r = analyze('ab-srm');
    expect(r.code).toBe(3);
    const j = r.json();
    expect(j.decision).toBe('invalid');
    expect(j.trust.srm.mismatch).toBe(true);
    expect(j.trust.srm.p_value).toBeLessThan(0.001);
    expect(j.reasons.join(' ')).toMatch(/sample ratio mismatch/);
  });

  it('one segment losing while the total wins is no-go (exit 1), naming the segment', () => {
    const r = analyze('ab-segment-loss');
    expect(r.code).toBe(1);
    const j = r.json();
    expect(j.decision).toBe('no-go');
    expect(j.segments[0].metrics[0].verdict).toBe('win');
    const br = j.segments.find((s: any) => s.segment.country === 'BR');
    expect(br.decision).toBe('no-go');
    expect(br.metrics[0].verdict).toBe('loss');
    expect(br.metrics[0].p_value_adjusted).toBeGreaterThanOrEqual(br.metrics[0].p_value);
    expect(j.reasons[0]).toMatch(/^country=BR: primary metric lost/);
  });

  it('an underpowered test is inconclusive (exit 2) and says how many units it needs', () => {
    const r = analyze('ab-underpowered');
    expect(r.code).toBe(2);
    const j = r.json();
    expect(j.decision).toBe('inconclusive');
    const conv = j.segments[0].metrics[0];
    expect(conv.verdict).toBe('flat');
    expect(conv.reason).toMatch(/underpowered: has \d+ (units per group|control and \d+ treatment units), needs \d+/);
    expect(conv.n_needed.control).toBeGreaterThan(conv.n_control);
  });

  it('many requests per user with no true effect is not a win: requests are clustered by user', () => {
    const r = analyze('ab-heavy-users');
    const j = r.json();
    const conv = j.segments[0].metrics[0];
    expect(conv.test).toMatch(/delta-method/);
    expect(conv.n_unit).toBe('units');
    expect(conv.n_control + conv.n_treatment).toBe(120);
    // a request-level z-test on the same data gives p = 0.024; per-user it is not significant
    expect(conv.p_value).toBeGreaterThan(0.05);
    expect(conv.verdict).not.toBe('win');
    expect(j.decision).not.toBe('go');
    expect(r.code).not.toBe(0);
  });

  it('a canary whose challenger becomes slow mid-way: the rollback fires at the right window (no-go)', () => {
    const r = analyze('canary-slow');
    expect(r.code).toBe(1);
    const j = r.json();
    expect(j.decision).toBe('no-go');
    expect(j.rollback.triggered).toBe(true);
    // slow from 09:20; five consecutive 1-minute breaches end at 09:25
    expect(j.rollback.triggered_at).toBe('2026-11-02T09:25:00.000Z');
    const breaches = j.rollback.windows.filter((w: any) => w.status === 'breach');
    expect(breaches[0].start).toBe('2026-11-02T09:20:00.000Z');
    expect(j.reasons.join(' ')).toMatch(/rollback fired/);
  });

  it('one stray timestamp (1970) among a canary\'s does not stop the rollback rule from being judged: it still fires, with a warning naming the stray value', () => {
    const rows = gunzipSync(readFileSync(logOf('canary-slow'))).toString('utf8');
    const stray = JSON.stringify({ ts: 0, request_id: 'stray-1', user_id: 'u-stray', model: 'champion', country: 'DE', latency_ms: 30, error: false, converted: 0 });
    const log = join(mkdtempSync(join(tmpdir(), 'stray-')), 'logs.jsonl');
    writeFileSync(log, rows + stray + '\n');
    const j = runCli(['analyze', log, '--spec', join(ex('canary-slow'), 'spec.json'), '--format', 'json', '--quiet']).json();
    expect(j.rollback.triggered).toBe(true);
    expect(j.rollback.triggered_at).toBe('2026-11-02T09:25:00.000Z');
    expect(j.rollback.reason).not.toMatch(/not judged/);
    expect(j.warnings.join(' ')).toMatch(/^1 of \d+ ts values lie before 2001 or after 2100 \(the data run from 1970-01-01T00:00:00\.000Z to 2026-11-02T/m);
    expect(j.decision).toBe('no-go');
  });

  it('a healthy canary does not roll back', () => {
    const r = analyze('canary-healthy');
    const j = r.json();
    expect(j.rollback.triggered).toBe(false);
    expect(j.rollback.triggered_at).toBeNull();
    expect(j.rollback.windows.length).toBe(40);
    expect(j.decision).not.toBe('no-go');
    expect(j.decision).not.toBe('invalid');
    expect(j.trust.srm.mismatch).toBe(false);
  });

  it('a shadow run with drift and challenger errors is no-go, with both reasons', () => {
    const r = analyze('shadow-drift');
    expect(r.code).toBe(1);
    const j = r.json();
    expect(j.decision).toBe('no-go');
    const sh = j.segments[0].shadow;
    expect(sh.drift[0].ok).toBe(false);
    expect(sh.drift[0].ks).toBeGreaterThan(0.1);
    expect(sh.failures.ok).toBe(false);
    expect(sh.failures.errors.challenger).toBeGreaterThan(100);
    expect(sh.agreement.pairs).toBeGreaterThan(4000);
    expect(j.trust.applies).toBe(false);
    const reasons = j.segments[0].reasons.join(' ');
    expect(reasons).toMatch(/drift out of bounds/);
    expect(reasons).toMatch(/challenger failures/);
    // the p-values the checks are judged by: the overall's own, a segment's adjusted across segments (Holm), named so
    expect(sh.drift[0].p_value_adjusted).toBe(sh.drift[0].p_value);
    expect(sh.failures.p_value_adjusted).toBe(sh.failures.p_value);
    const seg = j.segments[1].shadow;
    expect(seg.drift[0].p_value_adjusted).toBeGreaterThan(seg.drift[0].p_value);
    expect(seg.failures.p_value_adjusted).toBeGreaterThan(seg.failures.p_value);
    expect(seg.drift[0].reason).toMatch(/, adjusted p = /);
  });

  it('a spec changed after locking makes the run invalid (exit 3)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-lock-'));
    const spec = join(dir, 'spec.json');
    copyFileSync(join(ex('ab-win'), 'spec.json'), spec);
    const plan = runCli(['plan', spec]);
    expect(plan.code, plan.stderr).toBe(0);
    const s = JSON.parse(readFileSync(spec, 'utf8'));
    s.primary.mde = 0.05;
    writeFileSync(spec, JSON.stringify(s));
    const r = runCli(['analyze', logOf('ab-win'), '--spec', spec, '--format', 'json', '--quiet']);
    expect(r.code).toBe(3);
    const j = r.json();
    expect(j.decision).toBe('invalid');
    expect(j.trust.preregistration.status).toBe('changed');
  });

  it('without a lock the report says the analysis was not pre-registered', () => {
    const j = analyze('ab-win').json();
    expect(j.trust.preregistration.status).toBe('not-registered');
  });

  it('control characters from the logs (a segment value with a newline, a carriage return, an escape sequence) are written out in table and markdown, not sent to the terminal', () => {
    const d = mkdtempSync(join(tmpdir(), 'ctrl-'));
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      lines.push(JSON.stringify({ ts: '2026-11-02T09:00:00Z', request_id: `r${i}`, user_id: `u${i}`, model: i % 2 ? 'challenger' : 'champion', country: i % 3 ? 'DE' : 'line\nbreak\r\u001b[31mred\u0007', converted: i % 5 ? 0 : 1, latency_ms: 30, error: false }));
    }
    writeFileSync(join(d, 'l.jsonl'), lines.join('\n') + '\n');
    const spec = { ...JSON.parse(readFileSync(join(ex('ab-win'), 'spec.json'), 'utf8')), segments: ['country'] };
    writeFileSync(join(d, 'spec.json'), JSON.stringify(spec));
    for (const format of ['table', 'markdown']) {
      const r = runCli(['analyze', join(d, 'l.jsonl'), '--spec', join(d, 'spec.json'), '--format', format, '--quiet']);
      expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(r.stdout).toContain(format === 'table' ? 'country=line\\nbreak\\r\\u001b[31mred\\u0007' : 'country=line\\\\nbreak\\\\r\\\\u001b\\[31mred\\\\u0007');
    }
  });

  it('table and markdown formats put the decision first', () => {
    const t = runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--format', 'table', '--quiet']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/DECISION: GO/);
    const m = runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--format', 'markdown', '--quiet']);
    expect(m.stdout.split('\n')[0]).toMatch(/^## .*GO/);
    expect(m.stdout).toMatch(/<details>/);
  });

  it('the same seed gives the same report', () => {
    const a = analyze('canary-healthy', ['--seed', '5']).json();
    const b = analyze('canary-healthy', ['--seed', '5']).json();
    delete a.generated_at;
    delete b.generated_at;
    expect(a).toEqual(b);
  });
});

describe('abtool analyze: usage and input errors', () => {
  it('missing --spec, missing spec file, bad format: exit 64', () => {
    expect(runCli(['analyze', logOf('ab-win')]).code).toBe(64);
    const r = runCli(['analyze', logOf('ab-win'), '--spec', '/nope/spec.json']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/no such file/);
    expect(runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--format', 'pdf']).code).toBe(64);
  });
  it('--resamples out of range: exit 64 naming the bound (at least 100, at most 10,000,000)', () => {
    const spec = join(ex('ab-win'), 'spec.json');
    for (const [n, bound] of [['1e13', /at most 10000000/], ['10000001', /at most 10000000/], ['50', /at least 100/], ['2.5', /whole number/]] as const) {
      const r = runCli(['analyze', logOf('ab-win'), '--spec', spec, '--resamples', n]);
      expect(r.code, n).toBe(64);
      expect(r.stderr, n).toMatch(/--resamples/);
      expect(r.stderr, n).toMatch(bound);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
  it('a spec whose unit is the model field, or YAML whose aliases expand past the limit: exit 64 naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-spec-'));
    const s = JSON.parse(readFileSync(join(ex('ab-win'), 'spec.json'), 'utf8'));
    const unit = join(dir, 'unit.json');
    writeFileSync(unit, JSON.stringify({ ...s, unit: 'model' }));
    let r = runCli(['analyze', logOf('ab-win'), '--spec', unit]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/unit\.json: "model" cannot be the unit/);
    const bomb = join(dir, 'bomb.yaml');
    const level = (name: string, of: string): string => `${name}: &${name} [${Array(9).fill(of).join(', ')}]`;
    writeFileSync(bomb, [level('a', '"x"'), level('b', '*a'), level('c', '*b'), level('d', '*c'), `e: [${Array(9).fill('*d').join(', ')}]`].join('\n') + '\n');
    r = runCli(['analyze', logOf('ab-win'), '--spec', bomb]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/bomb\.yaml: not a usable YAML document/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
  it('--output with an empty name: exit 64, nothing written to stdout', () => {
    const r = runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--output', '']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--output needs a file name/);
    expect(r.stdout).toBe('');
  });
  it('--strict with a --max-bad-rows that tolerates rows: exit 64 naming both, nothing on stdout; with 0 they agree', () => {
    for (const extra of [['--strict', '--max-bad-rows', '10'], ['--max-bad-rows', '5%', '--strict']]) {
      const r = analyze('ab-win', extra);
      expect(r.code, extra.join(' ')).toBe(64);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim()).toMatch(/^abtool: --strict stops at the first rejected row, but --max-bad-rows (10 rows|5%) tolerates some: give one of them$/);
    }
    expect(analyze('ab-win', ['--strict', '--max-bad-rows', '0']).code).toBe(0);
    expect(analyze('ab-win', ['--max-bad-rows', '5%']).code).toBe(0);
  });
  it('a log that does not exist: exit 66', () => {
    const r = runCli(['analyze', '/nope/logs.jsonl', '--spec', join(ex('ab-win'), 'spec.json')]);
    expect(r.code).toBe(66);
  });
  it('a spec with an unknown key: exit 64 naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-spec-'));
    const spec = join(dir, 'spec.json');
    const s = JSON.parse(readFileSync(join(ex('ab-win'), 'spec.json'), 'utf8'));
    s.guardrail = [];
    writeFileSync(spec, JSON.stringify(s));
    const r = runCli(['analyze', logOf('ab-win'), '--spec', spec]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/guardrail/);
  });
});

describe('abtool analyze: edge cases found in review', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abtool-edge-'));
  const T0 = Date.parse('2026-11-02T09:00:00Z');
  const baseSpec = JSON.parse(readFileSync(join(ex('canary-healthy'), 'spec.json'), 'utf8'));
  function canaryLog(name: string, mutate: (r: Record<string, unknown>, i: number) => void = () => {}): string {
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const r: Record<string, unknown> = {
        ts: T0 + i * 900,
        request_id: `r${i}`,
        user_id: `u${i}`,
        model: i % 10 === 0 ? 'challenger' : 'champion',
        latency_ms: 30 + (i % 17),
        error: false,
        converted: i % 9 === 0 ? 1 : 0,
      };
      mutate(r, i);
      lines.push(JSON.stringify(r));
    }
    const p = join(dir, `${name}.jsonl`);
    writeFileSync(p, lines.join('\n') + '\n');
    return p;
  }
  const specFile = (name: string, s: object) => {
    const p = join(dir, `${name}.json`);
    writeFileSync(p, JSON.stringify(s));
    return p;
  };
  const run = (log: string, spec: string) => runCli(['analyze', log, '--spec', spec, '--format', 'json', '--quiet']);

  it('segment values that are not valid UTF-8 and read as one text: each its own segment, and a warning says their names are the same', () => {
    // Latin-1 text in a UTF-8 log: S\xe3o and S\xe1o are two values, both read as "S\uFFFDo"; BR is valid
    const lines: Buffer[] = [];
    for (let i = 0; i < 4000; i++) {
      const country = i % 3 === 0 ? Buffer.from('BR') : Buffer.from(i % 3 === 1 ? 'S\xe3o' : 'S\xe1o', 'latin1');
      const head = `{"ts":${T0 + i * 900},"request_id":"r${i}","user_id":"u${i}","model":"${i % 10 === 0 ? 'challenger' : 'champion'}","country":"`;
      lines.push(Buffer.concat([Buffer.from(head), country, Buffer.from(`","latency_ms":${30 + (i % 17)},"error":false,"converted":${i % 9 === 0 ? 1 : 0}}\n`)]));
    }
    const log = join(dir, 'latin1.jsonl');
    writeFileSync(log, Buffer.concat(lines));
    const r = run(log, specFile('latin1', { ...baseSpec, segments: ['country'] }));
    const report = JSON.parse(r.stdout);
    const names = report.segments.map((g: { segment: Record<string, string> }) => g.segment.country ?? null);
    expect(names).toEqual([null, 'BR', 'S\uFFFDo', 'S\uFFFDo']);
    expect(report.warnings).toContain(
      'segment field "country" has values that are not valid UTF-8 and read as the same text (2 read as "S\uFFFDo"): each is its own segment (in the order they first appear in the logs), under the same name',
    );
    // valid text: no such warning
    const ok = JSON.parse(run(canaryLog('valid-country', (row, i) => (row.country = i % 2 ? 'BR' : 'São')), specFile('valid', { ...baseSpec, segments: ['country'] })).stdout);
    expect(ok.warnings.filter((w: string) => w.includes('UTF-8'))).toEqual([]);
    expect(ok.segments).toHaveLength(3);
  });

  it('negative latencies are analysed as logged and counted in a warning, per model; none, no warning', () => {
    const spec = specFile('neg', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } });
    const log = canaryLog('neg-latency', (r, i) => {
      if (i % 500 === 1 || i === 10) r.latency_ms = -5 - (i % 3);
    });
    const j = run(log, spec).json();
    expect(j.warnings).toContain('latency_ms has 9 negative value(s) (champion: 8, challenger: 1; the lowest -7): they are analysed as logged; a latency below 0 is usually a clock or logging error');
    expect(run(canaryLog('pos-latency'), spec).json().warnings.join(' ')).not.toMatch(/negative/);
  });

  it('one timestamp far off (seconds instead of ms) does not blow up the rollback windows', () => {
    const log = canaryLog('stray-ts', (r, i) => {
      if (i === 7) r.ts = 5;
    });
    const r = run(log, specFile('stray', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } }));
    expect(r.stderr).toBe('');
    const j = r.json();
    expect(j.rollback.windows.length).toBeLessThan(200);
    expect(j.rollback.reason).toMatch(/empty 1m windows in long gaps/);
  });

  it('epoch seconds in some of the logs (one row in ten) are flagged too, and the rollback rule is not judged on the mix', () => {
    const log = canaryLog('some-seconds', (r, i) => {
      if (i % 10 === 3) r.ts = Math.floor((r.ts as number) / 1000);
    });
    const j = run(log, specFile('some-seconds', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } })).json();
    expect(j.warnings.join(' ')).toMatch(/^400 of 4000 ts values lie before 2001 or after 2100 .*look like epoch seconds/m);
    expect(j.rollback.reason).toMatch(/^rollback rule not judged: 400 of 4000 ts values/);
  });

  it('rows without ts are kept (counted missing), not rejected, when the spec has a rollback rule', () => {
    const log = canaryLog('some-ts', (r, i) => {
      if (i % 3 === 0) delete r.ts;
    });
    const j = run(log, specFile('some-ts', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } })).json();
    expect(j.input.rows_rejected).toBe(0);
    expect(j.input.rows_read).toBe(4000);
    expect(j.input.missing.ts.champion + j.input.missing.ts.challenger).toBe(1334);
  });

  it('a rollback rule no window could judge blocks a go', () => {
    // 10% challenger, ~7 challenger records a minute: below min_count 50 in every window
    const log = canaryLog('thin', (r, i) => {
      r.converted = r.model === 'challenger' ? (i % 3 === 0 ? 1 : 0) : i % 50 === 0 ? 1 : 0;
    });
    const r = run(log, specFile('thin', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 }, guardrails: [] }));
    const j = r.json();
    expect(j.segments[0].metrics[0].verdict).toBe('win');
    expect(j.rollback.windows.every((w: { status: string }) => w.status === 'insufficient')).toBe(true);
    expect(j.decision).toBe('inconclusive');
    expect(j.reasons.join(' ')).toMatch(/not judged: rollback rule could not be evaluated/);
    expect(r.code).toBe(2);
  });

  it('a field the spec analyses that no row has (a typo) is a data error naming it, not a silent drop', () => {
    const spec = JSON.parse(readFileSync(join(ex('ab-win'), 'spec.json'), 'utf8'));
    spec.segments = ['Country'];
    spec.primary.field = 'convertd';
    const r = runCli(['analyze', logOf('ab-win'), '--spec', specFile('typo', spec), '--format', 'json', '--quiet']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/primary metric "conversion" field "convertd"/);
    expect(r.stderr).toMatch(/segment field "Country"/);
    expect(r.stderr).not.toMatch(/field field/);
  });

  it('an error field written only on failure counts absent values as successes', () => {
    const log = canaryLog('errors-only', (r, i) => {
      if (i % 100 === 0) r.error = 'timeout';
      else delete r.error;
    });
    const j = run(log, specFile('errors-only', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } })).json();
    const err = j.segments[0].metrics.find((m: { name: string }) => m.name === 'error_rate');
    expect(err.n_control + err.n_treatment).toBe(4000);
    expect(err.control_value).toBeLessThan(0.05);
  });

  it('an arm with no units at all makes the run invalid', () => {
    const log = canaryLog('no-treatment', (r) => {
      r.model = 'champion';
    });
    const r = run(log, specFile('no-treatment', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } }));
    expect(r.code).toBe(3);
    expect(r.json().reasons.join(' ')).toMatch(/treatment \(challenger\) arm has no units/);
  });

  it('epoch seconds in ts are flagged and the rollback rule is not judged on them', () => {
    const log = canaryLog('seconds', (r) => {
      r.ts = Math.floor((r.ts as number) / 1000);
    });
    const j = run(log, specFile('seconds', { ...baseSpec, allocation: { champion: 0.9, challenger: 0.1 } })).json();
    expect(j.warnings.join(' ')).toMatch(/look like epoch seconds/);
    expect(j.rollback.triggered).toBe(false);
    expect(j.decision).not.toBe('go');
  });

  it('--output naming the file stdin is read from (- < log -o /dev/stdin, or its path) is a usage error, and the log is left as it was; -o - is stdout', () => {
    const d = mkdtempSync(join(tmpdir(), 'clobber-stdin-'));
    const log = join(d, 'a.jsonl');
    copyFileSync(logOf('ab-win'), log);
    const before = readFileSync(log);
    const spec = join(ex('ab-win'), 'spec.json');
    for (const out of ['/dev/stdin', log]) {
      const r = spawnSync('bash', ['-c', `node "${ROOT}bin/abtool.js" analyze - --spec "${spec}" -o "${out}" --format json < "${log}"`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(64);
      expect(r.stderr).toContain(`--output ${out} is the file stdin is read from`);
      expect(readFileSync(log).equals(before)).toBe(true);
    }
    const dash = runCli(['analyze', log, '--spec', spec, '--format', 'json', '--quiet', '-o', '-'], { cwd: d });
    expect(dash.code).toBe(0);
    expect(dash.json().decision).toBe('go');
    expect(existsSync(join(d, '-'))).toBe(false);
  });

  it('without --format, the --output file\'s extension chooses the report: .html, .md, .json; --format wins', () => {
    const d = mkdtempSync(join(tmpdir(), 'format-by-name-'));
    const run = (name: string, ...extra: string[]) => {
      const out = join(d, name);
      expect(runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--quiet', '-o', out, ...extra]).code).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(run('r.html')).toMatch(/^<!doctype html>/);
    expect(run('r.HTM')).toMatch(/^<!doctype html>/);
    expect(run('r.md')).toMatch(/^## .* GO: ship the challenger/);
    expect(JSON.parse(run('r.json')).decision).toBe('go');
    expect(JSON.parse(run('r.html', '--format', 'json')).decision).toBe('go');
  });

  it('--output naming a file the run reads (a log, a log in a directory read, the spec) is a usage error, and the file is left as it was', () => {
    const d = mkdtempSync(join(tmpdir(), 'clobber-'));
    const logs = join(d, 'logs');
    mkdirSync(logs);
    const log = join(logs, 'a.jsonl');
    copyFileSync(logOf('ab-win'), log);
    const spec = join(d, 'spec.json');
    copyFileSync(join(ex('ab-win'), 'spec.json'), spec);
    const outside = join(d, 'outside.jsonl');
    copyFileSync(logOf('ab-win'), outside);
    symlinkSync(outside, join(logs, 'link.jsonl'));
    const hard = join(d, 'hard.jsonl');
    linkSync(log, hard);
    writeFileSync(`${spec}.lock`, '{"lock": "as plan writes it"}');
    const before = [readFileSync(log, 'utf8'), readFileSync(spec, 'utf8'), readFileSync(outside, 'utf8'), readFileSync(`${spec}.lock`, 'utf8')];
    const cases: [string[], string, RegExp][] = [
      [[log], log, /--output .*a\.jsonl is a log read \(.*a\.jsonl\): the report would replace it; write it elsewhere/],
      [[log], spec, /--output .*spec\.json is the spec \(.*spec\.json\)/],
      [[logs], log, /--output .*a\.jsonl is a log read \(.*logs\/a\.jsonl\)/],
      // another spelling of the same file
      [[log], join(logs, '..', 'logs', 'a.jsonl'), /is a log read/],
      // a file outside the directory read that a link in it leads to; a hard link to a log
      [[logs], outside, /--output .*outside\.jsonl is a log read \(.*logs\/link\.jsonl\)/],
      [[log], hard, /--output .*hard\.jsonl is a log read \(.*a\.jsonl\)/],
      // the spec's lock file
      [[log], `${spec}.lock`, /is the spec's lock file/],
    ];
    for (const [inputs, output, message] of cases) {
      const r = runCli(['analyze', ...inputs, '--spec', spec, '--format', 'json', '--output', output]);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(message);
    }
    expect([readFileSync(log, 'utf8'), readFileSync(spec, 'utf8'), readFileSync(outside, 'utf8'), readFileSync(`${spec}.lock`, 'utf8')]).toEqual(before);
    rmSync(`${spec}.lock`);
    rmSync(join(logs, 'link.jsonl'));
    // a report beside the logs, in the directory read, is fine (not a log's extension), and read next time as nothing
    const ok = runCli(['analyze', logs, '--spec', spec, '--format', 'json', '--output', join(logs, 'report.json')]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(readFileSync(join(logs, 'report.json'), 'utf8')).decision).toBe('go');
  });

  it('an output file that cannot be written is a usage error naming it, not an internal error', () => {
    const r = runCli(['analyze', logOf('ab-win'), '--spec', join(ex('ab-win'), 'spec.json'), '--format', 'json', '--output', '/nonexistent/x.json']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/--output \/nonexistent\/x.json/);
  });
});

describe('abtool analyze --format html: distribution charts', () => {
  it('a shadow run draws the latency CDF of both models and the score histogram', () => {
    const r = runCli(['analyze', logOf('shadow-drift'), '--spec', join(ex('shadow-drift'), 'spec.json'), '--format', 'html', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('class="chart cdf"');
    expect(r.stdout).toContain('class="chart histogram"');
    expect(r.stdout).toMatch(/class="cdf-control"[\s\S]*class="cdf-treatment"/);
    expect(r.stdout).not.toMatch(/NaN|undefined/);
  });
  it('the JSON report carries the distributions', () => {
    const j = runCli(['analyze', logOf('canary-slow'), '--spec', join(ex('canary-slow'), 'spec.json'), '--format', 'json', '--quiet']).json();
    expect(j.distributions.latency.field).toBe('latency_ms');
    expect(j.distributions.latency.probabilities).toHaveLength(101);
    // the challenger got slow: its p99 is above the champion's
    expect(j.distributions.latency.values.challenger[100]).toBeGreaterThan(j.distributions.latency.values.champion[100]);
  });
});

describe('abtool analyze: shadow with continuous predictions', () => {
  it('exact agreement of scores is not judged (no confident no-go from a meaningless comparison)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-cont-'));
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const s = (i * 7919) % 1000 / 1000;
      lines.push(JSON.stringify({ request_id: `r${i}`, user_id: `u${i}`, model: 'champion', prediction: s, score: s }));
      lines.push(JSON.stringify({ request_id: `r${i}`, user_id: `u${i}`, model: 'challenger', prediction: Math.round((s + 0.0001) * 1e6) / 1e6, score: s }));
    }
    writeFileSync(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ stage: 'shadow', control: 'champion', treatment: 'challenger', unit: 'request_id', agreement: { min_rate: 0.9 }, drift: [{ field: 'score', max_ks: 0.1 }] }));
    const r = runCli(['analyze', join(dir, 'logs.jsonl'), '--spec', join(dir, 'spec.json'), '--format', 'json', '--quiet']);
    const j = r.json();
    const ag = j.segments[0].shadow.agreement;
    expect(ag.ok).toBeNull();
    expect(ag.reason).toMatch(/continuous values/);
    expect(j.decision).toBe('inconclusive');
    expect(r.code).toBe(2);
  });
});

describe('abtool analyze: shadow segments by request', () => {
  it('a request belongs to the segment of the champion\'s record: a challenger that logs the segment field on few rows is not a challenger that never logged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-segmiss-'));
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const country = i % 2 === 0 ? 'BR' : 'DE';
      const base = { request_id: `r${i}`, user_id: `u${i}`, prediction: i % 3 === 0 ? 'approve' : 'review', score: (i % 10) / 10 };
      lines.push(JSON.stringify({ ...base, model: 'champion', country }));
      // the challenger writes country on one row in ten
      lines.push(JSON.stringify({ ...base, model: 'challenger', ...(i % 10 === 0 ? { country } : {}) }));
    }
    writeFileSync(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ stage: 'shadow', control: 'champion', treatment: 'challenger', unit: 'request_id', segments: ['country'], agreement: { min_rate: 0.9 }, drift: [{ field: 'score', max_ks: 0.1 }] }));
    const r = runCli(['analyze', join(dir, 'logs.jsonl'), '--spec', join(dir, 'spec.json'), '--format', 'json', '--quiet']);
    const j = r.json();
    expect([r.code, j.decision]).toEqual([0, 'go']);
    for (const s of j.segments.slice(1)) {
      expect(s.shadow.agreement.pairs, s.segment.country).toBe(200);
      expect(s.shadow.failures.reason).toMatch(/challenger failures 0 of 200 requests .* 0 requests never logged/);
      expect(s.shadow.drift[0].ok).toBe(true);
    }
  });
});

describe('abtool analyze: shadow agreement that chance gives', () => {
  it('a challenger always predicting the commonest class passes min_rate, and the reason says Cohen\'s kappa is 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-kappa-'));
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const base = { request_id: `r${i}`, user_id: `u${i}` };
      lines.push(JSON.stringify({ ...base, model: 'champion', prediction: i % 100 < 93 ? 'approve' : 'review' }));
      lines.push(JSON.stringify({ ...base, model: 'challenger', prediction: 'approve' }));
    }
    writeFileSync(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'spec.json'), JSON.stringify({ stage: 'shadow', control: 'champion', treatment: 'challenger', unit: 'request_id', agreement: { min_rate: 0.9 } }));
    const j = runCli(['analyze', join(dir, 'logs.jsonl'), '--spec', join(dir, 'spec.json'), '--format', 'json', '--quiet']).json();
    const ag = j.segments[0].shadow.agreement;
    expect([ag.rate, ag.kappa, ag.ok]).toEqual([0.93, 0, true]);
    expect(ag.reason).toMatch(/at or above the required 90\.00%; but Cohen's kappa is 0\.00: little more than chance agreement/);
  });
});

describe('abtool analyze: shadow agreement across segments', () => {
  it('a segment\'s agreement is judged at alpha / segments (Bonferroni), so one chance dip among 20 segments is no no-go; with correction none it is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abtool-agr-'));
    const lines: string[] = [];
    for (let seg = 0; seg < 20; seg++) {
      // 200 pairs a segment; 184 agree (92%), in segment 7 only 170 (85%: below 90%, its 95% Wilson interval too)
      const agree = seg === 7 ? 170 : 184;
      for (let i = 0; i < 200; i++) {
        const id = `r${seg}-${i}`;
        const p = i % 3 === 0 ? 'approve' : 'review';
        const q = i < agree ? p : p === 'approve' ? 'review' : 'approve';
        lines.push(JSON.stringify({ request_id: id, user_id: `u${seg}-${i}`, model: 'champion', country: `c${seg}`, prediction: p }));
        lines.push(JSON.stringify({ request_id: id, user_id: `u${seg}-${i}`, model: 'challenger', country: `c${seg}`, prediction: q }));
      }
    }
    writeFileSync(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
    const specOf = (correction: string) => {
      const p = join(dir, `spec-${correction}.json`);
      writeFileSync(p, JSON.stringify({ stage: 'shadow', control: 'champion', treatment: 'challenger', unit: 'request_id', segments: ['country'], correction, agreement: { min_rate: 0.9 } }));
      return p;
    };
    const holm = runCli(['analyze', join(dir, 'logs.jsonl'), '--spec', specOf('holm'), '--format', 'json', '--quiet']);
    const seg7 = holm.json().segments.find((g: { segment: Record<string, string> }) => g.segment.country === 'c7').shadow.agreement;
    expect(seg7.ok).toBeNull();
    expect(seg7.reason).toMatch(/^the models agree on 85\.00% of 200 paired requests \(99\.75% CI .* Bonferroni across 20 segments\), below the required 90\.00% but not significantly so/);
    expect(holm.json().decision).not.toBe('no-go');
    const none = runCli(['analyze', join(dir, 'logs.jsonl'), '--spec', specOf('none'), '--format', 'json', '--quiet']);
    expect(none.json().segments.find((g: { segment: Record<string, string> }) => g.segment.country === 'c7').shadow.agreement.ok).toBe(false);
    expect([none.code, none.json().decision]).toEqual([1, 'no-go']);
  });
});

describe('abtool analyze: levels, constant arms and long segment names in every format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'abtool-levels-'));
  const spec = (alpha: number, extra: Record<string, unknown> = {}): string => {
    const s = JSON.parse(readFileSync(join(ex('ab-win'), 'spec.json'), 'utf8')) as Record<string, unknown>;
    const p = join(dir, `spec-${alpha}-${Object.keys(extra).join('-')}.json`);
    writeFileSync(p, JSON.stringify({ ...s, alpha, ...extra }));
    return p;
  };

  it('alpha 0.001 is a 99.9% interval in the table, markdown, HTML and the reasons, never "100%"', () => {
    const s = spec(0.001);
    for (const format of ['table', 'markdown', 'html', 'json']) {
      const r = runCli(['analyze', logOf('ab-win'), '--spec', s, '--format', format, '--quiet']);
      expect(r.stdout, format).toMatch(/99\.9% CI/);
      expect(r.stdout, format).not.toMatch(/100% CI/);
    }
  });

  it('an alpha too small for a double to carry the level is a usage error naming the spec and the key', () => {
    const r = runCli(['analyze', logOf('ab-win'), '--spec', spec(1e-17), '--quiet']);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/spec-1e-17-\.json: alpha must be a number at least 1e-12 and below 1 \(got 1e-17\)/);
  });

  it('a 50 ms against 80 ms latency, each constant, fails a guardrail as mean, quantile and rank alike: no-go, exit 1', () => {
    const log = join(dir, 'constant.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const model = i % 2 === 0 ? 'champion' : 'challenger';
      lines.push(JSON.stringify({ ts: 1793000000000 + i, request_id: `r${i}`, user_id: `u${i}`, model, country: 'BR', latency_ms: model === 'champion' ? 50 : 80, error: false, converted: i % 7 === 0 ? 1 : 0 }));
    }
    writeFileSync(log, lines.join('\n') + '\n');
    for (const guard of [
      { type: 'mean' },
      { type: 'quantile', quantile: 0.99 },
      { type: 'rank' },
    ]) {
      const s = spec(0.05, { guardrails: [{ name: 'lat', field: 'latency_ms', direction: 'decrease', max_relative_change: 0.1, ...guard }] });
      const r = runCli(['analyze', log, '--spec', s, '--format', 'json', '--quiet']);
      const lat = r.json().segments[0].metrics.find((m: { name: string }) => m.name === 'lat');
      expect([r.code, lat.verdict, lat.ci], guard.type).toEqual([1, 'fail', [30, 30]]);
    }
  });

  it('in HTML a segment name of hundreds of characters wraps in its cell instead of pushing the other columns out of view', () => {
    const src = gunzipSafe(logOf('ab-win'));
    const log = join(dir, 'long-segment.jsonl');
    writeFileSync(log, src.replaceAll('"country":"BR"', `"country":"${'B'.repeat(200)}"`));
    const r = runCli(['analyze', log, '--spec', join(ex('ab-win'), 'spec.json'), '--format', 'html', '--quiet']);
    expect(r.stdout).toContain(`<td><div class="seg">country=${'B'.repeat(200)}</div></td>`);
    expect(r.stdout).toMatch(/\.seg\{max-width:16em;overflow-wrap:break-word\}/);
  });
});

function gunzipSafe(path: string): string {
  const b = readFileSync(path);
  return (b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b).toString('utf8');
}
