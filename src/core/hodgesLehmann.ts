/**
 * The Hodges-Lehmann shift estimate and order statistics of the pairwise differences b_j - a_i,
 * computed without materialising the n*m differences.
 *
 * With a and b sorted ascending, the computed difference fl(b_j - a_i) is nondecreasing in j and
 * nonincreasing in i (floating-point subtraction is monotone), so for any value v the number of
 * differences <= v (and < v) is counted with two pointers in O(n + m). The k-th smallest
 * difference is found by narrowing a bracket of two actual differences: each pass counts around a
 * pivot and snaps the bracket to the nearest differences on either side of it (so ties and discrete
 * data end the search exactly), until the bracket holds few enough differences to list them and
 * select directly. The pivot is interpolated from the ranks at the bracket's ends (a secant step on
 * the differences' distribution function), or is the bracket's midpoint after an interpolated pass
 * that did not halve the bracket, so the search is never slower than bisection. Pivots choose only
 * the path, not the answer. On 900k x 100k latencies the median and two interval ends take 26
 * passes instead of bisection's 62 (about 0.1 s).
 *
 * The shift estimate is the median of all n*m differences (for an even count, the mean of the two
 * middle ones), as R's `wilcox.test(b, a, conf.int = TRUE)` reports for small samples
 * (`median(outer(b, a, "-"))`) and as Hodges & Lehmann (1963) define it.
 */
import { allFinite, checkSorted, sortedCopy } from './ranks.js';
import { ArgumentError, degenerate, type Outcome } from './types.js';

/** Below this many differences in the bracket, list them and select directly. */
const LIST_MIN = 1 << 16;

interface Pass {
  /** number of differences < v */
  lt: number;
  /** number of differences <= v */
  le: number;
  /** the smallest difference > v (Infinity if none) */
  above: number;
  /** the largest difference < v (-Infinity if none) */
  below: number;
}

function countPass(a: Float64Array, b: Float64Array, v: number): Pass {
  const n = a.length;
  const m = b.length;
  let pLt = 0; // first j with b_j - a_i >= v
  let pLe = 0; // first j with b_j - a_i > v
  let lt = 0;
  let le = 0;
  let above = Infinity;
  let below = -Infinity;
  for (let i = 0; i < n; i++) {
    const ai = a[i]!;
    while (pLt < m && b[pLt]! - ai < v) pLt++;
    if (pLe < pLt) pLe = pLt;
    while (pLe < m && b[pLe]! - ai <= v) pLe++;
    lt += pLt;
    le += pLe;
    if (pLe < m) {
      const d = b[pLe]! - ai;
      if (d < above) above = d;
    }
    if (pLt > 0) {
      const d = b[pLt - 1]! - ai;
      if (d > below) below = d;
    }
  }
  return { lt, le, above, below };
}

/** Every difference in [lo, hi], unordered. */
function listBetween(a: Float64Array, b: Float64Array, lo: number, hi: number, count: number): Float64Array {
  const out = new Float64Array(count);
  let k = 0;
  const m = b.length;
  let pLo = 0; // first j with b_j - a_i >= lo (moves forward as a_i grows)
  let pHi = 0; // first j with b_j - a_i > hi
  for (let i = 0; i < a.length; i++) {
    const ai = a[i]!;
    while (pLo < m && b[pLo]! - ai < lo) pLo++;
    if (pHi < pLo) pHi = pLo;
    while (pHi < m && b[pHi]! - ai <= hi) pHi++;
    for (let j = pLo; j < pHi; j++) out[k++] = b[j]! - ai;
  }
  if (k !== count) throw new Error(`internal: listed ${k} differences, expected ${count}`);
  return out;
}

