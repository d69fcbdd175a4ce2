/**
 * Shadow stage checks: both models score the same requests (paired by request id), only the
 * champion answers. Reported: agreement of the predictions (Wilson interval, Cohen's kappa for
 * class labels), KS drift of score-like fields, the challenger's failures (errors, missing or
 * NaN predictions, requests it never logged) against the champion's, and its latency overhead.
 */
import { ksTwoSampleSorted } from '../core/ksTwoSample.js';
import { quantileSorted } from '../core/quantile.js';
import { twoProportionZTest } from '../core/twoProportionZTest.js';
import { wilsonInterval } from '../core/wilson.js';
import { confidencePercent } from '../core/percent.js';
import type { AgreementReport, DriftReport, LatencyOverhead, ShadowFailures } from '../report/model.js';
import type { ColumnStore, DictColumn } from './aggregate.js';
import { formatP } from './decide.js';
import { SortedValues } from './metrics.js';
import type { AgreementCheck, DriftCheck } from './spec.js';

/** Most distinct labels for Cohen's kappa to be meaningful (class predictions, not scores). */
const MAX_KAPPA_CLASSES = 50;

/** Cohen's kappa below this is "slight" agreement at best (Landis and Koch, 1977): little beyond chance. */
const KAPPA_SLIGHT = 0.2;

export interface Pairs {
  /** row of the control's and the treatment's record, per paired request */
  control: Int32Array;
  treatment: Int32Array;
  unpairedControl: number;
  unpairedTreatment: number;
}

export function pairByRequest(request: DictColumn, rows: [Int32Array, Int32Array]): Pairs {
  const k = request.dict.size;
  const ctl = new Int32Array(k).fill(-1);
  for (let j = 0; j < rows[0].length; j++) {
    const i = rows[0][j]!;
    const r = request.codes[i]!;
    if (r >= 0) ctl[r] = i;
  }
  const pc: number[] = [];
  const pt: number[] = [];
  let unpairedTreatment = 0;
  const matched = new Uint8Array(k);
  for (let j = 0; j < rows[1].length; j++) {
    const i = rows[1][j]!;
    const r = request.codes[i]!;
    if (r >= 0 && ctl[r]! >= 0) {
      pc.push(ctl[r]!);
      pt.push(i);
      matched[r] = 1;
    } else unpairedTreatment++;
  }
  let unpairedControl = 0;
  for (let j = 0; j < rows[0].length; j++) {
    const r = request.codes[rows[0][j]!]!;
    if (r < 0 || !matched[r]) unpairedControl++;
  }
  return { control: Int32Array.from(pc), treatment: Int32Array.from(pt), unpairedControl, unpairedTreatment };
}

/** The requests the overall's control rows hold, marked: the same for every segment, so made once per rows array. */
const controlRequests = new WeakMap<Int32Array, Uint8Array>();
function requestsOf(request: DictColumn, rows: Int32Array): Uint8Array {
  let marks = controlRequests.get(rows);
  if (marks === undefined || marks.length !== request.dict.size) {
    marks = new Uint8Array(request.dict.size);
    for (let j = 0; j < rows.length; j++) {
      const r = request.codes[rows[j]!]!;
      if (r >= 0) marks[r] = 1;
    }
    controlRequests.set(rows, marks);
  }
  return marks;
}

/**
 * A shadow segment's rows by request: each request belongs to the segment of its champion's record
 * (`seg[0]`, the segment's control rows), and the challenger's record of it is taken wherever its own
 * segment value puts it (missing, say, when only the champion logs the field); a request only the
 * challenger logged stays in the segment of its own record (`seg[1]`). `all`: the overall group's rows.
 * Where both records carry the same value these are the segment's own rows.
 */
export function shadowSegmentRows(request: DictColumn, seg: [Int32Array, Int32Array], all: [Int32Array, Int32Array]): [Int32Array, Int32Array] {
  const k = request.dict.size;
  const inSegment = new Uint8Array(k);
  for (let j = 0; j < seg[0].length; j++) {
    const r = request.codes[seg[0][j]!]!;
    if (r >= 0) inSegment[r] = 1;
  }
  const anyControl = requestsOf(request, all[0]);
  const out: number[] = [];
  for (let j = 0; j < all[1].length; j++) {
    const i = all[1][j]!;
    const r = request.codes[i]!;
    if (r >= 0 && inSegment[r] === 1) out.push(i);
  }
  for (let j = 0; j < seg[1].length; j++) {
    const i = seg[1][j]!;
    const r = request.codes[i]!;
    if (r < 0 || anyControl[r] === 0) out.push(i);
  }
  return [seg[0], Int32Array.from(out).sort()];
}

