/**
 * Rank bookkeeping on two sorted samples, shared by the rank tests (Mann-Whitney U, Hodges-Lehmann,
 * two-sample Kolmogorov-Smirnov).
 *
 * The analysis sorts each column once and reuses the order for ranks, KS and quantiles, so every
 * function here takes ascending Float64Arrays and walks them in one merge pass: O(n + m), no pooled
 * copy, no rank vector.
 */
import { ArgumentError, degenerate, type Degenerate } from './types.js';

/** An ascending copy of a sample (typed-array sort is numeric; NaN would sort last, callers reject it first). */
export function sortedCopy(x: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(x);
  out.sort();
  return out;
}

/** Throws an ArgumentError naming `argument` unless `x` is ascending; NaN is reported as not sorted. */
export function checkSorted(argument: string, x: Float64Array): void {
  for (let i = 1; i < x.length; i++) {
    if (!(x[i - 1]! <= x[i]!)) {
      throw new ArgumentError(argument, `must be sorted ascending (position ${i} holds ${x[i]} after ${x[i - 1]})`);
    }
  }
}

/** True when every value is finite (no NaN, no Infinity). */
export function allFinite(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false;
  return true;
}

/**
 * The checks every two-sample rank procedure makes on its sorted inputs: an empty sample or a
 * non-finite value is degenerate data (returned); unsorted input is misuse (thrown, naming it).
 */
export function checkSortedPair(aSorted: Float64Array, bSorted: Float64Array): Degenerate | null {
  if (aSorted.length === 0 || bSorted.length === 0) {
    return degenerate('empty-sample', `the ${aSorted.length === 0 ? 'control' : 'treatment'} sample is empty`);
  }
  if (!allFinite(aSorted) || !allFinite(bSorted)) return degenerate('non-finite', 'the samples contain NaN or infinite values');
  checkSorted('aSorted', aSorted);
  checkSorted('bSorted', bSorted);
  return null;
}

/** Throws an ArgumentError naming `method` unless it is one of `allowed`. */
export function checkMethod<M extends string>(method: string, allowed: readonly M[]): M {
  if (!(allowed as readonly string[]).includes(method)) {
    throw new ArgumentError('method', `must be one of ${allowed.join(', ')} (got "${method}")`);
  }
  return method as M;
}

/** Sum of t^3 - t over the groups of equal values of one sorted sample (the tie-correction term). */
export function tieTermSorted(x: Float64Array): number {
  let term = 0;
  let i = 0;
  while (i < x.length) {
    let j = i + 1;
    while (j < x.length && x[j] === x[i]) j++;
    const t = j - i;
    term += t * t * t - t;
    i = j;
  }
  return term;
}

export interface PooledRanks {
  /**
   * Mann-Whitney U of b: the number of pairs (a_i, b_j) with b_j > a_i, plus half the pairs with
   * b_j = a_i. Equal to (rank sum of b in the pooled sample, midranks for ties) - n_b (n_b + 1) / 2.
   */
  uB: number;
  /** Sum of t^3 - t over the groups of equal values in the pooled sample (0 without ties). */
  tieTerm: number;
  /** Number of distinct values in the pooled sample. */
  distinct: number;
}

/** U of b and the pooled tie term, from two ascending samples in one merge pass. */
export function pooledRanksSorted(a: Float64Array, b: Float64Array): PooledRanks {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  // twice U, so every step adds an integer (exact in a double up to 2^53)
  let twoU = 0;
  let tieTerm = 0;
  let distinct = 0;
  while (i < n || j < m) {
    const v = j >= m || (i < n && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let ca = 0;
    while (i < n && a[i] === v) {
      i++;
      ca++;
    }
    let cb = 0;
    while (j < m && b[j] === v) {
      j++;
      cb++;
    }
    // the cb values of b equal to v sit above the (i - ca) smaller values of a and tie with ca of them
    twoU += cb * (2 * (i - ca) + ca);
    const t = ca + cb;
    tieTerm += t * t * t - t;
    distinct++;
  }
  return { uB: twoU / 2, tieTerm, distinct };
}

/** Sizes of the groups of equal values in the pooled sorted sample, in ascending order of value. */
export function pooledTieGroupsSorted(a: Float64Array, b: Float64Array): Int32Array {
  const sizes: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let t = 0;
    while (i < a.length && a[i] === v) {
      i++;
      t++;
    }
    while (j < b.length && b[j] === v) {
      j++;
      t++;
    }
    sizes.push(t);
  }
  return Int32Array.from(sizes);
}

