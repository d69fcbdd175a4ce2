import { Option, type Command } from 'commander';
import { MANN_WHITNEY_METHODS, mannWhitneyU } from '../../core/mannWhitneyU.js';
import { parseChoice } from '../args.js';
import { print, unwrap } from '../output.js';
import { ciArray, readSamples, twoSampleCommand, type SampleOptions } from '../stats.js';
import { confidencePercent } from '../../core/percent.js';

interface MannWhitneyCliOptions extends SampleOptions {
  method: string;
}

export function register(stats: Command): void {
  twoSampleCommand(stats, 'mannwhitney', 'Mann-Whitney U (Wilcoxon rank-sum) test with the Hodges-Lehmann shift')
    .addOption(
      new Option('--method <method>', 'p-value: auto (exact for small samples without ties, as scipy) | exact | asymptotic')
        .choices(MANN_WHITNEY_METHODS)
        .default('auto'),
    )
    .addHelpText(
      'after',
      `
U is the treatment's: pairs where treatment > control, plus half the ties. Same numbers as
scipy 1.10 mannwhitneyu(b, a, alternative, method, use_continuity=True); the asymptotic p-value
is tie- and continuity-corrected. With ties, --method exact is exact given the ties (the
permutation distribution of the mid-ranks), where scipy's exact method ignores them. The shift (estimate, hodges_lehmann) is the median of all
pairwise differences treatment - control; its interval is R's wilcox.test(b, a, conf.int = TRUE).
In --json, "method" is the p-value method used (exact or asymptotic).

Examples:
  abtool stats mannwhitney --a control.txt --b treatment.txt
  abtool stats mannwhitney --a control.txt --b treatment.txt --alternative greater --json`,
    )
    .action((opts: MannWhitneyCliOptions) => {
      const method = parseChoice('--method', opts.method, MANN_WHITNEY_METHODS);
      const { a, b, alternative, confidence } = readSamples(opts);
      const r = unwrap('mannwhitney', mannWhitneyU(a, b, { alternative, confidence, method }), opts);
      const ci = ciArray(r.ci);
      print(
        {
          title: r.method,
          json: {
            statistic: r.statistic,
            p_value: r.pValue,
            estimate: r.estimate,
            ci,
            hodges_lehmann: r.hodgesLehmann,
            method: r.pMethod,
            ci_method: r.ciMethod,
            u_control: r.uControl,
            ties: r.ties,
            n_control: r.nControl,
            n_treatment: r.nTreatment,
            alternative: r.alternative,
            confidence: r.confidenceLevel,
            description: r.method,
          },
          rows: [
            ['n (control, treatment)', `${r.nControl}, ${r.nTreatment}`],
            ['U (treatment)', r.statistic],
            ['U (control)', r.uControl],
            [`p-value (${r.alternative})`, r.pValue],
            ['p-value method', r.ties ? (r.pMethod === 'asymptotic' ? 'asymptotic (ties present)' : 'exact (given the ties)') : r.pMethod],
            ['Hodges-Lehmann shift (treatment - control)', r.hodgesLehmann],
            [`${confidencePercent(r.confidenceLevel)} interval for the shift`, ci],
          ],
        },
        opts,
      );
    });
}
