/**
 * The distributions behind a verdict, for the report's charts: a latency CDF per model (quantiles at
 * 1%..99%, 99.5% and 99.9%) and a histogram per drift field with bins shared by both models.
 */
import { quantileSorted } from '../core/quantile.js';
import type { CdfReport, DistributionsReport, HistogramReport } from '../report/model.js';
import type { ColumnStore } from './aggregate.js';
import { SortedValues } from './metrics.js';
import type { ExperimentSpec } from './spec.js';

export const CDF_PROBABILITIES = [...Array.from({ length: 99 }, (_, k) => (k + 1) / 100), 0.995, 0.999];
const BINS = 30;

export function cdf(
  store: ColumnStore,
  field: string,
  rows: [Int32Array, Int32Array],
  names: [string, string],
  sorted: SortedValues = new SortedValues(),
): CdfReport | null {
  const c = store.columns.get(field);
  const arms = rows.map((r) => (c && c.kind === 'number' ? sorted.get(c.values, r) : null));
  if (arms.every((a) => !a || a.length === 0)) return null;
  const values: Record<string, (number | null)[]> = {};
  arms.forEach((a, m) => {
    values[names[m]!] = CDF_PROBABILITIES.map((p) => (a && a.length ? quantileSorted(a, p) : null));
  });
  return { field, probabilities: CDF_PROBABILITIES, values };
}

export function histogram(
  store: ColumnStore,
  field: string,
  rows: [Int32Array, Int32Array],
  names: [string, string],
  sorted: SortedValues = new SortedValues(),
): HistogramReport | null {
  const c = store.columns.get(field);
  if (!c || c.kind !== 'number') return null;
  // from the sorted present values (shared with the drift test): the range is at the ends, and a
  // value's bin only grows with the value, so each bin is a run found by bisection
  const arms = rows.map((r) => sorted.get(c.values, r));
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arms) {
    if (a.length === 0) continue;
    if (a[0]! < lo) lo = a[0]!;
    if (a[a.length - 1]! > hi) hi = a[a.length - 1]!;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  if (hi === lo) hi = lo + 1;
  const width = (hi - lo) / BINS;
  const edges = Array.from({ length: BINS + 1 }, (_, k) => lo + k * width);
  const bin = (v: number) => Math.min(BINS - 1, Math.floor((v - lo) / width));
  const counts: Record<string, number[]> = {};
  arms.forEach((a, m) => {
    const bins = new Array<number>(BINS).fill(0);
    let start = 0;
    while (start < a.length) {
      const b = bin(a[start]!);
      // the first index past the run of values in bin b
      let l = start + 1;
      let h = a.length;
      while (l < h) {
        const mid = (l + h) >>> 1;
        if (bin(a[mid]!) <= b) l = mid + 1;
        else h = mid;
      }
      bins[b]! += l - start;
      start = l;
    }
    counts[names[m]!] = bins;
  });
  return { field, edges, counts };
}

/** The latency-like field to draw: the contract's latency_ms, else the rollback field, else a quantile guardrail's. */
export function latencyField(spec: ExperimentSpec, store: ColumnStore): string | null {
  const candidates = ['latency_ms', spec.rollback?.field, ...spec.guardrails.filter((g) => g.type === 'quantile').map((g) => g.field)];
  for (const f of candidates) if (f && store.columns.get(f)?.kind === 'number') return f;
  return null;
}

export function distributions(
  spec: ExperimentSpec,
  store: ColumnStore,
  rows: [Int32Array, Int32Array],
  names: [string, string],
  sorted: SortedValues = new SortedValues(),
): DistributionsReport {
  const lat = latencyField(spec, store);
  return {
    latency: lat ? cdf(store, lat, rows, names, sorted) : null,
    histograms: spec.drift.map((d) => histogram(store, d.field, rows, names, sorted)).filter((h): h is HistogramReport => h !== null),
  };
}
