/**
 * `abtool sample-size`: units needed per group to detect an effect (R's power.prop.test /
 * power.t.test, see src/core/power.ts), or, with --n, the power and the minimum detectable effect
 * at a given size; with --daily-units, the days of traffic needed.
 */
import { Command, Option } from 'commander';
import {
  daysNeeded,
  minimumDetectableEffect,
  power as powerAt,
  sampleSize,
  ceilWhole,
  POWER_SIDES,
  type Design,
  type DesignBase,
  type PowerSides,
} from '../core/power.js';
import { SpecError, loadSpec } from '../analysis/spec.js';
import type { Cell } from '../report/keyValue.js';
import { parseChoice, parseCount, parseNumber, parseProbability } from './args.js';
import { usageError } from './exitCode.js';
import { print } from './output.js';

interface SampleSizeOptions {
  baseline?: string;
  sd?: string;
  mde?: string;
  relative?: boolean;
  alpha: string;
  power: string;
  alternative: string;
  ratio: string;
  n?: string;
  dailyUnits?: string;
  allocation?: string;
  spec?: string;
  json?: boolean;
}

const HELP = `
Proportions follow R's power.prop.test (normal approximation, no continuity correction),
means R's power.t.test (two-sample t, noncentral t); n_per_group is R's n rounded up.
--mde is treatment minus control in the metric's units (0.02 = two percentage points), or
with --relative a fraction of the baseline (0.1 = a 10% lift).

Unequal groups: --ratio R gives treatment R units for each control unit; n_per_group is then
the control group's size, ceil(n), and n_treatment = ceil(R * n), both from the unrounded n
(n_exact; at least 2 each for means). The proportion test pools the rate
under H0, the t-test pools the sd (df = n_control + n_treatment - 2).

Days: --daily-units N new units a day, of which the share --allocation F (default 0.5) goes
to treatment and the rest to control. Each arm fills at its own pace, so the slower one
binds: days = ceil(max(n_control / (N (1 - F)), n_treatment / (N F))). A 5% canary
(--allocation 0.05) with equal groups waits for the treatment arm; --ratio 0.0526 (= 5/95)
sizes the groups like the traffic split instead (a bigger control, fewer days).

With --spec FILE the experiment spec supplies what its flags would: the primary metric's type
(proportion: give --baseline; mean: give --sd), its mde (signed by its direction; relative
with "relative": true), alpha, power, and the allocation, which sets --ratio (treatment share /
control share, as abtool plan sizes it) and --allocation. A flag given explicitly wins.

--n N without --mde reports the smallest increase detectable at N per group with the target
power (a decrease with a negative --mde).

Examples:
  abtool sample-size --baseline 0.10 --mde 0.02
  abtool sample-size --baseline 0.10 --mde 0.05 --relative --power 0.9 --json
  abtool sample-size --sd 30 --mde 5 --alternative one-sided
  abtool sample-size --baseline 0.10 --mde 0.02 --daily-units 20000 --allocation 0.05
  abtool sample-size --baseline 0.10 --n 5000            (power and minimum detectable effect at n)`;

export function registerSampleSize(program: Command): void {
  program
    .command('sample-size')
    .description('units needed per group to detect an effect (or, with --n, the power and the minimum detectable effect at a size)')
    .option('--baseline <value>', "control's rate of a proportion metric, in (0, 1); with --sd, the control's mean (for a relative --mde)")
    .option('--sd <sd>', 'standard deviation per unit of a mean metric, > 0')
    .option('--mde <effect>', 'minimum detectable effect, treatment minus control')
    .option('--relative', '--mde is a fraction of --baseline (the rate, or with --sd the mean)')
    .option('--alpha <level>', 'significance level', '0.05')
    .option('--power <p>', 'target power', '0.8')
    .addOption(new Option('--alternative <sides>', 'two-sided | one-sided (in the direction of the mde)').default('two-sided'))
    .option('--ratio <r>', 'treatment size / control size', '1')
    .option('--n <units>', "control group's size: report the power and minimum detectable effect there")
    .option('--daily-units <count>', 'units entering the experiment per day (adds days needed)')
    .option('--allocation <share>', 'share of the daily units assigned to treatment (default 0.5)')
    .option('--spec <file>', "take the primary's type and mde, alpha, power and allocation from an experiment spec")
    .option('--json', 'print one JSON object')
    .addHelpText('after', HELP)
    .action((opts: SampleSizeOptions, cmd: Command) => {
      try {
        runSampleSize(opts, (name) => cmd.getOptionValueSource(name) === 'cli');
      } catch (e) {
        // the root search gives up on inputs far outside any real design (sd 1e300, mde 1e-160)
        if (e instanceof Error && /sign change|did not converge|uniroot/i.test(e.message)) {
          throw usageError(`these inputs give no finite sample size (${e.message}); check --sd, --mde and --baseline`);
        }
        throw e;
      }
    });
}