/** Below this many values the built-in sort is as fast as the radix passes. */
const RADIX_MIN = 2048;

/**
 * An ascending copy of a sample, the same array `Float64Array.from(x).sort()` gives (NaN last,
 * -0 before +0), about twice as fast on large samples: an LSD radix sort on the bits of the
 * doubles, six passes of 11 bits. Each double's bits are mapped to an unsigned 64-bit key in the
 * same order as the numbers (positive: the sign bit set; negative: every bit flipped), so -Infinity
 * < negatives < -0 < +0 < positives < +Infinity; NaN is set aside and put last. A pass whose digit
 * is the same for every value is skipped.
 */
export function sortAscending(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  if (n < RADIX_MIN) return sortedCopy(x);
  const out = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (v === v) out[m++] = v;
  }
  radixSortInPlace(out, m, null);
  out.fill(NaN, m);
  return out;
}

/**
 * The non-NaN values of `values[rows[j]]`, ascending: `sortAscending` of the gathered present values,
 * gathered straight into the array that is sorted (one pass and one array fewer).
 */
export function sortPresentAt(values: ArrayLike<number>, rows: ArrayLike<number>): Float64Array {
  const n = rows.length;
  const out = new Float64Array(n);
  let m = 0;
  for (let j = 0; j < n; j++) {
    const v = values[rows[j]!]!;
    if (v === v) out[m++] = v;
  }
  if (m < RADIX_MIN) {
    const small = out.slice(0, m);
    small.sort();
    return small;
  }
  radixSortInPlace(out, m, null);
  return m === n ? out : out.slice(0, m);
}

export interface GroupedSort {
  /** every value, ascending */
  all: Float64Array;
  /** the values of each group, ascending */
  groups: Float64Array[];
}

/**
 * Sorts a sample made of groups once and returns both the whole sample's order and each group's:
 * `all` is the same array as `Float64Array.from(values).sort()`, `groups[g]` the same as sorting
 * the values whose `group[i]` is g on their own (a radix sort is stable, so splitting the sorted
 * whole by group keeps each group sorted). `group[i]` must be in 0..count-1; NaN values are left
 * out of both. With `index`, the sample is values[index[i]] (group[i] its group), read in place
 * instead of gathered into a copy first. Cheaper than sorting the groups and merging them, or
 * sorting twice.
 */
export function sortByGroup(values: ArrayLike<number>, group: ArrayLike<number>, count: number, index?: ArrayLike<number>): GroupedSort {
  const n = index ? index.length : values.length;
  if (group.length !== n) throw new ArgumentError('group', `must have one entry per value (${n}), got ${group.length}`);
  if (!(Number.isInteger(count) && count >= 0)) throw new ArgumentError('count', `must be a whole number >= 0 (got ${count})`);
  const keys = new Float64Array(n);
  const tags = sortScratch(n).tags;
  const sizes = new Int32Array(count);
  const m = gatherGrouped(values, index ?? null, group, count, keys, tags, sizes);
  const groups = Array.from(sizes, (size) => new Float64Array(size));
  if (!packedDecimalSort(keys, tags, m, count, groups)) {
    radixSortInPlace(keys, m, tags);
    splitGroups(keys, tags, m, groups, count);
  }
  return { all: m === n ? keys : keys.slice(0, m), groups };
}

/** The non-NaN values (at `index`, when given) and their groups, packed; returns how many. */
function gatherGrouped(
  values: ArrayLike<number>,
  index: ArrayLike<number> | null,
  group: ArrayLike<number>,
  count: number,
  keys: Float64Array,
  tags: Int32Array,
  sizes: Int32Array,
): number {
  let m = 0;
  for (let i = 0; i < group.length; i++) {
    const v = index !== null ? values[index[i]!]! : values[i]!;
    if (v !== v) continue;
    const g = group[i]!;
    if (!(g >= 0 && g < count && Number.isInteger(g))) throw new ArgumentError('group', `entry ${i} is ${g}, not a group number from 0 to ${count - 1}`);
    keys[m] = v;
    tags[m++] = g;
    sizes[g]!++;
  }
  return m;
}

