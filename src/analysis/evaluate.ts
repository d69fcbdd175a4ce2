/**
 * From the column store to the report: groups -> per-segment tests -> correction across segments ->
 * verdicts -> decisions. Pure: the caller reads the logs and the lock file and renders the result.
 */
import { adjustPValues } from '../core/multipleTesting.js';
import { sampleSize } from '../core/power.js';
import { sampleRatioMismatch } from '../core/sampleRatioMismatch.js';
import type { IngestAccount } from '../ingest/types.js';
import type {
  MetricReport,
  PreregistrationReport,
  Report,
  SegmentReport,
  ShadowReport,
  SrmReport,
  StickinessReport,
  TrustReport,
} from '../report/model.js';
import type { ColumnStore } from './aggregate.js';
import { formatP, guardrailVerdict, primaryVerdict, runDecision, segmentDecision, type UnitsNeeded } from './decide.js';
import { crossedUnitMask, dictColumn, segmentCode, segmentList, segmentRows, summaryOf, unitSegments, type SegmentRows, type SegmentSummary } from './groups.js';
import { checkLock, type SpecLock } from './lock.js';
import { computeMetric, prepareUnitSums, SortedValues, splitUnitSums, type Metric, type MetricContext, type MetricStats, type UnitSums, type UnitSumsCache } from './metrics.js';
import type { FieldRoles } from './readPlan.js';
import { distributions } from './distributions.js';
import { evaluateRollback } from './rollback.js';
import { agreement, drift, failures, judgeDrift, judgeFailures, latencyOverhead, pairByRequest, shadowSegmentRows } from './shadow.js';
import type { ExperimentSpec, GuardrailMetric } from './spec.js';

export const SRM_THRESHOLD = 0.001;
export const STICKINESS_THRESHOLD = 0.01;

export interface EvaluateOptions {
  specFile: string;
  lock: SpecLock | null;
  seed: number;
  resamples: number;
  version: string;
  now: Date;
}

/**
 * What the statistics of a segment need, as plain data and typed arrays, so that a worker thread can
 * take a share of the work (see parallel.ts). The results of a segment do not depend on where or
 * with which other segments it is computed.
 */
export interface SegmentWork {
  spec: ExperimentSpec;
  roles: FieldRoles;
  store: ColumnStore;
  /** per segment of segmentList: its rows, or null when this thread does not compute it */
  groups: (SegmentRows | null)[];
  seed: number;
  resamples: number;
}

/**
 * Which statistics of a segment: `sums` the metrics computed from per-unit sums (every metric but the
 * quantile ones), `values` those computed from the sorted values (the quantile metrics and the shadow
 * checks); `all` both. The two parts share nothing but the grouping, so two threads can take one each.
 */
export type StatPart = 'all' | 'sums' | 'values';

function inPart(metric: Metric, part: StatPart): boolean {
  return part === 'all' || (metric.type === 'quantile') === (part === 'values');
}

/** The statistics of some segments, in the order they were asked for. */
export interface SegmentResults {
  /**
   * per segment: each metric's statistics, primary first, then the guardrails in spec order; null for
   * a metric of the part not computed
   */
  stats: (MetricStats | null)[][];
  /** per segment: the shadow checks, or null when the spec asks for none (or the part is `sums`) */
  shadows: (ShadowReport | null)[];
}

/**
 * A SegmentWork before the rows are grouped: what a worker needs to group them itself, which
 * segments (indices into segmentList) and which part of their statistics it computes.
 */
export type SegmentInput = Omit<SegmentWork, 'groups'> & { which: number[]; part: StatPart };

/** The statistics of the segments a SegmentInput asked for, in its order, with what identifies and sizes them. */
export interface PartResults extends SegmentResults {
  summaries: SegmentSummary[];
}

/** Computes the statistics of some segments, grouping their rows itself; may run elsewhere (a worker thread, see parallel.ts). */
export interface SegmentRunner {
  run(input: SegmentInput): Promise<PartResults>;
}

/**
 * The rows of the overall segment and of every segment (of those in `want` only, when given), and
 * per unit the models it was seen under.
 */
export function groupsOf(
  spec: ExperimentSpec,
  roles: FieldRoles,
  store: ColumnStore,
  want?: ReadonlySet<number>,
): { groups: (SegmentRows | null)[]; mask: Uint8Array } {
  const unitCol = dictColumn(store, roles.unit);
  if (!unitCol) throw new Error(`internal: the unit column "${roles.unit}" was not read`);
  const mask = crossedUnitMask(store, unitCol);
  const groups = segmentRows(store, unitCol, spec.segments, mask, spec.stage !== 'shadow', want);
  return { groups, mask };
}

/** What a SegmentRunner computes: a part of the statistics of the segments input.which, grouping only their rows. */
export function computePart(input: SegmentInput): PartResults {
  const { which, part, ...rest } = input;
  const { groups } = groupsOf(input.spec, input.roles, input.store, new Set(which));
  const r = segmentResults({ ...rest, groups }, which, new SortedValues(), part);
  return { ...r, summaries: which.map((gi) => summaryOf(groupAt(groups, gi))) };
}