interface Traffic {
  dailyUnits: number;
  allocation: number;
}

interface Parsed {
  design: DesignBase;
  /** a mean metric's control mean (--baseline with --sd), when a relative mde needs it */
  controlMean?: number;
  /** absolute effect, treatment minus control */
  mde?: number;
  relative: boolean;
  target: number;
  n?: number;
  traffic?: Traffic;
  /** the spec file the defaults came from */
  spec?: string;
}

/** What an experiment spec (--spec) supplies in place of flags. */
interface SpecDefaults {
  file: string;
  kind: 'proportion' | 'mean';
  alpha: number;
  power: number;
  /** the primary's mde, signed by its direction (decrease: negative) */
  mde?: { value: number; relative: boolean };
  /** treatment's share of units, and treatment / control */
  allocation?: number;
  ratio?: number;
}

function specDefaults(path: string): SpecDefaults {
  let spec;
  try {
    spec = loadSpec(path);
  } catch (e) {
    if (e instanceof SpecError) throw usageError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw usageError(`--spec ${path}: no such file`);
    throw usageError(`--spec ${path}: cannot read (${(e as Error).message})`);
  }
  const p = spec.primary;
  if (!p) throw usageError(`--spec ${path}: the spec has no primary metric to size for`);
  if (p.type !== 'proportion' && p.type !== 'mean') {
    throw usageError(`--spec ${path}: primary.type ${p.type} has no closed-form sample size (sample-size sizes proportion and mean metrics)`);
  }
  const sign = p.direction === 'increase' ? 1 : -1;
  return {
    file: path,
    kind: p.type,
    alpha: spec.alpha,
    power: spec.power,
    mde: p.mde && { value: sign * p.mde.value, relative: p.mde.relative },
    allocation: spec.allocation?.treatment,
    ratio: spec.allocation && spec.allocation.treatment / spec.allocation.control,
  };
}

