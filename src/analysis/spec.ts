/**
 * The experiment spec (CONTRACT.md section 2): parse, validate and normalise a JSON or YAML
 * pre-registration into a typed `ExperimentSpec`.
 *
 * Every problem is collected (not only the first) and thrown together as one `SpecError`, each
 * naming its key path and what is allowed:
 *
 *   experiment.yaml: primary.type must be one of proportion, mean, rank, quantile (got "ratio")
 *   experiment.yaml: unknown key "guardrail" at top level (allowed: name, stage, ...); did you mean "guardrails"?
 *
 * Decisions beyond the contract (the contract names the keys; these fill the gaps):
 * - `name` is optional; it defaults to the file's base name without extension (`ranker-v2.yaml`
 *   -> "ranker-v2"). It is not part of the registration (renaming an experiment changes nothing).
 * - Defaults: `unit` "user_id", `alpha` 0.05, `power` 0.8, `correction` "holm", `segments` [],
 *   `guardrails` [], `drift` [], `fields` {}; a metric's `test` defaults from its type (below),
 *   `relative` false, `agreement.field` "prediction", `rollback.min_count` 50.
 * - Metric `test` names and which fit which `type` (the first is the default):
 *     proportion: ztest (two-proportion z-test, continuity-corrected), welch, bootstrap
 *     mean:       welch (Welch t-test), bootstrap (bootstrap CI of the difference of means)
 *     rank:       mannwhitney (Mann-Whitney U with the Hodges-Lehmann shift)
 *     quantile:   bootstrap (bootstrap CI of the quantile's difference and ratio)
 *   A test outside its type's list is an error (a z-test on a mean, a rank test "for" a mean).
 * - `quantile` is required for type quantile, in (0, 1), and not allowed for other types.
 * - The primary metric needs `mde` (> 0; absolute in the metric's units, or a fraction of the
 *   control's value with `relative: true`) in `canary` and `ab`: it is what the experiment is
 *   powered for. `mde` and `relative` belong to the primary only, tolerances to guardrails only.
 * - A guardrail needs exactly one tolerance, `max_relative_change` or `max_absolute_change`
 *   (> 0, the worst change in the bad direction still accepted): two tolerances would leave
 *   "which one decides" unsaid.
 * - Metric names are unique across the primary and the guardrails; drift fields are unique.
 * - `rollback`: `field`, `quantile` in (0, 1), `max_ratio` > 1, `window` a duration string
 *   ("500ms", "30s", "1m", "5m", "1h"; parsed to `windowMs`), `consecutive` a whole number >= 1;
 *   optional `min_count` (whole number >= 1, default 50): the fewest records per model in a
 *   window to judge it (a window with fewer is "too few to judge", never healthy).
 * - `agreement.min_rate` in (0, 1]; `drift[i].max_ks` in (0, 1].
 * - `allocation`: keys exactly the control and treatment model names, shares > 0 summing to 1
 *   (+-1e-6). Stored as `{control, treatment}` shares.
 * - `fields` maps a field name the spec uses (the contract's standard names ts, request_id,
 *   user_id, model, prediction, score, label, latency_ms, error, or any field the spec itself
 *   references: metric fields, segments, unit, drift/agreement/rollback fields) to the log's column
 *   name; an entry for a name the spec never uses is an error (a typo would be silently ignored).
 *   Use `columnOf(spec, field)` to resolve a name.
 * - `segments` are unique field names and may not be `model` (every segment compares the models).
 *
 * Property names of the parsed spec are camelCase (`maxRatio`, `windowMs`, `minRate`); the file's
 * keys stay snake_case as the contract writes them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import { JsonLineScanner, SCAN_MALFORMED } from '../ingest/jsonScan.js';

export type Stage = 'shadow' | 'canary' | 'ab';
export type MetricType = 'proportion' | 'mean' | 'rank' | 'quantile';
export type Direction = 'increase' | 'decrease';
export type Correction = 'holm' | 'bh' | 'bonferroni' | 'none';
export type TestName = 'ztest' | 'welch' | 'mannwhitney' | 'bootstrap';
/** The contract's standard log fields (CONTRACT.md section 1). */
export type StandardField = 'ts' | 'request_id' | 'user_id' | 'model' | 'prediction' | 'score' | 'label' | 'latency_ms' | 'error';

