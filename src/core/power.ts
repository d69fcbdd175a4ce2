/**
 * Sample size and power of two-group experiments, matching R 4.2's `power.prop.test` and
 * `power.t.test`, generalised to unequal groups.
 *
 * Control (group 1) has n1 units, treatment (group 2) n2 = ratio * n1. The effect is `mde`,
 * treatment minus control. Every power here is the probability that the test rejects H0 (no
 * difference) when the true difference is `mde`, counting only rejections in the direction of the
 * effect (R's default `strict = FALSE`: a two-sided test's far tail is ignored; it adds at most
 * alpha/2 and is usually negligible). A one-sided test is the test in the direction of the mde.
 *
 * Proportions (normal approximation, no continuity correction), z = the 1 - alpha/sides normal
 * quantile, p1 = baseline, p2 = baseline + mde, d = |p2 - p1|:
 *
 *   power = Phi((d - z * se0) / se1),
 *   se0 = sqrt(pbar (1 - pbar) (1/n1 + 1/n2)), pbar = (n1 p1 + n2 p2) / (n1 + n2)  (pooled, under H0)
 *   se1 = sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2)                                (under H1)
 *
 * With n1 = n2 = n this is R's `pnorm((sqrt(n) d - z sqrt((p1+p2)(1-(p1+p2)/2))) / sqrt(p1 q1 + p2 q2))`
 * and that exact expression is used, so equal groups reproduce R to the last bits.
 *
 * Means (pooled two-sample t-test, common sd), T' noncentral t (noncentralT.ts):
 *
 *   power = P(T' > t_{1 - alpha/sides, df}),  df = n1 + n2 - 2,  ncp = |mde| / (sd sqrt(1/n1 + 1/n2))
 *
 * which with n1 = n2 = n is R's df = 2 (n - 1), ncp = sqrt(n/2) |mde| / sd.
 *
 * The group size solves power(n) = target by R's `uniroot` (Brent's zeroin as in R's zeroin.c,
 * with R's search interval [1, 1e7] for proportions and [2, 1e7] for means, R's tolerance
 * eps^(1/4) ~ 1.2e-4 and R's interval extension `extendInt = "upX"`), so `nExact` is the very
 * number R prints; the size to recruit is its ceiling.
 */
import { ArgumentError } from './types.js';
import { normalCdf, normalQuantile, studentTQuantile } from './distributions.js';
import { noncentralTCdf } from './noncentralT.js';

/** Sides of the test whose power is computed (R's `alternative = "two.sided" | "one.sided"`). */
export type PowerSides = 'two-sided' | 'one-sided';
export const POWER_SIDES = ['two-sided', 'one-sided'] as const satisfies readonly PowerSides[];

export interface ProportionSetting {
  kind: 'proportion';
  /** the control's rate, strictly inside (0, 1) */
  baseline: number;
}
export interface MeanSetting {
  kind: 'mean';
  /** the common standard deviation of one unit's metric, > 0 */
  sd: number;
}
interface TestSetting {
  /** significance level, in (0, 1) */
  alpha: number;
  alternative: PowerSides;
  /** treatment size / control size, > 0 (1 = equal groups) */
  ratio: number;
}
/** A design without an effect size: what the minimum detectable effect is computed for. */
export type DesignBase = (ProportionSetting | MeanSetting) & TestSetting;
/** A design with the effect to detect, `mde` = treatment minus control, in the metric's units. */
export type Design = DesignBase & { mde: number };

export interface SampleSize {
  /** R's `n` (control group), before rounding */
  nExact: number;
  /** units needed in control: ceil(nExact) */
  nControl: number;
  /** units needed in treatment: ceil(ratio * nExact) */
  nTreatment: number;
  total: number;
  /** the power at (nControl, nTreatment), >= the target */
  powerAtN: number;
  method: string;
}

const R_TOLERANCE = Math.pow(Number.EPSILON, 0.25);
const METHOD = {
  proportion: 'R power.prop.test: normal approximation, no continuity correction',
  mean: 'R power.t.test: two-sample t, pooled sd, noncentral t',
} as const satisfies Record<DesignBase['kind'], string>;

