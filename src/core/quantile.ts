/**
 * Quantiles, and order statistics without a full sort.
 *
 * The definition is numpy's default (`np.quantile(x, q)`, method='linear'), which is R's
 * `quantile(x, q, type = 7)`: with the n values sorted x[0] <= ... <= x[n-1] (0-based), the
 * quantile sits at the virtual index h = (n - 1) q, between x[floor h] and x[floor h + 1]:
 *
 *   Q(q) = x[lo] + (x[lo + 1] - x[lo]) * t,   lo = floor(h), t = h - lo
 *
 * e.g. for x = [1, 2, 3, 4] and q = 0.25: h = 0.75, Q = 1 + (2 - 1) * 0.75 = 1.75 (numpy: 1.75;
 * R `quantile(1:4, 0.25)`: 1.75). The median is q = 0.5: the mean of the two middle values for
 * even n. The interpolation is done the way numpy does it (from the nearer end, `b - (b - a)(1 - t)`
 * when t >= 0.5), so results agree with numpy to the last bit or two.
 *
 * Values must not be NaN (sorting and selection need a total order); callers check for that.
 */
import { ArgumentError } from './types.js';

/** Where quantile q of n sorted values sits: x[lo] and x[lo + 1] weighted by t (0 <= t < 1). */
export interface QuantilePosition {
  lo: number;
  t: number;
}

/** The virtual index (n - 1) q of numpy's 'linear' method, split into its floor and fraction. */
export function quantilePosition(n: number, q: number): QuantilePosition {
  if (!(n >= 1) || !Number.isInteger(n)) throw new ArgumentError('n', `must be a positive integer (got ${n})`);
  if (!(q >= 0 && q <= 1)) throw new ArgumentError('q', `must be between 0 and 1 (got ${q})`);
  const h = (n - 1) * q;
  let lo = Math.floor(h);
  if (lo > n - 1) lo = n - 1;
  const t = h - lo;
  return { lo, t: lo >= n - 1 ? 0 : t };
}

/**
 * numpy's linear interpolation `_lerp(a, b, t)`: a + (b - a) t, computed from b's side when
 * t >= 0.5 so that t = 1 returns b exactly and the result is monotone in t.
 */
export function lerp(a: number, b: number, t: number): number {
  if (t === 0) return a;
  const d = b - a;
  return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

/**
 * Quantile q (0 <= q <= 1) of values already sorted ascending, numpy's default / R type 7.
 * `quantileSorted([1, 2, 3, 4], 0.5)` is 2.5; `quantileSorted([1, 2, 3, 4], 0.9)` is 3.7.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new ArgumentError('sorted', 'must hold at least one value');
  const { lo, t } = quantilePosition(n, q);
  return t === 0 ? sorted[lo]! : lerp(sorted[lo]!, sorted[lo + 1]!, t);
}

/**
 * Quantile q of unsorted values (not modified), numpy's default / R type 7, in O(n) expected time
 * by selection instead of an O(n log n) sort. Equivalent to `np.quantile(values, q)`.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new ArgumentError('values', 'must hold at least one value');
  const { lo, t } = quantilePosition(n, q);
  const work = Float64Array.from(values);
  const a = select(work, lo);
  if (t === 0) return a;
  // after selecting lo, everything right of it is >= work[lo]: the next order statistic is their minimum
  let b = Infinity;
  for (let i = lo + 1; i < n; i++) if (work[i]! < b) b = work[i]!;
  return lerp(a, b, t);
}

/**
 * Floyd & Rivest's selection (CACM 1975, Algorithm 489 "SELECT"): rearranges a[left..right] so
 * that a[k] holds the value it would have if that range were sorted, everything in left..k-1 is
 * <= a[k] and everything in k+1..right is >= a[k]. Returns a[k]. Expected time is linear with a
 * small constant: on large ranges it first recurses on a small sample around the expected rank
 * to pick a pivot that lands very close to k, so few elements are touched twice.
 */
export function select(a: Float64Array, k: number, left = 0, right = a.length - 1): number {
  if (!(k >= left && k <= right) || !Number.isInteger(k)) {
    throw new ArgumentError('k', `must be an index within [${left}, ${right}] (got ${k})`);
  }
  selectRange(a, k, left, right);
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function selectRange(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      // sample ~ n^(2/3) elements around the expected position of rank k and select in them first
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (m * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - m) * s) / n + sd));
      selectRange(a, k, newLeft, newRight);
    }
    // partition a[left..right] around t = a[k]
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) {
      swap(a, left, j);
    } else {
      j++;
      swap(a, j, right);
    }
    // now a[j] = t with smaller-or-equal values left of j, larger-or-equal right of it
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/** Every value at least the one before it (so no NaN, unless alone). */
function isAscending(x: Float64Array): boolean {
  for (let i = 1; i < x.length; i++) if (!(x[i]! >= x[i - 1]!)) return false;
  return x.length !== 1 || x[0] === x[0];
}

