/**
 * `--format html`: one self-contained page a product owner opens from a CI artifact. Inline CSS and
 * inline SVG only: no script, no font, no image, no link to another host; a Content-Security-Policy
 * forbids the page from loading anything at all.
 *
 * Reading order: the decision (large, coloured by decision) with its reasons; the forest plot of every
 * metric per segment; the canary rollback rule over time; the shadow checks; the decision per segment;
 * the trust checks; the spec and its pre-registration; the input rows. When the decision is
 * `invalid`, the trust checks move up right after the decision, since they are why.
 *
 * Every string from the report is escaped. Every number goes through a formatter that prints an en
 * dash for a missing or non-finite value. A section that cannot be drawn (a report that breaks the
 * model's promises) shows a notice in its place: the rest of the page is still written.
 */
import { COLOR, VERDICT_COLOR, barChart, cdfChart, forestPlot, histogramChart, modelColor, rollbackQuantileChart, rollbackRatioChart, shareChart, type BarRow, type ForestEntry } from './charts.js';
import { DECISION_TEXT, confidencePercent, printable } from './format.js';
import type { Decision, MetricReport, Report, RollbackReport, SegmentReport, ShadowReport } from './model.js';
import { DASH, esc, int, isNum, num, percent, pval, signed, timeText } from './svg.js';
import { REJECTION_TEXT, type RejectReason } from '../ingest/types.js';

const DECISION_CLASS = { go: 'd-go', 'no-go': 'd-nogo', inconclusive: 'd-inconclusive', invalid: 'd-invalid' } as const satisfies Record<Decision, string>;

const STAGE_TEXT = { shadow: 'Shadow run', canary: 'Canary', ab: 'A/B test' } as const satisfies Record<Report['spec']['stage'], string>;

type Tone = 'ok' | 'bad' | 'warn' | 'invalid' | 'neutral';

const DECISION_TONE = { go: 'ok', 'no-go': 'bad', inconclusive: 'warn', invalid: 'invalid' } as const satisfies Record<Decision, Tone>;

const PREREG_TONE = { locked: 'ok', 'not-registered': 'warn', changed: 'bad', 'registered-late': 'warn' } as const satisfies Record<Report['trust']['preregistration']['status'], Tone>;

const lookup = <T>(table: Record<string, T>, key: unknown, fallback: T): T => (typeof key === 'string' && Object.hasOwn(table, key) ? table[key]! : fallback);

function badge(tone: Tone, label: string): string {
  return `<span class="badge b-${tone}">${esc(label)}</span>`;
}

function okBadge(ok: boolean | null | undefined, good = 'ok', bad = 'out of bounds'): string {
  return ok === true ? badge('ok', good) : ok === false ? badge('bad', bad) : badge('neutral', 'not judged');
}

function table(head: string[], rows: string[][], cls = ''): string {
  if (!rows.length) return '';
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.join('')}</tr>`).join('\n');
  return `<div class="scroll"><table class="${esc(cls)}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** A cell: text escaped; `n` right-aligns numbers. */
const td = (content: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(content)}</td>`;
/** A cell holding markup built by this file. */
const tdHtml = (markup: string, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${markup}</td>`;
/** A segment's cell: a name too long for it (hundreds of characters, no space) wraps instead of widening its column past the others. */
const segCell = (label: string) => tdHtml(`<div class="seg">${esc(label)}</div>`);

