/**
 * One metric on one segment: the numbers (estimate, interval, p-value), before any verdict.
 *
 * The analysis unit is the spec's `unit`. When a unit has several records (a user with many
 * requests) the records are not independent, so:
 * - proportion and mean metrics are ratios of sums per arm (sum of the metric / number of records)
 *   tested with the delta method: each unit contributes its linearised value
 *   L_u = (Y_u - R N_u) / mean(N), Var(R) = var(L) / units, and the difference of the two ratios
 *   is tested with Welch's t on those unit-level values (Deng et al., 2018);
 * - rank metrics compare per-unit means with Mann-Whitney (each unit counts once);
 * - quantile metrics are quantiles of the record distribution (p99 latency of requests),
 *   bootstrapped over records.
 * When every unit has one record the contract's tests run on the records as they are: the
 * two-proportion z-test with continuity correction, Welch's t, Mann-Whitney, the bootstrap.
 */
import { bootstrapTwoSample } from '../core/bootstrap.js';
import { mannWhitneyUSorted } from '../core/mannWhitneyU.js';
import { sortAscending, sortByGroup, sortPresentAt } from '../core/ranks.js';
import { normalQuantile } from '../core/distributions.js';
import { createRng } from '../core/rng.js';
import { summarize, type MeanSummary } from '../core/summaries.js';
import { twoProportionZTest } from '../core/twoProportionZTest.js';
import { welchFromSummaries } from '../core/welchTTest.js';
import { wilsonInterval } from '../core/wilson.js';
import type { ColumnStore } from './aggregate.js';
import type { GuardrailMetric, PrimaryMetric } from './spec.js';

export type Metric = PrimaryMetric | GuardrailMetric;

export interface MetricStats {
  test: string;
  nControl: number;
  nTreatment: number;
  nUnit: 'units' | 'records';
  controlValue: number | null;
  treatmentValue: number | null;
  estimate: number | null;
  ci: [number | null, number | null] | null;
  /** interval of treatment / control - 1, when the test gives one */
  relativeCi: [number | null, number | null] | null;
  pValue: number | null;
  /** standard deviation of the control's analysis values (per unit or per record), for power */
  controlSd: number | null;
  /** why no test could be run (empty arm, zero variance...), in words */
  degenerate: string | null;
  /** units had several records, so the test ran on per-unit aggregates */
  clustered: boolean;
  /**
   * which way the data lean: +1 treatment higher, -1 lower, 0 neither. The sign of the estimate, except
   * for rank tests, where it is the sign of U - n_c n_t / 2 (the Hodges-Lehmann shift can be 0 with ties)
   */
  effectSign: -1 | 0 | 1;
}

export interface MetricContext {
  store: ColumnStore;
  unitCodes: Int32Array;
  unitCount: number;
  alpha: number;
  resamples: number;
  seed: number;
  /** the unit is the request: no per-unit aggregation */
  unitIsRequest: boolean;
  /** sorted values shared with the other consumers of the same rows (a fresh cache when absent) */
  sorted?: SortedValues;
}

/** Values of `field` at `rows` that are present (missing = NaN is skipped). */
export function presentValues(values: Float64Array, rows: Int32Array): Float64Array {
  let k = 0;
  for (let j = 0; j < rows.length; j++) if (!Number.isNaN(values[rows[j]!]!)) k++;
  const out = new Float64Array(k);
  k = 0;
  for (let j = 0; j < rows.length; j++) {
    const v = values[rows[j]!]!;
    if (!Number.isNaN(v)) out[k++] = v;
  }
  return out;
}

/**
 * The present values of a field at a group's rows, sorted ascending, computed once per evaluation
 * and shared by everything that needs them in order (quantiles, the latency overhead and CDF, KS
 * drift). Keyed by the identity of the value column and of the row list. When a row list is known
 * to be split exactly by a segment field (`partition`), it and its parts are sorted together in
 * one grouped sort; the arrays are the same as sorting each on its own.
 * The arrays handed out are shared: callers must not modify them.
 */
export class SortedValues {
  private readonly byColumn = new Map<Float64Array, Map<Int32Array, Float64Array>>();
  private readonly parts = new Map<Int32Array, { parts: Int32Array[]; tags: Int32Array | null; tagsOf: (() => Int32Array | null) | null }>();
  /** per row of the store: its part in the partition of the row list that holds it */
  private partOf: Int32Array | null = null;

