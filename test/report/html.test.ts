/**
 * The HTML report as a string: hand-built reports for every situation (htmlReports.ts) and random
 * ones (fast-check, with nulls, NaN, Infinity and hostile strings) must give one self-contained page:
 * no script, no external URL, every report string escaped, an <svg> per chart, never "NaN" or
 * "undefined", and chart geometry that says what the numbers say (tolerance on the bad side, the
 * rollback marker at the moment it fired).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forestPlot } from '../../src/report/charts.js';
import { renderHtml } from '../../src/report/html.js';
import type { MetricReport, Report, RollbackWindow, SegmentReport } from '../../src/report/model.js';
import { REPORTS, canaryReport, degenerateReport, errorGuardrail, invalidReport, latencyGuardrail, metric, noGoReport, report, rollback, segment, shadowReport } from './htmlReports.js';

/** Every tag the renderer writes; anything else in the page came from unescaped data. */
const TAGS = new Set(['html', 'head', 'meta', 'link', 'title', 'style', 'body', 'main', 'header', 'footer', 'section', 'div', 'span', 'b', 'code', 'p', 'h2', 'h3', 'ul', 'li', 'details', 'summary', 'dl', 'dt', 'dd', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'br', 'svg', 'g', 'rect', 'line', 'path', 'circle', 'text']);

function expectSelfContained(html: string): void {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
  expect(html).not.toMatch(/<script|<iframe|<img|<object|<embed|@import|url\(|\bsrc=/i);
  expect(html).not.toMatch(/<[^>]*\son[a-z]+=[^>]*>/i);
  const bad = /NaN|undefined|Infinity|\[object Object\]/.exec(html);
  expect(bad && html.slice(Math.max(0, bad.index - 80), bad.index + 40)).toBeNull();
  expect(html).not.toContain('class="section-error"');
  // the only link is the empty data: favicon (so the browser asks for none)
  expect(html.match(/<link[^>]*>/g)).toEqual(['<link rel="icon" href="data:,">']);
  const tags = new Set([...html.matchAll(/<([a-zA-Z][\w-]*)/g)].map((m) => m[1]!.toLowerCase()));
  for (const t of tags) expect(TAGS, `unexpected tag <${t}>`).toContain(t);
  // markup is balanced for the tags that must close
  for (const t of ['svg', 'section', 'table', 'ul', 'details', 'header', 'text']) {
    expect((html.match(new RegExp(`<${t}[\\s>]`, 'g')) ?? []).length, `<${t}> opened vs closed`).toBe((html.match(new RegExp(`</${t}>`, 'g')) ?? []).length);
  }
}

const svgs = (html: string) => [...html.matchAll(/<svg class="chart ([\w-]+)"/g)].map((m) => m[1]);

/** Attributes of every element carrying `cls` in its class list. */
function byClass(markup: string, cls: string): Record<string, string>[] {
  return [...markup.matchAll(/<(\w+)\s([^>]*)>/g)]
    .map((m) => Object.fromEntries([...m[2]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])))
    .filter((a) => (a.class ?? '').split(/\s+/).includes(cls));
}

