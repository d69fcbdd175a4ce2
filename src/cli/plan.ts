/**
 * `abtool plan SPEC`: what the spec needs (units per group for the primary's mde at the spec's
 * alpha, power and allocation; days at --daily-units), and its pre-registration: writes
 * `SPEC.lock` beside the spec with the spec's hashes and the registration time.
 *
 * Re-running plan keeps the original registration time while the registered parts are the same
 * (only a cosmetic edit refreshes `spec_hash`); when they differ it refuses without --force,
 * because re-registering moves the registration after any data already logged.
 */
import type { Command } from 'commander';
import { daysNeeded, sampleSize, type Design } from '../core/power.js';
import type { Cell } from '../report/keyValue.js';
import { SpecError, loadSpec, type ExperimentSpec, type PrimaryMetric } from '../analysis/spec.js';
import { describeChanges, lockPathFor, makeLock, readLock, writeLock, type SpecLock } from '../analysis/lock.js';
import { parseNumber, parseProbability } from './args.js';
import { usageError } from './exitCode.js';
import { VERSION } from './version.js';
import { print } from './output.js';

interface PlanOptions {
  baseline?: string;
  sd?: string;
  dailyUnits?: string;
  json?: boolean;
  force?: boolean;
}

const HELP = `
The sample size follows the primary metric's type: proportion (R's power.prop.test; needs
--baseline, the control's current rate) or mean (R's power.t.test; needs --sd, and --baseline,
the control's mean, when the mde is relative). The test is two-sided at the spec's alpha, the
groups are sized like the allocation (ratio = treatment share / control share). rank and quantile
metrics have no closed-form size here; shadow runs score every request with both models.

The lock file (SPEC.lock) records spec_hash (the whole spec), registration_hash (the parts that
decide the verdict: stage, models, unit, allocation, alpha, power, correction, segments, primary,
guardrails, drift, agreement, rollback) and registered_at. \`abtool analyze\` checks the spec
against it: a changed registration makes the run invalid; a registration after the first logged
record is reported.

Examples:
  abtool plan experiment.yaml --baseline 0.12 --daily-units 40000
  abtool plan experiment.json --sd 35 --json
  abtool plan experiment.yaml --force        (re-register after changing the registered parts)`;

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('size the experiment a spec describes and pre-register it (writes SPEC.lock beside the spec)')
    .argument('<spec>', 'the experiment spec, JSON or YAML')
    .option('--baseline <value>', "the control's current rate (proportion primary) or mean (mean primary with a relative mde)")
    .option('--sd <sd>', 'standard deviation per unit of a mean primary, > 0')
    .option('--daily-units <count>', 'units entering the experiment per day (adds days needed)')
    .option('--json', 'print one JSON object')
    .option('--force', 're-register even though the registered parts changed since the existing lock')
    .addHelpText('after', HELP)
    .action((specPath: string, opts: PlanOptions) => runPlan(specPath, opts));
}

/**
 * Load a spec for a command: a missing or unreadable file and every spec problem are usage
 * errors (exit 64), the message naming the file and each key.
 */
export function loadSpecForCli(path: string): ExperimentSpec {
  try {
    return loadSpec(path);
  } catch (e) {
    throw specUsageError(e, path);
  }
}

function specUsageError(e: unknown, path: string): Error {
  if (e instanceof SpecError) return usageError(e.message);
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return usageError(`spec ${path}: no such file`);
  if (code === 'EISDIR') return usageError(`spec ${path}: is a directory, expected a JSON or YAML file`);
  if (code !== undefined) return usageError(`spec ${path}: cannot read (${(e as Error).message})`);
  return e as Error;
}

interface Sizing {
  json: Record<string, unknown>;
  rows: [string, Cell][];
}

