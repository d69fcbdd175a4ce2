import { Option, type Command } from 'commander';
import { KS_METHODS, ksTwoSample } from '../../core/ksTwoSample.js';
import { parseChoice } from '../args.js';
import { print, unwrap } from '../output.js';
import { readSamples, twoSampleCommand, type SampleOptions } from '../stats.js';

interface KsCliOptions extends SampleOptions {
  method: string;
}

const STATISTIC_NAME = { 'two-sided': 'D', greater: 'D+', less: 'D-' } as const;

export function register(stats: Command): void {
  twoSampleCommand(
    stats,
    'ks',
    'two-sample Kolmogorov-Smirnov test: do the two distributions differ?',
    "two-sided | greater (treatment's CDF above control's: its values smaller, scipy's convention) | less",
  )
    .addOption(
      new Option('--method <method>', 'p-value: auto (exact up to 10000 per sample, as scipy) | exact | asymp')
        .choices(KS_METHODS)
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
Same numbers as scipy 1.10 ks_2samp(b, a, alternative, method), with scipy's CDF convention:
--alternative greater means the treatment's CDF lies above the control's somewhere (treatment
values tend to be SMALLER); less means they tend to be larger. With tied values the exact
p-value is exact given the ties, as R 4.2 ks.test(b, a, exact = TRUE). One difference: a
one-sided exact p-value for samples too large for scipy's exact method (unequal sizes in the
thousands) is still exact here, where scipy falls back to the asymptotic one with a warning.
In --json, "estimate" is the signed difference F_treatment - F_control where D is attained,
"ci" is null (no interval), and "method" is the p-value method used (exact or asymp).

Examples:
  abtool stats ks --a control.txt --b treatment.txt
  abtool stats ks --a control.txt --b treatment.txt --method asymp --json`,
    )
    .action((opts: KsCliOptions) => {
      const method = parseChoice('--method', opts.method, KS_METHODS);
      const { a, b, alternative, confidence } = readSamples(opts);
      const r = unwrap('ks', ksTwoSample(a, b, { alternative, method, confidence }), opts);
      print(
        {
          title: r.method,
          json: {
            statistic: r.statistic,
            p_value: r.pValue,
            estimate: r.estimate,
            ci: null,
            method: r.pMethod,
            location: r.location,
            sign: r.sign,
            ties: r.ties,
            n_control: r.nControl,
            n_treatment: r.nTreatment,
            alternative: r.alternative,
            description: r.method,
          },
          rows: [
            ['n (control, treatment)', `${r.nControl}, ${r.nTreatment}`],
            [STATISTIC_NAME[r.alternative], r.statistic],
            [`F_treatment - F_control at ${r.location}`, r.estimate],
            [`p-value (${r.alternative})`, r.pValue],
            ['p-value method', r.ties && r.pMethod === 'exact' ? 'exact (given ties)' : r.pMethod],
          ],
        },
        opts,
      );
    });
}
