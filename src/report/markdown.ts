/**
 * `--format markdown`: a pull-request comment or CI job summary, at most a screen long: the decision,
 * one table of metrics per segment, trust checks; details folded in <details>.
 */
import { DECISION_TEXT, change, interval, pValues, pct, printable, segmentName, value } from './format.js';
import type { Decision, Report } from './model.js';

const ICON = { go: '✅', 'no-go': '⛔', inconclusive: '⚠️', invalid: '🚫' } as const satisfies Record<Decision, string>;

/** Text from the data (segment values, names, reasons) must not turn into markup, nor its control characters reach a terminal. */
const esc = (s: string) =>
  printable(s.replace(/\r?\n/g, ' '))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');

/** A CI comment must stay short: GitHub cuts comments at 65,536 characters. */
const MAX_ROWS = 20;
const MAX_DETAILS_CHARS = 40_000;

const SEVERITY = { invalid: 0, 'no-go': 1, inconclusive: 2, go: 3 } as const satisfies Record<Decision, number>;

export function renderMarkdown(r: Report): string {
  const out: string[] = [];
  out.push(`## ${ICON[r.decision]} ${DECISION_TEXT[r.decision]}`);
  out.push('');
  out.push(`**${esc(r.spec.name)}** (${r.spec.stage}): \`${r.spec.treatment}\` vs \`${r.spec.control}\`, unit \`${r.spec.unit}\`, alpha ${r.spec.alpha}, correction ${r.spec.correction}`);
  out.push('');
  for (const reason of r.reasons.slice(0, 6)) out.push(`- ${esc(reason)}`);
  if (r.reasons.length > 6) out.push(`- ... and ${r.reasons.length - 6} more (see details)`);
  out.push('');
  // the overall segment first, then the segments in the worst state
  const ranked = [r.segments[0]!, ...r.segments.slice(1).sort((a, b) => SEVERITY[a.decision] - SEVERITY[b.decision])].filter(Boolean);
  const rows = ranked.flatMap((s) => s.metrics.map((m) => ({ s, m })));
  if (rows.length) {
    out.push('| segment | metric | control | treatment | change | CI | p | verdict |');
    out.push('|---|---|---:|---:|---:|---|---:|---|');
    const shown = rows.slice(0, MAX_ROWS);
    for (const { s, m } of shown) {
      out.push(`| ${esc(segmentName(s))} | ${esc(m.name)}${m.role === 'primary' ? ' (primary)' : ''} | ${value(m, m.control_value)} | ${value(m, m.treatment_value)} | ${change(m)} | ${interval(m)} | ${pValues(m)} | **${m.verdict}** |`);
    }
    if (rows.length > shown.length) out.push(`\n_${rows.length - shown.length} more rows in the details below._`);
    out.push('');
  }
  out.push('| segment | decision | units |');
  out.push('|---|---|---|');
  for (const s of ranked.slice(0, MAX_ROWS)) out.push(`| ${esc(segmentName(s))} | ${ICON[s.decision]} ${s.decision} | ${Object.entries(s.units).map(([k, v]) => `${k} ${v}`).join(', ')} |`);
  if (ranked.length > MAX_ROWS) out.push(`\n_${ranked.length - MAX_ROWS} more segments in the details below._`);
  out.push('');
  for (const w of r.warnings) out.push(`> **warning**: ${esc(w)}\n`);
  const t = r.trust;
  const trust: string[] = [];
  if (t.srm) trust.push(t.srm.reason);
  if (t.stickiness) trust.push(t.stickiness.reason);
  trust.push(`${t.duplicates} duplicate record(s) dropped`);
  trust.push(`pre-registration: ${t.preregistration.reason}`);
  trust.push(`input: ${r.input.rows_read} rows used, ${r.input.rows_rejected} rejected (${pct(r.input.rows_seen ? r.input.rows_rejected / r.input.rows_seen : 0)})`);
  if (r.rollback) trust.push(`rollback: ${r.rollback.reason}`);
  out.push('**Checks**');
  out.push('');
  for (const x of trust) out.push(`- ${esc(x)}`);
  out.push('');
  out.push('<details><summary>Details: every verdict with its reason</summary>');
  out.push('');
  let budget = MAX_DETAILS_CHARS;
  for (const [i, s] of ranked.entries()) {
    if (budget <= 0) {
      out.push(`_${ranked.length - i} more segments not shown; the JSON or HTML report has them all._`);
      out.push('');
      break;
    }
    const before = out.join('\n').length;
    out.push(`**${esc(segmentName(s))}: ${s.decision}**`);
    out.push('');
    for (const reason of s.reasons) out.push(`- ${esc(reason)}`);
    for (const m of s.metrics) out.push(`- ${esc(m.name)} (${m.verdict}, ${esc(m.test)}): ${esc(m.reason)}`);
    if (s.shadow) {
      if (s.shadow.agreement) out.push(`- agreement: ${esc(s.shadow.agreement.reason)}`);
      for (const d of s.shadow.drift) out.push(`- drift: ${esc(d.reason)}`);
      if (s.shadow.failures) out.push(`- failures: ${esc(s.shadow.failures.reason)}`);
    }
    out.push('');
    budget -= out.join('\n').length - before;
  }
  const rej = Object.entries(r.input.rejections).filter(([, v]) => v && v.count > 0);
  if (rej.length) {
    out.push('Rejected rows:');
    for (const [k, v] of rej) out.push(`- ${k}: ${v!.count}${v!.first.length ? ` (first at ${v!.first.slice(0, 3).map((l) => `${l.file}:${l.line}`).join(', ')})` : ''}`);
    out.push('');
  }
  out.push('</details>');
  return out.join('\n') + '\n';
}
