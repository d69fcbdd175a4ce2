/**
 * The pieces of late duplicate detection (encode.ts): the 53-bit request keys and the search for keys
 * that occur more than once. (Whole reads with late duplicates are checked against row-by-row
 * detection in threaded.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { repeatedKeys, requestKey } from '../../src/ingest/encode.js';

const key = (s: string, model = 0): number => {
  const b = Buffer.from(s, 'utf8');
  return requestKey(b, 0, b.length, model);
};

describe('requestKey', () => {
  it('is a 53-bit integer that depends on every byte and on the model', () => {
    const k = key('req-1');
    expect(Number.isSafeInteger(k) && k >= 0).toBe(true);
    expect(key('req-1')).toBe(k);
    expect(key('req-1', 1)).not.toBe(k);
    expect(key('req-2')).not.toBe(k);
    expect(key('req-1 ')).not.toBe(k);
    expect(key('')).not.toBe(key('', 1));
    // the bytes in a bigger buffer give the same key
    const b = Buffer.from('xxreq-1yy');
    expect(requestKey(b, 2, 7, 0)).toBe(k);
  });

  it('spreads 200k distinct ids over distinct keys', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) seen.add(key(`r${i}`, i % 2));
    expect(seen.size).toBe(200_000);
  });
});

describe('repeatedKeys', () => {
  const sorted = (s: Set<number> | null): number[] => (s === null ? [] : [...s].sort((a, b) => a - b));

  it('null when every key is distinct, NaN (no request id) never counts', () => {
    expect(repeatedKeys(new Float64Array(0))).toBeNull();
    expect(repeatedKeys(Float64Array.from([1, 2, 3, 2 ** 53 - 1, 0, NaN, NaN]))).toBeNull();
  });

  it('finds planted repeats among random keys, at both ends of the range', () => {
    let state = 7;
    const rand = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const keys = new Float64Array(100_000);
    for (let i = 0; i < keys.length; i++) keys[i] = Math.floor(rand() * 2 ** 31) * 2 ** 22 + Math.floor(rand() * 2 ** 22);
    const planted = [keys[10]!, keys[500]!, 0, 2 ** 53 - 1];
    keys[99_999] = keys[10]!;
    keys[70_000] = keys[500]!;
    keys[70_001] = keys[500]!;
    keys[1] = 0;
    keys[2] = 0;
    keys[3] = 2 ** 53 - 1;
    keys[4] = 2 ** 53 - 1;
    expect(sorted(repeatedKeys(keys))).toEqual([...planted].sort((a, b) => a - b));
    // the same keys in several arrays (one per batch, some empty): the same answer
    const cuts = [0, 0, 1, 3, 4, 16_384, 70_000, 70_001, 99_999, 100_000, 100_000];
    const chunks = cuts.slice(1).map((end, k) => keys.slice(cuts[k], end));
    expect(sorted(repeatedKeys(chunks))).toEqual([...planted].sort((a, b) => a - b));
    expect(repeatedKeys([keys.slice(0, 50_000), Float64Array.from([1, 2, 3])])).toEqual(repeatedKeys(Float64Array.from([...keys.slice(0, 50_000), 1, 2, 3])));
  });

  it('one key many times, and many keys in one bucket (the sorted path)', () => {
    const same = new Float64Array(50_000).fill(12345);
    expect(sorted(repeatedKeys(same))).toEqual([12345]);
    // keys that differ only in their low bits share a bucket
    const bucket = Float64Array.from({ length: 1000 }, (_, i) => 2 ** 40 + (i % 300));
    expect(sorted(repeatedKeys(bucket))).toEqual(Array.from({ length: 300 }, (_, i) => 2 ** 40 + i));
    const small = Float64Array.from([5, 6, 7, 5]);
    expect(sorted(repeatedKeys(small))).toEqual([5]);
  });
});
