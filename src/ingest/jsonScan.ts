/**
 * A byte-level scanner for one JSON Lines record: it validates the whole line as JSON (exactly the
 * grammar JSON.parse accepts, so a line it passes is a line JSON.parse passes) but extracts only the
 * top-level keys the ReadPlan asks for, as token types and byte ranges. Nothing is decoded or
 * allocated for the other keys, and numbers keep their source digits (an id above 2^53 stays exact).
 *
 * One extension to JSON: the bare tokens `NaN`, `Infinity` and `-Infinity` (Python's json.dumps
 * writes them) are accepted as values, so a NaN where a number belongs is reported as 'non-finite'
 * rather than as a malformed line. The tests hold the scanner to JSON.parse on random input.
 */

import { POW10 } from './coerce.js';

export const TOK_ABSENT = 0;
export const TOK_NULL = 1;
export const TOK_TRUE = 2;
export const TOK_FALSE = 3;
export const TOK_NUMBER = 4;
/** a string without escapes: the range is its raw UTF-8 content */
export const TOK_STRING = 5;
/** a string with escapes: the range includes the quotes (decode it with JSON.parse) */
export const TOK_STRING_ESC = 6;
export const TOK_NAN = 7;
export const TOK_INF = 8;
export const TOK_NEG_INF = 9;
/** an object or array: the range is the whole value */
export const TOK_NESTED = 10;

export const SCAN_OK = 0;
export const SCAN_BLANK = 1;
export const SCAN_MALFORMED = 2;

const QUOTE = 0x22;
/** bytes that end the fast path of a string: control characters, the quote and the backslash */
const STR_CLASS = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STR_CLASS[c] = 1;
STR_CLASS[0x22] = 1;
STR_CLASS[0x5c] = 1;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

