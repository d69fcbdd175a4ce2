/**
 * Verdicts and decisions (CONTRACT.md section 3), as pure functions with their reasons in words a
 * product owner understands.
 *
 * Primary: `win` / `loss` when the (segment-adjusted) p-value is below alpha, by the sign of the
 * change against the metric's direction; else `flat`, which says "underpowered" when there are fewer
 * units than the spec's mde, alpha and power need.
 * Guardrail (a non-inferiority check against the tolerated change T in the bad direction, using the
 * two-sided 1 - alpha interval): `pass` when the interval's bound in the bad direction stays within T;
 * `fail` when the point estimate is beyond T and the harm is significant (the interval excludes no
 * change); else `inconclusive`.
 * Segment: `invalid` (trust check failed) > `no-go` (a guardrail fails, the primary loses, drift or
 * agreement out of bounds, the rollback rule fired) > `go` (primary wins, every guardrail passes)
 * > `inconclusive`. Run: `invalid` if overall is, else `no-go` if any segment is, else overall's.
 */
import { confidencePercent } from '../core/percent.js';
import type { Decision, MetricReport, PrimaryVerdict, SegmentReport, Verdict } from '../report/model.js';
import type { MetricStats, Metric } from './metrics.js';
import type { GuardrailMetric } from './spec.js';

export function formatValue(type: Metric['type'], v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  if (type === 'proportion') return `${(100 * v).toPrecision(3)}%`;
  return Number(v.toPrecision(4)).toString();
}

function formatChange(type: Metric['type'], v: number): string {
  const sign = v > 0 ? '+' : v < 0 ? '-' : '';
  if (type === 'proportion') return `${sign}${(100 * Math.abs(v)).toPrecision(3)} pts`;
  return `${sign}${Number(Math.abs(v).toPrecision(4))}`;
}

function formatRel(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  return ` (${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}%)`;
}

/** "p = 0.012", "p = 3.1e-9", or "p < 1e-300" for an underflow. */
export function formatP(p: number): string {
  if (p === 0) return 'p < 1e-300';
  return `p = ${p < 1e-4 ? p.toExponential(1) : p.toPrecision(2)}`;
}

function describe(metric: Metric, s: MetricStats, confidence: number, p: number | null): string {
  const rel = s.controlValue ? (s.estimate ?? 0) / Math.abs(s.controlValue) : null;
  const ci = s.ci ? `, ${confidencePercent(confidence)} CI ${s.ci.map((x) => (x === null ? 'unbounded' : formatChange(metric.type, x))).join(' to ')}` : '';
  const pv = p === null ? '' : `, ${formatP(p)}`;
  const what = metric.type === 'quantile' ? `p${Number((metric.quantile! * 100).toPrecision(6))} ` : metric.type === 'rank' ? 'median ' : '';
  const change = metric.type === 'rank' ? 'Hodges-Lehmann shift' : 'change';
  return `${metric.name}: ${what}${formatValue(metric.type, s.treatmentValue)} vs ${formatValue(metric.type, s.controlValue)} (${change} ${formatChange(metric.type, s.estimate ?? 0)}${formatRel(rel)}${ci}${pv})`;
}

/** Whether the interval excludes zero, on which side: 1 above, -1 below, 0 neither. */
function excludesZero(ci: [number | null, number | null] | null): -1 | 0 | 1 {
  if (!ci) return 0;
  if (ci[0] !== null && ci[0] > 0) return 1;
  if (ci[1] !== null && ci[1] < 0) return -1;
  return 0;
}

/** Units (or records) each arm needs for the primary's mde at the spec's alpha and power. */
export interface UnitsNeeded {
  control: number;
  treatment: number;
}