  /**
   * Declare that `parts` (disjoint row lists) together hold exactly the rows of `whole`. `tagsOf`,
   * when given, tells for each row of `whole` the index of the part holding it, or null (then the
   * parts' rows are marked to work it out); it is asked when a sort first needs it.
   */
  partition(whole: Int32Array, parts: Int32Array[], tagsOf?: () => Int32Array | null): void {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total !== whole.length) throw new Error(`internal: a partition of ${whole.length} rows holds ${total}`);
    if (!this.parts.has(whole)) this.parts.set(whole, { parts, tags: null, tagsOf: tagsOf ?? null });
  }

  /** The present (non-NaN) values of `values` at `rows`, ascending. */
  get(values: Float64Array, rows: Int32Array): Float64Array {
    let byRows = this.byColumn.get(values);
    if (!byRows) this.byColumn.set(values, (byRows = new Map()));
    let out = byRows.get(rows);
    if (out) return out;
    const split = this.parts.get(rows);
    if (!split) {
      out = sortPresentAt(values, rows);
      byRows.set(rows, out);
      return out;
    }
    if (split.tags === null) {
      const given = split.tagsOf?.() ?? null;
      if (given !== null && given.length !== rows.length) throw new Error(`internal: ${given.length} tags for ${rows.length} rows`);
      split.tags = given ?? this.tags(values.length, rows, split.parts);
    }
    const sorted = sortByGroup(values, split.tags, split.parts.length, rows);
    byRows.set(rows, sorted.all);
    split.parts.forEach((p, k) => {
      if (!byRows.has(p)) byRows.set(p, sorted.groups[k]!);
    });
    return sorted.all;
  }

  /** For each row of `whole`, the index of the part holding it. */
  private tags(size: number, whole: Int32Array, parts: Int32Array[]): Int32Array {
    if (!this.partOf || this.partOf.length < size) this.partOf = new Int32Array(size);
    const partOf = this.partOf;
    parts.forEach((p, k) => {
      for (let j = 0; j < p.length; j++) partOf[p[j]!] = k;
    });
    const tags = new Int32Array(whole.length);
    for (let j = 0; j < whole.length; j++) tags[j] = partOf[whole[j]!]!;
    return tags;
  }
}

export interface UnitSums {
  /** distinct units with at least one value */
  units: number;
  /** per unit: sum of values and count of values */
  y: Float64Array;
  n: Float64Array;
  maxPerUnit: number;
  /** per unit: its code (the units in order of first appearance) */
  unit: Int32Array;
}

/**
 * Sums per unit of the present values at `rows`, in typed arrays. `scratch[u]` holds unit u's slot + 1
 * during the call (all zero before and after), so no map or per-unit object is allocated.
 */
function unitSums(values: Float64Array, rows: Int32Array, unitCodes: Int32Array, scratch: Int32Array, armUnits?: number): UnitSums {
  // at most one slot per distinct unit of the arm (known from the grouping), and per row
  const cap = Math.min(rows.length, scratch.length, armUnits ?? Infinity);
  const y = new Float64Array(cap);
  const n = new Float64Array(cap);
  const slots = new Int32Array(cap);
  let units = 0;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    const v = values[i]!;
    if (v !== v) continue; // NaN: missing
    const u = unitCodes[i]!;
    let s = scratch[u]! - 1;
    if (s < 0) {
      s = units++;
      slots[s] = u;
      scratch[u] = s + 1;
    }
    y[s]! += v;
    n[s]!++;
  }
  let maxPerUnit = 0;
  for (let k = 0; k < units; k++) {
    scratch[slots[k]!] = 0;
    if (n[k]! > maxPerUnit) maxPerUnit = n[k]!;
  }
  return { units, y: y.subarray(0, units), n: n.subarray(0, units), maxPerUnit, unit: slots.subarray(0, units) };
}

/**
 * unitSums of several fields over the same rows, sharing the unit lookup: one pass counts each row's
 * unit and adds the values of up to three fields; further fields take another pass each three. The
 * units get their slots in order of first appearance. Equal to unitSums field by field when the
 * field has a value at every row (same slots, same order of additions); a field with a missing
 * value at some row is recomputed by unitSums.
 */
function fusedUnitSums(
  columns: Float64Array[],
  zeroMissing: readonly boolean[],
  rows: Int32Array,
  unitCodes: Int32Array,
  unitCount: number,
  scratch: Int32Array,
  armUnits?: number,
): UnitSums[] {
  const cap = Math.min(rows.length, unitCount, armUnits ?? Infinity);
  const n = new Float64Array(cap);
  const slots = new Int32Array(cap);
  const sums = columns.map(() => new Float64Array(cap));
  const missing = new Uint8Array(columns.length + 2);
  // per column of the chunks: 1 when a missing value counts as 0 (see metricValues)
  const zero = new Uint8Array(columns.length + 2);
  zeroMissing.forEach((z, k) => (zero[k] = z ? 1 : 0));
  // a chunk of three columns; a short chunk repeats its first column into a throwaway sum
  const spare = columns.length % 3 ? new Float64Array(cap) : sums[0]!;
  const c = (k: number) => columns[k] ?? columns[0]!;
  const y = (k: number) => sums[k] ?? spare;
  const acc = unitAccumulator(unitCount);
  const units = addColumns(true, 0, rows, unitCodes, acc, slots, n, c(0), c(1), c(2), y(0), y(1), y(2), missing, zero, 0);
  for (let k = 3; k < columns.length; k += 3) addColumns(false, units, rows, unitCodes, acc, slots, n, c(k), c(k + 1), c(k + 2), y(k), y(k + 1), y(k + 2), missing, zero, k);
  let maxPerUnit = 0;
  for (let k = 0; k < units; k++) if (n[k]! > maxPerUnit) maxPerUnit = n[k]!;
  const counts = n.subarray(0, units);
  const unit = slots.subarray(0, units);
  return columns.map((values, k) =>
    missing[k] ? unitSums(zeroMissing[k] ? absentAsZero(values) : values, rows, unitCodes, scratch, armUnits) : { units, y: sums[k]!.subarray(0, units), n: counts, maxPerUnit, unit },
  );
}

