/**
 * Deterministic sticky assignment of units (users) to models by hashing.
 *
 * Recipe (reimplement it exactly in the serving layer to route as abtool assigns):
 *
 *   h      = SHA-256 of the UTF-8 bytes of  salt + "\0" + unit_id
 *   bucket = (first 8 bytes of h, read as an unsigned big-endian 64-bit integer) mod 10000
 *   arms are laid out on [0, 10000) in the order listed, the first from bucket 0 upward:
 *   arm i owns [round(10000 * W_{i-1} / W), round(10000 * W_i / W)), W_i = w_1 + ... + w_i, W = W_k
 *
 * Example: `champion=95,challenger=5` gives champion buckets 0..9499, challenger 9500..9999.
 *
 * Stickiness when a share grows. Each arm is one contiguous range. With two arms the boundary
 * between them moves and the growing arm's range only extends: a user in the challenger at 1%
 * (buckets 9900..9999) is in it at 5% (9500..9999), 25% and 100%, whichever arm is listed first.
 * With more arms, an arm at either END of the list keeps its users when it grows at the expense
 * of its neighbour; so list the champion (the arm giving up traffic) in the middle,
 * e.g. `challenger-a=5,champion=90,challenger-b=5`. Keep the salt, the arm names and their
 * order fixed across stages: changing any of them reshuffles users. A new salt is a new experiment.
 *
 * The modulo bias of 2^64 mod 10000 is below 1e-15 per bucket; SHA-256 makes buckets of
 * different salts independent, so two experiments with different salts are not correlated.
 * Shares resolve to 1/10000 (0.01%).
 */
import * as crypto from 'node:crypto';
import { ArgumentError } from './types.js';

export const BUCKETS = 10_000;

export interface Arm {
  name: string;
  /** a non-negative weight; shares are weight / sum of weights */
  weight: number;
}

/** An arm's range of buckets, [from, to). */
export interface ArmRange {
  name: string;
  from: number;
  to: number;
}

/** A validated layout of arms on the bucket range. */
export interface Layout {
  ranges: readonly ArmRange[];
}

/**
 * Lay `arms` out on [0, BUCKETS) in the order given (see the file comment). Throws ArgumentError
 * when an arm name is empty or repeated, a weight is negative or not finite, all weights are 0, or
 * a positive weight is too small to own one bucket (below 0.005%).
 */
export function layoutArms(arms: readonly Arm[]): Layout {
  if (arms.length === 0) throw new ArgumentError('weights', 'must name at least one arm');
  const names = new Set<string>();
  let total = 0;
  for (const a of arms) {
    if (a.name === '') throw new ArgumentError('weights', 'arm names must not be empty');
    if (names.has(a.name)) throw new ArgumentError('weights', `arm "${a.name}" is listed twice`);
    names.add(a.name);
    if (!(Number.isFinite(a.weight) && a.weight >= 0)) {
      throw new ArgumentError('weights', `the weight of "${a.name}" must be a number >= 0 (got ${a.weight})`);
    }
    total += a.weight;
  }
  if (!(total > 0)) throw new ArgumentError('weights', 'at least one weight must be positive');
  // weights so large that their sum overflows (1e308 + 1e308) leave no shares to compute
  if (!Number.isFinite(total)) throw new ArgumentError('weights', `the weights add up to more than the largest number (${Number.MAX_VALUE}): give them on a smaller scale, e.g. percentages`);
  const ranges: ArmRange[] = [];
  let cumulative = 0;
  let from = 0;
  for (const [i, a] of arms.entries()) {
    cumulative += a.weight;
    // (weights near the largest number: BUCKETS * cumulative would overflow, so the share first)
    const scaled = BUCKETS * cumulative;
    const to = i === arms.length - 1 ? BUCKETS : Math.round(Number.isFinite(scaled) ? scaled / total : BUCKETS * (cumulative / total));
    if (a.weight > 0 && to === from) {
      throw new ArgumentError('weights', `the share of "${a.name}" (${((100 * a.weight) / total).toPrecision(3)}%) is below the smallest assignable share, 0.01%`);
    }
    ranges.push({ name: a.name, from, to });
    from = to;
  }
  return { ranges };
}

/**
 * The bucket of a unit: SHA-256(salt + "\0" + id), first 8 bytes big-endian, mod 10000.
 * Example: bucketOf("exp-1", "user-42") is the same number on every machine and every run.
 */
export function bucketOf(salt: string, id: string | Uint8Array): number {
  // an id given as bytes (not valid UTF-8, say) is hashed as those bytes: the recipe on the bytes the id is
  const digest = typeof id === 'string' ? sha256(`${salt}\0${id}`) : crypto.createHash('sha256').update(`${salt}\0`, 'utf8').update(id).digest();
  // (hi * 2^32 + lo) mod 10000 without BigInt: every intermediate stays below 2^53
  const hi = digest.readUInt32BE(0) % BUCKETS;
  const lo = digest.readUInt32BE(4) % BUCKETS;
  return (hi * TWO_32_MOD_BUCKETS + lo) % BUCKETS;
}

const TWO_32_MOD_BUCKETS = 2 ** 32 % BUCKETS; // 7296

/** SHA-256 of a UTF-8 string: Node's one-shot crypto.hash (>= 20.12, twice as fast) or a Hash object. */
const sha256: (text: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'buffer')
    : (text) => crypto.createHash('sha256').update(text, 'utf8').digest();

/** The arm owning `bucket`. */
export function armOfBucket(layout: Layout, bucket: number): string {
  for (const r of layout.ranges) if (bucket >= r.from && bucket < r.to) return r.name;
  throw new ArgumentError('bucket', `must be a whole number in [0, ${BUCKETS}) (got ${bucket})`);
}

export interface Assignment {
  id: string;
  bucket: number;
  arm: string;
}

/**
 * Assign one unit: the arm whose bucket range holds the unit's bucket. Deterministic: the same
 * salt, id and layout always give the same arm. `bytes`: the id's own bytes when they are not valid
 * UTF-8 (`id` is then their lossy decoding, for display): the bucket is of the bytes, so two such ids
 * that decode alike stay two. Throws ArgumentError for an empty salt.
 */
export function assign(salt: string, id: string, layout: Layout, bytes?: Uint8Array): Assignment {
  if (salt === '') throw new ArgumentError('salt', 'must not be empty (use the experiment name)');
  const bucket = bucketOf(salt, bytes ?? id);
  return { id, bucket, arm: armOfBucket(layout, bucket) };
}