/** Units needed for the primary, or the reason they cannot be computed. */
function size(spec: ExperimentSpec, opts: PlanOptions): Sizing {
  const json: Record<string, unknown> = {};
  const rows: [string, Cell][] = [];
  const primary = spec.primary;
  const skip = (why: string): Sizing => {
    if (opts.baseline !== undefined || opts.sd !== undefined) throw usageError(`--baseline and --sd size the primary metric, but ${why}`);
    json.n_per_group = null;
    json.sizing = why;
    rows.push(['sample size', why]);
    return { json, rows };
  };
  if (spec.stage === 'shadow') return skip('a shadow run scores every request with both models: there are no groups to size');
  if (!primary || !primary.mde) return skip('the spec has no primary metric with an mde to size for');
  if (!spec.allocation) return skip('the spec has no allocation');
  const mde = primary.mde;
  if (primary.type === 'rank' || primary.type === 'quantile') {
    return skip(`the primary is a ${primary.type} metric, which has no closed-form sample size in abtool (size it as a mean metric or by simulation)`);
  }
  const design = primary.type === 'proportion' ? proportionDesign(spec, primary, opts) : meanDesign(spec, primary, opts);
  if (typeof design === 'string') {
    json.n_per_group = null;
    json.sizing = design;
    rows.push(['sample size', design]);
    return { json, rows };
  }
  const r = sampleSize(design, spec.power);
  Object.assign(json, {
    kind: design.kind,
    ...(design.kind === 'proportion' ? { baseline: design.baseline } : { sd: design.sd }),
    mde: design.mde,
    relative: mde.relative,
    alternative: design.alternative,
    ratio: design.ratio,
    n_exact: r.nExact,
    n_per_group: r.nControl,
    n_control: r.nControl,
    n_treatment: r.nTreatment,
    total: r.total,
    power_at_n: r.powerAtN,
    method: r.method,
  });
  if (design.kind === 'proportion') rows.push(['baseline rate (control)', design.baseline]);
  else rows.push(['sd per unit', design.sd]);
  rows.push(
    ['mde (absolute)', design.mde],
    ['test', `${design.alternative} at alpha ${spec.alpha}, power ${spec.power}`],
    ['ratio (treatment/control)', design.ratio],
    [`n ${spec.control} (control)`, r.nControl],
    [`n ${spec.treatment} (treatment)`, r.nTreatment],
    ['total units', r.total],
    ['power at n', r.powerAtN],
  );
  if (opts.dailyUnits !== undefined) {
    const daily = parseNumber('--daily-units', opts.dailyUnits, { min: 0, exclusive: true });
    const days = daysNeeded(r.nControl, r.nTreatment, daily, spec.allocation.treatment);
    json.daily_units = daily;
    json.days = days;
    rows.push([`days at ${daily} units a day`, days]);
  }
  rows.push(['method', r.method]);
  return { json, rows };
}

/** The signed absolute effect: + for increase, - for decrease. */
const signed = (p: PrimaryMetric, magnitude: number): number => (p.direction === 'increase' ? magnitude : -magnitude);

function proportionDesign(spec: ExperimentSpec, p: PrimaryMetric, opts: PlanOptions): Design | string {
  if (opts.sd !== undefined) throw usageError(`--sd is for a mean primary; ${p.name} is a proportion (give --baseline, its current rate)`);
  if (opts.baseline === undefined) return `give --baseline (the control's current rate of ${p.name}) to compute the units needed`;
  const baseline = parseProbability('--baseline', opts.baseline);
  const mde = p.mde!;
  const effect = signed(p, mde.relative ? baseline * mde.value : mde.value);
  const p2 = baseline + effect;
  if (!(p2 > 0 && p2 < 1)) {
    throw usageError(`primary.mde ${mde.value}${mde.relative ? ' (relative)' : ''} in the direction "${p.direction}" puts the treatment rate at ${p2}, outside (0, 1)`);
  }
  return { kind: 'proportion', baseline, mde: effect, alpha: spec.alpha, alternative: 'two-sided', ratio: ratioOf(spec) };
}

function meanDesign(spec: ExperimentSpec, p: PrimaryMetric, opts: PlanOptions): Design | string {
  const mde = p.mde!;
  if (opts.sd === undefined) {
    return `give --sd (the standard deviation of ${p.name} per ${spec.unit})${mde.relative && opts.baseline === undefined ? ' and --baseline (its control mean, for the relative mde)' : ''} to compute the units needed`;
  }
  const sd = parseNumber('--sd', opts.sd, { min: 0, exclusive: true });
  let magnitude = mde.value;
  if (mde.relative) {
    if (opts.baseline === undefined) return `give --baseline (the control mean of ${p.name}): primary.mde is relative to it`;
    const baseline = parseNumber('--baseline', opts.baseline);
    if (baseline === 0) throw usageError('--baseline must not be 0: a relative mde of a zero mean is no effect');
    magnitude = Math.abs(baseline) * mde.value;
  } else if (opts.baseline !== undefined) {
    throw usageError(`--baseline is not used: ${p.name} is a mean with an absolute mde (give --sd only)`);
  }
  return { kind: 'mean', sd, mde: signed(p, magnitude), alpha: spec.alpha, alternative: 'two-sided', ratio: ratioOf(spec) };
}

const ratioOf = (spec: ExperimentSpec): number => spec.allocation!.treatment / spec.allocation!.control;