/**
 * Four numbers per unit code (a count and three sums, side by side: one cache line), all 0 between
 * uses. Kept for the thread's next pass over the same units: a new one would cost its page faults
 * every time.
 */
let accumulator: Float64Array | null = null;

function unitAccumulator(unitCount: number): Float64Array {
  if (!accumulator || accumulator.length < 4 * unitCount) accumulator = new Float64Array(4 * Math.max(unitCount, 1024));
  return accumulator;
}

/**
 * One pass of fusedUnitSums (its own function, so the loop is compiled on its own): adds three
 * columns into `acc`, indexed by unit code (the units are visited in the rows' order, at random: one
 * lookup a row, no code-to-slot table), then copies the sums out by slot and leaves `acc` at 0. The
 * first pass (`counting`) also counts rows per unit into `n` and notes each unit's first appearance in
 * `slots`, and returns the number of slots; a later pass adds over the `units` slots it found.
 * missing[k..k+2] is set for a column with a NaN, unless zero[k..k+2] says that its NaN (a missing
 * value) counts as 0.
 */
function addColumns(
  counting: boolean,
  units: number,
  rows: Int32Array,
  unitCodes: Int32Array,
  acc: Float64Array,
  slots: Int32Array,
  n: Float64Array,
  c0: Float64Array,
  c1: Float64Array,
  c2: Float64Array,
  y0: Float64Array,
  y1: Float64Array,
  y2: Float64Array,
  missing: Uint8Array,
  zero: Uint8Array,
  k: number,
): number {
  let nan0 = 0;
  let nan1 = 0;
  let nan2 = 0;
  const z0 = zero[k] === 1;
  const z1 = zero[k + 1] === 1;
  const z2 = zero[k + 2] === 1;
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    const u = unitCodes[i]!;
    const a = 4 * u;
    if (counting) {
      if (acc[a] === 0) slots[units++] = u;
      acc[a]!++;
    }
    let v0 = c0[i]!;
    let v1 = c1[i]!;
    let v2 = c2[i]!;
    if (v0 !== v0) z0 ? (v0 = 0) : (nan0 = 1);
    if (v1 !== v1) z1 ? (v1 = 0) : (nan1 = 1);
    if (v2 !== v2) z2 ? (v2 = 0) : (nan2 = 1);
    acc[a + 1]! += v0;
    acc[a + 2]! += v1;
    acc[a + 3]! += v2;
  }
  for (let s = 0; s < units; s++) {
    const a = 4 * slots[s]!;
    if (counting) {
      n[s] = acc[a]!;
      acc[a] = 0;
    }
    y0[s] = acc[a + 1]!;
    y1[s] = acc[a + 2]!;
    y2[s] = acc[a + 3]!;
    acc[a + 1] = 0;
    acc[a + 2] = 0;
    acc[a + 3] = 0;
  }
  missing[k] = nan0;
  missing[k + 1] = nan1;
  missing[k + 2] = nan2;
  return units;
}

/**
 * Fill `cache` with the per-unit sums of every field the metrics aggregate per unit (all but the
 * quantile metrics), all fields of an arm in one fused pass; computeMetric then finds them there.
 */
export function prepareUnitSums(
  metrics: readonly Metric[],
  rows: [Int32Array, Int32Array],
  ctx: MetricContext,
  scratch: Int32Array,
  cache: UnitSumsCache,
  units?: [number, number],
): void {
  const fields: string[] = [];
  const columns: Float64Array[] = [];
  // the column as stored, missing values counted as 0 in the pass where metricValues says so (no
  // zero-filled copy of a whole column)
  const zeroMissing: boolean[] = [];
  for (const metric of metrics) {
    if (metric.type === 'quantile' || fields.includes(metric.field) || cache.has(metric.field)) continue;
    const col = ctx.store.columns.get(metric.field);
    if (!col || col.kind !== 'number') continue;
    fields.push(metric.field);
    columns.push(col.values);
    zeroMissing.push(missingIsZero(metric.field));
  }
  if (fields.length === 0) return;
  const a = fusedUnitSums(columns, zeroMissing, rows[0], ctx.unitCodes, ctx.unitCount, scratch, units?.[0]);
  const b = fusedUnitSums(columns, zeroMissing, rows[1], ctx.unitCodes, ctx.unitCount, scratch, units?.[1]);
  fields.forEach((f, k) => cache.set(f, [a[k]!, b[k]!]));
}

