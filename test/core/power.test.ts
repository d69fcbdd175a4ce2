import { describe, expect, it } from 'vitest';
import {
  ceilWhole,
  checkDesign,
  daysNeeded,
  minimumDetectableEffect,
  power,
  sampleSize,
  uniroot,
  type Design,
  type DesignBase,
} from '../../src/core/power.js';
import { logGammaHalfRatio, noncentralTCdf } from '../../src/core/noncentralT.js';
import { studentTCdf, studentTSf } from '../../src/core/distributions.js';
import { ArgumentError } from '../../src/core/types.js';
import { expectClose, loadReference } from '../helpers/reference.js';

interface SizeCase {
  kind: 'proportion' | 'mean';
  baseline?: number;
  sd?: number;
  mde: number;
  alpha: number;
  power: number;
  alternative: 'two-sided' | 'one-sided';
  expected: { n_exact: number; n_per_group: number; power_at_n: number };
}

function designOf(c: SizeCase): Design {
  const test = { alpha: c.alpha, alternative: c.alternative, ratio: 1, mde: c.mde };
  return c.kind === 'proportion' ? { kind: 'proportion', baseline: c.baseline!, ...test } : { kind: 'mean', sd: c.sd!, ...test };
}

const reference = loadReference<SizeCase>('sample_size');

// fixtures/reference/sample_size.json: R 4.2 power.prop.test(p1 = baseline, p2 = baseline + mde,
// sig.level = alpha, power, alternative) and power.t.test(delta = mde, sd, ..., type = 'two.sample');
// n_per_group = ceiling(n); power_at_n = R's power at that n. Tolerances: n_per_group exact,
// n_exact 1e-6 relative, power_at_n 1e-4 relative (the conformance checker's).
describe('sample size against R 4.2 power.prop.test / power.t.test', () => {
  reference.cases.forEach((c, i) => {
    const label = `${i}: ${c.kind} ${c.kind === 'proportion' ? `p1=${c.baseline}` : `sd=${c.sd}`} mde=${c.mde} alpha=${c.alpha} power=${c.power} ${c.alternative}`;
    it(label, () => {
      const r = sampleSize(designOf(c), c.power);
      expect(r.nControl).toBe(c.expected.n_per_group);
      expect(r.nTreatment).toBe(c.expected.n_per_group);
      expect(r.total).toBe(2 * c.expected.n_per_group);
      expectClose(r.nExact, c.expected.n_exact, 1e-6, 0, 'n_exact');
      expectClose(r.powerAtN, c.expected.power_at_n, 1e-4, 0, 'power_at_n');
    });
  });
});

interface Tail {
  call: string;
  value: unknown;
}
const tails = loadReference<Tail>('tails');
const tail = (call: string) => tails.cases.find((c) => c.call === call)!.value as number;

// fixtures/reference/tails.json (R 4.2.2, 16 significant digits)
describe('R 4.2.2 tails.json sample sizes', () => {
  it('power.prop.test(p1=0.10, p2=0.12, power=0.8)$n', () => {
    const r = sampleSize({ kind: 'proportion', baseline: 0.1, mde: 0.02, alpha: 0.05, alternative: 'two-sided', ratio: 1 }, 0.8);
    expectClose(r.nExact, tail('power.prop.test(p1=0.10, p2=0.12, power=0.8)$n'), 1e-6);
    expect(r.nControl).toBe(3841);
  });
  it('power.t.test(delta=0.1, sd=1, power=0.8)$n', () => {
    const r = sampleSize({ kind: 'mean', sd: 1, mde: 0.1, alpha: 0.05, alternative: 'two-sided', ratio: 1 }, 0.8);
    expectClose(r.nExact, tail('power.t.test(delta=0.1, sd=1, power=0.8)$n'), 1e-6);
    expect(r.nControl).toBe(1571);
  });
});

/**
 * P(T <= t) for the noncentral t by Simpson's rule on its definition: T = (Z + ncp) / sqrt(V/df),
 * so P(T <= t) = E[Phi(t sqrt(V/df) - ncp)] over V ~ chi-square(df). The chi-square density's
 * constant cancels in the ratio of two integrals, so only exp and a normal cdf are needed
 * (normal cdf from the test's own erfc series, independent of the code under test).
 */
