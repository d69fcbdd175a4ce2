/**
 * Distribution functions that stay accurate deep in the tails.
 *
 * jstat's normal cdf is exactly 0 beyond |z| ~ 8.3, its Student t cdf breaks above ~1e5
 * degrees of freedom and its chi-square has no upper tail; simple-statistics' normal cdf is a
 * 4-decimal table. So upper tails here are computed directly (never as 1 - cdf, which
 * underflows), from stdlib's complementary error function and regularized incomplete
 * gamma and beta functions, which are computed to full double precision:
 *
 *   P(Z > z)        = erfc(z / sqrt 2) / 2
 *   P(T_v > t), t>0 = I_{v/(v+t^2)}(v/2, 1/2) / 2
 *   P(X2_k > x)     = Q(k/2, x/2)       (upper regularized gamma)
 *
 * Checked against R 4.2 in test/core/distributions.test.ts (fixtures/reference/tails.json):
 * 2*pnorm(-9) = 2.257e-19, 2*pt(-40, 10) = 2.28e-12, qnorm(1e-300) = -37.047, ...
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type Erfc from '@stdlib/math-base-special-erfc';
import type Erfcinv from '@stdlib/math-base-special-erfcinv';
import type Gammainc from '@stdlib/math-base-special-gammainc';
import type Betainc from '@stdlib/math-base-special-betainc';
import type TQuantile from '@stdlib/stats-base-dists-t-quantile';

/**
 * The stdlib functions, loaded on first use, so that a command that computes no p-value (or computes
 * them only after reading its logs) does not wait for them.
 */
interface Stdlib {
  erfc: typeof Erfc;
  erfcinv: typeof Erfcinv;
  gammainc: typeof Gammainc;
  betainc: typeof Betainc;
  tQuantile: typeof TQuantile;
}
let stdlib: Stdlib | null = null;

/** The build's one-file bundle of these functions (scripts/bundle.mjs): ~15 ms to load instead of 70-140. */
export const STDLIB_BUNDLE = new URL('../../dist/vendor/stdlib.cjs', import.meta.url);

/** Load the stdlib functions now (e.g. while another thread reads the logs). */
export function loadDistributions(): Stdlib {
  if (stdlib === null) {
    const require = createRequire(import.meta.url);
    // the build's one-file bundle of the same functions (scripts/bundle.mjs); from src (tests)
    // and dist alike it is dist/vendor/stdlib.cjs
    try {
      stdlib = require(fileURLToPath(STDLIB_BUNDLE)) as Stdlib;
      return stdlib;
    } catch {
      // no build (or no esbuild at build time): the packages themselves
    }
    stdlib = {
      erfc: require('@stdlib/math-base-special-erfc') as typeof Erfc,
      erfcinv: require('@stdlib/math-base-special-erfcinv') as typeof Erfcinv,
      gammainc: require('@stdlib/math-base-special-gammainc') as typeof Gammainc,
      betainc: require('@stdlib/math-base-special-betainc') as typeof Betainc,
      tQuantile: require('@stdlib/stats-base-dists-t-quantile') as typeof TQuantile,
    };
  }
  return stdlib;
}

const erfc = (x: number): number => (stdlib ?? loadDistributions()).erfc(x);
const erfcinv = (x: number): number => (stdlib ?? loadDistributions()).erfcinv(x);
const tQuantileStdlib = (p: number, df: number): number => (stdlib ?? loadDistributions()).tQuantile(p, df);
function gammainc(x: number, s: number, regularized: boolean, upper: boolean): number {
  return (stdlib ?? loadDistributions()).gammainc(x, s, regularized, upper);
}
/** stdlib's incomplete beta (also used by noncentralT.ts). */
export function betainc(x: number, a: number, b: number, regularized: boolean, upper: boolean): number {
  return (stdlib ?? loadDistributions()).betainc(x, a, b, regularized, upper);
}

/** P(Z <= z) for a standard normal Z. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** P(Z > z), accurate for large z (2*pnorm(-9) = 2.26e-19, not 0). */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * The standard normal quantile, accurate for p down to the smallest doubles:
 * qnorm(1e-300) = -37.047... Computed from the inverse complementary error function of the
 * smaller tail, so no precision is lost to 1 - p for small p.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p < 0.5) return -Math.SQRT2 * erfcinv(2 * p);
  return Math.SQRT2 * erfcinv(2 * (1 - p));
}

/** P(T > t) for Student's t with `df` degrees of freedom (df may be huge, or Infinity). */
export function studentTSf(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df) || df <= 0) return NaN;
  if (!Number.isFinite(df)) return normalSf(t);
  if (t === Infinity) return 0;
  if (t === -Infinity) return 1;
  const t2 = t * t;
  // tail = P(|T| > |t|) / 2, from whichever form of the incomplete beta keeps precision
  let twoTail: number;
  if (t2 < df) {
    // x = t^2/(df+t^2) is small: the upper regularized beta I_{1-x}(df/2,1/2) = 1 - I_x(1/2, df/2)
    twoTail = betainc(t2 / (df + t2), 0.5, df / 2, true, true);
  } else {
    twoTail = betainc(df / (df + t2), df / 2, 0.5, true, false);
  }
  const half = twoTail / 2;
  return t > 0 ? half : 1 - half;
}

/** P(T <= t). */
export function studentTCdf(t: number, df: number): number {
  return studentTSf(-t, df);
}

/** The quantile of Student's t; falls back to the normal for df beyond 1e10. */
export function studentTQuantile(p: number, df: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1 || !(df > 0)) return NaN;
  if (!Number.isFinite(df) || df > 1e10) return normalQuantile(p);
  return tQuantileStdlib(p, df);
}

/** P(X > x) for chi-square with k degrees of freedom, computed directly (no 1 - cdf). */
export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return gammainc(x / 2, k / 2, true, true);
}

/** P(X <= x) for chi-square with k degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  if (Number.isNaN(x) || !(k > 0)) return NaN;
  if (x <= 0) return 0;
  return gammainc(x / 2, k / 2, true, false);
}