/**
 * Order statistics of a large sample, sorted only where they are needed. The bootstrap of a
 * quantile only ever looks at order statistics near one rank (the resampled p99 of a million
 * values stays within a few hundred ranks of the sample's p99), so this selects a window of
 * ranks [from, to] in linear time and sorts only the window. A rank outside the window is still
 * answered exactly: the first such access sorts that side (the values there are already the
 * right set, only unordered), so every answer is always the true order statistic.
 */
export class OrderStatistics {
  readonly n: number;
  private readonly work: Float64Array;
  private readonly from: number;
  private readonly to: number;
  private leftSorted: boolean;
  private rightSorted: boolean;

  /**
   * Copies `values` (not modified). With a window [from, to] (0-based ranks, clamped to the
   * sample), only those ranks are sorted up front; without one, everything is sorted. A
   * Float64Array already in ascending order (no NaN) is used as it is: not copied, never written.
   */
  constructor(values: ArrayLike<number>, window?: { from: number; to: number }) {
    const n = values.length;
    this.n = n;
    if (values instanceof Float64Array && isAscending(values)) {
      this.work = values;
      this.from = 0;
      this.to = n - 1;
      this.leftSorted = true;
      this.rightSorted = true;
      return;
    }
    this.work = Float64Array.from(values);
    let from = 0;
    let to = n - 1;
    if (window && n > 0) {
      from = Math.max(0, Math.min(n - 1, Math.floor(window.from)));
      to = Math.max(from, Math.min(n - 1, Math.ceil(window.to)));
    }
    // a window covering most of the sample is not worth the two selections
    if (to - from + 1 > n / 4) {
      from = 0;
      to = n - 1;
    }
    this.from = from;
    this.to = to;
    if (n > 0) {
      if (from > 0) selectRange(this.work, from, 0, n - 1);
      if (to < n - 1) selectRange(this.work, to, from, n - 1);
      this.work.subarray(from, to + 1).sort();
    }
    this.leftSorted = from === 0;
    this.rightSorted = to === n - 1;
  }

  /** The j-th smallest value (0-based rank), exactly. */
  at(j: number): number {
    if (j < this.from) {
      if (!this.leftSorted) {
        this.work.subarray(0, this.from).sort();
        this.leftSorted = true;
      }
    } else if (j > this.to) {
      if (!this.rightSorted) {
        this.work.subarray(this.to + 1, this.n).sort();
        this.rightSorted = true;
      }
    }
    const v = this.work[j];
    if (v === undefined || !Number.isInteger(j)) throw new ArgumentError('j', `must be a rank from 0 to ${this.n - 1} (got ${j})`);
    return v;
  }

  /** Quantile q of the sample (numpy's default / R type 7). */
  quantile(q: number): number {
    if (this.n === 0) throw new ArgumentError('values', 'must hold at least one value');
    const { lo, t } = quantilePosition(this.n, q);
    return t === 0 ? this.at(lo) : lerp(this.at(lo), this.at(lo + 1), t);
  }
}
