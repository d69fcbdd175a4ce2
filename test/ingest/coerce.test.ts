/** Value typing shared by every reader: numbers, timestamps, words. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  booleanWord,
  decimalTextValue,
  isMissingWord,
  isNonFiniteWord,
  isoTimestampValue,
  jsonNumberValue,
  timestampTextValue,
} from '../../src/ingest/coerce.js';

const b = (s: string): [Buffer, number, number] => {
  const buf = Buffer.from(s, 'latin1');
  return [buf, 0, buf.length];
};

describe('jsonNumberValue', () => {
  it('is exactly Number() on JSON numbers (correctly rounded, fast path or not)', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 22 });
    const jsonNumber = fc
      .tuple(fc.boolean(), digits, fc.option(digits), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 }))))
      .map(([neg, int, frac, exp]) => {
        const i = int.replace(/^0+(?=\d)/, '');
        return `${neg ? '-' : ''}${i}${frac !== null ? `.${frac}` : ''}${exp !== null ? `${exp[0]}${exp[1]}${exp[2]}` : ''}`;
      });
    fc.assert(
      fc.property(jsonNumber, (s) => {
        expect(Object.is(jsonNumberValue(...b(s)), Number(s)), s).toBe(true);
      }),
      { numRuns: 5000 },
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = JSON.stringify(v);
        expect(jsonNumberValue(...b(s))).toBe(JSON.parse(s));
      }),
      { numRuns: 3000 },
    );
  });

  it('handles the edges', () => {
    for (const s of ['0', '-0', '1e999', '-1e999', '1e-400', '9007199254740993', '0.1', '123456789012345.6', '1.7976931348623157e308', '5e-324']) {
      expect(Object.is(jsonNumberValue(...b(s)), Number(s)), s).toBe(true);
    }
  });
});

describe('decimalTextValue (CSV cells)', () => {
  it('accepts decimal text with blanks, sign, leading zeros, bare point', () => {
    expect(decimalTextValue(...b(' 12.5 '))).toBe(12.5);
    expect(decimalTextValue(...b('+3'))).toBe(3);
    expect(decimalTextValue(...b('007'))).toBe(7);
    expect(decimalTextValue(...b('.5'))).toBe(0.5);
    expect(decimalTextValue(...b('5.'))).toBe(5);
    expect(decimalTextValue(...b('-1e-3'))).toBe(-0.001);
    expect(decimalTextValue(...b('1e999'))).toBe(Infinity);
  });
  it('is exactly Number() on random decimal text (the digit fast path included)', () => {
    const digits = (max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 0, maxLength: max });
    const text = fc
      .tuple(fc.constantFrom('', '+', '-'), digits(20), fc.option(digits(25)), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 400 }))), fc.constantFrom('', ' ', '\t'))
      .filter(([, int, frac]) => int.length + (frac ?? '').length > 0)
      .map(([sign, int, frac, exp, pad]) => `${pad}${sign}${int}${frac === null ? '' : `.${frac}`}${exp ? `${exp[0]}${exp[1]}${exp[2]}` : ''}${pad}`);
    fc.assert(
      fc.property(text, (s) => {
        expect(Object.is(decimalTextValue(...b(s)), Number(s)), s).toBe(true);
      }),
      { numRuns: 20000 },
    );
    for (const s of ['-0', '-0.0', '0.1', '0.30000000000000004', '123456789012345', '1234567890123456', '9007199254740993', '0.000000000000000000000001', '1.7976931348623157', '4.9406564584124654e-324']) {
      expect(Object.is(decimalTextValue(...b(s)), Number(s)), s).toBe(true);
    }
  });
  it('refuses what Number() would wrongly accept', () => {
    for (const s of ['', ' ', '0x10', '0b1', '1_000', 'Infinity', 'NaN', '1e', '.', '-', '1.2.3', '12abc', 'e5']) {
      expect(decimalTextValue(...b(s)), s).toBeNaN();
    }
  });
});

describe('words', () => {
  it('non-finite words in any case and sign', () => {
    for (const s of ['NaN', 'nan', '-nan', 'Infinity', '-Infinity', '+infinity', 'inf', '-INF', ' NaN ']) expect(isNonFiniteWord(...b(s)), s).toBe(true);
    for (const s of ['na', 'infinit', 'Infinityy', 'nana', '', 'NA']) expect(isNonFiniteWord(...b(s)), s).toBe(false);
  });
  it('booleans in any case', () => {
    expect(['true', 'TRUE', 'True', 'false', 'FALSE', 'yes', '1'].map((s) => booleanWord(...b(s)))).toEqual([1, 1, 1, 0, 0, -1, -1]);
  });
  it('missing-value words for CSV numbers', () => {
    expect(['', '  ', 'NA', 'null', 'NULL', 'Null', 'nan', 'N/A'].map((s) => isMissingWord(...b(s)))).toEqual([true, true, true, true, true, false, false, false]);
  });
});

describe('timestamps', () => {
  it('ISO-8601 with an offset agrees with Date.parse', () => {
    const instant = fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2200, 0, 1) });
    const offsetMin = fc.integer({ min: -14 * 60, max: 14 * 60 });
    fc.assert(
      fc.property(instant, offsetMin, fc.boolean(), (ms, off, colon) => {
        const local = new Date(ms + off * 60000).toISOString().slice(0, 23);
        const sign = off < 0 ? '-' : '+';
        const a = Math.abs(off);
        const hh = String(Math.floor(a / 60)).padStart(2, '0');
        const mm = String(a % 60).padStart(2, '0');
        const text = `${local}${sign}${hh}${colon ? ':' : ''}${mm}`;
        expect(isoTimestampValue(...b(text)), text).toBe(ms);
        expect(Date.parse(`${local}${sign}${hh}:${mm}`)).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('forms: date only, minutes, seconds, fractions of any length, Z, space, no offset = UTC', () => {
    const t = (s: string) => isoTimestampValue(...b(s));
    expect(t('2026-01-31')).toBe(Date.UTC(2026, 0, 31));
    expect(t('2026-01-31T12:34')).toBe(Date.UTC(2026, 0, 31, 12, 34));
    expect(t('2026-01-31 12:34:56')).toBe(Date.UTC(2026, 0, 31, 12, 34, 56));
    expect(t('2026-01-31T12:34:56.7Z')).toBe(Date.UTC(2026, 0, 31, 12, 34, 56, 700));
    expect(t('2026-01-31T12:34:56.123456789Z')).toBeCloseTo(Date.UTC(2026, 0, 31, 12, 34, 56, 123) + 0.456789, 6);
    expect(t('2026-01-31T12:34:56,5+01')).toBe(Date.UTC(2026, 0, 31, 11, 34, 56, 500));
    expect(t('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  it('refuses impossible or non-ISO dates', () => {
    for (const s of ['2026-02-29', '2026-13-01', '2026-04-31', '2026-01-31T24:00', '2026-01-31T12:60', '2026-01-31T12:00:61', '31/01/2026', '2026-1-31', '2026-01-31T', '2026-01-31T12:00Zx', '2026-01-31T12:00+25', 'now']) {
      expect(isoTimestampValue(...b(s)), s).toBeNaN();
    }
  });

  it('text timestamps: digits are epoch milliseconds', () => {
    expect(timestampTextValue(...b('1769860800000'))).toBe(1769860800000);
    expect(timestampTextValue(...b('-1000'))).toBe(-1000);
    expect(timestampTextValue(...b('2026-01-31'))).toBe(Date.UTC(2026, 0, 31));
    expect(timestampTextValue(...b('soon'))).toBeNaN();
  });

  it('text timestamps: epoch digits, then a decimal number, then ISO-8601, whatever the first bytes (an ISO date is recognised by its first five)', () => {
    const general = (t: string): number => {
      if (/^-?[0-9]+$/.test(t)) return Number(t);
      const d = decimalTextValue(...b(t));
      return Number.isNaN(d) ? isoTimestampValue(...b(t)) : d;
    };
    const cases = ['2026-11-02T09:00:00.000Z', ' 2026-11-02T09:00:00Z', '2026-11-02', '2026-', '2026-1', '1234-5', '12345-01-01', '2026e-05', '2026.5', '1.5e-3', ' 1e-3', '-2026-01-01', '0000-01-01', '9999-12-31T23:59:59.999+05:30', '20x6-01-01', '2026-02-30'];
    for (const t of cases) expect(Object.is(timestampTextValue(...b(t)), general(t)), t).toBe(true);
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[0-9 .eT:Z+-]{0,26}$/), fc.stringMatching(/^[0-9]{4}-[0-9 .eT:Z+-]{0,21}$/)), (t) => Object.is(timestampTextValue(...b(t)), general(t))),
      { numRuns: 3000 },
    );
  });
});