/**
 * The per-unit sums of a segment field's segments, from the whole's: `segmentOf[u]` is the one code
 * of the field at every row of unit u (-1: missing at all of them; see unitSegments), so a unit's
 * rows in segment c are all its rows in the whole, and its sums there are its sums in the whole. The
 * units keep their order, which is their order of first appearance in the segment too: the same
 * arrays, value for value, as summing each segment's rows (unitSums, fusedUnitSums). Per code of
 * the field (0 to `codes` - 1), units of no segment (-1) dropped. With `like`, the split of a field
 * with the same `unit` and `n` arrays (summed in the same pass), those parts' `unit` and `n` are
 * shared, not copied.
 */
export function splitUnitSums(whole: UnitSums, segmentOf: Int32Array, codes: number, like?: { whole: UnitSums; parts: UnitSums[] }): UnitSums[] {
  if (like !== undefined && like.whole.unit === whole.unit && like.whole.n === whole.n && like.whole.units === whole.units) {
    // the same units and counts as a field already split (summed in the same pass): only the sums differ
    const out = like.parts.map((p) => ({ units: p.units, y: new Float64Array(p.units), n: p.n, maxPerUnit: p.maxPerUnit, unit: p.unit }));
    const fill = new Int32Array(codes);
    for (let k = 0; k < whole.units; k++) {
      const c = segmentOf[whole.unit[k]!]!;
      if (c >= 0) out[c]!.y[fill[c]!++] = whole.y[k]!;
    }
    return out;
  }
  const size = new Int32Array(codes);
  for (let k = 0; k < whole.units; k++) {
    const c = segmentOf[whole.unit[k]!]!;
    if (c >= 0) size[c]!++;
  }
  const out: UnitSums[] = [];
  for (let c = 0; c < codes; c++) {
    out.push({ units: 0, y: new Float64Array(size[c]!), n: new Float64Array(size[c]!), maxPerUnit: 0, unit: new Int32Array(size[c]!) });
  }
  for (let k = 0; k < whole.units; k++) {
    const u = whole.unit[k]!;
    const c = segmentOf[u]!;
    if (c < 0) continue;
    const s = out[c]!;
    const j = s.units++;
    const n = whole.n[k]!;
    s.y[j] = whole.y[k]!;
    s.n[j] = n;
    s.unit[j] = u;
    if (n > s.maxPerUnit) s.maxPerUnit = n;
  }
  return out;
}


/**
 * The ratio of sums (Σy / Σn over the units) of a clustered arm as a MeanSummary for Welch's test, its
 * variance the jackknife over units (leave one unit out: (G - 1)/G Σ (R_-u - mean R_-u)²) and its n the
 * effective number of units, Kish's (Σ n_u)² / Σ n_u² (the Welch degrees of freedom follow it). The
 * delta method's variance alone understates the spread when a few units hold many of the records: a
 * single heavy user made a 'significant' win, and with heavy-tailed records per unit (Pareto 1.2) 13-15%
 * of no-effect tests came out significant at 5%; this way 4-5% (0.8: 3% where the delta method gave
 * 30%), simulated at 50 to 1000 units an arm. Without a heavy unit it is the delta method's variance
 * to first order, and its n the number of units.
 */
function jackknifeSummary(s: UnitSums): MeanSummary & { deltaSd: number | null } {
  const G = s.units;
  let sy = 0;
  let sn = 0;
  let sn2 = 0;
  for (let k = 0; k < G; k++) {
    sy += s.y[k]!;
    sn += s.n[k]!;
    sn2 += s.n[k]! * s.n[k]!;
  }
  const ratio = sy / sn;
  const neff = (sn * sn) / sn2;
  if (G < 2) return { n: neff, mean: ratio, m2: 0, min: NaN, max: NaN, deltaSd: null };
  // leave-one-out ratios, centred on their mean (two passes: the mean, then the squares); in the
  // second, the sd of the delta method's per-unit linearised values (y - ratio n) / mean n, which
  // sizes the experiment (unitsNeeded)
  let mean = 0;
  for (let k = 0; k < G; k++) mean += (sy - s.y[k]!) / (sn - s.n[k]!);
  mean /= G;
  const meanN = sn / G;
  let ss = 0;
  let lin = 0;
  for (let k = 0; k < G; k++) {
    const d = (sy - s.y[k]!) / (sn - s.n[k]!) - mean;
    ss += d * d;
    const l = (s.y[k]! - ratio * s.n[k]!) / meanN;
    lin += l * l;
  }
  const variance = ((G - 1) / G) * ss;
  // a MeanSummary whose m2 / (n - 1) / n is that variance
  return { n: neff, mean: ratio, m2: neff >= 2 ? variance * neff * (neff - 1) : 0, min: NaN, max: NaN, deltaSd: Math.sqrt(lin / (G - 1)) };
}