export const STAGES = ['shadow', 'canary', 'ab'] as const satisfies readonly Stage[];
export const METRIC_TYPES = ['proportion', 'mean', 'rank', 'quantile'] as const satisfies readonly MetricType[];
export const DIRECTIONS = ['increase', 'decrease'] as const satisfies readonly Direction[];
export const CORRECTIONS = ['holm', 'bh', 'bonferroni', 'none'] as const satisfies readonly Correction[];
export const TEST_NAMES = ['ztest', 'welch', 'mannwhitney', 'bootstrap'] as const satisfies readonly TestName[];
export const STANDARD_FIELDS = [
  'ts',
  'request_id',
  'user_id',
  'model',
  'prediction',
  'score',
  'label',
  'latency_ms',
  'error',
] as const satisfies readonly StandardField[];

/** Tests that fit each metric type; the first is the default. */
export const TESTS_FOR_TYPE = {
  proportion: ['ztest', 'welch', 'bootstrap'],
  mean: ['welch', 'bootstrap'],
  rank: ['mannwhitney'],
  quantile: ['bootstrap'],
} as const satisfies Record<MetricType, readonly [TestName, ...TestName[]]>;

export const DEFAULTS = {
  unit: 'user_id',
  alpha: 0.05,
  power: 0.8,
  correction: 'holm',
  agreementField: 'prediction',
  rollbackMinCount: 50,
} as const;

interface MetricCommon {
  name: string;
  field: string;
  type: MetricType;
  /** increase: higher is better; decrease: lower is better */
  direction: Direction;
  /** the test used: the file's `test`, or the type's default */
  test: TestName;
  /** for type quantile only, in (0, 1) */
  quantile?: number;
}

/** The minimum detectable effect the experiment is powered for. */
export interface Mde {
  /** > 0; in the metric's units, or a fraction of the control's value when `relative` */
  value: number;
  relative: boolean;
}

export interface PrimaryMetric extends MetricCommon {
  /** required in canary and ab; optional in shadow */
  mde?: Mde;
}

/** The worst change in the guardrail's bad direction still accepted (> 0). */
export interface Tolerance {
  kind: 'relative' | 'absolute';
  max: number;
}

export interface GuardrailMetric extends MetricCommon {
  tolerance: Tolerance;
}

export interface DriftCheck {
  field: string;
  /** largest accepted two-sample KS statistic, in (0, 1] */
  maxKs: number;
}

export interface AgreementCheck {
  /** lowest accepted share of paired requests where both models agree, in (0, 1] */
  minRate: number;
  field: string;
}

export interface RollbackRule {
  field: string;
  quantile: number;
  /** fire when treatment's quantile / control's quantile exceeds this (> 1) ... */
  maxRatio: number;
  /** the window as written, e.g. "1m" */
  window: string;
  windowMs: number;
  /** ... in this many consecutive windows (>= 1) */
  consecutive: number;
  /** fewest records per model in a window to judge it */
  minCount: number;
}

/** Shares of units expected per model (sum 1). */
export interface Allocation {
  control: number;
  treatment: number;
}

export interface ExperimentSpec {
  name: string;
  stage: Stage;
  /** the control (champion) model's name as logged in `model` */
  control: string;
  /** the treatment (challenger) model's name */
  treatment: string;
  unit: string;
  /** required in canary and ab */
  allocation?: Allocation;
  alpha: number;
  power: number;
  correction: Correction;
  segments: string[];
  /** required in canary and ab */
  primary?: PrimaryMetric;
  guardrails: GuardrailMetric[];
  drift: DriftCheck[];
  agreement?: AgreementCheck;
  rollback?: RollbackRule;
  /** spec field name -> log column name */
  fields: Record<string, string>;
}

export interface SpecProblem {
  /** the key path, e.g. "guardrails[1].max_relative_change"; "" for the document itself */
  path: string;
  message: string;
}

/** A spec (or its lock file) that cannot be used; the CLI maps it to exit 64. */
export class SpecError extends Error {
  /** the path of the first problem */
  readonly path: string;
  constructor(
    readonly file: string,
    readonly problems: readonly SpecProblem[],
  ) {
    super(problems.map((p) => `${file}: ${p.message}`).join('\n'));
    this.name = 'SpecError';
    this.path = problems[0]?.path ?? '';
  }
}