function integratedNctCdf(t: number, df: number, ncp: number): number {
  // substitute V = s^2: the weight s^(df-1) e^(-s^2/2) is smooth for whole df, so Simpson converges fast
  const logMode = df > 1 ? (df - 1) * Math.log(Math.sqrt(df - 1)) - (df - 1) / 2 : 0;
  const weight = (s: number) => (s === 0 ? (df === 1 ? 1 : 0) : Math.exp((df - 1) * Math.log(s) - (s * s) / 2 - logMode));
  const upper = Math.sqrt(df) + 40;
  const m = 20000;
  const h = upper / m;
  let num = 0;
  let den = 0;
  for (let i = 0; i <= m; i++) {
    const s = i * h;
    const c = i === 0 || i === m ? 1 : i % 2 === 1 ? 4 : 2;
    const w = c * weight(s);
    den += w;
    num += w * phi((t * s) / Math.sqrt(df) - ncp);
  }
  return num / den;
}

/** Standard normal cdf by the Taylor series of erf (|z| < 6) or the continued fraction tail. */
function phi(z: number): number {
  if (z < -6) return phiTail(-z);
  if (z > 6) return 1 - phiTail(z);
  // Phi(z) = 1/2 + phi(z) * sum z^(2n+1) / (1*3*...*(2n+1))
  let term = z;
  let sum = z;
  for (let n = 1; n < 500 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
    term *= (z * z) / (2 * n + 1);
    sum += term;
  }
  return 0.5 + (sum * Math.exp(-(z * z) / 2)) / Math.sqrt(2 * Math.PI);
}
function phiTail(z: number): number {
  // Laplace continued fraction for the Mills ratio, evaluated from the tail end
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / (z + f);
  return Math.exp(-(z * z) / 2) / Math.sqrt(2 * Math.PI) / (z + f);
}

