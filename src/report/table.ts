/** `--format table`: the decision first, then one row per metric and segment, then trust and input. */
import Table from 'cli-table3';
import { DECISION_TEXT, change, confidencePercent, interval, pValues, pct, printable, segmentName, value } from './format.js';
import type { Decision, Report } from './model.js';

const COLOR = { go: '\x1b[32m', 'no-go': '\x1b[31m', inconclusive: '\x1b[33m', invalid: '\x1b[35m' } as const satisfies Record<Decision, string>;

export function renderTable(r: Report, color = false): string {
  const c = (d: Decision, s: string) => (color ? `${COLOR[d]}\x1b[1m${s}\x1b[0m` : s);
  const style = { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] };
  const out: string[] = [];
  out.push(`${r.spec.name} (${r.spec.stage}): ${r.spec.treatment} vs ${r.spec.control}`);
  out.push('');
  out.push(c(r.decision, `DECISION: ${DECISION_TEXT[r.decision]}`));
  for (const reason of r.reasons) out.push(`  - ${printable(reason)}`);
  out.push('');

  if (r.segments.some((s) => s.metrics.length)) {
    const t = new Table({ head: ['segment', 'metric', 'control', 'treatment', 'change', `${confidencePercent(1 - r.spec.alpha)} CI`, 'p', 'verdict', 'n (c / t)'], style });
    for (const s of r.segments) {
      for (const m of s.metrics) {
        t.push([segmentName(s), `${m.name}${m.role === 'primary' ? ' *' : ''}`, value(m, m.control_value), value(m, m.treatment_value), change(m), interval(m), pValues(m), m.verdict, `${m.n_control} / ${m.n_treatment}`]);
      }
    }
    out.push(t.toString());
    out.push('  * primary metric. Tests: ' + [...new Set(r.segments.flatMap((s) => s.metrics.map((m) => `${m.name}: ${m.test}`)))].join('; '));
    out.push('');
  }

  const seg = new Table({ head: ['segment', 'decision', 'units (c / t)', 'why'], style, colWidths: [20, 14, 18, 70], wordWrap: true });
  for (const s of r.segments) {
    const units = Object.values(s.units).join(' / ');
    seg.push([segmentName(s), c(s.decision, s.decision), units, s.reasons.map((x) => printable(x)).join('\n')]);
  }
  out.push(seg.toString());

  for (const s of r.segments) {
    if (!s.shadow) continue;
    const sh = s.shadow;
    const lines: string[] = [];
    if (sh.agreement) lines.push(`agreement: ${sh.agreement.reason}${sh.agreement.kappa !== null ? `; Cohen's kappa ${sh.agreement.kappa.toFixed(3)}` : ''}`);
    for (const d of sh.drift) lines.push(`drift: ${d.reason}`);
    if (sh.failures) lines.push(`failures: ${sh.failures.reason}`);
    if (sh.latency) {
      const [cn, tn] = [r.spec.control, r.spec.treatment];
      const n = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(Number(v.toPrecision(4))));
      lines.push(`latency (${sh.latency.field}): p50 ${n(sh.latency.p50[tn])} vs ${n(sh.latency.p50[cn])}, p99 ${n(sh.latency.p99[tn])} vs ${n(sh.latency.p99[cn])} (challenger vs champion)`);
    }
    if (lines.length) {
      out.push('');
      out.push(`shadow checks (${segmentName(s)}):`);
      for (const l of lines) out.push(`  - ${l}`);
    }
  }

  if (r.rollback) {
    out.push('');
    const rb = r.rollback;
    out.push(`rollback rule: ${rb.reason}`);
    const breaches = rb.windows.filter((w) => w.status === 'breach').length;
    const insufficient = rb.windows.filter((w) => w.status === 'insufficient').length;
    out.push(`  ${rb.windows.length} windows of ${rb.window}: ${breaches} above ${rb.max_ratio}x, ${insufficient} with too few records`);
  }

  out.push('');
  out.push('trust checks:');
  const tr = r.trust;
  if (!tr.applies) out.push('  - SRM and sticky assignment do not apply to a shadow run (both models score every request)');
  if (tr.srm) out.push(`  - ${tr.srm.reason}`);
  if (tr.stickiness) out.push(`  - ${tr.stickiness.reason}`);
  out.push(`  - duplicates: ${tr.duplicates} duplicate record(s) dropped`);
  out.push(`  - pre-registration: ${tr.preregistration.reason}`);

  out.push('');
  const inp = r.input;
  for (const w of r.warnings) out.push(`warning: ${printable(w)}`);
  out.push(`input: ${inp.rows_read} rows used, ${inp.rows_rejected} rejected (${pct(inp.rows_seen ? inp.rows_rejected / inp.rows_seen : 0)}) from ${inp.files.length} file(s)`);
  if (inp.rows_excluded) out.push(`  - ${inp.rows_excluded} accepted rows of units seen under both models were excluded`);
  for (const [reason, v] of Object.entries(inp.rejections)) {
    if (!v) continue;
    const where = v.first.slice(0, 3).map((l) => `${l.file}:${l.line}${l.field ? ` (${l.field})` : ''}`).join(', ');
    out.push(`  - ${reason}: ${v.count}${where ? `, first at ${where}` : ''}`);
  }
  const missing = Object.entries(inp.missing).filter(([, per]) => Object.values(per).some((n) => n > 0));
  for (const [field, per] of missing) out.push(`  - missing ${field}: ${Object.entries(per).map(([m, n]) => `${m} ${n}`).join(', ')}`);
  return out.join('\n') + '\n';
}