const noResult = (test: string, reason: string, base: Partial<MetricStats> = {}): MetricStats => ({
  test,
  nControl: 0,
  nTreatment: 0,
  nUnit: 'records',
  controlValue: null,
  treatmentValue: null,
  estimate: null,
  ci: null,
  relativeCi: null,
  pValue: null,
  controlSd: null,
  degenerate: reason,
  clustered: false,
  effectSign: 0,
  ...base,
});

const TEST_TEXT = {
  ztest: 'two-proportion z-test with continuity correction',
  welch: 'Welch two-sample t-test',
  mannwhitney: 'Mann-Whitney U (Hodges-Lehmann shift)',
  bootstrap: 'bootstrap',
} as const satisfies Record<Metric['test'], string>;

const sign = (x: number | null): -1 | 0 | 1 => (x === null || x === 0 || Number.isNaN(x) ? 0 : x > 0 ? 1 : -1);

function noValues(field: string, nControl: number, nTreatment: number): string {
  if (nControl === 0 && nTreatment === 0) return `neither arm has values of "${field}"`;
  return `the ${nControl === 0 ? 'control' : 'treatment'} arm has no values of "${field}"`;
}

/**
 * Interval of the relative change treatment / control - 1 by the delta method, which carries the
 * control's own uncertainty (dividing the difference's interval by the control's value would not):
 * se(R) = sqrt(varB / mA^2 + mB^2 varA / mA^4), R = mB / mA, with varA, varB the squared standard
 * errors of the two means (or rates). Null when the control's value is 0 or of the wrong sign.
 */
function relativeInterval(mA: number, varA: number, mB: number, varB: number, confidence: number): [number | null, number | null] | null {
  if (!(mA > 0) || !Number.isFinite(mB) || !(varA >= 0) || !(varB >= 0)) return null;
  const ratio = mB / mA;
  const se = Math.sqrt(varB / (mA * mA) + (mB * mB * varA) / (mA * mA * mA * mA));
  const q = normalQuantile(1 - (1 - confidence) / 2);
  return [ratio - 1 - q * se, ratio - 1 + q * se];
}

const zeroFilled = new WeakMap<Float64Array, Float64Array>();

/** The column with missing values (NaN) as 0, computed once per column. */
function absentAsZero(values: Float64Array): Float64Array {
  let out = zeroFilled.get(values);
  if (!out) {
    out = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      out[i] = v === v ? v : 0;
    }
    zeroFilled.set(values, out);
  }
  return out;
}

/**
 * The values a metric reads: the contract's `error` is "true or a message when the call failed", so
 * an absent or null error is a success, not a missing value (logs often write it only on failure).
 */
function metricValues(field: string, values: Float64Array): Float64Array {
  return missingIsZero(field) ? absentAsZero(values) : values;
}

function missingIsZero(field: string): boolean {
  return field === 'error';
}

/** Per-unit sums of one field in one segment, shared by the metrics on that field. */
export type UnitSumsCache = Map<string, [UnitSums, UnitSums]>;