describe('renderHtml: one self-contained page per situation', () => {
  it.each(Object.keys(REPORTS) as (keyof typeof REPORTS)[])('%s report is self-contained and well-formed', (name) => {
    const r = REPORTS[name]();
    const html = renderHtml(r);
    expectSelfContained(html);
    expect(html).toContain(`<header class="decision d-${r.decision.replace('-', '')}">`);
    expect(html).toContain(`<div class="word">${r.decision.toUpperCase()}</div>`);
  });

  it('go: the decision with its reasons, a forest plot, the SRM chart, the spec and its pre-registration', () => {
    const html = renderHtml(REPORTS.go());
    expect(html).toContain('<div class="word">GO</div>');
    expect(html).toContain('ship the challenger');
    expect(html).toContain('primary metric won: conversion');
    expect(svgs(html)).toEqual(['forest', 'srm']);
    // one row per segment x metric: 5 segments x 3 metrics
    expect(byClass(html, 'fp-pt')).toHaveLength(15);
    expect(byClass(html, 'fp-zero')).toHaveLength(3);
    expect(html).toContain('checkout-ranker');
    expect(html).toContain('experiments/checkout.yaml');
    expect(html).toMatch(/pre-registration<\/dt><dd><span class="badge b-ok">locked<\/span>/);
    expect(html).toContain('holm');
  });

  it('the report\'s warnings under the decision, escaped; none, no block', () => {
    const warnings = ['skipped logs/<notes>.txt: not a supported log extension', 'segment field "country" has values that are not valid UTF-8 & read as one'];
    const html = renderHtml(report({ warnings }));
    expectSelfContained(html);
    const block = /<div class="warnings">(.*?)<\/div>/s.exec(html)?.[1];
    expect(block).toBe('<b>2 warnings</b><ul><li>skipped logs/&lt;notes&gt;.txt: not a supported log extension</li><li>segment field &quot;country&quot; has values that are not valid UTF-8 &amp; read as one</li></ul>');
    // between the decision and the first section
    expect(html.indexOf('<div class="warnings">')).toBeGreaterThan(html.indexOf('</header>'));
    expect(html.indexOf('<div class="warnings">')).toBeLessThan(html.indexOf('<section'));
    expect(renderHtml(report({ warnings: [warnings[0]!] }))).toContain('<div class="warnings"><b>Warning</b>');
    expect(renderHtml(report({ warnings: [] }))).not.toContain('class="warnings"');
    expect(renderHtml(report())).not.toContain('class="warnings"');
  });

  it('no-go: report strings are escaped wherever they appear', () => {
    const html = renderHtml(noGoReport());
    expect(html).toContain('<div class="word">NO-GO</div>');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('"x"');
    expect(html).toContain('country=A&amp;B &lt;i&gt;&quot;x&quot;&lt;/i&gt;');
    expect(html).toContain('&lt;&quot;quoted&quot;&gt; &amp; more');
    // the overall passes, one segment fails: the summary says both
    expect(html).toContain('<b>latency_p99</b> pass · fail in 1 segment(s)');
    const hostile = report({ spec: { ...report().spec, name: `<script>alert('x')</script>`, control: 'a"b', treatment: "c'd<" }, reasons: ['</section><script>1</script>'] });
    const h = renderHtml(hostile);
    expectSelfContained(h);
    expect(h).toContain('&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');
    expect(h).toContain('a&quot;b');
    expect(h).toContain('c&#39;d&lt;');
  });

  it('invalid: the trust checks come first, with SRM shares, stickiness, duplicates, rejected rows and their first locations', () => {
    const html = renderHtml(invalidReport());
    expectSelfContained(html);
    expect(html).toContain('<div class="word">INVALID</div>');
    expect(html.indexOf('id="trust"')).toBeLessThan(html.indexOf('id="metrics"'));
    expect(html).toContain('sample ratio mismatch: 8500 treatment units of 18500');
    expect(html).toMatch(/Sample ratio \(SRM\) <span class="badge b-invalid">mismatch/);
    expect(html).toMatch(/Sticky assignment <span class="badge b-invalid">broken/);
    expect(html).toContain('37 dropped');
    expect(html).toContain('logs/&lt;bad&gt;.jsonl:17: Unexpected token } in JSON');
    expect(html).toContain('malformed record (not valid JSON / not an object)');
    expect(html).toContain('champion-v0');
    expect(html).toMatch(/<code>latency_ms<\/code><\/td><td class="n">3<\/td><td class="n">41<\/td>/);
    expect(html).toMatch(/b-bad">changed<\/span>/);
    // planned 50/50 vs observed 54/46, drawn as two stacked bars of two models each
    expect(byClass(html, 'share')).toHaveLength(4);
    expect(html).toContain('champion 54.05%');
  });

  it('shadow: no primary, agreement bars with Wilson whiskers, drift vs max_ks, failures, latency per model', () => {
    const html = renderHtml(shadowReport());
    expectSelfContained(html);
    expect(svgs(html)).toEqual(['agreement', 'drift', 'latency']);
    expect(html).not.toContain('id="metrics"');
    expect(html).toContain('not applicable');
    const agreement = html.slice(html.indexOf('class="chart agreement"'), html.indexOf('class="chart drift"'));
    expect(byClass(agreement, 'bar')).toHaveLength(3);
    expect(byClass(agreement, 'limit')).toHaveLength(3);
    const drift = html.slice(html.indexOf('class="chart drift"'), html.indexOf('class="chart latency"'));
    expect(byClass(drift, 'bar')).toHaveLength(6);
    expect(drift).toContain('KS 0.21');
    expect(html).toContain('<td class="n">8 / 154</td>');
    expect(html).toContain('<td class="n">0.16% / 3.08%</td>');
    expect(html).toContain('1.25× the champion');
  });

  it('canary: the ratio per window, the threshold, insufficient windows apart, and the moment the rollback fired', () => {
    const r = canaryReport();
    const html = renderHtml(r);
    expectSelfContained(html);
    expect(svgs(html)).toEqual(['forest', 'rollback', 'rollback-quantiles', 'srm']);
    const ws = r.rollback!.windows;
    const count = (s: RollbackWindow['status']) => ws.filter((w) => w.status === s).length;
    expect(byClass(html, 'w-healthy')).toHaveLength(count('healthy'));
    expect(byClass(html, 'w-breach')).toHaveLength(count('breach'));
    expect(byClass(html, 'w-insufficient')).toHaveLength(3);
    expect(html).toContain('max ratio 1.2×');
    expect(html).toContain('rollback fired 2026-11-02 09:25 UTC');
    // windows 09:00 to 09:40 span x 70..960: 09:25 is at 70 + 25/40 * 890
    const fired = byClass(html, 'fired');
    expect(fired).toHaveLength(1);
    expect(Number(fired[0]!.x1)).toBeCloseTo(70 + (25 / 40) * 890, 1);
    // the threshold is above the ratio-1 line (smaller y)
    const threshold = byClass(html, 'threshold')[0]!;
    const breachYs = byClass(html, 'w-breach').map((c) => Number(c.cy));
    const healthyYs = byClass(html, 'w-healthy').map((c) => Number(c.cy));
    expect(Math.max(...breachYs)).toBeLessThan(Number(threshold.y1));
    expect(Math.min(...healthyYs)).toBeGreaterThan(Number(threshold.y1));
  });

  it('degenerate content: no metrics, null estimates, unbounded intervals, zero windows, no data span', () => {
    const html = renderHtml(degenerateReport());
    expectSelfContained(html);
    expect(html).toContain('not tested');
    expect(html).toContain('No window to draw');
    expect(html).toContain('no timestamps in the data');
    expect(html).toContain('[−∞, +4]');
    expect(svgs(html)).not.toContain('rollback');
    const bare = report({ segments: [], reasons: [], rollback: undefined });
    expectSelfContained(renderHtml(bare));
    expect(renderHtml(bare)).toContain('No segment was analysed');
  });
});

describe('forest plot geometry', () => {
  const xOf = (markup: string, cls: string) => byClass(markup, cls).map((a) => Number(a.x1 ?? a.cx));
  const one = (m: MetricReport) => forestPlot([{ segment: 'overall', metric: m }]);

  it('draws a "decrease is better" guardrail tolerance on the + side and an "increase" one on the - side', () => {
    const up = one(latencyGuardrail());
    expect(xOf(up, 'fp-tol')[0]).toBeGreaterThan(xOf(up, 'fp-zero')[0]!);
    expect(up).toContain('tolerates +20%');
    const down = one(latencyGuardrail({ name: 'throughput', direction: 'increase', relative_change: -0.02, relative_ci: [-0.06, 0.02] }));
    expect(xOf(down, 'fp-tol')[0]).toBeLessThan(xOf(down, 'fp-zero')[0]!);
    expect(down).toContain('tolerates -20%');
  });

  it('puts the point inside its interval and keeps the relative scale when relative_ci exists', () => {
    const svg = one(metric());
    const [ci] = byClass(svg, 'fp-ci');
    const d = byClass(svg, 'fp-pt')[0]!.d!;
    const px = Number(d.slice(1, d.indexOf(',')));
    expect(px).toBeGreaterThan(Number(ci!.x1));
    expect(px).toBeLessThan(Number(ci!.x2));
    expect(svg).toContain('+15% [+6%, +24%]');
    expect(svg).toContain('relative change of the challenger');
  });

  it('falls back to the absolute estimate and interval when there is no relative interval', () => {
    const svg = one(metric({ relative_change: null, relative_ci: null }));
    expect(svg).toContain('change in points');
    expect(svg).toContain('+1.5 pts [+0.6 pts, +2.4 pts]');
    const rank = one(metric({ type: 'rank', estimate: 3, ci: [1, 5], relative_change: 0.1, relative_ci: null, verdict: 'win' }));
    expect(rank).toContain('absolute change');
    expect(rank).toContain('+3 [+1, +5]');
  });

  it('draws a tolerance far off the data as an arrow at the edge with its value', () => {
    const svg = one(errorGuardrail());
    expect(svg).toContain('tolerated +500% ▸');
    expect(byClass(svg, 'fp-tol')[0]!.d).toMatch(/^M680,/);
  });

  it('colours each verdict', () => {
    const svg = forestPlot([
      { segment: 'a', metric: metric({ verdict: 'win' }) },
      { segment: 'b', metric: metric({ verdict: 'loss' }) },
      { segment: 'c', metric: latencyGuardrail({ verdict: 'inconclusive' }) },
    ]);
    expect(svg).toContain('fill="#1a7f37" class="fp-verdict"');
    expect(svg).toContain('fill="#cf222e" class="fp-verdict"');
    expect(svg).toContain('fill="#9a6700" class="fp-verdict"');
  });
});

// ---------------------------------------------------------------------------------------------
// random reports: never throws, never prints NaN / undefined, always escapes

const HOSTILE = ['', 'BR', '<b>x</b>', 'a & b', `"q" 'q'`, '</svg><script>x</script>', 'ünïcødé ✓', ' ', 'x'.repeat(200)];
const str = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 }).filter((s) => !/NaN|undefined|Infinity|object|http|\/\/|src|url\(|@import|on[a-z]+=|script/i.test(s)));
const numOrNull = fc.oneof(fc.constant(null), fc.double(), fc.constantFrom(0, -0, 1, -1, 1e-300, 1e300, NaN, Infinity, -Infinity));
const interval = fc.option(fc.tuple(numOrNull, numOrNull), { nil: null });
const count = fc.oneof(fc.nat(), fc.constantFrom(NaN, Infinity));
const time = fc.oneof(fc.constant(null), fc.constantFrom('2026-11-02T09:00:00.000Z', 'not a date', ''), fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()));

