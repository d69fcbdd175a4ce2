import type { Command } from 'commander';
import { sampleRatioMismatch } from '../../core/sampleRatioMismatch.js';
import { parseNumberList } from '../args.js';
import { usageError } from '../exitCode.js';
import { print, unwrap } from '../output.js';

interface Opts {
  observed?: string;
  weights?: string;
  json?: boolean;
}

export function register(stats: Command): void {
  stats
    .command('srm')
    .description('sample ratio mismatch: chi-square goodness of fit of unit counts against the planned allocation')
    .option('--observed <counts>', 'units per arm, comma-separated, e.g. 5012,4988')
    .option('--weights <weights>', 'planned share per arm, comma-separated (normalised to sum 1), e.g. 0.5,0.5')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Same numbers as scipy chisquare(observed, f_exp=weights*sum(observed)) and R chisq.test(observed, p=weights).
A p-value below 0.001 marks the experiment invalid (CONTRACT section 3).

Example:
  abtool stats srm --observed 50500,49500 --weights 0.5,0.5`,
    )
    .action((opts: Opts) => {
      if (!opts.observed) throw usageError('--observed <counts> is required');
      if (!opts.weights) throw usageError('--weights <weights> is required');
      const observed = parseNumberList('--observed', opts.observed);
      const weights = parseNumberList('--weights', opts.weights);
      observed.forEach((o, i) => {
        if (!Number.isInteger(o) || o < 0) throw usageError(`--observed: item ${i + 1} must be a whole number >= 0 (got ${o})`);
      });
      weights.forEach((w, i) => {
        if (!(w > 0)) throw usageError(`--weights: item ${i + 1} must be greater than 0 (got ${w})`);
      });
      if (observed.length < 2) throw usageError('--observed needs at least two arms');
      if (observed.length !== weights.length) {
        throw usageError(`--observed has ${observed.length} arms but --weights has ${weights.length}`);
      }
      const r = unwrap('srm', sampleRatioMismatch(observed, weights), opts);
      print(
        {
          title: 'sample ratio mismatch (chi-square)',
          json: {
            statistic: r.statistic,
            p_value: r.pValue,
            // (CONTRACT section 5's keys: no difference to estimate, no interval)
            estimate: null,
            ci: null,
            df: r.df,
            observed: r.observed,
            expected: r.expected,
            observed_share: r.observedShare,
            mismatch: r.pValue < 0.001,
            method: r.method,
          },
          rows: [
            ['observed', r.observed.join(', ')],
            ['expected', r.expected.map((e) => e.toFixed(1)).join(', ')],
            ['X-squared', r.statistic],
            ['df', r.df],
            ['p-value', r.pValue],
            ['verdict', r.pValue < 0.001 ? 'MISMATCH (p < 0.001): assignment or logging is broken' : 'no mismatch detected'],
          ],
        },
        opts,
      );
    });
}