function groupAt(groups: (SegmentRows | null)[], gi: number): SegmentRows {
  const g = groups[gi];
  if (!g) throw new Error(`internal: segment ${gi} was not grouped on this thread`);
  return g;
}

function metricList(spec: ExperimentSpec): { metric: Metric; role: 'primary' | 'guardrail' }[] {
  return [
    ...(spec.primary ? [{ metric: spec.primary as Metric, role: 'primary' as const }] : []),
    ...spec.guardrails.map((g) => ({ metric: g as Metric, role: 'guardrail' as const })),
  ];
}

function wantsShadow(spec: ExperimentSpec): boolean {
  return spec.stage === 'shadow' || spec.agreement !== undefined || spec.drift.length > 0;
}

/**
 * The metric statistics and shadow checks (of the part asked) of the segments `which` (indices into
 * work.groups, 0 = overall). Raw p-values: the correction across segments is applied by the caller.
 */
export function segmentResults(work: SegmentWork, which: readonly number[], sorted: SortedValues, part: StatPart = 'all'): SegmentResults {
  const { spec, roles, store, groups } = work;
  const unitCol = dictColumn(store, roles.unit);
  if (!unitCol) throw new Error(`internal: the unit column "${roles.unit}" was not read`);
  const metrics = metricList(spec).map((m) => m.metric);
  const mine = metrics.filter((m) => inPart(m, part));
  const scratch = new Int32Array(unitCol.dict.size);
  const ctx = {
    store,
    unitCodes: unitCol.codes,
    unitCount: unitCol.dict.size,
    alpha: spec.alpha,
    resamples: work.resamples,
    seed: work.seed,
    unitIsRequest: spec.unit === 'request_id',
    sorted,
  };
  const names: [string, string] = [spec.control, spec.treatment];
  const split = new SplitSums(work, mine, ctx, scratch);
  const stats = which.map((gi) => {
    const g = groupAt(groups, gi);
    const cache = gi === 0 ? split.overall() : split.of(g.segment);
    prepareUnitSums(mine, g.rows, ctx, scratch, cache, g.units);
    return metrics.map((metric) => (inPart(metric, part) ? computeMetric(metric, g.rows, ctx, scratch, cache, g.units) : null));
  });
  const shadows = which.map((gi) =>
    part !== 'sums' && wantsShadow(spec) ? shadowReport(spec, roles, store, groupAt(groups, gi), names, sorted, gi === 0 ? 1 : groups.length - 1, gi === 0 ? null : groupAt(groups, 0)) : null,
  );
  return { stats, shadows };
}

/**
 * The per-unit sums of the segments of a field whose every unit lies in one of its segments (a
 * user's country, say): the overall segment's sums split by segment (splitUnitSums), instead of a
 * pass over each segment's rows. The same arrays, value for value; a segment of any other field
 * starts with an empty cache (its sums are computed from its rows).
 */
class SplitSums {
  private whole: UnitSumsCache | null = null;
  /**
   * The segment field whose segments are being computed: per unit its segment (null: the field does
   * not split units), and per summed field its split. A field's segments come one after another
   * (segmentList), so only one field's splits are kept at a time: each holds as much as the overall
   * segment's sums (with the unit as the request, a value per row).
   */
  private current: { field: string; of: Int32Array | null; split: Map<string, [UnitSums[], UnitSums[]]> } | null = null;

  constructor(
    private readonly work: SegmentWork,
    private readonly metrics: readonly Metric[],
    private readonly ctx: MetricContext,
    private readonly scratch: Int32Array,
  ) {}

  /** The overall segment's cache (filled by the caller's prepareUnitSums, or here when a segment needs it first). */
  overall(): UnitSumsCache {
    return (this.whole ??= new Map());
  }

  /** A cache holding what can be split from the overall segment's sums for this segment. */
  of(segment: Record<string, string>): UnitSumsCache {
    const cache: UnitSumsCache = new Map();
    const entries = Object.entries(segment);
    const whole = this.work.groups[0];
    // nothing to split when no metric of this part is summed per unit
    if (entries.length !== 1 || !whole || this.metrics.every((m) => m.type === 'quantile')) return cache;
    const [field, text] = entries[0]!;
    const col = dictColumn(this.work.store, field);
    const code = col ? segmentCode(col, text) : undefined;
    if (!col || code === undefined) return cache;
    let f = this.current;
    if (f === null || f.field !== field) this.current = f = { field, of: unitSegments(this.ctx.unitCodes, col.codes, this.ctx.unitCount), split: new Map() };
    if (f.of === null) return cache;
    if (f.split.size === 0) {
      const overall = this.overall();
      if (overall.size === 0) prepareUnitSums(this.metrics, whole.rows, this.ctx, this.scratch, overall, whole.units);
      // every summed field at once; fields summed in one pass share their units and counts, and so do their splits
      let like: [{ whole: UnitSums; parts: UnitSums[] }, { whole: UnitSums; parts: UnitSums[] }] | null = null;
      for (const [name, [a, b]] of overall) {
        const parts: [UnitSums[], UnitSums[]] = [splitUnitSums(a, f.of, col.dict.size, like?.[0]), splitUnitSums(b, f.of, col.dict.size, like?.[1])];
        f.split.set(name, parts);
        like ??= [
          { whole: a, parts: parts[0] },
          { whole: b, parts: parts[1] },
        ];
      }
      // after the last segment field's splits, the overall sums are not needed again
      if (field === this.work.spec.segments[this.work.spec.segments.length - 1]) this.whole = null;
    }
    for (const [name, parts] of f.split) cache.set(name, [parts[0][code]!, parts[1][code]!]);
    return cache;
  }
}

