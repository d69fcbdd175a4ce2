import type { Command } from 'commander';
import { welchTTest } from '../../core/welchTTest.js';
import { print, unwrap } from '../output.js';
import { ciArray, readSamples, twoSampleCommand, type SampleOptions } from '../stats.js';
import { confidencePercent } from '../../core/percent.js';

export function register(stats: Command): void {
  twoSampleCommand(stats, 'welch', "Welch's two-sample t-test (unequal variances) for a difference in means")
    .addHelpText(
      'after',
      `
Same numbers as R: t.test(b, a, var.equal = FALSE); scipy: ttest_ind(b, a, equal_var=False).

Examples:
  abtool stats welch --a control.txt --b treatment.txt
  abtool stats welch --a control.txt --b treatment.txt --alternative less --json`,
    )
    .action((opts: SampleOptions) => {
      const { a, b, alternative, confidence } = readSamples(opts);
      const r = unwrap('welch', welchTTest(a, b, { alternative, confidence }), opts);
      print(
        {
          title: r.method,
          json: {
            statistic: r.statistic,
            p_value: r.pValue,
            estimate: r.estimate,
            ci: ciArray(r.ci),
            df: r.df,
            standard_error: r.standardError,
            mean_control: r.meanControl,
            mean_treatment: r.meanTreatment,
            n_control: r.nControl,
            n_treatment: r.nTreatment,
            alternative: r.alternative,
            confidence: r.confidenceLevel,
            method: r.method,
          },
          rows: [
            ['n (control, treatment)', `${r.nControl}, ${r.nTreatment}`],
            ['mean control', r.meanControl],
            ['mean treatment', r.meanTreatment],
            ['difference (treatment - control)', r.estimate],
            [`${confidencePercent(r.confidenceLevel)} interval`, ciArray(r.ci)],
            ['t', r.statistic],
            ['df (Welch-Satterthwaite)', r.df],
            [`p-value (${r.alternative})`, r.pValue],
          ],
        },
        opts,
      );
    });
}