/** Throws ArgumentError unless the design is usable (probabilities in range, mde != 0, ...). */
export function checkDesign(design: DesignBase, mde?: number): void {
  if (!(design.alpha > 0 && design.alpha < 1)) {
    throw new ArgumentError('alpha', `must be strictly between 0 and 1 (got ${design.alpha})`);
  }
  if (!(design.ratio > 0 && Number.isFinite(design.ratio))) {
    throw new ArgumentError('ratio', `must be a positive number (got ${design.ratio})`);
  }
  if (!(POWER_SIDES as readonly string[]).includes(design.alternative)) {
    throw new ArgumentError('alternative', `must be two-sided or one-sided (got "${design.alternative}")`);
  }
  if (design.kind === 'proportion') {
    if (!(design.baseline > 0 && design.baseline < 1)) {
      throw new ArgumentError('baseline', `must be strictly between 0 and 1 (got ${design.baseline})`);
    }
  } else if (!(design.sd > 0 && Number.isFinite(design.sd))) {
    throw new ArgumentError('sd', `must be a positive number (got ${design.sd})`);
  }
  if (mde !== undefined) {
    if (!Number.isFinite(mde) || mde === 0) throw new ArgumentError('mde', `must be a non-zero number (got ${mde})`);
    if (design.kind === 'proportion') {
      const p2 = design.baseline + mde;
      if (!(p2 > 0 && p2 < 1)) {
        throw new ArgumentError('mde', `baseline + mde = ${p2} must be strictly between 0 and 1`);
      }
    }
  }
}

function checkTarget(design: DesignBase, target: number): void {
  if (!(target > 0 && target < 1)) throw new ArgumentError('power', `must be strictly between 0 and 1 (got ${target})`);
  if (!(target > design.alpha)) {
    throw new ArgumentError('power', `(${target}) must exceed alpha (${design.alpha}): any test rejects with probability alpha`);
  }
}

const sidesOf = (design: TestSetting): number => (design.alternative === 'two-sided' ? 2 : 1);

/** R's power.prop.test power at n1, n2 (see the file comment); NaN for impossible sizes. */
function proportionPower(p1: number, p2: number, alpha: number, sides: number, n1: number, n2: number): number {
  const z = -normalQuantile(alpha / sides); // qnorm(alpha/sides, lower.tail = FALSE)
  if (n1 === n2) {
    return normalCdf((Math.sqrt(n1) * Math.abs(p1 - p2) - z * Math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2))) / Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2)));
  }
  const pbar = (n1 * p1 + n2 * p2) / (n1 + n2);
  const se0 = Math.sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2));
  const se1 = Math.sqrt((p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2);
  return normalCdf((Math.abs(p2 - p1) - z * se0) / se1);
}

/** R's power.t.test power (two.sample) at n1, n2; NaN when df <= 0. */
function meanPower(delta: number, sd: number, alpha: number, sides: number, n1: number, n2: number): number {
  let df: number;
  let ncp: number;
  if (n1 === n2) {
    df = (n1 - 1) * 2;
    ncp = (Math.sqrt(n1 / 2) * Math.abs(delta)) / sd;
  } else {
    df = n1 + n2 - 2;
    ncp = Math.abs(delta) / (sd * Math.sqrt(1 / n1 + 1 / n2));
  }
  if (!(df > 0)) return NaN;
  const critical = -studentTQuantile(alpha / sides, df); // qt(alpha/sides, df, lower.tail = FALSE)
  return noncentralTCdf(critical, df, ncp, false);
}

/**
 * The power to detect `design.mde` with `nControl` and `nTreatment` units (default: ratio *
 * nControl). Sizes may be fractional (the root search needs that).
 * R: `power.prop.test(n, p1 = baseline, p2 = baseline + mde, sig.level = alpha, alternative)$power`
 * or `power.t.test(n, delta = mde, sd, sig.level = alpha, alternative)$power` for equal groups.
 * Example: power({kind: 'proportion', baseline: 0.1, mde: 0.02, alpha: 0.05, alternative:
 * 'two-sided', ratio: 1}, 3841) = 0.8000156 (R: power.prop.test(n = 3841, p1 = 0.1, p2 = 0.12)$power)
 */
export function power(design: Design, nControl: number, nTreatment = design.ratio * nControl): number {
  const sides = sidesOf(design);
  if (design.kind === 'proportion') {
    return proportionPower(design.baseline, design.baseline + design.mde, design.alpha, sides, nControl, nTreatment);
  }
  return meanPower(design.mde, design.sd, design.alpha, sides, nControl, nTreatment);
}

/** ceil, forgiving the last-bit error of a product that should be a whole number (1.1 * 100 = 110.00000000000001). */
export function ceilWhole(x: number): number {
  const r = Math.round(x);
  // a whole number off by a few units in the last place (0.1 * 70 = 7.000000000000001) stays whole;
  // a relative 1e-9 here rounded 156977594687.095 down, below the n it was to cover
  return Math.abs(x - r) <= 64 * Number.EPSILON * Math.max(1, Math.abs(x)) ? r : Math.ceil(x);
}

