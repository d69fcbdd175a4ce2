/**
 * Welch's two-sample t-test (unequal variances).
 *
 * H0: the treatment mean equals the control mean. t = (mean_b - mean_a) / sqrt(s_a^2/n_a + s_b^2/n_b),
 * with the Welch-Satterthwaite degrees of freedom
 *   df = (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)).
 * Same numbers as R's `t.test(b, a, var.equal = FALSE)` and scipy's `ttest_ind(b, a, equal_var=False)`,
 * including R's one-sided intervals (one end unbounded). p-values come from an accurate Student t tail,
 * valid at df = 1e6 and beyond (jstat's is not).
 *
 * Example (R's sleep data): t.test(extra ~ group, data = sleep) gives t = -1.8608, df = 17.776, p = 0.0794.
 */
import { studentTQuantile, studentTSf } from './distributions.js';
import { meanDifference, summarize, type MeanSummary } from './summaries.js';
import {
  checkAlternative,
  checkConfidence,
  clampP,
  degenerate,
  type Alternative,
  type Outcome,
  type TestResult,
} from './types.js';

export interface WelchResult extends TestResult {
  df: number;
  standardError: number;
  meanControl: number;
  meanTreatment: number;
  nControl: number;
  nTreatment: number;
}

export interface WelchOptions {
  alternative?: Alternative;
  confidence?: number;
}

/** Welch's t-test on raw samples (a = control, b = treatment). */
export function welchTTest(a: ArrayLike<number>, b: ArrayLike<number>, opts: WelchOptions = {}): Outcome<WelchResult> {
  return welchFromSummaries(summarize(a), summarize(b), opts);
}

/** Welch's t-test on mergeable summaries (as accumulated by the analysis in one pass). */
export function welchFromSummaries(a: MeanSummary, b: MeanSummary, opts: WelchOptions = {}): Outcome<WelchResult> {
  const alternative = checkAlternative(opts.alternative ?? 'two-sided');
  const confidence = checkConfidence(opts.confidence ?? 0.95);
  if (a.n === 0 || b.n === 0) {
    return degenerate('empty-sample', `the ${a.n === 0 ? 'control' : 'treatment'} sample is empty`);
  }
  if (a.n < 2 || b.n < 2) {
    return degenerate(
      'too-few-observations',
      `Welch's t-test needs at least 2 observations per group (control has ${a.n}, treatment has ${b.n})`,
    );
  }
  if (![a.mean, b.mean, a.m2, b.m2].every(Number.isFinite)) {
    // NaN or infinite inputs, or finite ones so large that the mean or the sum of squares overflows
    const which = Number.isFinite(a.mean) && Number.isFinite(b.mean) ? 'their variance overflows (values beyond ~1e154)' : 'their mean is not finite (a NaN or infinite value, or values so large that the sum overflows)';
    return degenerate('non-finite', `the samples cannot be tested: ${which}; rescale the values`);
  }
  const va = a.m2 / (a.n - 1) / a.n;
  const vb = b.m2 / (b.n - 1) / b.n;
  const se = Math.sqrt(va + vb);
  const estimate = b.mean - a.mean;
  // R's check: stderr < 10 * eps * max(|mean_a|, |mean_b|) means "data are essentially constant"
  if (se < 10 * Number.EPSILON * Math.max(Math.abs(a.mean), Math.abs(b.mean)) || se === 0) {
    return degenerate(
      'zero-variance',
      'both samples are constant (zero variance, or variance below rounding noise): the t statistic is undefined',
    );
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  // the statistic uses the more exact difference of means (matters for 1e7 + tiny spread data);
  // the reported estimate is the difference of the correctly rounded means, as R reports it
  const t = meanDifference(a, b) / se;
  let pValue: number;
  let low: number | null;
  let high: number | null;
  if (alternative === 'two-sided') {
    pValue = 2 * studentTSf(Math.abs(t), df);
    const q = studentTQuantile(1 - (1 - confidence) / 2, df);
    low = estimate - q * se;
    high = estimate + q * se;
  } else if (alternative === 'greater') {
    pValue = studentTSf(t, df);
    low = estimate - studentTQuantile(confidence, df) * se;
    high = null;
  } else {
    pValue = studentTSf(-t, df);
    low = null;
    high = estimate + studentTQuantile(confidence, df) * se;
  }
  return {
    statistic: t,
    pValue: clampP(pValue),
    estimate,
    ci: { low, high },
    alternative,
    confidenceLevel: confidence,
    method: "Welch two-sample t-test",
    df,
    standardError: se,
    meanControl: a.mean,
    meanTreatment: b.mean,
    nControl: a.n,
    nTreatment: b.n,
  };
}