/**
 * Declare the segment fields that split the overall rows exactly: the overall segment's sorted values
 * are then merged from one grouped sort with its segments' (same arrays as sorting each on its own).
 */
export function sharedSorts(spec: ExperimentSpec, store: ColumnStore, groups: SegmentRows[]): SortedValues {
  const sorted = new SortedValues();
  for (const field of spec.segments) {
    const parts = groups.filter((g) => field in g.segment);
    for (const m of [0, 1] as const) {
      const whole = groups[0]!.rows[m];
      if (parts.length > 1 && parts.reduce((s, g) => s + g.rows[m].length, 0) === whole.length) {
        sorted.partition(whole, parts.map((g) => g.rows[m]), () => partTags(store, field, parts, whole));
      }
    }
  }
  return sorted;
}

/**
 * For each row of `whole`, the index in `parts` of the segment holding it, read from the segment
 * field's codes (one pass; SortedValues would otherwise mark every part's rows in a table the size of
 * the store). Null when the field is not dictionary-encoded or a row's code is not among the parts'
 * (then the parts do not split `whole` by its code, and SortedValues works the tags out itself).
 */
function partTags(store: ColumnStore, field: string, parts: SegmentRows[], whole: Int32Array): Int32Array | null {
  const col = dictColumn(store, field);
  if (!col) return null;
  const index = new Int32Array(col.dict.size).fill(-1);
  for (let k = 0; k < parts.length; k++) {
    const code = segmentCode(col, parts[k]!.segment[field]!);
    if (code === undefined) return null;
    index[code] = k;
  }
  const codes = col.codes;
  const tags = new Int32Array(whole.length);
  for (let j = 0; j < whole.length; j++) {
    const c = codes[whole[j]!]!;
    const k = c >= 0 ? index[c]! : -1;
    if (k < 0) return null;
    tags[j] = k;
  }
  return tags;
}

export function evaluate(spec: ExperimentSpec, roles: FieldRoles, store: ColumnStore, account: IngestAccount, opts: EvaluateOptions): Report {
  const work = prepare(spec, roles, store, opts);
  const groups = work.groups.map((_, gi) => groupAt(work.groups, gi));
  const sorted = sharedSorts(spec, store, groups);
  const results = segmentResults(work, groups.map((_, gi) => gi), sorted);
  return finish(work, account, opts, results, groups.map(summaryOf), sorted);
}

/**
 * The same report as evaluate, with the work shared by two threads: `runner` (a worker thread)
 * groups the rows and computes every segment's metrics on per-unit sums (StatPart `sums`) while this
 * thread groups them and computes what needs the sorted values (`values`: the quantile metrics and the
 * shadow checks, from one grouped sort per field as in evaluate). When the runner fails, or answers
 * for other segments (it never does: both group the same store the same way), this thread computes
 * its part too: the report is the same either way.
 */
export async function evaluateParallel(
  spec: ExperimentSpec,
  roles: FieldRoles,
  store: ColumnStore,
  account: IngestAccount,
  opts: EvaluateOptions,
  runner: SegmentRunner,
): Promise<Report> {
  const list = spec.segments.length > 0 ? segmentList(store, spec.segments) : [{}];
  const all = list.map((_, gi) => gi);
  const hasSums = metricList(spec).some(({ metric }) => inPart(metric, 'sums'));
  const pending: Promise<PartResults | null> =
    spec.segments.length > 0 && hasSums
      ? runner.run({ spec, roles, store, seed: opts.seed, resamples: opts.resamples, which: all, part: 'sums' }).then(
          (r) => r,
          () => null,
        )
      : Promise.resolve(null);
  const work = prepare(spec, roles, store, opts);
  const groups = work.groups.map((_, gi) => groupAt(work.groups, gi));
  const summaries = groups.map(summaryOf);
  const sorted = sharedSorts(spec, store, groups);
  const own = segmentResults(work, all, sorted, hasSums ? 'values' : 'all');
  if (!hasSums) return finish(work, account, opts, own, summaries, sorted);
  // worked out while the other thread may still be busy
  const facts = storeFacts(work);
  const got = await pending;
  const theirs = got && sameSegments(got, summaries) && complete(got, spec) ? got : segmentResults(work, all, sorted, 'sums');
  const stats = own.stats.map((row, gi) => row.map((s, k) => s ?? theirs.stats[gi]![k]!));
  return finish(work, account, opts, { stats, shadows: own.shadows }, summaries, sorted, facts);
}