/**
 * Units per group needed to detect `design.mde` with probability `targetPower`.
 * `nExact` is R's answer (`power.prop.test(p1 = baseline, p2 = baseline + mde, sig.level = alpha,
 * power, alternative)$n`, or `power.t.test(delta = mde, sd, ...)$n` for means, when ratio = 1);
 * nControl = ceil(nExact), nTreatment = ceil(ratio * nExact); for means each group has at least 2.
 * Example: baseline 0.10, mde 0.02, alpha 0.05, power 0.8, two-sided: nExact = 3840.85, 3841 per group.
 */
export function sampleSize(design: Design, targetPower: number): SampleSize {
  checkDesign(design, design.mde);
  checkTarget(design, targetPower);
  const lower = design.kind === 'proportion' ? 1 : 2;
  const f = (n: number): number => power(design, n) - targetPower;
  const { root } = uniroot(f, lower, 1e7, { tol: R_TOLERANCE, extend: 'up' });
  const minimum = design.kind === 'mean' ? 2 : 1;
  const nControl = Math.max(minimum, Math.ceil(root));
  // (equal groups are equal: ceilWhole's last-bit forgiveness must not round one of them down)
  const nTreatment = design.ratio === 1 ? nControl : Math.max(minimum, ceilWhole(design.ratio * root));
  return {
    nExact: root,
    nControl,
    nTreatment,
    total: nControl + nTreatment,
    powerAtN: power(design, nControl, nTreatment),
    method: METHOD[design.kind],
  };
}

export interface DetectableEffect {
  /** the smallest effect (treatment minus control) detected with the target power; null when none in range */
  mde: number | null;
  method: string;
}

/**
 * The minimum detectable effect: the smallest |treatment - control| detected with probability
 * `targetPower` by groups of `nControl` and `nTreatment` units, in the given direction.
 * For proportions the treatment rate is searched in (baseline, 1) (`increase`) or (0, baseline)
 * (`decrease`) and the answer is null when no rate there reaches the target power; for means in
 * sd * [1e-7, 1e7], extended upwards as needed.
 * R (equal groups): `power.prop.test(n, p1 = baseline, power, ...)$p2 - baseline`,
 * `power.t.test(n, sd = sd, power, ...)$delta` (R stops at tolerance 1.2e-4; here 1e-12 relative).
 */
export function minimumDetectableEffect(
  design: DesignBase,
  nControl: number,
  nTreatment: number,
  targetPower: number,
  direction: 'increase' | 'decrease' = 'increase',
): DetectableEffect {
  checkDesign(design);
  checkTarget(design, targetPower);
  if (!(nControl > 0) || !(nTreatment > 0)) throw new ArgumentError('n', `group sizes must be positive (got ${nControl}, ${nTreatment})`);
  const sign = direction === 'increase' ? 1 : -1;
  const method = METHOD[design.kind];
  if (design.kind === 'proportion') {
    const p1 = design.baseline;
    const end = direction === 'increase' ? 1 : 0;
    const f = (p2: number): number => power({ ...design, mde: p2 - p1 }, nControl, nTreatment) - targetPower;
    const fEnd = f(end);
    if (!(fEnd >= 0)) return { mde: null, method };
    const [lo, hi] = direction === 'increase' ? [p1, 1] : [0, p1];
    const { root } = uniroot(f, lo, hi, { tol: 1e-13 });
    return { mde: root - p1, method };
  }
  const f = (delta: number): number => power({ ...design, mde: delta }, nControl, nTreatment) - targetPower;
  const { root } = uniroot(f, design.sd * 1e-7, design.sd * 1e7, { tol: design.sd * 1e-13, extend: 'up' });
  return { mde: sign * root, method };
}

/**
 * Days of traffic needed when `dailyUnits` new units arrive per day and a share
 * `treatmentShare` of them goes to treatment, the rest to control: each arm fills at its own
 * pace, so the slower one binds: ceil(max(nControl / (N (1 - F)), nTreatment / (N F))).
 * Example: 3841 per group, 10000 units a day, a 5% canary: 3841 / 500 -> 8 days.
 */
export function daysNeeded(nControl: number, nTreatment: number, dailyUnits: number, treatmentShare: number): number {
  if (!(dailyUnits > 0 && Number.isFinite(dailyUnits))) throw new ArgumentError('dailyUnits', `must be a positive number (got ${dailyUnits})`);
  if (!(treatmentShare > 0 && treatmentShare < 1)) {
    throw new ArgumentError('treatmentShare', `must be strictly between 0 and 1 (got ${treatmentShare})`);
  }
  const days = Math.max(nControl / (dailyUnits * (1 - treatmentShare)), nTreatment / (dailyUnits * treatmentShare));
  return ceilWhole(days);
}