const TOP_KEYS = [
  'name',
  'stage',
  'control',
  'treatment',
  'unit',
  'allocation',
  'alpha',
  'power',
  'segments',
  'correction',
  'primary',
  'guardrails',
  'drift',
  'agreement',
  'rollback',
  'fields',
] as const;
const METRIC_KEYS_COMMON = ['name', 'field', 'type', 'direction', 'test', 'quantile'] as const;
const PRIMARY_KEYS = [...METRIC_KEYS_COMMON, 'mde', 'relative'] as const;
const GUARDRAIL_KEYS = [...METRIC_KEYS_COMMON, 'max_relative_change', 'max_absolute_change'] as const;
const DRIFT_KEYS = ['field', 'max_ks'] as const;
const AGREEMENT_KEYS = ['min_rate', 'field'] as const;
const ROLLBACK_KEYS = ['field', 'quantile', 'max_ratio', 'window', 'consecutive', 'min_count'] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a value reads in "(got ...)". */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
const where = (path: string): string => (path === '' ? 'at top level' : `in ${path}`);

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function suggest(key: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const a of allowed) {
    const d = distance(key.toLowerCase(), a);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== undefined && key.length >= 3 && bestD <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

/** Collects problems while reading one document. */
class Reader {
  readonly problems: SpecProblem[] = [];

  fail(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** An object at `path`, with unknown keys reported; undefined (and a problem) when not an object. */
  object(v: unknown, path: string, allowed: readonly string[], explain = ''): Obj | undefined {
    if (!isObj(v)) {
      this.fail(path, `${path === '' ? 'the spec' : path} must be an object with keys ${allowed.join(', ')} (got ${describe(v)})`);
      return undefined;
    }
    for (const key of Object.keys(v)) {
      if (!allowed.includes(key)) {
        const hint = suggest(key, allowed);
        this.fail(join(path, key), `unknown key "${key}" ${where(path)}${explain} (allowed: ${allowed.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
      }
    }
    return v;
  }

  string(o: Obj, key: string, path: string, required: boolean, what = 'a non-empty string'): string | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(p, `${p} is required (${what})`);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') {
      this.fail(p, `${p} must be ${what} (got ${describe(v)})`);
      return undefined;
    }
    return v;
  }

  choice<T extends string>(o: Obj, key: string, path: string, choices: readonly T[], required: boolean, hint = ''): T | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(p, `${p} is required (one of ${choices.join(', ')})${hint}`);
      return undefined;
    }
    if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
      this.fail(p, `${p} must be one of ${choices.join(', ')} (got ${describe(v)})${hint}`);
      return undefined;
    }
    return v as T;
  }

  /**
   * A finite number within bounds. `range` is the text naming the allowed values, e.g.
   * "strictly between 0 and 1"; `ok` checks them.
   */
  number(o: Obj, key: string, path: string, required: boolean, range: string, ok: (v: number) => boolean): number | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(p, `${p} is required (a number ${range})`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
      this.fail(p, `${p} must be a number ${range} (got ${typeof v === 'string' ? `the text ${describe(v)}` : describe(v)})`);
      return undefined;
    }
    return v;
  }

  integer(o: Obj, key: string, path: string, required: boolean, min: number): number | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(p, `${p} is required (a whole number >= ${min})`);
      return undefined;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
      this.fail(p, `${p} must be a whole number >= ${min} (got ${describe(v)})`);
      return undefined;
    }
    return v;
  }

  boolean(o: Obj, key: string, path: string): boolean | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.fail(p, `${p} must be true or false (got ${describe(v)})`);
      return undefined;
    }
    return v;
  }

  list(o: Obj, key: string, path: string, what: string): unknown[] | undefined {
    const p = join(path, key);
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) {
      this.fail(p, `${p} must be a list of ${what} (got ${describe(v)})`);
      return undefined;
    }
    return v;
  }
}

const inUnit = (v: number): boolean => v > 0 && v < 1;
const inUnitClosed = (v: number): boolean => v > 0 && v <= 1;
const positive = (v: number): boolean => v > 0;

/** Milliseconds per duration unit of a rollback `window`. */
const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const satisfies Record<string, number>;

/**
 * Parse a duration such as "500ms", "30s", "1m", "1.5m", "1h" to whole milliseconds; undefined
 * when the text is not a positive duration of whole milliseconds.
 */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(text);
  if (!m) return undefined;
  const ms = Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
  const whole = Math.round(ms);
  if (!(whole > 0) || Math.abs(ms - whole) > 1e-9 * Math.max(1, ms)) return undefined;
  return whole;
}

function readMetric(r: Reader, v: unknown, path: string, role: 'primary' | 'guardrail'): PrimaryMetric | GuardrailMetric | undefined {
  const o = r.object(v, path, role === 'primary' ? PRIMARY_KEYS : GUARDRAIL_KEYS);
  if (!o) return undefined;
  const name = r.string(o, 'name', path, true, 'a non-empty string naming the metric in reports');
  const field = r.string(o, 'field', path, true, 'the log field the metric is computed from');
  const type = r.choice(o, 'type', path, METRIC_TYPES, true);
  const direction = r.choice(o, 'direction', path, DIRECTIONS, true, ': increase = higher is better, decrease = lower is better');
  let test: TestName | undefined = r.choice(o, 'test', path, TEST_NAMES, false);
  if (type !== undefined) {
    const fits: readonly TestName[] = TESTS_FOR_TYPE[type];
    if (test === undefined && o.test === undefined) test = fits[0];
    else if (test !== undefined && !fits.includes(test)) {
      r.fail(join(path, 'test'), `${join(path, 'test')} "${test}" does not fit type "${type}" (allowed for ${type}: ${fits.join(', ')})`);
      test = undefined;
    }
  }
  let quantile: number | undefined;
  if (type === 'quantile') {
    quantile = r.number(o, 'quantile', path, true, 'strictly between 0 and 1, e.g. 0.99 for the p99', inUnit);
  } else if (o.quantile !== undefined) {
    r.fail(join(path, 'quantile'), `${join(path, 'quantile')} is only for type quantile (this metric's type is ${describe(o.type)})`);
  }
  const common = { name, field, type, direction, test };
  if (role === 'primary') {
    const value = r.number(o, 'mde', path, false, 'greater than 0, the smallest effect worth detecting', positive);
    const relative = r.boolean(o, 'relative', path);
    if (relative !== undefined && o.mde === undefined) {
      r.fail(join(path, 'relative'), `${join(path, 'relative')} qualifies mde, which is missing`);
    }
    // an absolute change of a rate is a difference of two rates: below 1
    if (type === 'proportion' && value !== undefined && relative !== true && value >= 1) {
      r.fail(join(path, 'mde'), `${join(path, 'mde')} of a proportion is an absolute change of the rate and must be below 1 (got ${value}); write "relative": true for a relative mde`);
    }
    if (!allDefined(common)) return undefined;
    const metric: PrimaryMetric = { ...common, ...(quantile !== undefined ? { quantile } : {}) };
    if (value !== undefined) metric.mde = { value, relative: relative ?? false };
    if (type === 'quantile' && quantile === undefined) return undefined;
    return metric;
  }
  const rel = r.number(o, 'max_relative_change', path, false, 'greater than 0, e.g. 0.2 for 20%', positive);
  const abs = r.number(o, 'max_absolute_change', path, false, "greater than 0, in the metric's units", positive);
  let tolerance: Tolerance | undefined;
  if (o.max_relative_change !== undefined && o.max_absolute_change !== undefined) {
    r.fail(path, `${path} has both max_relative_change and max_absolute_change: give exactly one tolerance`);
  } else if (o.max_relative_change === undefined && o.max_absolute_change === undefined) {
    r.fail(path, `${path} needs a tolerance: max_relative_change or max_absolute_change (the worst change in the bad direction still accepted)`);
  } else if (rel !== undefined) tolerance = { kind: 'relative', max: rel };
  else if (abs !== undefined) tolerance = { kind: 'absolute', max: abs };
  if (!allDefined(common) || tolerance === undefined) return undefined;
  if (type === 'quantile' && quantile === undefined) return undefined;
  return { ...common, ...(quantile !== undefined ? { quantile } : {}), tolerance };
}

function allDefined<T extends Record<string, unknown>>(o: T): o is { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.values(o).every((v) => v !== undefined);
}

/** Validate an already-parsed document (JSON or YAML data) into a spec; throws SpecError. */
export function validateSpec(doc: unknown, fileName: string): ExperimentSpec {
  const r = new Reader();
  const o = r.object(doc, '', TOP_KEYS);
  if (!o) throw new SpecError(fileName, r.problems);

  const rawName = o.name === undefined ? defaultName(fileName) : r.string(o, 'name', '', false);
  const stage = r.choice(o, 'stage', '', STAGES, true);
  const control = r.string(o, 'control', '', true, "the control model's name as logged in the model field, e.g. champion");
  const treatment = r.string(o, 'treatment', '', true, "the treatment model's name as logged in the model field, e.g. challenger");
  if (control !== undefined && control === treatment) {
    r.fail('treatment', `treatment must differ from control (both are ${JSON.stringify(control)})`);
  }
  const unit = r.string(o, 'unit', '', false, 'a field name, the randomization unit, e.g. user_id') ?? DEFAULTS.unit;
  if (unit === 'model') r.fail('unit', '"model" cannot be the unit: the unit is what is randomized between the models (e.g. user_id)');
  // (below 1e-12, 1 - alpha/2 is too close to 1 for a double to carry the level: 1e-17 would be 100%)
  const alpha = r.number(o, 'alpha', '', false, 'at least 1e-12 and below 1', (v) => v >= 1e-12 && v < 1) ?? DEFAULTS.alpha;
  const power = r.number(o, 'power', '', false, 'strictly between 0 and 1', inUnit) ?? DEFAULTS.power;
  if (!(power > alpha)) {
    const key = o.power !== undefined ? 'power' : 'alpha';
    r.fail(key, `power (${power}${o.power === undefined ? ', the default' : ''}) must exceed alpha (${alpha}${o.alpha === undefined ? ', the default' : ''})`);
  }
  const correction = r.choice(o, 'correction', '', CORRECTIONS, false) ?? DEFAULTS.correction;

  const segments: string[] = [];
  const segList = r.list(o, 'segments', '', 'field names');
  segList?.forEach((s, i) => {
    const p = `segments[${i}]`;
    if (typeof s !== 'string' || s.trim() === '') r.fail(p, `${p} must be a field name (got ${describe(s)})`);
    else if (segments.includes(s)) r.fail(p, `${p}: segment "${s}" is listed twice`);
    else if (s === 'model') r.fail(p, `${p}: "model" cannot be a segment (every segment compares the models)`);
    else segments.push(s);
  });

  // allocation
  let allocation: Allocation | undefined;
  if (o.allocation !== undefined && control !== undefined && treatment !== undefined && control !== treatment) {
    const names = [control, treatment];
    const a = r.object(o.allocation, 'allocation', names, ': its keys are the control and treatment model names');
    if (a) {
      const shares: number[] = [];
      for (const n of names) {
        const v = r.number(a, n, 'allocation', true, `greater than 0, the share of units expected on model ${JSON.stringify(n)}`, positive);
        if (v !== undefined) shares.push(v);
      }
      if (shares.length === 2) {
        const sum = shares[0]! + shares[1]!;
        if (Math.abs(sum - 1) > 1e-6) r.fail('allocation', `allocation shares must sum to 1 (got ${shares[0]} + ${shares[1]} = ${sum})`);
        else allocation = { control: shares[0]!, treatment: shares[1]! };
      }
    }
  } else if (o.allocation !== undefined && !isObj(o.allocation)) {
    r.fail('allocation', `allocation must be an object of shares per model (got ${describe(o.allocation)})`);
  }

  // metrics
  let primary: PrimaryMetric | undefined;
  if (o.primary !== undefined) primary = readMetric(r, o.primary, 'primary', 'primary') as PrimaryMetric | undefined;
  const guardrails: GuardrailMetric[] = [];
  r.list(o, 'guardrails', '', 'metrics')?.forEach((g, i) => {
    const m = readMetric(r, g, `guardrails[${i}]`, 'guardrail');
    if (m) guardrails.push(m as GuardrailMetric);
  });
  const seen = new Map<string, string>();
  const primaryName = isObj(o.primary) && typeof o.primary.name === 'string' ? o.primary.name : undefined;
  if (primaryName !== undefined) seen.set(primaryName, 'primary');
  (Array.isArray(o.guardrails) ? o.guardrails : []).forEach((g, i) => {
    if (!isObj(g) || typeof g.name !== 'string') return;
    const before = seen.get(g.name);
    if (before !== undefined) r.fail(`guardrails[${i}].name`, `guardrails[${i}].name "${g.name}" is already used by ${before}: metric names must be unique`);
    else seen.set(g.name, `guardrails[${i}]`);
  });

  if (stage === 'canary' || stage === 'ab') {
    if (o.primary === undefined) {
      r.fail('primary', `primary is required for stage "${stage}" (the metric the experiment is decided on)`);
    } else if (isObj(o.primary) && o.primary.mde === undefined) {
      r.fail('primary.mde', `primary.mde is required for stage "${stage}" (the smallest effect the experiment is powered to detect)`);
    }
    if (o.allocation === undefined) {
      r.fail('allocation', `allocation is required for stage "${stage}" (the expected share of units per model, e.g. {"${control ?? 'champion'}": 0.95, "${treatment ?? 'challenger'}": 0.05})`);
    }
  }

  // drift
  const drift: DriftCheck[] = [];
  r.list(o, 'drift', '', 'objects {field, max_ks}')?.forEach((d, i) => {
    const p = `drift[${i}]`;
    const item = r.object(d, p, DRIFT_KEYS);
    if (!item) return;
    const field = r.string(item, 'field', p, true, 'the log field whose distribution is compared');
    const maxKs = r.number(item, 'max_ks', p, true, 'in (0, 1], the largest accepted KS statistic', inUnitClosed);
    if (field !== undefined && drift.some((x) => x.field === field)) r.fail(join(p, 'field'), `${p}.field "${field}" is listed twice in drift`);
    else if (field !== undefined && maxKs !== undefined) drift.push({ field, maxKs });
  });

  // agreement
  let agreement: AgreementCheck | undefined;
  if (o.agreement !== undefined) {
    const a = r.object(o.agreement, 'agreement', AGREEMENT_KEYS);
    if (a) {
      const minRate = r.number(a, 'min_rate', 'agreement', true, 'in (0, 1], the lowest accepted share of requests where both models agree', inUnitClosed);
      const field = r.string(a, 'field', 'agreement', false, 'a field name') ?? DEFAULTS.agreementField;
      if (minRate !== undefined) agreement = { minRate, field };
    }
  }

  // rollback
  let rollback: RollbackRule | undefined;
  if (o.rollback !== undefined) {
    const p = 'rollback';
    const b = r.object(o.rollback, p, ROLLBACK_KEYS);
    if (b) {
      const field = r.string(b, 'field', p, true, 'the log field to watch, e.g. latency_ms');
      const quantile = r.number(b, 'quantile', p, true, 'strictly between 0 and 1, e.g. 0.99', inUnit);
      const maxRatio = r.number(b, 'max_ratio', p, true, "greater than 1, the treatment's quantile over the control's", (v) => v > 1);
      const durationText = 'a duration with its unit (ms, s, m, h), such as "30s", "1m", "5m", "1h"';
      const window = typeof b.window === 'number' ? undefined : r.string(b, 'window', p, true, durationText);
      let windowMs: number | undefined;
      if (typeof b.window === 'number') {
        r.fail('rollback.window', `rollback.window must be ${durationText} (got the bare number ${b.window}: write its unit, e.g. "${b.window}s")`);
      } else if (window !== undefined) {
        windowMs = parseDuration(window);
        if (windowMs === undefined) r.fail('rollback.window', `rollback.window must be ${durationText} (got ${describe(window)})`);
      }
      const consecutive = r.integer(b, 'consecutive', p, true, 1);
      const minCount = r.integer(b, 'min_count', p, false, 1) ?? DEFAULTS.rollbackMinCount;
      const rule = { field, quantile, maxRatio, window, windowMs, consecutive, minCount };
      if (allDefined(rule)) rollback = rule;
    }
  }

  // fields: referenced names and standard names may be mapped
  const fields: Record<string, string> = {};
  if (o.fields !== undefined) {
    const referenced = new Set<string>([...STANDARD_FIELDS, unit, ...segments]);
    const metricFields = [o.primary, ...(Array.isArray(o.guardrails) ? o.guardrails : []), ...(Array.isArray(o.drift) ? o.drift : []), o.agreement, o.rollback];
    for (const m of metricFields) if (isObj(m) && typeof m.field === 'string') referenced.add(m.field);
    if (agreement) referenced.add(agreement.field);
    const allowed = [...referenced];
    if (!isObj(o.fields)) {
      r.fail('fields', `fields must be an object mapping field names to log column names, e.g. {"model": "variant"} (got ${describe(o.fields)})`);
    } else {
      for (const [k, v] of Object.entries(o.fields)) {
        const p = `fields.${k}`;
        if (!referenced.has(k)) {
          const hint = suggest(k, allowed);
          r.fail(p, `unknown key "${k}" in fields: the spec never uses a field "${k}" (allowed: ${allowed.join(', ')})${hint ? `; did you mean "${hint}"?` : ''}`);
        } else if (typeof v !== 'string' || v.trim() === '') {
          r.fail(p, `${p} must be the log's column name for ${k} (got ${describe(v)})`);
        } else fields[k] = v;
      }
    }
  }

  if (r.problems.length > 0) throw new SpecError(fileName, r.problems);
  // every required value was checked above; a missing one produced a problem
  return {
    name: rawName!,
    stage: stage!,
    control: control!,
    treatment: treatment!,
    unit,
    ...(allocation ? { allocation } : {}),
    alpha,
    power,
    correction,
    segments,
    ...(primary ? { primary } : {}),
    guardrails,
    drift,
    ...(agreement ? { agreement } : {}),
    ...(rollback ? { rollback } : {}),
    fields,
  };
}

function defaultName(fileName: string): string {
  const base = basename(fileName);
  const ext = extname(base);
  return (ext ? base.slice(0, -ext.length) : base) || 'experiment';
}

type Format = 'json' | 'yaml';

function formatOf(text: string, fileName: string): Format {
  const ext = extname(fileName).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `line ${line}, column ${column}`;
}

/** JSON.parse with a located message, plus duplicate-key detection (JSON.parse keeps the last silently). */
function parseJson(text: string, fileName: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    // V8 names no position for some errors ("Unexpected token ',', ..."gments": [,... is not valid
    // JSON"): the JSON Lines scanner, which accepts what JSON.parse accepts, finds it
    const at = m ? Number(m[1]) : syntaxErrorAt(text);
    const what = msg
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/ (in JSON )?at position \d+/, '')
      .replace(/, (\.\.\.)?"[\s\S]*$/, '');
    const located = at !== null ? `${what} at ${lineColumn(text, at)}` : msg;
    throw new SpecError(fileName, [{ path: '', message: `not valid JSON: ${located}` }]);
  }
  // a pre-registration must not have duplicate keys; JSON.parse keeps the last of each, so there is
  // none when the text holds as many keys as the parsed value (the usual case: no YAML parse, which
  // took ~10 ms of every run's start). YAML 1.2 reads JSON; its parser says where they are.
  if (keysInText(text) === keysInValue(doc)) return doc;
  const dups = parseDocument(text, { uniqueKeys: true }).errors.filter((e) => e.code === 'DUPLICATE_KEY');
  if (dups.length > 0) throw new SpecError(fileName, dups.map((e) => ({ path: '', message: duplicateKeyMessage(text, e) })));
  return doc;
}

/** Where a JSON text stops being JSON (a character index), as the JSON Lines scanner finds it; null if it finds no error. */
function syntaxErrorAt(text: string): number | null {
  const bytes = Buffer.from(text, 'utf8');
  const scanner = new JsonLineScanner([]);
  if (scanner.scan(bytes, 0, bytes.length) === SCAN_MALFORMED) return bytes.subarray(0, scanner.errorAt).toString('utf8').length;
  // the scanner's one extension to JSON: bare NaN, Infinity and -Infinity (outside strings)
  const bare = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;
  for (let m = bare.exec(text); m !== null; m = bare.exec(text)) if (m[1] !== undefined) return m.index;
  return null;
}

/** The number of object keys in a JSON text that JSON.parse accepts: its strings followed by a colon. */
export function keysInText(text: string): number {
  let keys = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (text.charCodeAt(i) !== 0x22) {
      i++;
      continue;
    }
    // a string: to its closing quote, past escapes
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) break;
      else i++;
    }
    i++;
    let j = i;
    while (j < n && (text.charCodeAt(j) === 0x20 || text.charCodeAt(j) === 0x0a || text.charCodeAt(j) === 0x0d || text.charCodeAt(j) === 0x09)) j++;
    if (j < n && text.charCodeAt(j) === 0x3a) keys++;
  }
  return keys;
}

/** The number of keys of every object in a parsed JSON value (its own keys, nested ones included; no recursion: any depth JSON.parse reads). */
export function keysInValue(v: unknown): number {
  let keys = 0;
  const todo: unknown[] = [v];
  while (todo.length > 0) {
    const x = todo.pop();
    if (x === null || typeof x !== 'object') continue;
    if (Array.isArray(x)) {
      for (const y of x) todo.push(y);
    } else {
      for (const y of Object.values(x)) {
        keys++;
        todo.push(y);
      }
    }
  }
  return keys;
}

/** "duplicate key "alpha" at line 4, column 3: a key may appear only once" from the YAML parser's error. */
function duplicateKeyMessage(text: string, e: YAMLError): string {
  const [start] = e.pos;
  const key = /^\s*"?([^":]*)"?\s*:/.exec(text.slice(start, start + 200))?.[1];
  return `duplicate key${key ? ` "${key}"` : ''} at ${lineColumn(text, start)}: a key may appear only once`;
}

