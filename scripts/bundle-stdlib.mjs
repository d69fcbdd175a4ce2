/**
 * Build step after tsc: the five stdlib functions abtool uses (core/distributions.ts) bundled into one
 * CommonJS file, dist/vendor/stdlib.cjs. Required from node_modules they are 414 small modules, whose
 * resolution and loading take 70-140 ms in every thread that computes a p-value (the main thread and
 * the segment worker); the bundle loads in about 15 ms. Same code, not minified: the same numbers.
 * Without esbuild (or before this step runs) distributions.ts requires the packages themselves.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist/vendor/stdlib.cjs');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-stdlib: esbuild is not installed; the stdlib packages will be loaded one by one');
  process.exit(0);
}
mkdirSync(dirname(out), { recursive: true });
const entry = `module.exports = {
  erfc: require('@stdlib/math-base-special-erfc'),
  erfcinv: require('@stdlib/math-base-special-erfcinv'),
  gammainc: require('@stdlib/math-base-special-gammainc'),
  betainc: require('@stdlib/math-base-special-betainc'),
  tQuantile: require('@stdlib/stats-base-dists-t-quantile'),
};`;
await esbuild.build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'stdlib-entry.cjs', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: false,
  legalComments: 'inline',
  outfile: out,
  logLevel: 'warning',
});