/**
 * A warning when segments of a field read as the same text: values that are not valid UTF-8 (Latin-1
 * text in a log, say) are distinct values, and segments, that all read with U+FFFD in place of the
 * bytes that are not; the report cannot tell them apart by name, only by their order.
 */
function sameTextSegments(groups: readonly SegmentSummary[], field: string): string | null {
  const count = new Map<string, number>();
  for (const g of groups) {
    const text = g.segment[field];
    if (text !== undefined) count.set(text, (count.get(text) ?? 0) + 1);
  }
  const twice = [...count].filter(([, n]) => n > 1);
  if (twice.length === 0) return null;
  const list = twice.map(([text, n]) => `${n} read as ${JSON.stringify(text)}`).join(', ');
  return `segment field "${field}" has values that are not valid UTF-8 and read as the same text (${list}): each is its own segment (in the order they first appear in the logs), under the same name`;
}

/**
 * A warning when latency_ms holds values below 0 (a clock stepped back, a logging bug): they are used
 * as logged, in means, ranks, quantiles and the rollback rule, so the report says how many there are.
 */
function negativeLatencies(store: ColumnStore, names: [string, string]): string | null {
  const c = store.columns.get('latency_ms');
  if (!c || c.kind !== 'number') return null;
  const n = [0, 0];
  let min = 0;
  const { values } = c;
  const model = store.model;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0) {
      const m = model[i]!;
      if (m < 2) n[m]!++;
      if (v < min) min = v;
    }
  }
  if (n[0]! + n[1]! === 0) return null;
  return `latency_ms has ${n[0]! + n[1]!} negative value(s) (${names[0]}: ${n[0]}, ${names[1]}: ${n[1]}; the lowest ${min}): they are analysed as logged; a latency below 0 is usually a clock or logging error`;
}

function missing(what: string): never {
  throw new Error(`internal: no statistics for ${what}`);
}

/** The runner's answer has, for every segment, a result for every metric of its part (`sums`). */
function complete(got: PartResults, spec: ExperimentSpec): boolean {
  const metrics = metricList(spec).map((m) => m.metric);
  return got.stats.every((row) => row?.length === metrics.length && metrics.every((m, k) => !inPart(m, 'sums') || (row[k] !== null && row[k] !== undefined)));
}

/** The runner's answer is for every segment, in order, with the same rows and units, one result each. */
function sameSegments(got: PartResults, summaries: SegmentSummary[]): boolean {
  const n = summaries.length;
  if (got.stats?.length !== n || got.shadows?.length !== n || got.summaries?.length !== n) return false;
  return got.summaries.every((s, k) => JSON.stringify(s) === JSON.stringify(summaries[k]));
}

/** The work, and per unit the models it was seen under (bit 0 control, bit 1 treatment). */
interface Prepared extends SegmentWork {
  mask: Uint8Array;
}

function prepare(spec: ExperimentSpec, roles: FieldRoles, store: ColumnStore, opts: EvaluateOptions, want?: ReadonlySet<number>): Prepared {
  const { groups, mask } = groupsOf(spec, roles, store, want);
  return { spec, roles, store, groups, seed: opts.seed, resamples: opts.resamples, mask };
}

/** What finish reads from every row (or unit) of the store, apart from the statistics. */
interface StoreFacts {
  /** the lowest and highest ts (Infinity and -Infinity without one) */
  tMin: number;
  tMax: number;
  /** ts values present, and those before 2001 or after 2100 (epoch seconds or microseconds read as milliseconds, or a stray value) */
  tsCount: number;
  tsOutside: number;
  /** the warning on negative latencies, if any */
  negative: string | null;
  /** units seen, and those seen under both models */
  seenUnits: number;
  crossed: number;
}

/**
 * StoreFacts, in loops of their own (compiled as loops while they run). evaluateParallel has them
 * worked out while the other thread is still busy, not after: they take ~10-20 ms on 1M rows.
 */
function storeFacts(work: Prepared): StoreFacts {
  const { spec, roles, store, mask } = work;
  const tsCol = roles.ts ? store.columns.get(roles.ts) : undefined;
  const [tMin, tMax, tsCount, tsOutside] = tsCol && tsCol.kind === 'number' ? span(tsCol.values) : [Infinity, -Infinity, 0, 0];
  const [seenUnits, crossed] = unitCounts(mask);
  return { tMin, tMax, tsCount, tsOutside, negative: negativeLatencies(store, [spec.control, spec.treatment]), seenUnits, crossed };
}

