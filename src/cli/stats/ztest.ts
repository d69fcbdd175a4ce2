import { Option, type Command } from 'commander';
import { twoProportionZTest } from '../../core/twoProportionZTest.js';
import { parseAlternative, parseFraction, parseProbability } from '../args.js';
import { usageError } from '../exitCode.js';
import { print, unwrap } from '../output.js';
import { ciArray } from '../stats.js';
import { confidencePercent } from '../../core/percent.js';

interface Opts {
  control?: string;
  treatment?: string;
  correction: boolean;
  alternative: string;
  confidence: string;
  json?: boolean;
}

export function register(stats: Command): void {
  stats
    .command('ztest')
    .description("two-proportion z-test (pooled) with R prop.test's continuity correction")
    .option('--control <x/n>', 'control successes/trials, e.g. 120/1000')
    .option('--treatment <x/n>', 'treatment successes/trials, e.g. 150/1000')
    .option('--no-correction', 'no continuity correction (R: correct = FALSE)')
    .addOption(new Option('--alternative <alt>', 'two-sided | greater (treatment larger) | less').default('two-sided'))
    .option('--confidence <level>', 'confidence level of the interval', '0.95')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      `
Same numbers as R: prop.test(c(x_treatment, x_control), c(n_treatment, n_control)).
statistic = sign(p_t - p_c) * sqrt(X-squared); estimate and ci are p_t - p_c.

Examples:
  abtool stats ztest --control 45/500 --treatment 65/500
  abtool stats ztest --control 45/500 --treatment 65/500 --alternative greater --no-correction --json`,
    )
    .action((opts: Opts) => {
      if (!opts.control) throw usageError('--control <successes/trials> is required');
      if (!opts.treatment) throw usageError('--treatment <successes/trials> is required');
      const control = parseFraction('--control', opts.control);
      const treatment = parseFraction('--treatment', opts.treatment);
      const alternative = parseAlternative('--alternative', opts.alternative);
      const confidence = parseProbability('--confidence', opts.confidence);
      const r = unwrap('ztest', twoProportionZTest(control, treatment, { alternative, confidence, continuityCorrection: opts.correction }), opts);
      print(
        {
          title: r.method,
          json: {
            statistic: r.statistic,
            p_value: r.pValue,
            estimate: r.estimate,
            ci: ciArray(r.ci),
            alternative: r.alternative,
            confidence: r.confidenceLevel,
            chi_square: r.chiSquare,
            rate_control: r.rateControl,
            rate_treatment: r.rateTreatment,
            continuity_correction: r.correction,
            method: r.method,
          },
          rows: [
            ['control rate', `${control.successes}/${control.trials} = ${r.rateControl.toPrecision(6)}`],
            ['treatment rate', `${treatment.successes}/${treatment.trials} = ${r.rateTreatment.toPrecision(6)}`],
            ['difference (treatment - control)', r.estimate],
            [`${confidencePercent(r.confidenceLevel)} interval`, ciArray(r.ci)],
            ['z', r.statistic],
            ['X-squared', r.chiSquare],
            [`p-value (${r.alternative})`, r.pValue],
          ],
        },
        opts,
      );
    });
}
