/**
 * `abtool stats <procedure>`: one procedure on raw input, for quick checks and conformance.
 * Each procedure lives in src/cli/stats/<name>.ts and exports `register(stats)`.
 */
import { Command, Option } from 'commander';
import type { Alternative } from '../core/types.js';
import { parseAlternative, parseProbability, readSampleFile } from './args.js';
import { usageError } from './exitCode.js';
import { register as registerZtest } from './stats/ztest.js';
import { register as registerWelch } from './stats/welch.js';
import { register as registerWilson } from './stats/wilson.js';
import { register as registerSrm } from './stats/srm.js';
import { register as registerAdjust } from './stats/adjust.js';
import { register as registerBootstrap } from './stats/bootstrap.js';
import { register as registerMannWhitney } from './stats/mannwhitney.js';
import { register as registerKs } from './stats/ks.js';

export function registerStats(program: Command): void {
  const stats = program
    .command('stats')
    .description('run one statistical procedure on raw input (control = a, treatment = b; differences are treatment minus control)')
    .addHelpText(
      'after',
      `
Examples:
  abtool stats ztest --control 120/1000 --treatment 150/1000
  abtool stats welch --a control.txt --b treatment.txt --json
  abtool stats adjust --p-values 0.01,0.04,0.2 --method holm`,
    );
  registerZtest(stats);
  registerWelch(stats);
  registerWilson(stats);
  registerSrm(stats);
  registerAdjust(stats);
  registerBootstrap(stats);
  registerMannWhitney(stats);
  registerKs(stats);
}

export interface SampleOptions {
  a?: string;
  b?: string;
  alternative: string;
  confidence: string;
  json?: boolean;
}

/**
 * Adds --a, --b, --alternative, --confidence and --json to a two-sample procedure. `alternatives`:
 * what greater and less mean, when not "treatment larger" and "smaller" (ks: scipy's CDF convention).
 */
export function twoSampleCommand(stats: Command, name: string, description: string, alternatives = 'two-sided | greater (treatment larger) | less'): Command {
  return stats
    .command(name)
    .description(description)
    .option('--a <file>', 'control sample: one number per line')
    .option('--b <file>', 'treatment sample: one number per line')
    .addOption(new Option('--alternative <alt>', alternatives).default('two-sided'))
    .option('--confidence <level>', 'confidence level of the interval', '0.95')
    .option('--json', 'print one JSON object');
}

export function readSamples(opts: SampleOptions): { a: Float64Array; b: Float64Array; alternative: Alternative; confidence: number } {
  if (!opts.a) throw usageError('--a <file> (the control sample) is required');
  if (!opts.b) throw usageError('--b <file> (the treatment sample) is required');
  const alternative = parseAlternative('--alternative', opts.alternative);
  const confidence = parseProbability('--confidence', opts.confidence);
  return { a: readSampleFile('--a', opts.a), b: readSampleFile('--b', opts.b), alternative, confidence };
}

export function ciArray(ci: { low: number | null; high: number | null }): [number | null, number | null] {
  const f = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);
  return [f(ci.low), f(ci.high)];
}