/** Deals the sorted values out to their groups, in order. */
function splitGroups(keys: Float64Array, tags: Int32Array, m: number, groups: Float64Array[], count: number): void {
  const fill = new Int32Array(count);
  for (let i = 0; i < m; i++) {
    const g = tags[i]!;
    groups[g]![fill[g]!++] = keys[i]!;
  }
}

/**
 * Sorts x[0..m) (no NaN) in place by an LSD radix sort on the bits, moving `tags` along (stable).
 * Each double's bits become an unsigned 64-bit key in the numbers' order (positive: sign bit set;
 * negative: every bit flipped), sorted in six passes of 11 bits; a pass whose digit is the same for
 * every value is skipped.
 */
function radixSortInPlace(x: Float64Array, m: number, tags: Int32Array | null): void {
  if (m < 2) return;
  if (decimalSortInPlace(x, m, tags)) return;
  // little-endian words: [2i] the low 32 bits, [2i + 1] the high ones (sign, exponent, mantissa top)
  const words = new Uint32Array(x.buffer, x.byteOffset, 2 * m);
  let src: Uint32Array = words;
  const hist = new Int32Array(6 * 2048);
  toKeys(words, hist, m);
  let dst: Uint32Array = new Uint32Array(2 * m);
  let tagSrc: Int32Array | null = tags;
  let tagDst: Int32Array | null = tags ? new Int32Array(m) : null;
  for (let d = 0; d < 6; d++) {
    const base = d * 2048;
    let constant = false;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = hist[base + b]!;
      if (c === m) constant = true;
      hist[base + b] = sum;
      sum += c;
    }
    if (constant) continue;
    if (tagSrc) radixPassTagged(src, dst, tagSrc, tagDst!, hist, base, (d % 3) * 11, d < 3 ? 0 : 1, m);
    else radixPass(src, dst, hist, base, (d % 3) * 11, d < 3 ? 0 : 1, m);
    const t = src;
    src = dst;
    dst = t;
    const tt = tagSrc;
    tagSrc = tagDst;
    tagDst = tt;
  }
  if (src !== words) {
    words.set(src);
    if (tags) tags.set(tagSrc!);
  }
  fromKeys(words, m);
}

const DECIMAL_SCALES = [1, 10, 100, 1000, 1e4, 1e5, 1e6];

/**
 * The smallest power of ten p (up to 10^6) such that every value of x[0..m) is k / p for an integer k
 * that gives back that very double, with the least and greatest k; null when there is none (a value
 * with more decimals, an infinity, -0, |k| >= 2^52). A value that needs a larger p raises it and the
 * scan restarts.
 */
function decimalScale(x: Float64Array, m: number): { p: number; lo: number; hi: number } | null {
  let d = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < m; ) {
    const v = x[i]!;
    const p = DECIMAL_SCALES[d]!;
    const k = Math.round(v * p);
    if (k / p === v && Math.abs(k) < 2 ** 52 && !(v === 0 && 1 / v < 0)) {
      if (k < lo) lo = k;
      if (k > hi) hi = k;
      i++;
      continue;
    }
    if (v === 0 || !Number.isFinite(v) || d === DECIMAL_SCALES.length - 1) return null;
    d++;
    i = 0;
    lo = Infinity;
    hi = -Infinity;
  }
  return { p: DECIMAL_SCALES[d]!, lo, hi };
}

/**
 * sortByGroup's common case: decimal values (as decimalSortInPlace takes them) whose keys k - min(k),
 * shifted left to make room for the group number, fit in 32 bits. Each value's key then carries its
 * group, so the passes move one 4-byte key a value (no tags moving along: equal values are the same
 * double whatever their group, so ordering ties by group changes neither the whole nor any group), and
 * the values are dealt out to their groups as they are written back: no splitting pass. Two 12-bit
 * passes when the packed keys need 23 or 24 bits, else 11-bit passes. Writes x[0..m) ascending and
 * fills `groups` (sized beforehand); returns false, touching nothing, when the values do not qualify.
 */