export function computeMetric(
  metric: Metric,
  rows: [Int32Array, Int32Array],
  ctx: MetricContext,
  scratch: Int32Array,
  cache: UnitSumsCache = new Map(),
  units?: [number, number],
): MetricStats {
  const col = ctx.store.columns.get(metric.field);
  if (!col || col.kind !== 'number') {
    return noResult(TEST_TEXT[metric.test], `no values of "${metric.field}" in the logs`);
  }
  const confidence = 1 - ctx.alpha;

  const key = metric.field;
  let sums = metric.type === 'quantile' ? undefined : cache.get(key);
  // the values only when they are read here (per-unit sums of prepareUnitSums need no copy)
  let read: Float64Array | null = null;
  const valuesOf = (): Float64Array => (read ??= metricValues(metric.field, col.values));
  if (!sums && metric.type !== 'quantile') {
    const values = valuesOf();
    sums = [unitSums(values, rows[0], ctx.unitCodes, scratch, units?.[0]), unitSums(values, rows[1], ctx.unitCodes, scratch, units?.[1])];
    cache.set(key, sums);
  }
  const clustered = sums !== undefined && !ctx.unitIsRequest && Math.max(sums[0].maxPerUnit, sums[1].maxPerUnit) > 1;
  const nUnit = ctx.unitIsRequest ? 'records' : 'units';

  // a bootstrap over records would ignore the units (a heavy user could manufacture significance), so
  // a clustered proportion or mean keeps the delta method even when the spec asks for the bootstrap
  if (metric.type === 'quantile' || (metric.test === 'bootstrap' && !clustered)) {
    const q = metric.type === 'quantile' ? metric.quantile! : null;
    // a quantile's bootstrap depends only on the values, not their order: the shared sorted ones do
    // (unless a value is infinite, where the bootstrap's message names its position in row order)
    const sorted = ctx.sorted ?? new SortedValues();
    const values = valuesOf();
    const arm = (r: Int32Array): Float64Array => {
      if (q === null) return presentValues(values, r);
      const s = sorted.get(values, r);
      return s.length === 0 || (Number.isFinite(s[0]!) && Number.isFinite(s[s.length - 1]!)) ? s : presentValues(values, r);
    };
    const a = arm(rows[0]);
    const b = arm(rows[1]);
    const label = q === null ? 'mean' : `p${Number((q * 100).toPrecision(6))}`;
    const test = `bootstrap ${label} (percentile, ${ctx.resamples} resamples of records)`;
    if (a.length === 0 || b.length === 0) {
      return noResult(test, noValues(metric.field, a.length, b.length), { nControl: a.length, nTreatment: b.length });
    }
    const r = bootstrapTwoSample(a, b, {
      statistic: q === null ? { kind: 'mean' } : { kind: 'quantile', q },
      method: 'percentile',
      resamples: ctx.resamples,
      rng: createRng(ctx.seed),
      confidence,
      // quantiles: always draw the resampled order statistics from their exact law (same distribution
      // as value-by-value resampling, O(1) per resample); means: the skew-corrected normal law of the
      // resampled mean above 1000 values
      resampleMaxN: q === null ? 1000 : 0,
    });
    if ('degenerate' in r && r.degenerate) {
      // both samples constant (every value equal within each): every resample gives the same
      // difference, which is known exactly; R's boot.ci refuses an interval then, but the decision
      // needs one, and the interval the resamples give is that point (constantArms)
      if (r.code === 'zero-variance') {
        const exact = constantArms(`${test}: both arms constant`, a.length, b.length, 'records', a[0]!, b[0]!, ctx.alpha, false);
        if (typeof exact !== 'string') return exact;
        return noResult(test, exact, { nControl: a.length, nTreatment: b.length, controlValue: a[0]!, treatmentValue: b[0]!, estimate: b[0]! - a[0]! });
      }
      return noResult(test, r.reason, { nControl: a.length, nTreatment: b.length });
    }
    const res = r as Exclude<typeof r, { degenerate: true }>;
    // (the ratio of a control at or below 0 has no sign to trust: no relative interval, as relativeInterval)
    const ratio = res.ratio.degenerate || !(res.control > 0) ? null : res.ratio;
    return {
      test,
      nControl: a.length,
      nTreatment: b.length,
      nUnit: 'records',
      controlValue: res.control,
      treatmentValue: res.treatment,
      estimate: res.estimate,
      ci: [res.ci.low, res.ci.high],
      relativeCi: ratio ? [ratio.ci.low === null ? null : ratio.ci.low - 1, ratio.ci.high === null ? null : ratio.ci.high - 1] : null,
      pValue: res.pValue,
      controlSd: null,
      degenerate: null,
      clustered: false,
      effectSign: sign(res.estimate),
    };
  }

  const [sa, sb] = sums!;
  if (sa.units === 0 || sb.units === 0) {
    return noResult(TEST_TEXT[metric.test], noValues(metric.field, sa.units, sb.units), {
      nControl: sa.units,
      nTreatment: sb.units,
      nUnit,
    });
  }

  if (metric.type === 'rank') {
    // one value per unit: its mean
    const ma = clustered ? sa.y.map((y, k) => y / sa.n[k]!) : sa.y;
    const mb = clustered ? sb.y.map((y, k) => y / sb.n[k]!) : sb.y;
    const test = clustered ? 'Mann-Whitney U on per-unit means (Hodges-Lehmann shift)' : 'Mann-Whitney U (Hodges-Lehmann shift)';
    // mannWhitneyU(ma, mb) sorts copies of the same values the same way; the medians reuse them
    const sortedA = sortAscending(ma);
    const sortedB = sortAscending(mb);
    const r = mannWhitneyUSorted(sortedA, sortedB, { alternative: 'two-sided', confidence });
    if (r.degenerate) {
      // every value the same in both arms: no rank carries information, but the shift is exactly 0
      const exact = r.code === 'all-tied' ? constantArms(`${test}: both arms constant`, ma.length, mb.length, nUnit, sortedA[0]!, sortedB[0]!, ctx.alpha, clustered) : r.reason;
      if (typeof exact !== 'string') return exact;
      return noResult(test, exact, { nControl: ma.length, nTreatment: mb.length, nUnit, clustered });
    }
    const medA = medianSorted(sortedA);
    const medB = medianSorted(sortedB);
    return {
      test,
      nControl: ma.length,
      nTreatment: mb.length,
      nUnit,
      controlValue: medA,
      treatmentValue: medB,
      estimate: r.hodgesLehmann,
      ci: r.ci.low === null && r.ci.high === null ? null : [r.ci.low, r.ci.high],
      relativeCi: null,
      pValue: r.pValue,
      controlSd: null,
      degenerate: null,
      clustered,
      effectSign: sign(r.statistic - (ma.length * mb.length) / 2),
    };
  }

  if (metric.type === 'proportion') {
    const none = noEvents(sa, sb, 1 - ctx.alpha, nUnit);
    if (none) return none;
  }

  if (clustered || metric.test === 'welch' || metric.type === 'mean') {
    let summaryA: MeanSummary;
    let summaryB: MeanSummary;
    let test: string;
    // the units each arm's summary stands for (a clustered summary's n is its effective number of units)
    const unitsA = clustered ? sa.units : 0;
    const unitsB = clustered ? sb.units : 0;
    let deltaSd: number | null = null;
    if (clustered) {
      const ja = jackknifeSummary(sa);
      const jb = jackknifeSummary(sb);
      const few = [ja, jb].findIndex((j) => !(j.n >= 2));
      if (few >= 0) {
        const [arm, units, j] = few === 0 ? ['control', sa.units, ja] : ['treatment', sb.units, jb];
        return noResult(
          `delta-method Welch test of the ${metric.type === 'proportion' ? 'rate' : 'mean'} per record, clustered by unit`,
          `a few ${nUnit} hold most of the ${arm}'s records (effectively ${Number(j.n.toPrecision(3))} of its ${units} ${nUnit}): the rate per record is theirs, and no test can tell it from chance`,
          { nControl: sa.units, nTreatment: sb.units, nUnit, controlValue: ja.mean, treatmentValue: jb.mean, clustered },
        );
      }
      summaryA = ja;
      summaryB = jb;
      deltaSd = ja.deltaSd;
      test = `delta-method Welch test of the ${metric.type === 'proportion' ? 'rate' : 'mean'} per record, clustered by unit (jackknife over ${nUnit})`;
    } else {
      summaryA = summarize(sa.y);
      summaryB = summarize(sb.y);
      test = 'Welch two-sample t-test';
    }
    if (clustered && metric.test === 'bootstrap') test += ' (instead of the bootstrap over records, which would ignore the units)';
    const r = welchFromSummaries(summaryA, summaryB, { confidence });
    const sd = clustered ? deltaSd : summaryA.n > 1 ? Math.sqrt(summaryA.m2 / (summaryA.n - 1)) : null;
    const nA = clustered ? unitsA : summaryA.n;
    const nB = clustered ? unitsB : summaryB.n;
    if (r.degenerate) {
      // both arms constant at the same value (or spread below rounding noise around equal means): no
      // test statistic, but no difference either; both exactly constant at different values: the
      // difference is known exactly (constantArms)
      const exact =
        r.code === 'zero-variance' && (summaryA.mean === summaryB.mean || (summaryA.m2 === 0 && summaryB.m2 === 0))
          ? constantArms(`${test}: both arms constant`, nA, nB, nUnit, summaryA.mean, summaryB.mean, ctx.alpha, clustered)
          : r.reason;
      if (typeof exact !== 'string') return exact;
      return noResult(test, exact, { nControl: nA, nTreatment: nB, nUnit, controlValue: summaryA.mean, treatmentValue: summaryB.mean, clustered });
    }
    return {
      test,
      nControl: nA,
      nTreatment: nB,
      nUnit,
      controlValue: summaryA.mean,
      treatmentValue: summaryB.mean,
      estimate: r.estimate,
      ci: [r.ci.low, r.ci.high],
      relativeCi: relativeInterval(summaryA.mean, summaryA.m2 / (summaryA.n - 1) / summaryA.n, summaryB.mean, summaryB.m2 / (summaryB.n - 1) / summaryB.n, confidence),
      pValue: r.pValue,
      controlSd: sd,
      degenerate: null,
      clustered,
      effectSign: sign(r.estimate),
    };
  }

  // proportion, one record per unit: the contract's z-test with continuity correction
  const count = (s: UnitSums) => {
    let x = 0;
    for (let k = 0; k < s.units; k++) x += s.y[k]!;
    return Math.round(x);
  };
  const control = { successes: count(sa), trials: sa.units };
  const treatment = { successes: count(sb), trials: sb.units };
  const test = 'two-proportion z-test with continuity correction';
  const pa = control.successes / control.trials;
  const pb = treatment.successes / treatment.trials;
  const r = twoProportionZTest(control, treatment, { confidence });
  if (r.degenerate) {
    return noResult(test, r.reason, { nControl: sa.units, nTreatment: sb.units, nUnit, controlValue: pa, treatmentValue: pb });
  }
  return {
    test,
    nControl: sa.units,
    nTreatment: sb.units,
    nUnit,
    controlValue: pa,
    treatmentValue: pb,
    estimate: r.estimate,
    ci: [r.ci.low, r.ci.high],
    relativeCi: relativeInterval(pa, (pa * (1 - pa)) / control.trials, pb, (pb * (1 - pb)) / treatment.trials, confidence),
    pValue: r.pValue,
    controlSd: Math.sqrt(pa * (1 - pa)),
    degenerate: null,
    clustered: false,
    effectSign: sign(r.estimate),
  };
}

