import type { Command } from 'commander';
import { adjustPValues, CORRECTIONS } from '../../core/multipleTesting.js';
import { parseChoice, parseNumberList, parseProbability } from '../args.js';
import { usageError } from '../exitCode.js';
import { print } from '../output.js';

interface Opts {
  pValues?: string;
  method: string;
  alpha: string;
  json?: boolean;
}

export function register(stats: Command): void {
  stats
    .command('adjust')
    .description('adjust p-values for multiple comparisons (Holm, Benjamini-Hochberg, Bonferroni)')
    .option('--p-values <list>', 'comma-separated p-values, e.g. 0.01,0.04,0.2')
    .option('--method <method>', `one of ${CORRECTIONS.join(', ')}`, 'holm')
    .option('--alpha <alpha>', 'significance level for the rejections', '0.05')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Same numbers as statsmodels multipletests(p, alpha, method=holm|fdr_bh|bonferroni) and R p.adjust.

Example:
  abtool stats adjust --p-values 0.01,0.04,0.2 --method bh`,
    )
    .action((opts: Opts) => {
      if (!opts.pValues) throw usageError('--p-values <list> is required');
      const p = parseNumberList('--p-values', opts.pValues);
      p.forEach((v, i) => {
        if (!(v >= 0 && v <= 1)) throw usageError(`--p-values: item ${i + 1} must be in [0, 1] (got ${v})`);
      });
      const method = parseChoice('--method', opts.method, CORRECTIONS);
      const alpha = parseProbability('--alpha', opts.alpha);
      const r = adjustPValues(p, method, alpha);
      print(
        {
          title: `p-value adjustment (${method}, alpha ${alpha})`,
          json: { statistic: null, p_value: null, estimate: null, ci: null, adjusted: r.adjusted, reject: r.reject, method, alpha }, // (CONTRACT section 5's keys: null, one procedure over many p-values)
          rows: p.map((v, i) => [`p${i + 1} = ${v}`, `${r.adjusted[i]} ${r.reject[i] ? '(reject)' : ''}`] as const),
        },
        opts,
      );
    });
}