/** Epoch milliseconds of 2001-01-01 and 2100-01-01: ts values outside look like seconds or microseconds. */
const TS_LOW = 978_307_200_000;
const TS_HIGH = 4_102_444_800_000;

/** The lowest and highest of the ts values (NaN skipped; Infinity and -Infinity when there is none), how many there are, and how many lie outside [TS_LOW, TS_HIGH]. */
function span(values: Float64Array): [number, number, number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  let count = 0;
  let outside = 0;
  for (let i = 0; i < values.length; i++) {
    const t = values[i]!;
    if (t !== t) continue;
    count++;
    if (t < TS_LOW || t > TS_HIGH) outside++;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return [lo, hi, count, outside];
}

/** Units seen (a nonzero mask), and those seen under both models (mask 3). */
function unitCounts(mask: Uint8Array): [number, number] {
  let seen = 0;
  let crossed = 0;
  for (let u = 0; u < mask.length; u++) {
    const m = mask[u]!;
    if (m !== 0) seen++;
    if (m === 3) crossed++;
  }
  return [seen, crossed];
}

/** The report from every segment's statistics and summary (work.groups[0], the overall segment's rows, for the rollback rule). */
function finish(work: Prepared, account: IngestAccount, opts: EvaluateOptions, results: SegmentResults, groups: SegmentSummary[], sorted: SortedValues, facts: StoreFacts = storeFacts(work)): Report {
  const { spec, roles, store } = work;
  const names: [string, string] = [spec.control, spec.treatment];
  const trustApplies = spec.stage !== 'shadow';
  // time span of the data
  const tsCol = roles.ts ? store.columns.get(roles.ts) : undefined;
  const { tMin, tMax } = facts;
  const firstTs = Number.isFinite(tMin) ? tMin : null;
  // more than 1% of the ts values before 2001 or after 2100: epoch seconds or microseconds given as
  // milliseconds, in all the logs or some (the rollback rule's windows would be wrong); fewer: stray
  // values, said in a warning
  const tsSuspicious = facts.tsOutside > 0 && 100 * facts.tsOutside > facts.tsCount;
  // (only when some are: without any ts value the span has no dates)
  const outside = facts.tsOutside > 0 ? `${facts.tsOutside} of ${facts.tsCount} ts values lie before 2001 or after 2100 (the data run from ${new Date(tMin).toISOString()} to ${new Date(tMax).toISOString()})` : '';

  const warnings: string[] = [];
  if (tsSuspicious) {
    warnings.push(`${outside}: they look like epoch seconds or microseconds, but the contract's numeric ts is epoch milliseconds`);
  } else if (facts.tsOutside > 0) {
    warnings.push(`${outside}: they are analysed as logged; check them`);
  }
  for (const s of account.skipped ?? []) warnings.push(`skipped ${s.path}: ${s.reason}`);
  for (const n of account.notes ?? []) warnings.push(n);
  if (facts.negative !== null) warnings.push(facts.negative);
  for (const f of spec.segments) {
    if (!store.columns.has(f) || groups.every((g) => !(f in g.segment))) {
      warnings.push(`segment field "${f}" has no values in the logs: no "${f}" segments were analysed (check the field name or the spec's "fields" mapping)`);
    }
    const same = sameTextSegments(groups, f);
    if (same !== null) warnings.push(same);
  }

  // pre-registration
  const lock = checkLock(spec, opts.lock, firstTs);
  const prereg: PreregistrationReport = { status: lock.status, reason: lock.reason, registered_at: lock.registeredAt ?? null };

  // metric statistics per segment
  const metrics = metricList(spec);
  const stats = results.stats.map((row, gi) => row.map((st, k) => st ?? missing(`metric ${k} of segment ${gi}`)));

  // correction across segments (the overall segment is the pre-registered analysis and stays as is)
  const adjusted: (number | null)[][] = stats.map((row) => row.map((s) => s.pValue));
  if (groups.length > 2) {
    for (let k = 0; k < metrics.length; k++) {
      const idx: number[] = [];
      const ps: number[] = [];
      for (let g = 1; g < groups.length; g++) {
        const p = stats[g]![k]!.pValue;
        if (p !== null) {
          idx.push(g);
          ps.push(p);
        }
      }
      if (ps.length) {
        const r = adjustPValues(ps, spec.correction, spec.alpha);
        idx.forEach((g, j) => (adjusted[g]![k] = r.adjusted[j]!));
      }
    }
  }

  // stickiness (whole experiment)
  const { crossed, seenUnits } = facts;
  const stickiness: StickinessReport | null = trustApplies ? stickinessReport(seenUnits, crossed, spec.unit) : null;

  // rollback (whole experiment)
  let rollback: Report['rollback'];
  if (spec.rollback) {
    const field = store.columns.get(spec.rollback.field);
    const overall = groupAt(work.groups, 0);
    if (tsCol && tsCol.kind === 'number' && field && field.kind === 'number') {
      rollback = evaluateRollback(spec.rollback, tsCol.values, field.values, overall.rows).report;
      if (tsSuspicious) {
        rollback.reason = `rollback rule not judged: ${outside}, which looks like epoch seconds (or microseconds) where milliseconds belong`;
        rollback.triggered = false;
        rollback.triggered_at = null;
        for (const w of rollback.windows) w.status = 'insufficient';
      }
    } else {
      rollback = {
        field: spec.rollback.field,
        quantile: spec.rollback.quantile,
        max_ratio: spec.rollback.maxRatio,
        window: spec.rollback.window,
        consecutive: spec.rollback.consecutive,
        min_count: spec.rollback.minCount,
        triggered: false,
        triggered_at: null,
        reason: `rollback rule could not be evaluated: the logs have no ${!field ? `"${spec.rollback.field}"` : '"ts"'} values`,
        windows: [],
      };
    }
  }

  // shadow checks per segment; their p-values are adjusted across segments like the metrics'
  const wantShadow = wantsShadow(spec);
  const shadows = wantShadow ? (results.shadows as ShadowReport[]) : [];
  if (wantShadow) adjustShadow(shadows, spec);

  const segments: SegmentReport[] = groups.map((g, gi) => {
    const isOverall = gi === 0;
    const metricReports: MetricReport[] = metrics.map(({ metric, role }, k) => {
      const s = stats[gi]![k]!;
      const pAdj = adjusted[gi]![k]!;
      const wasAdjusted = !isOverall && groups.length > 2 && spec.correction !== 'none' && s.pValue !== null;
      let verdict;
      let tolerance: MetricReport['tolerance'] = null;
      let nNeeded: UnitsNeeded | null = null;
      if (role === 'primary') {
        nNeeded = unitsNeeded(spec, metric, s);
        verdict = primaryVerdict(metric, s, pAdj, spec.alpha, nNeeded, wasAdjusted);
      } else {
        const v = guardrailVerdict(metric as GuardrailMetric, s, pAdj, spec.alpha);
        tolerance = v.tolerance;
        verdict = v;
      }
      const r: MetricReport = {
        name: metric.name,
        role,
        field: metric.field,
        type: metric.type,
        direction: metric.direction,
        test: s.test,
        n_control: s.nControl,
        n_treatment: s.nTreatment,
        n_unit: s.nUnit,
        control_value: s.controlValue,
        treatment_value: s.treatmentValue,
        estimate: s.estimate,
        relative_change: s.estimate !== null && s.controlValue ? s.estimate / Math.abs(s.controlValue) : null,
        ci: s.ci,
        relative_ci: s.relativeCi,
        confidence: 1 - spec.alpha,
        p_value: s.pValue,
        p_value_adjusted: pAdj,
        verdict: verdict.verdict,
        reason: verdict.reason,
      };
      if (role === 'guardrail') r.tolerance = tolerance;
      if (role === 'primary') r.n_needed = nNeeded;
      return r;
    });

    const srm = trustApplies && spec.allocation ? srmReport(g, spec, names) : null;
    const invalidReasons: string[] = [];
    if (isOverall && trustApplies && (g.units[0] === 0 || g.units[1] === 0)) {
      invalidReasons.push(`the ${g.units[0] === 0 ? `control (${names[0]})` : `treatment (${names[1]})`} arm has no units at all: nothing can be compared (is the model name in the spec the one in the logs?)`);
    }
    if (srm?.mismatch) invalidReasons.push(srm.reason);
    if (trustApplies) {
      const share = g.totalUnits > 0 ? g.crossedUnits / g.totalUnits : 0;
      if (share > STICKINESS_THRESHOLD) {
        invalidReasons.push(`sticky assignment broken: ${g.crossedUnits} of ${g.totalUnits} units (${(100 * share).toFixed(2)}%) were served by both models (limit ${100 * STICKINESS_THRESHOLD}%)`);
      }
    }
    if (isOverall && prereg.status === 'changed') invalidReasons.push(prereg.reason);

    const checks: { ok: boolean | null; reason: string; required?: boolean }[] = [];
    const shadow: ShadowReport | undefined = wantShadow ? shadows[gi] : undefined;
    if (shadow) {
      const label = (ok: boolean | null, what: string) => (ok === false ? `${what} out of bounds` : what);
      if (shadow.agreement && spec.agreement) checks.push({ ok: shadow.agreement.ok, reason: `${label(shadow.agreement.ok, 'agreement')}: ${shadow.agreement.reason}` });
      for (const d of shadow.drift) checks.push({ ok: d.ok, reason: `${label(d.ok, 'drift')}: ${d.reason}` });
      if (shadow.failures) checks.push({ ok: shadow.failures.ok, reason: `${label(shadow.failures.ok, 'challenger failures')}: ${shadow.failures.reason}` });
      if (spec.stage === 'shadow' && g.n[0] + g.n[1] > 0 && shadow.failures && shadow.failures.unpaired_control === g.n[0]) {
        checks.push({ ok: false, reason: `not a shadow log: none of the ${g.n[0]} requests the champion answered was also scored by the challenger (both models must log the same request_id)` });
      }
    }
    if (isOverall && rollback) {
      const judged = rollback.windows.some((w) => w.status !== 'insufficient');
      // a rule no window could be judged against has not shown the canary healthy: it blocks a go
      checks.push({ ok: rollback.triggered ? false : judged ? true : null, reason: rollback.reason, required: true });
    }

    const { decision, reasons } = segmentDecision({ invalidReasons, metrics: metricReports, checks, hasPrimary: spec.primary !== undefined });
    const seg: SegmentReport = {
      segment: g.segment,
      decision,
      reasons,
      units: { [names[0]]: g.units[0], [names[1]]: g.units[1] },
      srm,
      metrics: metricReports,
    };
    if (shadow) seg.shadow = shadow;
    return seg;
  });

  const run = runDecision(segments);
  const trust: TrustReport = {
    applies: trustApplies,
    srm: segments[0]!.srm,
    stickiness,
    duplicates: account.rejections.duplicate?.count ?? 0,
    preregistration: prereg,
    ok: segments[0]!.decision !== 'invalid',
    reasons: segments[0]!.decision === 'invalid' ? segments[0]!.reasons : [],
  };
  const report: Report = {
    abtool_version: opts.version,
    spec: {
      name: spec.name,
      stage: spec.stage,
      control: spec.control,
      treatment: spec.treatment,
      unit: spec.unit,
      alpha: spec.alpha,
      correction: spec.correction,
      file: opts.specFile,
    },
    decision: run.decision,
    reasons: run.reasons,
    segments,
    trust,
    input: {
      rows_read: groups[0]!.n[0] + groups[0]!.n[1],
      rows_excluded: account.rowsRead - (groups[0]!.n[0] + groups[0]!.n[1]),
      rows_rejected: account.rowsRejected,
      rows_seen: account.rowsSeen,
      rejections: account.rejections,
      unknown_models: account.unknownModels,
      missing: account.missing,
      files: account.files,
    },
    generated_at: opts.now.toISOString(),
    warnings,
    data_from: firstTs === null ? null : new Date(tMin).toISOString(),
    data_to: Number.isFinite(tMax) ? new Date(tMax).toISOString() : null,
  };
  if (rollback) report.rollback = rollback;
  report.distributions = distributions(spec, store, groupAt(work.groups, 0).rows, names, sorted);
  return report;
}

function stickinessReport(units: number, crossed: number, unit: string): StickinessReport {
  const share = units > 0 ? crossed / units : 0;
  const broken = share > STICKINESS_THRESHOLD;
  return {
    units,
    units_in_both: crossed,
    share_in_both: share,
    threshold: STICKINESS_THRESHOLD,
    broken,
    reason: crossed === 0
      ? `sticky assignment holds: no ${unit} was served by both models`
      : `${crossed} of ${units} units (${(100 * share).toFixed(2)}%) were served by both models and are excluded${broken ? `: above the ${100 * STICKINESS_THRESHOLD}% limit, assignment is broken` : ''}`,
  };
}

function srmReport(g: SegmentSummary, spec: ExperimentSpec, names: [string, string]): SrmReport {
  const alloc = spec.allocation!;
  const observed = { [names[0]]: g.units[0], [names[1]]: g.units[1] };
  const expected_share = { [names[0]]: alloc.control, [names[1]]: alloc.treatment };
  const total = g.units[0] + g.units[1];
  const observed_share = { [names[0]]: total ? g.units[0] / total : 0, [names[1]]: total ? g.units[1] / total : 0 };
  const r = sampleRatioMismatch(g.units, [alloc.control, alloc.treatment]);
  if (r.degenerate) {
    return { observed, expected_share, observed_share, statistic: null, p_value: null, mismatch: false, reason: `sample ratio not checked: ${r.reason}` };
  }
  const mismatch = r.pValue < SRM_THRESHOLD;
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const pv = formatP(r.pValue);
  return {
    observed,
    expected_share,
    observed_share,
    statistic: r.statistic,
    p_value: r.pValue,
    mismatch,
    reason: mismatch
      ? `sample ratio mismatch: ${g.units[1]} treatment units of ${total} (${pct(observed_share[names[1]]!)}) where ${pct(alloc.treatment)} was planned (${pv} < ${SRM_THRESHOLD}): assignment or logging is broken, results cannot be trusted`
      : `sample ratio as planned: ${pct(observed_share[names[1]]!)} treatment units vs ${pct(alloc.treatment)} planned (${pv})`,
  };
}

/**
 * Units each arm needs for the spec's mde at its alpha and power, from the control's observed value:
 * R's power.prop.test for a proportion with one record per unit, power.t.test with the observed
 * standard deviation of the analysis values (per unit, delta-method linearised) otherwise.
 */
function unitsNeeded(spec: ExperimentSpec, metric: Metric, s: MetricStats): UnitsNeeded | null {
  const mde = 'mde' in metric ? metric.mde : undefined;
  if (!mde || s.controlValue === null) return null;
  const ratio = spec.allocation ? spec.allocation.treatment / spec.allocation.control : 1;
  const effect = mde.relative ? mde.value * Math.abs(s.controlValue) : mde.value;
  if (!(effect > 0)) return null;
  const signed = metric.direction === 'decrease' ? -effect : effect;
  try {
    if (metric.type === 'proportion' && !s.clustered) {
      const p = s.controlValue;
      if (!(p > 0 && p < 1 && p + signed > 0 && p + signed < 1)) return null;
      const n = sampleSize({ kind: 'proportion', baseline: p, mde: signed, alpha: spec.alpha, alternative: 'two-sided', ratio }, spec.power);
      return { control: n.nControl, treatment: n.nTreatment };
    }
    if (s.controlSd !== null && s.controlSd > 0 && (metric.type === 'mean' || metric.type === 'proportion')) {
      const n = sampleSize({ kind: 'mean', sd: s.controlSd, mde: effect, alpha: spec.alpha, alternative: 'two-sided', ratio }, spec.power);
      return { control: n.nControl, treatment: n.nTreatment };
    }
  } catch {
    return null;
  }
  return null;
}

/** Adjust drift and failure p-values across the segments (not the overall one) and re-judge them. */
function adjustShadow(shadows: ShadowReport[], spec: ExperimentSpec): void {
  const adjust = (ps: (number | null)[]): (number | null)[] => {
    const out = [...ps];
    if (shadows.length <= 2 || spec.correction === 'none') return out;
    const idx: number[] = [];
    const vals: number[] = [];
    for (let g = 1; g < ps.length; g++) {
      if (ps[g] !== null) {
        idx.push(g);
        vals.push(ps[g]!);
      }
    }
    if (vals.length) {
      const r = adjustPValues(vals, spec.correction, spec.alpha);
      idx.forEach((g, j) => (out[g] = r.adjusted[j]!));
    }
    return out;
  };
  spec.drift.forEach((_, k) => {
    const adj = adjust(shadows.map((s) => s.drift[k]!.p_value));
    shadows.forEach((s, g) => (s.drift[k] = judgeDrift(s.drift[k]!, adj[g]!, spec.alpha)));
  });
  const adj = adjust(shadows.map((s) => s.failures?.p_value ?? null));
  shadows.forEach((s, g) => {
    const f = s.failures;
    if (!f) return;
    const rates = Object.values(f.failure_rate);
    const j = judgeFailures({ rateControl: rates[0] ?? null, rateTreatment: rates[1] ?? null, p: f.p_value, counts: f.summary }, adj[g]!, spec.alpha);
    f.ok = j.ok;
    f.reason = j.reason;
    f.p_value_adjusted = adj[g]!;
  });
}

/**
 * `segments`: how many segments this one is judged among (1 for the overall): a segment's agreement
 * is judged at alpha / segments (Bonferroni: its interval is a simultaneous one, as the drift and
 * failure checks' p-values are corrected across segments), unless the spec's correction is none.
 */
function shadowReport(
  spec: ExperimentSpec,
  roles: FieldRoles,
  store: ColumnStore,
  group: SegmentRows,
  names: [string, string],
  sorted: SortedValues,
  segments = 1,
  overall: SegmentRows | null = null,
): ShadowReport {
  const request = roles.request ? dictColumn(store, roles.request) : null;
  // in the shadow stage a segment's requests are those whose champion's record is in it (shadow.ts shadowSegmentRows)
  const g = overall !== null && request !== null && spec.stage === 'shadow' ? { ...group, rows: shadowSegmentRows(request, group.rows, overall.rows) } : group;
  const predictionColumn = roles.prediction ? dictColumn(store, roles.prediction) : null;
  // a prediction field with no value at all is a field the logs do not have
  const prediction = predictionColumn && predictionColumn.codes.some((c) => c >= 0) ? predictionColumn : null;
  // pairing by request is only needed for the shadow stage's agreement and failures
  const needPairs = spec.stage === 'shadow' || spec.agreement !== undefined;
  const pairs = request && needPairs ? pairByRequest(request, g.rows) : null;
  const agreementField = spec.agreement?.field ?? roles.prediction ?? 'prediction';
  return {
    agreement:
      pairs && (spec.stage === 'shadow' || spec.agreement)
        ? agreement(prediction, pairs, spec.agreement, agreementField, spec.alpha, segments > 1 && spec.correction !== 'none' ? segments : 1)
        : null,
    drift: spec.drift.map((d) => drift(store, d, g.rows, sorted)),
    failures: pairs && spec.stage === 'shadow' ? failures(store, roles.error, prediction, pairs, g.rows, names, spec.alpha) : null,
    latency: latencyOverhead(store, roles.latency, g.rows, names, sorted),
  };
}