/**
 * `among`: the number of segments this one is judged among (1: none, or the overall): its interval is
 * then at the level alpha / among (Bonferroni), so that across many segments a chance dip in one is
 * not a no-go.
 */
export function agreement(prediction: DictColumn | null, pairs: Pairs, check: AgreementCheck | undefined, field: string, alpha: number, among = 1): AgreementReport {
  const minRate = check?.minRate ?? null;
  if (!prediction) {
    return { field, pairs: 0, agree: 0, rate: null, ci: null, kappa: null, min_rate: minRate, ok: null, reason: `not measured: the logs have no "${field}" field to compare` };
  }
  let n = 0;
  let agree = 0;
  const classes = new Map<number, number>();
  const idOf = (c: number) => {
    let v = classes.get(c);
    if (v === undefined) {
      v = classes.size;
      classes.set(c, v);
    }
    return v;
  };
  const pairsA: number[] = [];
  const pairsB: number[] = [];
  for (let j = 0; j < pairs.control.length; j++) {
    const a = prediction.codes[pairs.control[j]!]!;
    const b = prediction.codes[pairs.treatment[j]!]!;
    if (a < 0 || b < 0) continue;
    n++;
    if (a === b) agree++;
    if (classes.size <= MAX_KAPPA_CLASSES) {
      pairsA.push(idOf(a));
      pairsB.push(idOf(b));
    }
  }
  if (n === 0) {
    // not out of bounds by itself: in shadow mode the challenger's missing records are failures
    const why = pairs.control.length === 0
      ? 'no request was scored by both models (agreement needs both models to log the same request_id)'
      : `none of the ${pairs.control.length} paired requests has a "${field}" from both models`;
    return { field, pairs: 0, agree: 0, rate: null, ci: null, kappa: null, min_rate: minRate, ok: null, reason: `not measured: ${why}` };
  }
  const level = alpha / among;
  const w = wilsonInterval(agree, n, 1 - level);
  const rate = agree / n;
  const kappa = classes.size <= MAX_KAPPA_CLASSES ? cohensKappa(pairsA, pairsB, classes.size) : null;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  let ok: boolean | null = null;
  const across = among > 1 ? `, Bonferroni across ${among} segments` : '';
  let reason = `the models agree on ${pct(rate)} of ${n} paired requests (${confidencePercent(1 - level)} CI ${pct(w.ci.low!)} to ${pct(w.ci.high!)}${across})`;
  // many distinct numeric predictions are scores, not classes: exact agreement means nothing there
  const continuous = classes.size > MAX_KAPPA_CLASSES && prediction.numeric !== null && prediction.numeric.some((v) => v === v);
  if (continuous && minRate !== null) {
    reason += `, but "${field}" holds continuous values (over ${MAX_KAPPA_CLASSES} distinct numbers), so exact agreement is not judged: compare them with a drift check instead`;
    return { field, pairs: n, agree, rate, ci: [w.ci.low, w.ci.high], kappa, min_rate: minRate, ok: null, reason };
  }
  if (minRate !== null) {
    // out of bounds only when significantly below (the whole interval under min_rate); a rate below
    // min_rate whose interval still reaches it is not judged either way
    if (w.ci.high! < minRate) {
      ok = false;
      reason += `, significantly below the required ${pct(minRate)}`;
    } else if (rate >= minRate) {
      ok = true;
      reason += `, at or above the required ${pct(minRate)}`;
    } else {
      ok = null;
      reason += `, below the required ${pct(minRate)} but not significantly so with ${n} pairs`;
    }
  }
  // a high rate that chance gives (a challenger always answering the commonest class agrees as often
  // as that class is common, kappa 0): said, the verdict left to min_rate as the spec sets it
  if (kappa !== null && kappa < KAPPA_SLIGHT && rate > 0.5) {
    reason += `; but Cohen's kappa is ${kappa.toFixed(2)}: little more than chance agreement, given how often each model predicts each class`;
  }
  return { field, pairs: n, agree, rate, ci: [w.ci.low, w.ci.high], kappa, min_rate: minRate, ok, reason };
}