/**
 * Both arms constant (every value of each the same): the difference is known exactly, its interval
 * the point itself (as every resample of a bootstrap, and the limit of Welch's interval as the spread
 * goes to 0, give it), so the decision can judge it. Only with enough values to tell: the exact
 * permutation p of two samples wholly apart, 2 / C(n + m, n) (what Mann-Whitney's exact test gives
 * them), must reach the level `alpha`; with fewer (3 against 3: 0.1; 1 against 1 at the same value),
 * the reason the metric is not tested instead. p is that permutation p when the values differ, 1 when
 * they are equal.
 */
function constantArms(test: string, nControl: number, nTreatment: number, nUnit: 'units' | 'records', control: number, treatment: number, alpha: number, clustered: boolean): MetricStats | string {
  const d = treatment - control;
  // 2 / C(n + m, n) as a product, smallest side first (it underflows to 0, never to NaN)
  const k = Math.min(nControl, nTreatment);
  const other = Math.max(nControl, nTreatment);
  let pApart = 2;
  for (let i = 1; i <= k && pApart > 0; i++) pApart *= i / (other + i);
  pApart = Math.min(1, pApart);
  if (!(pApart < alpha)) {
    const values = d === 0 ? 'at one value' : 'at different values';
    return `both arms are constant, ${values}, but ${nControl} against ${nTreatment} ${nUnit} are too few to tell (exact permutation p of two samples wholly apart: ${Number(pApart.toPrecision(3))})`;
  }
  return {
    test: d === 0 ? `${test} and equal` : `${test}: the difference is exact`,
    nControl,
    nTreatment,
    nUnit,
    controlValue: control,
    treatmentValue: treatment,
    estimate: d,
    ci: [d, d],
    // (a relative change of a control at or below 0 has no sign to trust, as relativeInterval says)
    relativeCi: control > 0 ? [d / control, d / control] : null,
    pValue: d === 0 ? 1 : pApart,
    controlSd: 0,
    degenerate: null,
    clustered,
    effectSign: sign(d),
  };
}