function packedDecimalSort(x: Float64Array, tags: Int32Array, m: number, count: number, groups: Float64Array[]): boolean {
  if (m < 2 || count < 1) return false;
  const scale = decimalScale(x, m);
  if (scale === null) return false;
  const { p, lo, hi } = scale;
  const tagBits = 32 - Math.clz32(count - 1);
  const room = 2 ** tagBits;
  if (!((hi - lo + 1) * room <= 2 ** 32)) return false;
  const bits = Math.max(1, Math.ceil(Math.log2((hi - lo + 1) * room)));
  const width = bits > 22 && bits <= 24 ? 12 : 11;
  const size = 1 << width;
  const mask = size - 1;
  const { a: first, b: second } = sortScratch(m);
  let src = first;
  let dst = second;
  const hist = new Int32Array(3 * size);
  for (let i = 0; i < m; i++) {
    const key = (Math.round(x[i]! * p) - lo) * room + tags[i]!;
    src[i] = key;
    hist[key & mask]!++;
    hist[size + ((key >>> width) & mask)]!++;
    hist[2 * size + (key >>> (2 * width))]!++;
  }
  for (let digit = 0; digit < 3; digit++) {
    const base = digit * size;
    let constant = false;
    let sum = 0;
    for (let b = 0; b < size; b++) {
      const c = hist[base + b]!;
      if (c === m) constant = true;
      hist[base + b] = sum;
      sum += c;
    }
    if (constant) continue;
    keyPass(src, dst, null, null, hist, base, digit * width, mask, m);
    const t = src;
    src = dst;
    dst = t;
  }
  const fill = new Int32Array(count);
  const tagMask = room - 1;
  for (let i = 0; i < m; i++) {
    const key = src[i]!;
    const g = key & tagMask;
    const v = ((key >>> tagBits) + lo) / p;
    x[i] = v;
    groups[g]![fill[g]!++] = v;
  }
  return true;
}

/**
 * Arrays of at least `m` entries for sortByGroup's groups and packedDecimalSort's passes, kept for the
 * thread's next sort: new ones would cost their page faults every time (one grouped sort per field
 * and model; on a machine where a page fault costs ~10 us, 12 MB of new memory is ~30 ms). Sized to
 * the largest sort seen, 12 bytes a value.
 */
let scratch: { a: Uint32Array; b: Uint32Array; tags: Int32Array } | null = null;

function sortScratch(m: number): { a: Uint32Array; b: Uint32Array; tags: Int32Array } {
  if (!scratch || scratch.a.length < m) scratch = { a: new Uint32Array(m), b: new Uint32Array(m), tags: new Int32Array(m) };
  return scratch;
}

/**
 * The common case of logged measurements, sorted on 32-bit keys instead of 64-bit ones: when every
 * value is k / 10^d for an integer k (d <= 6, the same d for all: latencies in ms with 3 decimals,
 * scores with 6) and the k span less than 2^32, the values are sorted by k - min(k) in at most
 * three 11-bit passes over half the bytes, then written back as k / 10^d. Exact: a value is only
 * taken when k / 10^d gives back that very double, and k / 10^d is increasing in k, so the order of
 * the k is the order of the values (ties stay ties; stable, so `tags` move as in the general sort).
 * -0 is left to the general sort (k / 10^d would give +0). Returns false, touching nothing, when
 * the values do not qualify.
 */
