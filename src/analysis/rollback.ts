/**
 * The canary rollback rule: slice time into windows; in each, compare the challenger's quantile of
 * a health field (p99 latency) with the champion's. The rule fires at the end of the
 * `consecutive`-th consecutive window whose ratio exceeds `max_ratio`. A window where either model
 * has fewer than `min_count` records cannot be judged: it is reported as insufficient and neither
 * breaks nor extends a streak (it never counts as healthy).
 *
 * `RollbackJudge` is incremental so `abtool watch` can feed it windows as they close; `evaluateRollback`
 * runs it over a whole log.
 */
import { quantile } from '../core/quantile.js';
import type { RollbackReport, RollbackWindow } from '../report/model.js';
import type { RollbackRule } from './spec.js';

export interface WindowValues {
  /** window start, epoch ms */
  start: number;
  control: Float64Array;
  treatment: Float64Array;
}

export class RollbackJudge {
  private streak = 0;
  /** windows that could not be judged since the streak began (they neither break nor extend it) */
  private skipped = 0;
  /** `skipped` when the rule fired */
  private skippedAtFire = 0;
  readonly windows: RollbackWindow[] = [];
  triggeredAt: number | null = null;

  constructor(readonly rule: RollbackRule) {}

  /** Judge one closed window; returns it, and whether the rule fired at its end. */
  judge(w: WindowValues): { window: RollbackWindow; fired: boolean } {
    const { rule } = this;
    const nC = w.control.length;
    const nT = w.treatment.length;
    const cq = nC > 0 ? quantile(w.control, rule.quantile) : null;
    const tq = nT > 0 ? quantile(w.treatment, rule.quantile) : null;
    const ratio = cq !== null && tq !== null && cq > 0 ? tq / cq : null;
    let status: RollbackWindow['status'];
    if (nC < rule.minCount || nT < rule.minCount || ratio === null) status = 'insufficient';
    else if (ratio > rule.maxRatio) status = 'breach';
    else status = 'healthy';
    if (status === 'breach') this.streak++;
    else if (status === 'healthy') this.streak = 0;
    if (this.streak === 0) this.skipped = 0;
    else if (status === 'insufficient') this.skipped++;
    const end = w.start + rule.windowMs;
    const window: RollbackWindow = {
      start: isoTime(w.start),
      end: isoTime(end),
      n_control: nC,
      n_treatment: nT,
      control_quantile: cq,
      treatment_quantile: tq,
      ratio,
      status,
      streak: this.streak,
    };
    this.windows.push(window);
    const fired = this.triggeredAt === null && status === 'breach' && this.streak >= rule.consecutive;
    if (fired) {
      this.triggeredAt = end;
      this.skippedAtFire = this.skipped;
    }
    return { window, fired };
  }

  report(): RollbackReport {
    const { rule } = this;
    const q = `p${Number((rule.quantile * 100).toPrecision(6))}`;
    let reason: string;
    if (this.triggeredAt !== null) {
      reason = `rollback fired at ${isoTime(this.triggeredAt)}: the challenger's ${q} ${rule.field} was above ${rule.maxRatio}x the champion's for ${rule.consecutive} consecutive ${rule.window} windows`;
      // a window that cannot be judged (too few records, or no ratio) neither breaks a streak nor extends it: say it was among them
      const k = this.skippedAtFire;
      if (k > 0) reason += ` judged (${k} window${k > 1 ? 's' : ''} among them could not be judged and ${k > 1 ? 'were' : 'was'} skipped)`;
    } else {
      const judged = this.windows.filter((w) => w.status !== 'insufficient').length;
      // why the others could not be judged: too few records, or enough but no ratio (the champion's quantile is 0 or below)
      const few = this.windows.filter((w) => w.status === 'insufficient' && (w.n_control < rule.minCount || w.n_treatment < rule.minCount)).length;
      const noRatio = this.windows.length - judged - few;
      const why = [
        few ? `${few} with too few records to judge (fewer than ${rule.minCount} per model)` : '',
        noRatio ? `${noRatio} where the champion's ${q} ${rule.field} is 0 or below, so there is no ratio` : '',
      ].filter((x) => x !== '');
      reason = `rollback rule did not fire: ${judged} window(s) judged${why.map((x) => `, ${x}`).join('')}`;
      if (judged === 0) {
        reason =
          noRatio === 0
            ? `rollback rule could not be evaluated: no window had at least ${rule.minCount} records per model`
            : `rollback rule could not be evaluated: no window could be judged (${why.join('; ')})`;
      }
    }
    return {
      field: rule.field,
      quantile: rule.quantile,
      max_ratio: rule.maxRatio,
      window: rule.window,
      consecutive: rule.consecutive,
      min_count: rule.minCount,
      triggered: this.triggeredAt !== null,
      triggered_at: this.triggeredAt === null ? null : isoTime(this.triggeredAt),
      reason,
      windows: this.windows,
    };
  }
}