export function primaryVerdict(
  metric: Metric,
  s: MetricStats,
  pAdjusted: number | null,
  alpha: number,
  needed: UnitsNeeded | null,
  adjusted: boolean,
): { verdict: PrimaryVerdict; reason: string } {
  // the contract's primary verdicts are win | loss | flat: untestable data is flat, with its reason
  if (s.degenerate !== null) return { verdict: 'flat', reason: `${metric.name}: not tested: ${s.degenerate}` };
  const good = metric.direction === 'increase' ? 1 : -1;
  const base = describe(metric, s, 1 - alpha, pAdjusted);
  const adj = adjusted ? ' after correction across segments' : '';
  let significantSide: -1 | 0 | 1;
  if (pAdjusted !== null) significantSide = pAdjusted < alpha ? s.effectSign : 0;
  else significantSide = excludesZero(s.ci);
  if (significantSide === good) return { verdict: 'win', reason: `${base}: a significant improvement${adj}` };
  if (significantSide === -good) return { verdict: 'loss', reason: `${base}: significantly worse${adj}` };
  if (needed !== null && (s.nControl < needed.control || s.nTreatment < needed.treatment)) {
    const what = s.nUnit === 'units' ? 'units' : 'records';
    const has = needed.control === needed.treatment && s.nControl === s.nTreatment ? `${s.nControl} ${what} per group` : `${s.nControl} control and ${s.nTreatment} treatment ${what}`;
    const needs = needed.control === needed.treatment ? `${needed.control} per group` : `${needed.control} control and ${needed.treatment} treatment`;
    return { verdict: 'flat', reason: `${base}: no significant difference${adj}; underpowered: has ${has}, needs ${needs}` };
  }
  return { verdict: 'flat', reason: `${base}: no significant difference${adj}` };
}

export interface ToleranceBound {
  absolute: number | null;
  relative: number | null;
}

/**
 * A guardrail's verdict (CONTRACT section 3): pass when the interval's bound in the bad direction
 * stays within the tolerated change; fail when the point estimate is beyond it and the harm is
 * significant: the interval excludes no change and the test's own (unadjusted) p-value is below
 * alpha; else inconclusive. `pAdjusted` (the segments' adjusted p-value) stands in only when the
 * statistics have no p-value of their own.
 */
export function guardrailVerdict(
  metric: GuardrailMetric,
  s: MetricStats,
  pAdjusted: number | null,
  alpha: number,
): { verdict: Verdict; reason: string; tolerance: ToleranceBound } {
  const tol = metric.tolerance;
  if (s.degenerate !== null) {
    return { verdict: 'inconclusive', reason: `${metric.name}: not tested: ${s.degenerate}`, tolerance: { absolute: tol.kind === 'absolute' ? tol.max : null, relative: tol.kind === 'relative' ? tol.max : null } };
  }
  // harm is positive in the bad direction
  const bad = metric.direction === 'decrease' ? 1 : -1;
  let est: number;
  let lo: number | null;
  let hi: number | null;
  let limit: number;
  let tolerance: ToleranceBound;
  if (tol.kind === 'relative') {
    tolerance = { absolute: s.controlValue !== null ? tol.max * Math.abs(s.controlValue) : null, relative: tol.max };
    if (s.relativeCi && s.controlValue) {
      est = (s.estimate ?? 0) / Math.abs(s.controlValue);
      [lo, hi] = s.relativeCi;
      limit = tol.max;
    } else if (tolerance.absolute !== null && s.ci) {
      est = s.estimate ?? 0;
      [lo, hi] = s.ci;
      limit = tolerance.absolute;
    } else {
      return { verdict: 'inconclusive', reason: `${metric.name}: the control's value is 0, so a relative change cannot be judged`, tolerance };
    }
  } else {
    tolerance = { absolute: tol.max, relative: s.controlValue ? tol.max / Math.abs(s.controlValue) : null };
    est = s.estimate ?? 0;
    [lo, hi] = s.ci ?? [null, null];
    limit = tol.max;
  }
  const harm = bad * est;
  const worst = bad === 1 ? hi : lo === null ? null : -lo;
  const best = bad === 1 ? lo : hi === null ? null : -hi;
  // the test's own p-value (not the segments' adjusted one, which the report lists beside it)
  const base = describe(metric, s, 1 - alpha, s.pValue ?? pAdjusted);
  const tolText = tol.kind === 'relative' ? `${(100 * tol.max).toFixed(1)}%` : formatChange(metric.type, tol.max).replace(/^\+/, '');
  const worse = metric.direction === 'decrease' ? 'higher' : 'lower';
  if (worst !== null && worst <= limit) {
    return { verdict: 'pass', reason: `${base}: at worst ${tolText} ${worse} is tolerated, and the interval stays within it`, tolerance };
  }
  // significant harm: the interval excludes no change (CONTRACT section 3), and the test's own
  // p-value agrees (an interval and a test can disagree at the edge: a delta-method relative interval
  // or an unpooled one against a pooled, continuity-corrected test). In a segment too, unadjusted: the
  // correction across segments keeps a primary from winning by chance in one of many segments; a
  // guardrail's harm is not discounted for the segments looked at
  const p = s.pValue ?? pAdjusted;
  const significant = best !== null && best > 0 && (p === null || p < alpha);
  if (harm > limit && significant) {
    return { verdict: 'fail', reason: `${base}: significantly ${worse}, beyond the tolerated ${tolText}`, tolerance };
  }
  return { verdict: 'inconclusive', reason: `${base}: cannot rule out a change beyond the tolerated ${tolText} ${worse}`, tolerance };
}

