import { describe, expect, it } from 'vitest';
import { guardrailVerdict, primaryVerdict, runDecision, segmentDecision } from '../../src/analysis/decide.js';
import type { MetricStats } from '../../src/analysis/metrics.js';
import type { GuardrailMetric, PrimaryMetric } from '../../src/analysis/spec.js';
import type { MetricReport, SegmentReport } from '../../src/report/model.js';

const primary: PrimaryMetric = { name: 'conversion', field: 'converted', type: 'proportion', direction: 'increase', test: 'ztest', mde: { value: 0.01, relative: false } };
const latency: GuardrailMetric = { name: 'latency_p99', field: 'latency_ms', type: 'quantile', quantile: 0.99, direction: 'decrease', test: 'bootstrap', tolerance: { kind: 'relative', max: 0.2 } };
const errors: GuardrailMetric = { name: 'error_rate', field: 'error', type: 'proportion', direction: 'decrease', test: 'ztest', tolerance: { kind: 'absolute', max: 0.005 } };

const stats = (o: Partial<MetricStats>): MetricStats => ({
  test: 't', nControl: 1000, nTreatment: 1000, nUnit: 'units', controlValue: 0.1, treatmentValue: 0.12, estimate: 0.02,
  ci: [0.01, 0.03], relativeCi: [0.1, 0.3], pValue: 0.001, controlSd: 0.3, degenerate: null, clustered: false,
  effectSign: o.estimate === undefined ? 1 : o.estimate === null || o.estimate === 0 ? 0 : o.estimate > 0 ? 1 : -1, ...o,
});

describe('primary verdict', () => {
  it('win, loss and flat follow the direction and the p-value', () => {
    expect(primaryVerdict(primary, stats({}), 0.001, 0.05, null, false).verdict).toBe('win');
    expect(primaryVerdict(primary, stats({ estimate: -0.02, ci: [-0.03, -0.01] }), 0.001, 0.05, null, false).verdict).toBe('loss');
    expect(primaryVerdict({ ...primary, direction: 'decrease' }, stats({}), 0.001, 0.05, null, false).verdict).toBe('loss');
    expect(primaryVerdict(primary, stats({ ci: [-0.01, 0.05] }), 0.2, 0.05, null, false).verdict).toBe('flat');
  });
  it('a flat result with too few units says underpowered: has N, needs M', () => {
    const v = primaryVerdict(primary, stats({ nControl: 300, nTreatment: 300 }), 0.3, 0.05, { control: 14751, treatment: 14751 }, false);
    expect(v.verdict).toBe('flat');
    expect(v.reason).toMatch(/underpowered: has 300 units per group, needs 14751 per group/);
  });
  it('with unequal arms each arm is compared with its own need', () => {
    // a 90/10 canary: 54065 / 5935 units against a need of 7744 / 861 is adequately powered
    const ok = primaryVerdict(primary, stats({ nControl: 54065, nTreatment: 5935 }), 0.3, 0.05, { control: 7744, treatment: 861 }, false);
    expect(ok.reason).not.toMatch(/underpowered/);
    const low = primaryVerdict(primary, stats({ nControl: 5000, nTreatment: 500 }), 0.3, 0.05, { control: 7744, treatment: 861 }, false);
    expect(low.reason).toMatch(/underpowered: has 5000 control and 500 treatment units, needs 7744 control and 861 treatment/);
  });
  it('rank metrics take the direction from U, not from a Hodges-Lehmann shift of 0 (ties)', () => {
    const rank: PrimaryMetric = { ...primary, type: 'rank', test: 'mannwhitney' };
    const v = primaryVerdict(rank, stats({ estimate: 0, effectSign: 1, pValue: 2e-12 }), 2e-12, 0.05, null, false);
    expect(v.verdict).toBe('win');
    expect(v.reason).toMatch(/Hodges-Lehmann shift/);
  });
  it('a significant raw p that is not significant after correction is flat', () => {
    const v = primaryVerdict(primary, stats({}), 0.09, 0.05, null, true);
    expect(v.verdict).toBe('flat');
    expect(v.reason).toMatch(/after correction/);
  });
  it('degenerate data is flat (the contract has no other primary verdict), with the reason', () => {
    const v = primaryVerdict(primary, stats({ degenerate: 'the treatment arm has no values of "converted"' }), null, 0.05, null, false);
    expect(v.verdict).toBe('flat');
    expect(v.reason).toMatch(/treatment arm has no values/);
  });
});