/** Empty windows between two windows with records are judged (as insufficient) up to this many in a row. */
export const MAX_EMPTY_RUN = 60;

/** The largest time a Date holds, either side of 1970 (the range abtool accepts a ts in). */
const MAX_DATE_MS = 8.64e15;

/**
 * A window's time as ISO-8601: a window holding a ts at the very end of the range a Date holds
 * (+275760-09-13) ends past it, and is named as ending there (toISOString would throw).
 */
export function isoTime(ms: number): string {
  return new Date(Math.min(Math.max(ms, -MAX_DATE_MS), MAX_DATE_MS)).toISOString();
}

/**
 * Bucket records by window (aligned to multiples of the window length since the epoch) and judge
 * each window with records from the first to the last. Empty windows between them are judged too
 * (insufficient), except a run of more than MAX_EMPTY_RUN, which is skipped and reported: one
 * timestamp far off (seconds instead of milliseconds, a clock at 1970) must not create millions of
 * windows. Only windows that hold records cost memory.
 */
export function evaluateRollback(
  rule: RollbackRule,
  ts: Float64Array,
  values: Float64Array,
  rows: [Int32Array, Int32Array],
): { report: RollbackReport; missingTs: number; skippedEmpty: number } {
  const judge = new RollbackJudge(rule);
  const w = rule.windowMs;
  let missingTs = 0;
  // count per occupied window and model
  const counts = new Map<number, [number, number]>();
  for (let m = 0; m < 2; m++) {
    const r = rows[m]!;
    for (let j = 0; j < r.length; j++) {
      const i = r[j]!;
      const t = ts[i]!;
      if (Number.isNaN(t)) {
        missingTs++;
        continue;
      }
      if (Number.isNaN(values[i]!)) continue;
      const k = Math.floor(t / w);
      let c = counts.get(k);
      if (!c) counts.set(k, (c = [0, 0]));
      c[m]!++;
    }
  }
  const keys = [...counts.keys()].sort((a, b) => a - b);
  const offset = new Map<number, [number, number]>();
  const total = [0, 0];
  for (const k of keys) {
    const c = counts.get(k)!;
    offset.set(k, [total[0]!, total[1]!]);
    total[0]! += c[0];
    total[1]! += c[1];
  }
  const buckets = [new Float64Array(total[0]!), new Float64Array(total[1]!)];
  const fill = new Map<number, [number, number]>([...offset].map(([k, o]) => [k, [o[0], o[1]]]));
  for (let m = 0; m < 2; m++) {
    const r = rows[m]!;
    for (let j = 0; j < r.length; j++) {
      const i = r[j]!;
      const t = ts[i]!;
      const v = values[i]!;
      if (Number.isNaN(t) || Number.isNaN(v)) continue;
      const f = fill.get(Math.floor(t / w))!;
      buckets[m]![f[m]!++] = v;
    }
  }
  const empty = new Float64Array(0);
  let skippedEmpty = 0;
  let prev: number | null = null;
  for (const k of keys) {
    if (prev !== null && k - prev - 1 > 0) {
      const gap = k - prev - 1;
      if (gap <= MAX_EMPTY_RUN) {
        for (let e = prev + 1; e < k; e++) judge.judge({ start: e * w, control: empty, treatment: empty });
      } else skippedEmpty += gap;
    }
    const o = offset.get(k)!;
    const c = counts.get(k)!;
    judge.judge({
      start: k * w,
      control: buckets[0]!.subarray(o[0], o[0] + c[0]),
      treatment: buckets[1]!.subarray(o[1], o[1] + c[1]),
    });
    prev = k;
  }
  const report = judge.report();
  if (skippedEmpty > 0) {
    report.reason += `; ${skippedEmpty} empty ${rule.window} windows in long gaps between records were skipped (check for timestamps far from the rest, e.g. seconds instead of milliseconds)`;
  }
  if (missingTs > 0) report.reason += `; ${missingTs} records without a ts could not be placed in a window`;
  return { report, missingTs, skippedEmpty };
}