type LockAction = 'created' | 'unchanged' | 'updated' | 'replaced';

/** Decide what to do with an existing lock and write the new one when needed. */
function register(specPath: string, spec: ExperimentSpec, force: boolean): { lock: SpecLock; action: LockAction } {
  let existing: SpecLock | null;
  try {
    existing = readLock(specPath);
  } catch (e) {
    if (!force) throw specUsageError(e, lockPathFor(specPath));
    existing = null; // --force replaces a damaged lock
  }
  const fresh = makeLock(spec, specPath, new Date(), VERSION);
  if (existing === null) {
    writeLock(specPath, fresh);
    return { lock: fresh, action: 'created' };
  }
  if (existing.registration_hash === fresh.registration_hash) {
    if (existing.spec_hash === fresh.spec_hash) return { lock: existing, action: 'unchanged' };
    // a cosmetic edit (name, column plumbing): the registration and its time stand
    const updated: SpecLock = { ...fresh, registered_at: existing.registered_at };
    writeLock(specPath, updated);
    return { lock: updated, action: 'updated' };
  }
  if (!force) {
    const changes = existing.registration ? describeChanges(existing.registration, fresh.registration) : [];
    const what = changes.length > 0 ? `: ${changes.slice(0, 5).join('; ')}${changes.length > 5 ? `; and ${changes.length - 5} more` : ''}` : '';
    throw usageError(
      `${lockPathFor(specPath)}: the spec's registered parts changed since it was registered at ${existing.registered_at}${what}. ` +
        'Re-registering moves the registration time to now, after any data already logged, and an analysis of that data will say so; ' +
        'pass --force to re-register, or restore the registered spec',
    );
  }
  writeLock(specPath, fresh);
  return { lock: fresh, action: 'replaced' };
}

const ACTION_TEXT = {
  created: 'registered now',
  unchanged: 'already registered; lock unchanged',
  updated: 'already registered; lock updated for edits outside the registered parts',
  replaced: 're-registered now (--force): the earlier registration is replaced',
} as const satisfies Record<LockAction, string>;

function runPlan(specPath: string, opts: PlanOptions): void {
  const spec = loadSpecForCli(specPath);
  const sizing = size(spec, opts);
  let registered: { lock: SpecLock; action: LockAction };
  try {
    registered = register(specPath, spec, opts.force === true);
  } catch (e) {
    // (a lock that cannot be written: SpecError naming it)
    throw e instanceof SpecError ? usageError(e.message) : e;
  }
  const { lock, action } = registered;
  const lockFile = lockPathFor(specPath);
  const p = spec.primary;
  const json: Record<string, unknown> = {
    name: spec.name,
    stage: spec.stage,
    control: spec.control,
    treatment: spec.treatment,
    unit: spec.unit,
    allocation: spec.allocation ? { [spec.control]: spec.allocation.control, [spec.treatment]: spec.allocation.treatment } : null,
    alpha: spec.alpha,
    power: spec.power,
    primary: p ? { name: p.name, field: p.field, type: p.type, direction: p.direction, test: p.test, mde: p.mde?.value ?? null, relative: p.mde?.relative ?? false } : null,
    guardrails: spec.guardrails.map((g) => g.name),
    ...sizing.json,
    lock_file: lockFile,
    lock: action,
    registered_at: lock.registered_at,
    spec_hash: lock.spec_hash,
    registration_hash: lock.registration_hash,
  };
  const rows: [string, Cell][] = [
    ['experiment', `${spec.name} (${spec.stage})`],
    ['models', `${spec.control} (control) vs ${spec.treatment} (treatment), unit ${spec.unit}`],
  ];
  if (spec.allocation) rows.push(['allocation', `${spec.control} ${spec.allocation.control}, ${spec.treatment} ${spec.allocation.treatment}`]);
  if (p) {
    const mdeText = p.mde ? `, mde ${p.mde.value}${p.mde.relative ? ' (relative)' : ''}` : '';
    rows.push(['primary', `${p.name}: ${p.type} of ${p.field}, ${p.direction} is better, ${p.test}${mdeText}`]);
  }
  if (spec.guardrails.length > 0) rows.push(['guardrails', spec.guardrails.map((g) => g.name).join(', ')]);
  rows.push(...sizing.rows);
  rows.push(['lock', `${ACTION_TEXT[action]} -> ${lockFile}`], ['registered at', lock.registered_at], ['registration hash', lock.registration_hash.slice(0, 16)]);
  print({ title: `Plan: ${spec.name}`, json, rows }, { json: opts.json });
}