/** In-place selection (Hoare partition, median-of-three): the k-th smallest (0-based) of x. */
function quickSelect(x: Float64Array, k: number): number {
  let lo = 0;
  let hi = x.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // median of three as pivot
    const p1 = x[lo]!;
    const p2 = x[mid]!;
    const p3 = x[hi]!;
    const pivot = p1 < p2 ? (p2 < p3 ? p2 : p1 < p3 ? p3 : p1) : p1 < p3 ? p1 : p2 < p3 ? p3 : p2;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (x[i]! < pivot) i++;
      while (x[j]! > pivot) j--;
      if (i <= j) {
        const t = x[i]!;
        x[i] = x[j]!;
        x[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return x[k]!;
  }
  return x[k]!;
}

/**
 * Order statistics of the n*m pairwise differences b_j - a_i of two ascending samples, without
 * listing them. The counting passes loop over the shorter sample (pointers run along the longer),
 * so when b is the shorter one the pair is transposed once: b_j - a_i = (-a)_i - (-b)_j, exactly.
 */
export class PairwiseDifferences {
  /** n*m */
  readonly count: number;
  private readonly outer: Float64Array;
  private readonly inner: Float64Array;
  /** counting passes over the samples so far (each O(n + m)), for tests and diagnostics */
  passes = 0;

  constructor(aSorted: Float64Array, bSorted: Float64Array) {
    if (aSorted.length === 0 || bSorted.length === 0) {
      throw new ArgumentError(aSorted.length === 0 ? 'aSorted' : 'bSorted', 'must not be empty');
    }
    this.count = aSorted.length * bSorted.length;
    if (aSorted.length <= bSorted.length) {
      this.outer = aSorted;
      this.inner = bSorted;
    } else {
      this.outer = negatedReversed(bSorted);
      this.inner = negatedReversed(aSorted);
    }
  }

  /** The k-th smallest difference (1-based, 1 <= k <= n*m). Exact: one of the computed differences. */
  kth(k: number): number {
    return this.search(k)[0];
  }

  /** The k-th and (k+1)-th smallest differences (1 <= k < n*m). */
  kthAndNext(k: number): [number, number] {
    const [x, next] = this.search(k, true);
    if (next !== undefined) return [x, next];
    const p = countPass(this.outer, this.inner, x);
    return [x, p.le >= k + 1 ? x : p.above];
  }

  /** Bracket search; with `wantNext`, also the (k+1)-th when it falls in the final listed bracket. */
  private search(k: number, wantNext = false): [number, number | undefined] {
    const a = this.outer;
    const b = this.inner;
    const n = a.length;
    const m = b.length;
    const total = this.count;
    const last = wantNext ? total - 1 : total;
    if (!(Number.isInteger(k) && k >= 1 && k <= last)) {
      throw new ArgumentError('k', `must be a whole number between 1 and ${last} (got ${k})`);
    }
    // bracket [lo, hi] of actual differences holding the answer, with below = #(< lo), upTo = #(<= hi)
    let lo = b[0]! - a[n - 1]!;
    let hi = b[m - 1]! - a[0]!;
    let below = 0;
    let upTo = total;
    const listLimit = Math.max(LIST_MIN, 2 * (n + m));
    let interpolate = true;
    for (;;) {
      if (lo === hi) return [lo, wantNext && k + 1 <= upTo ? lo : undefined];
      if (upTo - below <= listLimit) {
        const cand = listBetween(a, b, lo, hi, upTo - below);
        const idx = k - below - 1;
        const x = quickSelect(cand, idx);
        if (!wantNext || k + 1 > upTo) return [x, undefined];
        // after the selection every later entry is >= x: the next order statistic is their minimum
        let next = Infinity;
        for (let i = idx + 1; i < cand.length; i++) if (cand[i]! < next) next = cand[i]!;
        return [x, next];
      }
      // the pivot: where the rank k falls if the differences were spread evenly over [lo, hi]
      // (secant on their distribution function: few passes on smooth data), or the midpoint when
      // the last interpolated pivot did not at least halve the bracket (so never worse than bisection)
      let v = interpolate ? lo + ((k - below - 0.5) / (upTo - below)) * (hi - lo) : lo / 2 + hi / 2;
      if (!(v > lo && v < hi)) v = lo / 2 + hi / 2;
      if (!(v > lo && v < hi)) v = v <= lo ? hi : lo; // adjacent doubles: test an end itself
      const p = countPass(a, b, v);
      this.passes++;
      if (p.lt < k && k <= p.le) return [v, wantNext ? (k + 1 <= p.le ? v : p.above) : undefined]; // v has that rank
      const before = upTo - below;
      if (p.le < k) {
        lo = p.above;
        below = p.le;
      } else {
        hi = p.below;
        upTo = p.lt;
      }
      interpolate = interpolate ? 2 * (upTo - below) <= before : true;
    }
  }
}

function negatedReversed(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0, j = x.length - 1; j >= 0; i++, j--) out[i] = -x[j]!;
  return out;
}

/**
 * The k-th smallest (1-based, 1 <= k <= n*m) of the pairwise differences b_j - a_i of two ascending
 * samples, without listing all of them. Exact: returns one of the computed differences.
 */
export function kthPairwiseDifference(aSorted: Float64Array, bSorted: Float64Array, k: number): number {
  return new PairwiseDifferences(aSorted, bSorted).kth(k);
}

/**
 * The Hodges-Lehmann shift of two ascending samples: the median of the pairwise differences
 * b_j - a_i (for an even count, the mean of the two middle ones).
 */
export function hodgesLehmannSorted(aSorted: Float64Array, bSorted: Float64Array): number {
  checkSorted('aSorted', aSorted);
  checkSorted('bSorted', bSorted);
  return hodgesLehmannOf(new PairwiseDifferences(aSorted, bSorted));
}

/** @internal The Hodges-Lehmann shift from a prepared set of differences. */
export function hodgesLehmannOf(d: PairwiseDifferences): number {
  const total = d.count;
  const k = Math.floor((total + 1) / 2);
  if (total % 2 === 1) return d.kth(k);
  const [lowMid, highMid] = d.kthAndNext(k);
  const mean = (lowMid + highMid) / 2;
  return Number.isFinite(mean) ? mean : lowMid / 2 + highMid / 2;
}

export interface HodgesLehmannResult {
  /** median of all pairwise differences treatment - control */
  estimate: number;
  nControl: number;
  nTreatment: number;
}

/**
 * Hodges-Lehmann estimate of the shift of treatment (b) over control (a): the median of all n*m
 * pairwise differences b_j - a_i (for an even count, the mean of the two middle ones).
 * Same number as R's `median(outer(b, a, "-"))`, which `wilcox.test(b, a, conf.int = TRUE)`
 * reports as its estimate when it uses the exact distribution. Robust to outliers; computed in
 * O((n + m) log) time and O(n + m) memory.
 *
 * Example: a = [1, 2, 3], b = [2, 4, 6] gives differences 1,3,5,0,2,4,-1,1,3 and a shift of 2.
 */
export function hodgesLehmann(a: ArrayLike<number>, b: ArrayLike<number>): Outcome<HodgesLehmannResult> {
  if (a.length === 0 || b.length === 0) {
    return degenerate('empty-sample', `the ${a.length === 0 ? 'control' : 'treatment'} sample is empty`);
  }
  if (!allFinite(a) || !allFinite(b)) return degenerate('non-finite', 'the samples contain NaN or infinite values');
  const as = sortedCopy(a);
  const bs = sortedCopy(b);
  return { estimate: hodgesLehmannOf(new PairwiseDifferences(as, bs)), nControl: as.length, nTreatment: bs.length };
}