/** Cohen's kappa: (observed agreement - chance agreement) / (1 - chance agreement). */
export function cohensKappa(a: number[], b: number[], k: number): number | null {
  const n = a.length;
  if (n === 0) return null;
  const ra = new Float64Array(k);
  const rb = new Float64Array(k);
  let po = 0;
  for (let i = 0; i < n; i++) {
    ra[a[i]!]!++;
    rb[b[i]!]!++;
    if (a[i] === b[i]) po++;
  }
  po /= n;
  let pe = 0;
  for (let c = 0; c < k; c++) pe += (ra[c]! / n) * (rb[c]! / n);
  return pe === 1 ? null : (po - pe) / (1 - pe);
}

export function drift(store: ColumnStore, check: DriftCheck, rows: [Int32Array, Int32Array], sorted: SortedValues = new SortedValues()): DriftReport {
  const col = store.columns.get(check.field);
  const base = { field: check.field, max_ks: check.maxKs, p_value_adjusted: null };
  if (!col || col.kind !== 'number') {
    return { ...base, ks: null, p_value: null, n_control: 0, n_treatment: 0, ok: null, reason: `no numeric "${check.field}" values in the logs: drift cannot be checked` };
  }
  const a = sorted.get(col.values, rows[0]);
  const b = sorted.get(col.values, rows[1]);
  if (a.length === 0 || b.length === 0) {
    return { ...base, ks: null, p_value: null, n_control: a.length, n_treatment: b.length, ok: null, reason: `the ${a.length === 0 ? 'champion' : 'challenger'} has no "${check.field}" values: drift cannot be checked` };
  }
  const r = ksTwoSampleSorted(a, b, { alternative: 'two-sided', method: 'auto' });
  if (r.degenerate) {
    return { ...base, ks: null, p_value: null, n_control: a.length, n_treatment: b.length, ok: null, reason: `drift cannot be checked: ${r.reason}` };
  }
  return judgeDrift(
    { ...base, ks: r.statistic, p_value: r.pValue, p_value_adjusted: r.pValue, n_control: a.length, n_treatment: b.length, ok: null, reason: '' },
    r.pValue,
    0.05,
  );
}

/**
 * Drift is out of bounds when D exceeds max_ks AND the difference is significant (p, adjusted across
 * segments, below alpha): with a few hundred records D exceeds 0.1 by chance alone a quarter of the time.
 * Above max_ks but not significant is not judged either way.
 */
export function judgeDrift(d0: DriftReport, pAdjusted: number | null, alpha: number): DriftReport {
  const d = { ...d0, p_value_adjusted: pAdjusted };
  if (d.ks === null) return d;
  const D = `KS D = ${d.ks.toFixed(4)}`;
  // (a segment's p adjusted across segments says so)
  const pv = pAdjusted === null ? '' : `, ${pAdjusted !== d0.p_value ? 'adjusted ' : ''}${formatP(pAdjusted)}`;
  if (d.ks <= d.max_ks) return { ...d, ok: true, reason: `${d.field}: ${D}, within the allowed ${d.max_ks}` };
  if (pAdjusted !== null && pAdjusted < alpha) return { ...d, ok: false, reason: `${d.field} distributions differ: ${D}${pv}, above the allowed ${d.max_ks}` };
  return { ...d, ok: null, reason: `${d.field}: ${D} is above the allowed ${d.max_ks} but not significant (${d.n_control} vs ${d.n_treatment} values${pv})` };
}

/**
 * Failures per model: an error flagged, a prediction missing or NaN, or (challenger only) a request
 * the champion answered that the challenger never logged. Out of bounds when the challenger's failure
 * rate is significantly above the champion's (one-sided z-test at alpha).
 */
