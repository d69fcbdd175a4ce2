/**
 * Build step after tsc (`npm run build`): fewer, bigger files to load.
 *
 * 1. dist/vendor/stdlib.cjs: the five stdlib functions core/distributions.ts uses, one CommonJS file
 *    instead of 414 modules (70-140 ms to load in every thread that computes a p-value, ~15 ms so).
 * 2. The entry points the CLI runs (dist/cli/main.js and the two worker threads' modules,
 *    dist/ingest/worker.js and dist/analysis/segmentWorker.js) replaced by bundles of themselves and
 *    everything they import, with the code they share and load later (the Arrow and CSV readers, the
 *    analysis, the renderers) in chunks under dist/bundle/. Every file stays two directories below
 *    the project root, so the paths the code computes from import.meta.url (package.json, the
 *    workers, the stdlib bundle) are the same as in tsc's output. `flatbuffers` stays outside: the
 *    Arrow reader guards apache-arrow's flatbuffers (ingest/arrow.ts), which must be the one shared
 *    module. Same code, not minified: the same numbers.
 *
 * Without esbuild (it is a dev dependency) this step says so and leaves tsc's output as it is, which
 * runs the same way, only slower to start.
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle: esbuild is not installed; dist/ keeps tsc\'s one-module-per-file output');
  process.exit(0);
}

mkdirSync(join(dist, 'vendor'), { recursive: true });
await esbuild.build({
  stdin: {
    contents: `module.exports = {
  erfc: require('@stdlib/math-base-special-erfc'),
  erfcinv: require('@stdlib/math-base-special-erfcinv'),
  gammainc: require('@stdlib/math-base-special-gammainc'),
  betainc: require('@stdlib/math-base-special-betainc'),
  tQuantile: require('@stdlib/stats-base-dists-t-quantile'),
};`,
    resolveDir: root,
    sourcefile: 'stdlib-entry.cjs',
    loader: 'js',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  legalComments: 'inline',
  outfile: join(dist, 'vendor/stdlib.cjs'),
  logLevel: 'warning',
});

// bundle into a scratch directory first (the entries are read from the files they replace)
const scratch = join(dist, '.bundle-tmp');
rmSync(scratch, { recursive: true, force: true });
rmSync(join(dist, 'bundle'), { recursive: true, force: true });
await esbuild.build({
  entryPoints: {
    'cli/main': join(dist, 'cli/main.js'),
    'ingest/worker': join(dist, 'ingest/worker.js'),
    'analysis/segmentWorker': join(dist, 'analysis/segmentWorker.js'),
  },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: scratch,
  chunkNames: 'bundle/[name]-[hash]',
  external: ['flatbuffers'],
  // CommonJS packages bundled into ES modules call require(): give them Node's
  banner: { js: "import { createRequire as __abtoolCreateRequire } from 'node:module'; const require = __abtoolCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  legalComments: 'inline',
  logLevel: 'warning',
});
cpSync(scratch, dist, { recursive: true });
rmSync(scratch, { recursive: true, force: true });
