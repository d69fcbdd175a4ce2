/**
 * The byte-level JSON Lines scanner against JSON.parse, the reference: on random JSON and on random
 * corruptions of it, the scanner accepts a line exactly when JSON.parse gives an object (plus the
 * bare NaN/Infinity tokens it tolerates on purpose), and what it extracts equals what JSON.parse reads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  JsonLineScanner,
  SCAN_BLANK,
  SCAN_MALFORMED,
  SCAN_OK,
  TOK_ABSENT,
  TOK_FALSE,
  TOK_INF,
  TOK_NAN,
  TOK_NEG_INF,
  TOK_NESTED,
  TOK_NULL,
  TOK_NUMBER,
  TOK_STRING,
  TOK_STRING_ESC,
  TOK_TRUE,
} from '../../src/ingest/jsonScan.js';

function scanText(sc: JsonLineScanner, text: string): { r: number; buf: Buffer } {
  const buf = Buffer.from(text, 'utf8');
  return { r: sc.scan(buf, 0, buf.length), buf };
}

function parsesToObject(text: string): boolean {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** What the scanner extracted for field f, as the JS value JSON.parse would give. */
function extracted(sc: JsonLineScanner, buf: Buffer, f: number): unknown {
  const s = sc.vs[f]!;
  const e = sc.ve[f]!;
  switch (sc.tok[f]) {
    case TOK_ABSENT:
      return undefined;
    case TOK_NULL:
      return null;
    case TOK_TRUE:
      return true;
    case TOK_FALSE:
      return false;
    case TOK_NUMBER:
      return Number(buf.toString('latin1', s, e));
    case TOK_STRING:
      return buf.toString('utf8', s, e);
    case TOK_STRING_ESC:
    case TOK_NESTED:
      return JSON.parse(buf.toString('utf8', s, e));
    case TOK_NAN:
      return NaN;
    case TOK_INF:
      return Infinity;
    case TOK_NEG_INF:
      return -Infinity;
    default:
      throw new Error('unknown token');
  }
}

const objectArb = fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }), { maxKeys: 8 });