export function failures(
  store: ColumnStore,
  errorField: string | null,
  prediction: DictColumn | null,
  pairs: Pairs,
  rows: [Int32Array, Int32Array],
  names: [string, string],
  alpha: number,
): ShadowFailures {
  const err = errorField ? store.columns.get(errorField) : undefined;
  const errors = [0, 0];
  const missing = [0, 0];
  const failedRows = [0, 0];
  for (let m = 0; m < 2; m++) {
    for (let j = 0; j < rows[m]!.length; j++) {
      const i = rows[m]![j]!;
      const isError = err !== undefined && err.kind === 'number' && err.values[i] === 1;
      // a NaN prediction is rejected at ingest, so the challenger's request shows up as never logged;
      // with no prediction field in the logs at all, predictions are not counted for either model
      const isMissing = prediction !== null && prediction.codes[i]! < 0;
      if (isError) errors[m]!++;
      if (isMissing) missing[m]!++;
      if (isError || isMissing) failedRows[m]!++;
    }
  }
  // a request only the champion logged is a challenger failure; a request fails once however it failed
  const requests = [rows[0].length, rows[1].length + pairs.unpairedControl];
  const failed = [failedRows[0]!, failedRows[1]! + pairs.unpairedControl];
  const rate = (k: number) => (requests[k]! > 0 ? Math.min(1, failed[k]! / requests[k]!) : null);
  let p: number | null = null;
  if (requests[0]! > 0 && requests[1]! > 0) {
    const z = twoProportionZTest(
      { successes: Math.min(failed[0]!, requests[0]!), trials: requests[0]! },
      { successes: Math.min(failed[1]!, requests[1]!), trials: requests[1]! },
      { alternative: 'greater' },
    );
    p = z.degenerate ? null : z.pValue;
  }
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(3)}%`);
  const counts =
    `challenger failures ${failed[1]} of ${requests[1]} requests (${pct(rate(1))}: ${errors[1]} errors, ${prediction ? `${missing[1]} missing predictions` : 'missing predictions not counted (neither model logs a prediction)'}, ${pairs.unpairedControl} requests never logged or rejected at input)` +
    ` vs champion ${failed[0]} of ${requests[0]} (${pct(rate(0))})`;
  const judged = judgeFailures({ rateControl: rate(0), rateTreatment: rate(1), p, counts }, p, alpha);
  return {
    errors: { [names[0]]: errors[0]!, [names[1]]: errors[1]! },
    missing_predictions: { [names[0]]: missing[0]!, [names[1]]: missing[1]! },
    unpaired_control: pairs.unpairedControl,
    unpaired_treatment: pairs.unpairedTreatment,
    requests: { [names[0]]: requests[0]!, [names[1]]: requests[1]! },
    failure_rate: { [names[0]]: rate(0), [names[1]]: rate(1) },
    p_value: p,
    p_value_adjusted: p,
    ok: judged.ok,
    reason: judged.reason,
    summary: counts,
  };
}

/**
 * Out of bounds when the challenger fails significantly more often than the champion (one-sided
 * z-test; p adjusted across segments). With no test possible (nobody, or everybody, failed in both
 * arms) only a higher challenger rate is a problem.
 */
export function judgeFailures(
  f: { rateControl: number | null; rateTreatment: number | null; p: number | null; counts: string },
  pAdjusted: number | null,
  alpha: number,
): { ok: boolean; reason: string } {
  if (pAdjusted === null) {
    const ok = (f.rateTreatment ?? 0) <= (f.rateControl ?? 0);
    return { ok, reason: ok ? f.counts : `${f.counts}: higher` };
  }
  const ok = pAdjusted >= alpha;
  return { ok, reason: ok ? f.counts : `${f.counts}: significantly higher (${pAdjusted !== f.p ? 'adjusted ' : ''}${formatP(pAdjusted)})` };
}

export function latencyOverhead(
  store: ColumnStore,
  field: string | null,
  rows: [Int32Array, Int32Array],
  names: [string, string],
  sorted: SortedValues = new SortedValues(),
): LatencyOverhead | null {
  if (!field) return null;
  const col = store.columns.get(field);
  if (!col || col.kind !== 'number') return null;
  const a = sorted.get(col.values, rows[0]);
  const b = sorted.get(col.values, rows[1]);
  const q = (x: Float64Array, p: number) => (x.length ? quantileSorted(x, p) : null);
  const a50 = q(a, 0.5);
  const b50 = q(b, 0.5);
  const a99 = q(a, 0.99);
  const b99 = q(b, 0.99);
  const ratio = (x: number | null, y: number | null) => (x !== null && y !== null && x > 0 ? y / x : null);
  return {
    field,
    p50: { [names[0]]: a50, [names[1]]: b50 },
    p99: { [names[0]]: a99, [names[1]]: b99 },
    p50_ratio: ratio(a50, b50),
    p99_ratio: ratio(a99, b99),
  };
}