const metricArb: fc.Arbitrary<MetricReport> = fc.record({
  name: str,
  role: fc.constantFrom('primary', 'guardrail'),
  field: str,
  type: fc.constantFrom('proportion', 'mean', 'rank', 'quantile'),
  direction: fc.constantFrom('increase', 'decrease'),
  test: str,
  n_control: count,
  n_treatment: count,
  n_unit: fc.constantFrom('units', 'records'),
  control_value: numOrNull,
  treatment_value: numOrNull,
  estimate: numOrNull,
  relative_change: numOrNull,
  ci: interval,
  relative_ci: interval,
  confidence: fc.oneof(fc.constant(0.95), fc.double()),
  p_value: numOrNull,
  p_value_adjusted: numOrNull,
  tolerance: fc.option(fc.record({ absolute: numOrNull, relative: numOrNull }), { nil: null }),
  verdict: fc.constantFrom('win', 'loss', 'flat', 'pass', 'fail', 'inconclusive', 'no-data'),
  reason: str,
}) as fc.Arbitrary<MetricReport>;

const windowArb: fc.Arbitrary<RollbackWindow> = fc.record({
  start: time.map((t) => t ?? ''),
  end: time.map((t) => t ?? ''),
  n_control: count,
  n_treatment: count,
  control_quantile: numOrNull,
  treatment_quantile: numOrNull,
  ratio: numOrNull,
  status: fc.constantFrom('healthy', 'breach', 'insufficient'),
  streak: count,
});

