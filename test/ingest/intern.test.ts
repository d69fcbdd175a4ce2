/** Dictionary encoding: bytes and text reach the same code; values and index appear when read. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteColumnBuilder, DictionaryBuilder } from '../../src/ingest/intern.js';

const bytes = (s: string): [Buffer, number, number] => {
  const b = Buffer.from(`xx${s}yy`, 'utf8');
  return [b, 2, b.length - 2];
};

describe('DictionaryBuilder', () => {
  it('gives one code per distinct value, by bytes or by text, in order of first appearance', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 5 }), fc.boolean()), { maxLength: 300 }), (items) => {
        const d = new DictionaryBuilder(false);
        const want = new Map<string, number>();
        for (const [s, asBytes] of items) {
          const code = asBytes ? d.codeOfBytes(...bytes(s)) : d.codeOfText(s);
          if (!want.has(s)) want.set(s, want.size);
          expect(code).toBe(want.get(s));
        }
        expect(d.dict.values).toEqual([...want.keys()]);
        expect([...d.dict.index]).toEqual([...want]);
        expect(d.size).toBe(want.size);
      }),
      { numRuns: 200 },
    );
  });

  it('survives growth of its tables (many unique values)', () => {
    const d = new DictionaryBuilder(false);
    for (let i = 0; i < 50_000; i++) expect(d.codeOfBytes(...bytes(`req-${i}`))).toBe(i);
    for (let i = 0; i < 50_000; i += 997) expect(d.codeOfText(`req-${i}`)).toBe(i);
    expect(d.valueOf(12345)).toBe('req-12345');
    expect(d.dict.values.length).toBe(50_000);
    expect(d.dict.index.get('req-49999')).toBe(49_999);
  });

  it('keys of every length (empty, odd, past a cache line, longer than the arena) keep their codes and values through growth', () => {
    const d = new DictionaryBuilder(false);
    const keys: string[] = [];
    for (let i = 0; i < 3000; i++) keys.push(`${'é'.repeat(i % 7)}${'k'.repeat(i % 67)}${i}`);
    keys.push('', 'x'.repeat(40_000), 'y'.repeat(5));
    keys.forEach((k, i) => expect(d.codeOfBytes(...bytes(k))).toBe(i));
    // again, by bytes (codesOf's batched lookups) and by text
    const col = new ByteColumnBuilder(keys.length);
    for (const k of keys) {
      const b = Buffer.from(k, 'utf8');
      col.pushBytes(b, 0, b.length);
    }
    expect([...d.codesOf(col.column(), null, keys.length)]).toEqual(keys.map((_, i) => i));
    keys.forEach((k, i) => {
      expect(d.codeOfText(k)).toBe(i);
      expect(d.valueOf(i)).toBe(k);
    });
    expect(d.dict.values).toEqual(keys);
  });

  it('materialises values lazily and keeps them in step', () => {
    const d = new DictionaryBuilder(false);
    d.codeOfText('a');
    expect(d.dict.values).toEqual(['a']);
    expect(d.dict.index.get('a')).toBe(0);
    d.codeOfBytes(...bytes('b'));
    expect(d.dict.index.get('b')).toBe(1);
    expect(d.dict.index.size).toBe(2);
    expect(d.dict.values).toEqual(['a', 'b']);
  });

  it('labels: numeric text and numbers share a canonical code and carry their number', () => {
    const d = new DictionaryBuilder(true);
    const c1 = d.codeOfBytes(...bytes('1.0'));
    expect(d.codeOfText('1')).toBe(c1);
    expect(d.codeOfBytes(...bytes('1'))).toBe(c1);
    expect(d.codeOfText('01')).toBe(c1);
    const t = d.codeOfText('True');
    expect(d.codeOfBytes(...bytes('true'))).toBe(t);
    const cat = d.codeOfBytes(...bytes('cat'));
    expect(d.dict.values).toEqual(['1', 'true', 'cat']);
    expect([d.numeric![c1], d.numeric![t], d.numeric![cat]]).toEqual([1, 1, NaN]);
  });

  it('codesOf gives the codes codeOfBytes gives row by row, for all rows or a subset, labels too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('1', '1.0', 'true', 'True', 'é', '0')), { nil: null }), { maxLength: 1500 }),
        fc.boolean(),
        fc.boolean(),
        (values, label, subset) => {
          const col = new ByteColumnBuilder(values.length);
          for (const v of values) {
            if (v === null || v === '') col.pushMissing();
            else if (v.length % 2) col.pushText(v);
            else col.pushBytes(...bytes(v));
          }
          const rows = subset ? Int32Array.from(values.keys()).filter((i) => i % 3 !== 1) : null;
          const n = rows ? rows.length : values.length;
          const a = new DictionaryBuilder(label);
          const got = Array.from(a.codesOf(col.column(), rows, n));
          const b = new DictionaryBuilder(label);
          const want = Array.from({ length: n }, (_, j) => {
            const v = values[rows ? rows[j]! : j]!;
            return v === null || v === '' ? -1 : b.codeOfBytes(...bytes(v));
          });
          expect(got).toEqual(want);
          expect(a.dict.values).toEqual(b.dict.values);
        },
      ),
      { numRuns: 200 },
    );
  });
});