describe('JsonLineScanner', () => {
  it('extracts exactly what JSON.parse reads, for the requested keys', () => {
    fc.assert(
      fc.property(objectArb, fc.array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 3 }), fc.boolean(), (obj, extraKeys, spaced) => {
        const text = spaced ? JSON.stringify(obj, null, 1).replace(/\n/g, ' ') : JSON.stringify(obj);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const keys = [...Object.keys(obj).slice(0, 4), ...extraKeys];
        const sc = new JsonLineScanner(keys);
        const { r, buf } = scanText(sc, text);
        expect(r).toBe(SCAN_OK);
        keys.forEach((k, f) => {
          const want = Object.prototype.hasOwnProperty.call(parsed, k) ? parsed[k] : undefined;
          expect(extracted(sc, buf, f)).toEqual(want);
        });
      }),
      { numRuns: 400 },
    );
  });

  it('accepts a line exactly when JSON.parse gives an object (random JSON of every kind)', () => {
    const sc = new JsonLineScanner(['a', 'b']);
    fc.assert(
      fc.property(fc.json({ maxDepth: 3, stringUnit: 'binary' }), (text) => {
        const { r } = scanText(sc, text);
        expect(r === SCAN_OK).toBe(parsesToObject(text));
      }),
      { numRuns: 400 },
    );
  });

  it('one scanner over many lines in one reused buffer (keys in repeated orders, prefixes of each other, escaped, damaged): each line as JSON.parse reads it', () => {
    const keys = ['a', 'ab', 'b', 'model', 'k\u00e9y', 'ke', 'x'];
    const requested = ['a', 'ab', 'model', 'k\u00e9y', 'missing'];
    const sc = new JsonLineScanner(requested);
    // every line is written into the same buffer, as the reader reuses its chunk buffers
    const shared = Buffer.alloc(4096);
    const value = fc.oneof(fc.integer(), fc.constantFrom('v', 'w"q', 'a\\b', ''), fc.boolean(), fc.constant(null));
    const line = fc.tuple(
      fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 6 }),
      fc.constantFrom('plain', 'escape-key', 'damage', 'spaced'),
      fc.nat(),
    );
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), (lines) => {
        for (const [pairs, how, at] of lines) {
          let text = `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
          if (how === 'escape-key' && pairs.length > 0) text = text.replace('"a', '"\\u0061');
          if (how === 'damage') {
            const p = at % text.length;
            text = text.slice(0, p) + '"' + text.slice(p + 1);
          }
          if (how === 'spaced') text = text.replace(/:/g, ' : ').replace(/,/g, ' , ');
          const n = shared.write(text, 0, 'utf8');
          shared.fill(0x22, n, n + 16); // stale bytes after the line, as a reused buffer has
          const r = sc.scan(shared, 0, n);
          expect(r === SCAN_OK, text).toBe(parsesToObject(text));
          if (r !== SCAN_OK) continue;
          const parsed = JSON.parse(text) as Record<string, unknown>;
          requested.forEach((k, f) => {
            const want = Object.prototype.hasOwnProperty.call(parsed, k) ? parsed[k] : undefined;
            expect(extracted(sc, shared, f), `${text} ${k}`).toEqual(want);
          });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.parse on corrupted lines', () => {
    const sc = new JsonLineScanner(['a', 'b', '']);
    const chars = fc.constantFrom('{', '}', '[', ']', '"', '\\', ',', ':', ' ', '0', '-', '.', 'e', 'E', '+', 'n', 't', 'u', '1', '\u0001', '\t', 'x', 'é');
    const edit = fc.tuple(fc.nat(), fc.nat(2), chars);
    fc.assert(
      fc.property(objectArb, fc.array(edit, { minLength: 1, maxLength: 3 }), (obj, edits) => {
        let text = JSON.stringify(obj);
        for (const [pos, kind, ch] of edits) {
          const p = text.length === 0 ? 0 : pos % (text.length + (kind === 1 ? 1 : 0));
          if (kind === 0) text = text.slice(0, p) + text.slice(p + 1); // delete
          else if (kind === 1) text = text.slice(0, p) + ch + text.slice(p); // insert
          else text = text.slice(0, p) + ch + text.slice(p + 1); // replace
        }
        const { r } = scanText(sc, text);
        if (text.trim() === '') {
          expect(r).toBe(SCAN_BLANK);
          return;
        }
        expect(r === SCAN_OK, text).toBe(parsesToObject(text));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with JSON.parse of the UTF-8 decoded line on byte-level damage (invalid UTF-8 included)', () => {
    const sc = new JsonLineScanner(['a']);
    const byteEdit = fc.tuple(fc.nat(), fc.boolean(), fc.constantFrom(0x80, 0xbf, 0xc3, 0xe2, 0xef, 0xf0, 0xff, 0x00, 0x1f, 0x7f, 0x22, 0x5c, 0x09, 0x0d));
    fc.assert(
      fc.property(objectArb, fc.array(byteEdit, { minLength: 1, maxLength: 3 }), (obj, ops) => {
        let buf = Buffer.from(JSON.stringify(obj), 'utf8');
        for (const [pos, insert, byte] of ops) {
          const p = pos % (buf.length + 1);
          buf = insert ? Buffer.concat([buf.subarray(0, p), Buffer.from([byte]), buf.subarray(p)]) : Buffer.concat([buf.subarray(0, p), Buffer.from([byte]), buf.subarray(p + 1)]);
        }
        const text = buf.toString('utf8');
        const r = sc.scan(buf, 0, buf.length);
        if (r === SCAN_BLANK) expect(text.trim()).toBe('');
        else expect(r === SCAN_OK, JSON.stringify(text)).toBe(parsesToObject(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('a JSON object line is accepted with any JSON whitespace around tokens, CR included', () => {
    const sc = new JsonLineScanner(['k']);
    const { r, buf } = scanText(sc, ' \t{ "k" :\t[ 1 , { } ] , "z" : "" }\r');
    expect(r).toBe(SCAN_OK);
    expect(extracted(sc, buf, 0)).toEqual([1, {}]);
  });

  it('tolerates the bare NaN, Infinity and -Infinity tokens as values', () => {
    const sc = new JsonLineScanner(['a', 'b', 'c', 'd']);
    const { r, buf } = scanText(sc, '{"a":NaN,"b":Infinity,"c":-Infinity,"d":[NaN],"e":{"f":Infinity}}');
    expect(r).toBe(SCAN_OK);
    expect([0, 1, 2].map((f) => extracted(sc, buf, f))).toEqual([NaN, Infinity, -Infinity]);
    expect(sc.tok[3]).toBe(TOK_NESTED);
    for (const bad of ['{"a":nan}', '{"a":Inf}', '{"a":-NaN}', '{"a":+1}', '{"a":Infinityx}']) {
      expect(scanText(sc, bad).r, bad).toBe(SCAN_MALFORMED);
    }
  });

  it('a number\'s value computed on the way is exactly Number() of its text (or NaN: left to the typing)', () => {
    const sc = new JsonLineScanner(['x', 'y']);
    const numberText = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => JSON.stringify(v)),
      fc.tuple(fc.boolean(), fc.stringMatching(/^(0|[1-9][0-9]{0,19})$/), fc.option(fc.stringMatching(/^[0-9]{1,25}$/)), fc.option(fc.stringMatching(/^[eE][+-]?[0-9]{1,3}$/))).map(
        ([neg, int, frac, exp]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}${exp ?? ''}`,
      ),
    );
    let fast = 0;
    fc.assert(
      fc.property(numberText, numberText, (a, b) => {
        const { r } = scanText(sc, `{"x":${a},"y": ${b} }`);
        expect(r).toBe(SCAN_OK);
        for (const [f, text] of [[0, a], [1, b]] as const) {
          expect(sc.tok[f]).toBe(TOK_NUMBER);
          const v = sc.num[f]!;
          if (Number.isNaN(v)) continue;
          fast++;
          expect(Object.is(v, Number(text)), text).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    // and the usual logged numbers take the fast path
    for (const text of ['0', '-0', '12', '32.044', '0.527447', '-0.000123', '123456789012345', '1.5']) {
      scanText(sc, `{"x":${text}}`);
      expect(Object.is(sc.num[0], Number(text)), text).toBe(true);
    }
    for (const text of ['1e3', '1234567890123456', '0.00000000000000000000001']) {
      scanText(sc, `{"x":${text}}`);
      expect(sc.num[0], text).toBeNaN();
    }
    expect(fast).toBeGreaterThan(200);
  });

  it('keeps the source digits of numbers (ids above 2^53)', () => {
    const sc = new JsonLineScanner(['id']);
    const { buf } = scanText(sc, '{"id":9007199254740993}');
    expect(buf.toString('latin1', sc.vs[0], sc.ve[0])).toBe('9007199254740993');
  });

  it('matches keys written with escapes, and the last of duplicate keys wins', () => {
    const sc = new JsonLineScanner(['model', 'x']);
    const { r, buf } = scanText(sc, '{"m\\u006fdel":"A","x":1,"x":2}');
    expect(r).toBe(SCAN_OK);
    expect(extracted(sc, buf, 0)).toBe('A');
    expect(extracted(sc, buf, 1)).toBe(2);
  });

  it('says where and why a line is not JSON', () => {
    const sc = new JsonLineScanner([]);
    const cases: [string, string][] = [
      ['{"a":1,}', "expected a key in double quotes at column 8"],
      ['{"a" 1}', "expected ':' after the key at column 6"],
      ['{"a":1} x', 'expected the end of the line after the object at column 9'],
      ['{"a":01}', "expected ',' or '}' at column 7"],
      ['{"a":"\u0001"}', 'expected a valid value at column 7'],
      ['[1]', 'valid JSON, but an array instead of an object'],
      ['"s"', 'valid JSON, but a string instead of an object'],
      ['{"a":1', "expected ',' or '}' at column 7"],
    ];
    for (const [text, msg] of cases) {
      expect(scanText(sc, text).r, text).toBe(SCAN_MALFORMED);
      expect(sc.error, text).toContain(msg);
    }
  });

  it('handles deep nesting without recursion', () => {
    const sc = new JsonLineScanner(['a']);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const { r } = scanText(sc, `{"a":${deep}}`);
    expect(r).toBe(SCAN_OK);
    expect(scanText(sc, `{"a":${deep.slice(0, -1)}}`).r).toBe(SCAN_MALFORMED);
  });
});