export interface Root {
  root: number;
  /** zeroin iterations plus interval extensions */
  iterations: number;
  /** width of the last bracket */
  precision: number;
}

/**
 * A root of f in [lower, upper], as R's `uniroot(f, c(lower, upper), tol, extendInt)`:
 * Brent's zeroin (bisection with secant / inverse quadratic steps; R's zeroin.c), so the same
 * function values give the same root to the last digit. `extend: 'up'` is R's `extendInt = "upX"`
 * (f increases: while f(lower) > 0 move lower down, while f(upper) < 0 move upper up, by steps
 * 0.01 * max(1e-4, |end|) doubling each time); where R would stop at a NaN this halves the step
 * instead. Throws when there is no sign change.
 */
export function uniroot(
  f: (x: number) => number,
  lower: number,
  upper: number,
  opts: { tol?: number; maxIterations?: number; extend?: 'no' | 'up' } = {},
): Root {
  const tol = opts.tol ?? R_TOLERANCE;
  const maxIterations = opts.maxIterations ?? 1000;
  let fLower = f(lower);
  let fUpper = f(upper);
  let extensions = 0;
  if (opts.extend === 'up') {
    const extendEnd = (end: number, fEnd: number, outward: -1 | 1, bad: (v: number) => boolean): [number, number] => {
      let step = 0.01 * Math.max(1e-4, Math.abs(end));
      while (bad(fEnd)) {
        if (++extensions > maxIterations) throw new Error(`no sign change found in ${maxIterations} steps`);
        const next = end + outward * step;
        const fNext = f(next);
        if (Number.isNaN(fNext)) {
          step /= 4;
          continue;
        }
        end = next;
        fEnd = fNext;
        step *= 2;
      }
      return [end, fEnd];
    };
    [lower, fLower] = extendEnd(lower, fLower, -1, (v) => v > 0);
    [upper, fUpper] = extendEnd(upper, fUpper, 1, (v) => v < 0);
  }
  if (Number.isNaN(fLower) || Number.isNaN(fUpper) || Math.sign(fLower) * Math.sign(fUpper) > 0) {
    throw new Error(`no sign change between f(${lower}) = ${fLower} and f(${upper}) = ${fUpper}`);
  }
  const z = zeroin(f, lower, upper, fLower, fUpper, tol, maxIterations);
  return { root: z.root, iterations: z.iterations + extensions, precision: z.precision };
}

/**
 * Brent's root finder with the two end values already known (R's R_zeroin2, after Forsythe,
 * Malcolm & Moler): b is the best estimate, c the point bracketing the root with b, a the
 * previous b. Stops when half the bracket is within 2 eps |b| + tol / 2.
 */
function zeroin(
  f: (x: number) => number,
  ax: number,
  bx: number,
  fax: number,
  fbx: number,
  tol: number,
  maxIterations: number,
): { root: number; iterations: number; precision: number } {
  let a = ax;
  let b = bx;
  let fa = fax;
  let fb = fbx;
  let c = a;
  let fc = fa;
  if (fa === 0) return { root: a, iterations: 0, precision: 0 };
  if (fb === 0) return { root: b, iterations: 0, precision: 0 };
  for (let iteration = 1; iteration <= maxIterations + 1; iteration++) {
    const previousStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      // make b the best estimate, keeping c on the other side of the root
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolerance = 2 * Number.EPSILON * Math.abs(b) + tol / 2;
    let step = (c - b) / 2;
    if (Math.abs(step) <= tolerance || fb === 0) {
      return { root: b, iterations: iteration - 1, precision: Math.abs(c - b) };
    }
    if (Math.abs(previousStep) >= tolerance && Math.abs(fa) > Math.abs(fb)) {
      // interpolation: secant through (a, b) when a == c, else inverse quadratic through a, b, c
      const cb = c - b;
      let p: number;
      let q: number;
      if (a === c) {
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      // accept the interpolated point if it lies well inside [b, c] and shrinks faster than bisection
      if (p < 0.75 * cb * q - Math.abs(tolerance * q) / 2 && p < Math.abs((previousStep * q) / 2)) {
        step = p / q;
      }
    }
    if (Math.abs(step) < tolerance) step = step > 0 ? tolerance : -tolerance;
    a = b;
    fa = fb;
    b += step;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  throw new Error(`root search did not converge in ${maxIterations} iterations`);
}