const firstLine = (s: string): string => s.split('\n')[0]!.trim();

function parseYaml(text: string, fileName: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      fileName,
      doc.errors.map((e) => ({
        path: '',
        message: e.code === 'DUPLICATE_KEY' ? duplicateKeyMessage(text, e) : `not valid YAML: ${firstLine(e.message).replace(/:$/, '')}`,
      })),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as Json;
  } catch (e) {
    // aliases that expand past the limit (a "billion laughs" document), or another failure of the conversion
    throw new SpecError(fileName, [{ path: '', message: `not a usable YAML document: ${firstLine((e as Error).message)}` }]);
  }
}

/**
 * Parse and validate a spec from its text. The format follows the file name's extension (.json,
 * .yaml, .yml); otherwise a text starting with `{` is JSON, anything else YAML. Throws SpecError
 * naming every problem.
 */
export function parseSpec(text: string, fileName: string): ExperimentSpec {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new SpecError(fileName, [{ path: '', message: 'the spec is empty (expected an object with stage, control, treatment, ...)' }]);
  const doc = formatOf(body, fileName) === 'json' ? parseJson(body, fileName) : parseYaml(body, fileName);
  return validateSpec(doc, fileName);
}

/** Read and parse a spec file. A file that cannot be read throws the fs error (ENOENT, EISDIR...). */
export function loadSpec(path: string): ExperimentSpec {
  return parseSpec(readFileSync(path, 'utf8'), path);
}