describe('noncentral t cdf (AS 243, as R pnt)', () => {
  // P(T <= t) from mpmath 1.3 (30 digits): quad of Phi(t sqrt(u/df) - ncp) * dchisq(u, df) over
  // u in (0, inf), the definition of the noncentral t; scipy 1.17 nct.cdf agrees to 1e-14.
  const spots: [number, number, number, number][] = [
    [2, 10, 1, 0.80761156253037526],
    [1.5, 3.3, 2, 0.29555566386928928],
    [-1, 7, 0.5, 0.078102202200877713],
    [4, 58, 3, 0.82159291626975129],
    [0.5, 1, -1, 0.91036759913540288],
    [1.96, 200, 2.8, 0.20089203329402187],
    [25, 15, 20, 0.8380659753626899],
    [-3, 20, -2.5, 0.33839712650649465],
    [2.2, 0.7, 1.2, 0.54533474209992899],
    [1.97, 398, 2.5, 0.29807365088583624],
  ];
  for (const [t, df, ncp, want] of spots) {
    it(`pt(${t}, ${df}, ncp = ${ncp}) = ${want} (mpmath integral, 1e-11 absolute)`, () => {
      expectClose(noncentralTCdf(t, df, ncp), want, 0, 1e-11, 'lower');
      expectClose(noncentralTCdf(t, df, ncp, false), 1 - want, 0, 1e-11, 'upper');
    });
  }

  it('beyond df = 4e5 uses the normal approximation (A&S 26.7.10) as R does: close, not exact', () => {
    // mpmath: P(T <= 1.645) with df = 5e5, ncp = 2.5 is 0.19627566641624261
    const got = noncentralTCdf(1.645, 5e5, 2.5);
    expectClose(got, 0.19627566641624261, 0, 1e-6);
    // and the approximation is the stated formula
    const s = 1 / (4 * 5e5);
    expectClose(got, phi((1.645 * (1 - s) - 2.5) / Math.sqrt(1 + 1.645 * 1.645 * 2 * s)), 1e-12);
  });

  it('agrees with numerical integration of its definition done here', () => {
    for (const [t, df, ncp] of [
      [2, 10, 1],
      [1.7, 4, 2.2],
      [-0.8, 30, 0.4],
      [3.1, 16, 3.5],
      [0.2, 2, -1.5],
    ] as const) {
      expectClose(noncentralTCdf(t, df, ncp), integratedNctCdf(t, df, ncp), 0, 1e-9, `t=${t} df=${df} ncp=${ncp}`);
    }
  });

  it('ncp = 0 is the central t', () => {
    for (const [t, df] of [
      [2.1, 5],
      [-1.3, 12.5],
      [0.4, 1],
    ] as const) {
      expect(noncentralTCdf(t, df, 0)).toBe(studentTCdf(t, df));
      expect(noncentralTCdf(t, df, 0, false)).toBe(studentTSf(t, df));
      // a tiny ncp goes through the series and must land next to the central value
      expectClose(noncentralTCdf(t, df, 1e-9), studentTCdf(t, df), 0, 1e-9);
    }
  });

  it('reflection: P(T <= t; ncp) = P(T >= -t; -ncp), and the tails add to 1', () => {
    for (const [t, df, ncp] of [
      [1.2, 9, 0.7],
      [-2.5, 3, 1.9],
      [0.3, 40, -2.2],
    ] as const) {
      expectClose(noncentralTCdf(t, df, ncp), noncentralTCdf(-t, df, -ncp, false), 0, 1e-13);
      expectClose(noncentralTCdf(t, df, ncp) + noncentralTCdf(t, df, ncp, false), 1, 0, 1e-15);
    }
  });

  it('is a cdf: increasing in t, 0 and 1 at the ends; NaN for df <= 0', () => {
    let previous = 0;
    for (let t = -10; t <= 15; t += 0.25) {
      const v = noncentralTCdf(t, 6, 2);
      expect(v).toBeGreaterThanOrEqual(previous - 1e-14);
      previous = v;
    }
    expect(noncentralTCdf(-Infinity, 6, 2)).toBe(0);
    expect(noncentralTCdf(Infinity, 6, 2)).toBe(1);
    expect(noncentralTCdf(Infinity, 6, 2, false)).toBe(0);
    expect(noncentralTCdf(1, 0, 2)).toBeNaN();
  });

  it('ln(Gamma(z + 1/2) / Gamma(z)) without cancellation (mpmath loggamma differences)', () => {
    expectClose(logGammaHalfRatio(1), Math.log(Math.sqrt(Math.PI) / 2), 0, 1e-15);
    expectClose(logGammaHalfRatio(0.5), -0.5 * Math.log(Math.PI), 0, 1e-15);
    expectClose(logGammaHalfRatio(0.1), -1.854478793664971, 0, 1e-14);
    expectClose(logGammaHalfRatio(2.8), 0.47039578590698771, 0, 1e-15);
    expectClose(logGammaHalfRatio(7.25), 0.97327294557744443, 0, 1e-15);
    expectClose(logGammaHalfRatio(20), 1.4916167873313041, 0, 1e-15);
    expectClose(logGammaHalfRatio(1e6), 6.9077551539821371, 0, 1e-14);
  });
});

const prop: Design = { kind: 'proportion', baseline: 0.1, mde: 0.02, alpha: 0.05, alternative: 'two-sided', ratio: 1 };
const mean: Design = { kind: 'mean', sd: 2, mde: 0.5, alpha: 0.05, alternative: 'two-sided', ratio: 1 };