function decimalSortInPlace(x: Float64Array, m: number, tags: Int32Array | null): boolean {
  const scale = decimalScale(x, m);
  if (scale === null || !(scale.hi - scale.lo < 2 ** 32)) return false;
  const { p, lo } = scale;
  let src = new Uint32Array(m);
  const hist = new Int32Array(3 * 2048);
  for (let i = 0; i < m; i++) {
    const key = Math.round(x[i]! * p) - lo;
    src[i] = key;
    hist[key & 2047]!++;
    hist[2048 + ((key >>> 11) & 2047)]!++;
    hist[4096 + (key >>> 22)]!++;
  }
  let dst = new Uint32Array(m);
  let tagSrc: Int32Array | null = tags;
  let tagDst: Int32Array | null = tags ? new Int32Array(m) : null;
  for (let digit = 0; digit < 3; digit++) {
    const base = digit * 2048;
    let constant = false;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = hist[base + b]!;
      if (c === m) constant = true;
      hist[base + b] = sum;
      sum += c;
    }
    if (constant) continue;
    keyPass(src, dst, tagSrc, tagDst, hist, base, digit * 11, 2047, m);
    const t = src;
    src = dst;
    dst = t;
    const tt = tagSrc;
    tagSrc = tagDst;
    tagDst = tt;
  }
  for (let i = 0; i < m; i++) x[i] = (src[i]! + lo) / p;
  if (tags && tagSrc !== tags) tags.set(tagSrc!.subarray(0, m));
  return true;
}

/** One stable counting-sort pass of 32-bit keys on the digit `(key >>> shift) & mask`, tags moving along. */
function keyPass(
  src: Uint32Array,
  dst: Uint32Array,
  tagSrc: Int32Array | null,
  tagDst: Int32Array | null,
  offsets: Int32Array,
  base: number,
  shift: number,
  mask: number,
  m: number,
): void {
  if (tagSrc === null) {
    for (let i = 0; i < m; i++) {
      const key = src[i]!;
      dst[offsets[base + ((key >>> shift) & mask)]!++] = key;
    }
    return;
  }
  for (let i = 0; i < m; i++) {
    const key = src[i]!;
    const p = offsets[base + ((key >>> shift) & mask)]!++;
    dst[p] = key;
    tagDst![p] = tagSrc[i]!;
  }
}

/** Doubles' bits to order-preserving keys, in place, and the histograms of the six digits. */
function toKeys(words: Uint32Array, hist: Int32Array, m: number): void {
  for (let i = 0; i < 2 * m; i += 2) {
    let lo = words[i]!;
    let hi = words[i + 1]!;
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    words[i] = lo;
    words[i + 1] = hi;
    hist[lo & 2047]!++;
    hist[2048 + ((lo >>> 11) & 2047)]!++;
    hist[4096 + (lo >>> 22)]!++;
    hist[6144 + (hi & 2047)]!++;
    hist[8192 + ((hi >>> 11) & 2047)]!++;
    hist[10240 + (hi >>> 22)]!++;
  }
}

/** Keys back to the doubles' bits, in place. */
function fromKeys(words: Uint32Array, m: number): void {
  for (let i = 0; i < 2 * m; i += 2) {
    const lo = words[i]!;
    const hi = words[i + 1]!;
    if (hi & 0x80000000) words[i + 1] = hi & 0x7fffffff;
    else {
      words[i] = ~lo;
      words[i + 1] = ~hi;
    }
  }
}

/** One stable counting-sort pass of `m` keys on the 11-bit digit at `shift` of word `word`. */
function radixPass(src: Uint32Array, dst: Uint32Array, offsets: Int32Array, base: number, shift: number, word: number, m: number): void {
  for (let i = 0; i < 2 * m; i += 2) {
    const digit = base + ((src[i + word]! >>> shift) & 2047);
    const p = offsets[digit]!++ << 1;
    dst[p] = src[i]!;
    dst[p + 1] = src[i + 1]!;
  }
}

/** radixPass moving a tag with each key. */
function radixPassTagged(
  src: Uint32Array,
  dst: Uint32Array,
  tagSrc: Int32Array,
  tagDst: Int32Array,
  offsets: Int32Array,
  base: number,
  shift: number,
  word: number,
  m: number,
): void {
  for (let i = 0; i < m; i++) {
    const digit = base + ((src[2 * i + word]! >>> shift) & 2047);
    const p = offsets[digit]!++;
    dst[2 * p] = src[2 * i]!;
    dst[2 * p + 1] = src[2 * i + 1]!;
    tagDst[p] = tagSrc[i]!;
  }
}