function isWs(c: number): boolean {
  // one comparison for the bytes that follow most tokens (a quote, a colon, a comma, a digit)
  return c <= 0x20 && (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09);
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Key positions whose shape is kept (JsonLineScanner.shapeKey): keys past it are read the long way. */
const MAX_SHAPE = 256;

/**
 * buf[ks...] is `key` (bytes that hold no quote, backslash or control character) then the closing
 * quote, before `e`: what scanString would find, without an escape, at ks + key.length.
 */
function sameKey(buf: Uint8Array, view: DataView, ks: number, e: number, key: Uint8Array, words: Uint32Array): boolean {
  const n = key.length;
  if (ks + n >= e || buf[ks + n] !== QUOTE) return false;
  // four bytes at a time (little-endian words of the key), then the last few
  const w = words.length;
  for (let k = 0; k < w; k++) if (view.getUint32(ks + 4 * k, true) !== words[k]) return false;
  for (let k = 4 * w; k < n; k++) if (buf[ks + k] !== key[k]) return false;
  return true;
}

/** The key's bytes as little-endian 32-bit words (the whole words only; sameKey compares the rest byte by byte). */
function keyWords(key: Uint8Array): Uint32Array {
  const words = new Uint32Array(key.length >> 2);
  for (let k = 0; k < words.length; k++) words[k] = (key[4 * k]! | (key[4 * k + 1]! << 8) | (key[4 * k + 2]! << 16) | (key[4 * k + 3]! << 24)) >>> 0;
  return words;
}

interface KeyEntry {
  bytes: Uint8Array;
  fields: number[];
}

export class JsonLineScanner {
  /** token type per requested field (TOK_*) of the last scanned line */
  readonly tok: Uint8Array;
  /** byte range of each field's value */
  readonly vs: Int32Array;
  readonly ve: Int32Array;
  /** for a malformed line: the byte offset (from the line start) where it stops being JSON, and what went wrong */
  errorAt = 0;
  error = '';

  /** the first requested field the last scanned line names twice (its value is the last, as JSON.parse has it), or -1 */
  dupField = -1;

  /** per requested field of the last scanned line: a number's value, when the scan computed it (NaN: not) */
  readonly num: Float64Array;

  private readonly byLength: (KeyEntry[] | undefined)[] = [];
  private readonly byName = new Map<string, number[]>();
  /**
   * The shape of the lines seen: per key position in an object, the key last read there (its raw
   * bytes, when it had no escape) and its fields (undefined: not requested). A line whose key at a
   * position is the same (the same bytes, then the closing quote) needs neither the key's string scan
   * nor its lookup: logs write their keys in one order, line after line. A key that differs is read
   * the long way and becomes the position's key.
   */
  private readonly shapeKey: Uint8Array[] = [];
  private readonly shapeWords: Uint32Array[] = [];
  /** a DataView of the last buffer scanned (sameKey reads it four bytes at a time) */
  private viewOf: Uint8Array | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly shapeFields: (number[] | undefined)[] = [];
  private stack = new Uint8Array(64);
  // results of the last token scan
  private t = 0;
  private escaped = false;
  private numValue = NaN;

  /** `sources[f]` is the column name of field f; several fields may share a column. */
  constructor(sources: readonly string[]) {
    const n = sources.length;
    this.tok = new Uint8Array(n);
    this.vs = new Int32Array(n);
    this.ve = new Int32Array(n);
    this.num = new Float64Array(n);
    const enc = new TextEncoder();
    sources.forEach((src, f) => {
      const list = this.byName.get(src);
      if (list) {
        list.push(f);
        return;
      }
      const fields = [f];
      this.byName.set(src, fields);
      const bytes = enc.encode(src);
      (this.byLength[bytes.length] ??= []).push({ bytes, fields });
    });
  }

  /**
   * Scan the line buf[s, e) (without its newline). Returns SCAN_OK (a JSON object; `tok`, `vs`,
   * `ve` describe the requested fields), SCAN_BLANK (only whitespace) or SCAN_MALFORMED (`error`,
   * `errorAt` say where).
   */
  scan(buf: Uint8Array, s: number, e: number): number {
    this.tok.fill(TOK_ABSENT);
    this.dupField = -1;
    let i = s;
    while (i < e && isWs(buf[i]!)) i++;
    if (i === e) return SCAN_BLANK;
    if (buf[i] !== LBRACE) {
      const end = this.skipValue(buf, i, e);
      if (end >= 0) {
        let j = end;
        while (j < e && isWs(buf[j]!)) j++;
        if (j === e) {
          const c = buf[i]!;
          const what = c === LBRACKET ? 'an array' : c === QUOTE ? 'a string' : c === 0x74 || c === 0x66 ? 'a boolean' : c === 0x6e ? 'null' : 'a number';
          this.errorAt = i - s;
          this.error = `valid JSON, but ${what} instead of an object`;
          return SCAN_MALFORMED;
        }
      }
      return this.fail(s, i, "'{'");
    }
    i++;
    while (i < e && isWs(buf[i]!)) i++;
    if (i < e && buf[i] === RBRACE) {
      i++;
    } else {
      for (let pos = 0; ; pos++) {
        if (i >= e || buf[i] !== QUOTE) return this.fail(s, i, 'a key in double quotes');
        const ks = i + 1;
        let ke: number;
        let fields: number[] | undefined;
        const known = pos < this.shapeKey.length ? this.shapeKey[pos]! : null;
        if (known !== null && sameKey(buf, this.viewFor(buf), ks, e, known, this.shapeWords[pos]!)) {
          ke = ks + known.length;
          fields = this.shapeFields[pos];
        } else {
          ke = this.scanString(buf, ks, e);
          if (ke < 0) return this.fail(s, -ke - 1, 'a valid string');
          fields = this.escaped ? this.matchEscapedKey(buf, ks, ke) : this.matchKey(buf, ks, ke);
          if (!this.escaped && pos <= this.shapeKey.length && pos < MAX_SHAPE) {
            // a copy (a Buffer's slice is a view, and the reader reuses its buffers)
            this.shapeKey[pos] = Uint8Array.from(buf.subarray(ks, ke));
            this.shapeWords[pos] = keyWords(this.shapeKey[pos]!);
            this.shapeFields[pos] = fields;
          }
        }
        i = ke + 1;
        while (i < e && isWs(buf[i]!)) i++;
        if (i >= e || buf[i] !== COLON) return this.fail(s, i, "':' after the key");
        i++;
        while (i < e && isWs(buf[i]!)) i++;
        if (i >= e) return this.fail(s, i, 'a value');
        const vstart = i;
        const vend = this.scanToken(buf, i, e);
        if (vend < 0) return this.fail(s, -vend - 1, 'a valid value');
        if (fields !== undefined) {
          const t = this.t;
          let a = vstart;
          let b = vend;
          if (t === TOK_STRING) {
            a++;
            b--;
          }
          for (let k = 0; k < fields.length; k++) {
            const f = fields[k]!;
            if (this.tok[f] !== TOK_ABSENT && this.dupField < 0) this.dupField = f;
            this.tok[f] = t;
            this.vs[f] = a;
            this.ve[f] = b;
            if (t === TOK_NUMBER) this.num[f] = this.numValue;
          }
        }
        i = vend;
        while (i < e && isWs(buf[i]!)) i++;
        if (i < e && buf[i] === COMMA) {
          i++;
          while (i < e && isWs(buf[i]!)) i++;
          continue;
        }
        if (i < e && buf[i] === RBRACE) {
          i++;
          break;
        }
        return this.fail(s, i, "',' or '}'");
      }
    }
    while (i < e && isWs(buf[i]!)) i++;
    if (i !== e) return this.fail(s, i, 'the end of the line after the object');
    return SCAN_OK;
  }

  private viewFor(buf: Uint8Array): DataView {
    if (buf !== this.viewOf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }

  private fail(s: number, at: number, expected: string): number {
    this.errorAt = at - s;
    this.error = `not valid JSON: expected ${expected} at column ${at - s + 1}`;
    return SCAN_MALFORMED;
  }

  private matchKey(buf: Uint8Array, ks: number, ke: number): number[] | undefined {
    const cands = this.byLength[ke - ks];
    if (cands === undefined) return undefined;
    outer: for (let c = 0; c < cands.length; c++) {
      const kb = cands[c]!.bytes;
      for (let k = 0; k < kb.length; k++) if (kb[k] !== buf[ks + k]) continue outer;
      return cands[c]!.fields;
    }
    return undefined;
  }

  private matchEscapedKey(buf: Uint8Array, ks: number, ke: number): number[] | undefined {
    const key = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + ks - 1, ke - ks + 2).toString('utf8')) as string;
    return this.byName.get(key);
  }

  /**
   * Scan a string's content from `i` (just after the opening quote). Returns the index of the
   * closing quote, or -(errorIndex + 1). Sets `escaped` when the string holds a backslash escape.
   */
  private scanString(buf: Uint8Array, i: number, e: number): number {
    // fast path: plain bytes up to the closing quote
    while (i < e && STR_CLASS[buf[i]!] === 0) i++;
    if (i < e && buf[i] === QUOTE) {
      this.escaped = false;
      return i;
    }
    // escapes or control characters
    let escaped = false;
    while (i < e) {
      const c = buf[i]!;
      if (c === QUOTE) {
        this.escaped = escaped;
        return i;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const d = buf[i + 1];
        if (i + 1 >= e) return -(i + 1) - 1;
        if (d === QUOTE || d === BACKSLASH || d === 0x2f || d === 0x62 || d === 0x66 || d === 0x6e || d === 0x72 || d === 0x74) {
          i += 2;
        } else if (d === 0x75) {
          if (i + 6 > e || !isHex(buf[i + 2]!) || !isHex(buf[i + 3]!) || !isHex(buf[i + 4]!) || !isHex(buf[i + 5]!)) return -(i + 1) - 1;
          i += 6;
        } else {
          return -(i + 1) - 1;
        }
      } else if (c < 0x20) {
        return -i - 1;
      } else {
        i++;
      }
    }
    return -e - 1;
  }

  /** Scan one value (any JSON value, nested ones included) from `i`; sets `t`. Returns its end or -(errorIndex + 1). */
  private scanToken(buf: Uint8Array, i: number, e: number): number {
    const c = buf[i]!;
    if (c === QUOTE) {
      const end = this.scanString(buf, i + 1, e);
      if (end < 0) return end;
      this.t = this.escaped ? TOK_STRING_ESC : TOK_STRING;
      return end + 1;
    }
    if (isDigit(c) || c === 0x2d) {
      if (c === 0x2d && buf[i + 1] === 0x49) {
        const end = this.literal(buf, i + 1, e, 'Infinity');
        this.t = TOK_NEG_INF;
        return end;
      }
      this.t = TOK_NUMBER;
      return this.scanNumber(buf, i, e);
    }
    switch (c) {
      case 0x74:
        this.t = TOK_TRUE;
        return this.literal(buf, i, e, 'true');
      case 0x66:
        this.t = TOK_FALSE;
        return this.literal(buf, i, e, 'false');
      case 0x6e:
        this.t = TOK_NULL;
        return this.literal(buf, i, e, 'null');
      case 0x4e:
        this.t = TOK_NAN;
        return this.literal(buf, i, e, 'NaN');
      case 0x49:
        this.t = TOK_INF;
        return this.literal(buf, i, e, 'Infinity');
      case LBRACE:
      case LBRACKET: {
        const end = this.skipNested(buf, i, e);
        this.t = TOK_NESTED;
        return end;
      }
      default:
        return -i - 1;
    }
  }

  private literal(buf: Uint8Array, i: number, e: number, word: string): number {
    const n = word.length;
    for (let k = 0; k < n; k++) {
      if (i + k >= e || buf[i + k] !== word.charCodeAt(k)) return -(i + k) - 1;
    }
    return i + n;
  }

  /**
   * Scan a number; sets `numValue` to its value when it takes the exact fast path of
   * jsonNumberValue (no exponent, at most 15 significant digits, at most 22 decimals: one correctly
   * rounded division of two exact doubles, the same operations), else to NaN (the caller then
   * computes it from the bytes).
   */
  private scanNumber(buf: Uint8Array, i: number, e: number): number {
    let neg = false;
    if (buf[i] === 0x2d) {
      neg = true;
      i++;
    }
    if (i >= e) return -i - 1;
    let mant = 0;
    let digits = 0;
    let scale = 0;
    let c = buf[i]!;
    if (c === 0x30) {
      i++;
    } else if (c >= 0x31 && c <= 0x39) {
      while (i < e && (c = buf[i]!) >= 0x30 && c <= 0x39) {
        digits++;
        mant = mant * 10 + (c - 0x30);
        i++;
      }
    } else {
      return -i - 1;
    }
    if (i < e && buf[i] === 0x2e) {
      i++;
      if (i >= e || !isDigit(buf[i]!)) return -i - 1;
      while (i < e && (c = buf[i]!) >= 0x30 && c <= 0x39) {
        if (digits > 0 || c !== 0x30) digits++;
        mant = mant * 10 + (c - 0x30);
        scale--;
        i++;
      }
    }
    if (i < e && (buf[i] === 0x65 || buf[i] === 0x45)) {
      i++;
      if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
      if (i >= e || !isDigit(buf[i]!)) return -i - 1;
      while (i < e && isDigit(buf[i]!)) i++;
      this.numValue = NaN;
      return i;
    }
    if (digits > 15 || scale < -22) {
      this.numValue = NaN;
    } else {
      const v = mant === 0 ? 0 : scale === 0 ? mant : mant / POW10[-scale]!;
      this.numValue = neg ? -v : v;
    }
    return i;
  }

  /** Any JSON value from `i` (used to tell "not an object" from "not JSON"). */
  private skipValue(buf: Uint8Array, i: number, e: number): number {
    return this.scanToken(buf, i, e);
  }

  /** Skip an object or array starting at `i`, validating it; an explicit stack, so depth is not limited by recursion. */
  private skipNested(buf: Uint8Array, i: number, e: number): number {
    let depth = 0;
    // 0: expect a value, 1: expect a key, 2: after a value
    let state = 0;
    for (;;) {
      if (state === 2) {
        if (depth === 0) return i;
        while (i < e && isWs(buf[i]!)) i++;
        if (i >= e) return -i - 1;
        const c = buf[i]!;
        const top = this.stack[depth - 1];
        if (c === COMMA) {
          i++;
          while (i < e && isWs(buf[i]!)) i++;
          state = top === LBRACE ? 1 : 0;
        } else if ((c === RBRACE && top === LBRACE) || (c === RBRACKET && top === LBRACKET)) {
          i++;
          depth--;
        } else {
          return -i - 1;
        }
        continue;
      }
      if (state === 1) {
        if (i >= e || buf[i] !== QUOTE) return -i - 1;
        const end = this.scanString(buf, i + 1, e);
        if (end < 0) return end;
        i = end + 1;
        while (i < e && isWs(buf[i]!)) i++;
        if (i >= e || buf[i] !== COLON) return -i - 1;
        i++;
        while (i < e && isWs(buf[i]!)) i++;
        state = 0;
        continue;
      }
      // state 0: a value
      if (i >= e) return -i - 1;
      const c = buf[i]!;
      if (c === LBRACE || c === LBRACKET) {
        if (depth === this.stack.length) {
          const next = new Uint8Array(depth * 2);
          next.set(this.stack);
          this.stack = next;
        }
        this.stack[depth++] = c;
        i++;
        while (i < e && isWs(buf[i]!)) i++;
        if (i < e && ((c === LBRACE && buf[i] === RBRACE) || (c === LBRACKET && buf[i] === RBRACKET))) {
          i++;
          depth--;
          state = 2;
        } else {
          state = c === LBRACE ? 1 : 0;
        }
        continue;
      }
      const end = this.scanToken(buf, i, e);
      if (end < 0) return end;
      i = end;
      state = 2;
    }
  }
}