describe('power and the inverse problems', () => {
  it('power at the exact n is the target; at the rounded n it is at least the target', () => {
    for (const d of [prop, mean, { ...prop, alternative: 'one-sided' as const, baseline: 0.42, mde: -0.03 }]) {
      const r = sampleSize(d, 0.85);
      // R's uniroot stops within tol = 1.2e-4 of the root: the power there is the target to ~1e-7
      expectClose(power(d, r.nExact), 0.85, 0, 1e-6);
      expect(r.powerAtN).toBeGreaterThanOrEqual(0.85);
      expect(power(d, r.nControl - 1)).toBeLessThan(0.85);
    }
  });

  it("the power at R's n (tails.json power.prop.test(p1=0.10, p2=0.12, power=0.8)$n) is 0.8", () => {
    expectClose(power(prop, tail('power.prop.test(p1=0.10, p2=0.12, power=0.8)$n')), 0.8, 0, 1e-7);
  });

  it('the minimum detectable effect at n gives the target power and round-trips through sampleSize', () => {
    for (const d of [prop, mean]) {
      const r = sampleSize(d, 0.8);
      const m = minimumDetectableEffect(d, r.nControl, r.nTreatment, 0.8).mde!;
      expectClose(power({ ...d, mde: m }, r.nControl, r.nTreatment), 0.8, 0, 1e-9);
      // n was rounded up, so the effect detectable there is a little smaller than the design's
      expect(m).toBeLessThanOrEqual(d.mde);
      expect(m).toBeGreaterThan(d.mde * (1 - 1 / r.nControl));
      // and asking for that effect gives back the same n
      expect(sampleSize({ ...d, mde: m }, 0.8).nControl).toBe(r.nControl);
    }
  });

  it('decreases: the minimum detectable effect is negative and mirrors power', () => {
    const m = minimumDetectableEffect(prop, 3841, 3841, 0.8, 'decrease').mde!;
    expect(m).toBeLessThan(0);
    expectClose(power({ ...prop, mde: m }, 3841), 0.8, 0, 1e-9);
    const t = minimumDetectableEffect(mean, 100, 100, 0.8, 'decrease').mde!;
    expectClose(t, -minimumDetectableEffect(mean, 100, 100, 0.8).mde!, 1e-12);
  });

  it('no detectable effect within (0, 1) at a tiny n is null, not a number', () => {
    expect(minimumDetectableEffect({ ...prop, baseline: 0.9 }, 1, 1, 0.99).mde).toBeNull();
  });
});

describe('unequal groups (--ratio)', () => {
  // scipy 1.17: norm.cdf((|p2-p1| - norm.isf(a/s) * se0) / se1) with the pooled se0 and unpooled se1,
  // and nct.sf(t.isf(a/s, n1+n2-2), n1+n2-2, delta / (sd * sqrt(1/n1 + 1/n2)))
  it('power with n1 != n2 matches the pooled formulas computed by scipy', () => {
    expectClose(power(prop, 2000, 500), 0.2678117685547099, 1e-12);
    expectClose(power({ ...prop, alternative: 'one-sided' }, 2000, 500), 0.3748762296440765, 1e-12);
    expectClose(power(mean, 40, 13), 0.11671975342079213, 1e-10);
    expectClose(power({ ...mean, alpha: 0.01, alternative: 'one-sided' }, 40, 13), 0.05893147815500999, 1e-10);
  });

  it('the unequal-n formulas meet R expressions at n1 = n2', () => {
    for (const d of [prop, mean]) {
      expectClose(power(d, 777, 777 * (1 + 1e-13)), power(d, 777), 1e-11);
    }
  });

  it('sizes both arms: n_treatment = ceil(ratio * n), power at the rounded sizes >= target', () => {
    for (const d of [
      { ...prop, ratio: 0.25 },
      { ...mean, ratio: 3 },
    ]) {
      const r = sampleSize(d, 0.8);
      expect(r.nControl).toBe(Math.ceil(r.nExact));
      expect(r.nTreatment).toBe(Math.ceil(d.ratio * r.nExact));
      expect(r.total).toBe(r.nControl + r.nTreatment);
      expect(r.powerAtN).toBeGreaterThanOrEqual(0.8);
      expectClose(power(d, r.nExact), 0.8, 0, 1e-6);
    }
  });

  it('for a fixed total, unequal groups need more units than equal ones', () => {
    const equal = sampleSize(prop, 0.8).total;
    expect(sampleSize({ ...prop, ratio: 0.25 }, 0.8).total).toBeGreaterThan(equal);
    expect(sampleSize({ ...prop, ratio: 4 }, 0.8).total).toBeGreaterThan(equal);
  });
});

