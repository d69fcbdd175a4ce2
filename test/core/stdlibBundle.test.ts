/**
 * The build bundles the stdlib functions into dist/vendor/stdlib.cjs (scripts/bundle.mjs) so
 * that they load in one file instead of 414 modules. The bundle must be the same code: the same
 * numbers, bit for bit, as the packages, and it must be what loadDistributions() uses after a build.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDistributions, STDLIB_BUNDLE } from '../../src/core/distributions.js';

const require = createRequire(import.meta.url);

describe('the stdlib bundle', () => {
  const bundle = require(fileURLToPath(STDLIB_BUNDLE)) as ReturnType<typeof loadDistributions>;
  const packages = {
    erfc: require('@stdlib/math-base-special-erfc'),
    erfcinv: require('@stdlib/math-base-special-erfcinv'),
    gammainc: require('@stdlib/math-base-special-gammainc'),
    betainc: require('@stdlib/math-base-special-betainc'),
    tQuantile: require('@stdlib/stats-base-dists-t-quantile'),
  } as ReturnType<typeof loadDistributions>;

  it('is what loadDistributions() returns after a build', () => {
    expect(loadDistributions()).toBe(bundle);
  });

  it('gives bit-identical results to the packages, tails included', () => {
    const same = (a: number, b: number, what: string) => {
      if (!Object.is(a, b)) throw new Error(`${what}: bundle ${a}, packages ${b}`);
    };
    for (const x of [-40, -9, -3.2, -1, -1e-8, 0, 1e-300, 0.5, 1, 2.5, 8.3, 9, 27, 38]) same(bundle.erfc(x), packages.erfc(x), `erfc(${x})`);
    for (const x of [1e-300, 1e-20, 0.001, 0.3, 1, 1.7, 1.999999]) same(bundle.erfcinv(x), packages.erfcinv(x), `erfcinv(${x})`);
    for (const [x, s] of [[0.5, 0.5], [2, 3], [50, 40], [1e3, 900], [1e-5, 2]] as const) {
      for (const upper of [false, true]) same(bundle.gammainc(x, s, true, upper), packages.gammainc(x, s, true, upper), `gammainc(${x}, ${s}, ${upper})`);
    }
    for (const [x, a, b] of [[0.5, 2, 3], [1e-10, 0.5, 50], [0.999, 400, 0.5], [0.2, 1e5, 0.5]] as const) {
      for (const upper of [false, true]) same(bundle.betainc(x, a, b, true, upper), packages.betainc(x, a, b, true, upper), `betainc(${x}, ${a}, ${b}, ${upper})`);
    }
    for (const [p, df] of [[0.975, 1], [0.975, 9.3], [1e-12, 3], [0.5, 40], [0.999999, 2e5]] as const) same(bundle.tQuantile(p, df), packages.tQuantile(p, df), `tQuantile(${p}, ${df})`);
  });
});