function parseOptions(opts: SampleSizeOptions, fromCli: (option: string) => boolean): Parsed {
  const spec = opts.spec === undefined ? undefined : specDefaults(opts.spec);
  if (spec?.kind === 'proportion' && opts.sd !== undefined) {
    throw usageError(`--spec ${spec.file}: the primary is a proportion metric: --sd does not apply (give --baseline, the control's current rate)`);
  }
  if (spec?.kind === 'proportion' && opts.baseline === undefined) {
    throw usageError(`--spec ${spec.file}: the primary is a proportion metric: give --baseline, the control's current rate`);
  }
  if (spec?.kind === 'mean' && opts.sd === undefined) {
    throw usageError(`--spec ${spec.file}: the primary is a mean metric: give --sd, its standard deviation per unit`);
  }
  if (opts.baseline === undefined && opts.sd === undefined) {
    throw usageError('--baseline <rate> (a proportion metric) or --sd <sd> (a mean metric) is required');
  }
  const alpha = spec && !fromCli('alpha') ? spec.alpha : parseProbability('--alpha', opts.alpha);
  const target = spec && !fromCli('power') ? spec.power : parseProbability('--power', opts.power);
  if (!(target > alpha)) throw usageError(`--power (${target}) must be greater than --alpha (${alpha})`);
  const alternative: PowerSides = parseChoice('--alternative', opts.alternative, POWER_SIDES);
  const ratio = spec?.ratio !== undefined && !fromCli('ratio') ? spec.ratio : parseNumber('--ratio', opts.ratio, { min: 0, exclusive: true });
  // --sd makes a mean metric; --baseline beside it is the control's mean (as for abtool plan)
  const setting =
    opts.sd === undefined
      ? { kind: 'proportion' as const, baseline: parseProbability('--baseline', opts.baseline as string) }
      : { kind: 'mean' as const, sd: parseNumber('--sd', opts.sd, { min: 0, exclusive: true }) };
  const design: DesignBase = { ...setting, alpha, alternative, ratio };
  const controlMean = design.kind === 'mean' && opts.baseline !== undefined ? parseNumber('--baseline', opts.baseline) : undefined;

  if (opts.relative === true && design.kind === 'mean' && controlMean === undefined) {
    throw usageError("--relative with --sd needs --baseline, the control's mean (it makes --mde a fraction of it)");
  }
  if (opts.relative === true && opts.mde === undefined) throw usageError('--relative needs --mde');
  let given: { value: number; relative: boolean; label: string } | undefined;
  if (opts.mde !== undefined) {
    given = { value: parseNumber('--mde', opts.mde), relative: opts.relative === true, label: '--mde' };
    if (given.value === 0) throw usageError('--mde must not be 0 (no sample size detects no effect)');
  } else if (spec?.mde) {
    given = { ...spec.mde, label: `primary.mde of ${spec.file}` };
    if (given.relative && design.kind === 'mean' && controlMean === undefined) {
      throw usageError(`--spec ${spec.file}: primary.mde is relative to the control's mean: give it as --baseline (or --mde in the metric's units)`);
    }
  }
  const relative = given?.relative ?? false;
  if (controlMean !== undefined && !relative) {
    throw usageError("--baseline with --sd is the control's mean, used only for a relative mde (--relative): leave it out, or give --relative");
  }
  if (relative && controlMean === 0) throw usageError('--baseline must not be 0: a relative mde of a zero mean is no effect');
  let mde: number | undefined;
  if (given) {
    mde = given.relative ? (design.kind === 'proportion' ? design.baseline : Math.abs(controlMean!)) * given.value : given.value;
    if (design.kind === 'proportion') {
      const p2 = design.baseline + mde;
      if (!(p2 > 0 && p2 < 1)) {
        throw usageError(`${given.label} ${given.value}${given.relative ? ' (relative)' : ''} puts the treatment rate at ${p2}, outside (0, 1)`);
      }
    }
  }
  let n: number | undefined;
  if (opts.n !== undefined) n = parseCount('--n', opts.n, design.kind === 'mean' ? 2 : 1);
  if (n === undefined && mde === undefined) throw usageError('--mde <effect> is required (or --n <units> for the power at a given size)');

  let traffic: Traffic | undefined;
  if (opts.allocation !== undefined && opts.dailyUnits === undefined) throw usageError('--allocation needs --daily-units');
  if (opts.dailyUnits !== undefined) {
    traffic = {
      dailyUnits: parseNumber('--daily-units', opts.dailyUnits, { min: 0, exclusive: true }),
      allocation: opts.allocation !== undefined ? parseProbability('--allocation', opts.allocation) : (spec?.allocation ?? 0.5),
    };
  }
  return { design, ...(controlMean !== undefined ? { controlMean } : {}), mde, relative, target, n, traffic, spec: spec?.file };
}

function runSampleSize(opts: SampleSizeOptions, fromCli: (option: string) => boolean): void {
  const parsed = parseOptions(opts, fromCli);
  const out = parsed.n === undefined ? solveSize(parsed) : atSize(parsed, parsed.n);
  print(out, { json: opts.json });
}