describe('days needed', () => {
  it('the slower arm binds', () => {
    // 5% canary, 3841 per arm, 10000 units a day: treatment gets 500 a day -> 7.68 -> 8 days
    expect(daysNeeded(3841, 3841, 10000, 0.05)).toBe(8);
    // even split: 3841 / 5000 -> 1 day
    expect(daysNeeded(3841, 3841, 10000, 0.5)).toBe(1);
    // groups sized like the split: control 9500, treatment 500, both fill in exactly 1 day
    expect(daysNeeded(9500, 500, 10000, 0.05)).toBe(1);
    // control binds when it gets the smaller share
    expect(daysNeeded(1000, 100, 100, 0.9)).toBe(100);
  });
  it('rejects nonsense', () => {
    expect(() => daysNeeded(10, 10, 0, 0.5)).toThrow(ArgumentError);
    expect(() => daysNeeded(10, 10, 100, 1)).toThrow(ArgumentError);
  });
});

describe('root finding (R uniroot / zeroin)', () => {
  it('finds a root inside the interval to the tolerance', () => {
    const r = uniroot((x) => x * x - 2, 0, 2, { tol: 1e-12 });
    expectClose(r.root, Math.SQRT2, 0, 1e-12);
  });
  it("extends the interval upward and downward like extendInt = 'upX'", () => {
    expectClose(uniroot((x) => x - 3e7, 2, 1e7, { tol: 1e-6, extend: 'up' }).root, 3e7, 0, 1e-5);
    expectClose(uniroot((x) => x - 0.5, 2, 1e7, { tol: 1e-9, extend: 'up' }).root, 0.5, 0, 1e-8);
  });
  it('throws without a sign change', () => {
    expect(() => uniroot((x) => x * x + 1, -1, 1)).toThrow(/sign change/);
  });
});

describe('argument checks name the argument', () => {
  const cases: [string, () => unknown][] = [
    ['alpha', () => sampleSize({ ...prop, alpha: 1 }, 0.8)],
    ['power', () => sampleSize(prop, 1)],
    ['power', () => sampleSize({ ...prop, alpha: 0.2 }, 0.1)],
    ['baseline', () => sampleSize({ ...prop, baseline: 0 }, 0.8)],
    ['mde', () => sampleSize({ ...prop, mde: 0.95 }, 0.8)],
    ['mde', () => sampleSize({ ...prop, mde: 0 }, 0.8)],
    ['sd', () => sampleSize({ ...mean, sd: -1 }, 0.8)],
    ['ratio', () => sampleSize({ ...prop, ratio: 0 }, 0.8)],
    ['alternative', () => checkDesign({ ...prop, alternative: 'greater' } as unknown as DesignBase)],
  ];
  for (const [name, call] of cases) {
    it(name, () => {
      expect(call).toThrow(ArgumentError);
      try {
        call();
      } catch (e) {
        expect((e as ArgumentError).argument).toBe(name);
      }
    });
  }
  it('ceilWhole forgives the last bit of a whole product only', () => {
    expect(ceilWhole(1.1 * 100)).toBe(110);
    expect(ceilWhole(0.1 * 70)).toBe(7);
    // a large n with a fraction well above the last bit is rounded up (a relative 1e-9 rounded it down)
    expect(ceilWhole(156977594687.09543)).toBe(156977594688);
    expect(sampleSize({ kind: 'mean', sd: 1, mde: 1e-5, alpha: 0.05, ratio: 1, alternative: 'two-sided' }, 0.8)).toMatchObject({ nControl: 156977594688, nTreatment: 156977594688 });
    // equal groups stay equal however large n is (n_exact ...849.104 at ~1.4e13)
    const huge = sampleSize({ kind: 'proportion', baseline: 0.5, mde: 0.000000523, alpha: 0.05, ratio: 1, alternative: 'two-sided' }, 0.8);
    expect(huge.nTreatment).toBe(huge.nControl);
    expect(ceilWhole(3.0001)).toBe(4);
    expect(Math.ceil(1.1 * 100)).toBe(111); // why ceilWhole exists: 1.1 * 100 = 110.00000000000001
  });
});