/** The log column holding a spec field: its `fields` mapping, or the name itself. */
export function columnOf(spec: ExperimentSpec, field: string): string {
  return Object.hasOwn(spec.fields, field) ? spec.fields[field]! : field;
}

/** JSON with object keys sorted at every level and undefined members left out. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v)) {
    const out: Obj = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * SHA-256 (hex) of the canonical JSON of the whole parsed spec, defaults included: key order,
 * comments, JSON vs YAML and spelling out a default do not change it; any other edit does.
 */
export function specHash(spec: ExperimentSpec): string {
  return sha256(canonicalJson(spec));
}

/**
 * The pre-registered parts of a spec: everything that decides the verdict, in the spec file's own
 * vocabulary (so a change reads "primary.mde: 0.01 -> 0.02").
 *
 * Registered: stage, control, treatment, unit, allocation, alpha, power, correction, segments
 * (as a set), the primary metric, the guardrails (keyed by name, so their order does not matter),
 * drift (keyed by field), agreement and rollback (its window in milliseconds, so "60s" = "1m");
 * defaults are spelled out, and every field they measure is resolved through `fields` to its log
 * column, so re-pointing a metric at another column is a change.
 * Not registered: `name`, and `fields` entries for plumbing columns (ts, request_id, model ...),
 * which only say where the log keeps things.
 */
