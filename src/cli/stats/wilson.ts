import type { Command } from 'commander';
import { wilsonInterval } from '../../core/wilson.js';
import { parseCount, parseProbability } from '../args.js';
import { usageError } from '../exitCode.js';
import { print } from '../output.js';
import { ciArray } from '../stats.js';
import { confidencePercent } from '../../core/percent.js';

interface Opts {
  successes?: string;
  trials?: string;
  confidence: string;
  json?: boolean;
}

export function register(stats: Command): void {
  stats
    .command('wilson')
    .description('Wilson score interval for one proportion')
    .option('--successes <x>', 'number of successes')
    .option('--trials <n>', 'number of trials')
    .option('--confidence <level>', 'confidence level', '0.95')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Same numbers as statsmodels proportion_confint(x, n, method='wilson') and R prop.test(x, n, correct=FALSE)$conf.int.

Example:
  abtool stats wilson --successes 52 --trials 100`,
    )
    .action((opts: Opts) => {
      if (opts.successes === undefined) throw usageError('--successes <x> is required');
      if (opts.trials === undefined) throw usageError('--trials <n> is required');
      const successes = parseCount('--successes', opts.successes);
      const trials = parseCount('--trials', opts.trials, 1);
      if (successes > trials) throw usageError(`--successes (${successes}) must not exceed --trials (${trials})`);
      const confidence = parseProbability('--confidence', opts.confidence);
      const r = wilsonInterval(successes, trials, confidence);
      print(
        {
          title: r.method,
          json: { statistic: null, p_value: null, estimate: null, rate: r.rate, ci: ciArray(r.ci), successes, trials, confidence, method: r.method }, // (no test: CONTRACT section 5's keys are null)
          rows: [
            ['rate', `${successes}/${trials} = ${r.rate}`],
            [`${confidencePercent(confidence)} interval`, ciArray(r.ci)],
          ],
        },
        opts,
      );
    });
}