/** The inputs, echoed in JSON and table. */
function inputs(p: Parsed): { json: Record<string, unknown>; rows: [string, Cell][] } {
  const d = p.design;
  const json: Record<string, unknown> = { kind: d.kind };
  const rows: [string, Cell][] = [];
  if (p.spec !== undefined) {
    json.spec = p.spec;
    rows.push(['spec', p.spec]);
  }
  if (d.kind === 'proportion') {
    json.baseline = d.baseline;
    rows.push(['baseline rate (control)', d.baseline]);
    if (p.mde !== undefined) {
      json.treatment_rate = d.baseline + p.mde;
      json.mde = p.mde;
      json.mde_relative = p.mde / d.baseline;
      json.relative = p.relative;
      rows.push(['treatment rate', d.baseline + p.mde], ['mde (absolute)', p.mde], ['mde (relative)', p.mde / d.baseline]);
    }
  } else {
    json.sd = d.sd;
    rows.push(['sd', d.sd]);
    if (p.controlMean !== undefined) {
      json.control_mean = p.controlMean;
      rows.push(['control mean', p.controlMean]);
    }
    if (p.mde !== undefined) {
      json.mde = p.mde;
      rows.push(['mde', p.mde]);
      if (p.controlMean !== undefined) {
        json.mde_relative = p.mde / Math.abs(p.controlMean);
        json.relative = p.relative;
        rows.push(['mde (relative)', p.mde / Math.abs(p.controlMean)]);
      }
    }
  }
  json.alpha = d.alpha;
  json.power = p.target;
  json.alternative = d.alternative;
  json.ratio = d.ratio;
  rows.push(['alpha', d.alpha], ['target power', p.target], ['alternative', d.alternative], ['ratio (treatment/control)', d.ratio]);
  return { json, rows };
}

function addTraffic(p: Parsed, nControl: number, nTreatment: number, json: Record<string, unknown>, rows: [string, Cell][]): void {
  if (!p.traffic) return;
  const days = daysNeeded(nControl, nTreatment, p.traffic.dailyUnits, p.traffic.allocation);
  json.daily_units = p.traffic.dailyUnits;
  json.allocation = p.traffic.allocation;
  json.days = days;
  rows.push(['daily units', p.traffic.dailyUnits], ['treatment share of traffic', p.traffic.allocation], ['days needed', days]);
}

function solveSize(p: Parsed): { title: string; json: Record<string, unknown>; rows: [string, Cell][] } {
  const design: Design = { ...p.design, mde: p.mde as number };
  const r = sampleSize(design, p.target);
  const { json, rows } = inputs(p);
  Object.assign(json, {
    n_exact: r.nExact,
    n_per_group: r.nControl,
    n_control: r.nControl,
    n_treatment: r.nTreatment,
    total: r.total,
    power_at_n: r.powerAtN,
  });
  rows.push(
    ['n (exact, control)', r.nExact],
    ['n per group (control)', r.nControl],
    ['n treatment', r.nTreatment],
    ['total', r.total],
    ['power at n', r.powerAtN],
  );
  addTraffic(p, r.nControl, r.nTreatment, json, rows);
  json.method = r.method;
  rows.push(['method', r.method]);
  return { title: `Sample size (${p.design.kind === 'proportion' ? 'two proportions' : 'two means'})`, json, rows };
}

function atSize(p: Parsed, n: number): { title: string; json: Record<string, unknown>; rows: [string, Cell][] } {
  const minimum = p.design.kind === 'mean' ? 2 : 1;
  const nControl = n;
  const nTreatment = p.design.ratio === 1 ? Math.max(minimum, n) : Math.max(minimum, ceilWhole(p.design.ratio * n));
  const { json, rows } = inputs(p);
  Object.assign(json, { n_per_group: nControl, n_control: nControl, n_treatment: nTreatment, total: nControl + nTreatment });
  rows.push(['n per group (control)', nControl], ['n treatment', nTreatment], ['total', nControl + nTreatment]);
  if (p.mde !== undefined) {
    const achieved = powerAt({ ...p.design, mde: p.mde }, nControl, nTreatment);
    json.power_at_n = achieved;
    rows.push(['power at n', achieved]);
  }
  const direction = p.mde !== undefined && p.mde < 0 ? 'decrease' : 'increase';
  const { mde, method } = minimumDetectableEffect(p.design, nControl, nTreatment, p.target, direction);
  json.mde_at_n = mde;
  rows.push([`minimum detectable effect at ${p.target} power`, mde ?? 'none within (0, 1)']);
  if (p.design.kind === 'proportion') {
    json.mde_at_n_relative = mde === null ? null : mde / p.design.baseline;
    rows.push(['minimum detectable effect (relative)', mde === null ? '-' : mde / p.design.baseline]);
  }
  addTraffic(p, nControl, nTreatment, json, rows);
  json.method = method;
  rows.push(['method', method]);
  return { title: `Power at n (${p.design.kind === 'proportion' ? 'two proportions' : 'two means'})`, json, rows };
}