describe('guardrail verdict (non-inferiority against the tolerated change)', () => {
  it('pass when the bad-side bound stays inside the tolerance', () => {
    expect(guardrailVerdict(latency, stats({ controlValue: 100, estimate: 5, relativeCi: [-0.02, 0.15] }), 0.3, 0.05).verdict).toBe('pass');
    expect(guardrailVerdict(errors, stats({ controlValue: 0.01, estimate: 0.001, ci: [-0.002, 0.004] }), 0.5, 0.05).verdict).toBe('pass');
  });
  it('fail when the estimate is beyond the tolerance and the harm is significant', () => {
    const v = guardrailVerdict(latency, stats({ controlValue: 100, estimate: 40, relativeCi: [0.3, 0.5] }), 0.0001, 0.05);
    expect(v.verdict).toBe('fail');
    expect(v.reason).toMatch(/significantly higher/);
    expect(v.tolerance.absolute).toBeCloseTo(20, 12);
  });
  it('in a segment, the interval decides: significant harm beyond the tolerance fails even when the p-value adjusted across segments is above alpha (CONTRACT section 3), and the reason gives the p-value of that interval', () => {
    const v = guardrailVerdict(errors, stats({ controlValue: 0.005, estimate: 0.0225, ci: [0.00255, 0.0425], pValue: 0.025 }), 0.051, 0.05);
    expect(v.verdict).toBe('fail');
    expect(v.reason).toMatch(/p = 0\.025\b.*significantly higher/);
    // an interval that excludes no change beside a test that is not significant (a delta-method or unpooled
    // interval against a pooled, corrected test, at the edge): not a significant harm
    expect(guardrailVerdict(errors, stats({ controlValue: 0.005, estimate: 0.0225, ci: [0.00007, 0.0425], pValue: 0.052 }), 0.052, 0.05).verdict).toBe('inconclusive');
    // a pass is judged by the same interval
    expect(guardrailVerdict(errors, stats({ controlValue: 0.01, estimate: 0.001, ci: [-0.002, 0.004], pValue: 0.4 }), 0.9, 0.05).verdict).toBe('pass');
  });
  it('inconclusive when the interval straddles the tolerance', () => {
    expect(guardrailVerdict(latency, stats({ controlValue: 100, estimate: 10, relativeCi: [-0.05, 0.3] }), 0.3, 0.05).verdict).toBe('inconclusive');
    // beyond the tolerance but not significant
    expect(guardrailVerdict(latency, stats({ controlValue: 100, estimate: 30, relativeCi: [-0.05, 0.6] }), 0.3, 0.05).verdict).toBe('inconclusive');
  });
  it('direction increase: harm is a decrease', () => {
    const g: GuardrailMetric = { ...errors, name: 'ctr', direction: 'increase', tolerance: { kind: 'absolute', max: 0.01 } };
    expect(guardrailVerdict(g, stats({ estimate: -0.03, ci: [-0.04, -0.02] }), 0.001, 0.05).verdict).toBe('fail');
    expect(guardrailVerdict(g, stats({ estimate: 0.0, ci: [-0.005, 0.005] }), 0.9, 0.05).verdict).toBe('pass');
  });
});

const metric = (role: 'primary' | 'guardrail', verdict: MetricReport['verdict']): MetricReport =>
  ({ name: role, role, verdict, reason: `${role} ${verdict}` }) as MetricReport;

describe('segment and run decisions (CONTRACT section 3)', () => {
  it('invalid beats everything; no-go beats go; go needs a win and every guardrail passing', () => {
    expect(segmentDecision({ invalidReasons: ['srm'], metrics: [metric('primary', 'win')], checks: [], hasPrimary: true }).decision).toBe('invalid');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'win'), metric('guardrail', 'fail')], checks: [], hasPrimary: true }).decision).toBe('no-go');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'loss')], checks: [], hasPrimary: true }).decision).toBe('no-go');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'win')], checks: [{ ok: false, reason: 'drift' }], hasPrimary: true }).decision).toBe('no-go');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'win'), metric('guardrail', 'pass')], checks: [], hasPrimary: true }).decision).toBe('go');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'win'), metric('guardrail', 'inconclusive')], checks: [], hasPrimary: true }).decision).toBe('inconclusive');
    expect(segmentDecision({ invalidReasons: [], metrics: [metric('primary', 'flat')], checks: [], hasPrimary: true }).decision).toBe('inconclusive');
    expect(segmentDecision({ invalidReasons: [], metrics: [], checks: [{ ok: true, reason: 'ok' }], hasPrimary: false }).decision).toBe('go');
  });
  it('a check that could not be judged blocks a go when required, and always in shadow without a primary', () => {
    const win = [metric('primary', 'win')];
    expect(segmentDecision({ invalidReasons: [], metrics: win, checks: [{ ok: null, reason: 'no window judged', required: true }], hasPrimary: true }).decision).toBe('inconclusive');
    expect(segmentDecision({ invalidReasons: [], metrics: win, checks: [{ ok: null, reason: 'agreement not measured' }], hasPrimary: true }).decision).toBe('go');
    expect(segmentDecision({ invalidReasons: [], metrics: [], checks: [{ ok: true, reason: 'drift ok' }, { ok: null, reason: 'agreement not measured' }], hasPrimary: false }).decision).toBe('inconclusive');
    expect(segmentDecision({ invalidReasons: [], metrics: [], checks: [], hasPrimary: false }).decision).toBe('inconclusive');
  });
  it('the run is invalid if overall is, else no-go if any segment is, else overall', () => {
    const seg = (decision: SegmentReport['decision'], segment: Record<string, string> = {}) => ({ segment, decision, reasons: [decision], units: {}, srm: null, metrics: [] }) as SegmentReport;
    expect(runDecision([seg('invalid'), seg('no-go', { c: 'BR' })]).decision).toBe('invalid');
    expect(runDecision([seg('go'), seg('no-go', { c: 'BR' })]).decision).toBe('no-go');
    expect(runDecision([seg('go'), seg('no-go', { c: 'BR' })]).reasons[0]).toMatch(/^c=BR: /);
    expect(runDecision([seg('go'), seg('invalid', { c: 'BR' })]).decision).toBe('go');
    expect(runDecision([seg('inconclusive'), seg('go', { c: 'BR' })]).decision).toBe('inconclusive');
  });
});