function keyValues(pairs: [string, string][]): string {
  return `<dl class="kv">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function list(items: string[], cls = ''): string {
  return items.length ? `<ul${cls ? ` class="${cls}"` : ''}>${items.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '';
}

function segmentLabel(s: SegmentReport): string {
  const e = Object.entries(s.segment ?? {});
  // (written out as the other formats write them: control characters and bidirectional marks)
  return e.length ? e.map(([k, v]) => `${printable(k, true)}=${printable(v, true)}`).join(', ') : 'overall';
}

function metricValue(m: MetricReport, v: number | null): string {
  if (!isNum(v)) return DASH;
  return m.type === 'proportion' ? percent(v, 2) : num(v, 5);
}

/** The absolute change, and the relative one on a second line. */
function metricChange(m: MetricReport): string {
  if (!isNum(m.estimate)) return DASH;
  const abs = esc(m.type === 'proportion' ? signed(m.estimate, 100, ' pts') : signed(m.estimate, 1, '', 4));
  return isNum(m.relative_change) ? `${abs}<br><span class="muted">${esc(signed(m.relative_change, 100, '%'))}</span>` : abs;
}

function metricInterval(m: MetricReport): string {
  if (!m.ci) return DASH;
  const f = (x: number | null, inf: string) => (isNum(x) ? (m.type === 'proportion' ? signed(x, 100, '', 3) : signed(x, 1, '', 4)) : inf);
  return `[${f(m.ci[0], '−∞')}, ${f(m.ci[1], '+∞')}]${m.type === 'proportion' ? ' pts' : ''}`;
}

/** The p-value, and the one adjusted across segments on a second line when it differs. */
function metricP(m: MetricReport): string {
  if (!isNum(m.p_value)) return DASH;
  if (isNum(m.p_value_adjusted) && m.p_value_adjusted !== m.p_value) return `${esc(pval(m.p_value))}<br><span class="muted">adj. ${esc(pval(m.p_value_adjusted))}</span>`;
  return esc(pval(m.p_value));
}

function section(id: string, title: string, body: () => string): string {
  let inner: string;
  try {
    inner = body();
  } catch (e) {
    inner = `<p class="section-error">This section could not be drawn: ${esc(e instanceof Error ? e.message : String(e))}</p>`;
  }
  if (!inner) return '';
  return `<section id="${esc(id)}">\n<h2>${esc(title)}</h2>\n${inner}\n</section>`;
}

// ---------------------------------------------------------------------------------------------

function header(r: Report): string {
  const text = lookup<string>(DECISION_TEXT, r.decision, `${String(r.decision ?? 'unknown').toUpperCase()}: unknown decision`);
  const cut = text.indexOf(': ');
  const word = cut > 0 ? text.slice(0, cut) : text;
  const headline = cut > 0 ? text.slice(cut + 2) : '';
  const stage = lookup<string>(STAGE_TEXT, r.spec?.stage, String(r.spec?.stage ?? 'experiment'));
  const reasons = r.reasons ?? [];
  const shown = reasons.slice(0, 8);
  const more = reasons.length > shown.length ? `<details><summary>${reasons.length - shown.length} more reason(s)</summary>${list(reasons.slice(shown.length))}</details>` : '';
  const span = r.data_from || r.data_to ? `data ${esc(timeText(r.data_from))} to ${esc(timeText(r.data_to))}` : 'no timestamps in the data';
  return `<header class="decision ${lookup<string>(DECISION_CLASS, r.decision, 'd-inconclusive')}">
<div class="kicker">${esc(stage)} · <b>${esc(r.spec?.name)}</b> · challenger <code>${esc(r.spec?.treatment)}</code> vs champion <code>${esc(r.spec?.control)}</code></div>
<div class="word">${esc(word)}</div>
${headline ? `<div class="headline">${esc(headline)}</div>` : ''}
${list(shown, 'reasons')}${more}
<div class="meta">${span} · ${int(r.input?.rows_read)} rows read · generated ${esc(timeText(r.generated_at))} by abtool ${esc(r.abtool_version)}</div>
</header>`;
}

function summaryChips(r: Report): string {
  const metrics = r.segments?.[0]?.metrics ?? [];
  const chips: string[] = [];
  const others = (r.segments ?? []).slice(1);
  for (const m of metrics) {
    // a segment can fail where the overall passes: say so, in the failing colour
    const bad = others.filter((s) => (s.metrics ?? []).some((x) => x.name === m.name && x.role === m.role && (x.verdict === 'fail' || x.verdict === 'loss')));
    const worst = bad.length ? ` · ${m.role === 'primary' ? 'loss' : 'fail'} in ${bad.length} segment(s)` : '';
    chips.push(`<span class="chip" style="--c:${esc(bad.length ? COLOR.red : verdictCss(m.verdict))}"><b>${esc(m.name)}</b> ${esc(m.verdict)}${esc(worst)}</span>`);
  }
  if (r.rollback) chips.push(`<span class="chip" style="--c:${r.rollback.triggered ? COLOR.red : COLOR.green}"><b>rollback</b> ${r.rollback.triggered ? 'fired' : 'not fired'}</span>`);
  const t = r.trust;
  if (t) {
    chips.push(`<span class="chip" style="--c:${t.ok ? COLOR.green : COLOR.purple}"><b>trust checks</b> ${t.ok ? 'pass' : 'failed'}</span>`);
    const p = t.preregistration;
    if (p) chips.push(`<span class="chip" style="--c:${toneCss(lookup<Tone>(PREREG_TONE, p.status, 'neutral'))}"><b>pre-registration</b> ${esc(p.status)}</span>`);
  }
  const segs = (r.segments ?? []).length;
  if (segs > 1) chips.push(`<span class="chip"><b>${segs - 1}</b> segment(s) besides overall</span>`);
  return chips.length ? `<div class="chips">${chips.join('')}</div>` : '';
}

/** The report's warnings (files skipped, suspicious timestamps, negative latencies...), under the decision. */
function warningsBlock(r: Report): string {
  const warnings = (r.warnings ?? []).map(String);
  if (warnings.length === 0) return '';
  return `<div class="warnings"><b>${warnings.length === 1 ? 'Warning' : `${warnings.length} warnings`}</b>${list(warnings)}</div>`;
}

const TONE_CSS = { ok: COLOR.green, bad: COLOR.red, warn: COLOR.amber, invalid: COLOR.purple, neutral: COLOR.grey } as const satisfies Record<Tone, string>;
const toneCss = (t: Tone) => TONE_CSS[t];
const verdictCss = (v: string): string => lookup<string>(VERDICT_COLOR, v, COLOR.grey);

// ---------------------------------------------------------------------------------------------

function metricsSection(r: Report): string {
  const entries: ForestEntry[] = [];
  for (const s of r.segments ?? []) for (const m of s.metrics ?? []) entries.push({ segment: segmentLabel(s), metric: m });
  if (!entries.length) {
    return r.spec?.stage === 'shadow' ? '' : '<p class="note">The spec defines no metric: the decision rests on the checks below.</p>';
  }
  const conf = entries.find((e) => isNum(e.metric.confidence))?.metric.confidence;
  const ci = isNum(conf) ? confidencePercent(conf) : 'the';
  const intro = `<p class="note">Each row is one metric in one segment: the point is the challenger's change against the champion (a diamond for the primary metric), the line its ${ci} confidence interval (an arrow: unbounded), the solid vertical line no change, and the dashed red line the largest change a guardrail tolerates in its bad direction. Colour tells the verdict: <span class="c-green">win / pass</span>, <span class="c-red">loss / fail</span>, <span class="c-amber">inconclusive</span>, <span class="c-grey">flat / no data</span>. Hover a verdict for its reason.</p>`;
  const control = r.spec?.control ?? 'control';
  const treatment = r.spec?.treatment ?? 'treatment';
  const head = ['segment', 'metric', control, treatment, 'change', `${ci} CI`, 'p', 'n', 'verdict'];
  const body = entries.map(({ segment, metric: m }) => {
    const cells = [
      segCell(segment),
      tdHtml(`<b>${esc(m.name)}</b>${m.role === 'primary' ? ' <span class="muted">(primary)</span>' : ''}`),
      td(metricValue(m, m.control_value), 'n'),
      td(metricValue(m, m.treatment_value), 'n'),
      tdHtml(metricChange(m), 'n'),
      td(metricInterval(m), 'n'),
      tdHtml(metricP(m), 'n'),
      tdHtml(`${esc(`${int(m.n_control)} / ${int(m.n_treatment)}`)}${m.n_unit ? `<br><span class="muted">${esc(m.n_unit)}</span>` : ''}`, 'n'),
      tdHtml(`<span class="verdict" style="color:${esc(verdictCss(m.verdict))}">${esc(m.verdict)}</span>`),
    ];
    const why = `<tr class="why"><td></td><td colspan="${head.length - 1}">${esc(m.reason)} <span class="muted">(${esc(m.test)})</span></td></tr>`;
    return `<tr class="main">${cells.join('')}</tr>\n${why}`;
  });
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  return `${intro}\n${forestPlot(entries)}\n<div class="scroll"><table class="metrics"><thead><tr>${th}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table></div>`;
}

function describeRule(rb: RollbackReport): string {
  const q = isNum(rb.quantile) ? `p${num(rb.quantile * 100, 6)}` : 'quantile';
  return `The rule fires when the challenger's ${q} ${rb.field} is above ${num(rb.max_ratio, 4)}× the champion's for ${num(rb.consecutive, 6)} consecutive ${rb.window} window(s). A window with fewer than ${num(rb.min_count, 6)} records per model is not judged: it neither breaks nor extends a streak.`;
}

function rollbackSection(r: Report): string {
  const rb = r.rollback;
  if (!rb) return '';
  const ws = rb.windows ?? [];
  const status = rb.triggered ? badge('bad', `fired ${timeText(rb.triggered_at)}`) : ws.some((w) => w.status !== 'insufficient') ? badge('ok', 'did not fire') : badge('warn', 'could not be judged');
  const counts = { healthy: 0, breach: 0, insufficient: 0 } as Record<string, number>;
  for (const w of ws) counts[w.status] = (counts[w.status] ?? 0) + 1;
  const parts = [
    `<p class="lead">${status} ${esc(rb.reason)}</p>`,
    `<p class="note">${esc(describeRule(rb))} ${int(ws.length)} window(s): ${int(counts.healthy)} healthy, ${int(counts.breach)} breach(es), ${int(counts.insufficient)} with too few records.</p>`,
  ];
  if (!ws.length) {
    parts.push('<p class="note">No window to draw: the logs have no timestamped values of the rollback field.</p>');
    return parts.join('\n');
  }
  parts.push('<h3>Challenger / champion ratio per window</h3>', rollbackRatioChart(rb));
  const q = rollbackQuantileChart(rb, r.spec?.control ?? 'control', r.spec?.treatment ?? 'treatment');
  if (q) parts.push(`<h3>${esc(isNum(rb.quantile) ? `p${num(rb.quantile * 100, 6)}` : 'Quantile')} ${esc(rb.field)} per window and model</h3>`, q);
  const LIMIT = 500;
  const rows = ws.slice(0, LIMIT).map((w) => [
    td(timeText(w.start)),
    td(timeText(w.end)),
    td(int(w.n_control), 'n'),
    td(int(w.n_treatment), 'n'),
    td(num(w.control_quantile, 4), 'n'),
    td(num(w.treatment_quantile, 4), 'n'),
    td(isNum(w.ratio) ? `${num(w.ratio, 4)}×` : DASH, 'n'),
    tdHtml(badge(w.status === 'breach' ? 'bad' : w.status === 'healthy' ? 'ok' : 'neutral', w.status)),
    td(int(w.streak), 'n'),
  ]);
  const more = ws.length > LIMIT ? `<p class="note">The first ${LIMIT} of ${int(ws.length)} windows are listed (the JSON report has all).</p>` : '';
  parts.push(
    `<details><summary>Every window</summary>${table(['start', 'end', `n ${r.spec?.control ?? 'control'}`, `n ${r.spec?.treatment ?? 'treatment'}`, `${r.spec?.control ?? 'control'}`, `${r.spec?.treatment ?? 'treatment'}`, 'ratio', 'status', 'streak'], rows)}${more}</details>`,
  );
  return parts.join('\n');
}

function shadowSection(r: Report): string {
  const segs = (r.segments ?? []).filter((s): s is SegmentReport & { shadow: ShadowReport } => !!s.shadow);
  if (!segs.length) return '';
  const control = r.spec?.control ?? 'control';
  const treatment = r.spec?.treatment ?? 'treatment';
  const parts: string[] = [];

  const agreements = segs.filter((s) => s.shadow.agreement);
  if (agreements.length) {
    const a0 = agreements[0]!.shadow.agreement!;
    const rows: BarRow[] = agreements.map((s) => {
      const a = s.shadow.agreement!;
      const kappa = isNum(a.kappa) ? ` · κ ${num(a.kappa, 2)}` : '';
      const ci = a.ci ? ` [${percent(a.ci[0])}, ${percent(a.ci[1])}]` : '';
      return {
        label: segmentLabel(s),
        value: isNum(a.rate) ? a.rate : null,
        ci: a.ci,
        limit: a.min_rate,
        color: a.ok === false ? COLOR.red : a.ok === true ? COLOR.green : COLOR.control,
        note: isNum(a.rate) ? `${percent(a.rate)}${ci} of ${int(a.pairs)} pairs${kappa}` : `no pairs (${int(a.pairs)})`,
      };
    });
    parts.push(
      `<h3>Agreement of the predictions (${esc(a0.field)}) per segment</h3>`,
      `<p class="note">Share of requests where both models predict the same; whisker: Wilson interval; dashed red: the spec's minimum rate.</p>`,
      barChart(rows, { domain: [0, 1], format: (v) => percent(v, 0), title: 'Agreement rate per segment with its Wilson interval', limitLabel: 'minimum', cls: 'agreement' }),
      list(agreements.map((s) => `${segmentLabel(s)}: ${s.shadow.agreement!.reason}`), 'small'),
    );
  }

  const drifts = segs.flatMap((s) => (s.shadow.drift ?? []).map((d) => ({ s, d })));
  if (drifts.length) {
    const rows: BarRow[] = drifts.map(({ s, d }) => ({
      label: `${segmentLabel(s)} · ${d.field}`,
      value: isNum(d.ks) ? d.ks : null,
      limit: d.max_ks,
      color: d.ok === false ? COLOR.red : d.ok === true ? COLOR.green : COLOR.grey,
      note: `KS ${num(d.ks, 3)} · p ${pval(d.p_value)} · limit ${num(d.max_ks, 3)} · n ${int(d.n_control)} / ${int(d.n_treatment)}`,
    }));
    const top = Math.min(1, Math.max(0.05, ...drifts.map(({ d }) => (isNum(d.ks) ? d.ks : 0)), ...drifts.map(({ d }) => (isNum(d.max_ks) ? d.max_ks : 0))) * 1.15);
    parts.push(
      '<h3>Drift of the score distributions (two-sample Kolmogorov–Smirnov)</h3>',
      `<p class="note">The largest gap between the two models' cumulative distributions (0: identical, 1: disjoint); dashed red: the spec's max_ks.</p>`,
      barChart(rows, { domain: [0, top], format: (v) => num(v, 2), title: 'KS distance per field and segment against max_ks', limitLabel: 'max_ks', cls: 'drift' }),
      list(drifts.map(({ s, d }) => `${segmentLabel(s)}: ${d.reason}`), 'small'),
    );
  }

  const fails = segs.filter((s) => s.shadow.failures);
  if (fails.length) {
    const pair = (rec: Record<string, number | null> | undefined, f: (v: number | null | undefined) => string) => `${f(rec?.[control])} / ${f(rec?.[treatment])}`;
    const rows = fails.map((s) => {
      const f = s.shadow.failures!;
      return [
        segCell(segmentLabel(s)),
        td(pair(f.requests, int), 'n'),
        td(pair(f.errors, int), 'n'),
        td(pair(f.missing_predictions, int), 'n'),
        td(`${int(f.unpaired_control)} / ${int(f.unpaired_treatment)}`, 'n'),
        td(pair(f.failure_rate, (v) => percent(v, 2)), 'n'),
        td(pval(f.p_value), 'n'),
        tdHtml(okBadge(f.ok)),
      ];
    });
    parts.push(
      '<h3>Failures per model</h3>',
      `<p class="note">Each cell: ${esc(control)} (champion) / ${esc(treatment)} (challenger). Unpaired: requests the other model never logged. The check compares the failure rates.</p>`,
      table(['segment', 'requests', 'errors', 'missing predictions', 'unpaired', 'failure rate', 'p', 'check'], rows, 'failures'),
      list(fails.map((s) => `${segmentLabel(s)}: ${s.shadow.failures!.reason}`), 'small'),
    );
  }

  const lat = segs.filter((s) => s.shadow.latency);
  if (lat.length) {
    const l = lat[0]!.shadow.latency!;
    const models = [...new Set([control, treatment, ...Object.keys(l.p50 ?? {}), ...Object.keys(l.p99 ?? {})])].filter((m) => m in (l.p50 ?? {}) || m in (l.p99 ?? {}));
    const rows: BarRow[] = [];
    for (const [q, values, ratio] of [['p50', l.p50, l.p50_ratio], ['p99', l.p99, l.p99_ratio]] as const) {
      for (const m of models) {
        const v = values?.[m];
        rows.push({
          label: `${q} ${m}`,
          value: isNum(v) ? v : null,
          color: modelColor(m, control, treatment),
          note: `${num(v, 4)}${m === treatment && isNum(ratio) ? ` · ${num(ratio, 3)}× the champion` : ''}`,
        });
      }
    }
    parts.push(`<h3>Latency per model (${esc(l.field)}, ${esc(segmentLabel(lat[0]!))})</h3>`, barChart(rows, { format: (v) => num(v, 3), title: 'Latency p50 and p99 per model', cls: 'latency' }));
    if (lat.length > 1) {
      const trows = lat.map((s) => {
        const x = s.shadow.latency!;
        return [segCell(segmentLabel(s)), td(num(x.p50?.[control], 4), 'n'), td(num(x.p50?.[treatment], 4), 'n'), td(isNum(x.p50_ratio) ? `${num(x.p50_ratio, 3)}×` : DASH, 'n'), td(num(x.p99?.[control], 4), 'n'), td(num(x.p99?.[treatment], 4), 'n'), td(isNum(x.p99_ratio) ? `${num(x.p99_ratio, 3)}×` : DASH, 'n')];
      });
      parts.push(table(['segment', `p50 ${control}`, `p50 ${treatment}`, 'ratio', `p99 ${control}`, `p99 ${treatment}`, 'ratio'], trows));
    }
  }
  return parts.join('\n');
}

function segmentsSection(r: Report): string {
  const segs = r.segments ?? [];
  if (!segs.length) return '<p class="note">No segment was analysed.</p>';
  const rows = segs.map((s) => [
    segCell(segmentLabel(s)),
    tdHtml(badge(lookup<Tone>(DECISION_TONE, s.decision, 'neutral'), String(s.decision))),
    td(Object.entries(s.units ?? {}).map(([k, v]) => `${k} ${int(v)}`).join(' · ')),
    tdHtml(list(s.reasons ?? [], 'small') || '<span class="muted">no reason given</span>', 'why'),
  ]);
  return table(['segment', 'decision', 'units', 'why'], rows, 'segments');
}

function trustSection(r: Report): string {
  const t = r.trust;
  if (!t) return '<p class="note">No trust checks in this report.</p>';
  const control = r.spec?.control ?? 'control';
  const treatment = r.spec?.treatment ?? 'treatment';
  const cards: string[] = [];
  const card = (tone: Tone, title: string, status: string, body: string) =>
    `<div class="card" style="--c:${toneCss(tone)}"><div class="card-title">${esc(title)} ${badge(tone, status)}</div>${body}</div>`;

  if (!t.applies) {
    cards.push(card('neutral', 'Assignment checks', 'not applicable', `<p class="small">In a ${esc(r.spec?.stage ?? 'shadow')} run both models score every request: there is no assignment to check for sample ratio or stickiness.</p>`));
  } else {
    if (t.srm) {
      const s = t.srm;
      cards.push(card(s.mismatch ? 'invalid' : isNum(s.p_value) ? 'ok' : 'neutral', 'Sample ratio (SRM)', s.mismatch ? 'mismatch' : isNum(s.p_value) ? 'as planned' : 'not checked', `<p class="small">${esc(s.reason)}</p>`));
    } else {
      cards.push(card('neutral', 'Sample ratio (SRM)', 'not checked', '<p class="small">The spec gives no allocation to compare with.</p>'));
    }
    if (t.stickiness) {
      const k = t.stickiness;
      cards.push(card(k.broken ? 'invalid' : 'ok', 'Sticky assignment', k.broken ? 'broken' : 'holds', `<p class="small">${esc(k.reason)}</p><p class="small muted">${int(k.units_in_both)} of ${int(k.units)} units in both (${percent(k.share_in_both, 2)}; limit ${percent(k.threshold, 2)})</p>`));
    }
  }
  cards.push(card(t.duplicates > 0 ? 'warn' : 'ok', 'Duplicates', t.duplicates > 0 ? `${int(t.duplicates)} dropped` : 'none', `<p class="small">${t.duplicates > 0 ? `${int(t.duplicates)} record(s) repeated the same request id and model; each was counted once.` : 'No record was logged twice.'}</p>`));
  const rejected = r.input?.rows_rejected ?? 0;
  const seen = r.input?.rows_seen ?? 0;
  cards.push(card(rejected > 0 ? 'warn' : 'ok', 'Rejected input rows', rejected > 0 ? `${int(rejected)} rejected` : 'none', `<p class="small">${int(rejected)} of ${int(seen)} rows (${percent(seen > 0 ? rejected / seen : 0, 2)}) could not be used; see Input below.</p>`));
  const p = t.preregistration;
  if (p) {
    const tone = lookup<Tone>(PREREG_TONE, p.status, 'neutral');
    cards.push(card(tone, 'Pre-registration', String(p.status), `<p class="small">${esc(p.reason)}</p>${p.registered_at ? `<p class="small muted">registered ${esc(timeText(p.registered_at))}</p>` : ''}`));
  }

  const parts = [`<div class="cards">${cards.join('')}</div>`];
  const sameAsDecision = (t.reasons ?? []).join('\n') === (r.reasons ?? []).join('\n');
  if (!t.ok && (t.reasons ?? []).length && !sameAsDecision) parts.push(`<p class="lead">${badge('invalid', 'trust check failed')} The results cannot be trusted:</p>`, list(t.reasons));
  if (t.applies && t.srm) {
    const s = t.srm;
    const stat = isNum(s.statistic) ? `χ² = ${num(s.statistic, 4)}, p = ${pval(s.p_value)} (mismatch below p = 0.001)` : 'not tested';
    parts.push('<h3>Planned vs observed units per model</h3>', shareChart(s.expected_share, s.observed_share, control, treatment, `overall: ${Object.entries(s.observed ?? {}).map(([k, v]) => `${k} ${int(v)} units`).join(', ')} · ${stat}`));
  }
  const segSrm = (r.segments ?? []).slice(1).filter((s) => s.srm);
  if (segSrm.length) {
    const rows = segSrm.map((s) => {
      const x = s.srm!;
      return [
        segCell(segmentLabel(s)),
        td(Object.entries(x.observed ?? {}).map(([k, v]) => `${k} ${int(v)}`).join(' · ')),
        td(Object.entries(x.observed_share ?? {}).map(([k, v]) => `${k} ${percent(v, 2)}`).join(' · ')),
        td(pval(x.p_value), 'n'),
        tdHtml(x.mismatch ? badge('invalid', 'mismatch') : isNum(x.p_value) ? badge('ok', 'as planned') : badge('neutral', 'not checked')),
      ];
    });
    parts.push('<details><summary>Sample ratio per segment</summary>', table(['segment', 'units', 'observed share', 'p', 'status'], rows), '</details>');
  }
  return parts.join('\n');
}

function specSection(r: Report): string {
  const s = r.spec;
  if (!s) return '';
  const p = r.trust?.preregistration;
  const pairs: [string, string][] = [
    ['name', esc(s.name)],
    ['stage', esc(lookup<string>(STAGE_TEXT, s.stage, String(s.stage)))],
    ['champion (control)', `<code>${esc(s.control)}</code>`],
    ['challenger (treatment)', `<code>${esc(s.treatment)}</code>`],
    ['unit of randomisation', `<code>${esc(s.unit)}</code>`],
    ['alpha', esc(num(s.alpha, 4))],
    ['correction across segments', esc(s.correction)],
    ['spec file', `<code>${esc(s.file)}</code>`],
  ];
  if (p) pairs.push(['pre-registration', `${badge(lookup<Tone>(PREREG_TONE, p.status, 'neutral'), String(p.status))} ${esc(p.reason)}${p.registered_at ? ` (registered ${esc(timeText(p.registered_at))})` : ''}`]);
  const metrics = r.segments?.[0]?.metrics ?? [];
  for (const m of metrics) {
    const tol = m.tolerance ? `; tolerates ${isNum(m.tolerance.relative) ? signed(m.direction === 'decrease' ? Math.abs(m.tolerance.relative) : -Math.abs(m.tolerance.relative), 100, '%') : DASH}${isNum(m.tolerance.absolute) ? ` (${m.type === 'proportion' ? signed(m.direction === 'decrease' ? Math.abs(m.tolerance.absolute) : -Math.abs(m.tolerance.absolute), 100, ' pts') : signed(m.direction === 'decrease' ? Math.abs(m.tolerance.absolute) : -Math.abs(m.tolerance.absolute), 1, '', 4)})` : ''}` : '';
    pairs.push([`${m.role} metric`, `<b>${esc(m.name)}</b>: ${esc(m.type)} of <code>${esc(m.field)}</code>, ${m.direction === 'decrease' ? 'lower' : 'higher'} is better${esc(tol)}`]);
  }
  if (r.rollback) pairs.push(['rollback rule', esc(describeRule(r.rollback))]);
  return keyValues(pairs);
}

function inputSection(r: Report): string {
  const i = r.input;
  if (!i) return '';
  const parts: string[] = [];
  parts.push(`<p>${int(i.rows_seen)} rows seen: ${int(i.rows_read)} used, ${int(i.rows_rejected)} rejected (${percent(i.rows_seen > 0 ? i.rows_rejected / i.rows_seen : 0, 2)}).</p>`);
  const rej = Object.entries(i.rejections ?? {}).filter(([, v]) => v && v.count > 0);
  if (rej.length) {
    const rows = rej.map(([k, v]) => [
      tdHtml(`<code>${esc(k)}</code>`),
      td(lookup<string>(REJECTION_TEXT as Record<RejectReason, string>, k, '')),
      td(int(v!.count), 'n'),
      tdHtml(list((v!.first ?? []).slice(0, 5).map((l) => `${l.file}:${int(l.line)}${l.field ? ` (${l.field})` : ''}: ${l.message}`), 'small locations')),
    ]);
    parts.push('<h3>Rejected rows per reason</h3>', table(['reason', 'meaning', 'rows', 'first locations'], rows, 'rejections'));
  }
  const unknown = Object.entries(i.unknown_models ?? {});
  if (unknown.length) parts.push('<h3>Models not named in the spec</h3>', table(['model', 'rows'], unknown.map(([k, v]) => [tdHtml(`<code>${esc(k)}</code>`), td(int(v), 'n')])));
  const missing = Object.entries(i.missing ?? {}).filter(([, byModel]) => Object.values(byModel ?? {}).some((v) => v > 0));
  if (missing.length) {
    const models = [...new Set(missing.flatMap(([, byModel]) => Object.keys(byModel ?? {})))];
    const rows = missing.map(([field, byModel]) => [tdHtml(`<code>${esc(field)}</code>`), ...models.map((m) => td(int(byModel?.[m] ?? 0), 'n'))]);
    parts.push('<h3>Missing values per field and model</h3>', table(['field', ...models], rows, 'missing'));
  } else parts.push('<p class="note">No missing values in the fields the analysis reads.</p>');
  const files = i.files ?? [];
  if (files.length) {
    const rows = files.map((f) => [tdHtml(`<code>${esc(f.path)}</code>`), td(`${f.format}${f.gzip ? ' (gzip)' : ''}`), td(int(f.rowsSeen), 'n'), td(int(f.bytes), 'n')]);
    parts.push('<details><summary>Files read</summary>', table(['file', 'format', 'rows', 'bytes'], rows), '</details>');
  }
  return parts.join('\n');
}

const CSS = `
:root{--go:${COLOR.green};--nogo:${COLOR.red};--inc:${COLOR.amber};--inv:${COLOR.purple};--ink:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#eef1f4}
main{max-width:1120px;margin:0 auto;padding:24px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:rgba(127,127,127,.14);padding:0 .3em;border-radius:4px}
header.decision{border-radius:14px;padding:26px 32px;color:#fff;background:var(--c)}
header.decision code{background:rgba(255,255,255,.2)}
.d-go{--c:var(--go)}.d-nogo{--c:var(--nogo)}.d-inconclusive{--c:var(--inc)}.d-invalid{--c:var(--inv)}
.decision .kicker{font-size:15px;opacity:.95}
.decision .word{font-size:72px;font-weight:800;line-height:1.05;letter-spacing:.01em;margin-top:6px}
.decision .headline{font-size:26px;font-weight:600}
.decision ul.reasons{margin:14px 0 4px;padding-left:22px;font-size:15px}
.decision ul.reasons li{margin:3px 0}
.decision details{font-size:14px}
.decision summary{color:#fff;opacity:.9}
.decision .meta{margin-top:12px;font-size:13px;opacity:.9}
.chips{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 0}
.warnings{background:#fff8e6;border:1px solid var(--line);border-left:6px solid var(--inc);border-radius:10px;padding:10px 14px;margin-top:14px;font-size:14px}
.warnings ul{margin:4px 0 0;padding-left:20px}
.chip{background:#fff;border:1px solid var(--line);border-left:5px solid var(--c,var(--line));border-radius:8px;padding:4px 10px;font-size:13px}
section{background:#fff;border:1px solid var(--line);border-radius:12px;padding:20px 24px;margin-top:18px}
h2{font-size:21px;margin:0 0 8px}
h3{font-size:16px;margin:18px 0 4px}
p{margin:6px 0}
.note{color:var(--muted);font-size:13.5px}
.lead{font-size:16px}
.small{font-size:12.5px}
.muted{color:var(--muted)}
ul.small{margin:4px 0;padding-left:18px}
.c-green{color:var(--go);font-weight:600}.c-red{color:var(--nogo);font-weight:600}.c-amber{color:var(--inc);font-weight:600}.c-grey{color:var(--muted);font-weight:600}
svg.chart{display:block;width:100%;height:auto;margin:6px 0 10px;fill:var(--ink)}
svg.chart text{font-family:inherit;font-size:12px}
svg.chart .fp-metric{font-size:14px;font-weight:700}
svg.chart .fp-sub,svg.chart .ax,svg.chart .legend,svg.chart .bar-note{font-size:11.5px;fill:var(--muted)}
svg.chart .fp-val{font-variant-numeric:tabular-nums}
svg.chart .fp-verdict{font-weight:700}
svg.chart .fp-none{font-style:italic;fill:#8c959f}
svg.chart .fp-tol-label,svg.chart .threshold-label,svg.chart .fired-label{fill:var(--nogo);font-size:11.5px;font-weight:600}
svg.chart .share-label{fill:#fff;font-weight:600}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{text-align:left;padding:5px 7px;border-bottom:1px solid var(--line);vertical-align:top}
.seg{max-width:16em;overflow-wrap:break-word}
th{background:var(--soft);font-weight:600;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.why{min-width:260px}
table.metrics tr.main td{border-bottom:none;padding-bottom:0}
table.metrics tr.why td{font-size:12px;color:var(--ink);padding-top:1px}
.verdict{font-weight:700}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:700;color:#fff;vertical-align:1px;white-space:nowrap}
.b-ok{background:var(--go)}.b-bad{background:var(--nogo)}.b-warn{background:var(--inc)}.b-invalid{background:var(--inv)}.b-neutral{background:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.card{border:1px solid var(--line);border-left:6px solid var(--c,var(--line));border-radius:10px;padding:10px 14px}
.card-title{font-weight:700;margin-bottom:4px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
details{margin:8px 0}summary{cursor:pointer;color:var(--muted)}
.section-error{color:var(--nogo);font-weight:600}
footer{color:var(--muted);font-size:12px;text-align:center;margin:18px 0}
@media print{body{background:#fff}main{padding:0}section{break-inside:avoid;border:none}}
`;

/** Latency CDF of both models and the histogram of each drift field: where the verdicts come from. */
function distributionsSection(r: Report): string {
  const d = r.distributions;
  if (!d) return '';
  const control = r.spec?.control ?? 'control';
  const treatment = r.spec?.treatment ?? 'treatment';
  const parts: string[] = [];
  if (d.latency) {
    const chart = cdfChart(d.latency, control, treatment);
    if (chart) parts.push(`<h3>${esc(d.latency.field)}: distribution function per model</h3><p class="note">A curve to the right is slower; the gap at the top is the tail (p99).</p>${chart}`);
  }
  for (const h of d.histograms ?? []) {
    const chart = histogramChart(h, control, treatment);
    if (chart) parts.push(`<h3>${esc(h.field)}: histogram per model</h3>${chart}`);
  }
  return parts.join('\n');
}

/** The whole page. */
export function renderHtml(r: Report): string {
  const sections: { id: string; title: string; body: () => string }[] = [
    { id: 'metrics', title: 'Metrics: the challenger against the champion', body: () => metricsSection(r) },
    { id: 'rollback', title: 'Canary rollback rule', body: () => rollbackSection(r) },
    { id: 'shadow', title: 'Shadow checks', body: () => shadowSection(r) },
    { id: 'distributions', title: 'Distributions', body: () => distributionsSection(r) },
    { id: 'segments', title: 'Decision per segment', body: () => segmentsSection(r) },
    { id: 'trust', title: 'Trust checks', body: () => trustSection(r) },
    { id: 'spec', title: 'The spec it was judged against', body: () => specSection(r) },
    { id: 'input', title: 'Input', body: () => inputSection(r) },
  ];
  if (r.decision === 'invalid') sections.unshift(...sections.splice(sections.findIndex((s) => s.id === 'trust'), 1));
  let top: string;
  try {
    top = header(r) + summaryChips(r) + warningsBlock(r);
  } catch (e) {
    top = `<header class="decision d-inconclusive"><p class="section-error">The decision could not be drawn: ${esc(e instanceof Error ? e.message : String(e))}</p></header>`;
  }
  const title = `${r.spec?.name ?? 'experiment'}: ${typeof r.decision === 'string' ? r.decision : 'report'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="abtool ${esc(r.abtool_version)}">
<link rel="icon" href="data:,">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${top}
${sections.map((s) => section(s.id, s.title, s.body)).filter(Boolean).join('\n')}
<footer>abtool ${esc(r.abtool_version)} · ${esc(r.spec?.file)} · generated ${esc(timeText(r.generated_at))}</footer>
</main>
</body>
</html>
`;
}
