/**
 * Wilson score interval for a binomial proportion.
 *
 * The interval of rates p for which the score test of H0: rate = p is not rejected:
 *   centre = (p^ + z^2/(2n)) / (1 + z^2/n),  half-width = z sqrt(p^(1-p^)/n + z^2/(4n^2)) / (1 + z^2/n).
 * Unlike the Wald interval it stays inside [0, 1] and is sensible at 0/n and n/n.
 * Same numbers as statsmodels `proportion_confint(x, n, alpha, method='wilson')` and R's
 * `prop.test(x, n, correct = FALSE)$conf.int`.
 * Example: 5 of 10 -> rate 0.5, 95% interval [0.2366, 0.7634].
 */
import { normalQuantile } from './distributions.js';
import { ArgumentError, checkConfidence, type Interval } from './types.js';

export interface WilsonResult {
  rate: number;
  ci: Interval;
  successes: number;
  trials: number;
  confidenceLevel: number;
  method: string;
}

export function wilsonInterval(successes: number, trials: number, confidence = 0.95): WilsonResult {
  checkConfidence(confidence);
  if (!Number.isInteger(trials) || trials < 1) throw new ArgumentError('trials', `must be a whole number >= 1 (got ${trials})`);
  if (!Number.isInteger(successes) || successes < 0 || successes > trials) {
    throw new ArgumentError('successes', `must be a whole number in [0, trials] (got ${successes} of ${trials})`);
  }
  const n = trials;
  const p = successes / n;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return {
    rate: p,
    // at 0 or n successes the bound on that side is 0 or 1 exactly (as R's prop.test sets it): the
    // formula's centre - half and centre + half are equal there only up to rounding (2.8e-17 for 0/10)
    ci: { low: successes === 0 ? 0 : Math.max(0, centre - half), high: successes === n ? 1 : Math.min(1, centre + half) },
    successes,
    trials,
    confidenceLevel: confidence,
    method: 'Wilson score interval',
  };
}
