/** Number and label formatting shared by the renderers (pure). */
import type { Decision, MetricReport, SegmentReport } from './model.js';

export { confidencePercent } from '../core/percent.js';

export function segmentName(s: SegmentReport): string {
  const e = Object.entries(s.segment);
  return e.length ? e.map(([k, v]) => `${printable(k, true)}=${printable(v, true)}`).join(', ') : 'overall';
}

/**
 * Text from the logs with its control characters and bidirectional marks written out (`\n`,
 * `\u001b`, `\u202e`...): a segment value holding an escape sequence, a carriage return or a
 * right-to-left override must not drive the terminal, break a table or show reversed.
 * `backslashes`: the text's own backslashes doubled (segment values: told apart from the escapes).
 */
export function printable(text: string, backslashes = false): string {
  // (a value's own backslashes doubled, so that `a\\nb` and a value holding a newline do not read the same)
  const t = backslashes ? text.replaceAll('\\', '\\\\') : text;
  // control characters, and the marks that reorder text (a right-to-left override would show a
  // segment's value reversed)
  return t.replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

export function value(m: MetricReport, v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '-';
  if (m.type === 'proportion') return `${(100 * v).toPrecision(4)}%`;
  return String(Number(v.toPrecision(5)));
}

export function change(m: MetricReport): string {
  if (m.estimate === null) return '-';
  const abs = m.type === 'proportion' ? `${m.estimate >= 0 ? '+' : ''}${(100 * m.estimate).toPrecision(3)} pts` : `${m.estimate >= 0 ? '+' : ''}${Number(m.estimate.toPrecision(4))}`;
  const rel = m.relative_change === null ? '' : ` (${m.relative_change >= 0 ? '+' : ''}${(100 * m.relative_change).toFixed(1)}%)`;
  return abs + rel;
}

export function interval(m: MetricReport): string {
  if (!m.ci) return '-';
  const f = (x: number | null) => {
    if (x === null) return 'unbounded';
    return m.type === 'proportion' ? `${x >= 0 ? '+' : ''}${(100 * x).toPrecision(3)}` : `${x >= 0 ? '+' : ''}${Number(x.toPrecision(4))}`;
  };
  return `[${f(m.ci[0])}, ${f(m.ci[1])}]${m.type === 'proportion' ? ' pts' : ''}`;
}

export function pValue(p: number | null): string {
  if (p === null) return '-';
  if (p === 0) return '< 1e-300';
  if (p < 1e-4) return p.toExponential(1);
  return p.toPrecision(2);
}

export function pValues(m: MetricReport): string {
  if (m.p_value === null) return '-';
  if (m.p_value_adjusted !== null && m.p_value_adjusted !== m.p_value) return `${pValue(m.p_value)} (adj ${pValue(m.p_value_adjusted)})`;
  return pValue(m.p_value);
}

export const DECISION_TEXT = {
  go: 'GO: ship the challenger',
  'no-go': 'NO-GO: do not ship the challenger',
  inconclusive: 'INCONCLUSIVE: not enough evidence either way',
  invalid: 'INVALID: the experiment cannot be trusted',
} as const satisfies Record<Decision, string>;

export function pct(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(digits)}%`;
}