export function registration(spec: ExperimentSpec): Record<string, unknown> {
  const col = (f: string): string => columnOf(spec, f);
  const metric = (m: PrimaryMetric | GuardrailMetric): Record<string, unknown> => ({
    name: m.name,
    field: col(m.field),
    type: m.type,
    direction: m.direction,
    test: m.test,
    quantile: m.quantile,
    ...('mde' in m && m.mde ? { mde: m.mde.value, relative: m.mde.relative } : {}),
    ...('tolerance' in m ? { [m.tolerance.kind === 'relative' ? 'max_relative_change' : 'max_absolute_change']: m.tolerance.max } : {}),
  });
  const { allocation, agreement, rollback } = spec;
  return {
    stage: spec.stage,
    control: spec.control,
    treatment: spec.treatment,
    unit: col(spec.unit),
    allocation: allocation ? { [spec.control]: allocation.control, [spec.treatment]: allocation.treatment } : undefined,
    alpha: spec.alpha,
    power: spec.power,
    correction: spec.correction,
    segments: spec.segments.map(col).sort(),
    primary: spec.primary ? metric(spec.primary) : undefined,
    guardrails: Object.fromEntries(spec.guardrails.map((g) => [g.name, metric(g)])),
    drift: Object.fromEntries(spec.drift.map((d) => [col(d.field), { max_ks: d.maxKs }])),
    agreement: agreement ? { min_rate: agreement.minRate, field: col(agreement.field) } : undefined,
    rollback: rollback
      ? {
          field: col(rollback.field),
          quantile: rollback.quantile,
          max_ratio: rollback.maxRatio,
          window_ms: rollback.windowMs,
          consecutive: rollback.consecutive,
          min_count: rollback.minCount,
        }
      : undefined,
  };
}

/** SHA-256 (hex) of the canonical JSON of `registration(spec)`. */
export function registrationHash(spec: ExperimentSpec): string {
  return sha256(canonicalJson(registration(spec)));
}