const segmentArb: fc.Arbitrary<SegmentReport> = fc.record({
  segment: fc.dictionary(str, str, { maxKeys: 2 }),
  decision: fc.constantFrom('go', 'no-go', 'inconclusive', 'invalid'),
  reasons: fc.array(str, { maxLength: 3 }),
  units: fc.dictionary(str, count, { maxKeys: 3 }),
  srm: fc.option(
    fc.record({
      observed: fc.dictionary(str, count, { maxKeys: 3 }),
      expected_share: fc.dictionary(str, numOrNull.map((x) => x ?? 0), { maxKeys: 3 }),
      observed_share: fc.dictionary(str, numOrNull.map((x) => x ?? 0), { maxKeys: 3 }),
      statistic: numOrNull,
      p_value: numOrNull,
      mismatch: fc.boolean(),
      reason: str,
    }),
    { nil: null },
  ),
  metrics: fc.array(metricArb, { maxLength: 4 }),
  shadow: fc.option(
    fc.record({
      agreement: fc.option(fc.record({ field: str, pairs: count, agree: count, rate: numOrNull, ci: interval, kappa: numOrNull, min_rate: numOrNull, ok: fc.option(fc.boolean(), { nil: null }), reason: str }), { nil: null }),
      drift: fc.array(fc.record({ field: str, ks: numOrNull, p_value: numOrNull, max_ks: fc.double(), n_control: count, n_treatment: count, ok: fc.option(fc.boolean(), { nil: null }), reason: str }), { maxLength: 2 }),
      failures: fc.option(
        fc.record({
          errors: fc.dictionary(str, count, { maxKeys: 2 }),
          missing_predictions: fc.dictionary(str, count, { maxKeys: 2 }),
          unpaired_control: count,
          unpaired_treatment: count,
          requests: fc.dictionary(str, count, { maxKeys: 2 }),
          failure_rate: fc.dictionary(str, numOrNull, { maxKeys: 2 }),
          p_value: numOrNull,
          ok: fc.option(fc.boolean(), { nil: null }),
          reason: str,
        }),
        { nil: null },
      ),
      latency: fc.option(fc.record({ field: str, p50: fc.dictionary(str, numOrNull, { maxKeys: 2 }), p99: fc.dictionary(str, numOrNull, { maxKeys: 2 }), p50_ratio: numOrNull, p99_ratio: numOrNull }), { nil: null }),
    }),
    { nil: undefined },
  ),
}).map((s) => {
  if (s.shadow === undefined) delete s.shadow;
  return s as SegmentReport;
});