export interface SegmentChecks {
  invalidReasons: string[];
  metrics: MetricReport[];
  /**
   * shadow and rollback checks: ok false = out of bounds (no-go); ok null = could not be judged, which
   * blocks a go when the check is `required` (e.g. a rollback rule no window could be judged against)
   */
  checks: { ok: boolean | null; reason: string; required?: boolean }[];
  /** no primary in the spec (shadow): go needs every check to pass */
  hasPrimary: boolean;
}

export function segmentDecision(c: SegmentChecks): { decision: Decision; reasons: string[] } {
  if (c.invalidReasons.length) return { decision: 'invalid', reasons: c.invalidReasons };
  const noGo: string[] = [];
  for (const m of c.metrics) {
    if (m.role === 'guardrail' && m.verdict === 'fail') noGo.push(`guardrail failed: ${m.reason}`);
    if (m.role === 'primary' && m.verdict === 'loss') noGo.push(`primary metric lost: ${m.reason}`);
  }
  for (const k of c.checks) if (k.ok === false) noGo.push(k.reason);
  if (noGo.length) return { decision: 'no-go', reasons: noGo };
  const primary = c.metrics.find((m) => m.role === 'primary');
  const guardrails = c.metrics.filter((m) => m.role === 'guardrail');
  const pending = guardrails.filter((m) => m.verdict !== 'pass');
  // without a primary (shadow), a go needs every check judged and within bounds
  const unjudged = c.checks.filter((k) => k.ok === null && (k.required || !c.hasPrimary));
  const primaryWins = primary ? primary.verdict === 'win' : !c.hasPrimary && c.checks.length > 0;
  if (primaryWins && pending.length === 0 && unjudged.length === 0) {
    const reasons = primary ? [`primary metric won: ${primary.reason}`] : [`all ${c.checks.length} shadow check(s) within bounds`];
    if (guardrails.length) reasons.push(`all ${guardrails.length} guardrail(s) pass`);
    return { decision: 'go', reasons };
  }
  const reasons: string[] = [];
  if (primary && primary.verdict !== 'win') reasons.push(`primary metric not a win: ${primary.reason}`);
  if (!primary && !c.hasPrimary && c.checks.length === 0) reasons.push('nothing to judge: the spec has no primary metric and no shadow check applies');
  for (const g of pending) reasons.push(`guardrail not yet passed: ${g.reason}`);
  for (const k of unjudged) reasons.push(`not judged: ${k.reason}`);
  return { decision: 'inconclusive', reasons };
}

export function runDecision(segments: SegmentReport[]): { decision: Decision; reasons: string[] } {
  const overall = segments[0]!;
  if (overall.decision === 'invalid') return { decision: 'invalid', reasons: overall.reasons };
  const noGo = segments.filter((s) => s.decision === 'no-go');
  if (noGo.length) {
    const reasons: string[] = [];
    for (const s of noGo) {
      const name = Object.keys(s.segment).length ? Object.entries(s.segment).map(([k, v]) => `${k}=${v}`).join(', ') : 'overall';
      for (const r of s.reasons) reasons.push(`${name}: ${r}`);
    }
    return { decision: 'no-go', reasons };
  }
  return { decision: overall.decision, reasons: overall.reasons };
}