/**
 * Both arms without a single event (0 of n and 0 of m, e.g. no errors at all) or with nothing but
 * events: no test statistic exists, but the difference is still bounded. Newcombe's hybrid score
 * interval (his method 10, from the two Wilson intervals) gives [-u_control, u_treatment] around 0,
 * and Fisher's exact test of 0/n vs 0/m has p = 1 exactly.
 */
function noEvents(sa: UnitSums, sb: UnitSums, confidence: number, nUnit: 'units' | 'records'): MetricStats | null {
  const tally = (s: UnitSums) => {
    let x = 0;
    let n = 0;
    for (let k = 0; k < s.units; k++) {
      x += s.y[k]!;
      n += s.n[k]!;
    }
    return { x, n };
  };
  const a = tally(sa);
  const b = tally(sb);
  const allZero = a.x === 0 && b.x === 0;
  const allOne = a.x === a.n && b.x === b.n;
  if (!allZero && !allOne) return null;
  // over records: with no event (or only events) anywhere there is no within-unit correlation to
  // correct for, and an interval over units would bound a rate of 0 in 20k requests at +-6 points
  const wa = wilsonInterval(allZero ? 0 : a.n, a.n, confidence);
  const wb = wilsonInterval(allZero ? 0 : b.n, b.n, confidence);
  const p = allZero ? 0 : 1;
  const lo = -Math.sqrt((p - wa.ci.low!) ** 2 + (wb.ci.high! - p) ** 2);
  const hi = Math.sqrt((wa.ci.high! - p) ** 2 + (p - wb.ci.low!) ** 2);
  return {
    test: `Newcombe score interval (${allZero ? 'no events' : 'only events'} in either arm; Fisher exact p = 1)`,
    nControl: sa.units,
    nTreatment: sb.units,
    nUnit,
    controlValue: p,
    treatmentValue: p,
    estimate: 0,
    ci: [lo, hi],
    relativeCi: allZero ? null : [lo, hi],
    pValue: 1,
    controlSd: 0,
    degenerate: null,
    clustered: nUnit === 'units' && (sa.maxPerUnit > 1 || sb.maxPerUnit > 1),
    effectSign: 0,
  };
}

function medianSorted(s: Float64Array): number {
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