const reportArb: fc.Arbitrary<Report> = fc
  .record({
    base: fc.constantFrom(...Object.values(REPORTS)),
    name: str,
    control: str,
    treatment: str,
    stage: fc.constantFrom('shadow', 'canary', 'ab'),
    decision: fc.constantFrom('go', 'no-go', 'inconclusive', 'invalid'),
    reasons: fc.array(str, { maxLength: 10 }),
    segments: fc.array(segmentArb, { maxLength: 4 }),
    windows: fc.option(fc.array(windowArb, { maxLength: 30 }), { nil: undefined }),
    triggered: fc.boolean(),
    triggered_at: time,
    max_ratio: numOrNull,
    from: time,
  })
  .map((x) => {
    const r = x.base();
    r.spec = { ...r.spec, name: x.name, control: x.control, treatment: x.treatment, stage: x.stage };
    r.decision = x.decision;
    r.reasons = x.reasons;
    if (x.segments.length) r.segments = x.segments;
    r.data_from = x.from;
    if (x.windows) r.rollback = rollback({ windows: x.windows, triggered: x.triggered, triggered_at: x.triggered_at, max_ratio: x.max_ratio as number });
    return r;
  });

describe('renderHtml on random reports', () => {
  it('never throws, never prints NaN/undefined, never lets markup through', () => {
    fc.assert(
      fc.property(reportArb, (r) => {
        expectSelfContained(renderHtml(r));
      }),
      { numRuns: 300, seed: 20261102 },
    );
  });

  it('renders a report that went through JSON (NaN became null) the same way', () => {
    const r = canaryReport();
    expect(renderHtml(JSON.parse(JSON.stringify(r)))).toBe(renderHtml(r));
  });

  it('stays within a sensible size for a long canary (1 day of 1-minute windows)', () => {
    const r = canaryReport();
    r.rollback = rollback({ windows: Array.from({ length: 1440 }, (_, i) => ({ ...r.rollback!.windows[i % 40]!, start: new Date(Date.UTC(2026, 10, 2) + i * 60_000).toISOString(), end: new Date(Date.UTC(2026, 10, 2) + (i + 1) * 60_000).toISOString() })) });
    const html = renderHtml(r);
    expectSelfContained(html);
    expect(html.length).toBeLessThan(2_000_000);
  });
});

// keep the factory honest: the segment default is a complete SegmentReport
it('factory defaults are complete reports', () => {
  expect(segment().metrics.map((m) => m.name)).toEqual(['conversion', 'latency_p99', 'error_rate']);
});
